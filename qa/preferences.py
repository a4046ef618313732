"""Each person's own choices (issue 25): the language they read the back office and their e-mails in.

Ground floor: every domain may ask `language_of(user)`, e.g. to write an e-mail in its recipient's language:

    with translation.override(language_of(user)):
        subject = _("...")
"""

from django.conf import settings


def language_of(user) -> str:
    """The language `user` reads in: their kept choice, else the site's LANGUAGE_CODE."""
    return settings.LANGUAGE_CODE
