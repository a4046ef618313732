"""Texts of the apps we use that ship no Spanish (django-axes' model names in the admin's sidebar), marked here so
that `makemessages` keeps their Spanish in our catalogue, which Django reads before the apps' own (LOCALE_PATHS).
Never called: gettext_noop only marks."""

from django.utils.translation import gettext_noop

AXES = [gettext_noop("access attempts"), gettext_noop("access attempt"), gettext_noop("access failures"),
        gettext_noop("access failure"), gettext_noop("access attempt expirations"),
        gettext_noop("access attempt expiration"), gettext_noop("access logs"), gettext_noop("access log")]
