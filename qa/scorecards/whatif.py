"""What-if: an evaluator's past calls rescored with criteria that are not saved yet.

Nothing is written here or sent to Heify. The criteria are checked by the rule
a save applies (qa.mirror.rules.clean_criteria: same messages), and every score is
computed by the score rule itself (qa.mirror.rules.evaluation_score, notes section
4), never by a copy of it. The pass rule, the buckets and the rounding are the
participant report's (qa.insights.analytics).

What a call tells us is each criterion's pass/fail (its typed results,
qa.mirror.criterion_results). That is all a boolean or strict criterion needs.
A scale criterion adds value/5 × weight, so its value (1-5) must be known to
rescore exactly:
  - a result that carries `value` gives it;
  - else, when exactly one scale value of the call is unknown, the call's own
    score determines it: of the values its pass/fail allows (passed: 3-5,
    failed: 1-2), the one that reproduces the score under the revision that
    scored the call (the type and weight each result is pinned with), if
    exactly one does;
  - otherwise the value is bounded by its pass/fail, the call's new score is a
    range (lowest and highest values), and the call counts in `inexact_calls`.
A criterion of the new set that a call has no result for is not evaluated for
that call: it adds nothing and fails nothing, and the answer says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models.expressions import RawSQL
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from qa.mirror import criterion_results, report_rules, revisions, rules
from qa.mirror.models import Evaluator, Participant, Transcription
from qa.mirror.rules import Status
from qa.reviews import agreement

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 100_000
MOST_AFFECTED = 10


@dataclass(frozen=True)
class Rescore:
    low: float
    high: float
    critical: bool
    missing: tuple[str, ...]  # criteria of the new set the call has no result for

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @property
    def estimate(self) -> float:
        return (self.low + self.high) / 2


def _results(pattern: criterion_results.Pattern) -> dict[str, tuple[bool, int | None]]:
    """name -> (passed, value carried or None), for the results that say pass or fail."""
    found = {}
    for name, passed, value, *_rest in pattern:
        if passed is not None:
            low, high = rules.SCALE_RANGE[passed]
            found[name] = (passed, value if value is not None and low <= value <= high else None)
    return found


def _verdict(criterion: dict, passed: bool, value: int | None) -> bool | int:
    if criterion["type"] != rules.SCALE:
        return passed
    return value if value is not None else rules.SCALE_RANGE[passed][0]


def rescore(new_criteria: list[dict], results: dict, values: dict[str, int]) -> Rescore:
    """One call under the new criteria: exact, or a range when a weighted scale value is unknown."""
    evaluated = [c for c in new_criteria if c["name"] in results]
    low_verdicts, high_verdicts = {}, {}
    for c in evaluated:
        passed = results[c["name"]][0]
        if c["type"] == rules.SCALE and c["name"] not in values:
            low_verdicts[c["name"]], high_verdicts[c["name"]] = rules.SCALE_RANGE[passed]
        else:
            low_verdicts[c["name"]] = high_verdicts[c["name"]] = _verdict(c, passed, values.get(c["name"]))
    low = rules.evaluation_score(evaluated, low_verdicts)
    high = low if high_verdicts == low_verdicts else rules.evaluation_score(evaluated, high_verdicts)
    missing = tuple(c["name"] for c in new_criteria if c["name"] not in results)
    return Rescore(low["score"], high["score"], low["critical_fail_triggered"], missing)


# --- the whole preview -----------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# The newest calls counted by what the preview tells apart: participant, score, critical, and their results as
# scored. Those are the results Heify gave (Transcription.results_key, kept by the upsert) pinned to the revision
# that scored the call (revisions.in_force_spans; 0 for none): calls alike in both have the same result rows
# (criterion_results.pinned_rows), so the rows of one call of each (`alike`) speak for all of them, and a few
# hundred calls' rows are read, not every call's. Each part is computed once (MATERIALIZED, on both databases).
_FORM = """
    WITH newest AS MATERIALIZED ({newest}),
    spans AS MATERIALIZED ({spans}),
    counted AS MATERIALIZED (
        SELECT c.participant_id, c.score, c.critical_fail_triggered, c.results_key,
               COALESCE(s.number, 0) AS revision, COUNT(*) AS calls, MIN(c.id) AS call_id
        FROM newest AS c LEFT JOIN spans AS s ON {span_holds}
        GROUP BY c.participant_id, c.score, c.critical_fail_triggered, c.results_key, COALESCE(s.number, 0)),
    alike AS MATERIALIZED (SELECT results_key, revision, MIN(call_id) AS call_id FROM counted
                           GROUP BY results_key, revision),
    patterns AS MATERIALIZED ({patterns})
    SELECT c.participant_id, c.score, c.critical_fail_triggered, p.pattern, c.calls
    FROM counted AS c JOIN alike AS a ON a.results_key = c.results_key AND a.revision = c.revision
    LEFT JOIN patterns AS p ON p.transcription_id = a.call_id"""


def scored_calls(evaluator: Evaluator, *, limit: int, date_from: date | None, date_to: date | None):
    """The evaluator's newest completed, scored calls (dates inclusive, UTC), grouped by what the preview needs:
    (participant_id, score, critical, results pattern as text, how many calls), in one query (`_FORM`).

    Each call's results come as one text (criterion_results.pattern reads it); each result carries the type and
    weight that scored it, so no revision's criteria are looked up.
    """
    calls = Transcription.objects.filter(
        evaluator_id=evaluator.heify_id, status=Status.COMPLETED, score__isnull=False,
    )
    if date_from:
        calls = calls.filter(occurred_at__gte=_day_start(date_from))
    if date_to:
        calls = calls.filter(occurred_at__lt=_day_start(date_to + timedelta(days=1)))
    newest = calls.order_by("-occurred_at", "-id").annotate(moment=revisions.scored_at()).values(
        "id", "participant_id", "score", "critical_fail_triggered", "results_key", "moment")[:limit]
    parts = {"newest": newest, "spans": revisions.in_force_spans(evaluator),
             "patterns": criterion_results.patterns_of(RawSQL("SELECT call_id FROM alike", ())).values(
                 "transcription_id", "pattern")}
    sql, params = {}, []
    for name, queryset in parts.items():
        sql[name], part_params = queryset.query.sql_with_params()
        params.extend(part_params)
    sql["span_holds"] = revisions.SPAN_HOLDS.format(span="s", moment="c.moment")
    # Read straight from the cursor: Django's per-row converters are not needed (critical is counted as 0/1 or
    # False/True alike).
    with connections[newest.db].cursor() as cursor:
        cursor.execute(_FORM.format(**sql), params)
        return cursor.fetchall()


def clean_query(*, limit=None, date_from=None, date_to=None) -> dict:
    """The preview's options; a ValidationError naming each bad one."""
    errors = {}
    if limit is None:
        limit = DEFAULT_LIMIT
    elif isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = _("limit must be a whole number from 1 to %(most)s, not %(given)r.") % {
            "most": formats.number_format(MAX_LIMIT, force_grouping=True), "given": limit}
    try:
        agreement.clean_dates(date_from, date_to)
    except ValidationError as exc:
        errors.update({name: messages[0] for name, messages in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return {"limit": limit, "date_from": date_from, "date_to": date_to}


def evaluator_what_if(
    *, evaluator: Evaluator, criteria: list, limit: int | None = None, date_from: date | None = None,
    date_to: date | None = None,
) -> dict:
    """Rescore the evaluator's newest scored calls with `criteria`; changes nothing."""
    errors = {}
    try:
        cleaned, notices = rules.clean_criteria(criteria if isinstance(criteria, list) else [])
    except ValidationError as exc:
        errors.update(exc.message_dict)
        cleaned, notices = [], []
    if not isinstance(criteria, list):
        errors["criteria"] = [_("criteria must be a list of the evaluator's criteria.")]
    try:
        query = clean_query(limit=limit, date_from=date_from, date_to=date_to)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    config = report_rules.ReportSettings.current()
    new = [{"name": c["name"], "type": c["type"], "weight": c["weight"]} for c in cleaned]
    # Calls share few patterns (the same results, as scored, and score): each is worked out once, and the figures
    # are added up over (score, critical, pattern) and per participant, not per call.
    memo: dict[tuple, Rescore] = {}
    calls: dict[tuple, int] = defaultdict(int)
    people: dict[str | None, list] = {}
    for participant_id, score, critical, pattern_text, n in scored_calls(evaluator, **query):
        key = (score, pattern_text)
        r = memo.get(key)
        if r is None:
            pattern = criterion_results.pattern(pattern_text)
            results = _results(pattern)
            scored_with = criterion_results.scored_criteria(pattern)
            r = memo[key] = rescore(new, results, rules.known_scale_values(scored_with, results, score))
        calls[(score, bool(critical), key)] += n
        person = people.get(participant_id)
        if person is None:
            person = people[participant_id] = [0, 0.0, 0.0, 0]  # calls, sum before, sum after, inexact
        person[0] += n
        person[1] += score * n
        person[2] += r.estimate * n
        person[3] += (not r.exact) * n
    rows = [(score, critical, memo[key], n) for (score, critical, key), n in calls.items()]
    data = _summary(rows, cleaned, notices, query, config.pass_mark)
    return {**data, "participants_most_affected": _most_affected(people), "not_evaluated": data.pop("not_evaluated"),
            "notices": data.pop("notices"), "criteria": data.pop("criteria")}


def _distribution(weighted) -> dict[str, int]:
    counts = {label: 0 for label, _ in report_rules.SCORE_BUCKETS}
    for score, n in weighted:
        counts[report_rules.score_bucket(score)] += n
    return counts


def _mean(total: float, count: int) -> float | int | None:
    return report_rules.mean_figure(total / count) if count else None


def _summary(rows, cleaned, notices, query, pass_mark) -> dict:
    """rows: (score before, critical before, Rescore, number of such calls)."""
    passes = report_rules.passes
    total = sum(n for *_, n in rows)
    sums = defaultdict(float)
    counts = defaultdict(int)
    missing = defaultdict(int)
    for score, critical, r, n in rows:
        was = passes(score, critical, pass_mark)
        at_low, at_high = passes(r.low, r.critical, pass_mark), passes(r.high, r.critical, pass_mark)
        sums["before"] += score * n
        sums["estimate"] += r.estimate * n
        sums["low"] += r.low * n
        sums["high"] += r.high * n
        counts["passed_before"] += was * n
        counts["passed_after"] += passes(r.estimate, r.critical, pass_mark) * n
        counts["passed_low"] += at_low * n
        counts["passed_high"] += at_high * n
        counts["critical_before"] += critical * n
        counts["critical_after"] += r.critical * n
        counts["inexact"] += (not r.exact) * n
        if was and not at_high:
            counts["flipped_to_fail"] += n  # fails whatever the unknown values were
        elif not was and at_low:
            counts["flipped_to_pass"] += n
        elif at_low != at_high:
            counts["uncertain"] += n
        for name in r.missing:
            missing[name] += n
    not_evaluated = [
        {"name": c["name"], "calls": missing[c["name"]],
         "message": (_("%(name)r is in none of these calls' results: there it counts as not evaluated (it adds "
                       "nothing to the score and fails nothing).") if missing[c["name"]] == total else
                     ngettext("%(name)r is missing from %(calls)s of these calls' results: there it counts as not "
                              "evaluated (it adds nothing to the score and fails nothing).",
                              "%(name)r is missing from %(calls)s of these calls' results: there it counts as not "
                              "evaluated (it adds nothing to the score and fails nothing).", missing[c["name"]]))
         % {"name": c["name"], "calls": missing[c["name"]]}}
        for c in cleaned if missing[c["name"]]
    ]
    return {
        "calls": total,
        "limit": query["limit"],
        "date_from": query["date_from"].isoformat() if query["date_from"] else None,
        "date_to": query["date_to"].isoformat() if query["date_to"] else None,
        "pass_mark": pass_mark,
        "avg_score_before": _mean(sums["before"], total),
        "avg_score_after": _mean(sums["estimate"], total),
        "avg_score_after_range": [_mean(sums["low"], total), _mean(sums["high"], total)],
        "pass_rate_before": report_rules.rate_figure(counts["passed_before"], total),
        "pass_rate_after": report_rules.rate_figure(counts["passed_after"], total),
        "pass_rate_after_range": [report_rules.rate_figure(counts["passed_low"], total),
                                  report_rules.rate_figure(counts["passed_high"], total)],
        "critical_fails_before": counts["critical_before"],
        "critical_fails_after": counts["critical_after"],
        "flipped_to_fail": counts["flipped_to_fail"],
        "flipped_to_pass": counts["flipped_to_pass"],
        "flips_uncertain": counts["uncertain"],
        "inexact_calls": counts["inexact"],
        "score_distribution_before": _distribution((score, n) for score, _, _, n in rows),
        "score_distribution_after": _distribution((r.estimate, n) for *_, r, n in rows),
        "not_evaluated": not_evaluated,
        "notices": notices,
        "criteria": [{**c, "weight": float(c["weight"])} for c in cleaned],
    }


def _most_affected(totals: dict) -> list[dict]:
    """totals: participant_id -> [calls, sum of scores before, sum after (estimates), inexact calls]."""
    tags = dict(Participant.all_objects.filter(heify_id__in=[p for p in totals if p]).values_list("heify_id", "tag"))
    people = []
    for participant_id, (calls, before, after, inexact) in totals.items():
        people.append({
            "participant_id": participant_id, "tag": tags.get(participant_id, ""), "calls": calls,
            "avg_score_before": report_rules.mean_figure(before / calls),
            "avg_score_after": report_rules.mean_figure(after / calls),
            "change": report_rules.mean_figure((after - before) / calls),
            "inexact_calls": inexact,
        })
    people.sort(key=lambda p: (-abs(p["change"]), p["tag"], p["participant_id"] or ""))
    return people[:MOST_AFFECTED]
