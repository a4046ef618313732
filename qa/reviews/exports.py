"""The call lists' export (the admin's call list and queues, the API's transcription list): one row per call,
as a person reads it (labels, not codes; the AI's score beside the score of record, qa.reviews.record), and,
when the list is filtered to an evaluator, three columns per criterion (the AI's result, the reviewer's, their
reason). The AI's verdicts and the reviewer's are left out of the calls its reader scores blind. The file is
written by qa/spreadsheets.py (which also writes the dates: real dates in a .xlsx, ISO 8601 in a CSV).

What must not live here: who may see which rows. Callers hand in a queryset already narrowed by the screen's
own rules (the admin's ChangeList, the API's filters), so an export holds exactly what its screen lists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from itertools import islice

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_noop

from qa import db, spreadsheets
from qa.mirror import criterion_results, report_rules
from qa.mirror.models import Criterion, Evaluator, Participant
from qa.mirror.rules import SCALE_MAX, Group, Status
from qa.reviews.models import CriterionVerdict

# The columns of a call, read with values_list, never as model objects (a million model instances would cost a
# minute of Python alone). Names of participants, evaluators and reviewers come from small lookups read once,
# not from joins: the calls are then read from their own table alone, in the list's index order, so rows start
# coming at once instead of after PostgreSQL has joined and sorted every one of them.
CALL_FIELDS = (
    "pk", "name", "heify_id", "status", "group", "participant_id", "evaluator_id", "configuration_tag", "score",
    "critical_fail_triggered", "reviewed_score", "reviewed_score_low", "reviewed_score_high", "reviewed_critical",
    "reviewed_by_id", "reviewed_at", "duration", "occurred_at", "completed_at", "assigned_to_id", "group_changed_at",
)


# The headers are marked here and translated when a table is made (gettext(header)), in the reader's language.
DURATION_HEADER = gettext_noop("Duration (s)")  # every export's durations: whole seconds (duration_cell)
CALL_HEADERS = (
    gettext_noop("Call"), gettext_noop("Heify ID"), gettext_noop("Status"), gettext_noop("Group"),
    gettext_noop("Participant"), gettext_noop("Participant ID"), gettext_noop("Evaluator"),
    gettext_noop("Evaluator ID"), gettext_noop("Configuration"), gettext_noop("AI score"),
    gettext_noop("AI critical fail"), gettext_noop("Reviewed score"), gettext_noop("Reviewed score range"),
    gettext_noop("Reviewed critical fail"), gettext_noop("Reviewed by"), gettext_noop("Reviewed at"),
    DURATION_HEADER, gettext_noop("Date"), gettext_noop("Completed at"), gettext_noop("Reviewer"),
    gettext_noop("In group since"),
)
_REVIEWED_AT = CALL_FIELDS.index("reviewed_at")
# A criterion's three columns, when the list is filtered to its evaluator.
CRITERION_COLUMNS = (gettext_noop("%(criterion)s (AI)"), gettext_noop("%(criterion)s (reviewer)"),
                     gettext_noop("%(criterion)s (reason)"))

STATUS_LABELS = dict(Status.choices)
GROUP_LABELS = dict(Group.choices)
NO_GROUP = gettext_noop("No group")  # as the call's page says


def duration_cell(seconds: float | None) -> int | None:
    """Every export's duration: whole seconds, as Heify's report gives them (report_rules.seconds_shown), under
    DURATION_HEADER."""
    return report_rules.seconds_shown(seconds)


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status, status or ""))


def group_label(group: str | None) -> str:
    return str(GROUP_LABELS.get(group, group)) if group else gettext(NO_GROUP)


def criterion_names(evaluator_heify_id: str | None) -> list[str]:
    """The evaluator's criteria, in its order: their columns when a list is filtered to that evaluator."""
    if not evaluator_heify_id:
        return []
    evaluator = Evaluator.all_objects.filter(heify_id=evaluator_heify_id).first()
    if evaluator is None:
        return []
    names = Criterion.objects.filter(evaluator=evaluator).order_by("position", "id").values_list("name", flat=True)
    return list(dict.fromkeys(names))


def criterion_result(passed: bool | None, value: int | None) -> str:
    """One criterion's result as the review page shows it: Passed / Failed, with a scale value where known
    ("Passed (4/5)")."""
    verdict = gettext("Passed") if passed is True else gettext("Failed") if passed is False else ""
    if value is None:
        return verdict
    return f"{verdict} ({value}/{SCALE_MAX})" if verdict else f"{value}/{SCALE_MAX}"


