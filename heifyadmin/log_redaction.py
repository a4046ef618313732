"""PLACEHOLDER until the `security` branch's heifyadmin/log_redaction.py is merged (it replaces this file whole).

Same names as that module: `redact(text)` and the logging filter `RedactSecretsFilter`, which strip
HEIFY_WEBHOOK_SECRET and HEIFY_API_KEY from every record a handler writes. LOGGING attaches the filter by dotted
path (heifyadmin.log_redaction.RedactSecretsFilter) to every handler.
"""

import logging

REDACTED = "[redacted]"


def _secrets() -> list[str]:
    from django.conf import settings

    if not settings.configured:
        return []
    return [s for s in (getattr(settings, "HEIFY_WEBHOOK_SECRET", ""), getattr(settings, "HEIFY_API_KEY", "")) if s]


def redact(text: str) -> str:
    for secret in _secrets():
        text = text.replace(secret, REDACTED)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
