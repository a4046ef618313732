"""The participant analytics report: Heify's `analytics-participant`, computed from the mirror.

What lives here, in three layers (notes, section 3, are the rules; the seed
`analytics-participant.txt` is the shape):

(a) The query (`_inputs_from_db`): one participant's included calls (live
    ones only: a call gone from Heify counts nowhere), newest first and
    capped. On PostgreSQL, one statement reads them once and aggregates
    every section in the database (GROUP BY, avg, stddev_samp,
    percentile_cont) and shapes raw_data as JSON (`_inputs_from_postgresql`).
    On SQLite, which has neither percentile_cont nor stddev_samp, the
    fallback reads the same rows once and (b) aggregates them in Python
    (`_inputs_from_rows`). Both give the same report (tests/qa/test_analytics.py
    compares each with (c) on the same calls).
(b) Pure functions: the included calls -> `ReportInputs` (grouping, means,
    the sample standard deviation, the duration percentiles as PostgreSQL's
    percentile_cont interpolates: `_inputs_from_calls`), and `ReportInputs`
    -> the report's sections (`build_report` and the `*_section` functions).
    Every rule lives here once: rounding, the pass rule, buckets, duration
    classes, delta, trend direction, the degradation alert. The rules the
    PostgreSQL query applies per row (the pass rule, the bucket, the duration
    class, raw_data's row) have their SQL form written beside the Python one
    (`PASSES_SQL`, `score_bucket_sql`, ...); rounding and every figure shown
    stay in Python, for both paths. Which criteria a call failed is decided
    once, by the upsert (qa.mirror.criterion_results.failed_names, kept on the call).
(c) The emulator's variant (`_inputs_from_parsed`): the same included calls
    given as rows in the mirror's columns (the emulator reads its Heify JSON
    with the one upsert parser, syncer.mirror, and hands the rows here), handed
    to the same (b).

The numeric constants that are our choice are settings, read on each call:
ANALYTICS_PASS_MARK (50), ANALYTICS_TREND_THRESHOLD (5),
ANALYTICS_DEGRADATION_THRESHOLD (10), ANALYTICS_QUERY_LIMIT (20,000: Heify's
cap), ANALYTICS_TREND_SAMPLE (20).

The dashboard's answer (`participant_dashboard`) is kept in Django's cache on
PostgreSQL, under a fingerprint of everything it reads, so it is never stale.
A report leaves out the calls its reader scores blind in calibration (`leave_out`,
from qa.blinding): they count in none of its figures.

What must not live here: writes (other than that cache), HTTP, and a copy of a rule outside (b):
where SQL must decide one too (the report query; is it a pass, for the team
overview in qa.team), it takes the SQL form written beside the rule.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import fmean, stdev

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from qa.models import Criterion, Evaluator, Participant, Transcription
from qa.rules import Group, Status

COMPLETED = Status.COMPLETED.value  # plain strings: bound into raw SQL
PENDING_REVIEW = Group.PENDING_REVIEW.value

# Label -> the highest score it takes; a score goes in the first bucket whose
# bound it does not exceed (20 -> 0-20, 20.5 -> 21-40). The last bucket has no
# bound, so a score Heify might send above 100 is still counted somewhere.
SCORE_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("0-20", 20), ("21-40", 40), ("41-60", 60), ("61-80", 80), ("81-100", None),
)
DURATION_PERCENTILES = (0.25, 0.75)


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSettings:
    pass_mark: float = 50
    trend_threshold: float = 5
    degradation_threshold: float = 10
    query_limit: int = 20_000
    trend_sample: int = 20

    @classmethod
    def current(cls) -> ReportSettings:
        defaults = cls()
        found = cls(
            pass_mark=getattr(settings, "ANALYTICS_PASS_MARK", defaults.pass_mark),
            trend_threshold=getattr(settings, "ANALYTICS_TREND_THRESHOLD", defaults.trend_threshold),
            degradation_threshold=getattr(settings, "ANALYTICS_DEGRADATION_THRESHOLD", defaults.degradation_threshold),
            query_limit=getattr(settings, "ANALYTICS_QUERY_LIMIT", defaults.query_limit),
            trend_sample=getattr(settings, "ANALYTICS_TREND_SAMPLE", defaults.trend_sample),
        )
        if not isinstance(found.query_limit, int) or found.query_limit < 1:
            raise ImproperlyConfigured(f"ANALYTICS_QUERY_LIMIT must be an int >= 1, not {found.query_limit!r}")
        if not isinstance(found.trend_sample, int) or found.trend_sample < 2:
            raise ImproperlyConfigured(f"ANALYTICS_TREND_SAMPLE must be an int >= 2, not {found.trend_sample!r}")
        return found


# --- the period a report covers -------------------------------------------------------------------


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


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


# --- (b) aggregate inputs: what the included calls give, from the query or the payloads ------------------


@dataclass(frozen=True)
class Call:
    """One included call, as raw_data shows it."""

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
class ReportInputs:
    raw_data: list[dict]  # every included call, newest first, as raw_data shows it (the trend's sample is its head)
    query_limit_reached: bool = False
    totals: Totals = Totals()
    timeline: list[DayStats] = field(default_factory=list)
    evaluators: list[EvaluatorStats] = field(default_factory=list)
    criteria: list[CriterionFails] = field(default_factory=list)
    durations: DurationStats = DurationStats()


# --- (b) per-call rules, each in one place ------------------------------------------------------------


def passes(score: float, critical: bool, pass_mark: float) -> bool:
    """A call passes when its score reaches the pass mark and no critical fail was triggered."""
    return score >= pass_mark and not critical


def passed_q(pass_mark: float) -> Q:  # `passes`, as SQL (for the team overview, qa.team)
    return Q(score__gte=pass_mark, critical_fail_triggered=False)


PASSES_SQL = "score >= %(pass_mark)s AND NOT critical"  # `passes`, over the report query's columns


def score_bucket(score: float) -> str:
    for label, bound in SCORE_BUCKETS:
        if bound is None or score <= bound:
            return label
    raise AssertionError("the last bucket has no bound")


def score_bucket_sql(score: str) -> str:  # `score_bucket`, as SQL over the column `score`
    whens = " ".join(f"WHEN {score} <= {bound!r} THEN '{label}'" for label, bound in SCORE_BUCKETS if bound is not None)
    return f"CASE {whens} ELSE '{SCORE_BUCKETS[-1][0]}' END"


def duration_class(duration: float, p25: float, p75: float) -> str:
    """short <= p25, long >= p75, medium between; short wins when p25 == p75 (then a call is both)."""
    if duration <= p25:
        return "short"
    if duration >= p75:
        return "long"
    return "medium"


def duration_class_sql(duration: str, p25: str, p75: str) -> str:  # `duration_class`, as SQL
    return f"CASE WHEN {duration} <= {p25} THEN 'short' WHEN {duration} >= {p75} THEN 'long' ELSE 'medium' END"


def percentile_position(count: int, fraction: float) -> tuple[int, float]:
    """Where PostgreSQL's percentile_cont reads: the 0-based row below, and how far towards the next."""
    position = fraction * (count - 1)
    below = math.floor(position)
    return below, position - below


