"""Local changes -> Heify, and the queue of changes that wait: the implementation of qa.heify's send.

qa.heify describes the three steps; here are steps 2 and 3. A change is
claimed (`push_claim`, by qa.mirror.services or by `claim`), sent with no database
transaction open, and Heify's answer is recorded in a short transaction
conditional on the claim:
- accepted: the row is in sync and holds Heify's version (the one upsert path),
  as of Heify's answer: a page a pull fetched before then is not written over it;
- unreachable: the row keeps waiting, and `push_waiting` (a scheduled job)
  sends it once Heify is back;
- refused: heify.Refused is raised and the row is left to the caller (the
  form puts it back as it was; the job marks it refused, for someone to resolve).
A sender that dies before recording the answer leaves the row waiting with a
lapsed claim. The job then sends it again: an update Heify already holds is
taken as accepted (`_check_unchanged_in_heify`), and a create that may have
reached Heify is looked for there before being sent again (`_find_created`).
"""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from qa import heify, jobs
from qa.mirror.models import Configuration, Evaluator, Participant, SyncState, Transcription
from syncer import contract, mirror
from syncer.client import HeifyClient, HeifyError, NotFound, Rejected, RetryPolicy, get_client

log = logging.getLogger(__name__)

RESOURCE_OF = {
    Configuration: "configurations",
    Evaluator: "evaluators",
    Participant: "participants",
    Transcription: "transcriptions",
}


def interactive_client() -> HeifyClient:
    """A person is waiting: a short retry budget, then the change waits in the queue."""
    return get_client(retry=RetryPolicy(attempts=3, total=settings.HEIFY_INTERACTIVE_RETRY_TOTAL))


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=None, default=str)


def _check_unchanged_in_heify(client: HeifyClient, obj, body: dict) -> dict | None:
    """A replace (PUT) is never sent over a version of Heify's we have not seen.

    Our version is the payload last stored in `raw`; what the body replaces is
    compared with it key by key, so fields Heify adds or orders differently do
    not count as changes. A key Heify already holds as we send it is no
    conflict: when it holds the whole change (sent before, its answer lost),
    Heify's object is returned and nothing is sent again. Nor is a key Heify
    holds as an earlier replace of ours sent it, whose answer was lost
    (`replace_sent`): that change was ours, and the next is made on top of it.
    The message shows both versions of what differs.
    """
    resource = RESOURCE_OF[type(obj)]
    remote = client.get(resource, obj.heify_id)
    if contract.holds(remote, body):
        return remote
    ours = obj.replace_sent or {}  # sent before, its answer lost: Heify holding it is our own change
    changed = [
        key for key in body
        if remote.get(key) != obj.raw.get(key) and not contract.holds(remote.get(key), body[key])
        and not (key in ours and contract.holds(remote.get(key), ours[key]))
    ]
    if not changed:
        return None
    lines = [
        _("This %(object)s was changed in Heify since the version you edited. Nothing was sent: reload the page, "
          "which now shows Heify's version, and apply your change again.") % {"object": type(obj)._meta.verbose_name}
    ]
    for key in changed:
        lines += [_("%(field)s in Heify: %(value)s") % {"field": key, "value": _show(remote.get(key))},
                  _("%(field)s yours: %(value)s") % {"field": key, "value": _show(body.get(key))}]
    raise heify.Refused(lines, reason="conflict")


def _find_created(client: HeifyClient, obj, body: dict) -> dict | None:
    """Heify's object made by an earlier send of this create, if it reached Heify (contract: Creates)."""
    resource = RESOURCE_OF[type(obj)]
    id_field = contract.ID_FIELDS[resource]
    since = obj.create_sent_at - heify.claim_lease()  # Heify's clock and ours may differ a little
    key = contract.CREATE_LOOKUP_KEY
    for page in client.pages(resource):
        for item in page.items:
            if not isinstance(item, dict) or item.get(key) != body.get(key) or not contract.holds(item, body):
                continue
            try:
                created = contract.parse_timestamp(item.get("created_at"))
            except ValueError:
                continue
            if created is None or created < since:
                continue
            # Ours unless another local row holds it with a change of its own (a pull's copy is replaced).
            others = type(obj).all_objects.filter(heify_id=item.get(id_field)).exclude(pk=obj.pk)
            if not others.exclude(sync_state=SyncState.SYNCED).exists():
                return item
    return None


def _body(obj) -> dict:
    if isinstance(obj, Configuration):
        return contract.configuration_body(obj)
    if isinstance(obj, Evaluator):
        return contract.evaluator_body(obj, include_tag=obj.heify_id is None)
    return contract.participant_body(obj)