def score_range(low: float | None, high: float | None) -> str:
    """A score of record that cannot be exact (qa.reviews.record): its least and most; empty when exact."""
    if low is None or high is None or low == high:
        return ""
    return f"{low:g}–{high:g}"


def calls_table(
    queryset: QuerySet, *, review_url: Callable[[int], str], blind_call_ids: Collection[int],
    evaluator_id: str | None = None, title: str | None = None,
) -> spreadsheets.Table:
    """Every call the queryset selects, in its order; `review_url(pk)` links each to its review page. The AI's
    verdicts (score, critical fail, criteria) and the reviewer's (the score of record, results and reasons) are
    left out of the calls in `blind_call_ids` (the reader's, qa.reviews.calibration)."""
    criteria = criterion_names(evaluator_id)
    headers = [*map(gettext, CALL_HEADERS),
               *(gettext(column) % {"criterion": name} for name in criteria for column in CRITERION_COLUMNS),
               gettext("Review page")]
    title = title or gettext("Calls")

    def rows():
        participants = dict(Participant.all_objects.exclude(heify_id=None).values_list("heify_id", "tag"))
        evaluators = dict(Evaluator.all_objects.exclude(heify_id=None).values_list("heify_id", "tag"))
        users = dict(get_user_model().objects.values_list("pk", "username"))
        with db.streaming_read(queryset.db):
            yield from _call_rows(queryset, criteria, review_url, participants, evaluators, users, blind_call_ids)

    return spreadsheets.Table(title=title, headers=headers, rows=rows())


def _criteria_said(chunk: list[tuple], criteria: list[str], blind_call_ids: Collection[int]) -> tuple[dict, dict]:
    """The chunk's criterion columns, in one query each: (call, name) -> the AI's result (the first result of a
    name counts), and (call, name) -> (the reviewer's result, their reason), read only for the chunk's reviewed
    calls (none reviewed: no query)."""
    ai, reviewer = {}, {}
    if not criteria:
        return ai, reviewer
    seen = [row[0] for row in chunk if row[0] not in blind_call_ids]
    for call_id, name, passed, value in criterion_results.results_of_calls(seen, names=criteria).values_list(
            "transcription_id", "name", "passed", "value"):
        ai.setdefault((call_id, name), criterion_result(passed, value))
    reviewed = [row[0] for row in chunk if row[0] not in blind_call_ids and row[_REVIEWED_AT]]
    if reviewed:
        for call_id, name, passed, value, reason in CriterionVerdict.objects.filter(
                transcription_id__in=reviewed, criterion_name__in=criteria).values_list(
                "transcription_id", "criterion_name", "passed", "value", "reason"):
            reviewer[(call_id, name)] = (criterion_result(passed, value), reason)
    return ai, reviewer


def _call_rows(queryset, criteria, review_url, participants, evaluators, users, blind_call_ids):
    calls = queryset.values_list(*CALL_FIELDS).iterator(chunk_size=spreadsheets.BATCH * 2)
    while chunk := list(islice(calls, spreadsheets.BATCH * 2)):
        ai, reviewer = _criteria_said(chunk, criteria, blind_call_ids)
        for (pk, name, heify_id, status, group, participant_id, evaluator_id, configuration, score, critical,
             reviewed_score, low, high, reviewed_critical, reviewed_by, reviewed_at, duration, occurred_at,
             completed_at, assignee, in_group_since) in chunk:
            if pk in blind_call_ids:
                score = critical = reviewed_score = low = high = reviewed_critical = reviewed_by = reviewed_at = None
            per_criterion = []
            for criterion in criteria:
                result, reason = reviewer.get((pk, criterion), ("", ""))
                per_criterion += [ai.get((pk, criterion), ""), result, reason]
            yield [
                name, heify_id, status_label(status), group_label(group), participants.get(participant_id),
                participant_id, evaluators.get(evaluator_id), evaluator_id, configuration, score, critical,
                reviewed_score, score_range(low, high), reviewed_critical, users.get(reviewed_by), reviewed_at,
                duration_cell(duration), occurred_at, completed_at, users.get(assignee), in_group_since,
                *per_criterion, review_url(pk),
            ]
