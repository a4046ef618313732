"""Heify -> mirror: the pull of whole resources, page by page.

Each page is parsed and upserted in its own transaction, so a pull that dies
half-way leaves a consistent mirror; a checkpoint keeps the cursor, and the
next run resumes there. Only a pull that listed a resource to its end marks
what it did not see as gone (never deleted: local review history stays).
Memory stays flat: one page at a time, and the ids seen live in the database.
Each page is written as of when its fetch began (mirror.upsert's `as_of`), so a
change Heify answered after that (a review move, an edit) is not put back by it.
What the mirror already holds as Heify sends it (the same digest) is neither parsed nor written again.
Evaluators and participants are listed whole at most every settings.HEIFY_FULL_PULL_EVERY_HOURS (and on
`full=True`, `heify_sync --full`); in between, a pull asks Heify only for those changed since (their documented
`updated_at`, through the filter syncer.contract assumes). Configurations and transcriptions have no updated_at:
they are always listed whole, so each pull notices their deletions.
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
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from qa.db import on_postgresql
from qa.mirror import rollups
from syncer import contract, mirror
from syncer.client import HeifyClient, NotFound, Rejected, get_client
from syncer.models import PullCheckpoint, PullLock, PullWatermark, SeenInPull

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
    changes_only: bool = False  # the listing held only what Heify changed since the last one (nothing gone)

    def __str__(self):
        text = f"{super().__str__()}, {self.gone} gone"
        if self.invalid:
            text += f", {self.invalid} invalid (see the log)"
        if self.changes_only:
            text += " (changes only)"
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


def _changes_since(resource: str, watermark: PullWatermark, *, full: bool) -> datetime | None:
    """From when the listing about to begin asks for changes only, or None for a whole listing: whole when asked
    (`full`), for a resource Heify cannot filter, before the first whole listing, and once the last whole one is
    settings.HEIFY_FULL_PULL_EVERY_HOURS old (only a whole listing notices what was deleted in Heify)."""
    if full or resource not in contract.INCREMENTAL_RESOURCES or None in (watermark.updated_since,
                                                                           watermark.last_full_at):
        return None
    every = settings.HEIFY_FULL_PULL_EVERY_HOURS
    if every <= 0 or mirror.heify_clock() - watermark.last_full_at >= timedelta(hours=every):
        return None
    return watermark.updated_since


def _newest_stamp(items: list) -> datetime | None:
    """The newest updated_at among a page's objects (an unreadable one counts for nothing)."""
    newest = None
    for item in items:
        try:
            stamp = contract.parse_timestamp(item.get(contract.UPDATED_AT_KEY)) if isinstance(item, dict) else None
        except ValueError:
            continue
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
    return newest


def _next_changes_since(checkpoint: PullCheckpoint, watermark: PullWatermark) -> datetime | None:
    """Where the next listing of changes starts, now this one is over: before the newest stamp it saw by the
    time the listing took plus settings.HEIFY_UPDATED_AT_MARGIN_SECONDS, as a change Heify made while we listed
    (perhaps behind our position in the list) is stamped no earlier than the listing's start. Never earlier
    than where this listing started from (both bounds hold)."""
    if checkpoint.newest_seen is None:
        return watermark.updated_since
    took = max(mirror.heify_clock() - checkpoint.started_at, timedelta(0))
    since = checkpoint.newest_seen - took - timedelta(seconds=settings.HEIFY_UPDATED_AT_MARGIN_SECONDS)
    return max(since, watermark.updated_since) if watermark.updated_since else since


def pull_resource(
    resource: str, *, client: HeifyClient, on_page: Callable[[int], None] | None = None, full: bool = False,
) -> PullResult:
    watermark, _ = PullWatermark.objects.get_or_create(resource=resource)
    checkpoint, created = PullCheckpoint.objects.get_or_create(resource=resource, defaults={
        "started_at": mirror.heify_clock(), "updated_since": _changes_since(resource, watermark, full=full)})
    whole = checkpoint.updated_since is None  # a resumed listing goes on as it began
    result = PullResult(resumed=not created and bool(checkpoint.cursor), changes_only=not whole)
    id_field = contract.ID_FIELDS[resource]
    # The next page is fetched while this one is digested, parsed and written (client.pages' `ahead`), each
    # stamped with Heify's clock before its request was sent.
    pages = client.pages(resource, cursor=checkpoint.cursor or None, updated_since=checkpoint.updated_since,
                         clock=mirror.heify_clock, ahead=True)
    try:
        while True:
            asked_at = mirror.heify_clock()  # before the page was asked for, should it carry no stamp of its own
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
                return pull_resource(resource, client=client, on_page=on_page, full=full)
            # The page holds Heify's data from when its fetch began on.
            fetched_at = asked_at if getattr(page, "fetched_at", None) is None else page.fetched_at
            changed, unchanged = mirror.unchanged_payloads(resource, page.items)
            parsed, invalid = _parse_page(resource, changed)
            newest = _newest_stamp(page.items)
            written: set[str] = set()
            with transaction.atomic():
                result += mirror.upsert(resource, parsed, as_of=fetched_at, written_ids=written)
                result.unchanged += unchanged
                # Noted as seen: what the listing showed, but for the rows this page wrote, which hold Heify's data
                # from after the listing began and so cannot be marked gone by it (_mark_gone). Nothing for a
                # listing of changes, which marks nothing gone.
                if whole:
                    mirror.insert_rows(SeenInPull, [  # ignore_conflicts: an id listed twice is seen once
                        {"run_id": checkpoint.run_id, "heify_id": item[id_field]}
                        for item in page.items
                        if isinstance(item, dict) and isinstance(item.get(id_field), str)
                        and item[id_field] not in written
                    ])
                checkpoint.cursor = page.next_cursor or ""
                checkpoint.pages += 1
                if newest is not None and (checkpoint.newest_seen is None or newest > checkpoint.newest_seen):
                    checkpoint.newest_seen = newest
                checkpoint.save(update_fields=["cursor", "pages", "newest_seen", "updated_at"])
            result.invalid += invalid
            if on_page:
                on_page(len(page.items))
            page = parsed = changed = None  # not kept alive while the next page is fetched
    finally:
        pages.close()  # a pull stopped half-way leaves no fetch running behind it
    with transaction.atomic():
        if whole:
            result.gone = _mark_gone(checkpoint)
            SeenInPull.objects.filter(run_id=checkpoint.run_id).delete()
            watermark.last_full_at = checkpoint.started_at
        if resource in contract.INCREMENTAL_RESOURCES:
            watermark.updated_since = _next_changes_since(checkpoint, watermark)
        watermark.save()
        checkpoint.delete()
    return result


def pull(
    resources: Iterable[str] | None = None,
    *,
    client: HeifyClient | None = None,
    on_page: Callable[[str, int], None] | None = None,
    full: bool = False,
) -> dict[str, PullResult]:
    """Pull the given resources (all by default) in dependency order: configurations and transcriptions listed
    whole, evaluators and participants only for what Heify changed since the last pull, except every
    settings.HEIFY_FULL_PULL_EVERY_HOURS, or with `full` (see _changes_since).

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

                results[resource] = pull_resource(resource, client=client, on_page=page_done, full=full)
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
