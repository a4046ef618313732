"""The participant report as pure functions (layer (b) of qa/insights/analytics.py): the period a report
covers, the inputs a report is built from (`ReportInputs`, from the included calls: `inputs_from_calls`), and
Heify's sections built from them (`build_report`). The per-call rules and rounding are qa/mirror/report_rules.py.

No query and no write: qa/insights/report_query.py reads the inputs from the database, qa/insights/analytics.py
answers the screens and the API.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from statistics import fmean, stdev
from typing import NamedTuple

from django.utils.translation import gettext_lazy

from qa.mirror.report_rules import (
    DURATION_PERCENTILES,
    PENDING_REVIEW,
    SCORE_BUCKETS,
    ReportSettings,
    ScoreSource,
    duration_class,
    figure,
    interpolate,
    mean_figure,
    of_record,
    passes,
    percentile_position,
    plain_number,
    rate_figure,
    score_bucket,
    seconds_shown,
    seconds_shown_sql,
    threshold_seconds,
)


@dataclass(frozen=True)
class Window:
    """Calls dated before `end` count; the comparison's two calendar months (UTC)."""

    as_of: date
    end: datetime  # midnight UTC after as_of: "up to the end of that day"
    month_start: datetime  # the current period: month_start <= date < end
    previous_start: datetime  # the previous period: previous_start <= date < month_start


def report_window(as_of: date) -> Window:
    month_start = datetime(as_of.year, as_of.month, 1, tzinfo=UTC)
    return Window(
        as_of=as_of,
        end=datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC),
        month_start=month_start,
        previous_start=(month_start - timedelta(days=1)).replace(day=1),
    )


def utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


class Call(NamedTuple):
    """One included call, as raw_data shows it. A named tuple: a report makes 20,000 of them, and a frozen
    dataclass took three times as long to make."""

    id: str
    date: datetime
    score: float
    critical: bool
    duration: float | None
    evaluator_id: str | None
    evaluator_tag: str | None
    group: str | None
    status: str
    failed_criteria: list[str]


@dataclass(frozen=True)
class ScoreStats:
    calls: int = 0
    avg_score: float | None = None
    passed: int = 0


@dataclass(frozen=True)
class Totals:
    overall: ScoreStats = ScoreStats()
    critical_fails: int = 0
    pending_critical_reviews: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: {label: 0 for label, _ in SCORE_BUCKETS})
    current: ScoreStats = ScoreStats()
    previous: ScoreStats = ScoreStats()


@dataclass(frozen=True)
class DayStats:
    day: date
    calls: int
    avg_score: float
    critical_fails: int


@dataclass(frozen=True)
class EvaluatorStats:
    id: str | None  # None: the calls scored without an evaluator
    tag: str | None
    calls: int
    avg_score: float
    critical_fails: int
    score_stddev: float | None  # sample standard deviation; None with fewer than 2 calls
    avg_duration: float | None  # None when none of its calls has a duration


@dataclass(frozen=True)
class CriterionFails:
    id: str | None  # the Criterion's Heify id, None when its evaluator does not (or no longer) know the name
    evaluator_id: str | None
    name: str
    fail_count: int


@dataclass(frozen=True)
class DurationStats:
    p25: float | None = None
    p75: float | None = None
    short: ScoreStats = ScoreStats()
    medium: ScoreStats = ScoreStats()
    long: ScoreStats = ScoreStats()


@dataclass(frozen=True)
class ReviewComparison:
    """Both scores over the same included calls (the dashboard's "where they differ"): all of them, and the
    reviewed ones (a reviewer's verdict on them)."""

    reviewed: int = 0
    ai: ScoreStats = ScoreStats()
    record: ScoreStats = ScoreStats()
    ai_reviewed: ScoreStats = ScoreStats()
    record_reviewed: ScoreStats = ScoreStats()


@dataclass(frozen=True)
class ReportInputs:
    raw_data: list[dict]  # every included call, newest first, as raw_data shows it (the trend's sample is its head)
    query_limit_reached: bool = False
    totals: Totals = Totals()
    timeline: list[DayStats] = field(default_factory=list)
    evaluators: list[EvaluatorStats] = field(default_factory=list)
    criteria: list[CriterionFails] = field(default_factory=list)
    durations: DurationStats = DurationStats()
    review: ReviewComparison | None = None  # only when asked for (the dashboard)


