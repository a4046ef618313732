"""What an agent may read: their own calls and nothing else (reads only; writes are qa.agents.services).

An agent sees every call of the participant their account is linked to that Heify still has, reviewed or not,
newest first: a call not reviewed yet shows the AI's results and score (its score of record until a reviewer
gives a verdict); a reviewed one shows, per criterion, the AI's result, the reviewer's and the reviewer's reason,
and the score of record. The reviewer's results show as soon as they are recorded, as the reports count them
(qa.reviews.record: a call is reviewed from its first verdict); while the call is still under review the page
says so, and a later verdict asks for a new acknowledgement (qa.reviews.models.ReviewAcknowledgement).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qa.mirror import criterion_results, report_rules, rules
from qa.mirror.models import Participant, Transcription
from qa.reviews import disputes
from qa.reviews.models import CriterionVerdict, Dispute, acknowledged_q


def agent_calls(participant: Participant | None) -> QuerySet:
    """The participant's calls an agent sees (none without a participant), newest first, each with
    `acknowledged` (its current review acknowledged)."""
    if participant is None or participant.heify_id is None:
        return Transcription.objects.none()
    return (Transcription.objects.filter(participant_id=participant.heify_id)
            .select_related("reviewed_by").annotate(acknowledged=acknowledged_q())
            .order_by("-occurred_at", "-id"))


@dataclass
class CriterionRow:
    name: str
    ai: str = "—"
    reviewer: str = ""
    reason: str = ""
    changed: bool = False  # the reviewer's result is not the AI's
    dispute: Dispute | None = None  # the agent's dispute of this result, if any


@dataclass
class CallRow:
    call: Transcription
    ai_score: float | None
    score_of_record: float | None
    score_range: tuple[float, float] | None
    critical: bool
    reviewed: bool
    under_review: bool
    acknowledged: bool
    criteria: list[CriterionRow] = field(default_factory=list)
    dispute_until: datetime | None = None  # while the window is open: its results may be disputed until then

    @property
    def disputable(self) -> list[str]:
        """The criteria of record the agent may still dispute (each once), while the window is open."""
        if self.dispute_until is None:
            return []
        return [row.name for row in self.criteria if row.dispute is None]


def result_label(passed: bool | None, value: int | None) -> str:
    """A criterion's result as the page says it: "passed", "failed", or a scale's "4/5 (passed)"."""
    if passed is None and value is None:
        return "—"
    said = _("passed") if passed else _("failed")
    if value is not None:
        return f"{value}/{rules.SCALE_MAX}" + ("" if passed is None else f" ({said})")
    return said


def call_rows(calls) -> list[CallRow]:
    """Each call of `calls` (agent_calls' rows, one page of them) with its criteria: two queries for the page."""
    calls = list(calls)
    ids = [call.pk for call in calls]
    ai = defaultdict(dict)
    for result in criterion_results.results_of_calls(ids):
        ai[result.transcription_id][result.name] = result
    verdicts = defaultdict(dict)
    for verdict in CriterionVerdict.objects.filter(transcription_id__in=ids):
        verdicts[verdict.transcription_id][verdict.criterion_name] = verdict
    raised = defaultdict(dict)
    for dispute in Dispute.objects.filter(transcription_id__in=ids):
        raised[dispute.transcription_id][dispute.criterion_name] = dispute
    now = timezone.now()
    rows = []
    for call in calls:
        reviewed = call.reviewed_at is not None
        names = list(dict.fromkeys([*ai[call.pk], *verdicts[call.pk]]))
        criteria = []
        for name in names:
            result, verdict = ai[call.pk].get(name), verdicts[call.pk].get(name)
            row = CriterionRow(name=name, ai=result_label(result.passed, result.value) if result else "—")
            if verdict is not None:
                row.reviewer = result_label(verdict.passed, verdict.value)
                row.reason, row.changed = verdict.reason, not verdict.agrees
            row.dispute = raised[call.pk].get(name)
            criteria.append(row)
        closes = disputes.window_closes(call)
        exact = call.reviewed_score_low == call.reviewed_score_high
        rows.append(CallRow(
            call=call, ai_score=call.score,
            score_of_record=report_rules.of_record(call.score, call.reviewed_score if reviewed else None),
            score_range=None if not reviewed or exact else (call.reviewed_score_low, call.reviewed_score_high),
            critical=report_rules.of_record(call.critical_fail_triggered,
                                            call.reviewed_critical if reviewed else None),
            reviewed=reviewed, under_review=call.group == rules.Group.UNDER_REVIEW,
            acknowledged=bool(getattr(call, "acknowledged", False)), criteria=criteria,
            dispute_until=closes if closes is not None and now <= closes else None))
    return rows
