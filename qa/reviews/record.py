"""The score of record: a call's score with the reviewer's results where they gave one, the AI's elsewhere.

It is computed by Heify's own score rule (qa.mirror.rules.evaluation_score, the
function the emulator and what-if use), with the criteria of the revision that
scored the call (each result is pinned with its type and weight:
qa.mirror.criterion_results), never the evaluator's current ones.

Where it cannot be exact. Heify's result for a scale criterion may carry its
value (1-5) or only pass/fail. A value the score needs is known when:
  - the reviewer gave it, or
  - the AI's result carries it, or
  - the AI's score settles it: of the values the AI's pass/fail allows
    (passed: 3-5, failed: 1-2), only the combinations that reproduce the AI's
    score under the scoring revision are kept (every combination is tried, up to
    rules.SCALE_COMBINATIONS_MAX, by qa.mirror.rules.scale_value_combinations,
    the one enumeration what-if uses too; `ai_values` gives the values so known to the
    agreement report, qa.reviews.agreement).
Otherwise the score of record is a range (`low`, `high`) and `score` is its
middle, as what-if shows it. A reviewer who changes nothing leaves the AI's score
exactly. Where the call's criteria are not known here (no revision scored it), a
changed result leaves no score (None), and the reports read the AI's.

`critical_fail_triggered` is computed the same way: a strict criterion failed in
the results of record (the AI's own flag while nothing was changed).

Stored on the call (Transcription.reviewed_*) by `record_keep`, in the verdict's
transaction, and again whenever Heify's results or their pinning change
(qa.mirror.criterion_results.results_changed, connected in qa/apps.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Max, OuterRef, Subquery

from qa.mirror import criterion_results, rules
from qa.mirror.models import Transcription
from qa.reviews.models import CriterionVerdict


@dataclass(frozen=True)
class Result:
    """One criterion's result of record."""

    name: str
    passed: bool | None
    value: int | None
    source: str  # "ai" | "reviewer"

    def as_json(self) -> dict:
        return {"name": self.name, "passed": self.passed, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class Record:
    low: float | None
    high: float | None
    critical: bool
    results: tuple[Result, ...]

    @property
    def score(self) -> float | None:
        return None if self.low is None else round((self.low + self.high) / 2, 2)

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @property
    def failed(self) -> list[str]:
        return [result.name for result in self.results if result.passed is False]


def ai_results(pattern: criterion_results.Pattern) -> dict[str, tuple[bool | None, int | None]]:
    """name -> the AI's (passed, value), in Heify's order; the last result of a name wins, as everywhere."""
    found: dict[str, tuple[bool | None, int | None]] = {}
    for name, passed, value, _, _ in pattern:
        low, high = rules.SCALE_RANGE[passed] if passed is not None else (None, None)
        if value is not None and low is not None and not low <= value <= high:
            value = None  # a value its own pass/fail contradicts says nothing
        if passed is not None or name not in found:
            found[name] = (passed, value)
    return found


def reviewer_result(ai: tuple[bool | None, int | None] | None, passed: bool | None,
                    value: int | None) -> tuple[bool | None, int | None]:
    """A verdict's (passed, value): a value alone says its pass/fail; an agreement keeps the AI's value."""
    if value is not None:
        return value >= rules.SCALE_PASS_MARK, value
    ai_passed, ai_value = ai or (None, None)
    return passed, ai_value if passed == ai_passed else None


def compute(pattern: criterion_results.Pattern, *, ai_score: float | None, ai_critical: bool,
            verdicts: Mapping[str, tuple[bool | None, int | None]]) -> Record:
    """The score of record of a call: `pattern` its results as pinned (criterion_results.pattern), `verdicts`
    criterion name -> the reviewer's (passed, value) (CriterionVerdict's)."""
    ai = ai_results(pattern)
    merged = {name: verdicts[name] if name in verdicts else ai[name] for name in ai}
    results = tuple(
        Result(name, passed, value, "reviewer" if merged[name] != ai[name] else "ai")
        for name, (passed, value) in merged.items())
    if merged == ai:
        return Record(ai_score, ai_score, ai_critical, results)
    criteria = criterion_results.scored_criteria(pattern)
    if not criteria:
        return Record(None, None, ai_critical, results)
    low, high, critical = _range(criteria, ai, merged, ai_score)
    return Record(low, high, critical, results)


def ai_values(pattern: criterion_results.Pattern, *, ai_score: float | None) -> dict[str, int]:
    """Criterion name -> the AI's scale value where it is known: carried by its result, or settled by its score
    (rules.known_scale_values, the enumeration what-if uses too)."""
    return rules.known_scale_values(criterion_results.scored_criteria(pattern), ai_results(pattern), ai_score)


def _range(criteria: list[dict], ai: dict, merged: dict, ai_score: float | None) -> tuple[float, float, bool]:
    """The least and most the score of record can be, given what is known (see the module's docstring)."""
    scored = [c for c in criteria if merged.get(c["name"], (None,))[0] is not None]
    combinations, _ = rules.scale_value_combinations(criteria, ai, ai_score)
    scores = [_score(scored, merged, combo, end=end, ai=ai) for combo in combinations for end in (0, -1)]
    critical = rules.evaluation_score(scored, _verdicts(scored, merged, combinations[0], end=0, ai=ai))[
        "critical_fail_triggered"]
    return min(scores), max(scores), critical


def _verdicts(criteria: list[dict], results: dict, combo: dict, *, end: int, ai: dict | None = None) -> dict:
    """evaluation_score's verdicts: a scale value known, or the AI's unknown one as `combo` has it (where the
    result of record kept the AI's pass/fail), or the end (`end`: 0 low, -1 high) of what its pass/fail allows."""
    verdicts = {}
    for c in criteria:
        passed, value = results[c["name"]]
        if c["type"] != rules.SCALE:
            verdicts[c["name"]] = passed
        elif value is not None:
            verdicts[c["name"]] = value
        elif c["name"] in combo and (ai is None or ai[c["name"]][0] == passed):
            verdicts[c["name"]] = combo[c["name"]]
        else:
            verdicts[c["name"]] = rules.SCALE_RANGE[passed][end]
    return verdicts


def _score(criteria: list[dict], results: dict, combo: dict, *, end: int, ai: dict | None = None) -> float:
    return rules.evaluation_score(criteria, _verdicts(criteria, results, combo, end=end, ai=ai))["score"]


# --- reads and writes ------------------------------------------------------------------------------------------


def record_keep(*, call_ids: Iterable[int]) -> int:
    """Compute and store the score of record of the calls `call_ids` that have verdicts; those that have none
    lose theirs. Returns the calls written."""
    call_ids = list(call_ids)
    latest = CriterionVerdict.objects.filter(transcription=OuterRef("pk")).order_by("-at", "-pk")
    calls = Transcription.all_objects.filter(pk__in=call_ids).annotate(
        pattern=criterion_results.results_pattern(), verdict_at=Max("criterion_verdicts__at"),
        verdict_by=Subquery(latest.values("reviewer")[:1]))
    verdicts: dict[int, dict] = defaultdict(dict)  # every call's verdicts in one query, not one per call
    for call_id, name, passed, value in CriterionVerdict.objects.filter(transcription_id__in=call_ids).values_list(
            "transcription_id", "criterion_name", "passed", "value"):
        verdicts[call_id][name] = (passed, value)
    written = 0
    for call in calls:
        if call.verdict_at is None:
            fields = dict.fromkeys(REVIEWED_FIELDS)
        else:
            record = compute(criterion_results.pattern(call.pattern), ai_score=call.score,
                             ai_critical=call.critical_fail_triggered, verdicts=verdicts[call.pk])
            fields = {"reviewed_score": record.score, "reviewed_score_low": record.low,
                      "reviewed_score_high": record.high, "reviewed_critical": record.critical,
                      "reviewed_failed_criteria": record.failed,
                      "reviewed_results": [result.as_json() for result in record.results],
                      "reviewed_by_id": call.verdict_by, "reviewed_at": call.verdict_at}
        written += Transcription.all_objects.filter(pk=call.pk).update(**fields)
    return written


REVIEWED_FIELDS = ("reviewed_score", "reviewed_score_low", "reviewed_score_high", "reviewed_critical",
                   "reviewed_failed_criteria", "reviewed_results", "reviewed_by_id", "reviewed_at")


def results_changed(sender, *, calls, **kwargs) -> None:
    """Heify's results of `calls` (a Transcription queryset) or their pinning changed: the reviewed ones'
    score of record is computed again."""
    record_keep(call_ids=calls.filter(reviewed_at__isnull=False).values_list("pk", flat=True))


def review_json(call: Transcription) -> dict | None:
    """The transcription JSON's "review", from what is stored: null until a verdict exists."""
    if call.reviewed_at is None:
        return None
    exact = call.reviewed_score_low == call.reviewed_score_high
    return {
        "score": call.reviewed_score,
        "score_range": None if exact else [call.reviewed_score_low, call.reviewed_score_high],
        "critical_fail_triggered": call.reviewed_critical,
        "criteria_results": call.reviewed_results or [],
        "reviewed_by": call.reviewed_by.get_username() if call.reviewed_by else None,
        "reviewed_at": call.reviewed_at,
    }
