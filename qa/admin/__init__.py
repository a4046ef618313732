"""The back office's admin screens, one module per object."""

from qa.admin import configurations, evaluator_revisions, evaluators, participants, reviews, transcriptions  # noqa: F401
