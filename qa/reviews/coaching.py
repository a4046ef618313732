"""Coaching sessions: a QA manager coaches one agent on a few criteria, the agent acknowledges it, and its
completion is recorded.

A session names the agent (a participant), some of their own calls, the criteria to work on (names from the
criteria of the evaluators that scored the agent's calls), notes, action items (short texts) and a due date;
and when it was held (by default, when it was opened), which the agent's dashboard marks on its trend and
compares the focus criteria's pass rate before and after (qa.insights.coaching_effect reads these rows).

The rules are `clean_session`'s, asked by every way in (the API, the admin's form) through the services below;
each problem is named (a call of another agent, a criterion the agent's evaluators do not have, a due date in
the past, a text too long). Who may do what: QA managers open, change and complete sessions and see them all
(qa.policy.may_manage_queues); the agent (qa.policy.agent_participant) sees their own, acknowledges them and may
complete them too. Every write leaves an audit row (COACHING_CREATE, COACHING_CHANGE, COACHING_ACKNOWLEDGE,
COACHING_COMPLETE). Nothing here reaches Heify: coaching is local.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from qa import audit, limits, policy
from qa.mirror.models import Criterion, Participant, Transcription
from qa.reviews.models import CoachingSession

CALLS_MAX = 50  # linked calls per session
FOCUS_CRITERIA_MAX = 10  # an evaluator has at most 10 criteria: a session works on fewer
ACTION_ITEMS_MAX = 20
ACTION_ITEM_MAX_LENGTH = 500  # an action item is a short text
NOTES_MAX_LENGTH = 20_000

Action = audit.AuditEvent.Action

# The fields a manager sets, as the audit row records them.
FIELDS = ("calls", "focus_criteria", "notes", "action_items", "due_date", "held_at")


# --- who may ----------------------------------------------------------------------------------------------------


def is_agent_of(user, session: CoachingSession) -> bool:
    """Whether `user` is the agent the session coaches (their account is linked to its participant)."""
    participant = policy.agent_participant(user)
    return participant is not None and participant.pk == session.participant_id


def may_see(user, session: CoachingSession) -> bool:
    return policy.may_manage_queues(user) or is_agent_of(user, session)


def may_complete(user, session: CoachingSession) -> bool:
    """A QA manager, or the agent coached (who says they have done the action items)."""
    return policy.may_manage_queues(user) or is_agent_of(user, session)


def _require_manager(user) -> None:
    if not policy.may_manage_queues(user):
        raise PermissionDenied(_("You are not allowed to open or change coaching sessions."))


# --- reading ----------------------------------------------------------------------------------------------------


def coaching_for(participant: Participant) -> QuerySet[CoachingSession]:
    """The participant's coaching sessions, newest first, with their calls and who opened and completed them."""
    return (CoachingSession.objects.filter(participant=participant)
            .select_related("participant", "created_by", "completed_by").prefetch_related("calls"))


def sessions_visible_to(user) -> QuerySet[CoachingSession]:
    """Every session for a QA manager; an agent's own for an agent; none for anyone else."""
    sessions = CoachingSession.objects.select_related("participant", "created_by", "completed_by") \
        .prefetch_related("calls")
    if policy.may_manage_queues(user):
        return sessions
    participant = policy.agent_participant(user)
    if participant is None:
        return sessions.none()
    return sessions.filter(participant=participant)


def criteria_of(participant: Participant) -> list[str]:
    """The criteria a session may focus on: those of the evaluators that scored the participant's calls, by name,
    in the evaluators' order (one query)."""
    if not participant.heify_id:
        return []
    evaluators = Transcription.objects.filter(participant_id=participant.heify_id, evaluator_id__isnull=False) \
        .values("evaluator_id")
    names = Criterion.objects.filter(evaluator__heify_id__in=evaluators).order_by(
        "evaluator__tag", "position", "id").values_list("name", flat=True)
    return list(dict.fromkeys(names))


# --- the rules --------------------------------------------------------------------------------------------------


