"""Heify's report rules, each in one place: the pass rule, score buckets, duration classes, percentile
interpolation and the rounding of every figure shown (notes, section 3), with the SQL form of a rule written
beside it where a query must apply it too; and the settings a report reads (ReportSettings).

Which score a report reads is one of them: Heify's (the AI's, `ScoreSource.AI`, the default) or the score of
record (`ScoreSource.REVIEWED`: a reviewed call's reviewed_score, reviewed_critical and reviewed_failed_criteria
where it has them, the AI's otherwise; qa.reviews.record keeps them), in Python (`of_record`), SQL
(`call_columns_sql`) and the ORM (`score_expression`, `critical_expression`, `passed_q`, `critical_q`).

Pure functions and constants: no query, no write. The report (qa.insights.analytics), the roll-ups, what-if,
agreement, calibration and sampling all read them from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThanOrEqual
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from qa.mirror.rules import Group, Status

COMPLETED = Status.COMPLETED.value  # plain strings: bound into raw SQL
PENDING_REVIEW = Group.PENDING_REVIEW.value


# Label -> the highest score it takes; a score goes in the first bucket whose
# bound it does not exceed (20 -> 0-20, 20.5 -> 21-40). The last bucket has no
# bound, so a score Heify might send above 100 is still counted somewhere.
SCORE_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("0-20", 20), ("21-40", 40), ("41-60", 60), ("61-80", 80), ("81-100", None),
)
DURATION_PERCENTILES = (0.25, 0.75)


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


def passes(score: float, critical: bool, pass_mark: float) -> bool:
    """A call passes when its score reaches the pass mark and no critical fail was triggered."""
    return score >= pass_mark and not critical


def passed_q(pass_mark: float, source: str = "ai") -> Q:
    """`passes`, as SQL (for the team overview, qa.insights.team), on the score `source` names."""
    if source == ScoreSource.AI:
        return Q(score__gte=pass_mark, critical_fail_triggered=False)
    return Q(GreaterThanOrEqual(score_expression(source), pass_mark), Exact(critical_expression(source), False))


def passes_sql(score: str = "score", critical: str = "critical") -> str:  # `passes`, over a query's columns
    return f"{score} >= %(pass_mark)s AND NOT {critical}"


PASSES_SQL = passes_sql()  # `passes`, over the report query's columns


# --- which score: the AI's, or the score of record ---------------------------------------------------------------


class ScoreSource(models.TextChoices):
    AI = "ai", pgettext_lazy("score source", "AI score")
    REVIEWED = "reviewed", pgettext_lazy("score source", "reviewed score")


def clean_score_source(value, *, field: str = "score") -> ScoreSource:
    """The score a report is asked on (`ai` or `reviewed`); empty means the AI's."""
    if value is None or value == "":
        return ScoreSource.AI
    if isinstance(value, str) and value.strip().lower() in ScoreSource.values:
        return ScoreSource(value.strip().lower())
    raise ValidationError({field: _("%(field)s must be 'ai' or 'reviewed', not %(value)r.")
                                  % {"field": field, "value": value}})


def of_record(ai, reviewed):
    """The score of record's rule, for each of a call's score, critical flag and failed criteria: the
    reviewer's (kept by qa.reviews.record) where there is one, else the AI's."""
    return ai if reviewed is None else reviewed


# A call's (score, critical, failed criteria) columns on each score, as SQL over the transcription table `t`: the
# score of record is `of_record`, column by column.
def call_columns_sql(source: str, table: str = "t") -> tuple[str, str, str]:
    if source == ScoreSource.AI:
        return f"{table}.score", f"{table}.critical_fail_triggered", f"{table}.failed_criteria"
    return (f"COALESCE({table}.reviewed_score, {table}.score)",
            f"COALESCE({table}.reviewed_critical, {table}.critical_fail_triggered)",
            f"COALESCE({table}.reviewed_failed_criteria, {table}.failed_criteria)")


def score_expression(source: str):
    """A call's score on `source`, for the ORM (the score of record: `of_record`, as SQL)."""
    return F("score") if source == ScoreSource.AI else Coalesce("reviewed_score", "score")


def critical_expression(source: str):
    if source == ScoreSource.AI:
        return F("critical_fail_triggered")
    return Coalesce("reviewed_critical", "critical_fail_triggered")


def critical_q(source: str) -> Q:
    """The calls that are critical fails on `source`."""
    if source == ScoreSource.AI:
        return Q(critical_fail_triggered=True)
    return Q(Exact(critical_expression(source), True))


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


# `percentile_position` and `interpolate` as SQL, for SQLite (which has no percentile_cont): the same float
# operations in the same order, so the same bits. `count` is a non-negative integer (CAST truncates: floor).
def percentile_position_sql(count: str, fraction: str) -> tuple[str, str]:
    position = f"({fraction} * ({count} - 1))"
    return f"CAST({position} AS INTEGER)", f"({position} - CAST({position} AS INTEGER))"


def interpolate_sql(below: str, above: str, proportion: str) -> str:
    return f"({below} + {proportion} * ({above} - {below}))"


def figure(value: float, places: int = 1) -> int | float:
    """Round half up to `places` decimals; an int when nothing is left after the point (66, not 66.0).

    The value is first taken to 9 decimals, so that the last-bit differences
    between PostgreSQL's, SQLite's and Python's sums cannot tip a half.
    """
    rounded = Decimal(repr(round(value, 9))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def plain_number(value: float) -> int | float:
    """A number as stored, without a trailing .0."""
    return int(value) if float(value).is_integer() else value


# Seconds, derived from the example: it shows both calls of duration "542" as
# short while p25 is "543", and with five calls p25 is exactly the
# second-shortest duration. Rounding both the same way cannot give that. We
# truncate the durations shown (542.x -> 542) and round the thresholds half up
# (542.5 -> 543), so that duration lies in [542.5, 543). (Rounded durations with
# thresholds rounded up would fit too; the example cannot tell.) Mean durations
# are truncated like the durations; the example cannot tell that either.
def seconds_shown(value: float | None) -> int | None:
    return None if value is None else math.trunc(round(value, 6))


def seconds_shown_sql(value: str) -> str:
    """`seconds_shown`, as SQL over a float8 column: the whole seconds, one more when the fraction rounds up at 6
    decimals. Exact: Python rounds the double's exact value, which is never a tie there (0.9999995 is no binary
    fraction), and the double nearest 0.9999995 lies just above it, so `>=` that double is `>` 0.9999995."""
    return (f"(floor({value}) + CASE WHEN {value} - floor({value}) >= CAST(0.9999995 AS double precision) "
            f"THEN 1 ELSE 0 END)::bigint")


def threshold_seconds(value: float | None) -> int:
    return 0 if value is None else figure(value, 0)


def rate_figure(part: int, whole: int) -> int | float:
    return figure(part / whole * 100) if whole else 0


def mean_figure(value: float | None) -> int | float:
    return 0 if value is None else figure(value)
