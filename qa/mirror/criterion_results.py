"""Each call's criterion results, typed once: the CriterionResult model and the one parser of Heify's JSON.

Heify sends a call's verdicts as `details.evaluation.criteria_results`, a list
of `{name, passed}` (with `value`, 1-5, where it gives a scale criterion's
value). The upsert (syncer.mirror) parses that list here, once, into one
CriterionResult row per result; every reader (the review page, what-if,
agreement, calibration, the verdicts, the exports, the failed criteria the
report counts) reads the rows. The list itself stays on the call as Heify sent
it (Transcription.criteria_results), for the API's transcription shape only.

What is a result, in any shape Heify sends: a JSON object with a text `name`,
in Heify's order (`position` is its index in Heify's list). `passed` is kept
when it is JSON true or false, else it is unknown (None); `value` when it is a
whole number from 1 to 5. Anything else in the list (not an object, no text
name) is not a result.

Each row is pinned to the evaluator revision that scored its call: `revision`
is the number of the call's evaluator's revision in force (the key
qa.mirror.revisions.revision_in_force gives: the call's evaluator and that
number), and `type` and `weight` are that revision's for the criterion of the
result's name (the first of a name), so points are added with the criteria
that scored the call, never the evaluator's current ones. A result whose
criterion is not in that revision (or whose call has no revision here) has no
type ("") and no weight. Which revision is in force is decided by
qa.mirror.revisions, which pins again (`criterion_results_pin`) when a
revision is recorded or forgotten.

What must not live here: the score rule (qa.mirror.rules), which revision
scored a call (qa.mirror.revisions), HTTP. This module imports no models
module (its relations are strings): qa/models.py imports it, so that Django
finds the model.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.dispatch import Signal
from django.utils.translation import gettext_lazy

from qa.mirror import rules

TYPE_CHOICES = [(t, t.title()) for t in rules.CRITERION_TYPES]

# Sent with `calls` (a Transcription queryset) once their results were replaced (the upsert) or pinned to another
# revision: what is computed from them (the score of record, qa.reviews.record) listens (qa/apps.py connects it).
results_changed = Signal()


class CriterionResult(models.Model):
    """One of Heify's results for a call, with the type and weight its criterion had in the revision that scored
    the call. Written by the upsert only (a changed call's rows are replaced; a call gone from Heify keeps them)."""

    # No index of its own: the unique (transcription, position) one serves every look-up by call.
    transcription = models.ForeignKey("qa.Transcription", on_delete=models.CASCADE, related_name="criterion_results",
                                      db_index=False)
    position = models.PositiveIntegerField(help_text=gettext_lazy("Its index in Heify's list."))
    name = models.TextField(help_text=gettext_lazy("The criterion's name, as Heify gave it."))
    passed = models.BooleanField(null=True, help_text=gettext_lazy("Empty: Heify's result did not say."))
    value = models.PositiveSmallIntegerField(null=True, blank=True, help_text=gettext_lazy("1-5, where Heify gave it."))
    revision = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=gettext_lazy("The number of the call's evaluator revision that scored it (qa.mirror.revisions)."))
    type = models.CharField(max_length=8, choices=TYPE_CHOICES, blank=True,
                            help_text=gettext_lazy("As scored; empty when the criterion is not in that revision."))
    weight = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True,
                                 help_text=gettext_lazy("As scored."))

    class Meta:
        ordering = ["transcription", "position"]
        constraints = [
            models.UniqueConstraint(fields=["transcription", "position"], name="one_result_per_position"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=rules.SCALE_MIN, value__lte=rules.SCALE_MAX),
                name="result_value_on_the_scale"),
        ]

    def __str__(self):
        return f"{self.name}: {'passed' if self.passed else 'failed' if self.passed is False else 'unknown'}"


# --- the one parser ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedResult:
    position: int
    name: str
    passed: bool | None
    value: int | None


