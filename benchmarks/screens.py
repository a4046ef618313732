"""Benchmark (not a test): every screen a reviewer or manager opens, and the REST endpoints, by table size.

    .venv/bin/python benchmarks/screens.py                                 # PostgreSQL 10k and 1M, SQLite 10k and 100k,
                                                                           # each in both shapes
    .venv/bin/python benchmarks/screens.py --cases sqlite:10000 --runs 5
    .venv/bin/python benchmarks/screens.py --cases sqlite:100000 --shape skewed
    .venv/bin/python benchmarks/screens.py --cases sqlite:100000:skewed postgres:1000000:standard
    .venv/bin/python benchmarks/screens.py --cases postgres:1000000 --reuse heify_bench_analytics_12345
    .venv/bin/python benchmarks/screens.py --cases sqlite:100000 --sqlite-file /tmp/100k.sqlite3  # kept, or reused
    .venv/bin/python benchmarks/screens.py ... --out after.json            # keep the figures
    .venv/bin/python benchmarks/screens.py --table before.json after.json  # the README's before/after table

The data is benchmarks/analytics.py's fill (its participants, evaluators and
calls, `count` of them instead of 1,000,000: "target" has every 50th call),
in one of two shapes (--shape, both by default; a case may name its own, as
sqlite:100000:skewed): "standard", the benchmark's usual team, and "skewed",
one agent ("target") with 40% of the calls and fifty others sharing the rest
unevenly, over a year of history ending 2026-11-24 (benchmarks.analytics.SHAPES);
plus what the screens need besides: the three Configuration rows, a superuser
"bench", and every 1,000th UNDER_REVIEW call assigned to it ("my reviews").

- PostgreSQL: a throw-away database heify_bench_screens_<pid> (on
  BENCH_POSTGRES_URL) is migrated, filled, measured and dropped (--keep leaves
  it). --reuse NAME measures a database filled by this script or by
  `analytics.py --keep` (migrated first, so new migrations apply; not dropped).
- SQLite: the same fill on a throw-away PostgreSQL database, its calls and their
  typed results copied row by row (each value prepared by its Django field)
  into a fresh, migrated SQLite file in a temp directory; then measured. The
  same rows on both databases.

Each screen is requested through Django's test client (the whole stack, no
socket), DEBUG off, signed in as the superuser: --warm-up requests, then
--runs timed ones; median and p95 (nearest rank) in ms, and the number of
queries of one request, and the CPU time the Django process spent (median: its
own work, which another process's load stretches less than the wall clock).
Beside each, a plain-SQL baseline that returns the
same rows, sent through the same connection in the same run (median of
--runs): one SELECT ... LIMIT of the rows the screen lists (what an index can
give at best), or, for a screen that shows aggregates, the plain aggregate.
The machine's load average is printed before and after each case; compare a
screen with its baseline, measured seconds apart, rather than across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, benchmarks/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from benchmarks.analytics import EVALUATORS, HEAVY, SHAPES, SMALL, TARGET  # noqa: E402  (the path above first)
from benchmarks.api_list import CONFIGURATIONS, POSTGRES_ADMIN_URL, bench_environment  # noqa: E402
from benchmarks.report import markdown_table  # noqa: E402

PYTHON = sys.executable
CHILD_TIMEOUT = 4 * 3600
AS_OF = "2026-11-23"
# The date filter's "past 7 days", as its link writes it.
WEEK = {"occurred_at__gte": "2026-11-17 00:00:00+00:00", "occurred_at__lt": "2026-11-24 00:00:00+00:00"}
WEEK_SQL = ("occurred_at >= %s AND occurred_at < %s", ["2026-11-17T00:00:00+00:00", "2026-11-24T00:00:00+00:00"])
LIST_COLUMNS = ('id, heify_id, name, status, "group", participant_id, evaluator_id, score, critical_fail_triggered, '
                "duration, occurred_at")
NEWEST = "occurred_at DESC, id DESC"
URGENT = "critical_fail_triggered DESC, occurred_at ASC, id ASC"
SCORED = "status = 'COMPLETED' AND score IS NOT NULL"


def rows_sql(where: str = "1 = 1", params=(), *, order: str = NEWEST, limit: int = 50, offset: int = 0,
             table: str = "qa_transcription", columns: str = LIST_COLUMNS) -> tuple[str, list]:
    """One SELECT ... LIMIT: the rows a list shows, as plainly as SQL asks for them."""
    return (f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            list(params))


# --- the screens -------------------------------------------------------------------------------------------


# What "target", "small" and "heavy" hold in each shape (benchmarks.analytics.SHAPES), for the labels.
HOLD = {
    "standard": {"target": "20,000 calls at 1M", "small": "300 calls at 1M", "heavy": "capped"},
    "skewed": {"target": "40% of the calls, capped", "small": "0.02% of the calls", "heavy": "2.3% of the calls"},
}


def screens(ids: dict, shape: str = "standard") -> list[dict]:
    """Every screen: label, URL, query string, and the baseline (SQL, params)."""
    hold = HOLD[shape]
    tx = "/admin/qa/transcription/"
    queue = "/admin/qa/reviewitem/"
    call, call_id = ids["call"], ids["call_heify_id"]
    # The list filters of the transcription list: query string and the same condition in SQL.
    filters = {
        "status=FAILED": ({"status__exact": "FAILED"}, "status = %s", ["FAILED"]),
        "group=PENDING_REVIEW": ({"group": "PENDING_REVIEW"}, '"group" = %s', ["PENDING_REVIEW"]),
        "group=none": ({"group": "none"}, '"group" IS NULL', []),
        "evaluator=Retention (5%)": ({"evaluator__heify_id__exact": EVALUATORS[3]}, "evaluator_id = %s",
                                     [EVALUATORS[3]]),
        "no evaluator": ({"evaluator__isnull": "True"}, "evaluator_id IS NULL", []),
        "participant=target": ({"participant__heify_id__exact": TARGET}, "participant_id = %s", [TARGET]),
        "no participant": ({"participant__isnull": "True"}, "participant_id IS NULL", []),
        "critical fail": ({"critical_fail_triggered__exact": "1"}, "critical_fail_triggered = %s", [True]),
        "past 7 days": (WEEK, *WEEK_SQL),
    }
    out = [
        {"label": "admin home (queue counts, my reviews)", "url": "/admin/",
         "base": ('SELECT "group", count(*) FROM qa_transcription WHERE gone_at IS NULL GROUP BY 1', [])},
        {"label": "transcriptions: first page", "url": tx, "base": rows_sql()},
        {"label": "transcriptions: ?p=200", "url": tx, "query": {"p": 200}, "base": rows_sql(offset=199 * 50)},
        {"label": "transcriptions: search `call_99` (no such call)", "url": tx, "query": {"q": "call_99"},
         "base": rows_sql("upper(name) LIKE %s", ["%CALL\\_99%"])},
        {"label": 'transcriptions: search `"Call 99"` (11,111 calls at 1M)', "url": tx, "query": {"q": '"Call 99"'},
         "base": rows_sql("upper(name) LIKE %s", ["%CALL 99%"])},
        {"label": "transcriptions: search `Call 999999` (two words)", "url": tx, "query": {"q": "Call 999999"},
         "base": rows_sql("upper(name) LIKE %s AND upper(name) LIKE %s", ["%CALL%", "%999999%"])},
        {"label": "transcriptions: search agent name `Small agent`", "url": tx, "query": {"q": "Small agent"},
         "base": rows_sql("participant_id = %s", [SMALL])},
        {"label": "transcriptions: search a Heify id", "url": tx, "query": {"q": call_id},
         "base": rows_sql("heify_id = %s", [call_id])},
    ]
    for label, (query, where, params) in filters.items():
        out.append({"label": f"transcriptions: {label}", "url": tx, "query": query, "base": rows_sql(where, params)})
    pairs = ["status=FAILED", "group=PENDING_REVIEW", "evaluator=Retention (5%)", "participant=target",
             "critical fail", "past 7 days"]
    for n, first in enumerate(pairs):
        for second in pairs[n + 1:]:
            (q1, w1, p1), (q2, w2, p2) = filters[first], filters[second]
            out.append({"label": f"transcriptions: {first} + {second}", "url": tx, "query": {**q1, **q2},
                        "base": rows_sql(f"{w1} AND {w2}", [*p1, *p2])})
    out.append({"label": "transcription page", "url": f"{tx}{call}/change/",
                "base": ("SELECT * FROM qa_transcription WHERE id = %s", [call])})
    for group, label in (("PENDING_REVIEW", "pending review"), ("UNDER_REVIEW", "under review"),
                         ("ARCHIVED", "archived")):
        out.append({"label": f"review queue: {label}", "url": queue, "query": {"queue": group},
                    "base": rows_sql('"group" = %s AND gone_at IS NULL', [group], order=URGENT)})
    out += [
        {"label": "review queue: no group", "url": queue, "query": {"queue": "none"},
         "base": rows_sql('"group" IS NULL AND gone_at IS NULL', order=URGENT)},
        {"label": "review queue: my reviews", "url": queue, "query": {"queue": "UNDER_REVIEW", "mine": "1"},
         "base": rows_sql('"group" = %s AND assigned_to_id = %s AND gone_at IS NULL', ["UNDER_REVIEW", ids["user"]],
                          order=URGENT)},
        {"label": "review queue: pending + critical fail", "url": queue,
         "query": {"critical_fail_triggered__exact": "1"},
         "base": rows_sql('"group" = %s AND critical_fail_triggered AND gone_at IS NULL', ["PENDING_REVIEW"],
                          order=URGENT)},
        {"label": "review queue: pending + score 0-20", "url": queue, "query": {"score": "0-20"},
         "base": rows_sql('"group" = %s AND score >= 0 AND score <= 20 AND gone_at IS NULL', ["PENDING_REVIEW"],
                          order=URGENT)},
        {"label": "review queue: pending + participant=target", "url": queue,
         "query": {"participant__heify_id__exact": TARGET},
         "base": rows_sql('"group" = %s AND participant_id = %s AND gone_at IS NULL', ["PENDING_REVIEW", TARGET],
                          order=URGENT)},
        {"label": "review queue: pending + evaluator=Retention", "url": queue,
         "query": {"evaluator__heify_id__exact": EVALUATORS[3]},
         "base": rows_sql('"group" = %s AND evaluator_id = %s AND gone_at IS NULL', ["PENDING_REVIEW", EVALUATORS[3]],
                          order=URGENT)},
        {"label": "review queue: pending + past 7 days", "url": queue, "query": WEEK,
         "base": rows_sql(f'"group" = %s AND {WEEK_SQL[0]} AND gone_at IS NULL', ["PENDING_REVIEW", *WEEK_SQL[1]],
                          order=URGENT)},
        {"label": "review page of a call", "url": f"{queue}{ids['queued_call']}/change/",
         "base": ("SELECT * FROM qa_transcription WHERE id = %s", [ids["queued_call"]])},
        {"label": f"participant page + dashboard (target, {hold['target']})",
         "url": f"/admin/qa/participant/{ids['target']}/change/", "query": {"as_of": AS_OF},
         "base": (f"SELECT count(*), avg(score) FROM qa_transcription WHERE participant_id = %s AND {SCORED} "
                  "AND occurred_at < %s", [TARGET, "2026-11-24T00:00:00+00:00"])},
        {"label": "participant page + dashboard (target), not in the cache (its calls just changed)",
         "url": f"/admin/qa/participant/{ids['target']}/change/", "query": {"as_of": AS_OF}, "cold": True,
         "base": (f"SELECT count(*), avg(score) FROM qa_transcription WHERE participant_id = %s AND {SCORED} "
                  "AND occurred_at < %s", [TARGET, "2026-11-24T00:00:00+00:00"])},
        {"label": f"participant page + dashboard (small, {hold['small']})",
         "url": f"/admin/qa/participant/{ids['small']}/change/", "query": {"as_of": AS_OF},
         "base": (f"SELECT count(*), avg(score) FROM qa_transcription WHERE participant_id = %s AND {SCORED} "
                  "AND occurred_at < %s", [SMALL, "2026-11-24T00:00:00+00:00"])},
        {"label": "team overview", "url": "/admin/qa/participant/team/",
         "base": (f"SELECT participant_id, count(*), avg(score) FROM qa_transcription WHERE {SCORED} "
                  "AND participant_id IS NOT NULL GROUP BY 1", [])},
        {"label": "participant list", "url": "/admin/qa/participant/",
         "base": rows_sql(order="tag, id", table="qa_participant", columns="*")},
        {"label": "evaluator list", "url": "/admin/qa/evaluator/",
         "base": rows_sql(order="tag, id", table="qa_evaluator", columns="*")},
        {"label": "evaluator page", "url": f"/admin/qa/evaluator/{ids['retention']}/change/",
         "base": ("SELECT * FROM qa_criterion WHERE evaluator_id = %s ORDER BY position, id", [ids["retention"]])},
        {"label": "configuration list", "url": "/admin/qa/configuration/",
         "base": rows_sql(order="tag, id", table="qa_configuration", columns="*")},
        {"label": "configuration page", "url": f"/admin/qa/configuration/{ids['configuration']}/change/",
         "base": ("SELECT * FROM qa_configuration WHERE id = %s", [ids["configuration"]])},
        # The REST API (limit=100 pages).
        {"label": "API: transcriptions", "url": "/api/v1/transcriptions/", "query": {"limit": 100},
         "base": rows_sql(limit=101, columns="*")},
        {"label": "API: transcriptions group=PENDING_REVIEW&participant=target", "url": "/api/v1/transcriptions/",
         "query": {"limit": 100, "group": "PENDING_REVIEW", "participant": TARGET},
         "base": rows_sql('"group" = %s AND participant_id = %s', ["PENDING_REVIEW", TARGET], limit=101,
                          columns="*")},
        {"label": "API: transcriptions critical_fail&evaluator=Retention", "url": "/api/v1/transcriptions/",
         "query": {"limit": 100, "critical_fail": "true", "evaluator": EVALUATORS[3]},
         "base": rows_sql("critical_fail_triggered AND evaluator_id = %s", [EVALUATORS[3]], limit=101, columns="*")},
        {"label": "API: a transcription", "url": f"/api/v1/transcriptions/{call_id}/",
         "base": ("SELECT * FROM qa_transcription WHERE heify_id = %s", [call_id])},
        {"label": "API: participants", "url": "/api/v1/participants/", "query": {"limit": 100},
         "base": rows_sql(order="id DESC", limit=101, table="qa_participant", columns="*")},
        {"label": "API: a participant", "url": f"/api/v1/participants/{TARGET}/",
         "base": ("SELECT * FROM qa_participant WHERE heify_id = %s", [TARGET])},
        {"label": "API: evaluators", "url": "/api/v1/evaluators/", "query": {"limit": 100},
         "base": rows_sql(order="id DESC", limit=101, table="qa_evaluator", columns="*")},
        {"label": "API: configurations", "url": "/api/v1/configurations/", "query": {"limit": 100},
         "base": rows_sql(order="id DESC", limit=101, table="qa_configuration", columns="*")},
        {"label": "API: analytics of target (full raw_data)", "url": f"/api/v1/participants/{TARGET}/analytics/",
         "query": {"as_of": AS_OF}, "base": ("PLAIN_ROWS", [TARGET])},
        {"label": f"API: analytics of heavy ({hold['heavy']})", "url": f"/api/v1/participants/{HEAVY}/analytics/",
         "query": {"as_of": AS_OF}, "base": ("PLAIN_ROWS", [HEAVY])},
    ]
    return out


# --- the child processes -------------------------------------------------------------------------------------


def _setup():
    import django

    django.setup()


def child_fill(count: int, shape: str) -> None:
    """PostgreSQL: migrate and fill with `count` calls of `shape` (analytics.py's fill)."""
    _setup()
    from django.core.management import call_command

    from benchmarks.analytics import fill

    call_command("migrate", verbosity=0)
    print(json.dumps(fill(count, shape)))


def child_copy(source: str, shape: str) -> None:
    """SQLite: migrate, create the objects of the fill, and copy the calls of PostgreSQL database `source`."""
    _setup()
    import psycopg
    from django.core.management import call_command
    from django.db import connection, transaction

    from benchmarks.analytics import fill_objects
    from qa.mirror.criterion_results import CriterionResult
    from qa.mirror.models import Transcription

    call_command("migrate", verbosity=0)
    fill_objects(shape)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{source}"
    started = time.monotonic()
    for model in (Transcription, CriterionResult):  # the calls, then their typed results
        fields = [f for f in model._meta.concrete_fields]
        columns = [f.column for f in fields]
        table = model._meta.db_table
        insert = (f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)})"
                  f" VALUES ({', '.join(['%s'] * len(columns))})")
        with psycopg.connect(url) as pg, pg.cursor(name="copy") as rows:
            rows.itersize = 5000
            rows.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns)} FROM {table} ORDER BY id")
            while batch := rows.fetchmany(5000):
                prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                            for row in batch]
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(insert, prepared)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(json.dumps({"seconds": time.monotonic() - started}))


