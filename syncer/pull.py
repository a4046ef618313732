"""Heify -> mirror: the pull of whole resources, page by page.

Each page is parsed and upserted in its own transaction, so a pull that dies
half-way leaves a consistent mirror; a checkpoint keeps the cursor, and the
next run resumes there. Only a pull that listed a resource to its end marks
what it did not see as gone (never deleted: local review history stays).
Memory stays flat: one page at a time, and the ids seen live in the database.
Each page is written as of when its fetch began (mirror.upsert's `as_of`), so a
change Heify answered after that (a review move, an edit) is not put back by it.
A pull never runs twice at once (two workers, two machines): it holds a
database-level lock (`pull_lock`), and a second one returns at once, saying so
(PullAlreadyRunning).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from qa.db import on_postgresql
from qa.mirror import rollups
from syncer import contract, mirror
from syncer.client import HeifyClient, NotFound, Rejected, get_client
from syncer.models import PullCheckpoint, PullLock, SeenInPull

log = logging.getLogger(__name__)


# PostgreSQL's advisory lock of the pull (any bigint the project uses for nothing else).
PULL_LOCK_KEY = 0x48656966_7950756C  # "HeifyPul"
# Elsewhere, a lock row whose lease a running pull renews on every page; a pull that
# died frees it after this long.
PULL_LOCK_LEASE = timedelta(minutes=15)


class PullAlreadyRunning(Exception):
    """Another pull holds the lock: this one did nothing."""

    def __init__(self):
        super().__init__("Another pull is running; this one did nothing (the running one brings everything).")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


@contextmanager
def pull_lock() -> Iterator[Callable[[], None]]:
    """Hold the pull's database-level lock for the block, or raise PullAlreadyRunning at once.

    PostgreSQL: a session-level advisory lock, freed by the database should the
    process die. Elsewhere: the PullLock row, with a lease. The block is given
    a function to call now and then, which renews the lease.
    """
    if on_postgresql(connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [PULL_LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise PullAlreadyRunning
        try:
            yield lambda: None
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [PULL_LOCK_KEY])
        return
    holder = uuid.uuid4()
    mine = PullLock.objects.filter(name="pull", holder=holder)

    def renew():
        mine.update(expires_at=timezone.now() + PULL_LOCK_LEASE)

    PullLock.objects.bulk_create([PullLock(name="pull")], ignore_conflicts=True)
    free = Q(holder__isnull=True) | Q(expires_at__lt=timezone.now())
    held_by, pid = PullLock.objects.filter(name="pull").values_list("holder", "pid").get()
    if held_by and pid and not _process_alive(pid):
        free |= Q(holder=held_by)  # its pull was killed: no need to wait for the lease
    if not PullLock.objects.filter(free, name="pull").update(
            holder=holder, pid=os.getpid(), expires_at=timezone.now() + PULL_LOCK_LEASE):
        raise PullAlreadyRunning
    try:
        yield renew
    finally:
        mine.update(holder=None, pid=None, expires_at=None)


@dataclass
class PullResult(mirror.UpsertResult):
    gone: int = 0
    invalid: int = 0  # objects Heify sent in a shape we could not read (logged)
    resumed: bool = False

    def __str__(self):
        text = f"{super().__str__()}, {self.gone} gone"
        if self.invalid:
            text += f", {self.invalid} invalid (see the log)"
        return text + (" (resumed an unfinished pull)" if self.resumed else "")


def _parse_page(resource: str, items: list) -> tuple[list, int]:
    """Parse what can be read; an unreadable object is logged, not fatal to the pull."""
    parsed, invalid = [], 0
    for item in items:
        try:
            parsed.extend(mirror.parse_batch(resource, [item]))
        except mirror.PayloadError as exc:
            invalid += 1
            log.error("pull: skipped an object Heify sent: %s", exc)
    return parsed, invalid


def _mark_gone(checkpoint: PullCheckpoint) -> int:
    """What the listing did not show is gone, unless Heify's data of it reached us after the listing began
    (created, or changed, by a push Heify answered meanwhile: too new to be listed)."""
    model = mirror.RESOURCES[checkpoint.resource].model
    seen = SeenInPull.objects.filter(run_id=checkpoint.run_id).values("heify_id")
    unseen = (
        model.all_objects.filter(heify_id__isnull=False)
        .exclude(heify_id__in=seen)
        .exclude(heify_as_of__gte=checkpoint.started_at)
    )
    now = timezone.now()
    # A call marked gone leaves the roll-ups at once; those gone before are not read again.
    with rollups.kept_current(unseen.filter(Q(gone_at__isnull=True) | Q(gone_at=now))):
        return unseen.filter(gone_at__isnull=True).update(gone_at=now)


def pull_resource(
    resource: str, *, client: HeifyClient, on_page: Callable[[int], None] | None = None
) -> PullResult:
    checkpoint, created = PullCheckpoint.objects.get_or_create(
        resource=resource, defaults={"started_at": mirror.heify_clock()})
    result = PullResult(resumed=not created and bool(checkpoint.cursor))
    id_field = contract.ID_FIELDS[resource]
    pages = client.pages(resource, cursor=checkpoint.cursor or None)
    while True:
        fetched_at = mirror.heify_clock()  # before the request: the page holds Heify's data from then on
        try:
            page = next(pages)
        except StopIteration:
            break
        except Rejected:
            if not checkpoint.cursor:
                raise
            # Heify no longer knows the saved cursor: start this resource over.
            log.warning("pull: Heify refused the saved cursor for %s; starting over", resource)
            checkpoint.delete()
            SeenInPull.objects.filter(run_id=checkpoint.run_id).delete()
            return pull_resource(resource, client=client, on_page=on_page)
        parsed, invalid = _parse_page(resource, page.items)
        with transaction.atomic():
            result += mirror.upsert(resource, parsed, as_of=fetched_at)
            mirror.insert_rows(SeenInPull, [  # ignore_conflicts: an id listed twice is seen once
                {"run_id": checkpoint.run_id, "heify_id": item[id_field]}
                for item in page.items
                if isinstance(item, dict) and isinstance(item.get(id_field), str)
            ])
            checkpoint.cursor = page.next_cursor or ""
            checkpoint.pages += 1
            checkpoint.save(update_fields=["cursor", "pages", "updated_at"])
        result.invalid += invalid
        if on_page:
            on_page(len(page.items))
        page = parsed = None  # not kept alive while the next page is fetched
    with transaction.atomic():
        result.gone = _mark_gone(checkpoint)
        SeenInPull.objects.filter(run_id=checkpoint.run_id).delete()
        checkpoint.delete()
    return result


def pull(
    resources: Iterable[str] | None = None,
    *,
    client: HeifyClient | None = None,
    on_page: Callable[[str, int], None] | None = None,
) -> dict[str, PullResult]:
    """Pull the given resources (all by default) in dependency order.

    Raises PullAlreadyRunning, having done nothing, while another pull runs.
    """
    wanted = set(resources or contract.RESOURCES)
    results = {}
    with pull_lock() as renew:
        client = client or get_client()
        for resource in contract.RESOURCES:
            if resource in wanted:

                def page_done(count, resource=resource):
                    renew()
                    if on_page:
                        on_page(resource, count)

                results[resource] = pull_resource(resource, client=client, on_page=page_done)
    return results


def refresh_transcriptions(heify_ids: Iterable[str], *, client: HeifyClient | None = None) -> mirror.UpsertResult:
    """Fetch the given transcriptions from Heify and store them; a vanished one is marked gone."""
    client = client or get_client()
    payloads, missing = [], []
    fetched_at = mirror.heify_clock()
    for heify_id in heify_ids:
        try:
            payloads.append(client.get("transcriptions", heify_id))
        except NotFound:
            missing.append(heify_id)
    parsed, _ = _parse_page("transcriptions", payloads)
    with transaction.atomic():
        result = mirror.upsert("transcriptions", parsed, as_of=fetched_at)
        vanished = mirror.RESOURCES["transcriptions"].model.all_objects.filter(heify_id__in=missing)
        with rollups.kept_current(vanished):
            vanished.filter(gone_at__isnull=True).update(gone_at=timezone.now())
    return result
