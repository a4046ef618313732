"""Background jobs on django-q2: thin entry points that take ids and are safe to run twice.

Schedules are created by name (`ensure_schedules`, run after every migrate),
so running it again never duplicates them.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from qa.models import Transcription
from syncer import pull as pulling
from syncer import push
from syncer.client import HeifyError
from syncer.models import WebhookEvent

log = logging.getLogger(__name__)

IN_FLIGHT = ("PENDING", "IN_PROGRESS")
FINAL = ("COMPLETED", "FAILED")


def pull_all() -> str:
    results = pulling.pull()
    return "; ".join(f"{resource}: {result}" for resource, result in results.items())


def push_waiting() -> dict:
    return push.push_waiting()


def poll_in_flight() -> str:
    """Fetch every transcription Heify is still working on."""
    ids = Transcription.objects.filter(status__in=IN_FLIGHT, gone_at__isnull=True).values_list("heify_id", flat=True)
    return str(pulling.refresh_transcriptions(list(ids)))


def process_webhook_event(event_id: int) -> str:
    """Fetch the transcription an event names: the payload is a hint, the API the truth."""
    event = WebhookEvent.objects.get(pk=event_id)
    if event.status != WebhookEvent.Status.RECEIVED:
        return event.status  # already handled: running twice changes nothing
    local_status = (
        Transcription.objects.filter(heify_id=event.transcription_heify_id).values_list("status", flat=True).first()
    )
    if local_status in FINAL and local_status == event.reported_status:
        event.status = WebhookEvent.Status.DUPLICATE
    else:
        try:
            pulling.refresh_transcriptions([event.transcription_heify_id])
            event.status = WebhookEvent.Status.PROCESSED
        except HeifyError as exc:
            # The poll of in-flight calls catches up once Heify answers again.
            event.status, event.error = WebhookEvent.Status.FAILED, exc.message
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "processed_at"])
    return event.status


def release_expired_claims() -> int:
    from qa.queues import release_expired_claims as release

    return release()


def apply_sampling_rules(rule_id: int | None = None) -> str:
    """Once per period each rule fills the review queue (qa/sampling.py); running again moves nothing more."""
    from qa import sampling

    return "; ".join(str(run) for run in sampling.sampling_rules_apply(rule_id=rule_id)) or "no active rule"


SCHEDULES = {
    # name: (function, minutes setting)
    "heify pull": ("syncer.tasks.pull_all", "HEIFY_PULL_EVERY_MINUTES"),
    "heify poll in-flight transcriptions": ("syncer.tasks.poll_in_flight", "HEIFY_POLL_EVERY_MINUTES"),
    "heify push waiting changes": ("syncer.tasks.push_waiting", "HEIFY_PUSH_EVERY_MINUTES"),
    "review release expired claims": ("syncer.tasks.release_expired_claims", "REVIEW_EXPIRY_EVERY_MINUTES"),
    "review sampling rules": ("syncer.tasks.apply_sampling_rules", "REVIEW_SAMPLING_EVERY_MINUTES"),
}


def ensure_schedules() -> None:
    from django_q.models import Schedule

    for name, (func, setting) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": getattr(settings, setting),
                      "repeats": -1},
        )
