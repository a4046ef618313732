"""The participant report's query (layer (a) of qa/insights/analytics.py), in its two forms side by side:
one participant's included calls (live ones only), newest first and capped, read as `ReportInputs`.

- PostgreSQL: one statement reads them once and aggregates every section in the database (GROUP BY, avg,
  stddev_samp, percentile_cont) and shapes raw_data as JSON (`_inputs_from_postgresql`).
- SQLite, which has neither percentile_cont nor stddev_samp: one statement too, aggregating every section in
  the database in SQLite's terms (`_inputs_from_sqlite`); its sections come back as rows of plain values.
- The emulator's variant (layer (c), `inputs_from_parsed`): the same calls given as rows in the mirror's
  columns, handed to the same aggregation.

Each form reads the calls on the score it is asked for (qa.mirror.report_rules.ScoreSource): the AI's, as Heify
does, or the score of record (a reviewed call's own, the AI's elsewhere; the same calls either way: those Heify
scored). Asked (`compare`, the dashboard), each also compares both scores over the same calls
(report.ReviewComparison).

tests/qa/insights/test_report_query.py compares each form with the others on the same calls.
"""

from __future__ import annotations

import gc
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date
from operator import itemgetter

from django.db import connections, transaction

from qa.db import on_postgresql
from qa.insights.report import (
    RAW_DATA_KEYS,
    RAW_DATA_ROW_SQL,
    RAW_DATA_SQLITE_COLUMNS,
    CriterionFails,
    DayStats,
    DurationStats,
    EvaluatorStats,
    ReportInputs,
    ReviewComparison,
    ScoreStats,
    Totals,
    Window,
    calls_on,
    inputs_from_calls,
    raw_data_from_sqlite,
    review_comparison,
)
from qa.mirror.models import Criterion, Evaluator, Transcription
from qa.mirror.report_rules import (
    COMPLETED,
    DURATION_PERCENTILES,
    PASSES_SQL,
    PENDING_REVIEW,
    SCORE_BUCKETS,
    ReportSettings,
    ScoreSource,
    call_columns_sql,
    duration_class_sql,
    interpolate_sql,
    passes_sql,
    percentile_position_sql,
    score_bucket_sql,
)


def inputs_from_db(
    participant_id: str | None, window: Window, config: ReportSettings, shown: int | None = None,
    leave_out: frozenset[str] = frozenset(), *, score: str = ScoreSource.AI, compare: bool = False,
) -> ReportInputs:
    """`shown`: raw_data keeps only the newest `shown` calls (every other section still covers them all).
    `leave_out`: the Heify ids of calls the report leaves out as if they were not there (a reader's blind ones).
    `score`: the score every section reads (ScoreSource). `compare`: also both scores compared (`review`)."""
    if participant_id is None:  # not accepted by Heify yet, so no calls (and filtering on None means IS NULL)
        return ReportInputs(raw_data=[], review=ReviewComparison() if compare else None)
    if on_postgresql(Transcription.objects.db):
        return _inputs_from_postgresql(participant_id, window, config, shown, leave_out, score=score, compare=compare)
    return _inputs_from_sqlite(participant_id, window, config, shown, leave_out, score=score, compare=compare)


def included_calls(participant_id: str, window: Window):
    return Transcription.objects.filter(
        participant_id=participant_id, status=COMPLETED, score__isnull=False, occurred_at__lt=window.end,
    ).order_by("-occurred_at", "-heify_id")


