"""The review domain's scheduled jobs: thin entry points django-q2 calls by name, safe to run twice, and their
schedules (created by qa/apps.py after every migrate)."""

from __future__ import annotations

from qa import jobs
from qa.reviews import queues, sampling

SCHEDULES = {
    # name: (function, minutes setting)
    "review release expired claims": ("qa.reviews.tasks.release_expired_claims", "REVIEW_EXPIRY_EVERY_MINUTES"),
    "review sampling rules": ("qa.reviews.tasks.apply_sampling_rules", "REVIEW_SAMPLING_EVERY_MINUTES"),
}


def release_expired_claims() -> int:
    return queues.release_expired_claims()


def apply_sampling_rules(rule_id: int | None = None) -> str:
    """Once per period each rule fills the review queue (qa/reviews/sampling.py); running again moves nothing more."""
    return "; ".join(str(run) for run in sampling.sampling_rules_apply(rule_id=rule_id)) or "no active rule"


def schedules_ensure() -> None:
    jobs.schedules_ensure(SCHEDULES)