def parse_criteria_results(raw: Any) -> list[ParsedResult]:
    """Heify's `criteria_results` (any shape) -> its results, in Heify's order (see the module's docstring)."""
    if not isinstance(raw, list):
        return []
    parsed = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        passed, value = item.get("passed"), item.get("value")
        parsed.append(ParsedResult(
            position=position, name=item["name"], passed=passed if isinstance(passed, bool) else None,
            value=value if type(value) is int and rules.SCALE_MIN <= value <= rules.SCALE_MAX else None,
        ))
    return parsed


def failed_names(parsed: Iterable[ParsedResult]) -> list[str]:
    """Names of the criteria a call failed, in Heify's order (a name failed twice is there twice): what the
    upsert keeps on the call (Transcription.failed_criteria) for the participant report."""
    return [result.name for result in parsed if result.passed is False]


def failed_criteria(raw: Any) -> list[str]:
    """`failed_names` of Heify's JSON (migration 0005 fills the column with it)."""
    return failed_names(parse_criteria_results(raw))


def results_key(parsed: Iterable[ParsedResult]) -> uuid.UUID:
    """A digest of a call's results as Heify gave them (each one's name, pass/fail and value, in Heify's order),
    as a name-based UUID (version 5: 122 bits of SHA-1): what the upsert keeps on the call
    (Transcription.results_key), so that what-if counts calls by their results without reading their rows. Calls
    with the same results have the same key, whatever revision pins them."""
    text = json.dumps([[result.name, result.passed, result.value] for result in parsed], separators=(",", ":"))
    return uuid.uuid5(uuid.NAMESPACE_OID, text)


def _first_of_each_name(criteria: Iterable[dict] | None) -> dict[str, dict]:
    by_name: dict[str, dict] = {}
    for criterion in criteria or ():
        by_name.setdefault(criterion["name"], criterion)
    return by_name


def _weight(criterion: dict) -> Decimal:
    return Decimal(str(criterion["weight"])).quantize(Decimal("0.01"))


def _pins(criteria: list[dict] | None) -> dict[str, tuple[str, Decimal]]:
    """A revision's criteria as its results are pinned to them: name -> (type, weight), the first of a name."""
    return {name: (criterion["type"], _weight(criterion)) for name, criterion in _first_of_each_name(criteria).items()}


def pinned_rows(parsed: Iterable[ParsedResult], *, revision: int | None, criteria: list[dict] | None,
                seen: dict | None = None) -> list[dict]:
    """CriterionResult field values for a call's results, pinned to the revision that scored it: its number and
    its criteria ([{name, type, weight, ...}] as EvaluatorRevision.criteria holds them), or None and None.

    `seen` (a dict the caller keeps for a batch of calls) holds each revision's pins from one call to the next:
    the calls of a page share a few revisions, whose weights are then read once, and each result of a criterion
    carries the one same Decimal (which syncer.mirror.insert_rows prepares once)."""
    if revision is None or not criteria:
        pins = {}
    elif seen is None:
        pins = _pins(criteria)
    else:  # by the list's identity: the entry keeps the list alive, so no other list takes its id meanwhile
        kept = seen.get(id(criteria))
        if kept is None:
            kept = seen[id(criteria)] = (criteria, _pins(criteria))
        pins = kept[1]
    rows = []
    for result in parsed:
        kind, weight = pins.get(result.name, ("", None))
        rows.append({
            "position": result.position, "name": result.name, "passed": result.passed, "value": result.value,
            "revision": revision, "type": kind, "weight": weight,
        })
    return rows


# --- writes -------------------------------------------------------------------------------------------------


def criterion_results_pin(*, calls: QuerySet, revision: int | None, criteria: list[dict] | None) -> int:
    """Pin the results of `calls` (a Transcription queryset) to another revision, in one UPDATE: qa.mirror.revisions
    calls it for the calls a revision it recorded or forgot now scores. Returns the rows changed."""
    results = CriterionResult.objects.filter(transcription__in=calls.values("pk"))
    by_name = _first_of_each_name(criteria if revision is not None else None)
    if not by_name:
        changed = results.update(revision=revision, type="", weight=None)
    else:
        changed = results.update(
            revision=revision,
            type=Case(*(When(name=name, then=Value(c["type"])) for name, c in by_name.items()), default=Value(""),
                      output_field=models.CharField()),
            weight=Case(*(When(name=name, then=Value(_weight(c))) for name, c in by_name.items()), default=None,
                        output_field=models.DecimalField(max_digits=5, decimal_places=2)),
        )
    if changed:
        results_changed.send(sender=CriterionResult, calls=calls)
    return changed