# PostgreSQL: one statement. The included calls are read once, from the index that holds every column the
# report reads (tx_scored_by_participant), into a materialized CTE (with k, each call's place in the report's order:
# a ROWS frame, so that the window compares no peers); whether more calls lie past the cap is one probe of that
# index beyond the oldest one read. Every section is aggregated from it by the database in as few passes over the
# calls as the sections allow: the totals, both periods, the duration percentiles (percentile_cont) and, for the
# dashboard, both scores compared, in one aggregate (`summary`); the score buckets, the days and the evaluators in
# one more (GROUPING SETS: GROUPING() says which set a row is: 3 a bucket, 5 a day, 6 an evaluator); the criteria
# from the calls that failed one; the duration classes, which need the percentiles, last. raw_data is the newest
# `shown` by k, shaped there as JSON, so that no row of it becomes Python values one column at a time; evaluator
# tags are joined per evaluator and per row shown, not per call read. One JSON text comes back; (b) rounds and
# shapes the sections. The criteria come in the order (b)'s Counter meets them (their newest call, k, then the
# name's place in its list), which decides the dashboard's ties.
# Each rule the SQL needs is written beside its Python form in (b): the pass rule, the buckets, the duration
# classes and raw_data's row. The failed criteria are the upsert's (Transcription.failed_criteria). Its WHERE
# and ORDER BY are `included_calls`'s, just above; the tests compare both paths with the payloads' one.
# {score}, {critical} and {failed} are the columns of the score asked for (report_rules.call_columns_sql: the AI's
# are the columns themselves); {review_columns}, {review} and {review_section} are written in only when both
# scores are compared.
_POSTGRESQL_REPORT = """
WITH calls AS MATERIALIZED (
    SELECT t.heify_id, t.occurred_at, {score} AS score, {critical} AS critical, t.duration,
           t.evaluator_id, t."group", {failed} AS failed{review_columns},
           row_number() OVER (ORDER BY t.occurred_at DESC, t.heify_id DESC ROWS UNBOUNDED PRECEDING) AS k
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
                            count(*) FILTER (WHERE previous AND {passes})) AS previous,
           percentile_cont(ARRAY[%(p25)s, %(p75)s]::float8[]) WITHIN GROUP (ORDER BY duration)
               FILTER (WHERE duration IS NOT NULL) AS p{review}
    FROM (SELECT *, occurred_at >= %(month_start)s AS current,
                 occurred_at >= %(previous_start)s AND occurred_at < %(month_start)s AS previous FROM calls) AS c
),
percentiles AS (SELECT p[1] AS p25, p[2] AS p75 FROM summary),
grouped AS MATERIALIZED (
    SELECT GROUPING({bucket}, (occurred_at AT TIME ZONE 'UTC')::date, evaluator_id) AS g,
           {bucket} AS bucket, (occurred_at AT TIME ZONE 'UTC')::date AS day, evaluator_id,
           count(*) AS n, avg(score) AS average, count(*) FILTER (WHERE critical) AS critical_fails,
           stddev_samp(score) AS spread, avg(duration) AS mean_duration
    FROM calls
    GROUP BY GROUPING SETS (({bucket}), ((occurred_at AT TIME ZONE 'UTC')::date), (evaluator_id))
)
SELECT json_build_object(
    'limit_reached', (SELECT n = %(limit)s FROM summary) AND EXISTS (
        SELECT FROM {transcription} AS t, oldest
        WHERE t.participant_id = %(participant)s AND t.status = %(completed)s AND t.score IS NOT NULL
          AND t.gone_at IS NULL AND t.occurred_at <= oldest.occurred_at{leave_out}
          AND (t.occurred_at < oldest.occurred_at OR t.heify_id < oldest.heify_id)
    ),
    'totals', (SELECT json_build_array(n, average, passed, critical_fails, pending) FROM summary),
    'buckets', (SELECT json_object_agg(bucket, n) FROM grouped WHERE g = 3),
    'periods', (SELECT json_build_object('current', current, 'previous', previous) FROM summary),
    'timeline', (SELECT json_agg(json_build_array(day, n, average, critical_fails)) FROM grouped WHERE g = 5),
    'evaluators', (
        SELECT json_agg(json_build_array(g.evaluator_id, e.tag, n, average, critical_fails, spread, mean_duration))
        FROM grouped AS g LEFT JOIN {evaluator} AS e ON e.heify_id = g.evaluator_id
        WHERE g.g = 6
    ),
    'criteria', (
        SELECT json_agg(json_build_array(
            f.evaluator_id, f.name, f.n,
            (SELECT c.heify_id FROM {criterion} AS c JOIN {evaluator} AS e ON e.id = c.evaluator_id
             WHERE e.heify_id = f.evaluator_id AND c.name = f.name ORDER BY c.position, c.id LIMIT 1)
        ) ORDER BY f.first)
        FROM (
            SELECT same.evaluator_id, failed.name, sum(same.n) AS n, min(same.first * 65536 + failed.place) AS first
            FROM (SELECT evaluator_id, failed, count(*) AS n, min(k) AS first FROM calls WHERE failed <> '[]'::jsonb
                  GROUP BY 1, 2)
                 AS same
                 CROSS JOIN LATERAL jsonb_array_elements_text(same.failed) WITH ORDINALITY AS failed(name, place)
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
            FROM (SELECT * FROM calls WHERE k <= %(shown)s) AS shown
            LEFT JOIN {evaluator} AS e ON e.heify_id = shown.evaluator_id
        ) AS shown
    ){review_section}
)::text
"""

