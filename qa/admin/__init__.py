"""The back office's admin screens, one module per object."""

from qa.admin import alerts, configurations, evaluators, participants, reviews, tokens, transcriptions  # noqa: F401