# --- reads --------------------------------------------------------------------------------------------------


def ai_passed(*, call: str, name: str) -> Subquery:
    """An annotation: the AI's pass/fail on the criterion named by the outer field `name`, of the call the outer
    field `call` holds the id of; None when that call has no result for it that says (the last of a name, as
    Heify listed them, counts)."""
    return Subquery(
        CriterionResult.objects.filter(transcription=OuterRef(call), name=OuterRef(name), passed__isnull=False)
        .order_by("-position").values("passed")[:1],
        output_field=models.BooleanField(null=True))


def call_result_names(results: Iterable[CriterionResult]) -> list[str]:
    """The criteria a call has results for, each once, in Heify's order."""
    return list(dict.fromkeys(result.name for result in results))


def call_ai_verdicts(results: Iterable[CriterionResult]) -> dict[str, bool]:
    """Criterion name -> the AI's pass/fail, for the results that say (the last of a name wins)."""
    return {result.name: result.passed for result in results if result.passed is not None}


def results_of_calls(call_ids, *, names: Iterable[str] | None = None) -> QuerySet:
    """The results of the calls `call_ids` (ids or a subquery of them), optionally only those named `names`,
    each call's in Heify's order."""
    results = CriterionResult.objects.filter(transcription_id__in=call_ids)
    if names is not None:
        results = results.filter(name__in=list(names))
    return results.order_by("transcription_id", "position")



# A call's results as scored, read as one text (what-if reads one call's for each results key and revision, the score
# of record each reviewed call's): ((name, passed, value, type, weight), ...) in Heify's order.
Pattern = tuple[tuple[str, bool | None, int | None, str, float | None], ...]
PATTERN_COLUMNS = ("position", "name", "passed", "value", "type", "weight")


class _ResultsAsJSON(models.Aggregate):
    """The results aggregated into a JSON array of [position, name, passed, value, type, weight] (as text), in
    whatever order the database reads them: `pattern` puts them in Heify's order."""

    output_field = models.TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="json_group_array",
                           template="%(function)s(json_array(%(expressions)s))", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="json_agg",
                           template="%(function)s(json_build_array(%(expressions)s))::text", **extra)


def _each_calls_pattern(results: QuerySet) -> QuerySet:
    return results.order_by().values("transcription").annotate(
        pattern=_ResultsAsJSON(*(F(c) for c in PATTERN_COLUMNS)))


def results_pattern() -> Subquery:
    """An annotation for Transcription querysets: the call's results as one text (`pattern` reads it), or None
    when it has none; calls with the same results, as scored, have the same text."""
    return Subquery(_each_calls_pattern(CriterionResult.objects.filter(transcription=OuterRef("pk"))).values(
        "pattern"), output_field=models.TextField())


def patterns_of(call_ids) -> QuerySet:
    """`results_pattern` of the calls `call_ids` (ids or a subquery of them), read together: values of
    `transcription` and `pattern`, one per call that has results."""
    return _each_calls_pattern(CriterionResult.objects.filter(transcription_id__in=call_ids))


def scored_criteria(pattern: Pattern) -> list[dict]:
    """The criteria that scored the call ({name, type, weight}), as its results are pinned with them (the first of
    a name); none where no revision here scored it."""
    criteria: dict[str, dict] = {}
    for name, _, _, kind, weight in pattern:
        if kind:
            criteria.setdefault(name, {"name": name, "type": kind, "weight": weight})
    return list(criteria.values())


def pattern(text: str | None) -> Pattern:
    """`results_pattern`'s text (our own aggregate, not Heify's JSON) as the results it holds, in Heify's order."""
    rows = sorted(json.loads(text)) if text else []
    return tuple((name, None if passed is None else bool(passed), value, kind,
                  None if weight is None else float(weight)) for _, name, passed, value, kind, weight in rows)
