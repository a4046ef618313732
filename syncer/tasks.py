"""Background jobs on django-q2: thin entry points that take ids and are safe to run twice.

Schedules are created by name (`ensure_schedules`, run after every migrate),
so running it again never duplicates them. Each job logs one line when it ends,
and everything logged while it runs (its Heify calls) carries the job's id
(heifyadmin.job_log, hooked to django-q2's signals by the site).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qa import jobs
from qa.alerts import services as alerts
from qa.mirror import rules
from qa.mirror.models import SyncState, Transcription
from syncer import contract, mirror, push
from syncer import pull as pulling
from syncer.client import HeifyError, Rejected
from syncer.models import WebhookEvent

log = logging.getLogger(__name__)

IN_FLIGHT = (rules.Status.PENDING, rules.Status.IN_PROGRESS)
FINAL = (rules.Status.COMPLETED, rules.Status.FAILED)
# Longer than django-q2's task timeout (Q_CLUSTER["timeout"]): a claim this old belongs to a dead worker.
WEBHOOK_CLAIM_STALE = timedelta(seconds=settings.Q_CLUSTER["timeout"] * 2)


def pull_all() -> str:
    started = timezone.now()
    try:
        results = pulling.pull()
    except pulling.PullAlreadyRunning as running:
        log.info("heify pull: %s", running)
        return str(running)
    finally:
        alerts.calls_stored(since=started)  # what the pull wrote, even when it stopped half-way
    return "; ".join(f"{resource}: {result}" for resource, result in results.items())


def push_waiting() -> dict:
    return push.push_waiting()


def push_change(resource: str, pk: int) -> str:
    """Send one waiting change (a review move), right after it was made; the push job catches what is left."""
    return push.push_one(mirror.RESOURCES[resource].model, pk)


def poll_due(*, created_at: datetime | None, polled_at: datetime | None, now: datetime) -> bool:
    """Whether the poll asks Heify again for a call in flight: the rule of how often, in one place.

    A call is asked for after a tenth of the time it has been in flight (since Heify's created_at), at least
    every poll (HEIFY_POLL_EVERY_MINUTES) and at most HEIFY_POLL_MAX_MINUTES apart: a new upload every minute,
    one stuck for a day once an hour, so that a few thousand calls Heify never finishes do not keep a worker busy
    all day. Half a poll period of slack, so that a schedule that fires a little early does not skip a call.
    """
    if polled_at is None or created_at is None:
        return True
    every = timedelta(minutes=settings.HEIFY_POLL_EVERY_MINUTES)
    wait = min(max((now - created_at) / 10, every), timedelta(minutes=settings.HEIFY_POLL_MAX_MINUTES))
    return now - polled_at + every / 2 >= wait


def poll_in_flight() -> str:
    """Fetch the transcriptions Heify is still working on whose turn it is (`poll_due`), one by one.

    One Heify refuses to answer for (or whose id is not of Heify's shape) is
    logged and counted with its reason, shown as its sync error in the admin,
    and the others are still fetched; it is asked again at the next poll, and
    the full pull covers it too. When Heify cannot be reached, the rest waits
    for the next poll. A call Heify answered for is not asked again before its turn.
    """
    now = timezone.now()
    in_flight = Transcription.objects.filter(status__in=IN_FLIGHT, gone_at__isnull=True)
    rows = in_flight.order_by("pk").values_list("pk", "heify_id", "sync_error", "created_at", "polled_at")
    due = [(pk, heify_id, error) for pk, heify_id, error, created_at, polled_at in rows
           if poll_due(created_at=created_at, polled_at=polled_at, now=now)]
    refreshed, failed = [], []
    client = pulling.get_client()  # one connection, kept alive from call to call
    try:
        for pk, heify_id, error in due:
            in_sync = Transcription.objects.filter(pk=pk, sync_state=SyncState.SYNCED)  # a push's error stays
            try:
                pulling.refresh_transcriptions([heify_id], client=client)
            except Rejected as exc:  # this call only
                log.error("poll: transcription %s: %s", heify_id, exc.message)
                failed.append(f"{heify_id}: {exc.message}")
                in_sync.update(sync_error=_("The poll could not fetch it: %(error)s") % {"error": exc.message})
                continue
            if error:
                in_sync.update(sync_error="")
            refreshed.append(heify_id)
    finally:
        client.close()
        Transcription.objects.filter(heify_id__in=refreshed).update(polled_at=now)
        alerts.calls_stored(heify_ids=refreshed)
    result = f"{len(refreshed)} refreshed, {len(failed)} failed" + "".join(f"; {reason}" for reason in failed)
    waiting = len(rows) - len(due)
    return result + (f"; {waiting} not due yet" if waiting else "")


def process_webhook_event(event_id: int) -> str:
    """Fetch the transcription an event names: the payload is a hint, the API the truth.

    The event is claimed by one conditional UPDATE first, so of two workers
    given it, one fetches and the other returns; a claim older than
    WEBHOOK_CLAIM_STALE (its worker died) may be taken over.
    """
    now = timezone.now()
    Status = WebhookEvent.Status
    claimable = Q(status=Status.RECEIVED) | Q(status=Status.PROCESSING, claimed_at__lt=now - WEBHOOK_CLAIM_STALE)
    if not WebhookEvent.objects.filter(claimable, pk=event_id).update(status=Status.PROCESSING, claimed_at=now):
        # Already handled, or another worker has it: running twice changes nothing.
        return WebhookEvent.objects.filter(pk=event_id).values_list("status", flat=True).first() or "missing"
    event = WebhookEvent.objects.get(pk=event_id)
    if not contract.is_heify_id(event.transcription_heify_id):  # stored before ids were checked
        event.status, event.error = Status.REFUSED, "transcription_id is not a Heify id: nothing fetched"
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "processed_at"])
        return event.status
    local_status = (
        Transcription.objects.filter(heify_id=event.transcription_heify_id).values_list("status", flat=True).first()
    )
    if local_status in FINAL and local_status == event.reported_status:
        event.status = WebhookEvent.Status.DUPLICATE
    else:
        try:
            pulling.refresh_transcriptions([event.transcription_heify_id])
            alerts.calls_stored(heify_ids=[event.transcription_heify_id])
            event.status = WebhookEvent.Status.PROCESSED
        except HeifyError as exc:
            # The poll of in-flight calls catches up once Heify answers again.
            event.status, event.error = WebhookEvent.Status.FAILED, exc.message
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "processed_at"])
    return event.status


SCHEDULES = {
    # name: (function, minutes setting)
    "heify pull": ("syncer.tasks.pull_all", "HEIFY_PULL_EVERY_MINUTES"),
    "heify poll in-flight transcriptions": ("syncer.tasks.poll_in_flight", "HEIFY_POLL_EVERY_MINUTES"),
    "heify push waiting changes": ("syncer.tasks.push_waiting", "HEIFY_PUSH_EVERY_MINUTES"),
}


def ensure_schedules() -> None:
    """syncer's own schedules (qa's domains schedule theirs: qa/apps.py)."""
    jobs.schedules_ensure(SCHEDULES)
