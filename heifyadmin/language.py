"""Each request in its reader's language (issue 25): their kept choice (qa.preferences), else the browser's
Accept-Language, else LANGUAGE_CODE (Django's LocaleMiddleware, which runs before this).

The choice rides in the session, read at sign-in (one query then, none per request): `remember_language_at_login`
puts it there, the person's page (heifyadmin/preferences_page.py) changes it there and in the database. A session
from before this existed is looked up once. Django's language cookie follows the choice, so the sign-in page, which
knows no user, reads in it too.

The API: a session (the browser) is served the same way; a token client is not (DRF authenticates in the view,
and knox's token query would need one more for the choice): it gets what its Accept-Language asks.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import translation

from qa.preferences import kept_language

LANGUAGE_SESSION_KEY = "_language"  # the kept choice, or "" for none


def remember(request, language: str | None) -> None:
    """The session's copy of `language` (None: no choice), and this request's language when there is one."""
    request.session[LANGUAGE_SESSION_KEY] = language or ""
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def remember_language_at_login(sender, request, user, **kwargs) -> None:
    """user_logged_in: the person's kept choice into their new session. Only a session login (the API's token view
    sends the signal too, with no session user: it gets no session write)."""
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        session[LANGUAGE_SESSION_KEY] = kept_language(user) or ""


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in person's kept choice overrides the browser's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = None
        if session is not None and SESSION_KEY in session:
            language = session.get(LANGUAGE_SESSION_KEY)
            if language is None:  # a session from before the choice was kept: looked up once
                language = kept_language(request.user) or ""
                session[LANGUAGE_SESSION_KEY] = language
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            set_language_cookie(response, language)  # the sign-in page follows, once signed out
        return response