def _clean_names(value, *, field: str, most: int, max_length: int) -> list[str]:
    """A list of short texts (focus criteria, action items): each text, none blank or twice, at most `most`."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError({field: _("%(field)s must be a list of texts, not %(type)s.") % {
            "field": field, "type": type(value).__name__}})
    if len(value) > most:
        raise ValidationError({field: _("%(field)s may hold at most %(most)s items, not %(given)s.") % {
            "field": field, "most": most, "given": len(value)}})
    cleaned: list[str] = []
    for index, item in enumerate(value):
        text = limits.clean_text(item, field=f"{field}[{index}]", max_length=max_length).strip()
        if not text:
            raise ValidationError({field: _("%(field)s[%(index)s] is blank.") % {"field": field, "index": index}})
        if text in cleaned:
            raise ValidationError({field: _("%(field)s names %(text)r twice.") % {"field": field, "text": text}})
        cleaned.append(text)
    return cleaned


def clean_session(*, participant: Participant, calls: Iterable[Transcription], focus_criteria, notes,
                  action_items, due_date, held_at=None, today: date | None = None,
                  due_date_unchanged: bool = False) -> dict:
    """The session's fields checked together: a dict of clean values, or a ValidationError naming every problem
    by field (each of the others' calls by name, each unknown criterion). `due_date_unchanged`: a change that
    keeps the due date it had may keep one now past."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def check(field, clean):
        try:
            cleaned[field] = clean()
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)

    calls = list(calls)
    if len(calls) > CALLS_MAX:
        errors["calls"] = [_("A session may link at most %(most)s calls, not %(given)s.") % {
            "most": CALLS_MAX, "given": len(calls)}]
    others = [call for call in calls if call.participant_id != participant.heify_id]
    if others:
        errors.setdefault("calls", []).append(
            _("These calls are not %(participant)s's: %(calls)s.") % {
                "participant": participant.tag, "calls": ", ".join(_call_name(call) for call in others)})
    cleaned["calls"] = list(dict.fromkeys(calls))

    check("focus_criteria", lambda: _clean_names(focus_criteria, field="focus_criteria", most=FOCUS_CRITERIA_MAX,
                                                 max_length=limits.TEXT_MAX_LENGTH))
    if "focus_criteria" in cleaned and cleaned["focus_criteria"]:
        known = set(criteria_of(participant))
        unknown = [name for name in cleaned["focus_criteria"] if name not in known]
        if unknown:
            errors.setdefault("focus_criteria", []).append(
                _("%(participant)s's evaluators have no criterion called %(names)s.") % {
                    "participant": participant.tag, "names": ", ".join(repr(name) for name in unknown)})
    check("notes", lambda: limits.clean_text(notes, field="notes", max_length=NOTES_MAX_LENGTH).strip())
    check("action_items", lambda: _clean_names(action_items, field="action_items", most=ACTION_ITEMS_MAX,
                                               max_length=ACTION_ITEM_MAX_LENGTH))
    if due_date is not None and (isinstance(due_date, datetime) or not isinstance(due_date, date)):
        errors["due_date"] = [_("due_date must be a date (YYYY-MM-DD), not %(given)r.") % {"given": due_date}]
    elif due_date is not None and not due_date_unchanged:
        today = today or timezone.localdate()
        if due_date < today:
            errors["due_date"] = [_("The due date %(due)s is in the past (today is %(today)s).") % {
                "due": formats.date_format(due_date, "DATE_FORMAT"),
                "today": formats.date_format(today, "DATE_FORMAT")}]
    cleaned["due_date"] = due_date
    if held_at is not None and not isinstance(held_at, datetime):
        errors["held_at"] = [_("held_at must be a date and time, not %(given)r.") % {"given": held_at}]
    elif held_at is not None and held_at > timezone.now():
        errors["held_at"] = [_("A session cannot have been held in the future.")]
    cleaned["held_at"] = held_at
    if errors:
        raise ValidationError(errors)
    return cleaned


def _call_name(call: Transcription) -> str:
    return f"{call.name or call.heify_id or call.pk}"


def _audit_values(session: CoachingSession, calls: Sequence[Transcription] | None = None) -> dict:
    calls = list(session.calls.all()) if calls is None else calls
    return {"calls": sorted(call.heify_id or str(call.pk) for call in calls),
            **audit.field_values(session, ["focus_criteria", "notes", "action_items", "due_date", "held_at"])}


# --- the actions -------------------------------------------------------------------------------------------------