# Both scores over the same calls (report.ReviewComparison's fields in order, each ScoreStats as [calls, avg,
# passed]), for the dashboard: the calls read with both scores' columns beside the asked one, compared in `summary`.
_REVIEW_COLUMNS_SQL = """,
           t.score AS ai_score, t.critical_fail_triggered AS ai_critical, {record_score} AS record_score,
           {record_critical} AS record_critical, t.reviewed_at IS NOT NULL AS reviewed"""
_REVIEW_SQL = """,
           json_build_array(
               count(*) FILTER (WHERE reviewed),
               json_build_array(count(*), avg(ai_score), count(*) FILTER (WHERE {ai_passes})),
               json_build_array(count(*), avg(record_score), count(*) FILTER (WHERE {record_passes})),
               json_build_array(count(*) FILTER (WHERE reviewed), avg(ai_score) FILTER (WHERE reviewed),
                                count(*) FILTER (WHERE reviewed AND {ai_passes})),
               json_build_array(count(*) FILTER (WHERE reviewed), avg(record_score) FILTER (WHERE reviewed),
                                count(*) FILTER (WHERE reviewed AND {record_passes}))
           ) AS review"""
_REVIEW_SECTION_SQL = """,
    'review', (SELECT review FROM summary)"""


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


# The calls a reader scores blind (qa.reviews.blinding), left out of what their report reads; only written in when there
# are some, so that every other reader's statement is the one it always was.
_LEAVE_OUT_SQL = "\n      AND NOT (t.heify_id = ANY(%(leave_out)s))"


def _statement_names(connection, score: str, compare: bool) -> dict[str, str]:
    """What either database's report statement is formatted with alike: the tables, the rules' SQL and the columns
    of the score it reports on."""
    qn = connection.ops.quote_name
    score_column, critical_column, failed_column = call_columns_sql(score)
    record_score, record_critical, _ = call_columns_sql(ScoreSource.REVIEWED)
    return {
        "transcription": qn(Transcription._meta.db_table), "evaluator": qn(Evaluator._meta.db_table),
        "criterion": qn(Criterion._meta.db_table), "passes": PASSES_SQL, "bucket": score_bucket_sql("score"),
        "duration_class": duration_class_sql("duration", "percentiles.p25", "percentiles.p75"),
        "score": score_column, "critical": critical_column, "failed": failed_column,
        "review_columns": _REVIEW_COLUMNS_SQL.format(record_score=record_score, record_critical=record_critical)
        if compare else "",
    }


def _statement_params(participant_id: str, window: Window, config: ReportSettings, shown: int | None, *,
                      leave_out, adapt=lambda moment: moment) -> dict:
    """Either statement's parameters; `adapt` writes a moment as the database reads it."""
    return {
        "participant": participant_id, "completed": COMPLETED, "end": adapt(window.end), "limit": config.query_limit,
        "month_start": adapt(window.month_start), "previous_start": adapt(window.previous_start),
        "pass_mark": config.pass_mark, "pending": PENDING_REVIEW,
        "p25": DURATION_PERCENTILES[0], "p75": DURATION_PERCENTILES[1],
        "shown": config.query_limit if shown is None else shown, "leave_out": leave_out,
    }