def kpis_section(totals: Totals) -> dict:
    return {
        "total_calls": totals.overall.calls,
        "avg_score": mean_figure(totals.overall.avg_score),
        "pass_rate": rate_figure(totals.overall.passed, totals.overall.calls),
        "total_critical_fails": totals.critical_fails,
        "pending_critical_reviews": totals.pending_critical_reviews,
    }


def timeline_section(days: Iterable[DayStats]) -> list[dict]:
    return [
        {"date": d.day.isoformat(), "avg_score": figure(d.avg_score), "volume": d.calls,
         "critical_fails": d.critical_fails}
        for d in sorted(days, key=lambda d: d.day)
    ]


def evaluators_section(rows: Iterable[EvaluatorStats]) -> list[dict]:
    # Calls scored without an evaluator are left out of this section (they count everywhere else): a row
    # stands for an evaluator, and Heify's example has no row without one. An evaluator the mirror does not
    # know (deleted in Heify) keeps its row, with no tag.
    # By tag, then id: the example lists "evaluador temporal" before "pitch temporal".
    ordered = sorted((r for r in rows if r.id is not None), key=lambda r: (r.tag is None, r.tag or "", r.id))
    return [
        {
            "id": r.id,
            "tag": r.tag,
            "calls": r.calls,
            "avg_score": figure(r.avg_score),
            "critical_fails": r.critical_fails,
            "critical_fail_rate": rate_figure(r.critical_fails, r.calls),
            "consistency": figure(r.score_stddev, 2) if r.calls >= 2 and r.score_stddev is not None else 0,
            "avg_duration": seconds_shown(r.avg_duration),
        }
        for r in ordered
    ]


def criteria_section(rows: Iterable[CriterionFails], total_calls: int) -> list[dict]:
    ordered = sorted((r for r in rows if r.fail_count), key=lambda r: (-r.fail_count, r.name, r.id or ""))
    return [
        {"id": r.id, "name": r.name, "fail_count": r.fail_count, "fail_rate": rate_figure(r.fail_count, total_calls)}
        for r in ordered
    ]


def distribution_section(totals: Totals) -> dict:
    return {label: totals.buckets.get(label, 0) for label, _ in SCORE_BUCKETS}


def _period(stats: ScoreStats) -> dict:
    return {
        "calls": stats.calls,
        "avg_score": mean_figure(stats.avg_score) if stats.calls else 0,
        "pass_rate": rate_figure(stats.passed, stats.calls),
    }


def comparison_section(current: ScoreStats, previous: ScoreStats) -> dict:
    now, before = _period(current), _period(previous)
    # The difference of the figures shown (55.8 - 50 = 5.8), so the three numbers agree on screen.
    delta = {} if not previous.calls else {key: figure(now[key] - before[key]) for key in now}
    return {"current_period": now, "previous_period": before, "delta": delta}


def duration_section(stats: DurationStats) -> dict:
    return {
        "thresholds": {"p25": threshold_seconds(stats.p25), "p75": threshold_seconds(stats.p75)},
        **{
            name: {"count": group.calls, "avg_score": mean_figure(group.avg_score) if group.calls else 0}
            for name, group in (("short", stats.short), ("medium", stats.medium), ("long", stats.long))
        },
    }


def trend_section(newest_scores: Sequence[float], *, sample_size: int, threshold: float) -> dict:
    """The newest half of the sample against the half before, judged on the figures shown."""
    if len(newest_scores) < sample_size:
        return {"direction": "insufficient_data", "recent_avg": None, "previous_avg": None, "sample_size": sample_size}
    half = sample_size // 2
    recent = figure(fmean(newest_scores[:half]))
    previous = figure(fmean(newest_scores[half:sample_size]))
    change = Decimal(str(recent)) - Decimal(str(previous))
    if change >= Decimal(str(threshold)):
        direction = "improving"
    elif change <= -Decimal(str(threshold)):
        direction = "declining"
    else:
        direction = "stable"
    return {"direction": direction, "recent_avg": recent, "previous_avg": previous, "sample_size": sample_size}


# The trend's directions as a person reads them (the codes stay in the report, the API and the CSS classes).
TREND_LABELS = {
    "improving": gettext_lazy("improving"),
    "declining": gettext_lazy("declining"),
    "stable": gettext_lazy("stable"),
    "insufficient_data": gettext_lazy("insufficient data"),
}


def trend_label(direction: str) -> str:
    return str(TREND_LABELS.get(direction, direction.replace("_", " ")))