def prepare() -> dict:
    """What the screens need beyond the fill (idempotent), and the ids the screens address."""
    from django.contrib.auth.models import User
    from django.core.management import call_command, get_commands
    from django.db import connection

    from qa.db import on_postgresql
    from qa.mirror.models import Configuration, Evaluator, Participant, Transcription

    for heify_id, tag in CONFIGURATIONS:
        Configuration.objects.get_or_create(heify_id=heify_id, defaults={"tag": tag, "client_id": "client-bench"})
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@example.invalid", None)
    if not Transcription.objects.filter(assigned_to=user).exists():
        with connection.cursor() as cursor:
            cursor.execute('UPDATE qa_transcription SET assigned_to_id = %s WHERE "group" = %s AND id %% 1000 = 3',
                           [user.pk, "UNDER_REVIEW"])
    if "rebuild_rollups" in get_commands():  # after the change: the roll-ups of rows copied in by SQL
        call_command("rebuild_rollups", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if on_postgresql() else "ANALYZE")
    target = Participant.objects.get(heify_id=TARGET)
    call = Transcription.objects.filter(participant_id=TARGET, status="COMPLETED").order_by("-occurred_at").first()
    return {
        "user": user.pk, "target": target.pk, "small": Participant.objects.get(heify_id=SMALL).pk,
        "retention": Evaluator.objects.get(heify_id=EVALUATORS[3]).pk,
        "configuration": Configuration.objects.get(heify_id=CONFIGURATIONS[0][0]).pk,
        "call": call.pk, "call_heify_id": call.heify_id,
        "queued_call": Transcription.objects.filter(group="PENDING_REVIEW", participant_id=TARGET,
                                                    status="COMPLETED").order_by("-occurred_at").first().pk,
    }


