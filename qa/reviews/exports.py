"""The call lists' export (the admin's call list and queues, the API's transcription list): one row per call,
one column per criterion when the list is filtered to an evaluator, the AI's verdicts left out of the calls its
reader scores blind. The file is written by qa/spreadsheets.py.

What must not live here: who may see which rows. Callers hand in a queryset already narrowed by the screen's
own rules (the admin's ChangeList, the API's filters), so an export holds exactly what its screen lists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from itertools import islice

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from qa import db, spreadsheets
from qa.mirror import criterion_results
from qa.mirror.models import Criterion, Evaluator, Participant

# The columns of a call, read with values_list, never as model objects (a million model instances would cost a
# minute of Python alone). Names of participants, evaluators and reviewers come from small lookups read once,
# not from joins: the calls are then read from their own table alone, in the list's index order, so rows start
# coming at once instead of after PostgreSQL has joined and sorted every one of them.
CALL_FIELDS = (
    "pk", "name", "heify_id", "status", "group", "participant_id", "evaluator_id", "configuration_tag", "score",
    "critical_fail_triggered", "duration", "occurred_at", "completed_at", "assigned_to_id", "group_changed_at",
)


CALL_HEADERS = (
    "Call", "Heify ID", "Status", "Group", "Participant", "Participant ID", "Evaluator", "Evaluator ID",
    "Configuration", "Score", "Critical fail", "Duration (s)", "Date", "Completed at", "Reviewer", "In group since",
)


def criterion_names(evaluator_heify_id: str | None) -> list[str]:
    """The evaluator's criteria, in its order: one column each when a list is filtered to that evaluator."""
    if not evaluator_heify_id:
        return []
    evaluator = Evaluator.all_objects.filter(heify_id=evaluator_heify_id).first()
    if evaluator is None:
        return []
    names = Criterion.objects.filter(evaluator=evaluator).order_by("position", "id").values_list("name", flat=True)
    return list(dict.fromkeys(names))


def criterion_result(passed: bool | None, value: int | None) -> str:
    """What Heify said of one criterion on a call: passed / failed, with its value where Heify gives one."""
    verdict = "passed" if passed is True else "failed" if passed is False else ""
    return f"{verdict} ({value})" if value is not None and verdict else verdict or str(value or "")


def calls_table(
    queryset: QuerySet, *, review_url: Callable[[int], str], blind_call_ids: Collection[int],
    evaluator_id: str | None = None, title: str = "Calls",
) -> spreadsheets.Table:
    """Every call the queryset selects, in its order; `review_url(pk)` links each to its review page. The AI's
    verdicts (score, critical fail, criteria) are left out of the calls in `blind_call_ids` (the reader's,
    qa.reviews.calibration)."""
    criteria = criterion_names(evaluator_id)
    headers = [*CALL_HEADERS, *criteria, "Review page"]

    def rows():
        participants = dict(Participant.all_objects.exclude(heify_id=None).values_list("heify_id", "tag"))
        evaluators = dict(Evaluator.all_objects.exclude(heify_id=None).values_list("heify_id", "tag"))
        reviewers = dict(get_user_model().objects.values_list("pk", "username"))
        with db.streaming_read(queryset.db):
            yield from _call_rows(queryset, criteria, review_url, participants, evaluators, reviewers,
                                  blind_call_ids)

    return spreadsheets.Table(title=title, headers=headers, rows=rows())


def _call_rows(queryset, criteria, review_url, participants, evaluators, reviewers, blind_call_ids):
    calls = queryset.values_list(*CALL_FIELDS).iterator(chunk_size=spreadsheets.BATCH * 2)
    while chunk := list(islice(calls, spreadsheets.BATCH * 2)):
        # The criteria's columns: the chunk's results, in one query (the first result of a name counts).
        said = {}
        if criteria:
            for call_id, name, passed, value in criterion_results.results_of_calls(
                    [row[0] for row in chunk if row[0] not in blind_call_ids], names=criteria).values_list(
                    "transcription_id", "name", "passed", "value"):
                said.setdefault((call_id, name), criterion_result(passed, value))
        for (pk, name, heify_id, status, group, participant_id, evaluator_id, configuration, score, critical,
             duration, occurred_at, completed_at, assignee, in_group_since) in chunk:
            if pk in blind_call_ids:
                score, critical = None, None
            yield [
                name, heify_id, status, group, participants.get(participant_id), participant_id,
                evaluators.get(evaluator_id), evaluator_id, configuration, score, critical, duration, occurred_at,
                completed_at, reviewers.get(assignee), in_group_since,
                *(said.get((pk, criterion), "") for criterion in criteria), review_url(pk),
            ]
