"""Disputes: an agent contests one criterion's result of record on a reviewed call of theirs; a QA manager who did
not review the call upholds it (their result becomes the score of record's, through the verdict path) or rejects it.

The rules, each in one place:
  - raise (`dispute_raise`): the call's own agent only (qa.policy.agent_participant is the call's participant;
    anyone else's call is not found), a reviewed call only (Transcription.reviewed_at), within
    settings.DISPUTE_WINDOW_DAYS of that review, a criterion among the call's results of record, once per
    criterion (a unique constraint too), with a reason. The result disputed is kept as it was
    (`result_when_raised`), with whose it was (`reviewer`: the criterion's verdict's reviewer, else the call's).
  - resolve (`dispute_resolve`): a QA manager who did not review the call: not the reviewer whose result was
    disputed, nor anyone holding a verdict on the call now (the call's reviewed_by among them), but for a verdict
    an upheld dispute gave (`call_reviewers`). Upheld carries the result
    ("passed" on a boolean or strict criterion, "value" on a scale one), cleaned as any verdict is and recorded by
    qa.reviews.queues.transcription_verdict_upheld as the manager's (an archived call stays archived); the history
    says "dispute #N upheld". Rejected carries no result and changes nothing.
  - who sees which (`disputes_visible`): managers every dispute, an agent those they raised, a reviewer those of
    results they gave.
Each write leaves its audit row (DISPUTE_RAISE, DISPUTE_RESOLVE). Both sides are told by e-mail: `dispute_changed`
is sent after the commit (event "raised": the disputed result's reviewer, the call's reviewer and the QA managers
are told; "resolved": the agent), and qa.alerts delivers it (connected in qa/apps.py; reviews never reads alerts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, QuerySet, Value, When
from django.dispatch import Signal
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from qa import audit, policy
from qa.mirror import rules
from qa.mirror.models import Transcription
from qa.preferences import languages_of
from qa.reviews import queues
from qa.reviews.models import CriterionVerdict, Dispute

# Sent after a dispute was raised or resolved has committed, with `dispute_id` and `event` ("raised" |
# "resolved"): the alerts tell the people concerned (qa/apps.py connects them).
dispute_changed = Signal()

Status = Dispute.Status
OUTCOMES = (Status.UPHELD, Status.REJECTED)


def window_closes(call: Transcription) -> datetime | None:
    """Until when the call's results may be disputed (None: not reviewed, nothing to dispute)."""
    if call.reviewed_at is None:
        return None
    return call.reviewed_at + timedelta(days=settings.DISPUTE_WINDOW_DAYS)


def result_said(result: dict | None) -> str:
    """A result of record ({passed, value}) as a person reads it: "4 of 5", "passed", "failed"."""
    if not result:
        return _("no result")
    if result.get("value") is not None:
        return _("%(value)s of %(max)s") % {"value": result["value"], "max": rules.SCALE_MAX}
    passed = result.get("passed")
    return _("passed") if passed else _("failed") if passed is False else _("no result")


