"""Heify -> mirror: the pull of whole resources, page by page.

Each page is parsed and upserted in its own transaction, so a pull that dies
half-way leaves a consistent mirror; a checkpoint keeps the cursor, and the
next run resumes there. Only a pull that listed a resource to its end marks
what it did not see as gone (never deleted: local review history stays).
Memory stays flat: one page at a time, and the ids seen live in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from syncer import contract, mirror
from syncer.client import HeifyClient, NotFound, Rejected, get_client
from syncer.models import PullCheckpoint, SeenInPull

log = logging.getLogger(__name__)


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


def _mark_gone(resource: str, run_id) -> int:
    model = mirror.RESOURCES[resource].model
    seen = SeenInPull.objects.filter(run_id=run_id).values("heify_id")
    return (
        model.objects.filter(heify_id__isnull=False, gone_at__isnull=True)
        .exclude(heify_id__in=seen)
        .update(gone_at=timezone.now())
    )


def pull_resource(
    resource: str, *, client: HeifyClient, on_page: Callable[[int], None] | None = None
) -> PullResult:
    checkpoint, created = PullCheckpoint.objects.get_or_create(resource=resource)
    result = PullResult(resumed=not created and bool(checkpoint.cursor))
    id_field = contract.ID_FIELDS[resource]
    pages = client.pages(resource, cursor=checkpoint.cursor or None)
    while True:
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
            result += mirror.upsert(resource, parsed)
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
        result.gone = _mark_gone(resource, checkpoint.run_id)
        SeenInPull.objects.filter(run_id=checkpoint.run_id).delete()
        checkpoint.delete()
    return result


def pull(
    resources: Iterable[str] | None = None,
    *,
    client: HeifyClient | None = None,
    on_page: Callable[[str, int], None] | None = None,
) -> dict[str, PullResult]:
    """Pull the given resources (all by default) in dependency order."""
    wanted = set(resources or contract.RESOURCES)
    client = client or get_client()
    results = {}
    for resource in contract.RESOURCES:
        if resource in wanted:
            results[resource] = pull_resource(
                resource, client=client, on_page=(lambda n, r=resource: on_page(r, n)) if on_page else None
            )
    return results


def refresh_transcriptions(heify_ids: Iterable[str], *, client: HeifyClient | None = None) -> mirror.UpsertResult:
    """Fetch the given transcriptions from Heify and store them; a vanished one is marked gone."""
    client = client or get_client()
    payloads, missing = [], []
    for heify_id in heify_ids:
        try:
            payloads.append(client.get("transcriptions", heify_id))
        except NotFound:
            missing.append(heify_id)
    parsed, _ = _parse_page("transcriptions", payloads)
    with transaction.atomic():
        result = mirror.upsert("transcriptions", parsed)
        mirror.RESOURCES["transcriptions"].model.objects.filter(
            heify_id__in=missing, gone_at__isnull=True
        ).update(gone_at=timezone.now())
    return result