def degradation_alert(trend: dict, threshold: float) -> bool:
    if trend["direction"] != "declining":
        return False
    return Decimal(str(trend["previous_avg"])) - Decimal(str(trend["recent_avg"])) >= Decimal(str(threshold))


RAW_DATA_KEYS = (
    "id", "date", "score", "critical", "duration", "evaluator_tag", "evaluator_id", "group", "status",
    "failed_criteria",
)


def raw_data_section(calls: Iterable[Call]) -> list[dict]:
    return [
        dict(zip(RAW_DATA_KEYS, (
            c.id, c.date.astimezone(UTC).isoformat(), plain_number(c.score), c.critical, seconds_shown(c.duration),
            c.evaluator_tag, c.evaluator_id, c.group, c.status, list(c.failed_criteria),
        ), strict=True))
        for c in calls
    ]


# `raw_data_section`'s row, as SQL over the report query's columns (PostgreSQL), its values in RAW_DATA_KEYS'
# order: the date as Python's isoformat writes it in UTC (microseconds only when there are some), the score as
# stored (float8 prints 52.0 as 52), the duration as `seconds_shown` cuts it (report_rules.seconds_shown_sql; the
# earlier trunc(round(duration * 1000000) / 1000000) showed 3600.9999995 as 3601, Python 3600). An array, not an
# object: json_build_object costs twice as much here, and so does decoding it.
RAW_DATA_ROW_SQL = """json_build_array(
    heify_id,
    replace(to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), '.000000+', '+'),
    score,
    critical,
    """ + seconds_shown_sql("duration") + """,
    evaluator_tag,
    evaluator_id,
    "group",
    status,
    failed
)"""


# SQLite's form of raw_data's row (qa/insights/report_query.py): the values its statement reads
# (RAW_DATA_SQLITE_COLUMNS, over the report query's columns), shaped by `raw_data_row_from_sqlite` as
# `raw_data_section` shapes a Call, the evaluator's tag looked up in `tags`. The date is its stored text (Django
# writes str() of the naive UTC datetime: isoformat with a space, microseconds only when there are some) written as
# isoformat writes it in UTC.
RAW_DATA_SQLITE_COLUMNS = (
    "heify_id", "replace(occurred_at, ' ', 'T') || '+00:00'", "score", "critical", "duration", "evaluator_id",
    '"group"', "failed",
)


def raw_data_from_sqlite(rows: Iterable[Sequence], tags: Mapping[str | None, str | None], status: str) -> list[dict]:
    """raw_data's rows from RAW_DATA_SQLITE_COLUMNS' values, in the order given. A list of failed criteria is
    decoded once per distinct text (a few hundred among 20,000 calls), each row getting its own copy."""
    decoded: dict[str, list[str]] = {}
    shaped = []
    for heify_id, moment, score, critical, duration, evaluator_id, group, failed in rows:
        names = decoded.get(failed)
        if names is None:
            names = decoded[failed] = json.loads(failed)
        shaped.append({  # RAW_DATA_KEYS, written out: twice as fast as dict(zip(...)) over 20,000 rows
            "id": heify_id, "date": moment, "score": plain_number(score), "critical": bool(critical),
            "duration": seconds_shown(duration), "evaluator_tag": tags.get(evaluator_id), "evaluator_id": evaluator_id,
            "group": group, "status": status, "failed_criteria": list(names),
        })
    return shaped


def criteria_by_evaluator(inputs: ReportInputs, *, limit: int = 10) -> list[dict]:
    """The criteria that fail most, each with its rate over the calls its own evaluator scored.

    Heify's `criteria_breakdown` divides a criterion's fails by all of the
    agent's calls, whatever evaluator scored them (the API keeps that
    definition); a person reading the dashboard also needs the rate among the
    calls that could fail it, and which evaluator it belongs to. Both rates
    count the report's included calls: the fails per (evaluator, name) and the
    calls per evaluator (calls without one included) are the report's own.
    """
    per_evaluator = {e.id: e for e in inputs.evaluators}
    total = inputs.totals.overall.calls
    rows = []
    for c in inputs.criteria:
        evaluator = per_evaluator.get(c.evaluator_id)
        scored = evaluator.calls if evaluator else 0
        rows.append({
            "name": c.name, "evaluator_id": c.evaluator_id, "evaluator_tag": evaluator.tag if evaluator else None,
            "fail_count": c.fail_count, "fail_rate": rate_figure(c.fail_count, total),
            "evaluator_calls": scored, "evaluator_fail_rate": rate_figure(c.fail_count, scored),
        })
    rows.sort(key=lambda r: (-r["fail_count"], -r["evaluator_fail_rate"], r["name"]))
    return rows[:limit]


