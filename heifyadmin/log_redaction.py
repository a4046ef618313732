"""Secrets never reach a log: HEIFY_WEBHOOK_SECRET and HEIFY_API_KEY are redacted from every log record.

The webhook secret rides in the path of Heify's webhook URLs, and Django's `django.request` logger
(and runserver's `django.server`) write that path on every 4xx they answer. Django configures logging
through `configure_logging` (settings.LOGGING_CONFIG), which installs a log-record factory: every
record any logger creates, in any module, whatever handler (pytest's caplog included) receives it,
has its message, arguments, traceback and string extras redacted before anyone formats it.

`RedactSecretsFilter` does the same to a record as a logging filter, for handlers configured outside
Django (gunicorn's access log, a JSON formatter); `redact(text)` serves any other text, e.g. a
formatter's whole output.
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
from urllib.parse import quote, unquote_plus

from django.conf import settings

MASK = "[redacted]"
SECRET_SETTINGS = ("HEIFY_WEBHOOK_SECRET", "HEIFY_API_KEY")
# LogRecord attributes that are no one's secret-bearing text.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def secrets_to_redact() -> list[str]:
    """The secrets' current values (settings, which tests may override, else the environment), with the
    forms a URL may give them; longest first, so a secret that contains another is masked whole."""
    values = set()
    configured = settings.configured  # before Django has read its settings: the environment
    for name in SECRET_SETTINGS:
        value = getattr(settings, name, "") if configured else os.environ.get(name, "")
        if value:
            values.update({value, quote(value, safe=""), quote(value)})
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every secret replaced by [redacted]."""
    for secret in secrets_to_redact():
        text = text.replace(secret, MASK)
    return text


# Query parameters whose values are never logged, whatever the address: lookups on the fields that hold a
# secret (a configuration's webhook URLs), e.g. someone guessing it one character at a time.
SECRET_PARAMETER = re.compile(r"webhook|secret|password|token", re.IGNORECASE)


def redact_query(query: str, hidden: tuple[str, ...] | list[str] = ()) -> str:
    """A query string with the values of secret-bearing parameters, and of those named in `hidden` (the
    lookups a list refused), replaced by [redacted]; then the secrets themselves, as `redact`."""
    parts = []
    for part in query.split("&"):
        name, sep, _ = part.partition("=")
        key = unquote_plus(name)
        if sep and (key in hidden or SECRET_PARAMETER.search(key)):
            part = f"{name}={MASK}"
        parts.append(part)
    return redact("&".join(parts))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact the record in place: its message merged with its arguments, its traceback and stack
    formatted (then dropped, so no formatter prints them unredacted), and its string extras."""
    secrets = secrets_to_redact()
    if not secrets:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = redact(message), None
    if record.exc_info:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    for name, value in list(vars(record).items()):
        if name in _STANDARD or value is None or isinstance(value, (bool, int, float)):
            continue
        # An extra that shows a secret as text (django.request's `request`, whose repr holds the path)
        # is replaced by that text, redacted: no formatter can print the secret from it.
        text = value if isinstance(value, str) else str(value)
        redacted = redact(text)
        if redacted != text or isinstance(value, str):
            setattr(record, name, redacted)
    return record


class RedactSecretsFilter(logging.Filter):
    """A logging filter that redacts each record it sees and lets it through."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install() -> None:
    """Make every log record created from now on come out redacted (once, however often called)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_secrets", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(logging_settings: dict | None) -> None:
    """settings.LOGGING_CONFIG: Django's own configuration (dictConfig of LOGGING), with redaction installed."""
    install()
    if logging_settings:
        logging.config.dictConfig(logging_settings)