def interpolate(below: float, above: float, proportion: float) -> float:
    """percentile_cont's linear interpolation, written as PostgreSQL computes it (float8_lerp)."""
    return below + proportion * (above - below)


# --- (b) rounding ------------------------------------------------------------------------------------


def _figure(value: float, places: int = 1) -> int | float:
    """Round half up to `places` decimals; an int when nothing is left after the point (66, not 66.0).

    The value is first taken to 9 decimals, so that the last-bit differences
    between PostgreSQL's, SQLite's and Python's sums cannot tip a half.
    """
    rounded = Decimal(repr(round(value, 9))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _plain(value: float) -> int | float:
    """A number as stored, without a trailing .0."""
    return int(value) if float(value).is_integer() else value


# Seconds, derived from the example: it shows both calls of duration "542" as
# short while p25 is "543", and with five calls p25 is exactly the
# second-shortest duration. Rounding both the same way cannot give that. We
# truncate the durations shown (542.x -> 542) and round the thresholds half up
# (542.5 -> 543), so that duration lies in [542.5, 543). (Rounded durations with
# thresholds rounded up would fit too; the example cannot tell.) Mean durations
# are truncated like the durations; the example cannot tell that either.
def _seconds_shown(value: float | None) -> int | None:
    return None if value is None else math.trunc(round(value, 6))


def _threshold_seconds(value: float | None) -> int:
    return 0 if value is None else _figure(value, 0)


def rate_figure(part: int, whole: int) -> int | float:
    return _figure(part / whole * 100) if whole else 0


def mean_figure(value: float | None) -> int | float:
    return 0 if value is None else _figure(value)


# --- (b) sections ------------------------------------------------------------------------------------


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
        {"date": d.day.isoformat(), "avg_score": _figure(d.avg_score), "volume": d.calls,
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
            "avg_score": _figure(r.avg_score),
            "critical_fails": r.critical_fails,
            "critical_fail_rate": rate_figure(r.critical_fails, r.calls),
            "consistency": _figure(r.score_stddev, 2) if r.calls >= 2 and r.score_stddev is not None else 0,
            "avg_duration": _seconds_shown(r.avg_duration),
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
    delta = {} if not previous.calls else {key: _figure(now[key] - before[key]) for key in now}
    return {"current_period": now, "previous_period": before, "delta": delta}


def duration_section(stats: DurationStats) -> dict:
    return {
        "thresholds": {"p25": _threshold_seconds(stats.p25), "p75": _threshold_seconds(stats.p75)},
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
    recent = _figure(fmean(newest_scores[:half]))
    previous = _figure(fmean(newest_scores[half:sample_size]))
    change = Decimal(str(recent)) - Decimal(str(previous))
    if change >= Decimal(str(threshold)):
        direction = "improving"
    elif change <= -Decimal(str(threshold)):
        direction = "declining"
    else:
        direction = "stable"
    return {"direction": direction, "recent_avg": recent, "previous_avg": previous, "sample_size": sample_size}


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
            c.id, c.date.astimezone(UTC).isoformat(), _plain(c.score), c.critical, _seconds_shown(c.duration),
            c.evaluator_tag, c.evaluator_id, c.group, c.status, list(c.failed_criteria),
        ), strict=True))
        for c in calls
    ]