def _timed(function, runs: int, warm_up: int, cpu: list | None = None, before=None) -> list[float]:
    """Wall-clock ms of each run; `cpu` gets the CPU ms this process spent in each (Django's own work). `before`,
    if given, runs before each run, off the clock."""
    for _ in range(warm_up):
        if before:
            before()
        function()
    timings = []
    for _ in range(runs):
        if before:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        timings.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return timings


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank


def child_measure(runs: int, warm_up: int, only: list[str] | None, shape: str) -> None:
    _setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.analytics import PLAIN_ROWS_SQL
    from qa.db import on_postgresql
    from qa.mirror.models import Transcription

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # as the release step does (the cache without Redis)
    ids = prepare()
    client = Client()
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(pk=ids["user"]))
    results, load = [], os.getloadavg()[0]
    print(f"  {Transcription.objects.count():,} calls; load average {load:.2f}", file=sys.stderr, flush=True)
    for screen in screens(ids, shape):
        if only and not any(part in screen["label"] for part in only):
            continue
        query = screen.get("query", {})

        def get(screen=screen, query=query):
            response = client.get(screen["url"], query)
            assert response.status_code == 200, (screen["label"], response.status_code, response.content[:300])
            return response

        # What a change to the agent's calls does to the dashboard's kept answer: it is not found. Emptied off the
        # clock: the cache table's DELETE and its commit are not the page's work (until 2026-12-08 they were timed and
        # counted: 112.9 ms with them, 90.7 without, PostgreSQL at 1M, two runs a minute apart at load 2).
        forget = cache.clear if screen.get("cold") else None
        if forget:
            forget()
        with CaptureQueriesContext(connection) as captured:
            get()
        queries = len(captured.captured_queries)  # now: the next request empties the log
        cpu = []
        timings = _timed(get, runs, warm_up, cpu, before=forget)
        sql, params = screen["base"]
        if sql == "PLAIN_ROWS":  # analytics.py's plain fetch of the report's rows
            sql, params = PLAIN_ROWS_SQL, [*params, "2026-11-24T00:00:00+00:00", 20_001]
        if not on_postgresql():
            sql = sql.replace("critical_fail_triggered AND", "critical_fail_triggered = 1 AND")

        def baseline(sql=sql, params=params):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        base = _timed(baseline, runs, warm_up)
        results.append({"label": screen["label"], "median": statistics.median(timings), "p95": _p95(timings),
                        "queries": queries, "cpu": statistics.median(cpu), "base": statistics.median(base),
                        "base_rows": len(baseline())})
        r = results[-1]
        print(f"  {r['label']}: {r['median']:.1f} ms (p95 {r['p95']:.1f}, cpu {r['cpu']:.1f}), {r['queries']} queries; "
              f"baseline {r['base']:.1f} ms ({r['base_rows']} rows)", file=sys.stderr, flush=True)
    print(json.dumps({"load_before": load, "load_after": os.getloadavg()[0], "results": results}))


