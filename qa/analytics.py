"""The participant analytics report: Heify's `analytics-participant`, computed from the mirror.

What lives here, in three layers (notes, section 3, are the rules; the seed
`analytics-participant.txt` is the shape):

(a) The query (`_inputs_from_db`): one participant's included calls, newest
    first and capped, with the columns raw_data shows, in one query (plus one
    for the ids of the criteria they failed; on PostgreSQL the failed names
    are picked out of criteria_results by the database). raw_data lists every
    included call, so the rows come to Python anyway; aggregating them again
    in SQL read the same rows once per section (benchmarks/analytics.py).
(b) Pure functions: the included calls -> `ReportInputs` (grouping, means,
    the sample standard deviation, the duration percentiles as PostgreSQL's
    percentile_cont interpolates: `_inputs_from_calls`), and `ReportInputs`
    -> the report's sections (`build_report` and the `*_section` functions).
    Every rule lives here once: rounding, the pass rule, buckets, duration
    classes, delta, trend direction, the degradation alert.
(c) The emulator's variant (`_inputs_from_payloads`): the same included calls
    read from Heify JSON by the one upsert parser (syncer.mirror), handed to
    the same (b).

The numeric constants that are our choice are settings, read on each call:
ANALYTICS_PASS_MARK (50), ANALYTICS_TREND_THRESHOLD (5),
ANALYTICS_DEGRADATION_THRESHOLD (10), ANALYTICS_QUERY_LIMIT (20,000: Heify's
cap), ANALYTICS_TREND_SAMPLE (20).

What must not live here: writes, HTTP, and a second copy of a rule in (a) or
(c) that (b) already applies. Where SQL must decide one too (which results
are failed criteria, for the query; is it a pass, for the team overview in
qa.team), it takes it from the one definition beside it
(`failed_criteria`/`_FailedCriteria`, `passes`/`passed_q`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import fmean, stdev
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Func, JSONField, Q
from django.utils import timezone

from qa.models import Criterion, Participant, Transcription
from syncer import mirror

COMPLETED = "COMPLETED"
PENDING_REVIEW = "PENDING_REVIEW"

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
    calls: list[Call]  # every included call, newest first (raw_data; the trend's sample is its head)
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


def score_bucket(score: float) -> str:
    for label, bound in SCORE_BUCKETS:
        if bound is None or score <= bound:
            return label
    raise AssertionError("the last bucket has no bound")


def duration_class(duration: float, p25: float, p75: float) -> str:
    """short <= p25, long >= p75, medium between; short wins when p25 == p75 (then a call is both)."""
    if duration <= p25:
        return "short"
    if duration >= p75:
        return "long"
    return "medium"


def failed_criteria(criteria_results: Any) -> list[str]:
    """Names of the criteria a call failed, in Heify's order: results whose `passed` is JSON false."""
    if not isinstance(criteria_results, list):
        return []
    return [
        result["name"] for result in criteria_results
        if isinstance(result, dict) and result.get("passed") is False and isinstance(result.get("name"), str)
    ]


class _FailedCriteria(Func):
    """`failed_criteria`, as SQL (PostgreSQL): the names, as a JSON array; [] when the results are not an array.

    In strict mode `$[*]` of a non-array is an error, which `silent` turns into no items; inside the filter, an
    item that is not an object, or lacks `passed` or `name`, is an error there too, which makes the filter
    unknown: the item is left out. `== false` holds for JSON false only (0 and null do not compare to it).
    """

    function = "JSONB_PATH_QUERY_ARRAY"
    template = (
        "%(function)s(%(expressions)s, "
        "'strict $[*] ? (@.passed == false && @.name.type() == \"string\").name', '{}', true)"
    )
    output_field = JSONField()


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


def raw_data_section(calls: Iterable[Call]) -> list[dict]:
    return [
        {
            "id": c.id,
            "date": c.date.astimezone(UTC).isoformat(),
            "score": _plain(c.score),
            "critical": c.critical,
            "duration": _seconds_shown(c.duration),
            "evaluator_tag": c.evaluator_tag,
            "evaluator_id": c.evaluator_id,
            "group": c.group,
            "status": c.status,
            "failed_criteria": list(c.failed_criteria),
        }
        for c in calls
    ]


