"""The participant report's query (layer (a) of qa/insights/analytics.py), in its two forms side by side:
one participant's included calls (live ones only), newest first and capped, read as `ReportInputs`.

- PostgreSQL: one statement reads them once and aggregates every section in the database (GROUP BY, avg,
  stddev_samp, percentile_cont) and shapes raw_data as JSON (`_inputs_from_postgresql`).
- SQLite, which has neither percentile_cont nor stddev_samp: the same rows read once and aggregated in Python
  by qa/insights/report.py (`_inputs_from_rows`).
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
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime

from django.db import connections, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from qa.db import on_postgresql
from qa.insights.report import (
    RAW_DATA_KEYS,
    RAW_DATA_ROW_SQL,
    Call,
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
    passes_sql,
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
    return _inputs_from_rows(participant_id, window, config, leave_out, score=score, compare=compare, shown=shown)


def included_calls(participant_id: str, window: Window):
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
# and ORDER BY are `included_calls`'s, just above; the tests compare both paths with the payloads' one.
# {score}, {critical} and {failed} are the columns of the score asked for (report_rules.call_columns_sql: the AI's
# are the columns themselves); {review_columns} and {review} are written in only when both scores are compared.
_POSTGRESQL_REPORT = """
WITH calls AS MATERIALIZED (
    SELECT t.heify_id, t.occurred_at, {score} AS score, {critical} AS critical, t.duration,
           t.evaluator_id, t."group", {failed} AS failed{review_columns}
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
    ){review}
)::text
"""

# Both scores over the same calls (report.ReviewComparison's fields in order, each ScoreStats as [calls, avg,
# passed]), for the dashboard: the calls read with both scores' columns beside the asked one.
_REVIEW_COLUMNS_SQL = """,
           t.score AS ai_score, t.critical_fail_triggered AS ai_critical, {record_score} AS record_score,
           {record_critical} AS record_critical, t.reviewed_at IS NOT NULL AS reviewed"""
_REVIEW_SQL = """,
    'review', (
        SELECT json_build_array(
            count(*) FILTER (WHERE reviewed),
            json_build_array(count(*), avg(ai_score), count(*) FILTER (WHERE {ai_passes})),
            json_build_array(count(*), avg(record_score), count(*) FILTER (WHERE {record_passes})),
            json_build_array(count(*) FILTER (WHERE reviewed), avg(ai_score) FILTER (WHERE reviewed),
                             count(*) FILTER (WHERE reviewed AND {ai_passes})),
            json_build_array(count(*) FILTER (WHERE reviewed), avg(record_score) FILTER (WHERE reviewed),
                             count(*) FILTER (WHERE reviewed AND {record_passes}))
        ) FROM calls
    )"""


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


def _inputs_from_postgresql(
    participant_id: str, window: Window, config: ReportSettings, shown: int | None = None,
    leave_out: frozenset[str] = frozenset(), *, score: str = ScoreSource.AI, compare: bool = False,
) -> ReportInputs:
    connection = connections[Transcription.objects.db]
    qn = connection.ops.quote_name
    score_column, critical_column, failed_column = call_columns_sql(score)
    record_score, record_critical, _ = call_columns_sql(ScoreSource.REVIEWED)
    sql = _POSTGRESQL_REPORT.format(
        transcription=qn(Transcription._meta.db_table), evaluator=qn(Evaluator._meta.db_table),
        criterion=qn(Criterion._meta.db_table), passes=PASSES_SQL, bucket=score_bucket_sql("score"),
        duration_class=duration_class_sql("duration", "percentiles.p25", "percentiles.p75"),
        raw_row=RAW_DATA_ROW_SQL, leave_out=_LEAVE_OUT_SQL if leave_out else "",
        score=score_column, critical=critical_column, failed=failed_column,
        review_columns=_REVIEW_COLUMNS_SQL.format(record_score=record_score, record_critical=record_critical)
        if compare else "",
        review=_REVIEW_SQL.format(ai_passes=passes_sql("ai_score", "ai_critical"),
                                  record_passes=passes_sql("record_score", "record_critical")) if compare else "",
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


# The fallback (SQLite, which has neither percentile_cont nor stddev_samp): the same included calls, one read of
# their rows, aggregated by (b) in Python.
_RAW_COLUMNS = (  # a Call's fields, in its order
    "heify_id", "occurred_at", "score", "critical_fail_triggered", "duration", "evaluator_id", "evaluator__tag",
    "group", "status", "failed_criteria",
)
_RECORD_COLUMNS = ("reviewed_score", "reviewed_critical", "reviewed_failed_criteria", "reviewed_at")  # report.CallRow's
_DATE_COLUMNS = ("occurred_at", "reviewed_at")


def _inputs_from_rows(participant_id: str, window: Window, config: ReportSettings,
                      leave_out: frozenset[str] = frozenset(), *, score: str = ScoreSource.AI,
                      compare: bool = False, shown: int | None = None) -> ReportInputs:
    # One row more than the cap tells whether it was reached.
    included = included_calls(participant_id, window)
    if leave_out:
        included = included.exclude(heify_id__in=leave_out)
    # The dates as their text: the sqlite3 module would parse each one with Django's converter (a regular
    # expression in Python), and datetime.fromisoformat reads the same text ten times as fast.
    included = included.annotate(**{f"{column}_text": Cast(column, TextField()) for column in _DATE_COLUMNS})
    columns = [f"{column}_text" if column in _DATE_COLUMNS else column for column in _RAW_COLUMNS]
    if score == ScoreSource.AI and not compare:  # Heify's report reads what it always read
        rows = _sqlite_rows(included.values_list(*columns)[: config.query_limit + 1])
        calls, review = [Call(*row) for row in rows[: config.query_limit]], None
    else:
        columns += [f"{column}_text" if column in _DATE_COLUMNS else column for column in _RECORD_COLUMNS]
        rows = _sqlite_rows(included.values_list(*columns)[: config.query_limit + 1])
        calls, both = calls_on(rows[: config.query_limit], score)
        review = review_comparison(both, config.pass_mark) if compare else None
    return inputs_from_calls(
        calls, limit_reached=len(rows) > config.query_limit, window=window, config=config,
        criterion_ids=_db_criterion_ids(calls), review=review, shown=shown,
    )


def _sqlite_rows(rows: QuerySet) -> list[tuple]:
    """`rows` (a values_list of _RAW_COLUMNS, then maybe _RECORD_COLUMNS), each value as Django gives it.

    Django converts a row's values one field at a time, through a chain of converters per value; for 20,000
    calls that was a third of the report. Here the statement is Django's own, and each value is converted by
    the rule of its field on SQLite (DatabaseOperations.convert_*_value, JSONField.from_db_value): a date naive
    in UTC (read as its text), a boolean as it is, JSON from its text (a call that failed nothing: "[]", most of
    them)."""
    sql, params = rows.query.get_compiler(rows.db).as_sql()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    with _gc_paused():
        return [_sqlite_row(*row) for row in found]


def _sqlite_row(heify_id, occurred_at, score, critical, duration, evaluator_id, tag, group, status, failed,
                *record) -> tuple:
    row = (heify_id, _sqlite_datetime(occurred_at), score, critical, duration, evaluator_id, tag, group,
           status, [] if failed == "[]" else json.loads(failed))
    if not record:
        return row
    reviewed_score, reviewed_critical, reviewed_failed, reviewed_at = record
    return (*row, reviewed_score, reviewed_critical,
            None if reviewed_failed is None else json.loads(reviewed_failed), _sqlite_datetime(reviewed_at))


def _sqlite_datetime(value: datetime | str | None) -> datetime | None:
    """A DateTimeField's value as Django reads it from SQLite with USE_TZ: its text, naive in UTC (as
    DatabaseOperations.adapt_datetimefield_value writes it), made aware in UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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