# --- the parent: databases, children, tables -----------------------------------------------------------------


def _admin(statement: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL(statement).format(sql.Identifier(name)))


def _child(args: list[str], env: dict) -> dict:
    env = {**os.environ, **env, "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_ALLOWED_HOSTS": "testserver"}
    out = subprocess.run([PYTHON, str(Path(__file__).resolve()), *args], cwd=ROOT, env=env, check=True,
                         stdout=subprocess.PIPE, text=True, timeout=CHILD_TIMEOUT).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_case(database: str, count: int, shape: str, args) -> dict:
    measure = ["--child-measure", "--shape", shape, "--runs", str(args.runs), "--warm-up", str(args.warm_up),
               *(["--only", *args.only] if args.only else [])]
    if database == "postgres":
        name = args.reuse or f"heify_bench_screens_{os.getpid()}"
        if not args.reuse:
            _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
            _admin("CREATE DATABASE {}", name)
        try:
            if not args.reuse:
                filled = _child(["--child-fill", str(count), "--shape", shape], bench_environment(name))
                print(f"  filled {count:,} calls in {filled['seconds']:.0f} s ({filled['size']})", flush=True)
            return _child(measure, bench_environment(name))
        finally:
            if args.keep or args.reuse:
                print(f"  kept database {name}", flush=True)
            else:
                _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
    source = f"heify_bench_screens_src_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="heify-screens-") as directory:
        path = Path(args.sqlite_file or f"{directory}/db.sqlite3").resolve()
        env = {**bench_environment(source), "DATABASE_URL": f"sqlite:///{path}"}
        if path.exists():  # --sqlite-file of an earlier run: measured again (migrated first)
            return _child(measure, env)
        _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", source)
        _admin("CREATE DATABASE {}", source)
        try:
            _child(["--child-fill", str(count), "--shape", shape], bench_environment(source))
            copied = _child(["--child-copy", source, "--shape", shape], env)
            print(f"  copied {count:,} calls into SQLite in {copied['seconds']:.0f} s"
                  + (f", kept in {path}" if args.sqlite_file else ""), flush=True)
        finally:
            _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", source)
        return _child(measure, env)


