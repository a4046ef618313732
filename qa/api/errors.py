"""One JSON shape for every API error:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"tag": ["..."]}}}

Django ValidationErrors raised by qa.mirror.services (rules, stale versions, Heify's
refusals) become 400, 409 or 412 here, so views need no try/except of their own.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from qa.mirror.services import StaleEdit

# Rule field names (the back office's) -> the API's (Heify's) names.
API_FIELD_NAMES = {"webhook_success_url": "webhooks.success_url", "webhook_error_url": "webhooks.error_url"}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = _("The object changed in Heify since the version this change is based on.")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = _("The object changed since the version given in If-Match.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        super().__init__(gettext("The request body is larger than %(max)d bytes.")
                         % {"max": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


def check_body_size(request) -> None:
    """A body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, whatever its content type,
    before anything reads it (Django would answer its HTML 400 page)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit:
        raise PayloadTooLarge()


class HeifyUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "heify_unavailable"
    default_detail = _("Heify could not be reached; try again later.")


class QuotaExceeded(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "quota_exceeded"
    default_detail = _("Heify's quota for this call is used up.")


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self):
        super().__init__(lockout_message())


def lockout_message() -> str:
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return ngettext(
        "Too many failed sign-ins: this username is locked out from your address for %(minutes)d minute. "
        "Try again later, or ask an administrator to lift the lock.",
        "Too many failed sign-ins: this username is locked out from your address for %(minutes)d minutes. "
        "Try again later, or ask an administrator to lift the lock.", minutes) % {"minutes": minutes}


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): the API's error shape on /api/,
    a readable page in the admin; 429 with Retry-After either way."""
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(429, LockedOut.default_code, lockout_message()), status=429)
    else:
        context = {**admin.site.each_context(request), "title": gettext("Signing in is locked"),
                   "message": lockout_message()}
        response = render(request, "admin/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def _translate(exc: DjangoValidationError) -> exceptions.APIException:
    if isinstance(exc, StaleEdit):
        return PreconditionFailed(" ".join(exc.messages))
    if getattr(exc, "code", None) in ("claim_lost", "blind"):  # held by another; scored blind (qa.reviews.queues)
        return Conflict(" ".join(exc.messages))
    reason = getattr(exc, "reason", None)  # qa.heify.Refused
    if reason == "conflict":
        return Conflict(" ".join(exc.messages))
    if reason == "unavailable":
        return HeifyUnavailable(" ".join(exc.messages))
    detail = as_serializer_error(exc)
    return exceptions.ValidationError({API_FIELD_NAMES.get(k, k): v for k, v in detail.items()})


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"field.sub": ["message", ...]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if key == "non_field_errors" and prefix:
                name = prefix
            elif isinstance(key, int) or str(key).isdigit():
                name = f"{prefix}[{key}]"  # an item of a list
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            if item:
                out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    body = {"status": status_code, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):  # a body with no Content-Length, read past the limit
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = _translate(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        general = fields.pop("non_field_errors", [])
        parts = general + [f"{name}: {' '.join(messages)}" for name, messages in fields.items()]
        message = " ".join(parts) or gettext("Invalid input.")
        code = "invalid"
    else:
        fields = None
        message = str(exc.detail) if not isinstance(exc.detail, (list, dict)) else str(exc.detail)
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    response.data = error_body(response.status_code, code, message, fields)
    return response


def json_not_found_middleware(get_response):
    """Any 404 under /api/ in the one error shape, also with DEBUG on (Django then answers its HTML
    debug page instead of calling handler404). Sits outside CommonMiddleware, whose redirect of a
    missing slash thus still happens."""

    def middleware(request):
        response = get_response(request)
        if (response.status_code == 404 and request.path.startswith("/api/")
                and not response.get("Content-Type", "").startswith("application/json")):
            return JsonResponse(error_body(404, "not_found", gettext("No such address.")), status=404)
        return response

    return middleware


def _plain(request, status_code, code, message, fallback):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status_code, code, message), status=status_code)
    return fallback(request)


def not_found(request, exception=None):
    from django.views.defaults import page_not_found

    return _plain(request, 404, "not_found", gettext("No such address."), lambda r: page_not_found(r, exception))


def server_error(request):
    from django.views.defaults import server_error as default

    return _plain(request, 500, "server_error", gettext("Something went wrong on our side; it was logged."), default)