def _inputs_from_postgresql(
    participant_id: str, window: Window, config: ReportSettings, shown: int | None = None,
    leave_out: frozenset[str] = frozenset(), *, score: str = ScoreSource.AI, compare: bool = False,
) -> ReportInputs:
    connection = connections[Transcription.objects.db]
    sql = _POSTGRESQL_REPORT.format(
        **_statement_names(connection, score, compare),
        raw_row=RAW_DATA_ROW_SQL, leave_out=_LEAVE_OUT_SQL if leave_out else "",
        review=_REVIEW_SQL.format(ai_passes=passes_sql("ai_score", "ai_critical"),
                                  record_passes=passes_sql("record_score", "record_critical")) if compare else "",
        review_section=_REVIEW_SECTION_SQL if compare else "",
    )
    params = _statement_params(participant_id, window, config, shown, leave_out=sorted(leave_out))
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(_POSTGRESQL_SETTINGS)
        cursor.execute(sql, params)
        answer = cursor.fetchone()[0]
    def stats(row: list | None) -> ScoreStats:
        return ScoreStats(*row) if row else ScoreStats()

    with _gc_paused():
        found = json.loads(answer)
        review = None
        if compare:
            reviewed, *both = found["review"]
            review = ReviewComparison(reviewed, *(stats(row) for row in both))
        if not found["raw_data"]:
            return ReportInputs(raw_data=[], review=review)
        raw_data = [dict(zip(RAW_DATA_KEYS, row, strict=True)) for row in found["raw_data"]]

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
        review=review,
    )


# SQLite: one statement too, aggregating every section in the database as PostgreSQL's does, in SQLite's terms. It
# has neither percentile_cont nor stddev_samp, nor JSON that keeps a float's every digit. The included calls are
# read once, from the index that holds every column the report reads (tx_dashboard_key_sqlite, migration 0039),
# into a materialized CTE; whether more lie past the cap is one probe of that index beyond the oldest one read. The
# duration percentiles are read from the durations' sorted order by the rule's own arithmetic
# (report_rules.percentile_position_sql, interpolate_sql); each evaluator's spread is the sum of squared deviations
# from its mean (two passes; the square root in Python). Each section comes back as rows of plain values, one
# `kind` per section (UNION ALL, each padded to the widest), raw_data's rows among them (the newest `shown`),
# shaped by (b)'s raw_data_row_from_sqlite and put in the report's order by their date and id (the date's text
# sorts as the date does). The criteria come in the order (b)'s Counter meets them (their newest call, then the
# name's place in its list), which decides ties. The per-row rules are the SQL forms written beside (b)'s, as on
# PostgreSQL; rounding and every figure shown stay in Python. The WHERE, ORDER BY and cap are `included_calls`'s.
_SQLITE_CALLS = """
WITH calls AS MATERIALIZED (
    SELECT t.heify_id, t.occurred_at, {score} AS score, {critical} AS critical, t.duration, t.evaluator_id,
           t."group", {failed} AS failed{review_columns}
    FROM {transcription} AS t
    WHERE t.participant_id = %(participant)s AND t.status = %(completed)s AND t.score IS NOT NULL
      AND t.gone_at IS NULL AND t.occurred_at < %(end)s{leave_out}
    ORDER BY t.occurred_at DESC, t.heify_id DESC
    LIMIT %(limit)s
),
oldest AS MATERIALIZED (SELECT occurred_at, heify_id FROM calls ORDER BY occurred_at, heify_id LIMIT 1),
positions AS MATERIALIZED (
    SELECT which, m, {below} AS below, {proportion} AS proportion
    FROM (SELECT count(*) AS m FROM calls WHERE duration IS NOT NULL) AS counted,
         (SELECT 1 AS which, %(p25)s AS f UNION ALL SELECT 2, %(p75)s) AS fractions
    WHERE m > 0
),
timed AS MATERIALIZED (  -- the durations in order, only the places the percentiles read
    SELECT i, duration
    FROM (SELECT duration, row_number() OVER (ORDER BY duration) - 1 AS i FROM calls WHERE duration IS NOT NULL)
    WHERE i IN (SELECT below FROM positions UNION ALL SELECT min(below + 1, m - 1) FROM positions)
),
percentiles AS MATERIALIZED (
    SELECT max(CASE WHEN which = 1 THEN value END) AS p25, max(CASE WHEN which = 2 THEN value END) AS p75
    FROM (SELECT p.which, {interpolated} AS value
          FROM positions AS p JOIN timed AS lo ON lo.i = p.below JOIN timed AS hi ON hi.i = min(p.below + 1, p.m - 1))
)
"""
# A call's place in the report's order, as one text that sorts as (occurred_at, heify_id) does: the stored date's
# text (with microseconds only when there are some: "…:00" sorts before "…:00.000001", as a space before a dot).
_SQLITE_PLACE = "occurred_at || ' ' || heify_id"


