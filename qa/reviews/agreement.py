"""Agreement between the AI and the reviewers: rates, Cohen's kappa with its 95% interval, disagreements.

The AI's result on a criterion is the call's (its typed results,
qa.mirror.criterion_results); the reviewer's is their verdict's result
(qa.reviews.models.CriterionVerdict `passed` and `value`, recorded by
qa.reviews.queues). Per criterion, over the evaluator's calls in a date range,
the two are compared as two raters of the same items:
  - pass/fail, on every criterion: Cohen's kappa;
  - the value (1-5), on scale criteria: Cohen's quadratic-weighted kappa, over
    the verdicts where both values are known. The AI's value is known where
    its result carries it or its score settles it (qa.reviews.record.ai_values,
    as the score of record reads it); the reviewer's where they gave one, or,
    for an agreement, the AI's.
A verdict differs from the AI when the pass/fail differs, or both values are
known and differ.

The statistics are written out here, not taken from a library (the tests check
them against scikit-learn's `cohen_kappa_score` and statsmodels'
`cohens_kappa` and `fleiss_kappa`):
  - Cohen's kappa: κ = (po − pe) / (1 − pe), po the observed agreement, pe
    the agreement expected by chance from each rater's own pass rate, with
    Cohen's standard error, the usual large-sample one:
    SE = √(po (1 − po) / (n (1 − pe)²));
  - the quadratic-weighted kappa (`weighted_kappa`), with the large-sample
    standard error of Fleiss, Cohen & Everitt (1969);
  - Fleiss' kappa (`fleiss_kappa`), the same idea for more than two raters,
    and Krippendorff's alpha at the interval level (`interval_alpha`), for
    values given by any number of raters, some missing: both used by
    calibration sessions (qa.reviews.calibration), checked against statsmodels'
    `fleiss_kappa` and the `krippendorff` package.
Intervals are 95%, κ ± 1.96 SE, cut to [−1, 1], kappa's own range.
A kappa that cannot be computed (no reviewed calls; both raters gave one
same answer on every call, so pe = 1) is None with the reason, never NaN.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from qa.mirror import criterion_results, report_rules, rules
from qa.mirror.models import Evaluator, Transcription
from qa.reviews import record
from qa.reviews.models import CriterionVerdict, Dispute

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile
PLACES = 3
SCALE_VALUES = tuple(range(rules.SCALE_MIN, rules.SCALE_MAX + 1))


@dataclass(frozen=True)
class Kappa:
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    reason: str = ""  # why value is None


def cohen_kappa(table: Sequence[Sequence[int]], *, labels: Sequence[str] = ("pass", "fail")) -> Kappa:
    """Cohen's kappa of two raters from their k×k table (rows: rater A's answer, columns: rater B's)."""
    k = len(table)
    n = sum(sum(row) for row in table)
    if n == 0:
        return Kappa(None, reason=gettext("no reviewed calls"))
    po = sum(table[i][i] for i in range(k)) / n
    rows = [sum(table[i]) / n for i in range(k)]
    columns = [sum(table[i][j] for i in range(k)) / n for j in range(k)]
    pe = sum(r * c for r, c in zip(rows, columns, strict=True))
    if pe >= 1:
        answer = labels[rows.index(1)] if 1 in rows else "the same"
        return Kappa(None, reason=gettext("both answered %(answer)r on every call: agreement beyond chance cannot be "
                                      "measured") % {"answer": answer})
    kappa = (po - pe) / (1 - pe)
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
    return Kappa(
        round(kappa, PLACES), round(max(-1.0, kappa - Z_95 * se), PLACES), round(min(1.0, kappa + Z_95 * se), PLACES)
    )