def _send(client: HeifyClient, obj, claim: heify.Claim) -> dict:
    resource = RESOURCE_OF[type(obj)]
    if isinstance(obj, Transcription):
        # An earlier sender may have died after Heify took this very change: then it is not sent again.
        remote = client.get(resource, obj.heify_id)
        if remote.get("group") == obj.group and remote.get("name") == obj.name:
            return remote
        return client.patch_transcription(obj.heify_id, name=obj.name, group=obj.group)
    body = _body(obj)
    if obj.heify_id is not None:
        found = _check_unchanged_in_heify(client, obj, body)
        if found is not None:
            return found
        # From here on Heify may take it without our hearing back: say what was sent first.
        type(obj).all_objects.filter(pk=obj.pk, push_claim=claim.token).update(replace_sent=body)
        return client.replace(resource, obj.heify_id, body)
    if obj.create_sent_at is not None:
        found = _find_created(client, obj, body)
        if found is not None:
            log.info("%s %s: an earlier create reached Heify (%s); not sent again",
                     type(obj).__name__, obj.pk, found.get(contract.ID_FIELDS[resource]))
            return found
    # From here on Heify may act on it without our hearing back: say so first.
    obj.create_sent_at = obj.create_sent_at or timezone.now()
    type(obj).all_objects.filter(pk=obj.pk, push_claim=claim.token).update(create_sent_at=obj.create_sent_at)
    return client.create(resource, body)


def _record_accepted(obj, claim: heify.Claim, payload: dict) -> None:
    """Store what Heify answered: its id for a new object, and its version of the object."""
    model, resource = type(obj), RESOURCE_OF[type(obj)]
    heify_id = payload.get(contract.ID_FIELDS[resource]) or obj.heify_id
    mine = model.all_objects.filter(pk=obj.pk, push_claim=claim.token)
    # Heify holds this from now on: a page a pull fetched before now is not written over it (mirror.upsert),
    # even when Heify's answer changes nothing of what is stored.
    answered = mirror.heify_clock()
    with transaction.atomic():
        if obj.heify_id is None:  # a pull may have brought Heify's copy meanwhile: this row is the object
            model.all_objects.filter(heify_id=heify_id, sync_state=SyncState.SYNCED).exclude(pk=obj.pk).delete()
        done = {"heify_id": heify_id, "create_sent_at": None, "replace_sent": None, "sync_error": "",
                "job_failures": None, "job_retry_at": None, **heify.RELEASED}
        if mine.filter(version=claim.version).update(sync_state=SyncState.SYNCED, heify_as_of=answered, **done):
            mirror.upsert(resource, mirror.parse_batch(resource, [payload]), as_of=answered)
            obj.refresh_from_db()  # Heify's version, as stored: what the person is shown (and its ETag)
            return
        # Changed again while on its way (a review move): released, the newer change waits its turn.
        if not mine.update(**done):  # the claim lapsed and another sender holds it
            log.warning("%s %s: Heify took a change whose claim had lapsed; the next push reconciles it",
                        model.__name__, obj.pk)
            model.all_objects.filter(pk=obj.pk, heify_id__isnull=True).update(heify_id=heify_id)
    obj.heify_id, obj.sync_error, obj.create_sent_at, obj.replace_sent = heify_id, "", None, None


def _record_waiting(obj, claim: heify.Claim, error: HeifyError) -> None:
    type(obj).all_objects.filter(pk=obj.pk, push_claim=claim.token).update(sync_error=error.message, **heify.RELEASED)
    obj.sync_error = error.message
    log.warning("%s %s kept locally, waiting for Heify: %s", type(obj).__name__, obj.pk, error.message)


def send(obj, claim: heify.Claim, *, client: HeifyClient | None = None) -> bool:
    """qa.heify.send: True when Heify took the change, False when it waits; raises heify.Refused."""
    try:
        # A client made here is closed here, not left to the garbage collector with its connection open.
        with nullcontext(client) if client is not None else interactive_client() as client:
            payload = _send(client, obj, claim)
    except (Rejected, NotFound) as exc:
        raise heify.Refused(_("Heify refused the change: %(error)s") % {"error": exc.message},
                            reason="rejected") from None
    except HeifyError as exc:  # unreachable, failing, rate-limited, or our key refused
        _record_waiting(obj, claim, exc)
        return False
    _record_accepted(obj, claim, payload)
    return True


def delete(obj, claim: heify.Claim, *, client: HeifyClient | None = None) -> bool:
    """qa.heify.delete: in Heify, then locally. True when done, False when the deletion waits."""
    client = client or interactive_client()
    try:
        heify_id = obj.heify_id
        if heify_id is None and obj.create_sent_at is not None:  # a create that may have reached Heify
            found = _find_created(client, obj, _body(obj))
            heify_id = found and found[contract.ID_FIELDS[RESOURCE_OF[type(obj)]]]
        if heify_id and not obj.gone_at:
            client.delete(RESOURCE_OF[type(obj)], heify_id)
    except NotFound:
        pass  # already gone: the goal is reached
    except Rejected as exc:
        raise heify.Refused(_("Heify refused to delete it: %(error)s") % {"error": exc.message},
                            reason="rejected") from None
    except HeifyError as exc:
        _record_waiting(obj, claim, exc)
        return False
    type(obj).all_objects.filter(pk=obj.pk, push_claim=claim.token).delete()
    return True


