"""Review queues: what reviewers read, and every move of a call between groups.

A move is one conditional UPDATE (the group it must come from is in the
WHERE clause), so two reviewers claiming the same call cannot both win: the
loser is told who has it. Each move is written locally with its history entry,
marked as waiting for Heify, and sent to Heify (PATCH of the group) in the
background once the transaction has committed (qa.heify.send_later), so the
mover never waits for Heify; if Heify is down it waits for the push job, and a
pull never undoes it meanwhile (syncer.mirror skips rows that wait).

Which moves exist is Heify-independent policy and lives in
qa.rules.REVIEW_TRANSITIONS; who may make them is decided here.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from qa import heify, rules
from qa.models import CriterionVerdict, ReviewEvent, SyncState, Transcription
from qa.services import StaleEdit

REVIEW = "qa.review_transcription"
MANAGE = "qa.manage_review_queues"
Action = ReviewEvent.Action


class ClaimLost(ValidationError):
    """Someone else claimed the call first."""

    def __init__(self, holder):
        name = holder.get_username() if holder else "another reviewer"
        super().__init__(f"{name} is already reviewing this call.", code="claim_lost")
        self.holder = holder


# --- reads -------------------------------------------------------------------------------


def in_group(group: str | None) -> Q:
    return Q(group__isnull=True) if group is None else Q(group=group)


def review_queue(group: str | None) -> QuerySet[Transcription]:
    """A queue, most urgent first: critical fails, then the oldest calls."""
    return (
        Transcription.objects.filter(in_group(group), gone_at__isnull=True)
        .select_related("participant", "evaluator", "assigned_to")
        .order_by("-critical_fail_triggered", "occurred_at", "id")
    )


def my_reviews(user) -> QuerySet[Transcription]:
    return review_queue("UNDER_REVIEW").filter(assigned_to=user)


def queue_counts() -> dict[str | None, int]:
    """Calls per queue, in one query."""
    rows = (
        Transcription.objects.filter(gone_at__isnull=True)
        .values("group").annotate(n=Count("id")).order_by()
    )
    counts = {group: 0 for group in (*rules.GROUPS, None)}
    counts.update({row["group"]: row["n"] for row in rows})
    return counts


def history(transcription: Transcription) -> QuerySet[ReviewEvent]:
    return transcription.review_events.select_related("actor", "assignee")


# --- moves ----------------------------------------------------------------------------------


def _require(user, permission: str, what: str) -> None:
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(f"You are not allowed to {what}.")


def _move(
    call: Transcription, action: str, *, actor, assignee=None, note: str = "", expect_assignee=None,
    expected_version: int | None = None, to_group: str | None = None,
) -> Transcription:
    """Move one call by `action` (a manager's "move" names `to_group`), atomically.

    `call` is what the mover saw: the UPDATE only applies if the call is still
    in that group (and with that assignee or version, when given).
    """
    if action != Action.MOVE:
        to_group = rules.review_transition(action, call.group)
    now = timezone.now()
    conditions = Q(pk=call.pk) & in_group(call.group)
    if expect_assignee is not None:
        conditions &= Q(assigned_to=expect_assignee)
    if expected_version is not None:
        conditions &= Q(version=expected_version)
    claimed = to_group == "UNDER_REVIEW"
    changes = {
        "group": to_group,
        "assigned_to": assignee if claimed else None,
        "claimed_at": now if claimed else None,
        "review_touched_at": now if claimed else None,
        "group_changed_at": now if to_group != call.group else F("group_changed_at"),
        "sync_state": SyncState.WAITING,
        "sync_error": "",
        "version": F("version") + 1,
    }
    with transaction.atomic():
        if not Transcription.objects.filter(conditions).update(**changes):
            current = Transcription.objects.select_related("assigned_to").get(pk=call.pk)
            if action == "claim" and current.group == "UNDER_REVIEW":
                raise ClaimLost(current.assigned_to)
            if expected_version is not None and current.version != expected_version:
                raise StaleEdit(f"The call changed since version {expected_version} (it is at {current.version}).")
            rules.review_transition(action, current.group)  # says why, if it is the group
            raise ValidationError("The call changed meanwhile; reload and try again.", code="changed")
        ReviewEvent.objects.create(
            transcription_id=call.pk, actor=actor, action=action, from_group=call.group, to_group=to_group,
            assignee=assignee if claimed else None, note=note,
        )
        heify.send_later(Transcription, call.pk)  # after the answer: nobody waits for Heify
    return Transcription.objects.select_related("assigned_to").get(pk=call.pk)


def _get(transcription_id: int) -> Transcription:
    return Transcription.objects.select_related("assigned_to").get(pk=transcription_id)


def transcription_claim(*, transcription_id: int, reviewer) -> Transcription:
    """Start review: from the pending queue or from no group, to UNDER_REVIEW, assigned to `reviewer`."""
    _require(reviewer, REVIEW, "review calls")
    call = _get(transcription_id)
    if call.group == "UNDER_REVIEW":
        raise ClaimLost(call.assigned_to)
    return _move(call, "claim", actor=reviewer, assignee=reviewer)


def _own_or_manage(call: Transcription, user, what: str) -> None:
    if call.group == "UNDER_REVIEW" and call.assigned_to_id != getattr(user, "pk", None):
        _require(user, MANAGE, f"{what} a call someone else is reviewing")


def transcription_release(*, transcription_id: int, acting_user, note: str = "") -> Transcription:
    """Back to the pending queue, unassigned."""
    call = _get(transcription_id)
    _require(acting_user, REVIEW, "review calls")
    _own_or_manage(call, acting_user, "release")
    return _move(call, "release", actor=acting_user, note=note, expect_assignee=call.assigned_to)


def transcription_archive(*, transcription_id: int, acting_user, note: str = "") -> Transcription:
    call = _get(transcription_id)
    _require(acting_user, REVIEW, "review calls")
    if call.group != "UNDER_REVIEW":
        _require(acting_user, MANAGE, "archive a call nobody is reviewing")
    _own_or_manage(call, acting_user, "archive")
    return _move(call, "archive", actor=acting_user, note=note, expect_assignee=call.assigned_to)


def transcription_reopen(*, transcription_id: int, acting_user, note: str = "") -> Transcription:
    _require(acting_user, MANAGE, "reopen archived calls")
    return _move(_get(transcription_id), "reopen", actor=acting_user, note=note)


def transcription_reassign(*, transcription_id: int, to_user, reason: str, acting_user) -> Transcription:
    _require(acting_user, MANAGE, "reassign calls")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the call is reassigned."})
    if not to_user.has_perm(REVIEW):
        raise ValidationError({"to_user": f"{to_user.get_username()} is not a reviewer."})
    call = _get(transcription_id)
    return _move(call, "reassign", actor=acting_user, assignee=to_user, note=reason.strip(),
                 expect_assignee=call.assigned_to)


def transcription_move(
    *, transcription_id: int, group: str | None, acting_user, note: str = "", expected_version: int | None = None
) -> Transcription:
    """A manager's move to any group (or none); a call moved to UNDER_REVIEW is assigned to the mover."""
    _require(acting_user, MANAGE, "move calls between queues")
    group = rules.clean_group(group)
    call = _get(transcription_id)
    if call.group == group and expected_version in (None, call.version):
        return call
    return _move(call, Action.MOVE, to_group=group, actor=acting_user, note=note, expected_version=expected_version,
                 assignee=acting_user if group == "UNDER_REVIEW" else None)


def transcriptions_move(*, ids, group: str | None, acting_user, note: str = "") -> int:
    """Bulk move (the changelist action); each call moves and is recorded on its own."""
    moved = 0
    for pk in ids:
        before = Transcription.objects.values_list("group", flat=True).get(pk=pk)
        transcription_move(transcription_id=pk, group=group, acting_user=acting_user, note=note)
        moved += before != rules.clean_group(group)
    return moved


def release_expired_claims(*, now=None) -> int:
    """Claims untouched longer than REVIEW_CLAIM_TIMEOUT_HOURS go back to the pending queue."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.REVIEW_CLAIM_TIMEOUT_HOURS)
    stale = Transcription.objects.filter(group="UNDER_REVIEW", review_touched_at__lt=cutoff).select_related(
        "assigned_to")
    released = 0
    for call in stale:
        try:
            _move(call, "expire", actor=None, expect_assignee=call.assigned_to,
                  note=f"No activity for {settings.REVIEW_CLAIM_TIMEOUT_HOURS} hours.")
            released += 1
        except ValidationError:
            continue  # someone acted on it meanwhile
    return released


# --- notes and verdicts ------------------------------------------------------------------------


def _touch(call_id: int) -> None:
    Transcription.objects.filter(pk=call_id, group="UNDER_REVIEW").update(review_touched_at=timezone.now())


@transaction.atomic
def transcription_note(*, transcription_id: int, author, text: str) -> ReviewEvent:
    _require(author, REVIEW, "write review notes")
    if not text or not text.strip():
        raise ValidationError({"text": "A note cannot be empty."})
    call = _get(transcription_id)
    _touch(call.pk)
    return ReviewEvent.objects.create(
        transcription=call, actor=author, action=Action.NOTE, from_group=call.group, to_group=call.group,
        note=text.strip(),
    )


@transaction.atomic
def criterion_verdict_record(
    *, transcription_id: int, reviewer, criterion_name: str, agrees: bool, reason: str = ""
) -> CriterionVerdict:
    """Keep the reviewer's view beside the AI's result (never instead of it)."""
    _require(reviewer, REVIEW, "record review verdicts")
    call = _get(transcription_id)
    names = {result.get("name") for result in call.criteria_results if isinstance(result, dict)}
    if criterion_name not in names:
        raise ValidationError({"criterion_name": f"This call has no result for {criterion_name!r}."})
    reason = (reason or "").strip()
    if not agrees and not reason:
        raise ValidationError({"reason": "Say why you disagree with the AI's verdict."})
    verdict, _ = CriterionVerdict.objects.update_or_create(
        transcription=call, criterion_name=criterion_name,
        defaults={"agrees": agrees, "reason": reason, "reviewer": reviewer},
    )
    _touch(call.pk)
    ReviewEvent.objects.create(
        transcription=call, actor=reviewer, action=Action.VERDICT, from_group=call.group, to_group=call.group,
        note=f"{criterion_name}: {'agrees with' if agrees else 'disagrees with'} the AI" + (f" — {reason}" if reason
                                                                                          else ""),
    )
    return verdict