def _when(moment: datetime) -> str:
    """A time in a refusal: the reader's format and the team's time zone, the zone named."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@dataclass(frozen=True)
class Notice:
    """What the people concerned by a dispute are told (qa.alerts sends it): one per language among them."""

    language: str
    users: list
    subject: str
    body: str


def _name(user) -> str:
    return user.get_username() if user is not None else _("a former user")


def dispute_notices(dispute: Dispute, event: str, users) -> list[Notice]:
    """The e-mail of a dispute `event` ("raised" or "resolved") to `users`, each in their own language
    (qa.preferences.languages_of, one query): one Notice per language, the site's LANGUAGE_CODE first.
    `dispute` comes with its call, raised_by, resolved_by and reviewer read."""
    users = list(dict.fromkeys(user for user in users if user is not None))
    language = languages_of(users)
    by_language: dict[str, list] = {}
    for user in users:
        by_language.setdefault(language[user.pk], []).append(user)
    call = dispute.transcription
    notices = []
    for language in sorted(by_language, key=lambda code: code != settings.LANGUAGE_CODE):
        with translation.override(language):
            said = {"number": dispute.pk, "agent": _name(dispute.raised_by), "criterion": dispute.criterion_name,
                    "call": call, "reviewer": _name(dispute.reviewer), "reason": dispute.reason,
                    "was": result_said(dispute.result_when_raised), "status": dispute.get_status_display(),
                    "manager": _name(dispute.resolved_by), "answer": dispute.resolution_reason}
            if event == "raised":
                subject = _("Dispute #%(number)s: %(agent)s disputes %(criterion)s on %(call)s") % said
                body = _("%(agent)s disputes the result of %(criterion)s (%(was)s) on “%(call)s”, reviewed by "
                         "%(reviewer)s:\n\n%(reason)s\n\nA QA manager who did not review the call resolves it "
                         "(the Disputes queue).") % said
            else:
                now = result_said({"passed": dispute.upheld_passed, "value": dispute.upheld_value})
                subject = _("Your dispute #%(number)s on %(criterion)s was %(status)s") % said
                given = (_("The result of record is now %(result)s.") % {"result": now}
                         if dispute.status == Status.UPHELD else _("The result of record stays."))
                body = _("%(manager)s %(status)s your dispute of %(criterion)s (%(was)s) on “%(call)s”. "
                         "%(given)s\n\n%(answer)s") % {**said, "given": given}
        notices.append(Notice(language, by_language[language], subject, body))
    return notices


def _on_commit(dispute: Dispute, event: str) -> None:
    pk = dispute.pk
    # robust: a notice that cannot be stored is logged, never undoes the dispute nor fails the answer.
    transaction.on_commit(lambda: dispute_changed.send(sender=Dispute, dispute_id=pk, event=event), robust=True)


def _values(dispute: Dispute) -> dict:
    return {"transcription": dispute.transcription_id, "criterion": dispute.criterion_name,
            "status": dispute.status, "reason": dispute.reason, "raised_by": audit.username(dispute.raised_by),
            "result_when_raised": dispute.result_when_raised}


@transaction.atomic
def dispute_raise(*, transcription_id: int, criterion: str, reason: str, acting_user,
                  now: datetime | None = None) -> Dispute:
    """The agent `acting_user` disputes `criterion`'s result of record on their call `transcription_id`.
    Transcription.DoesNotExist for a call that is not theirs (or not there); PermissionDenied for someone who is not
    an agent linked to a participant; ValidationError naming the problem otherwise."""
    participant = policy.agent_participant(acting_user)
    if participant is None:
        raise PermissionDenied(_("Only an agent linked to a participant disputes a result, on their own calls."))
    call = Transcription.objects.select_for_update(of=("self",)).get(
        pk=transcription_id, participant_id=participant.heify_id)
    now = now or timezone.now()
    if call.reviewed_at is None:
        raise ValidationError({"transcription": _("This call has not been reviewed: only a reviewed call's results "
                                                  "are disputed.")}, code="not_reviewed")
    closes = window_closes(call)
    if now > closes:
        raise ValidationError({"transcription": _("Disputes on this call closed on %(when)s, %(days)s days after "
                                                  "its review.") % {"when": _when(closes),
                                                                    "days": f"{settings.DISPUTE_WINDOW_DAYS:g}"}},
                              code="window_closed")
    criterion = rules.clean_review_text(criterion, field="criterion", required=True)
    results = {result["name"]: result for result in call.reviewed_results or []}
    if criterion not in results:
        raise ValidationError({"criterion": (_("This call has no result for %(criterion)r (its criteria: "
                                               "%(criteria)s).") if results else
                                             _("This call has no result for %(criterion)r.")) % {
                                                 "criterion": criterion, "criteria": ", ".join(results)}},
                              code="no_such_criterion")
    if earlier := Dispute.objects.filter(transcription=call, criterion_name=criterion).first():
        raise ValidationError({"criterion": _("%(criterion)r of this call was disputed already (dispute "
                                              "#%(number)s, %(status)s): once per criterion.") % {
                                                  "criterion": criterion, "number": earlier.pk,
                                                  "status": earlier.get_status_display()}},
                              code="disputed")
    reason = rules.clean_review_text(reason, field="reason", required=True)
    verdict = CriterionVerdict.objects.filter(transcription=call, criterion_name=criterion).first()
    result = results[criterion]
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                transcription=call, criterion_name=criterion, raised_by=acting_user, reason=reason, raised_at=now,
                result_when_raised={"passed": result.get("passed"), "value": result.get("value"),
                                    "source": result.get("source")},
                reviewer_id=verdict.reviewer_id if verdict is not None and verdict.reviewer_id else call.reviewed_by_id,
            )
    except IntegrityError:  # the same criterion, disputed at the same moment
        raise ValidationError({"criterion": _("%(criterion)r of this call was disputed already: once per "
                                              "criterion.") % {"criterion": criterion}}, code="disputed") from None
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.DISPUTE_RAISE, obj=dispute,
                       after=_values(dispute))
    _on_commit(dispute, "raised")
    return dispute


def call_reviewers(dispute: Dispute) -> set[int]:
    """Who reviewed the disputed call, and so may not resolve it: the reviewer whose result was disputed, and
    whoever holds a verdict on the call now (the call's reviewed_by is one of them), but for the verdicts that an
    upheld dispute gave (resolving another dispute on the call is not reviewing it)."""
    call = dispute.transcription_id
    given = set(Dispute.objects.filter(transcription_id=call, status=Status.UPHELD).values_list(
        "criterion_name", "resolved_by_id"))
    verdicts = CriterionVerdict.objects.filter(transcription_id=call).values_list("criterion_name", "reviewer_id",
                                                                                  "as_manager")
    ids = {reviewer for name, reviewer, as_manager in verdicts if not (as_manager and (name, reviewer) in given)}
    return (ids | {dispute.reviewer_id}) - {None}


@transaction.atomic
def dispute_resolve(*, dispute_id: int, outcome: str, reason: str, acting_user, passed: bool | None = None,
                    value: int | None = None) -> Dispute:
    """A QA manager who did not review the call upholds the dispute (with the result it gives: `passed`, or `value`
    on a scale criterion) or rejects it, saying why. Dispute.DoesNotExist when there is none; PermissionDenied
    for anyone else; ValidationError naming the problem."""
    if not policy.may_manage_queues(acting_user):
        raise PermissionDenied(_("Only a QA manager resolves disputes."))
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related("transcription").get(pk=dispute_id)
    if dispute.status != Status.OPEN:
        raise ValidationError({"status": _("Dispute #%(number)s was %(status)s already, on %(when)s.") % {
            "number": dispute.pk, "status": dispute.get_status_display(), "when": _when(dispute.resolved_at)}},
            code="resolved")
    if acting_user.pk in call_reviewers(dispute):
        raise PermissionDenied(_("You reviewed this call: a QA manager who did not resolves its disputes."))
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": _("The outcome is upheld or rejected, not %(outcome)r.") % {
            "outcome": outcome}})
    reason = rules.clean_review_text(reason, field="reason", required=True)
    before = {"status": dispute.status}
    if outcome == Status.REJECTED:
        if passed is not None or value is not None:
            raise ValidationError({"passed" if passed is not None else "value":
                                   _("A rejected dispute gives no result: the result of record stays.")})
    else:
        _uphold(dispute, reason=reason, passed=passed, value=value, acting_user=acting_user)
    dispute.status, dispute.resolution_reason = outcome, reason
    dispute.resolved_by, dispute.resolved_at = acting_user, timezone.now()
    dispute.save(update_fields=["status", "resolution_reason", "resolved_by", "resolved_at", "upheld_passed",
                                "upheld_value"])
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.DISPUTE_RESOLVE, obj=dispute,
                       before=before, after={"status": dispute.status, "reason": reason,
                                             "passed": dispute.upheld_passed, "value": dispute.upheld_value})
    _on_commit(dispute, "resolved")
    return dispute


def _uphold(dispute: Dispute, *, reason: str, passed: bool | None, value: int | None, acting_user) -> None:
    if (passed is None) == (value is None):
        raise ValidationError({"passed": _("An upheld dispute gives the result: passed (true or false) on a boolean "
                                           "or strict criterion, or value (1-5) on a scale one; one of them.")})
    was = dispute.result_when_raised or {}
    if (value is not None and value == was.get("value")) or (
            value is None and passed == was.get("passed") and was.get("value") is None):
        raise ValidationError({"value" if value is not None else "passed":
                               _("That is the result disputed (%(result)s): reject the dispute, or give another "
                                 "result.") % {"result": result_said(was)}})
    try:
        kept = queues.transcription_verdict_upheld(
            transcription_id=dispute.transcription_id, acting_user=acting_user,
            verdict=queues.Verdict(dispute.criterion_name, passed=passed, value=value, reason=reason),
            why=f"dispute #{dispute.pk} upheld")
    except queues.VerdictRefused as refused:  # not raised for one verdict, but keep the names the body uses
        raise ValidationError(refused.message_dict) from None
    dispute.upheld_passed, dispute.upheld_value = kept.passed, kept.value


def disputes_visible(user, *, status: str | None = None) -> QuerySet[Dispute]:
    """The disputes `user` may read, oldest open first: a QA manager every one, an agent those they raised, a
    reviewer those of the results they gave. PermissionDenied for anyone else; ValidationError for a status that
    is none."""
    if status is not None and status not in Status.values:
        raise ValidationError({"status": _("The status is one of %(statuses)s, not %(status)r.") % {
            "statuses": ", ".join(Status.values), "status": status}})
    disputes = Dispute.objects.select_related("transcription", "raised_by", "resolved_by", "reviewer")
    if policy.may_manage_queues(user):
        pass
    elif policy.is_agent(user):
        disputes = disputes.filter(raised_by=user)
    elif policy.is_reviewer(user):
        disputes = disputes.filter(reviewer=user)
    else:
        raise PermissionDenied(_("You are not allowed to read disputes."))
    if status is not None:
        disputes = disputes.filter(status=status)
    open_first = Case(When(status=Status.OPEN, then=Value(0)), default=Value(1))
    return disputes.order_by(open_first, "raised_at", "id")
