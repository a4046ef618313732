"""Review queues: what reviewers read, and every move of a call between groups.

A move is one conditional UPDATE (the group it must come from is in the
WHERE clause), so two reviewers claiming the same call cannot both win: the
loser is told who has it. Each move is written locally with its history entry,
marked as waiting for Heify, and sent to Heify (PATCH of the group) in the
background once the transaction has committed (qa.heify.send_later), so the
mover never waits for Heify; if Heify is down it waits for the push job, and a
pull never undoes it meanwhile (syncer.mirror skips rows that wait).

Which moves exist is Heify-independent policy and lives in
qa.mirror.rules.REVIEW_TRANSITIONS; who may take which step on a call now is decided
here, by one function (`step_refusal`, seen as a set by `allowed_steps`) that
every action below, the admin, the API and the templates ask, from the
permissions qa.policy names (STEP_RIGHTS). A claim
protects the reviewer's work while it is live: a call under review that nobody
holds (moved there in Heify, or whose holder's claim lapsed and the expiry job
has not returned it yet) may be claimed by any reviewer, the claim taking it
over (`open_claim` says which and why; the queue lists them). Verdicts on a
claimed call come from its holder or a QA manager (recorded as such), notes
from any reviewer (only the holder's keep the claim alive), and an archived
call takes neither.
Every step writes its audit row (qa.audit) beside its history entry, in the
same transaction; an expired claim's names the job, with no actor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from qa import audit, heify, policy
from qa.mirror import rollups, rules
from qa.mirror.models import SyncState, Transcription
from qa.mirror.rules import Group
from qa.mirror.services import StaleEdit
from qa.policy import Permission
from qa.reviews import blinding, record
from qa.reviews.models import CriterionVerdict, ReviewEvent

log = logging.getLogger(__name__)

# Sent after a review move has committed, with `transcription_id`: what reads the moves (alerts) listens,
# so the queues never reach up to it (qa/apps.py connects them).
call_moved = Signal()

Action = ReviewEvent.Action


Step = Action  # what a person does to a call; EXPIRE is the system's own
STEPS = tuple(step for step in Step if step != Step.EXPIRE)
# The permission each step needs, whatever the call, and the refusal of whoever lacks it.
STEP_RIGHTS: dict[str, tuple[Permission, str]] = {
    Step.CLAIM: (Permission.REVIEW_TRANSCRIPTION, gettext_lazy("You are not allowed to review calls.")),
    Step.RELEASE: (Permission.REVIEW_TRANSCRIPTION, gettext_lazy("You are not allowed to review calls.")),
    Step.ARCHIVE: (Permission.REVIEW_TRANSCRIPTION, gettext_lazy("You are not allowed to review calls.")),
    Step.NOTE: (Permission.REVIEW_TRANSCRIPTION, gettext_lazy("You are not allowed to write review notes.")),
    Step.VERDICT: (Permission.REVIEW_TRANSCRIPTION, gettext_lazy("You are not allowed to record review verdicts.")),
    Step.REOPEN: (Permission.MANAGE_REVIEW_QUEUES, gettext_lazy("You are not allowed to reopen archived calls.")),
    Step.REASSIGN: (Permission.MANAGE_REVIEW_QUEUES, gettext_lazy("You are not allowed to reassign calls.")),
    Step.MOVE: (Permission.MANAGE_REVIEW_QUEUES, gettext_lazy("You are not allowed to move calls between queues.")),
}


GONE = "gone"  # the code of a refusal because the call was deleted in Heify (the admin answers 404, as for no call)


class ClaimLost(ValidationError):
    """Someone else claimed the call first."""

    def __init__(self, holder):
        message = (_("%(name)s is already reviewing this call.") % {"name": holder.get_username()} if holder
                   else _("Another reviewer is already reviewing this call."))
        super().__init__(message, code="claim_lost")
        self.holder = holder


# --- reads -------------------------------------------------------------------------------


def in_group(group: str | None) -> Q:
    return Q(group__isnull=True) if group is None else Q(group=group)


def review_queue(group: str | None) -> QuerySet[Transcription]:
    """A queue, most urgent first: critical fails, then the oldest calls."""
    return (
        Transcription.objects.filter(in_group(group))
        .select_related("participant", "evaluator", "assigned_to")
        .order_by("-critical_fail_triggered", "occurred_at", "id")
    )


def my_reviews(user) -> QuerySet[Transcription]:
    return review_queue(Group.UNDER_REVIEW).filter(assigned_to=user)


def queue_counts() -> dict[str | None, int]:
    """Calls per queue, from the roll-ups (qa.mirror.rollups): two small queries, whatever the number of calls."""
    counts = {group: 0 for group in (*rules.GROUPS, None)}
    counts.update(rollups.queue_counts())
    return counts


def history(transcription: Transcription) -> QuerySet[ReviewEvent]:
    return transcription.review_events.select_related("actor", "assignee")


# --- claims nobody holds ---------------------------------------------------------------------------


def claim_cutoff(now: datetime | None = None) -> datetime:
    """A claim last touched before this has lapsed (settings.REVIEW_CLAIM_TIMEOUT_HOURS)."""
    return (now or timezone.now()) - timedelta(hours=settings.REVIEW_CLAIM_TIMEOUT_HOURS)


def unheld(now: datetime | None = None) -> Q:
    """The calls under review that nobody holds (open_claim, as a filter): any reviewer may claim them."""
    return Q(group=Group.UNDER_REVIEW) & (Q(assigned_to__isnull=True) | Q(review_touched_at__lt=claim_cutoff(now)))


@dataclass(frozen=True)
class OpenClaim:
    """Why nobody holds a call under review: `holder` is whose claim lapsed, and `lapsed_at` when (both None when
    nobody claimed it here: moved under review in Heify, or its holder's account deleted)."""

    holder: object | None = None
    lapsed_at: datetime | None = None

    def note(self) -> str:
        """What the history and the audit row of the claim that takes it over say (a time, not an age: it is read
        later)."""
        if self.holder is None:
            return "Nobody held this call."
        lapsed = self.lapsed_at.astimezone(UTC)
        return (f"Took over {self.holder.get_username()}'s claim, lapsed at {lapsed:%Y-%m-%d %H:%M} UTC "
                f"(no activity for {settings.REVIEW_CLAIM_TIMEOUT_HOURS:g} hours).")


def open_claim(call: Transcription, *, now: datetime | None = None) -> OpenClaim | None:
    """Whether `call` is under review with nobody holding it (see `unheld`), and why; None when it is not under
    review or its holder's claim is live. A lapsed claim stays its holder's until someone claims the call (or
    the expiry job returns it): the holder's own notes and verdicts keep it."""
    if call.group != Group.UNDER_REVIEW or call.gone_at is not None:
        return None
    if call.assigned_to_id is None:
        return OpenClaim()
    if call.review_touched_at is not None and call.review_touched_at < claim_cutoff(now):
        return OpenClaim(call.assigned_to,
                         call.review_touched_at + timedelta(hours=settings.REVIEW_CLAIM_TIMEOUT_HOURS))
    return None


# --- who may do what ---------------------------------------------------------------------------


def step_refusal(user, step: str, call: Transcription | None = None, *, ai_hidden: bool | None = None,
                 upholding: bool = False) -> ValidationError | PermissionDenied | None:
    """Why `user` may not take `step` on `call` now, or None when they may: the one place that decides.

    Without `call`, only what the user's role allows: asked before a call is
    looked up, so that a refusal says nothing of whether the call exists. A
    PermissionDenied is about the person, a ValidationError about the call's
    state (its group; ClaimLost when someone holds it, its claim live: a claim
    takes over only a call under review nobody holds; code "blind" when
    the user scores it blind in calibration: a verdict on the AI's result
    waits until they submit). `ai_hidden`: qa.reviews.blinding.hides_ai_from(user,
    call), when the caller has asked it already (else it is asked here).
    `upholding`: the verdict is a dispute's upheld result (qa.reviews.disputes):
    a QA manager's only, and an archived call takes it, staying archived.
    """
    refusal = _role_refusal(user, step)
    if refusal is None and call is not None:
        refusal = _call_refusal(user, step, call, ai_hidden=ai_hidden, upholding=upholding)
    return refusal


def _role_refusal(user, step: str) -> PermissionDenied | None:
    permission, refusal = STEP_RIGHTS[step]
    return None if policy.may(user, permission) else PermissionDenied(str(refusal))


def _call_refusal(user, step: str, call: Transcription, *, ai_hidden: bool | None = None,
                  upholding: bool = False) -> ValidationError | PermissionDenied | None:
    """step_refusal's answer about `call`, for a user whose role allows `step`."""
    if call.gone_at is not None:
        return ValidationError(_("This call was deleted in Heify: it is kept as history and takes no review steps."),
                               code=GONE)
    if step == Step.MOVE:  # a manager moves any call to any group
        return None
    holds = call.group == Group.UNDER_REVIEW and call.assigned_to_id == user.pk
    manager = policy.may_manage_queues(user)
    if step in (Step.NOTE, Step.VERDICT):
        if upholding and not (step == Step.VERDICT and manager):
            return PermissionDenied(_("Only a QA manager records the result of an upheld dispute."))
        if call.group == Group.ARCHIVED and not upholding:
            return ValidationError(_("An archived call takes no notes; reopen it first.") if step == Step.NOTE
                                   else _("An archived call takes no verdicts; reopen it first."), code="archived")
        if step == Step.VERDICT and not (holds or manager or upholding):
            return PermissionDenied(_held_by_other(call, Step.VERDICT) if call.group == Group.UNDER_REVIEW
                                    else _("Start review first: verdicts come from the reviewer who holds the call."))
        if step == Step.VERDICT and (ai_hidden if ai_hidden is not None else blinding.hides_ai_from(user, call)):
            return ValidationError(_("You are scoring this call blind in a calibration session: a verdict on the AI's "
                                     "result waits until you have submitted your answers."), code="blind")
        return None
    held = call.group == Group.UNDER_REVIEW and open_claim(call) is None
    if step == Step.CLAIM and (held or holds):  # its holder keeps a lapsed claim by acting, not by claiming it
        return ClaimLost(call.assigned_to)
    try:
        rules.review_transition(step, call.group, held=held)
    except ValidationError as refusal:
        return refusal
    if step == Step.CLAIM:
        return None
    if call.group == Group.UNDER_REVIEW and not (holds or manager):
        return PermissionDenied(_held_by_other(call, step))
    if step == Step.ARCHIVE and call.group != Group.UNDER_REVIEW and not manager:
        return PermissionDenied(_("You are not allowed to archive a call nobody is reviewing."))
    return None


# What only a call's holder or a QA manager may do to it, as a refusal says it ("... may %(what)s").
HOLDER_STEPS = {
    Step.VERDICT: gettext_lazy("record verdicts on it"), Step.RELEASE: gettext_lazy("release it"),
    Step.ARCHIVE: gettext_lazy("archive it"), Step.REOPEN: gettext_lazy("reopen it"),
    Step.REASSIGN: gettext_lazy("reassign it"),
}


def _held_by_other(call: Transcription, step: str) -> str:
    what = HOLDER_STEPS.get(step) or f"{step} it"
    if call.assigned_to is None:
        return _("Nobody holds this call: claim it first (only its holder or a QA manager may %(what)s).") % {
            "what": what}
    said = {"holder": call.assigned_to.get_username(), "what": what}
    if open_claim(call) is not None:
        return _("%(holder)s's claim on this call lapsed: claim it to take it over (only its holder or a QA manager "
                 "may %(what)s).") % said
    return _("%(holder)s is reviewing this call: only they or a QA manager may %(what)s.") % said


def allowed_steps(user, call: Transcription, *, ai_hidden: bool | None = None) -> frozenset[str]:
    """The steps `user` may take on `call` now (the buttons and forms to show)."""
    return frozenset(step for step in STEPS if step_refusal(user, step, call, ai_hidden=ai_hidden) is None)


def require_step(user, step: str, call: Transcription | None = None) -> None:
    """Raise step_refusal's refusal, if any."""
    refusal = step_refusal(user, step, call)
    if refusal is not None:
        raise refusal


def _get_for(user, step: str, transcription_id: int, *, lock: bool = False, upholding: bool = False) -> Transcription:
    """The call, once `user` may take `step` on it. The role is checked before the lookup, so that a
    refusal does not say whether the call exists, and once only; `lock` keeps the call as checked until the
    transaction ends. A read that waited for another transaction's lock gets that transaction's row of the call,
    but the holder joined to it as it was before the wait (PostgreSQL: the one the other transaction replaced, or
    none); such a holder is dropped, to be read when needed (a refusal or the audit row names them)."""
    require_step(user, step)
    calls = Transcription.all_objects.select_related("assigned_to")  # a gone call is refused, saying so
    if lock:
        calls = calls.select_for_update(of=("self",))
    call = calls.get(pk=transcription_id)
    joined = Transcription.assigned_to.field.get_cached_value(call)
    if (joined.pk if joined is not None else None) != call.assigned_to_id:
        Transcription.assigned_to.field.delete_cached_value(call)
    refusal = _call_refusal(user, step, call, upholding=upholding)
    if refusal is not None:
        raise refusal
    return call


# --- moves ----------------------------------------------------------------------------------




def _move(
    call: Transcription, action: str, *, actor, assignee=None, note: str = "", expect_assignee=None,
    expected_version: int | None = None, to_group: str | None = None, job: str = "", still: Q | None = None,
    locked: bool = False,
) -> Transcription:
    """Move one call by `action` (a manager's "move" names `to_group`), atomically, with its history entry and
    its audit row (`job`: the job that moves it, when no one does).

    `call` is what the mover saw: the UPDATE only applies if the call is still
    in that group (and with that assignee or version, when given, and as
    `still` says: a claim taking over a call nobody holds, that nobody holds it).
    `locked`: the caller read `call` locked, in the transaction this move joins
    (_get_for(lock=True)): nothing but this move has changed it since, so the
    moved call is `call` with the move's changes, not read again.
    """
    if action != Action.MOVE:
        to_group = rules.review_transition(action, call.group)
    # No savepoint of its own (two round trips): nothing in it raises but the database, and a database error
    # fails whoever holds the transaction, as it must; whoever goes on after a failed move holds its own
    # transaction or savepoint (the expiry job, sampling's per-call atomic). A refusal is raised after the
    # block, the move having written nothing.
    with transaction.atomic(savepoint=False):
        changes = _moved(call, action, to_group=to_group, actor=actor, assignee=assignee, note=note, job=job,
                         expect_assignee=expect_assignee, expected_version=expected_version, still=still)
    if changes is None:
        raise _move_refused(call, action, expected_version)
    if locked:
        return _as_moved(call, changes)
    return Transcription.objects.select_related("assigned_to").get(pk=call.pk)


def _moved(
    call: Transcription, action: str, *, to_group: str | None, actor, assignee, note: str, job: str,
    expect_assignee=None, expected_version: int | None = None, still: Q | None = None,
) -> dict | None:
    """_move's writes, inside the caller's transaction: the conditional UPDATE, and when it applied, the roll-up
    recount, the history entry and the audit row; returns the columns it set (None when it applied to nothing).
    Raises nothing but the database's errors, so that a transaction without a savepoint around it is never left
    failed by a refusal."""
    now = timezone.now()
    conditions = Q(pk=call.pk) & in_group(call.group)
    if expect_assignee is not None:
        conditions &= Q(assigned_to=expect_assignee)
    if expected_version is not None:
        conditions &= Q(version=expected_version)
    if still is not None:
        conditions &= still
    claimed = to_group == Group.UNDER_REVIEW
    changes = {
        "group": to_group,
        "assigned_to": assignee if claimed else None,
        "claimed_at": now if claimed else None,
        "review_touched_at": now if claimed else None,
        "sync_state": SyncState.WAITING,
        "sync_error": "",
    }
    if to_group != call.group:
        changes["group_changed_at"] = now
    if not Transcription.objects.filter(conditions).update(**changes, version=F("version") + 1):
        return None
    rollups.recount_call(call.pk)  # a move keeps the call's bucket (its agent and day)
    ReviewEvent.objects.create(
        transcription_id=call.pk, actor=actor, action=action, from_group=call.group, to_group=to_group,
        assignee=assignee if claimed else None, note=note,
    )
    audit.audit_record(
        actor=actor, action=action, obj=call, job=job,
        before={"group": call.group, "assigned_to": audit.username(call.assigned_to)},
        after={"group": to_group, "assigned_to": audit.username(assignee if claimed else None),
               **({"note": note} if note else {})},
    )
    heify.send_later(Transcription, call.pk)  # after the answer: nobody waits for Heify
    transaction.on_commit(lambda: call_moved.send(sender=Transcription, transcription_id=call.pk))
    return changes


def _as_moved(call: Transcription, changes: dict) -> Transcription:
    """`call`, read locked in this transaction, as its row is once _moved's `changes` are written."""
    for name, value in changes.items():
        setattr(call, name, value)
    call.version += 1
    return call


def _move_refused(call: Transcription, action: str, expected_version: int | None) -> ValidationError:
    """Why a move's UPDATE applied to nothing: the call as it is now."""
    current = Transcription.all_objects.select_related("assigned_to").get(pk=call.pk)
    if current.gone_at is not None:
        return ValidationError(_("The call was deleted in Heify meanwhile: it takes no review steps."), code=GONE)
    if action == "claim" and current.group == Group.UNDER_REVIEW:
        return ClaimLost(current.assigned_to)
    if expected_version is not None and current.version != expected_version:
        return _stale(expected_version, current.version)
    try:
        rules.review_transition(action, current.group)  # says why, if it is the group
    except ValidationError as refusal:
        return refusal
    return ValidationError(_("The call changed meanwhile; reload and try again."), code="changed")


def _stale(expected_version: int, current_version: int) -> StaleEdit:
    return StaleEdit(_("The call changed since version %(expected)s (it is at %(current)s).") % {
        "expected": expected_version, "current": current_version})


def _version_column_holds(version: int) -> bool:
    """Whether the database's version column can hold `version` at all."""
    low, high = connections[Transcription.objects.db].ops.integer_field_range(
        Transcription._meta.get_field("version").get_internal_type())
    return low <= version <= high


def _note(note: str) -> str:
    return rules.clean_review_text(note, field="note")


def transcription_claim(*, transcription_id: int, reviewer) -> Transcription:
    """Start review: from the pending queue or from no group, to UNDER_REVIEW, assigned to `reviewer`; or take
    over a call under review that nobody holds (open_claim), the history and the audit row saying whose lapsed
    claim it was. Of two reviewers claiming at once, one wins and the other is told who (ClaimLost): the UPDATE
    applies only while nobody holds the call, and the winner's claim is live."""
    require_step(reviewer, Step.CLAIM)  # before the lookup, as _get_for
    refusal = changes = None
    # The call read locked and moved in one transaction, without a savepoint (see _move): nothing in the block
    # raises but the database, and a refusal is raised after it. Locked, the call is as read until the move, so
    # it is not read again. Its holder is not joined: a read that waited for another claim's lock gets that
    # claim's row, but a join's row as it was before (no holder); it is read when needed (a refusal, a takeover).
    with transaction.atomic(savepoint=False):
        found = list(Transcription.all_objects.select_for_update().filter(pk=transcription_id).order_by())
        call = found[0] if found else None
        if call is not None:
            refusal = _call_refusal(reviewer, Step.CLAIM, call)
        if call is not None and refusal is None:
            now = timezone.now()
            taken = open_claim(call, now=now)
            # review_transition cannot refuse here: _call_refusal asked it first.
            changes = _moved(call, "claim", to_group=rules.review_transition("claim", call.group), actor=reviewer,
                             assignee=reviewer,
                             note=taken.note() if taken else "", job="", still=unheld(now) if taken else None)
    if call is None:
        raise Transcription.DoesNotExist("No call has this id.")
    if refusal is not None:
        raise refusal
    if changes is None:
        raise _move_refused(call, "claim", None)
    return _as_moved(call, changes)


def transcription_release(*, transcription_id: int, acting_user, note: str = "") -> Transcription:
    """Back to the pending queue, unassigned."""
    call = _get_for(acting_user, Step.RELEASE, transcription_id)
    return _move(call, "release", actor=acting_user, note=_note(note), expect_assignee=call.assigned_to)


@transaction.atomic
def transcription_archive(*, transcription_id: int, acting_user, note: str = "",
                          agree_rest: bool = False) -> Transcription:
    """Archive a reviewed call: every criterion of its results decided first, or, with `agree_rest`, the AI's
    result recorded as the reviewer's on every criterion not decided yet (in the same transaction)."""
    call = _get_for(acting_user, Step.ARCHIVE, transcription_id, lock=True)
    note = _note(note)
    ai, left = _ai_results_and_undecided(call)
    if left:
        if not agree_rest:
            raise ValidationError(
                {"verdicts": ngettext("%(count)s criterion is not decided yet (%(criteria)s): decide it, or archive "
                                      "agreeing with the AI on the rest.",
                                      "%(count)s criteria are not decided yet (%(criteria)s): decide them, or "
                                      "archive agreeing with the AI on the rest.", len(left))
                 % {"count": len(left), "criteria": ", ".join(left)}}, code="undecided")
        if blinding.hides_ai_from(acting_user, call):  # as step_refusal refuses their verdicts
            raise ValidationError(_("You are scoring this call blind in a calibration session: you cannot agree with "
                                    "the AI's results until you have submitted your answers."), code="blind")
        unknown = [name for name in left if ai[name][0] is None]
        if unknown:
            raise ValidationError({"verdicts": ngettext("The AI gave no result on %(criteria)s: decide it before "
                                                        "archiving.",
                                                        "The AI gave no result on %(criteria)s: decide them before "
                                                        "archiving.", len(unknown)) % {"criteria": ", ".join(unknown)}},
                                  code="undecided")
        _verdicts_keep(call, [_clean_verdict(Verdict(name, agrees=True), ai) for name in left], acting_user)
    # Locked since read; read again only if verdicts kept here changed its score of record.
    return _move(call, "archive", actor=acting_user, note=note, expect_assignee=call.assigned_to, locked=not left)


def transcription_reopen(*, transcription_id: int, acting_user, note: str = "") -> Transcription:
    call = _get_for(acting_user, Step.REOPEN, transcription_id)
    return _move(call, "reopen", actor=acting_user, note=_note(note))


def transcription_reassign(*, transcription_id: int, to_user, reason: str, acting_user) -> Transcription:
    call = _get_for(acting_user, Step.REASSIGN, transcription_id)
    reason = rules.clean_review_text(reason, field="reason")
    if not reason:
        raise ValidationError({"reason": _("Say why the call is reassigned.")})
    if not policy.is_reviewer(to_user):
        raise ValidationError({"to_user": _("%(username)s is not a reviewer.") % {"username": to_user.get_username()}})
    return _move(call, "reassign", actor=acting_user, assignee=to_user, note=reason,
                 expect_assignee=call.assigned_to)


def transcription_move(
    *, transcription_id: int, group: str | None, acting_user, note: str = "", expected_version: int | None = None
) -> Transcription:
    """A manager's move to any group (or none); a call moved to UNDER_REVIEW is assigned to the mover."""
    call = _get_for(acting_user, Step.MOVE, transcription_id)
    group, note = rules.clean_group(group), _note(note)
    if call.group == group and expected_version in (None, call.version):
        return call
    if expected_version is not None and not _version_column_holds(expected_version):
        # No row holds it: refused before the UPDATE, which the database itself might refuse for the value.
        raise _stale(expected_version, call.version)
    return _move(call, Action.MOVE, to_group=group, actor=acting_user, note=note, expected_version=expected_version,
                 assignee=acting_user if group == Group.UNDER_REVIEW else None)


def transcriptions_move(*, ids, group: str | None, acting_user, note: str = "") -> int:
    """Bulk move (the changelist action); each call moves and is recorded on its own."""
    require_step(acting_user, Step.MOVE)
    moved = 0
    for pk in ids:
        before = Transcription.all_objects.values_list("group", flat=True).get(pk=pk)
        transcription_move(transcription_id=pk, group=group, acting_user=acting_user, note=note)
        moved += before != rules.clean_group(group)
    return moved


def release_expired_claims(*, now=None) -> int:
    """Claims untouched longer than REVIEW_CLAIM_TIMEOUT_HOURS go back to the pending queue (calls under review
    that nobody ever claimed here stay, for a reviewer to claim: see open_claim)."""
    cutoff = claim_cutoff(now)
    stale = Transcription.objects.filter(group=Group.UNDER_REVIEW, review_touched_at__lt=cutoff).select_related(
        "assigned_to")
    released = 0
    for call in stale:
        try:
            # One transaction per claim (a savepoint when the job runs inside one): a release that fails in the
            # database rolls back alone, and the next claim goes on in a transaction of its own.
            # Still lapsed when released: a note or verdict of its holder's meanwhile keeps it.
            with transaction.atomic():
                _move(call, "expire", actor=None, expect_assignee=call.assigned_to, job="claim expiry",
                      still=Q(review_touched_at__lt=cutoff),
                      note=f"No activity for {settings.REVIEW_CLAIM_TIMEOUT_HOURS} hours.")
            released += 1
        except ValidationError:
            continue  # someone acted on it meanwhile
        except Exception:  # noqa: BLE001 (a value its columns refuse, a bug): this claim only, tried next run
            log.exception("claim on call %s not released", call.pk)
    return released


# --- notes and verdicts ------------------------------------------------------------------------


def _touch_claim(call: Transcription, user) -> None:
    """Keep the claim alive: only its holder's own actions do (another's note must not hold it for them)."""
    Transcription.objects.filter(pk=call.pk, group=Group.UNDER_REVIEW, assigned_to=user).update(
        review_touched_at=timezone.now())


@transaction.atomic
def transcription_note(*, transcription_id: int, author, text: str) -> ReviewEvent:
    """A note any reviewer may add (attributed, never replacing one), on any call but an archived one."""
    call = _get_for(author, Step.NOTE, transcription_id, lock=True)
    text = rules.clean_review_text(text, field="text", what="note", required=True)
    _touch_claim(call, author)
    audit.audit_record(actor=author, action=Action.NOTE, obj=call, after={"note": text})
    return ReviewEvent.objects.create(
        transcription=call, actor=author, action=Action.NOTE, from_group=call.group, to_group=call.group, note=text,
    )


def _result_said(passed: bool | None, value: int | None) -> str:
    if value is not None:
        return f"{value} of {rules.SCALE_MAX}"
    return "passed" if passed else "failed" if passed is False else "no result"


def _verdict_said(verdict) -> str:
    """A verdict as the history says it: agrees with the AI, or the reviewer's result and why."""
    said = "agrees with the AI" if verdict.agrees else f"{_result_said(verdict.passed, verdict.value)}"
    if verdict.agrees and verdict.value is not None:
        said += f" ({_result_said(verdict.passed, verdict.value)})"
    return said + (f" — {verdict.reason}" if verdict.reason else "")


@dataclass(frozen=True)
class Verdict:
    """A reviewer's result on one criterion, as given (the review page's form, the API's body): exactly one of
    `agrees` (with the AI's result, or, false, its opposite), `passed` (boolean and strict criteria) or `value`
    (1-5, scale criteria)."""

    criterion_name: str
    agrees: bool | None = None
    reason: str = ""
    passed: bool | None = None
    value: int | None = None


@dataclass(frozen=True)
class _Decided:
    """A verdict cleaned: the reviewer's result, whether it is the AI's, and why not."""

    criterion_name: str
    agrees: bool
    passed: bool | None
    value: int | None
    reason: str


class VerdictRefused(ValidationError):
    """One of the verdicts given cannot be recorded (so none was): `index` says which; the messages, by field."""

    def __init__(self, index: int, refusal: ValidationError):
        super().__init__(refusal.error_dict if hasattr(refusal, "error_dict") else {"criterion_name": refusal.messages})
        self.index = index


@transaction.atomic
def transcription_verdicts_record(*, transcription_id: int, verdicts: Sequence[Verdict], acting_user
                                  ) -> list[CriterionVerdict]:
    """Keep the reviewer's results beside the AI's (never instead of them), all or none, and the call's score of
    record computed again from them (qa.reviews.record).

    The one way a verdict is recorded: the review page's script and the API's
    PUT verdicts/ both call it. From the call's claim holder, or a QA manager
    (then marked as_manager), asked once for all the verdicts. One verdict per
    criterion: a newer one replaces the row, and the history says whose it
    replaced. A verdict refused is a VerdictRefused naming it; a refusal of the
    step (the role, the call's state) is step_refusal's.
    """
    call = _get_for(acting_user, Step.VERDICT, transcription_id, lock=True)
    if not verdicts:
        raise ValidationError({"verdicts": _("Give at least one verdict.")})
    criteria = [verdict.criterion_name for verdict in verdicts]
    if twice := next((name for name in criteria if criteria.count(name) > 1), None):
        raise ValidationError({"verdicts": _("%(criterion)r is given twice.") % {"criterion": twice}})
    ai = _ai_results(call)
    given: list[_Decided] = []
    for index, verdict in enumerate(verdicts):
        try:
            given.append(_clean_verdict(verdict, ai))
        except ValidationError as refusal:
            raise VerdictRefused(index, refusal) from None
    recorded = _verdicts_keep(call, given, acting_user)
    _touch_claim(call, acting_user)
    return recorded


@transaction.atomic
def transcription_verdict_upheld(*, transcription_id: int, verdict: Verdict, acting_user, why: str
                                 ) -> CriterionVerdict:
    """A dispute upheld (qa.reviews.disputes): the QA manager's result recorded as a verdict of theirs (as_manager),
    cleaned as any verdict is, and the score of record computed again. Unlike transcription_verdicts_record, it
    takes an archived call too, which stays archived (no reopening: step_refusal's `upholding`); the history entry
    starts with `why` ("dispute #3 upheld")."""
    call = _get_for(acting_user, Step.VERDICT, transcription_id, lock=True, upholding=True)
    kept = _verdict_keep(call, _clean_verdict(verdict, _ai_results(call)), reviewer=acting_user, as_manager=True,
                         why=why)
    record.record_keep(call_ids=[call.pk])
    return kept


def _verdicts_keep(call: Transcription, given: Sequence[_Decided], acting_user) -> list[CriterionVerdict]:
    as_manager = not (call.group == Group.UNDER_REVIEW and call.assigned_to_id == acting_user.pk)
    recorded = [_verdict_keep(call, verdict, reviewer=acting_user, as_manager=as_manager) for verdict in given]
    record.record_keep(call_ids=[call.pk])
    return recorded


def _ai_results(call: Transcription) -> dict[str, tuple[bool | None, int | None, str]]:
    """Criterion name -> the AI's (passed, value, type as scored), for the criteria it gave a result for."""
    return _ai_of(list(call.criterion_results.order_by("position").values_list(
        "name", "passed", "value", "type", "weight")))


def _ai_of(rows: list[tuple]) -> dict[str, tuple[bool | None, int | None, str]]:
    ai = record.ai_results(tuple(rows))
    kinds: dict[str, str] = {}
    for name, _passed, _value, kind, _weight in rows:
        kinds.setdefault(name, kind)
    return {name: (passed, value, kinds[name]) for name, (passed, value) in ai.items()}


def _ai_results_and_undecided(call: Transcription) -> tuple[dict[str, tuple[bool | None, int | None, str]],
                                                            list[str]]:
    """_ai_results, and undecided's answer, from one query (the results, each with whether a verdict decided it)."""
    rows = list(call.criterion_results.order_by("position").annotate(decided=Exists(
        CriterionVerdict.objects.filter(transcription_id=call.pk, criterion_name=OuterRef("name")))).values_list(
        "name", "passed", "value", "type", "weight", "decided"))
    ai = _ai_of([row[:5] for row in rows])
    decided = {row[0] for row in rows if row[5]}
    return ai, [name for name in ai if name not in decided]


def undecided(call: Transcription) -> list[str]:
    """The criteria of the call's results that no verdict has decided yet, in Heify's order."""
    return _ai_results_and_undecided(call)[1]


def _clean_verdict(verdict: Verdict, ai: dict) -> _Decided:
    name = verdict.criterion_name
    if name not in ai:
        raise ValidationError({"criterion_name": _("This call has no result for %(criterion)r.") % {"criterion": name}})
    ai_passed, ai_value, kind = ai[name]
    given = [key for key in ("agrees", "passed", "value") if getattr(verdict, key) is not None]
    if len(given) != 1:
        raise ValidationError({"verdicts": (_("%(criterion)s: give one of agrees, passed or value, not %(given)s.")
                                            if given else _("%(criterion)s: give one of agrees, passed or value."))
                               % {"criterion": name, "given": " and ".join(given)}})
    if verdict.agrees is not None:
        if ai_passed is None:
            raise ValidationError({"agrees": (_("The AI gave no pass or fail on %(criterion)r: give your value.")
                                              if kind == rules.SCALE else
                                              _("The AI gave no pass or fail on %(criterion)r: give your passed or "
                                                "failed.")) % {"criterion": name}})
        passed, value = (ai_passed, ai_value) if verdict.agrees else (not ai_passed, None)
    elif verdict.passed is not None:
        if kind == rules.SCALE:
            raise ValidationError({"passed": _("%(criterion)r is a scale criterion: give its value, from %(low)s to "
                                               "%(high)s.") % {"criterion": name, "low": rules.SCALE_MIN,
                                                               "high": rules.SCALE_MAX}})
        passed, value = record.reviewer_result((ai_passed, ai_value), verdict.passed, None)
    else:
        if kind and kind != rules.SCALE:
            raise ValidationError({"value": _("%(criterion)r is a %(kind)s criterion: say passed or failed, not a "
                                              "value.") % {"criterion": name, "kind": kind}})
        if type(verdict.value) is not int or not rules.SCALE_MIN <= verdict.value <= rules.SCALE_MAX:
            raise ValidationError({"value": _("A scale value is a whole number from %(low)s to %(high)s, not "
                                              "%(given)r.") % {"low": rules.SCALE_MIN, "high": rules.SCALE_MAX,
                                                               "given": verdict.value}})
        passed, value = record.reviewer_result((ai_passed, ai_value), None, verdict.value)
    agrees = passed == ai_passed and (value is None or ai_value is None or value == ai_value)
    reason = rules.clean_review_text(verdict.reason, field="reason")
    if not agrees and ai_passed is not None and not reason:  # where the AI said nothing, nothing differs
        raise ValidationError({"reason": _("Say why your result differs from the AI's.")})
    return _Decided(name, agrees, passed, value, reason)


def _verdict_keep(call: Transcription, verdict: _Decided, *, reviewer, as_manager: bool,
                  why: str = "") -> CriterionVerdict:
    """One verdict's row, replacing the criterion's earlier one, and its entry in the call's history."""
    name = verdict.criterion_name
    previous = CriterionVerdict.objects.filter(transcription=call, criterion_name=name).select_related(
        "reviewer").first()
    # One INSERT or one UPDATE: every caller holds the call's row lock (_get_for(lock=True)), so no other
    # verdict on this criterion can be written between the read above and this write (update_or_create's own
    # SELECT ... FOR UPDATE and savepoints would be three more round trips per verdict).
    kept = CriterionVerdict(pk=previous.pk if previous else None, transcription=call, criterion_name=name,
                            agrees=verdict.agrees, passed=verdict.passed, value=verdict.value, reason=verdict.reason,
                            reviewer=reviewer, as_manager=as_manager)
    kept.save(force_update=previous is not None, force_insert=previous is None)
    said = f"{why + ': ' if why else ''}{name}: {_verdict_said(verdict)}"
    if as_manager:
        said += " (as QA manager)"
    if previous is not None and previous.reviewer_id != reviewer.pk:
        whose = previous.reviewer.get_username() if previous.reviewer else "a former user"
        said += f"; replaces {whose}'s verdict ({_verdict_said(previous)})"
    ReviewEvent.objects.create(
        transcription=call, actor=reviewer, action=Action.VERDICT, from_group=call.group, to_group=call.group,
        note=said,
    )
    audit.audit_record(
        actor=reviewer, action=Action.VERDICT, obj=call,
        before={"verdict": _verdict_values(name, previous)} if previous is not None else {},
        after={"verdict": _verdict_values(name, kept)},
    )
    return kept


def _verdict_values(criterion_name: str, verdict: CriterionVerdict) -> dict:
    return {"criterion": criterion_name, "agrees": verdict.agrees, "passed": verdict.passed, "value": verdict.value,
            "reason": verdict.reason,
            "reviewer": audit.username(verdict.reviewer), "as_manager": verdict.as_manager}