def _stats_sql(where: str, score: str, passes: str) -> tuple[str, str, str]:
    """A ScoreStats (count, mean, passed) over the calls `where` holds for, as three aggregates of one pass."""
    return (f"count(*) FILTER (WHERE {where})", f"avg({score}) FILTER (WHERE {where})",
            f"count(*) FILTER (WHERE ({where}) AND {passes})")


# Each section: (kind, k, its values, FROM ...).
_SQLITE_SECTIONS = (
    ("summary", "NULL", (
        "count(*)", "avg(score)", "count(*) FILTER (WHERE {passes})", "count(*) FILTER (WHERE critical)",
        "count(*) FILTER (WHERE critical AND \"group\" = %(pending)s)",
        """count(*) = %(limit)s AND EXISTS (
           SELECT 1 FROM {transcription} AS t
           WHERE t.participant_id = %(participant)s AND t.status = %(completed)s AND t.score IS NOT NULL
             AND t.gone_at IS NULL AND t.occurred_at <= (SELECT occurred_at FROM oldest){leave_out}
             AND (t.occurred_at < (SELECT occurred_at FROM oldest) OR t.heify_id < (SELECT heify_id FROM oldest)))""",
        *_stats_sql("occurred_at >= %(month_start)s", "score", "{passes}"),
        *_stats_sql("occurred_at >= %(previous_start)s AND occurred_at < %(month_start)s", "score", "{passes}"),
    ), "FROM calls"),
    ("bucket", "NULL", ("bucket", "n"), "FROM (SELECT {bucket} AS bucket, count(*) AS n FROM calls GROUP BY bucket)"),
    ("day", "NULL", ("day", "n", "average", "critical_fails"), """FROM (
        SELECT substr(occurred_at, 1, 10) AS day, count(*) AS n, avg(score) AS average,
               count(*) FILTER (WHERE critical) AS critical_fails
        FROM calls GROUP BY day)"""),
    ("evaluator", "NULL", ("g.evaluator_id", "e.tag", "n", "average", "critical_fails", "squares", "mean_duration"),
     """FROM (
        SELECT c.evaluator_id, count(*) AS n, avg(c.score) AS average,
               count(*) FILTER (WHERE c.critical) AS critical_fails,
               sum((c.score - m.average) * (c.score - m.average)) AS squares, avg(c.duration) AS mean_duration
        FROM calls AS c
        JOIN (SELECT coalesce(evaluator_id, '') AS evaluator, avg(score) AS average FROM calls GROUP BY evaluator) AS m
             ON m.evaluator = coalesce(c.evaluator_id, '')  -- '' for none: an equality SQLite can index
        GROUP BY c.evaluator_id) AS g
    LEFT JOIN {evaluator} AS e ON e.heify_id = g.evaluator_id"""),
    # `first`: the criterion's newest call's place, then the name's place in its list (most first).
    ("criterion", "first", ("f.evaluator_id", "f.name", "f.n", """(
        SELECT c.heify_id FROM {criterion} AS c JOIN {evaluator} AS e ON e.id = c.evaluator_id
        WHERE e.heify_id = f.evaluator_id AND c.name = f.name ORDER BY c.position, c.id LIMIT 1)"""), """FROM (
        SELECT same.evaluator_id, failed.value AS name, sum(same.n) AS n,
               max(same.first || ' ' || printf('%%06d', 999999 - failed.key)) AS first
        FROM (SELECT evaluator_id, failed, count(*) AS n, max({place}) AS first FROM calls WHERE failed <> '[]'
              GROUP BY evaluator_id, failed) AS same, json_each(same.failed) AS failed
        GROUP BY same.evaluator_id, failed.value) AS f"""),
    ("percentiles", "NULL", ("p25", "p75"), "FROM percentiles"),
    ("class", "NULL", ("class", "n", "average"), """FROM (
        SELECT {duration_class} AS class, count(*) AS n, avg(score) AS average
        FROM calls, percentiles WHERE duration IS NOT NULL GROUP BY class)"""),
)
# Both scores over the same calls (the dashboard), in one pass: the reviewed calls' count, then
# report.ReviewComparison's ScoreStats in order.
_SQLITE_REVIEW_SECTION = ("review", "NULL", (
    "count(*) FILTER (WHERE reviewed)",
    *_stats_sql("1", "ai_score", "{ai_passes}"), *_stats_sql("1", "record_score", "{record_passes}"),
    *_stats_sql("reviewed", "ai_score", "{ai_passes}"), *_stats_sql("reviewed", "record_score", "{record_passes}"),
), "FROM calls")
# raw_data's rows: every call, or the newest `shown` ({raw_calls}); the evaluator's tag is the evaluator section's.
_SQLITE_RAW_SECTION = ("raw", "NULL", RAW_DATA_SQLITE_COLUMNS, "FROM {raw_calls}")
_SQLITE_SHOWN = "(SELECT * FROM calls ORDER BY occurred_at DESC, heify_id DESC LIMIT %(shown)s)"
_SQLITE_LEAVE_OUT_SQL = "\n      AND t.heify_id NOT IN (SELECT value FROM json_each(%(leave_out)s))"


