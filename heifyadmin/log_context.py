"""What ties log lines to the request or job they belong to, and the shape of every log line.

`request_id` is a context variable: the request middleware (heifyadmin.request_log) sets it for the
request, the job hooks (syncer.tasks) for the job, so every line logged meanwhile (the Heify client's
calls included) carries it. `logging_config()` builds the one LOGGING dict that Django's settings and
gunicorn's master share: one console handler, text or JSON (LOG_FORMAT), with the request id and the
secret redaction filter on it. Nothing here imports Django's settings: gunicorn's master loads it too.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s"
REDACTION_FILTER = "heifyadmin.log_redaction.RedactSecretsFilter"


class RequestIdFilter(logging.Filter):
    """Puts the current request (or job) id on every record, "-" outside of one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def logging_config(*, log_format: str, level: str, httpx_level: str = "WARNING", redact: bool = True) -> dict:
    """The LOGGING dict: every line once, through one handler, as text or JSON."""
    if log_format not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")
    filters = {"request_id": {"()": RequestIdFilter}}
    if redact:
        filters["redact_secrets"] = {"()": REDACTION_FILTER}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": filters,
        "formatters": {
            "text": {"format": TEXT_FORMAT},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": JSON_FIELDS,
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": list(filters)},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own defaults add a second console handler (DEBUG only) and mail_admins to "django":
            # replaced by none, so its lines reach the root handler once.
            "django": {"handlers": [], "level": level, "propagate": True},
            # The request line (heifyadmin.request_log) says what these say per request.
            "django.server": {"handlers": [], "level": "CRITICAL", "propagate": True},
            "django.request": {"handlers": [], "level": "ERROR", "propagate": True},
            # One line per Heify call comes from syncer.client; httpx's own only when asked.
            "httpx": {"level": httpx_level},
            "httpcore": {"level": httpx_level},
            # django-q2 logs two lines per task; syncer.tasks logs one per job instead.
            "django-q": {"level": "WARNING"},
            # gunicorn's master and workers: lifecycle lines through the same handler; the access
            # line is the app's (heifyadmin.request_log), so gunicorn's own is dropped.
            "gunicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
