"""Each person's own choices (issue 25): the language they read the back office and their e-mails in.

Ground floor: every domain may ask `language_of(user)`, e.g. to write an e-mail in its recipient's language:

    with translation.override(language_of(user)):
        subject = _("...")

The choice is made on the person's own page (heifyadmin/preferences_page.py) through `preference_set_language`;
heifyadmin/language.py makes it the language of each of their requests. Someone who never chose reads the
browser's Accept-Language (the screens) or the site's LANGUAGE_CODE (e-mails, jobs).

Not audited: the trail (qa/audit.py) records the QA team's work on Heify's objects and the reviews; a person's
choice of language changes nothing anyone else sees, like their password, which the trail does not record either.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


class Preference(models.Model):
    """One row per person who chose; no row: they never did (the browser's language, else LANGUAGE_CODE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="preference")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                help_text=_("The language of the back office and of this person's e-mails."))
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self):
        return f"{self.user_id}: {self.language}"


def kept_language(user) -> str | None:
    """The language `user` chose on their page, or None if they never chose (one query; none for no user)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    language = Preference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return language if language in language_codes() else None


def language_of(user) -> str:
    """The language `user` reads in: their kept choice, else the site's LANGUAGE_CODE."""
    return kept_language(user) or settings.LANGUAGE_CODE


def languages_of(users) -> dict[int, str]:
    """`language_of` for many users in one query: each user's id -> the language they read in."""
    users = [user for user in users if user is not None and user.pk is not None]
    codes = language_codes()
    kept = dict(Preference.objects.filter(user_id__in={user.pk for user in users}).values_list("user_id", "language"))
    return {user.pk: kept[user.pk] if kept.get(user.pk) in codes else settings.LANGUAGE_CODE for user in users}


@transaction.atomic
def preference_set_language(*, user, language: str) -> str | None:
    """Keeps `user`'s choice of language; "" forgets it (the browser's language decides again). Returns the kept
    choice (None when forgotten). A language the site does not offer is refused, changing nothing."""
    if language in ("", None):
        Preference.objects.filter(user_id=user.pk).delete()
        return None
    if language not in language_codes():
        raise ValidationError(
            {"language": gettext("%(language)s is not a language of the back office: choose one of %(choices)s.")
             % {"language": repr(language)[:40], "choices": ", ".join(language_codes())}},
            code="invalid")
    Preference.objects.update_or_create(user_id=user.pk, defaults={"language": language})
    return language