def _sqlite_statement(compare: bool) -> str:
    sections = [*_SQLITE_SECTIONS, *([_SQLITE_REVIEW_SECTION] if compare else []), _SQLITE_RAW_SECTION]
    width = max(len(values) for _, _, values, _ in sections)
    selects = []
    for kind, place, values, source in sections:
        columns = [f"'{kind}'", place, *values, *["NULL"] * (width - len(values))]
        selects.append(f"SELECT {', '.join(columns)}\n{source}")
    return _SQLITE_CALLS + "\nUNION ALL\n".join(selects)


def _inputs_from_sqlite(
    participant_id: str, window: Window, config: ReportSettings, shown: int | None = None,
    leave_out: frozenset[str] = frozenset(), *, score: str = ScoreSource.AI, compare: bool = False,
) -> ReportInputs:
    connection = connections[Transcription.objects.db]
    below, proportion = percentile_position_sql("m", "f")
    sql = _sqlite_statement(compare).format(
        **_statement_names(connection, score, compare),
        below=below, proportion=proportion, interpolated=interpolate_sql("lo.duration", "hi.duration", "p.proportion"),
        leave_out=_SQLITE_LEAVE_OUT_SQL if leave_out else "",
        ai_passes=passes_sql("ai_score", "ai_critical"), record_passes=passes_sql("record_score", "record_critical"),
        place=_SQLITE_PLACE, raw_calls="calls" if shown is None else _SQLITE_SHOWN,
    )
    params = _statement_params(participant_id, window, config, shown, leave_out=json.dumps(sorted(leave_out)),
                               adapt=connection.ops.adapt_datetimefield_value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()

    sections: dict[str, list[tuple]] = defaultdict(list)
    for row in found:
        sections[row[0]].append(row[1:])
    review = None
    if compare:
        (_, reviewed, *both), = sections["review"]
        review = ReviewComparison(reviewed, *(ScoreStats(*both[i:i + 3]) for i in range(0, 12, 3)))
    (_, calls, average, passed, critical_fails, pending, limit_reached, *periods), = sections["summary"]
    if not calls:
        return ReportInputs(raw_data=[], review=review)
    tags = {evaluator_id: tag for _, evaluator_id, tag, *_ in sections["evaluator"]}
    # Newest first: by date (its text, as isoformat writes it, sorts as the date does: "…:00+00:00" before
    # "…:00.000001+00:00") and id; SQLite gives them in that order already, which the sort finds in one pass.
    shown_rows = sorted(sections["raw"], key=itemgetter(2, 1), reverse=True)
    with _gc_paused():
        raw_data = raw_data_from_sqlite((row[1:9] for row in shown_rows), tags, COMPLETED)
    buckets = {label: n for _, label, n, *_ in sections["bucket"]}
    (_, p25, p75, *_), = sections["percentiles"]
    classes = {name: ScoreStats(n, mean) for _, name, n, mean, *_ in sections["class"]}
    return ReportInputs(
        raw_data=raw_data,
        query_limit_reached=bool(limit_reached),
        totals=Totals(
            overall=ScoreStats(calls, average, passed), critical_fails=critical_fails, pending_critical_reviews=pending,
            buckets={label: buckets.get(label, 0) for label, _ in SCORE_BUCKETS},
            current=ScoreStats(*periods[0:3]), previous=ScoreStats(*periods[3:6]),
        ),
        timeline=[DayStats(date.fromisoformat(day), n, mean, critical)
                  for _, day, n, mean, critical, *_ in sections["day"]],
        evaluators=[
            EvaluatorStats(evaluator_id, tag, n, mean, critical, math.sqrt(squares / (n - 1)) if n >= 2 else None,
                           mean_duration)
            for _, evaluator_id, tag, n, mean, critical, squares, mean_duration, *_ in sections["evaluator"]
        ],
        criteria=[
            CriterionFails(id=criterion_id, evaluator_id=evaluator_id, name=name, fail_count=n)
            for _, evaluator_id, name, n, criterion_id, *_ in sorted(sections["criterion"], key=itemgetter(0),
                                                                     reverse=True)
        ],
        durations=DurationStats(
            p25=p25, p75=p75, **{name: classes.get(name, ScoreStats()) for name in ("short", "medium", "long")},
        ) if p25 is not None else DurationStats(),
        review=review,
    )


# The score of record's columns, as (c)'s rows may carry them (report.CallRow's last four).
_RECORD_COLUMNS = ("reviewed_score", "reviewed_critical", "reviewed_failed_criteria", "reviewed_at")


def inputs_from_parsed(
    participant_id: str, transcriptions: Iterable[dict], evaluators: Iterable[tuple[dict, list[dict]]],
    window: Window, config: ReportSettings, *, score: str = ScoreSource.AI, compare: bool = False,
) -> ReportInputs:
    """(c): rows in the mirror's columns. Heify's JSON says nothing of reviews: a row without the score of
    record's columns (reviewed_score, ...) is a call nobody reviewed."""
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
    calls, both = calls_on((
        (r["heify_id"], r["occurred_at"], r["score"], r["critical_fail_triggered"], r["duration"],
         r["evaluator_id"], tags.get(r["evaluator_id"]), r["group"], r["status"], r["failed_criteria"],
         *(r.get(column) for column in _RECORD_COLUMNS))
        for r in rows[: config.query_limit]
    ), score)
    return inputs_from_calls(
        calls, limit_reached=len(rows) > config.query_limit, window=window, config=config,
        criterion_ids=criterion_ids, review=review_comparison(both, config.pass_mark) if compare else None,
    )