@transaction.atomic
def coaching_create(*, participant_id: int, calls: Iterable[Transcription] = (), focus_criteria=(), notes="",
                    action_items=(), due_date: date | None = None, held_at: datetime | None = None,
                    acting_user) -> CoachingSession:
    """Open a coaching session for the participant (its pk): QA managers only; a ValidationError names each
    problem."""
    _require_manager(acting_user)
    participant = Participant.all_objects.get(pk=participant_id)
    data = clean_session(participant=participant, calls=calls, focus_criteria=focus_criteria, notes=notes,
                         action_items=action_items, due_date=due_date, held_at=held_at)
    session = CoachingSession.objects.create(
        participant=participant, focus_criteria=data["focus_criteria"], notes=data["notes"],
        action_items=data["action_items"], due_date=data["due_date"], held_at=data["held_at"] or timezone.now(),
        created_by=acting_user)
    session.calls.set(data["calls"])
    audit.audit_record(actor=acting_user, action=Action.COACHING_CREATE, obj=session,
                       after={"participant": participant.tag, **_audit_values(session, data["calls"])})
    return session


@transaction.atomic
def coaching_change(*, session_id: int, acting_user, **changes) -> CoachingSession:
    """Change what a manager set (any of FIELDS; the agent coached stays): QA managers only, until the session is
    completed."""
    _require_manager(acting_user)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"coaching_change() cannot change {', '.join(sorted(unknown))}")
    session = CoachingSession.objects.select_for_update().select_related("participant").get(pk=session_id)
    if session.completed_at is not None:
        raise ValidationError(_("This session was completed on %(date)s: it can no longer be changed.") % {
            "date": formats.date_format(timezone.localtime(session.completed_at), "DATE_FORMAT")})
    before_calls = list(session.calls.all())
    before = _audit_values(session, before_calls)
    merged = {"calls": before_calls, "focus_criteria": session.focus_criteria, "notes": session.notes,
              "action_items": session.action_items, "due_date": session.due_date, "held_at": session.held_at,
              **changes}
    # A past due date the session already had is kept (the held_at check is of a change to it alone).
    data = clean_session(participant=session.participant, **{**merged, "held_at": changes.get("held_at")},
                         due_date_unchanged=merged["due_date"] == session.due_date)
    for field in ("focus_criteria", "notes", "action_items", "due_date"):
        setattr(session, field, data[field])
    if data["held_at"] is not None:
        session.held_at = data["held_at"]
    session.save(update_fields=["focus_criteria", "notes", "action_items", "due_date", "held_at"])
    session.calls.set(data["calls"])
    after = _audit_values(session, data["calls"])
    if after != before:
        audit.audit_record(actor=acting_user, action=Action.COACHING_CHANGE, obj=session, before=before,
                           after=after)
    return session


@transaction.atomic
def coaching_acknowledge(*, session_id: int, acting_user) -> CoachingSession:
    """The agent coached says they have read the session (once; a second time changes nothing)."""
    session = CoachingSession.objects.select_for_update().select_related("participant").get(pk=session_id)
    if not is_agent_of(acting_user, session):
        raise PermissionDenied(_("Only the agent coached may acknowledge a coaching session."))
    if session.acknowledged_at is None:
        session.acknowledged_at = timezone.now()
        session.save(update_fields=["acknowledged_at"])
        audit.audit_record(actor=acting_user, action=Action.COACHING_ACKNOWLEDGE, obj=session,
                           before={"acknowledged_at": None}, after={"acknowledged_at": session.acknowledged_at})
    return session


@transaction.atomic
def coaching_complete(*, session_id: int, acting_user) -> CoachingSession:
    """Record the session completed (its action items done): a QA manager, or the agent coached; once."""
    session = CoachingSession.objects.select_for_update().select_related("participant").get(pk=session_id)
    if not may_complete(acting_user, session):
        raise PermissionDenied(_("Only a QA manager or the agent coached may complete a coaching session."))
    if session.completed_at is None:
        session.completed_at, session.completed_by = timezone.now(), acting_user
        session.save(update_fields=["completed_at", "completed_by"])
        audit.audit_record(actor=acting_user, action=Action.COACHING_COMPLETE, obj=session,
                           before={"completed_at": None, "completed_by": None},
                           after={"completed_at": session.completed_at,
                                  "completed_by": audit.username(acting_user),
                                  "as": "QA manager" if policy.may_manage_queues(acting_user) else "agent"})
    return session
