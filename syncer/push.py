"""Local changes -> Heify, and the queue of changes that wait.

A change is sent at once (`push_now`, `delete_now`). Heify's answer is
written back through the one upsert path. When Heify refuses, `PushRefused`
carries its message to the person; when it cannot be reached, the change
stays local, marked as waiting, and `push_waiting` (a scheduled job) sends it
once Heify is back. Nothing a user did is dropped on the way.

Interactive pushes run inside the caller's transaction on purpose: Heify's
refusal must undo the local write. Should the local commit fail after Heify
accepted, Heify holds the change and the next pull brings it back.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from qa.models import Configuration, Evaluator, Participant, SyncState, Transcription
from syncer import contract, mirror
from syncer.client import HeifyClient, HeifyError, NotFound, Rejected, RetryPolicy, get_client

log = logging.getLogger(__name__)

RESOURCE_OF = {
    Configuration: "configurations",
    Evaluator: "evaluators",
    Participant: "participants",
    Transcription: "transcriptions",
}


class PushRefused(ValidationError):
    """Heify said no (or changed meanwhile): the local change must not be kept as is.

    `reason` is "rejected" (Heify refused it), "conflict" (Heify's object changed
    since the version the change is based on) or "unavailable" (an upload that
    could not be sent).
    """

    def __init__(self, message, code: str):
        super().__init__(message)
        self.reason = code


def interactive_client() -> HeifyClient:
    """A person is waiting: a short retry budget, then the change waits in the queue."""
    return get_client(retry=RetryPolicy(attempts=3, total=settings.HEIFY_INTERACTIVE_RETRY_TOTAL))


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=None, default=str)


def _check_unchanged_in_heify(client: HeifyClient, obj, body: dict) -> None:
    """A replace (PUT) is never sent over a version of Heify's we have not seen.

    Our version is the payload last stored in `raw`; what the body replaces is
    compared with it key by key, so fields Heify adds or orders differently do
    not count as changes. The message shows both versions of what differs.
    """
    resource = RESOURCE_OF[type(obj)]
    remote = client.get(resource, obj.heify_id)
    changed = [key for key in body if remote.get(key) != obj.raw.get(key)]
    if not changed:
        return
    lines = [
        f"This {type(obj)._meta.verbose_name} was changed in Heify since the version you edited. Nothing was sent: "
        "reload the page, which now shows Heify's version, and apply your change again."
    ]
    for key in changed:
        lines += [f"{key} in Heify: {_show(remote.get(key))}", f"{key} yours: {_show(body.get(key))}"]
    raise PushRefused(lines, code="conflict")


def _send(client: HeifyClient, obj) -> dict:
    resource = RESOURCE_OF[type(obj)]
    if isinstance(obj, Transcription):
        return client.patch_transcription(obj.heify_id, name=obj.name, group=obj.group)
    if isinstance(obj, Configuration):
        body = contract.configuration_body(obj)
    elif isinstance(obj, Evaluator):
        body = contract.evaluator_body(obj, include_tag=obj.heify_id is None)
    else:
        body = contract.participant_body(obj)
    if obj.heify_id is None:
        return client.create(resource, body)
    _check_unchanged_in_heify(client, obj, body)
    return client.replace(resource, obj.heify_id, body)


def _accept(obj, payload: dict) -> None:
    """Store what Heify answered: its id for a new object, and its version of the object."""
    resource = RESOURCE_OF[type(obj)]
    obj.heify_id = payload.get(contract.ID_FIELDS[resource]) or obj.heify_id
    obj.sync_state, obj.sync_error = SyncState.SYNCED, ""
    obj.save(update_fields=["heify_id", "sync_state", "sync_error"])
    mirror.upsert(resource, mirror.parse_batch(resource, [payload]))


def _wait(obj, state: str, error: HeifyError) -> None:
    obj.sync_state, obj.sync_error = state, str(error.message)
    obj.save(update_fields=["sync_state", "sync_error"])
    log.warning("%s %s kept locally, waiting for Heify: %s", type(obj).__name__, obj.pk, error.message)


def push_now(obj, *, client: HeifyClient | None = None) -> bool:
    """Send a local change to Heify. True when Heify took it, False when it waits.

    Raises PushRefused when Heify refuses it; the caller's transaction then
    undoes the local write.
    """
    client = client or interactive_client()
    try:
        payload = _send(client, obj)
    except (Rejected, NotFound) as exc:
        raise PushRefused(f"Heify refused the change: {exc.message}", code="rejected") from None
    except HeifyError as exc:  # unreachable, failing, rate-limited, or our key refused
        _wait(obj, SyncState.WAITING, exc)
        return False
    _accept(obj, payload)
    return True


def delete_now(obj, *, client: HeifyClient | None = None) -> bool:
    """Delete in Heify, then locally. True when done, False when the deletion waits."""
    if obj.heify_id and not obj.gone_at:
        client = client or interactive_client()
        try:
            client.delete(RESOURCE_OF[type(obj)], obj.heify_id)
        except NotFound:
            pass  # already gone: the goal is reached
        except Rejected as exc:
            raise PushRefused(f"Heify refused to delete it: {exc.message}", code="rejected") from None
        except HeifyError as exc:
            _wait(obj, SyncState.DELETING, exc)
            return False
    obj.delete()
    return True


def push_waiting(*, client: HeifyClient | None = None) -> dict[str, int]:
    """The job: send every change that waits, oldest first; stop when Heify is unreachable."""
    client = client or get_client()
    done = {"pushed": 0, "deleted": 0, "refused": 0, "waiting": 0}
    for model in RESOURCE_OF:
        ids = model.objects.filter(sync_state__in=[SyncState.WAITING, SyncState.DELETING]).order_by("pk")
        for pk in ids.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                obj = model.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
                if obj is None or not obj.awaits_heify or obj.sync_state == SyncState.REJECTED:
                    continue  # taken by another worker, or no longer waiting
                try:
                    if obj.sync_state == SyncState.DELETING:
                        finished = delete_now(obj, client=client)
                        done["deleted" if finished else "waiting"] += 1
                    else:
                        finished = push_now(obj, client=client)
                        done["pushed" if finished else "waiting"] += 1
                except PushRefused as exc:
                    # Keep the person's change, visible as refused, for someone to resolve.
                    obj.sync_state, obj.sync_error = SyncState.REJECTED, " ".join(exc.messages)
                    obj.save(update_fields=["sync_state", "sync_error"])
                    done["refused"] += 1
                    continue
            if not finished:
                return done  # Heify is unreachable: the rest waits for the next run
    return done



def upload_transcription(
    *, file, filename: str, configuration: Configuration, evaluator=None, participant=None, name: str = ""
) -> Transcription:
    """Send a call to Heify; it comes back PENDING and the poll and webhooks follow it from there.

    An upload that fails is not queued (the file stays with the person): the
    refusal, or Heify's silence, is raised as PushRefused for the form to show.
    """
    client = get_client()  # a file may take a while: the full timeout, no interactive shortcut
    try:
        payload = client.upload_transcription(
            file, filename,
            configuration_id=configuration.heify_id,
            evaluator_id=evaluator.heify_id if evaluator else None,
            participant_id=participant.heify_id if participant else None,
            name=name or None,
        )
    except Rejected as exc:
        raise PushRefused(f"Heify refused the file: {exc.message}", code="rejected") from None
    except HeifyError as exc:
        raise PushRefused(
            f"Heify could not take the file now ({exc.message}). Nothing was uploaded; try again later.",
            code="unavailable",
        ) from None
    mirror.upsert("transcriptions", mirror.parse_batch("transcriptions", [payload]))
    return Transcription.objects.get(heify_id=payload[contract.ID_FIELDS["transcriptions"]])