def claim(model, pk: int) -> tuple[object, heify.Claim] | None:
    """Claim a waiting change for sending: the row as claimed, or None (not waiting, or someone else's)."""
    obj = model.all_objects.filter(pk=pk, sync_state__in=[SyncState.WAITING, SyncState.DELETING]).first()
    if obj is None:
        return None
    taken = heify.Claim.new(obj.version)
    columns = taken.columns()
    if not model.all_objects.filter(heify.claimable(), pk=pk, version=obj.version, sync_state=obj.sync_state).update(
            **columns):
        return None
    obj.push_claim, obj.push_claimed_until = columns["push_claim"], columns["push_claimed_until"]
    return obj, taken


def push_one(model, pk: int, *, client: HeifyClient | None = None) -> str:
    """Send one waiting change: "pushed", "deleted", "waiting", "refused", "failed" (qa.jobs) or "skipped"
    (nothing to send)."""
    claimed = claim(model, pk)
    if claimed is None:
        return "skipped"
    obj, taken = claimed
    try:
        with nullcontext(client) if client is not None else get_client() as client:  # made here: closed here
            if obj.sync_state == SyncState.DELETING:
                return "deleted" if delete(obj, taken, client=client) else "waiting"
            return "pushed" if send(obj, taken, client=client) else "waiting"
    except heify.Refused as refusal:
        # Keep the person's change, visible as refused, for someone to resolve.
        model.all_objects.filter(pk=pk, push_claim=taken.token).update(
            sync_state=SyncState.REJECTED, sync_error=" ".join(refusal.messages), **heify.RELEASED)
        return "refused"
    except Exception as exc:  # noqa: BLE001 (an answer that cannot be stored, a bug): this change only
        jobs.item_failed(model.all_objects.filter(pk=pk, push_claim=taken.token), exc, failures=obj.job_failures,
                              error_field="sync_error", give_up={"sync_state": SyncState.REJECTED}, **heify.RELEASED)
        return "failed"


def push_waiting(*, client: HeifyClient | None = None) -> dict[str, int]:
    """The job: send every change that waits, oldest first, one by one; stop when Heify is unreachable.

    Each change is claimed first, so two workers never send the same one; no
    transaction is open while Heify is called. A change that fails (qa.jobs)
    is marked and backed off, and the next is sent; one Heify could not take
    goes behind the others, so neither holds the queue.
    """
    client = client or get_client()
    done = {"pushed": 0, "deleted": 0, "refused": 0, "waiting": 0, "failed": 0}
    now = timezone.now()
    for model in RESOURCE_OF:
        waiting = model.all_objects.filter(
            heify.claimable(), jobs.due(now), sync_state__in=[SyncState.WAITING, SyncState.DELETING])
        oldest_first = (F("job_retry_at").asc(nulls_first=True), "pk")  # tried before: after the others
        for pk in list(waiting.order_by(*oldest_first).values_list("pk", flat=True)):
            outcome = push_one(model, pk, client=client)
            if outcome in done:
                done[outcome] += 1
            if outcome == "refused":  # Heify's answer, recorded: the next change starts a count afresh
                jobs.item_succeeded(model.all_objects.filter(pk=pk))
            if outcome == "waiting":
                model.all_objects.filter(pk=pk).update(job_retry_at=now)  # behind the others next time
                return done  # Heify is unreachable: the rest waits for the next run
    return done


def send_later(model, pk: int) -> None:
    """qa.heify.send_later: a background task sends the change once the transaction commits."""
    resource = RESOURCE_OF[model]
    # robust: should the broker fail, the change still waits for the push job.
    transaction.on_commit(lambda: async_task("syncer.tasks.push_change", resource, pk), robust=True)


def upload_transcription(
    *, file, configuration: Configuration, evaluator=None, participant=None, name: str = ""
) -> Transcription:
    """Send a call to Heify; it comes back PENDING and the poll and webhooks follow it from there.

    An upload that fails is not queued (the file stays with the person): the
    refusal, or Heify's silence, is raised as heify.Refused for the form to show.
    """
    client = get_client()  # a file may take a while: the full timeout, no interactive shortcut
    try:
        payload = client.upload_transcription(
            file, file.name,
            configuration_id=configuration.heify_id,
            evaluator_id=evaluator.heify_id if evaluator else None,
            participant_id=participant.heify_id if participant else None,
            name=name or None,
        )
    except Rejected as exc:
        raise heify.Refused(_("Heify refused the file: %(error)s") % {"error": exc.message},
                            reason="rejected") from None
    except HeifyError as exc:
        raise heify.Refused(
            _("Heify could not take the file now (%(error)s). Nothing was uploaded; try again later.")
            % {"error": exc.message},
            reason="unavailable",
        ) from None
    mirror.upsert("transcriptions", mirror.parse_batch("transcriptions", [payload]))
    return Transcription.objects.get(heify_id=payload[contract.ID_FIELDS["transcriptions"]])
