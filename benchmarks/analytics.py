"""Benchmark (not a test): qa.insights.analytics.participant_report on PostgreSQL, with 1,000,000 calls in the table.

    .venv/bin/python benchmarks/analytics.py [--runs 15] [--warm-up 2] [--no-explain] [--keep] [--reuse NAME]

It creates a throw-away PostgreSQL database (heify_bench_analytics_<pid> on
BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres; dropped
at the end, whatever happens), migrates it and fills it:

- 4 evaluators (Evaluator rows, 6 Criterion rows each, some names shared
  between evaluators), used by 40/30/25/5% of the calls;
- 63 participants (Participant rows): "target" with 20,000 calls (every 50th
  row, so spread over the whole table like calls pulled over months), "small"
  with 300, "heavy" with 30,000 (more included calls than ANALYTICS_QUERY_LIMIT,
  so the report takes its capped path), 60 others sharing the rest (3% of the
  calls have no participant);
  (That is the standard shape. SHAPES also holds a skewed one, which
  benchmarks/screens.py --shape skewed fills: "target" with 40% of the calls,
  fifty others sharing the rest unevenly, over 365 days.)
- 1,000,000 transcriptions straight from SQL (INSERT ... SELECT ... FROM
  generate_series, as benchmarks/api_list.py does, with its columns and its
  status mix: 88% COMPLETED, 9% FAILED, 2% IN_PROGRESS, 1% PENDING), dated over
  the 6 months up to 2026-11-23; completed calls have a score with one decimal
  from 0 to 100 (5% at 20 or below, the rest 20-100, mean about 62), 6% of them
  a critical fail, and 3 to 6 criteria results {name, passed} taken from their
  evaluator's Criterion rows, 15% of them failed (their names in
  failed_criteria, and each a CriterionResult row, as the upsert derives
  them); durations 60-1200 s (0.5%
  without one); 30% of the calls in a review group.

Then VACUUM (ANALYZE), and for each of the three participants it times
participant_report(participant, as_of=2026-11-23) (the median of --runs runs
after --warm-up runs) against two references over the same rows (the
participant's included calls): one plain SQL aggregate (PLAIN_SQL: count, mean,
sample standard deviation and a duration percentile; one row back) and a plain
fetch of the rows (PLAIN_ROWS_SQL: the columns raw_data shows, newest first, up
to the cap; every row back, as the report needs them). Then it prints where one
report's time goes (`breakdown`, the median over BREAKDOWN_RUNS reports): each
query's time in cursor.execute (through connection.execute_wrapper), labelled
with the qa.insights.analytics function that sent it, and the steps in Python (reading
the query's answer into ReportInputs, build_report). Unless --no-explain, it
prints EXPLAIN (ANALYZE, BUFFERS) of the report's statement for "target", after
its SET LOCAL settings, in one transaction.

--keep leaves the database in place (its name is printed); --reuse NAME times an
existing filled database instead of creating one (and does not drop it).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, benchmarks/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from benchmarks.api_list import (  # noqa: E402  (the path above first)
    CONFIGURATIONS,
    EVALUATORS,
    POSTGRES_ADMIN_URL,
    SEGMENTS,
    _sql_list,
    bench_environment,
    transcription_insert,
)

TOTAL = 1_000_000
AS_OF = date(2026, 11, 23)
TARGET = "00000000-0000-4000-b000-000000000001"  # 20,000 calls: i % 50 = 0
SMALL = "00000000-0000-4000-b000-000000000002"  # 300 calls: i % 3000 = 7, i <= 900,000
HEAVY = "00000000-0000-4000-b000-000000000003"  # 30,000 calls: i % 100 in (25, 26, 75)
OTHERS = [f"00000000-0000-4000-b000-{n:012d}" for n in range(101, 161)]
CASES = (("target", TARGET, 20_000), ("small", SMALL, 300), ("heavy (capped)", HEAVY, 30_000))
EVALUATOR_TAGS = ("Support", "Sales", "Collections", "Retention")
CRITERIA = (
    ("Greeting", "Identity check", "Diagnosis", "Resolution", "Empathy", "No offensive language"),
    ("Greeting", "Needs discovery", "Offer presented", "Objection handling", "Closing", "No offensive language"),
    ("Greeting", "Identity check", "Debt stated", "Payment plan offered", "Legal notice read", "Closing"),
    ("Greeting", "Reason for leaving", "Retention offer", "Empathy", "Next steps", "Closing"),
)
BREAKDOWN_RUNS = 5

# The rows. Each row draws from its own hashes of i: h (api_list's: status, group), s (score), d (duration),
# e (evaluator); `at` is the call's date, in the DAYS days (the shape's) before 2026-11-24 00:00 UTC.
INSERT = """
INSERT INTO qa_transcription ({columns})
SELECT {values}
FROM (
    SELECT i, h, at,
           (hashtext('s' || i::text) & 2147483647)::bigint AS s,
           (hashtext('d' || i::text) & 2147483647)::bigint AS d,
           CASE WHEN e % 100 < 40 THEN 1 WHEN e % 100 < 70 THEN 2 WHEN e % 100 < 95 THEN 3 ELSE 4 END AS ev
    FROM (
        SELECT i, (hashtext(i::text) & 2147483647)::bigint AS h,
               (hashtext('e' || i::text) & 2147483647)::bigint AS e,
               timestamptz '2026-11-24 00:00:00+00'
                 - (1 + (hashtext('t' || i::text) & 2147483647) % (DAYS * 86400)) * interval '1 second' AS at
        FROM generate_series(1, {count}) AS i
    ) AS r
) AS g
"""
COMPLETED_ROW = "h % 100 < 88"  # api_list's status expression: COMPLETED below 88
# The standard shape's participants: "target" every 50th call, "small" 300, "heavy" 30,000, 60 others the rest.
PARTICIPANT_STANDARD = (
    f"CASE WHEN i % 50 = 0 THEN '{TARGET}' WHEN i % 3000 = 7 AND i <= 900000 THEN '{SMALL}' "
    f"WHEN i % 100 IN (25, 26, 75) THEN '{HEAVY}' WHEN (h / 13) % 100 < 3 THEN NULL "
    "ELSE (ARRAY[{others}])[1 + (h / 1300) % 60] END"
)
# The skewed shape's: "target" holds 40% of the calls (every i % 5 < 2), fifty others the rest (but the 3% with
# no participant), unevenly too: the k-th of them (1 to 50) draws (2k - 1) in 2,500 of the rest, so "small" (the
# first) about 0.02% of the calls and "heavy" (the last) about 2.3%.
PARTICIPANT_SKEWED = (
    f"CASE WHEN i % 5 < 2 THEN '{TARGET}' WHEN (h / 13) % 100 < 3 THEN NULL "
    "ELSE (ARRAY[{skewed_others}])[1 + floor(sqrt((h / 1300) % 2500))::int] END"
)
SKEWED_OTHERS = [SMALL, *OTHERS[:48], HEAVY]
# Each shape: the participants' expression, and the days of history (ending 2026-11-24, before "today").
SHAPES = {"standard": (PARTICIPANT_STANDARD, 183), "skewed": (PARTICIPANT_SKEWED, 365)}
OVERRIDES = {
    "evaluator_id": "(ARRAY[{evaluators}])[ev]",
    "score": f"CASE WHEN {COMPLETED_ROW} THEN (CASE WHEN s % 100 < 5 THEN (s / 100) % 201 / 10.0 "
             "ELSE least(100, 20 + ((s / 100) % 501 + (s / 100000) % 401) / 10.0) END)::float8 END",
    "critical_fail_triggered": f"{COMPLETED_ROW} AND (s / 7) % 100 < 6",
    "duration": "CASE WHEN d % 1000 < 5 THEN NULL ELSE 60 + (d / 1000) % 11401 / 10.0 END",
    "group": "CASE (h / 17) % 10 WHEN 0 THEN 'PENDING_REVIEW' WHEN 1 THEN 'UNDER_REVIEW' WHEN 2 THEN 'ARCHIVED' END",
    # The first 3-6 of the evaluator's criteria (by position), 15% of them failed.
    "criteria_results": f"CASE WHEN {COMPLETED_ROW} THEN (SELECT jsonb_agg(jsonb_build_object("
                        "'name', c.name, 'passed', (hashtext(i::text || c.name) & 2147483647) % 100 >= 15) "
                        "ORDER BY c.position) FROM qa_criterion AS c JOIN qa_evaluator AS e ON e.id = c.evaluator_id "
                        "WHERE e.heify_id = (ARRAY[{evaluators}])[g.ev] AND c.position < 3 + (h / 7) % 4) "
                        "ELSE '[]'::jsonb END",
    # What the upsert derives from those results (criterion_results.failed_criteria): the names of the failed ones.
    "failed_criteria": f"CASE WHEN {COMPLETED_ROW} THEN (SELECT coalesce(jsonb_agg(c.name ORDER BY c.position), "
                       "'[]'::jsonb) FROM qa_criterion AS c JOIN qa_evaluator AS e ON e.id = c.evaluator_id "
                       "WHERE e.heify_id = (ARRAY[{evaluators}])[g.ev] AND c.position < 3 + (h / 7) % 4 "
                       "AND (hashtext(i::text || c.name) & 2147483647) % 100 < 15) ELSE '[]'::jsonb END",
}
# Each call's results typed, as the upsert writes them (qa.mirror.criterion_results); the fill's evaluators have
# no revisions, so none is pinned to one.
CRITERION_RESULTS_INSERT = """
INSERT INTO qa_criterionresult (transcription_id, position, name, passed, value, revision, type, weight)
SELECT t.id, r.n - 1, r.item ->> 'name', (r.item -> 'passed')::boolean, NULL, NULL, '', NULL
FROM qa_transcription AS t, jsonb_array_elements(t.criteria_results) WITH ORDINALITY AS r(item, n)
"""

# The references: one plain aggregate over the rows the report covers (the participant's included calls), and a
# plain fetch of those rows (the columns raw_data shows, newest first, one more than the cap) through a cursor.
PLAIN_SQL = """
SELECT count(*), avg(score), stddev_samp(score), percentile_cont(0.25) WITHIN GROUP (ORDER BY duration)
FROM qa_transcription
WHERE participant_id = %s AND status = 'COMPLETED' AND score IS NOT NULL AND occurred_at < %s
"""
PLAIN_ROWS_SQL = """
SELECT heify_id, occurred_at, score, critical_fail_triggered, duration, evaluator_id, "group", status, failed_criteria
FROM qa_transcription
WHERE participant_id = %s AND status = 'COMPLETED' AND score IS NOT NULL AND occurred_at < %s
ORDER BY occurred_at DESC, heify_id DESC LIMIT %s
"""


# --- filling the database ----------------------------------------------------------------------------------


def fill_objects(shape: str = "standard") -> None:
    """The evaluators, their criteria and the participants of `shape` (through the ORM, on any database)."""
    from qa.mirror.models import Criterion, Evaluator, Participant

    evaluators = Evaluator.objects.bulk_create(
        Evaluator(heify_id=heify_id, client_id="client-bench", tag=tag, language="en")
        for heify_id, tag in zip(EVALUATORS, EVALUATOR_TAGS, strict=True)
    )
    Criterion.objects.bulk_create(
        Criterion(evaluator=evaluator, heify_id=f"{evaluator.heify_id[:-4]}{n + 1:02d}{k:02d}", position=n,
                  name=name, type="STRICT" if name == "No offensive language" else "BOOLEAN",
                  weight=0 if name == "No offensive language" else 20)
        for k, (evaluator, names) in enumerate(zip(evaluators, CRITERIA, strict=True))
        for n, name in enumerate(names)
    )
    Participant.objects.bulk_create(
        Participant(heify_id=heify_id, client_id="client-bench", tag=tag)
        for heify_id, tag in [(TARGET, "Target agent"), (SMALL, "Small agent"), (HEAVY, "Heavy agent")]
        + [(heify_id, f"Agent {n}") for n, heify_id in enumerate(OTHERS if shape == "standard" else OTHERS[:48],
                                                                 start=1)]
    )


def fill(total: int = TOTAL, shape: str = "standard") -> dict:
    """fill_objects, then `total` calls of `shape` (SHAPES) straight from SQL (PostgreSQL), then VACUUM (ANALYZE)."""
    from django.db import connection

    from qa.mirror.criterion_results import CriterionResult, failed_criteria, parse_criteria_results, pinned_rows

    fill_objects(shape)
    participant, days = SHAPES[shape]
    expression = {
        "configurations": _sql_list(c for c, _ in CONFIGURATIONS),
        "configuration_tags": _sql_list(t for _, t in CONFIGURATIONS),
        "evaluators": _sql_list(EVALUATORS), "others": _sql_list(OTHERS), "skewed_others": _sql_list(SKEWED_OTHERS),
        "segments": SEGMENTS, "criteria": "[]",
    }
    sql, _ = transcription_insert(connection, expression, total, {**OVERRIDES, "participant_id": participant},
                                  template=INSERT.replace("DAYS", str(days)))
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: the % in it are SQL's modulo
        cursor.execute(CRITERION_RESULTS_INSERT)
        # The fill's failed_criteria and typed results must be what the upsert would have derived from the results.
        cursor.execute("SELECT id, criteria_results::text, failed_criteria::text FROM qa_transcription "
                       "WHERE id % 997 = 0")
        for pk, results, failed in cursor.fetchall():
            assert failed_criteria(json.loads(results)) == json.loads(failed), (results, failed)
            typed = list(CriterionResult.objects.filter(transcription_id=pk).values(
                "position", "name", "passed", "value", "revision", "type", "weight"))
            expected = pinned_rows(parse_criteria_results(json.loads(results)), revision=None, criteria=None)
            assert typed == expected, (results, typed)
        # VACUUM too: a table that has been in use for months has its visibility map set and its hint bits
        # written; a freshly filled one would have autovacuum start on it in the middle of the timings.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('qa_transcription'))")
        size = cursor.fetchone()[0]
    return {"seconds": time.monotonic() - started, "size": size}


# --- timing --------------------------------------------------------------------------------------------------


def _median_ms(function, runs: int, warm_up: int) -> tuple[float, float, float]:
    for _ in range(warm_up):
        function()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), min(timings), max(timings)


def _sender() -> str:
    """The qa.insights.analytics function whose query this is (the innermost one on the stack)."""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_globals.get("__name__") == "qa.insights.analytics":
            return frame.f_code.co_name
        frame = frame.f_back
    return "?"


# The report's steps, timed by wrapping these qa.insights.analytics functions (inclusive times; one that is missing,
# after a change there, is simply not shown).
STEPS = ("inputs_from_db", "build_report")


def breakdown(participant, runs: int) -> dict:
    """Where one report's time goes (the median of each figure over `runs` reports).

    Each query: its time in cursor.execute (sending it, the database's work, receiving the answer; not turning
    it into Python values). Then the steps in Python: reading the answer (decoding the JSON the query returns
    into ReportInputs: inputs_from_db less its queries) and build_report.
    """
    from django.db import connection

    import qa.insights.analytics

    runs_seen = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append({"sender": _sender(), "sql": sql, "params": params,
                            "ms": (time.perf_counter() - started) * 1000})

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                steps[name] = steps.get(name, 0) + (time.perf_counter() - started) * 1000
        return wrapper

    originals = {name: getattr(qa.insights.analytics, name) for name in STEPS if hasattr(qa.insights.analytics, name)}
    try:
        for name, function in originals.items():
            setattr(qa.insights.analytics, name, timed(name, function))
        for _ in range(runs):
            queries, steps = [], {}
            started = time.perf_counter()
            with connection.execute_wrapper(record):
                qa.insights.analytics.participant_report(participant, as_of=AS_OF)
            runs_seen.append(((time.perf_counter() - started) * 1000, queries, steps))
    finally:
        for name, function in originals.items():
            setattr(qa.insights.analytics, name, function)
    shape = [[q["sender"] for q in queries] for _, queries, _ in runs_seen]
    assert all(s == shape[0] for s in shape), shape
    rows = [
        {"sender": sender, "ms": statistics.median(queries[index]["ms"] for _, queries, _ in runs_seen),
         "sql": runs_seen[0][1][index]["sql"], "params": runs_seen[0][1][index]["params"]}
        for index, sender in enumerate(shape[0])
    ]

    def median(part) -> float | None:
        try:
            return statistics.median(part(total, queries, steps) for total, queries, steps in runs_seen)
        except KeyError:
            return None

    python = {
        "reading the answer into ReportInputs": median(lambda total, queries, steps: steps["inputs_from_db"]
                                                       - sum(q["ms"] for q in queries)),
        "build_report": median(lambda total, queries, steps: steps["build_report"]),
        "the rest": median(lambda total, queries, steps: total - steps["inputs_from_db"] - steps["build_report"]),
    }
    return {"queries": rows, "total": statistics.median(total for total, _, _ in runs_seen), "python": python,
            "outside queries": median(lambda total, queries, steps: total - sum(q["ms"] for q in queries))}


def explain(queries: list[dict]) -> list[str | None]:
    """EXPLAIN (ANALYZE, BUFFERS) of the report's queries, sent in one transaction as the report sends them, so
    that its SET LOCAL settings hold; those settings are run, not explained (None in their place)."""
    from django.db import connection, transaction

    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        for query in queries:
            if "set_config(" in query["sql"]:
                cursor.execute(query["sql"], query["params"])
                plans.append(None)
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"], query["params"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def measure(runs: int, warm_up: int, with_explain: bool) -> None:
    from django.db import connection

    from qa.insights.analytics import ReportSettings, participant_report, report_window
    from qa.mirror.models import Participant

    end = report_window(AS_OF).end
    limit = ReportSettings.current().query_limit
    summary = []
    for label, heify_id, calls in CASES:
        participant = Participant.objects.get(heify_id=heify_id)
        report = participant_report(participant, as_of=AS_OF)

        def plain(heify_id=heify_id):
            with connection.cursor() as cursor:
                cursor.execute(PLAIN_SQL, [heify_id, end])
                return cursor.fetchone()

        def plain_rows(heify_id=heify_id):
            with connection.cursor() as cursor:
                cursor.execute(PLAIN_ROWS_SQL, [heify_id, end, limit + 1])
                return cursor.fetchall()

        count, avg, stddev, p25 = plain()
        assert count == report["kpis"]["total_calls"] or report["metadata"]["query_limit_reached"], (count, report)
        report_ms = _median_ms(lambda participant=participant: participant_report(participant, as_of=AS_OF),
                               runs, warm_up)
        plain_ms = _median_ms(plain, runs, warm_up)
        rows_ms = _median_ms(plain_rows, runs, warm_up)
        parts = breakdown(participant, BREAKDOWN_RUNS)
        summary.append((label, calls, count, report_ms[0], plain_ms[0], rows_ms[0]))
        capped = f", capped at {report['kpis']['total_calls']:,}" if report["metadata"]["query_limit_reached"] else ""
        print(f"\n{label}: {calls:,} calls, {count:,} included (COMPLETED with a score){capped}"
              f"; report: {len(report['charts']['timeline'])} days, {len(report['evaluators'])} evaluators, "
              f"{len(report['criteria_breakdown'])} failed criteria, avg score {report['kpis']['avg_score']} "
              f"(plain query: {avg:.2f}, stddev {stddev:.2f}, p25 duration {p25:.1f})", flush=True)
        for name, (median_ms, low, high) in (("participant_report", report_ms), ("plain SQL aggregate", plain_ms),
                                              ("plain fetch of the rows", rows_ms)):
            print(f"  {name:<24} median {median_ms:7.1f} ms  (min {low:.1f}, max {high:.1f})")
        print(f"  ratio to the aggregate {report_ms[0] / plain_ms[0]:.1f}x, "
              f"to the fetch {report_ms[0] / rows_ms[0]:.1f}x")
        print(f"  breakdown (median of {BREAKDOWN_RUNS} reports, {parts['total']:.1f} ms):")
        for n, query in enumerate(parts["queries"], start=1):
            print(f"    query {n} ({query['sender']}): {query['ms']:.1f} ms in cursor.execute")
        print(f"    outside the queries: {parts['outside queries']:.1f} ms, of which")
        for name, value in parts["python"].items():
            if value is not None:
                print(f"      {name}: {value:.1f} ms")
        if with_explain and heify_id == TARGET:
            for n, (query, plan) in enumerate(zip(parts["queries"], explain(parts["queries"]), strict=True), 1):
                if plan is not None:
                    print(f"\n  EXPLAIN (ANALYZE, BUFFERS), query {n} ({query['sender']}):")
                    print("\n".join("    " + line for line in plan.splitlines()))
        sys.stdout.flush()
    print(f"\nparticipant_report against the references, {TOTAL:,} calls in the table, PostgreSQL (median ms):")
    print("| participant | calls | included | report | plain aggregate | ratio | plain fetch of the rows | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for label, calls, count, report_median, plain_median, rows_median in summary:
        print(f"| {label} | {calls:,} | {count:,} | {report_median:.1f} | {plain_median:.1f} | "
              f"{report_median / plain_median:.1f}x | {rows_median:.1f} | {report_median / rows_median:.1f}x |")


# --- the database's life -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warm-up", type=int, default=2)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--reuse", metavar="NAME", help="time an existing filled database (not dropped)")
    args = parser.parse_args(argv)

    import psycopg
    from psycopg import sql

    name = args.reuse or f"heify_bench_analytics_{os.getpid()}"
    os.environ.update(bench_environment(name))

    def drop():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    if not args.reuse:
        drop()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            print(f"database {name}: {cursor.fetchone()[0].split(' on ')[0]}", flush=True)
        if not args.reuse:
            call_command("migrate", verbosity=0)
            print(f"filling {TOTAL:,} transcriptions...", flush=True)
            filled = fill()
            print(f"  filled and analyzed in {filled['seconds']:.0f} s (qa_transcription and its indexes: "
                  f"{filled['size']})", flush=True)
        measure(args.runs, args.warm_up, not args.no_explain)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep or args.reuse:
            print(f"\nkept database {name}")
        else:
            drop()


if __name__ == "__main__":
    main()
