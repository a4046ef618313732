"""Requests no view should see: answered here, once for every screen, the API and the webhooks.

- A query string with a NUL character (`?heify_id=%00`, `?q=a%00b`, an autocomplete's `term`): PostgreSQL
  cannot even compare a NUL, so any filter or search would fail with a 500. It is a 400 that says so.
- A query string or form body with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS, a body over
  DATA_UPLOAD_MAX_MEMORY_SIZE (and the like: Django's TooManyFieldsSent, TooManyFilesSent,
  RequestDataTooBig), raised here or by the view: 400 or 413.

Under /api/ and /webhooks/ the answer is the API's error shape (qa.api.errors.error_body); elsewhere a short
plain-text page.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext

JSON_PREFIXES = ("/api/", "/webhooks/")
NUL = "\x00"


def _answer(request, status: int, code: str, message: str) -> HttpResponse:
    from qa.api.errors import error_body

    if request.path.startswith(JSON_PREFIXES):
        return JsonResponse(error_body(status, code, message), status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def refusal(request, exc: Exception) -> HttpResponse | None:
    """The answer to one of Django's request-size exceptions, or None for any other exception."""
    from django.conf import settings

    with translation.override(_language(request)):
        if isinstance(exc, RequestDataTooBig):
            return _answer(request, 413, "too_large", gettext("The request body is larger than %(limit)s bytes.")
                           % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
        if isinstance(exc, TooManyFieldsSent):
            return _answer(request, 400, "too_many_fields", gettext("The request has more than %(limit)s fields.")
                           % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})
        if isinstance(exc, TooManyFilesSent):
            return _answer(request, 400, "too_many_files", gettext("The request has more than %(limit)s files.")
                           % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES})
    return None


def _language(request) -> str:
    """The reader's language, asked before LocaleMiddleware has run: their cookie, else Accept-Language."""
    return translation.get_language_from_request(request)


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            bad = sorted({key for key, values in request.GET.lists()
                          if NUL in key or any(NUL in value for value in values)})
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
            return refusal(request, exc)
        if bad:
            with translation.override(_language(request)):
                return _answer(request, 400, "invalid",
                               gettext("The query string may not contain null characters (in %(names)s).")
                               % {"names": ", ".join(map(repr, bad))})
        return self.get_response(request)

    def process_exception(self, request, exception):
        return refusal(request, exception)