def build_report(inputs: ReportInputs, *, generated_at: datetime, config: ReportSettings) -> dict:
    """The `data` object of Heify's answer, in the example's key order."""
    trend = trend_section(
        [c.score for c in inputs.calls[: config.trend_sample]],
        sample_size=config.trend_sample, threshold=config.trend_threshold,
    )
    return {
        "metadata": {
            "total_records_analyzed": len(inputs.calls),
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
        "raw_data": raw_data_section(inputs.calls),
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
        return ReportInputs(calls=[])
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
        calls=calls, query_limit_reached=limit_reached, totals=totals, timeline=timeline,
        evaluators=evaluator_rows, criteria=criteria, durations=durations,
    )


# --- (a) the query ---------------------------------------------------------------------------------------

_RAW_COLUMNS = (  # a Call's fields but the last, in its order
    "heify_id", "occurred_at", "score", "critical_fail_triggered", "duration", "evaluator_id", "evaluator__tag",
    "group", "status",
)


def _inputs_from_db(participant_id: str | None, window: Window, config: ReportSettings) -> ReportInputs:
    if participant_id is None:  # not accepted by Heify yet, so no calls (and filtering on None means IS NULL)
        return ReportInputs(calls=[])
    included = Transcription.objects.filter(
        participant_id=participant_id, status=COMPLETED, score__isnull=False, occurred_at__lt=window.end,
    ).order_by("-occurred_at", "-heify_id")
    # raw_data lists every included call, so their columns come to Python anyway: one query fetches them (one
    # row more than the cap tells whether it was reached), and the sections are aggregated from them here.
    if connections[included.db].vendor == "postgresql":
        # The failed names are picked out by the database: decoding every call's whole list of results cost
        # more in Python than any other column (benchmarks/analytics.py).
        fetched = included.annotate(failed_names=_FailedCriteria("criteria_results"))
        rows = list(fetched.values_list(*_RAW_COLUMNS, "failed_names")[: config.query_limit + 1])
        calls = [Call(*row) for row in rows[: config.query_limit]]
    else:
        rows = list(included.values_list(*_RAW_COLUMNS, "criteria_results")[: config.query_limit + 1])
        calls = [Call(*row[:-1], failed_criteria(row[-1])) for row in rows[: config.query_limit]]
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


# --- (c) the same inputs, from Heify JSON ----------------------------------------------------------------


def _inputs_from_payloads(
    participant_id: str, transcriptions: Iterable[dict], evaluators: Iterable[dict], window: Window,
    config: ReportSettings,
) -> ReportInputs:
    tags: dict[str, str] = {}
    criterion_ids: dict[tuple[str | None, str], str | None] = {}
    for payload in evaluators:
        row, criteria = mirror.parse_evaluator(payload)
        tags[row["heify_id"]] = row["tag"]
        for criterion in criteria:  # the first of a name, as the query's ORDER BY position
            criterion_ids.setdefault((row["heify_id"], criterion["name"]), criterion["heify_id"])
    rows = [mirror.parse_transcription(payload)[0] for payload in transcriptions]
    rows = sorted(
        (
            r for r in rows
            if r["participant_id"] == participant_id and r["status"] == COMPLETED and r["score"] is not None
            and r["occurred_at"] < window.end
        ),
        key=lambda r: (r["occurred_at"], r["heify_id"]), reverse=True,
    )
    calls = [
        Call(r["heify_id"], r["occurred_at"], r["score"], r["critical_fail_triggered"], r["duration"],
             r["evaluator_id"], tags.get(r["evaluator_id"]), r["group"], r["status"],
             failed_criteria(r["criteria_results"]))
        for r in rows[: config.query_limit]
    ]
    return _inputs_from_calls(
        calls, limit_reached=len(rows) > config.query_limit, window=window, config=config,
        criterion_ids=criterion_ids,
    )


# --- the two ways in --------------------------------------------------------------------------------------


def participant_report(participant: Participant, *, as_of: date | None = None) -> dict:
    """The participant's analytics as Heify's `analytics-participant` answers them (its `data` object).

    Calls dated up to the end of `as_of` (UTC; default today) count; the
    comparison is the month of `as_of` against the month before.
    """
    config = ReportSettings.current()
    now = timezone.now()
    if isinstance(as_of, datetime):
        as_of = _utc_date(as_of)
    window = report_window(as_of or _utc_date(now))
    return build_report(_inputs_from_db(participant.heify_id, window, config), generated_at=now, config=config)


def participant_report_from_payloads(
    participant_id: str, transcriptions: Iterable[dict], evaluators: Iterable[dict], now: datetime,
    *, as_of: date | None = None,
) -> dict:
    """The same report from Heify JSON (the emulator's): transcription and evaluator payloads, `now` aware.

    Payloads are read by the upsert path's parsers, so a call means here what
    it means in the mirror; calls of other participants are ignored.
    """
    config = ReportSettings.current()
    window = report_window(as_of or _utc_date(now))
    inputs = _inputs_from_payloads(participant_id, transcriptions, evaluators, window, config)
    return build_report(inputs, generated_at=now, config=config)