# `raw_data_section`'s row, as SQL over the report query's columns (PostgreSQL), its values in RAW_DATA_KEYS'
# order: the date as Python's isoformat writes it in UTC (microseconds only when there are some), the score as
# stored (float8 prints 52.0 as 52), the duration as `_seconds_shown` cuts it (rounded to the microsecond, then
# truncated). An array, not an object: json_build_object costs twice as much here, and so does decoding it.
RAW_DATA_ROW_SQL = """json_build_array(
    heify_id,
    replace(to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), '.000000+', '+'),
    score,
    critical,
    trunc(round(duration * 1000000) / 1000000)::bigint,
    evaluator_tag,
    evaluator_id,
    "group",
    status,
    failed
)"""


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


def build_report(inputs: ReportInputs, *, generated_at: datetime, config: ReportSettings) -> dict:
    """The `data` object of Heify's answer, in the example's key order."""
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


# --- (b) aggregate inputs from the included calls ----------------------------------------------------------


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


def _inputs_from_calls(
    calls: list[Call], *, limit_reached: bool, window: Window, config: ReportSettings,
    criterion_ids: Mapping[tuple[str | None, str], str | None],
) -> ReportInputs:
    """Every section's aggregates over the included calls (newest first, capped); the same for (a) and (c).

    `criterion_ids` maps (evaluator id, criterion name) to the Criterion's Heify id, for the names the
    evaluator knows (the first of a name, by position).
    """
    if not calls:
        return ReportInputs(raw_data=[])
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
        by_day[_utc_date(c.date)].append(c)
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
        raw_data=raw_data_section(calls), query_limit_reached=limit_reached, totals=totals, timeline=timeline,
        evaluators=evaluator_rows, criteria=criteria, durations=durations,
    )


# --- (a) the query ---------------------------------------------------------------------------------------


