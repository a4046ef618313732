"""How the emulator refuses a request: `ApiError` (app.py turns it into Heify's error shape), and the 400s
made from a message (`_invalid`) or from qa.mirror.rules' ValidationError (`_rule`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError
from django.utils import translation


class ApiError(Exception):
    """A request Heify would refuse: becomes {"error": {"code", "message"}} with `status`."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def _rule(func: Callable, *args, **kwargs):
    """Apply a rule of qa.mirror.rules; its messages become a 400 naming every problem, in English whatever the
    site's language: the emulator answers as Heify does."""
    with translation.override("en"):
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            raise ApiError(400, "validation_error", "; ".join(exc.messages)) from None


def _invalid(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)
