"""Agreement between the AI and the reviewers: rates, Cohen's kappa with its 95% interval, disagreements.

The AI's pass/fail on a criterion is the call's result (its typed results,
qa.mirror.criterion_results);
the reviewer's is the same when their verdict agrees and the opposite when it
does not (qa.reviews.models.CriterionVerdict, recorded by qa.reviews.queues). Per criterion,
over the evaluator's calls in a date range, the two are compared as two
raters of the same items.

The statistics are written out here, not taken from a library:
  - Cohen's kappa: κ = (po − pe) / (1 − pe), po the observed agreement, pe
    the agreement expected by chance from each rater's own pass rate;
  - Fleiss' kappa (`fleiss_kappa`), the same idea for more than two raters,
    used by calibration sessions (qa.reviews.calibration);
  - Cohen's standard error, the usual large-sample one:
    SE = √(po (1 − po) / (n (1 − pe)²)), and the 95% interval κ ± 1.96 SE,
    cut to [−1, 1], kappa's own range.
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

from qa.mirror import criterion_results, report_rules
from qa.mirror.models import Evaluator, Transcription
from qa.reviews.models import CriterionVerdict

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile
PLACES = 3


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
        return Kappa(None, reason="no reviewed calls")
    po = sum(table[i][i] for i in range(k)) / n
    rows = [sum(table[i]) / n for i in range(k)]
    columns = [sum(table[i][j] for i in range(k)) / n for j in range(k)]
    pe = sum(r * c for r, c in zip(rows, columns, strict=True))
    if pe >= 1:
        answer = labels[rows.index(1)] if 1 in rows else "the same"
        return Kappa(None, reason=f"both answered {answer!r} on every call: agreement beyond chance cannot be measured")
    kappa = (po - pe) / (1 - pe)
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
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
        return Kappa(None, reason="no calls")
    raters = sum(subjects[0])
    if any(sum(row) != raters for row in subjects):
        return Kappa(None, reason="not every call has the same number of answers")
    if raters < 2:
        return Kappa(None, reason="fewer than two raters")
    n = len(subjects)
    shares = [sum(row[j] for row in subjects) / (n * raters) for j in range(len(subjects[0]))]
    observed = sum((sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in subjects) / n
    expected = sum(p * p for p in shares)
    if expected >= 1:
        return Kappa(None, reason="every rater gave the same answer on every call: agreement beyond chance "
                                  "cannot be measured")
    return Kappa(round((observed - expected) / (1 - expected), PLACES))


# --- the report --------------------------------------------------------------------------------------


EARLIEST, LATEST = date(1971, 1, 1), date(9998, 12, 31)  # as the analytics' as_of: a day later still exists


def clean_dates(date_from: date | None, date_to: date | None) -> None:
    """A date range of calls (either end optional); a ValidationError naming each bad end."""
    errors = {}
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value is not None and not EARLIEST <= value <= LATEST:
            errors[name] = f"{name} must be a date between {EARLIEST} and {LATEST}."
    if not errors and date_from and date_to and date_from > date_to:
        errors["date_to"] = "date_to must not be before date_from."
    if errors:
        raise ValidationError(errors)


def _rate(part: int, whole: int) -> int | float | None:
    return report_rules.rate_figure(part, whole) if whole else None


def evaluator_agreement(*, evaluator: Evaluator, date_from: date | None = None, date_to: date | None = None) -> dict:
    """Per criterion and per reviewer: how the reviewers' verdicts compare with the AI's (calls dated in the range,
    inclusive, UTC)."""
    clean_dates(date_from, date_to)
    calls = Transcription.objects.filter(evaluator_id=evaluator.heify_id)
    if date_from:
        calls = calls.filter(occurred_at__gte=datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to:
        calls = calls.filter(occurred_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC))
    verdicts = (
        CriterionVerdict.objects.filter(transcription__in=calls)
        .select_related("reviewer")
        .annotate(ai=criterion_results.ai_passed(call="transcription_id", name="criterion_name"))
        .values_list("transcription_id", "transcription__heify_id", "ai",
                     "criterion_name", "agrees", "reason", "reviewer__username")
        .order_by("transcription_id", "criterion_name")
    )
    tables = defaultdict(lambda: [[0, 0], [0, 0]])  # criterion -> [AI pass, AI fail] x [reviewer pass, fail]
    disagreements = defaultdict(list)
    people = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # reviewer -> criterion -> [reviewed, disagree]
    unmatched = 0
    for pk, heify_id, ai, name, agrees, reason, reviewer in verdicts:
        if ai is None:
            unmatched += 1  # the call has no pass/fail of the AI for it any more: nothing to compare
            continue
        human = ai if agrees else not ai
        tables[name][0 if ai else 1][0 if human else 1] += 1
        person = people[reviewer or ""][name]
        person[0] += 1
        if not agrees:
            person[1] += 1
            disagreements[name].append({"transcription_id": heify_id, "pk": pk, "reviewer": reviewer,
                                        "ai_passed": ai, "reason": reason})
    order = [c.name for c in evaluator.criteria.order_by("position", "id")]
    names = [n for n in order if n in tables] + sorted(n for n in tables if n not in order)
    criteria = []
    for name in names:
        table = tables[name]
        reviewed = sum(map(sum, table))
        agree = table[0][0] + table[1][1]
        kappa = cohen_kappa(table)
        criteria.append({
            "name": name, "reviewed": reviewed, "agree": agree, "agreement_rate": _rate(agree, reviewed),
            "kappa": kappa.value, "kappa_ci_low": kappa.ci_low, "kappa_ci_high": kappa.ci_high,
            "kappa_undefined_reason": kappa.reason or None,
            "table": {"ai_pass_reviewer_pass": table[0][0], "ai_pass_reviewer_fail": table[0][1],
                      "ai_fail_reviewer_pass": table[1][0], "ai_fail_reviewer_fail": table[1][1]},
            "disagreements": disagreements[name],
        })
    reviewers = []
    for reviewer, by_criterion in sorted(people.items()):
        reviewed = sum(r for r, _ in by_criterion.values())
        disagree = sum(d for _, d in by_criterion.values())
        reviewers.append({
            "reviewer": reviewer or None, "reviewed": reviewed, "disagree": disagree,
            "disagreement_rate": _rate(disagree, reviewed),
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