def weighted_kappa(table: Sequence[Sequence[int]], *, labels: Sequence = SCALE_VALUES) -> Kappa:
    """Cohen's quadratic-weighted kappa of two raters on an ordered scale of k equally spaced values, from their
    k×k table (rows: rater A's value, columns: rater B's; row and column i are the scale's i-th value, `labels`).

    Agreement weights w_ij = 1 − (i − j)² / (k − 1)²; p_ij the table's shares, p_i. and p_.j its margins;
    po = Σ w_ij p_ij, pe = Σ w_ij p_i. p_.j, κw = (po − pe) / (1 − pe) (the weights are on the values, the
    whole scale, whichever values were given). The standard error is the large-sample one of Fleiss, Cohen &
    Everitt (1969) (Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions, 3rd ed., §18.1; SAS's
    "ASE"), with w̄_i. = Σ_j p_.j w_ij and w̄_.j = Σ_i p_i. w_ij:
        Var(κw) = [Σ p_ij (w_ij − (w̄_i. + w̄_.j)(1 − κw))² − (κw − pe (1 − κw))²] / (n (1 − pe)²).
    """
    k = len(table)
    n = sum(sum(row) for row in table)
    if n == 0:
        return Kappa(None, reason=gettext("no reviewed calls with both values known"))
    weights = [[1 - (i - j) ** 2 / (k - 1) ** 2 for j in range(k)] for i in range(k)]
    shares = [[table[i][j] / n for j in range(k)] for i in range(k)]
    rows = [sum(shares[i]) for i in range(k)]
    columns = [sum(shares[i][j] for i in range(k)) for j in range(k)]
    po = sum(weights[i][j] * shares[i][j] for i in range(k) for j in range(k))
    pe = sum(weights[i][j] * rows[i] * columns[j] for i in range(k) for j in range(k))
    if pe >= 1 - 1e-12:
        answer = labels[rows.index(max(rows))]
        return Kappa(None, reason=gettext("both gave %(answer)s on every call: agreement beyond chance cannot be "
                                          "measured") % {"answer": answer})
    kappa = (po - pe) / (1 - pe)
    row_means = [sum(columns[j] * weights[i][j] for j in range(k)) for i in range(k)]
    column_means = [sum(rows[i] * weights[i][j] for i in range(k)) for j in range(k)]
    spread = sum(shares[i][j] * (weights[i][j] - (row_means[i] + column_means[j]) * (1 - kappa)) ** 2
                 for i in range(k) for j in range(k))
    variance = max(0.0, (spread - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2))
    se = math.sqrt(variance)
    return Kappa(
        round(kappa, PLACES), round(max(-1.0, kappa - Z_95 * se), PLACES), round(min(1.0, kappa + Z_95 * se), PLACES)
    )


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> Kappa:
    """Fleiss' kappa of m raters on N subjects: counts[i][j] is how many raters put subject i in category j.

    p_j = Σ_i n_ij / (N m); P_i = (Σ_j n_ij² − m) / (m (m − 1)); κ = (P̄ − P̄e) / (1 − P̄e), P̄ the mean P_i and
    P̄e = Σ_j p_j². Every subject must have the same number of raters. No interval: calibration sessions
    are a handful of calls, where the large-sample one would mislead.
    """
    subjects = [list(row) for row in counts]
    if not subjects:
        return Kappa(None, reason=gettext("no calls"))
    raters = sum(subjects[0])
    if any(sum(row) != raters for row in subjects):
        return Kappa(None, reason=gettext("not every call has the same number of answers"))
    if raters < 2:
        return Kappa(None, reason=gettext("fewer than two raters"))
    n = len(subjects)
    shares = [sum(row[j] for row in subjects) / (n * raters) for j in range(len(subjects[0]))]
    observed = sum((sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in subjects) / n
    expected = sum(p * p for p in shares)
    if expected >= 1:
        return Kappa(None, reason=gettext("every rater gave the same answer on every call: agreement beyond "
                                          "chance cannot be measured"))
    return Kappa(round((observed - expected) / (1 - expected), PLACES))


@dataclass(frozen=True)
class Alpha:
    value: float | None
    reason: str = ""  # why value is None


def interval_alpha(units: Sequence[Sequence[float | None]]) -> Alpha:
    """Krippendorff's alpha at the interval level: units[u] the values the raters gave unit u, None where one gave
    none (any number of raters, any of them missing).

    Only the values of units with two values or more can be paired; n is their number, m_u a unit's. With the
    interval metric δ(v, v') = (v − v')², D_o = (1/n) Σ_u Σ_{i≠j in u} δ / (m_u − 1) is the disagreement seen
    within units and D_e = Σ_{i≠j among all n} δ / (n (n − 1)) the one expected by chance; α = 1 − D_o / D_e
    (1: perfect, 0: no better than chance, below 0: worse). Sums over pairs use Σ_{i≠j} (v_i − v_j)² =
    2 (m Σ v² − (Σ v)²). No interval: calibration sessions are a handful of calls.
    """
    pairable = [[v for v in unit if v is not None] for unit in units]
    pairable = [unit for unit in pairable if len(unit) >= 2]
    if not pairable:
        return Alpha(None, reason=gettext("no call has two answers or more"))

    def pair_sum(values: list[float]) -> float:
        return 2 * (len(values) * sum(v * v for v in values) - sum(values) ** 2)

    everything = [v for unit in pairable for v in unit]
    n = len(everything)
    expected = pair_sum(everything) / (n * (n - 1))
    if expected == 0:
        return Alpha(None, reason=gettext("every answer was the same value: agreement beyond chance cannot be "
                                          "measured"))
    observed = sum(pair_sum(unit) / (len(unit) - 1) for unit in pairable) / n
    return Alpha(round(1 - observed / expected, PLACES))


# --- the report --------------------------------------------------------------------------------------


EARLIEST, LATEST = date(1971, 1, 1), date(9998, 12, 31)  # as the analytics' as_of: a day later still exists


def clean_dates(date_from: date | None, date_to: date | None) -> None:
    """A date range of calls (either end optional); a ValidationError naming each bad end."""
    errors = {}
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value is not None and not EARLIEST <= value <= LATEST:
            errors[name] = gettext("%(field)s must be a date between %(earliest)s and %(latest)s.") % {
                "field": name, "earliest": EARLIEST, "latest": LATEST}
    if not errors and date_from and date_to and date_from > date_to:
        errors["date_to"] = gettext("date_to must not be before date_from.")
    if errors:
        raise ValidationError(errors)


def _rate(part: int, whole: int) -> int | float | None:
    return report_rules.rate_figure(part, whole) if whole else None


def _ai_results(calls) -> dict[int, dict[str, tuple[bool | None, int | None, str]]]:
    """Call pk -> criterion name -> the AI's (passed, value where known, type as scored), for `calls` (a
    Transcription queryset), read in one query; calls with the same results and score are worked out once."""
    worked: dict[tuple, dict] = {}
    found = {}
    for pk, score, text in calls.annotate(pattern=criterion_results.results_pattern()).values_list(
            "pk", "score", "pattern"):
        if (score, text) not in worked:
            pattern = criterion_results.pattern(text)
            values = record.ai_values(pattern, ai_score=score)
            kinds: dict[str, str] = {}
            for name, _, _, kind, _ in pattern:
                kinds.setdefault(name, kind)
            worked[(score, text)] = {name: (passed, values.get(name), kinds[name])
                                     for name, (passed, _) in record.ai_results(pattern).items()}
        found[pk] = worked[(score, text)]
    return found


def _value_table() -> list[list[int]]:
    return [[0] * len(SCALE_VALUES) for _ in SCALE_VALUES]


def evaluator_agreement(*, evaluator: Evaluator, date_from: date | None = None, date_to: date | None = None) -> dict:
    """Per criterion and per reviewer: how the reviewers' results compare with the AI's (calls dated in the range,
    inclusive, UTC). A criterion is on the 1-5 scale when the evaluator's criterion is, or the revision that scored
    any of the calls had it so."""
    clean_dates(date_from, date_to)
    calls = Transcription.objects.filter(evaluator_id=evaluator.heify_id)
    if date_from:
        calls = calls.filter(occurred_at__gte=datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to:
        calls = calls.filter(occurred_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC))
    verdicts = CriterionVerdict.objects.filter(transcription__in=calls)
    ai = _ai_results(Transcription.objects.filter(pk__in=verdicts.values("transcription_id")))
    rows = verdicts.values_list("transcription_id", "transcription__heify_id", "criterion_name", "agrees", "passed",
                                "value", "reason", "reviewer__username").order_by("transcription_id", "criterion_name")
    order, scale = [], set()
    for name, kind in evaluator.criteria.order_by("position", "id").values_list("name", "type"):
        order.append(name)
        if kind == rules.SCALE:
            scale.add(name)
    tables = defaultdict(lambda: [[0, 0], [0, 0]])  # criterion -> [AI pass, AI fail] x [reviewer pass, fail]
    values = defaultdict(_value_table)  # criterion -> AI's value x reviewer's value (1-5)
    values_unknown = defaultdict(int)  # criterion -> verdicts where either value is unknown
    disagreements = defaultdict(list)
    people = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # reviewer -> criterion -> [reviewed, disagree]
    unmatched = 0
    for pk, heify_id, name, agrees, passed, value, reason, reviewer in rows:
        ai_passed, ai_value, kind = ai.get(pk, {}).get(name, (None, None, ""))
        if ai_passed is None or passed is None:
            unmatched += 1  # the call has no pass/fail of the AI for it any more: nothing to compare
            continue
        if value is None and agrees and passed == ai_passed:
            value = ai_value  # an agreement is the AI's result, its value too (as the score of record takes it)
        if kind == rules.SCALE:
            scale.add(name)
        tables[name][0 if ai_passed else 1][0 if passed else 1] += 1
        if value is not None and ai_value is not None:
            values[name][ai_value - rules.SCALE_MIN][value - rules.SCALE_MIN] += 1
        else:
            values_unknown[name] += 1
        person = people[reviewer or ""][name]
        person[0] += 1
        if passed != ai_passed or (value is not None and ai_value is not None and value != ai_value):
            person[1] += 1
            disagreements[name].append({"transcription_id": heify_id, "pk": pk, "reviewer": reviewer,
                                        "ai_passed": ai_passed, "ai_value": ai_value, "reviewer_passed": passed,
                                        "reviewer_value": value, "reason": reason})
    names = [n for n in order if n in tables] + sorted(n for n in tables if n not in order)
    criteria = [_criterion(name, tables[name], values[name] if name in scale else None, values_unknown[name],
                           disagreements[name]) for name in names]
    reviewers = []
    disputed = _disputes_by_reviewer(calls)
    for reviewer in disputed:
        people.setdefault(reviewer, defaultdict(lambda: [0, 0]))  # their verdicts replaced by upheld disputes
    for reviewer, by_criterion in sorted(people.items()):
        reviewed = sum(r for r, _ in by_criterion.values())
        disagree = sum(d for _, d in by_criterion.values())
        resolved, upheld = disputed.get(reviewer, (0, 0))
        reviewers.append({
            "reviewer": reviewer or None, "reviewed": reviewed, "disagree": disagree,
            "disagreement_rate": _rate(disagree, reviewed),
            "disputes_resolved": resolved, "disputes_upheld": upheld, "upheld_dispute_rate": _rate(upheld, resolved),
            "criteria": [{"name": name, "reviewed": r, "disagree": d, "disagreement_rate": _rate(d, r)}
                         for name, (r, d) in sorted(by_criterion.items(), key=lambda item: names.index(item[0]))],
        })
    return {
        "evaluator_id": evaluator.heify_id,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
        "criteria": criteria,
        "reviewers": reviewers,
        "verdicts_without_ai_result": unmatched,
    }


def _disputes_by_reviewer(calls) -> dict[str, tuple[int, int]]:
    """Reviewer (username, "" for a former user) -> (disputes resolved, upheld) of the results they gave on `calls`:
    a calibration signal (how often an agent was right against them)."""
    found: dict[str, tuple[int, int]] = {}
    rows = Dispute.objects.filter(transcription__in=calls).exclude(status=Dispute.Status.OPEN).values_list(
        "reviewer__username", "status")
    for reviewer, status in rows:
        resolved, upheld = found.get(reviewer or "", (0, 0))
        found[reviewer or ""] = (resolved + 1, upheld + (status == Dispute.Status.UPHELD))
    return found


def _criterion(name: str, table: list[list[int]], values: list[list[int]] | None, values_unknown: int,
               disagreements: list[dict]) -> dict:
    """One criterion's row of the report: pass/fail always; on a scale criterion (`values` its table), the values
    too (None where the criterion is not on the scale)."""
    reviewed = sum(map(sum, table))
    agree = table[0][0] + table[1][1]
    kappa = cohen_kappa(table)
    found = {
        "name": name, "reviewed": reviewed, "agree": agree, "agreement_rate": _rate(agree, reviewed),
        "kappa": kappa.value, "kappa_ci_low": kappa.ci_low, "kappa_ci_high": kappa.ci_high,
        "kappa_undefined_reason": kappa.reason or None,
        "table": {"ai_pass_reviewer_pass": table[0][0], "ai_pass_reviewer_fail": table[0][1],
                  "ai_fail_reviewer_pass": table[1][0], "ai_fail_reviewer_fail": table[1][1]},
        "scale": values is not None,
        "values_compared": None, "values_unknown": None, "same_value": None, "same_value_rate": None,
        "weighted_kappa": None, "weighted_kappa_ci_low": None, "weighted_kappa_ci_high": None,
        "weighted_kappa_undefined_reason": None, "value_table": None,
        "disagreements": disagreements,
    }
    if values is not None:
        compared = sum(map(sum, values))
        same = sum(values[i][i] for i in range(len(values)))
        weighted = weighted_kappa(values)
        found.update({
            "values_compared": compared, "values_unknown": values_unknown, "same_value": same,
            "same_value_rate": _rate(same, compared),
            "weighted_kappa": weighted.value, "weighted_kappa_ci_low": weighted.ci_low,
            "weighted_kappa_ci_high": weighted.ci_high, "weighted_kappa_undefined_reason": weighted.reason or None,
            "value_table": values,
        })
    return found