def report_ratio(results: list[dict]) -> str:
    """The report (the API's analytics of target, the whole of Heify's answer) against the plain aggregate of the
    same calls (the dashboard's baseline: count and mean), both medians of the same run."""
    def first(start: str) -> dict | None:
        return next((r for r in results if r["label"].startswith(start)), None)

    report, dashboard = first("API: analytics of target"), first("participant page + dashboard (target")
    if not report or not dashboard:
        return ""
    return (f"\n\nThe report of target: {report['median']:,.1f} ms, {report['median'] / dashboard['base']:.1f}x the "
            f"plain aggregate of its calls ({dashboard['base']:,.1f} ms).")


def table(before: dict | None, after: dict) -> str:
    """One Markdown table per case: each screen's figures (after), and before's beside them when given."""
    out = []
    for case, run in after.items():
        old = {r["label"]: r for r in (before or {}).get(case, {}).get("results", [])}
        head = ["screen"] + (["before ms", "before cpu ms", "before q", "before baseline ms"] if old else []) + [
            "median ms", "p95 ms", "cpu ms", "queries", "baseline ms"]
        rows = [tuple(head)]
        for r in run["results"]:
            o = old.get(r["label"])
            cells = [r["label"]]
            if old:
                cells += [f"{o['median']:,.1f}", f"{o['cpu']:,.1f}" if "cpu" in o else "", str(o["queries"]),
                          f"{o['base']:,.1f}"] if o else ["", "", "", ""]
            cells += [f"{r['median']:,.1f}", f"{r['p95']:,.1f}", f"{r['cpu']:,.1f}" if "cpu" in r else "",
                      str(r["queries"]), f"{r['base']:,.1f}"]
            rows.append(tuple(cells))
        load = f"load average {run['load_before']:.1f} → {run['load_after']:.1f}"
        out.append(f"**{case}** ({load})\n\n{markdown_table(rows)}{report_ratio(run['results'])}")
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", metavar="DATABASE:COUNT[:SHAPE]",
                        default=["postgres:10000", "postgres:1000000", "sqlite:10000", "sqlite:100000"],
                        help="a case without a shape runs in each --shape")
    parser.add_argument("--shape", choices=[*SHAPES, "both"], default="both",
                        help="standard (benchmarks/analytics.py's), skewed (one agent with 40%% of the calls), "
                             "or both (the default)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warm-up", type=int, default=2)
    parser.add_argument("--only", nargs="+", help="only the screens whose label contains one of these")
    parser.add_argument("--keep", action="store_true", help="do not drop the PostgreSQL database")
    parser.add_argument("--reuse", metavar="NAME", help="measure this filled PostgreSQL database (not dropped)")
    parser.add_argument("--sqlite-file", metavar="PATH",
                        help="SQLite: fill this file and keep it, or measure it again if it exists")
    parser.add_argument("--out", help="write the figures to this JSON file")
    parser.add_argument("--table", nargs="+", metavar="JSON", help="print the table of [before] after, and stop")
    parser.add_argument("--child-fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-copy", help=argparse.SUPPRESS)
    parser.add_argument("--child-measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_fill:
        return child_fill(args.child_fill, args.shape)
    if args.child_copy:
        return child_copy(args.child_copy, args.shape)
    if args.child_measure:
        return child_measure(args.runs, args.warm_up, args.only, args.shape)
    if args.table:
        runs = [json.loads(Path(p).read_text()) for p in args.table]
        print(table(runs[0] if len(runs) > 1 else None, runs[-1]))
        return None
    results = json.loads(Path(args.out).read_text()) if args.out and Path(args.out).exists() else {}
    shapes = list(SHAPES) if args.shape == "both" else [args.shape]
    cases = [case if case.count(":") == 2 else f"{case}:{shape}" for case in args.cases
             for shape in (shapes if case.count(":") == 1 else [None])]
    for case in cases:
        database, count, shape = case.split(":")
        print(f"{database}, {int(count):,} calls, {shape} shape:", flush=True)
        # The standard shape keeps the key its earlier figures were saved under (before/after tables).
        results[case.removesuffix(":standard")] = run_case(database, int(count), shape, args)
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=1))
    print(table(None, results))
    return None


if __name__ == "__main__":
    main()