def _inputs_from_db(
    participant_id: str | None, window: Window, config: ReportSettings, shown: int | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> ReportInputs:
    """`shown`: raw_data keeps only the newest `shown` calls (every other section still covers them all).
    `leave_out`: the Heify ids of calls the report leaves out as if they were not there (a reader's blind ones)."""
    if participant_id is None:  # not accepted by Heify yet, so no calls (and filtering on None means IS NULL)
        return ReportInputs(raw_data=[])
    if connections[Transcription.objects.db].vendor == "postgresql":
        return _inputs_from_postgresql(participant_id, window, config, shown, leave_out)
    inputs = _inputs_from_rows(participant_id, window, config, leave_out)
    return inputs if shown is None else replace(inputs, raw_data=inputs.raw_data[:shown])


def _included(participant_id: str, window: Window):
    return Transcription.objects.filter(
        participant_id=participant_id, status=COMPLETED, score__isnull=False, occurred_at__lt=window.end,
    ).order_by("-occurred_at", "-heify_id")


# PostgreSQL: one statement. The included calls are read once, from the index that holds every column the
# report reads (tx_scored_by_participant), into a materialized CTE; whether more calls lie past the cap is one
# probe of that index beyond the oldest one read. Every section is aggregated from it by the database
# (GROUP BY, avg, stddev_samp, percentile_cont), and raw_data is shaped there as JSON, so that no row of it
# becomes Python values one column at a time; evaluator tags are joined per evaluator and per row shown, not per
# call read. One JSON text comes back; (b) rounds and shapes the sections.
# Each rule the SQL needs is written beside its Python form in (b): the pass rule, the buckets, the duration
# classes and raw_data's row. The failed criteria are the upsert's (Transcription.failed_criteria). Its WHERE
# and ORDER BY are `_included`'s, just above; the tests compare both paths with the payloads' one.
_POSTGRESQL_REPORT = """
WITH calls AS MATERIALIZED (
    SELECT t.heify_id, t.occurred_at, t.score, t.critical_fail_triggered AS critical, t.duration,
           t.evaluator_id, t."group", t.failed_criteria AS failed
    FROM {transcription} AS t
    WHERE t.participant_id = %(participant)s AND t.status = %(completed)s AND t.score IS NOT NULL
      AND t.gone_at IS NULL AND t.occurred_at < %(end)s{leave_out}
    ORDER BY t.occurred_at DESC, t.heify_id DESC
    LIMIT %(limit)s
),
oldest AS (SELECT occurred_at, heify_id FROM calls ORDER BY occurred_at, heify_id LIMIT 1),
summary AS MATERIALIZED (
    SELECT count(*) AS n, avg(score) AS average, count(*) FILTER (WHERE {passes}) AS passed,
           count(*) FILTER (WHERE critical) AS critical_fails,
           count(*) FILTER (WHERE critical AND "group" = %(pending)s) AS pending,
           json_build_array(count(*) FILTER (WHERE current), avg(score) FILTER (WHERE current),
                            count(*) FILTER (WHERE current AND {passes})) AS current,
           json_build_array(count(*) FILTER (WHERE previous), avg(score) FILTER (WHERE previous),
                            count(*) FILTER (WHERE previous AND {passes})) AS previous
    FROM (SELECT *, occurred_at >= %(month_start)s AS current,
                 occurred_at >= %(previous_start)s AND occurred_at < %(month_start)s AS previous FROM calls) AS c
),
percentiles AS (
    SELECT p[1] AS p25, p[2] AS p75
    FROM (SELECT percentile_cont(ARRAY[%(p25)s, %(p75)s]::float8[]) WITHIN GROUP (ORDER BY duration) AS p
          FROM calls WHERE duration IS NOT NULL) AS q
)
SELECT json_build_object(
    'limit_reached', (SELECT n = %(limit)s FROM summary) AND EXISTS (
        SELECT FROM {transcription} AS t, oldest
        WHERE t.participant_id = %(participant)s AND t.status = %(completed)s AND t.score IS NOT NULL
          AND t.gone_at IS NULL AND t.occurred_at <= oldest.occurred_at{leave_out}
          AND (t.occurred_at < oldest.occurred_at OR t.heify_id < oldest.heify_id)
    ),
    'totals', (SELECT json_build_array(n, average, passed, critical_fails, pending) FROM summary),
    'buckets', (
        SELECT json_object_agg(bucket, n) FROM (SELECT {bucket} AS bucket, count(*) AS n FROM calls GROUP BY 1) AS b
    ),
    'periods', (SELECT json_build_object('current', current, 'previous', previous) FROM summary),
    'timeline', (
        SELECT json_agg(json_build_array(day, n, average, critical_fails))
        FROM (
            SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n, avg(score) AS average,
                   count(*) FILTER (WHERE critical) AS critical_fails
            FROM calls GROUP BY 1
        ) AS d
    ),
    'evaluators', (
        SELECT json_agg(json_build_array(g.evaluator_id, e.tag, n, average, critical_fails, spread, mean_duration))
        FROM (
            SELECT evaluator_id, count(*) AS n, avg(score) AS average,
                   count(*) FILTER (WHERE critical) AS critical_fails, stddev_samp(score) AS spread,
                   avg(duration) AS mean_duration
            FROM calls GROUP BY evaluator_id
        ) AS g LEFT JOIN {evaluator} AS e ON e.heify_id = g.evaluator_id
    ),
    'criteria', (
        SELECT json_agg(json_build_array(
            f.evaluator_id, f.name, f.n,
            (SELECT c.heify_id FROM {criterion} AS c JOIN {evaluator} AS e ON e.id = c.evaluator_id
             WHERE e.heify_id = f.evaluator_id AND c.name = f.name ORDER BY c.position, c.id LIMIT 1)
        ))
        FROM (
            SELECT same.evaluator_id, failed.name, sum(same.n) AS n
            FROM (SELECT evaluator_id, failed, count(*) AS n FROM calls WHERE failed <> '[]'::jsonb GROUP BY 1, 2)
                 AS same CROSS JOIN LATERAL jsonb_array_elements_text(same.failed) AS failed(name)
            GROUP BY 1, 2
        ) AS f
    ),
    'durations', (
        SELECT json_build_array(
            percentiles.p25, percentiles.p75,
            (SELECT json_object_agg(class, json_build_array(n, average))
             FROM (SELECT {duration_class} AS class, count(*) AS n, avg(score) AS average
                   FROM calls WHERE duration IS NOT NULL GROUP BY 1) AS k)
        )
        FROM percentiles
    ),
    'raw_data', (
        SELECT json_agg({raw_row} ORDER BY occurred_at DESC, heify_id DESC)
        FROM (
            SELECT shown.*, e.tag AS evaluator_tag, CAST(%(completed)s AS text) AS status
            FROM (SELECT * FROM calls ORDER BY occurred_at DESC, heify_id DESC LIMIT %(shown)s) AS shown
            LEFT JOIN {evaluator} AS e ON e.heify_id = shown.evaluator_id
        ) AS shown
    )
)::text
"""


# For the report's statement only (SET LOCAL, undone at the end of its transaction). JIT: the planner's estimate
# for the criteria breakdown's unnest passes jit_above_cost, and compiling then costs more than the whole
# execution. work_mem: sorting and keeping 20,000 calls takes a few MB, more than PostgreSQL's default 4 MB, and
# spilling them to temporary files cost about a tenth of the report (benchmarks/analytics.py).
_POSTGRESQL_SETTINGS = "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"


@contextmanager
def _gc_paused():
    """Decoding the answer makes some 200,000 lists, dicts and strings; the collector, run every few hundred of
    them, then walks the whole process's heap over and over, which took as long as the decoding itself. It
    runs again at the end. Collection is process-wide: another thread's collection can wait, never be lost."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The calls a reader scores blind (qa.blinding), left out of what their report reads; only written in when there
# are some, so that every other reader's statement is the one it always was.
_LEAVE_OUT_SQL = "\n      AND NOT (t.heify_id = ANY(%(leave_out)s))"


def _inputs_from_postgresql(
    participant_id: str, window: Window, config: ReportSettings, shown: int | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> ReportInputs:
    connection = connections[Transcription.objects.db]
    qn = connection.ops.quote_name
    sql = _POSTGRESQL_REPORT.format(
        transcription=qn(Transcription._meta.db_table), evaluator=qn(Evaluator._meta.db_table),
        criterion=qn(Criterion._meta.db_table), passes=PASSES_SQL, bucket=score_bucket_sql("score"),
        duration_class=duration_class_sql("duration", "percentiles.p25", "percentiles.p75"),
        raw_row=RAW_DATA_ROW_SQL, leave_out=_LEAVE_OUT_SQL if leave_out else "",
    )
    params = {
        "participant": participant_id, "completed": COMPLETED, "end": window.end, "limit": config.query_limit,
        "month_start": window.month_start, "previous_start": window.previous_start,
        "pass_mark": config.pass_mark, "pending": PENDING_REVIEW,
        "p25": DURATION_PERCENTILES[0], "p75": DURATION_PERCENTILES[1],
        "shown": config.query_limit if shown is None else shown, "leave_out": sorted(leave_out),
    }
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(_POSTGRESQL_SETTINGS)
        cursor.execute(sql, params)
        answer = cursor.fetchone()[0]
    with _gc_paused():
        found = json.loads(answer)
        if not found["raw_data"]:
            return ReportInputs(raw_data=[])
        raw_data = [dict(zip(RAW_DATA_KEYS, row, strict=True)) for row in found["raw_data"]]

    def stats(row: list | None) -> ScoreStats:
        return ScoreStats(*row) if row else ScoreStats()

    calls, average, passed, critical_fails, pending = found["totals"]
    periods = found["periods"] or {}
    p25, p75, classes = found["durations"] if found["durations"] else (None, None, None)
    return ReportInputs(
        raw_data=raw_data,
        query_limit_reached=found["limit_reached"],
        totals=Totals(
            overall=ScoreStats(calls, average, passed), critical_fails=critical_fails,
            pending_critical_reviews=pending,
            buckets={label: found["buckets"].get(label, 0) for label, _ in SCORE_BUCKETS},
            current=stats(periods.get("current")), previous=stats(periods.get("previous")),
        ),
        timeline=[DayStats(date.fromisoformat(day), *rest) for day, *rest in found["timeline"]],
        evaluators=[EvaluatorStats(*row) for row in found["evaluators"]],
        criteria=[
            CriterionFails(id=criterion_id, evaluator_id=evaluator_id, name=name, fail_count=count)
            for evaluator_id, name, count, criterion_id in found["criteria"] or ()
        ],
        durations=DurationStats(
            p25=p25, p75=p75, **{name: stats((classes or {}).get(name)) for name in ("short", "medium", "long")},
        ) if p25 is not None else DurationStats(),
    )


# The fallback (SQLite, which has neither percentile_cont nor stddev_samp): the same included calls, one read of
# their rows, aggregated by (b) in Python.
_RAW_COLUMNS = (  # a Call's fields, in its order
    "heify_id", "occurred_at", "score", "critical_fail_triggered", "duration", "evaluator_id", "evaluator__tag",
    "group", "status", "failed_criteria",
)


def _inputs_from_rows(participant_id: str, window: Window, config: ReportSettings,
                      leave_out: frozenset[str] = frozenset()) -> ReportInputs:
    # One row more than the cap tells whether it was reached.
    included = _included(participant_id, window)
    if leave_out:
        included = included.exclude(heify_id__in=leave_out)
    rows = list(included.values_list(*_RAW_COLUMNS)[: config.query_limit + 1])
    calls = [Call(*row) for row in rows[: config.query_limit]]
    return _inputs_from_calls(
        calls, limit_reached=len(rows) > config.query_limit, window=window, config=config,
        criterion_ids=_db_criterion_ids(calls),
    )


def _db_criterion_ids(calls: Iterable[Call]) -> dict[tuple[str, str], str | None]:
    """The Heify ids of the criteria the calls failed, by (evaluator id, name): the first of a name by position."""
    evaluator_ids = {c.evaluator_id for c in calls if c.failed_criteria and c.evaluator_id is not None}
    if not evaluator_ids:
        return {}
    found: dict[tuple[str, str], str | None] = {}
    criteria = (
        Criterion.objects.filter(evaluator__heify_id__in=evaluator_ids)
        .order_by("evaluator_id", "position", "id").values_list("evaluator__heify_id", "name", "heify_id")
    )
    for evaluator_id, name, heify_id in criteria:
        found.setdefault((evaluator_id, name), heify_id)
    return found


# --- (c) the same inputs, from rows in the mirror's columns -------------------------------------------


def _inputs_from_parsed(
    participant_id: str, transcriptions: Iterable[dict], evaluators: Iterable[tuple[dict, list[dict]]],
    window: Window, config: ReportSettings,
) -> ReportInputs:
    tags: dict[str, str] = {}
    criterion_ids: dict[tuple[str | None, str], str | None] = {}
    for row, criteria in evaluators:
        tags[row["heify_id"]] = row["tag"]
        for criterion in criteria:  # the first of a name, as the query's ORDER BY position
            criterion_ids.setdefault((row["heify_id"], criterion["name"]), criterion["heify_id"])
    rows = sorted(
        (
            r for r in transcriptions
            if r["participant_id"] == participant_id and r["status"] == COMPLETED and r["score"] is not None
            and r["occurred_at"] < window.end
        ),
        key=lambda r: (r["occurred_at"], r["heify_id"]), reverse=True,
    )
    calls = [
        Call(r["heify_id"], r["occurred_at"], r["score"], r["critical_fail_triggered"], r["duration"],
             r["evaluator_id"], tags.get(r["evaluator_id"]), r["group"], r["status"],
             r["failed_criteria"])
        for r in rows[: config.query_limit]
    ]
    return _inputs_from_calls(
        calls, limit_reached=len(rows) > config.query_limit, window=window, config=config,
        criterion_ids=criterion_ids,
    )


# --- the two ways in --------------------------------------------------------------------------------------


def participant_report(participant: Participant, *, as_of: date | None = None,
                       leave_out: Iterable[str] = ()) -> dict:
    """The participant's analytics as Heify's `analytics-participant` answers them (its `data` object).

    Calls dated up to the end of `as_of` (UTC; default today) count; the
    comparison is the month of `as_of` against the month before. The calls
    `leave_out` names (Heify ids: those the reader scores blind,
    qa.blinding.blind_heify_ids) count nowhere, raw_data included.
    """
    return _report(participant, as_of, None, frozenset(leave_out))[1]


def participant_dashboard(participant: Participant, *, as_of: date | None = None, calls_shown: int,
                          leave_out: Iterable[str] = ()) -> tuple[dict, list[dict]]:
    """What the participant's dashboard shows: the report with raw_data cut to the newest `calls_shown` calls
    (at least the trend's sample; every other figure is the same, and total_records_analyzed still counts
    them all), and `criteria_by_evaluator`. Reading 20,000 calls as JSON is most of a whole report's cost.
    `leave_out` as participant_report's.

    On PostgreSQL the answer is kept in the cache under a fingerprint of everything it is computed from (the
    included calls, each by id and version; every evaluator, by id and version, for tags and criteria; the
    settings, the day, the cut and the calls left out), read from the report's index in a tenth of the report's
    time (readers who score none of its calls blind share one answer; one who does, never theirs): any write
    of a call (the upsert, a review move) or of an evaluator changes the key, so a kept answer is never stale.
    Its generated_at says when it was computed."""
    connection = connections[Transcription.objects.db]
    leave_out = frozenset(leave_out)
    if participant.heify_id is None or connection.vendor != "postgresql":
        inputs, report = _report(participant, as_of, calls_shown, leave_out)
        return report, criteria_by_evaluator(inputs)
    window = report_window(_as_of_day(as_of))
    key = "qa.analytics.dashboard:" + hashlib.sha256(repr((
        participant.heify_id, window.as_of, calls_shown, ReportSettings.current(),
        _fingerprint(participant.heify_id, window), sorted(leave_out),
    )).encode()).hexdigest()
    kept = cache.get(key)
    if kept is None:
        inputs, report = _report(participant, as_of, calls_shown, leave_out)
        kept = (report, criteria_by_evaluator(inputs))
        cache.set(key, kept, timeout=24 * 3600)
    return kept


# What the dashboard's answer is computed from (PostgreSQL): the included calls by id and version, read from
# tx_scored_by_participant alone (it carries `version`), and every evaluator by id and version.
_FINGERPRINT_SQL = """
SELECT count(*), coalesce(bit_xor(hashtextextended(t.heify_id || ':' || t.version, 0)), 0),
       (SELECT coalesce(bit_xor(hashtextextended(e.id || ':' || e.version, 0)), 0) FROM {evaluator} AS e)
FROM {transcription} AS t
WHERE t.participant_id = %(participant)s AND t.status = %(completed)s AND t.score IS NOT NULL
  AND t.gone_at IS NULL AND t.occurred_at < %(end)s
"""


def _fingerprint(participant_id: str, window: Window) -> tuple:
    connection = connections[Transcription.objects.db]
    qn = connection.ops.quote_name
    sql = _FINGERPRINT_SQL.format(transcription=qn(Transcription._meta.db_table),
                                  evaluator=qn(Evaluator._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, {"participant": participant_id, "completed": COMPLETED, "end": window.end})
        return cursor.fetchone()


def _as_of_day(as_of: date | None) -> date:
    if isinstance(as_of, datetime):
        return _utc_date(as_of)
    return as_of or _utc_date(timezone.now())


def _report(participant: Participant, as_of: date | None, calls_shown: int | None,
            leave_out: frozenset[str] = frozenset()) -> tuple[ReportInputs, dict]:
    config = ReportSettings.current()
    now = timezone.now()
    window = report_window(_as_of_day(as_of))
    shown = None if calls_shown is None else max(calls_shown, config.trend_sample)
    inputs = _inputs_from_db(participant.heify_id, window, config, shown, leave_out)
    return inputs, build_report(inputs, generated_at=now, config=config)


def participant_report_from_parsed(
    participant_id: str, transcriptions: Iterable[dict], evaluators: Iterable[tuple[dict, list[dict]]],
    now: datetime, *, as_of: date | None = None,
) -> dict:
    """The same report from rows in the mirror's columns (the emulator's, parsed from its Heify JSON).

    `transcriptions` are transcription rows, `evaluators` (row, criteria)
    pairs, as syncer.mirror parses them, so a call means here what it means
    in the mirror; `now` is aware; calls of other participants are ignored.
    """
    config = ReportSettings.current()
    window = report_window(as_of or _utc_date(now))
    inputs = _inputs_from_parsed(participant_id, transcriptions, evaluators, window, config)
    return build_report(inputs, generated_at=now, config=config)


# --- what qa.alerts watches: the report's own rules, over a participant's newest calls only ------------------


def newest_calls(participant_id: str, count: int, *, as_of: date | None = None) -> list[tuple[float, bool]]:
    """(score, critical) of the participant's newest `count` included calls, newest first, as the report sees them."""
    window = report_window(as_of or _utc_date(timezone.now()))
    return list(_included(participant_id, window).values_list("score", "critical_fail_triggered")[:count])


def participant_trend(participant_id: str, *, as_of: date | None = None) -> tuple[dict, bool]:
    """The report's `trend` and `degradation_alert`, without the rest of the report (two sections of it, the
    same figures: the same calls, the same rules)."""
    config = ReportSettings.current()
    scores = [score for score, _ in newest_calls(participant_id, config.trend_sample, as_of=as_of)]
    trend = trend_section(scores, sample_size=config.trend_sample, threshold=config.trend_threshold)
    return trend, degradation_alert(trend, config.degradation_threshold)


def pass_rate_of_newest(participant_id: str, count: int, *, as_of: date | None = None) -> int | float | None:
    """The pass rate (as the report rounds it) over the participant's newest `count` calls; None with fewer."""
    pass_mark = ReportSettings.current().pass_mark
    calls = newest_calls(participant_id, count, as_of=as_of)
    if len(calls) < count:
        return None
    return rate_figure(sum(passes(score, critical, pass_mark) for score, critical in calls), count)
