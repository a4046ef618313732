"""Coaching on the participant's dashboard: when each session was held (marked on the trend), and its focus
criteria's pass rate over the calls before it and the calls after it.

Which calls: the report's included ones (completed, scored, still in Heify, dated before the end of the
report's day; the calls the reader scores blind left out, as the report leaves them out), dated within
WINDOW_DAYS before the session (before) or from the session to WINDOW_DAYS after it (after). Which result: the
score of record's, per criterion: the reviewer's verdict where there is one (CriterionVerdict, what
Transcription.reviewed_results holds for a reviewed call), else the AI's (CriterionResult). A result nobody
knows (neither said pass or fail) counts in neither figure. The pass rate is rounded as the report rounds rates
(qa.mirror.report_rules.rate_figure).

One query, whatever the number of sessions and calls: every session of the participant, left-joined to its
window's calls and their results, counted per session, criterion and side in the database (the ORM writes it
for SQLite and PostgreSQL alike; the tests run it on both). Reads qa.reviews' tables, writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Case, Count, F, FilteredRelation, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from qa.insights.report import report_window, utc_date
from qa.mirror.models import Participant
from qa.mirror.report_rules import COMPLETED, figure, rate_figure
from qa.reviews.models import CoachingSession, CriterionVerdict

WINDOW_DAYS = 30  # calls this long before a session, and this long from it, are compared


def _figures(passed: int, calls: int) -> dict:
    return {"calls": calls, "passed": passed, "pass_rate": rate_figure(passed, calls) if calls else None}


def coaching_effect(participant: Participant, *, as_of: date | None = None, leave_out: Iterable[str] = ()) -> list[
        dict]:
    """Per session of the participant, oldest first: {id, held_at, date, focus_criteria, acknowledged, completed,
    focus: [{criterion, before: {calls, passed, pass_rate}, after: {...}, change}]}; pass_rate is None where no
    call has a known result, and change (points, after minus before) where either side is None."""
    if not participant.heify_id:
        return []
    end = report_window(as_of or utc_date(timezone.now())).end
    window = timedelta(days=WINDOW_DAYS)
    calls = Q(status=COMPLETED, score__isnull=False, gone_at__isnull=True, occurred_at__lt=end)
    calls &= Q(occurred_at__gte=F("held_at") - window, occurred_at__lt=F("held_at") + window)
    leave_out = list(leave_out)
    if leave_out:
        calls &= ~Q(heify_id__in=leave_out)
    calls = _prefixed(calls, "participant__transcriptions__")
    verdict = CriterionVerdict.objects.filter(
        transcription=OuterRef("window_calls__criterion_results__transcription"),
        criterion_name=OuterRef("window_calls__criterion_results__name")).order_by().values("passed")[:1]
    rows = (
        CoachingSession.objects.filter(participant=participant)
        .annotate(window_calls=FilteredRelation("participant__transcriptions", condition=calls))
        .annotate(
            criterion=F("window_calls__criterion_results__name"),
            after=Case(When(window_calls__occurred_at__gte=F("held_at"), then=Value(True)), default=Value(False)),
            of_record=Coalesce(Subquery(verdict), F("window_calls__criterion_results__passed")),
        )
        .values("id", "held_at", "focus_criteria", "acknowledged_at", "completed_at", "criterion", "after")
        .annotate(known=Count("window_calls__criterion_results", filter=Q(of_record__isnull=False)),
                  passed=Count("window_calls__criterion_results", filter=Q(of_record=True)))
        .order_by("held_at", "id")
    )
    sessions: dict[int, dict] = {}
    for row in rows:
        session = sessions.setdefault(row["id"], {
            "id": row["id"], "held_at": row["held_at"], "date": utc_date(row["held_at"]).isoformat(),
            "focus_criteria": list(row["focus_criteria"] or []), "acknowledged": row["acknowledged_at"] is not None,
            "completed": row["completed_at"] is not None, "counts": {}})
        if row["criterion"] is not None:
            session["counts"][(row["criterion"], bool(row["after"]))] = (row["passed"], row["known"])
    for session in sessions.values():
        counts = session.pop("counts")
        session["focus"] = []
        for name in session["focus_criteria"]:
            before, after = _figures(*counts.get((name, False), (0, 0))), _figures(*counts.get((name, True), (0, 0)))
            change = None
            if before["pass_rate"] is not None and after["pass_rate"] is not None:
                change = figure((after["passed"] / after["calls"] - before["passed"] / before["calls"]) * 100)
            session["focus"].append({"criterion": name, "before": before, "after": after, "change": change})
    return list(sessions.values())


def _prefixed(condition: Q, prefix: str) -> Q:
    """`condition` with every lookup taken through `prefix` (a FilteredRelation's condition names its fields
    from the model it starts at); F() of the session's own fields stay as they are."""
    copy = Q()
    copy.connector, copy.negated = condition.connector, condition.negated
    for child in condition.children:
        copy.children.append(_prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1]))
    return copy


def timeline_marks(effect: list[dict]) -> list[dict]:
    """What the trend's chart marks: each session's day and its focus criteria."""
    return [{"date": session["date"], "label": gettext("Coaching") + (
        ": " + ", ".join(session["focus_criteria"]) if session["focus_criteria"] else "")} for session in effect]