def review_section(review: ReviewComparison) -> dict:
    """Both scores side by side, as the report rounds them, over every included call and over the reviewed ones;
    each with the difference (reviewed - AI) of the figures shown."""
    def both(ai: ScoreStats, record: ScoreStats) -> dict:
        ai, record = _period(ai), _period(record)
        return {"ai": ai, "reviewed": record,
                "difference": {key: figure(record[key] - ai[key]) for key in ("avg_score", "pass_rate")}}

    return {
        "reviewed_calls": review.reviewed,
        "all_calls": both(review.ai, review.record),
        "reviewed": both(review.ai_reviewed, review.record_reviewed),
    }


def build_report(inputs: ReportInputs, *, generated_at: datetime, config: ReportSettings,
                 score: str = ScoreSource.AI) -> dict:
    """The `data` object of Heify's answer, in the example's key order. On the score of record, the metadata
    says so ("score": "reviewed"); on the AI's it is exactly Heify's."""
    trend = trend_section(
        [row["score"] for row in inputs.raw_data[: config.trend_sample]],
        sample_size=config.trend_sample, threshold=config.trend_threshold,
    )
    return {
        "metadata": {
            "total_records_analyzed": inputs.totals.overall.calls,  # raw_data's length, unless cut (the dashboard)
            "query_limit_reached": inputs.query_limit_reached,
            # UTC without an offset, as the example writes it (raw_data dates do carry +00:00).
            "generated_at": generated_at.astimezone(UTC).replace(tzinfo=None).isoformat(),
            **({} if score == ScoreSource.AI else {"score": ScoreSource(score).value}),
        },
        "kpis": kpis_section(inputs.totals),
        "charts": {"timeline": timeline_section(inputs.timeline)},
        "evaluators": evaluators_section(inputs.evaluators),
        "criteria_breakdown": criteria_section(inputs.criteria, inputs.totals.overall.calls),
        "score_distribution": distribution_section(inputs.totals),
        "comparison": comparison_section(inputs.totals.current, inputs.totals.previous),
        "duration_insights": duration_section(inputs.durations),
        "trend": trend,
        "degradation_alert": degradation_alert(trend, config.degradation_threshold),
        "raw_data": inputs.raw_data,
    }


# Means take lists, not generators: fmean counts a generator's items one Python call at a time.
def _mean_score(calls: Sequence[Call]) -> float:
    return fmean([c.score for c in calls])


def _mean_stats(calls: Sequence[Call]) -> ScoreStats:
    return ScoreStats(len(calls), _mean_score(calls)) if calls else ScoreStats()


def _score_stats(calls: Sequence[Call], pass_mark: float) -> ScoreStats:
    if not calls:
        return ScoreStats()
    return ScoreStats(
        len(calls), _mean_score(calls), sum(passes(c.score, c.critical, pass_mark) for c in calls),
    )


# A call as (c) reads it: a Call's fields in its order, then the score of record's
# (reviewed_score, reviewed_critical, reviewed_failed_criteria, reviewed_at), as the mirror keeps them.
CallRow = tuple


def calls_on(rows: Iterable[CallRow], score: str) -> tuple[list[Call], list[tuple]]:
    """The rows as Calls on the score `score` (on the score of record, `of_record` column by column), and each
    row's (AI score, AI critical, score of record, its critical, reviewed) for the ReviewComparison."""
    calls, both = [], []
    reviewed_score = score == ScoreSource.REVIEWED
    for row in rows:
        (heify_id, date_, ai_score, ai_critical, duration, evaluator_id, tag, group, status, failed,
         r_score, r_critical, r_failed, reviewed_at) = row
        record_score, record_critical = of_record(ai_score, r_score), of_record(ai_critical, r_critical)
        both.append((ai_score, ai_critical, record_score, record_critical, reviewed_at is not None))
        if reviewed_score:
            calls.append(Call(heify_id, date_, record_score, record_critical, duration, evaluator_id, tag, group,
                              status, of_record(failed, r_failed)))
        else:
            calls.append(Call(heify_id, date_, ai_score, ai_critical, duration, evaluator_id, tag, group, status,
                              failed))
    return calls, both


def review_comparison(both: Sequence[tuple], pass_mark: float) -> ReviewComparison:
    """`calls_on`'s pairs of scores, compared: over every call, and over the reviewed ones."""
    def stats(pairs: list[tuple[float, bool]]) -> ScoreStats:
        if not pairs:
            return ScoreStats()
        return ScoreStats(len(pairs), fmean([s for s, _ in pairs]),
                          sum(passes(s, critical, pass_mark) for s, critical in pairs))

    reviewed = [row for row in both if row[4]]
    return ReviewComparison(
        reviewed=len(reviewed),
        ai=stats([(row[0], row[1]) for row in both]), record=stats([(row[2], row[3]) for row in both]),
        ai_reviewed=stats([(row[0], row[1]) for row in reviewed]),
        record_reviewed=stats([(row[2], row[3]) for row in reviewed]),
    )


def inputs_from_calls(
    calls: list[Call], *, limit_reached: bool, window: Window, config: ReportSettings,
    criterion_ids: Mapping[tuple[str | None, str], str | None], review: ReviewComparison | None = None,
    shown: int | None = None,
) -> ReportInputs:
    """Every section's aggregates over the included calls (newest first, capped): (c)'s, and the reference both
    database forms are held to (tests/qa/insights/test_report_query.py).

    `criterion_ids` maps (evaluator id, criterion name) to the Criterion's Heify id, for the names the
    evaluator knows (the first of a name, by position). `review`: both scores compared, kept as it is.
    `shown`: raw_data holds the newest `shown` calls only (the dashboard's cut; every other section covers them
    all), so that the calls not shown are not shaped for nothing.
    """
    if not calls:
        return ReportInputs(raw_data=[], review=review)
    critical = [c for c in calls if c.critical]
    buckets = Counter(score_bucket(c.score) for c in calls)
    totals = Totals(
        overall=_score_stats(calls, config.pass_mark),
        critical_fails=len(critical),
        pending_critical_reviews=sum(c.group == PENDING_REVIEW for c in critical),
        buckets={label: buckets[label] for label, _ in SCORE_BUCKETS},
        current=_score_stats([c for c in calls if window.month_start <= c.date], config.pass_mark),
        previous=_score_stats(
            [c for c in calls if window.previous_start <= c.date < window.month_start], config.pass_mark
        ),
    )

    by_day: dict[date, list[Call]] = defaultdict(list)
    by_evaluator: dict[str | None, list[Call]] = defaultdict(list)
    fails: Counter[tuple[str | None, str]] = Counter()
    for c in calls:
        by_day[utc_date(c.date)].append(c)
        by_evaluator[c.evaluator_id].append(c)
        for name in c.failed_criteria:
            fails[c.evaluator_id, name] += 1
    timeline = [
        DayStats(day, len(group), _mean_score(group), sum(c.critical for c in group))
        for day, group in by_day.items()
    ]
    evaluator_rows = []
    for evaluator_id, group in by_evaluator.items():
        durations = [c.duration for c in group if c.duration is not None]
        evaluator_rows.append(EvaluatorStats(
            evaluator_id, group[0].evaluator_tag, len(group), _mean_score(group),
            sum(c.critical for c in group), stdev([c.score for c in group]) if len(group) >= 2 else None,
            fmean(durations) if durations else None,
        ))
    criteria = [
        CriterionFails(criterion_ids.get((evaluator_id, name)), evaluator_id, name, count)
        for (evaluator_id, name), count in fails.items()
    ]

    # Calls with no duration are left out of duration insights: they have no class and no place in the order.
    timed = sorted((c for c in calls if c.duration is not None), key=lambda c: c.duration)
    durations = DurationStats()
    if timed:
        p25, p75 = (
            interpolate(timed[below].duration, timed[min(below + 1, len(timed) - 1)].duration, proportion)
            for below, proportion in (percentile_position(len(timed), f) for f in DURATION_PERCENTILES)
        )
        classes: dict[str, list[Call]] = defaultdict(list)
        for c in timed:
            classes[duration_class(c.duration, p25, p75)].append(c)
        durations = DurationStats(
            p25=p25, p75=p75, **{name: _mean_stats(classes[name]) for name in ("short", "medium", "long")},
        )
    return ReportInputs(
        raw_data=raw_data_section(calls if shown is None else calls[:shown]), query_limit_reached=limit_reached,
        totals=totals, timeline=timeline, evaluators=evaluator_rows, criteria=criteria, durations=durations,
        review=review,
    )
