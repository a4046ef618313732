"""Benchmark (not a test): latency of GET /api/v1/transcriptions/ (a page of 100) by table size, on PostgreSQL.

    .venv/bin/python benchmarks/api_list.py [--counts 10000 1000000] [--requests 30] [--no-explain]

For each count it creates a throw-away PostgreSQL database (heify_bench_api_<pid>
on BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres;
dropped afterwards), migrates it, and fills qa_transcription straight from SQL
(INSERT ... SELECT ... FROM generate_series; a benchmark may, the app never
does): calls spread over the year before 2026-11-01, 88% COMPLETED / 9% FAILED /
2% IN_PROGRESS / 1% PENDING, 12 participants (3% of calls with none), 4
evaluators, 3 configurations, scores 0-100 on completed calls, a review group on
30%, a small segments list, unique heify_ids. Then ANALYZE, and it times
requests through Django's test client (the whole Django stack: token auth,
filters, cursor pagination, serialization, JSON rendering; no socket):

  first page      ?limit=100
  deep page       ?limit=100&cursor=<the cursor of the page 90% down the list>
                  (a cursor holds a position, not an offset, so it is built from
                  the row there exactly as DRF encodes it: what following
                  next_cursor ~N/100*0.9 times would hand over)
  cursor chain    the next 10 pages after the first, following next_cursor (median per page)
  filtered        ?limit=100&status=COMPLETED&participant=<one of 12>
  filtered, deep  the same, 90% down that participant's completed calls
  rare filter     ?limit=100&status=PENDING&participant=<one of 12> (~1 call in 1,200)
  group + agent   ?limit=100&group=PENDING_REVIEW&participant=<one of 12> (~1 call in 120)
  former agent    ?limit=100&status=COMPLETED&participant=<a 13th agent> who left: FORMER_CALLS more
                  calls, all 11-12 months old (the table holds count + FORMER_CALLS rows)

Each is requested 3 times to warm up, then --requests times; the median is
printed (and the min and max). For each count the EXPLAIN (ANALYZE, BUFFERS)
of the page query of each request kind is printed. Everything runs in child
processes, one per count, each with its own DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from base64 import b64encode
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, benchmarks/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from benchmarks.report import markdown_table  # noqa: E402  (the path above first)

PYTHON = sys.executable
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CHILD_TIMEOUT = 3600
WARM_UP = 3

PARTICIPANTS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 13)]
FORMER = "00000000-0000-4000-8000-000000000013"  # an agent who left 11 months ago
FORMER_CALLS = 300
EVALUATORS = [f"00000000-0000-4000-9000-{n:012d}" for n in range(1, 5)]
CONFIGURATIONS = [(f"00000000-0000-4000-a000-{n:012d}", tag) for n, tag in
                  enumerate(("Support", "Sales", "Collections"), start=1)]
SEGMENTS = json.dumps([
    {"text": "Thanks for calling, this is Ana. How can I help?", "speaker": "A", "start": 0.0, "end": 3.1},
    {"text": "Hi, my last invoice is twice the usual amount.", "speaker": "B", "start": 3.4, "end": 6.9},
    {"text": "Let me check that for you right away.", "speaker": "A", "start": 7.2, "end": 9.0},
])
CRITERIA_RESULTS = json.dumps([{"name": "Greeting", "passed": True}, {"name": "Resolved", "passed": False}])

# The rows. `h` is a per-row pseudo-random 31-bit number; everything derives from i and h.
INSERT = """
INSERT INTO qa_transcription ({columns})
SELECT {values}
FROM (
    SELECT i, (hashtext(i::text) & 2147483647)::bigint AS h,
           timestamptz '2026-11-01 00:00:00+00'
             - ((hashtext('t' || i::text) & 2147483647) % 31536000) * interval '1 second' AS at
    FROM generate_series(1, {count}) AS i
) AS g
"""
VALUES = {
    "heify_id": "md5('bench-tx-' || i)::uuid::text",
    "client_id": "'client-bench'",
    "created_at": "at",
    "raw": "'{{}}'::jsonb",  # braces doubled: these go through str.format
    "payload_hash": "md5(i::text)",
    "synced_at": "now()",
    "sync_state": "'synced'",
    "sync_error": "''",
    "version": "1",
    "status": "CASE WHEN h % 100 < 88 THEN 'COMPLETED' WHEN h % 100 < 97 THEN 'FAILED' "
              "WHEN h % 100 < 99 THEN 'IN_PROGRESS' ELSE 'PENDING' END",
    "group": "CASE h % 10 WHEN 0 THEN 'PENDING_REVIEW' WHEN 1 THEN 'UNDER_REVIEW' WHEN 2 THEN 'ARCHIVED' END",
    "name": "'Call ' || i",
    "duration": "30 + (h % 1800) / 3.0",
    "configuration_id": "(ARRAY[{configurations}])[1 + (h / 7) % 3]",
    "configuration_tag": "(ARRAY[{configuration_tags}])[1 + (h / 7) % 3]",
    "evaluator_id": "(ARRAY[{evaluators}])[1 + (h / 11) % 4]",
    "participant_id": "CASE WHEN (h / 13) % 100 < 3 THEN NULL ELSE (ARRAY[{participants}])[1 + (h / 1300) % 12] END",
    "occurred_at": "at",
    "language": "CASE WHEN h % 100 < 88 THEN 'en' ELSE '' END",
    "num_speakers": "CASE WHEN h % 100 < 88 THEN 2 END",
    "processing_started_at": "at + interval '5 seconds'",
    "completed_at": "CASE WHEN h % 100 < 97 THEN at + interval '2 minutes' END",
    "score": "CASE WHEN h % 100 < 88 THEN (h / 17) % 101 END",
    "critical_fail_triggered": "h % 100 < 88 AND (h / 17) % 101 < 15",
    "segments": "CASE WHEN h % 100 < 88 THEN '{segments}'::jsonb ELSE '[]'::jsonb END",
    "summary": "CASE WHEN h % 100 < 88 THEN 'The customer asked about a doubled invoice; explained the charge.' "
               "ELSE '' END",
    "fields": "'[]'::jsonb",
    "criteria_results": "CASE WHEN h % 100 < 88 THEN '{criteria}'::jsonb ELSE '[]'::jsonb END",
    "error": "CASE WHEN h % 100 BETWEEN 88 AND 96 "
             "THEN '{{\"code\": \"bad_audio\", \"message\": \"No speech.\"}}'::jsonb END",
}
# A NOT NULL column this benchmark does not know (another change may add one) gets a neutral value by type.
NEUTRAL = {"character varying": "''", "text": "''", "integer": "0", "smallint": "0", "bigint": "0",
           "boolean": "false", "jsonb": "'{}'::jsonb", "double precision": "0",
           "timestamp with time zone": "now()", "numeric": "0"}


def values_of_former(column: str) -> str:
    """The SELECT expression that copies `column` of a row for the former agent (her id is %s; % doubled)."""
    return {
        "heify_id": "md5('bench-former-' || id)::uuid::text",
        "participant_id": "%s",
        "status": "'COMPLETED'",
        "score": "coalesce(score, 70)",
        "occurred_at": "timestamptz '2025-11-01 00:00:00+00' + (id %% 2592000) * interval '1 second'",
        "created_at": "timestamptz '2025-11-01 00:00:00+00' + (id %% 2592000) * interval '1 second'",
    }.get(column, f'"{column}"')


def _sql_list(items) -> str:
    return ", ".join(f"'{item}'" for item in items)


def bench_environment(database: str) -> dict[str, str]:
    """What a benchmark's Django runs with: the production settings on the database `database` (on the server
    of POSTGRES_ADMIN_URL), persistent connections, no query log, and the static files collected (WhiteNoise's
    manifest: without it a page that links a stylesheet fails), as in production."""
    return {
        "DJANGO_STATIC_ROOT": static_root(),
        "DJANGO_SETTINGS_MODULE": "heifyadmin.settings",
        "DATABASE_URL": POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}",
        "DATABASE_CONN_MAX_AGE": "60",
        "HEIFY_VAR_DIR": tempfile.gettempdir(),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # production settings refuse to start without one
    }


def static_root() -> str:
    """A directory with the static files collected, as the release step does; collected once per machine."""
    root = Path(tempfile.gettempdir()) / "heify-bench-static"
    if not (root / "staticfiles.json").exists():
        env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_STATIC_ROOT": str(root)}
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return str(root)


def transcription_insert(
    connection, expression: dict, count: int, overrides: dict | None = None, template: str = INSERT,
) -> tuple[str, dict]:
    """The INSERT ... SELECT FROM generate_series that fills qa_transcription with `count` rows.

    `template` is the statement, with {columns}, {values} and {count}: this
    script's, or one whose FROM gives the overrides more to draw from.

    Returns the SQL and each column's SQL expression: VALUES (with `overrides`)
    formatted with `expression`, and a neutral value for any other NOT NULL
    column without a default, so a new column does not break the benchmark.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = 'qa_transcription'"
        )
        table = {name: (kind, nullable == "YES", default) for name, kind, nullable, default in cursor.fetchall()}
    columns = {**VALUES, **(overrides or {})}
    values = {}
    for column, (kind, nullable, default) in table.items():
        if column in columns:
            values[column] = columns[column].format(**expression)
        elif not nullable and default is None and column != "id":
            values[column] = NEUTRAL[kind]
    sql = template.format(columns=", ".join(f'"{c}"' for c in values), values=", ".join(values.values()),
                        count=int(count))
    return sql, values


# --- the child: one count, one database --------------------------------------------------------------


def child(count: int, requests: int, explain: bool) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    call_command("migrate", verbosity=0)
    expression = {
        "configurations": _sql_list(c for c, _ in CONFIGURATIONS),
        "configuration_tags": _sql_list(t for _, t in CONFIGURATIONS),
        "evaluators": _sql_list(EVALUATORS), "participants": _sql_list(PARTICIPANTS),
        "segments": SEGMENTS, "criteria": CRITERIA_RESULTS,
    }
    sql, values = transcription_insert(connection, expression, count)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: the % in it are SQL's modulo
        # The former agent's calls: copies of the last rows with a new id, her id and a date 11-12 months back.
        cursor.execute(
            f"INSERT INTO qa_transcription ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in values)}) "
            f"SELECT {', '.join(values_of_former(c) for c in values)} FROM qa_transcription "
            "ORDER BY id DESC LIMIT %s", [FORMER, FORMER_CALLS],
        )
        cursor.execute("ANALYZE qa_transcription")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('qa_transcription'))")
        size = cursor.fetchone()[0]
    fill_seconds = time.monotonic() - started

    user = User.objects.create_superuser("bench", "bench@example.invalid", None)
    client = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    url = "/api/v1/transcriptions/"
    participant = PARTICIPANTS[4]

    def deep_cursor(where: str, params: list) -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM qa_transcription WHERE {where}", params)
            matching = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT occurred_at FROM qa_transcription WHERE {where} ORDER BY occurred_at DESC, id DESC "
                "OFFSET %s LIMIT 1", [*params, int(matching * 0.9)],
            )
            position = cursor.fetchone()[0]
        # As DRF's CursorPagination encodes one: str() of the first ordering field of the last row shown.
        return b64encode(urlencode({"p": str(position)}).encode()).decode()

    filtered = {"limit": 100, "status": "COMPLETED", "participant": participant}
    kinds = {
        "first page": {"limit": 100},
        "deep page (90%)": {"limit": 100, "cursor": deep_cursor("true", [])},
        "filtered": filtered,
        "filtered, deep (90%)": {**filtered, "cursor": deep_cursor("status = 'COMPLETED' AND participant_id = %s",
                                                                   [participant])},
        "rare filter": {"limit": 100, "status": "PENDING", "participant": participant},
        "group + agent": {"limit": 100, "group": "PENDING_REVIEW", "participant": participant},
        "former agent": {"limit": 100, "status": "COMPLETED", "participant": FORMER},
    }

    def get(params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
        return response

    results = {}
    for name, params in kinds.items():
        for _ in range(WARM_UP):
            get(params)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = get(params)
            timings.append((time.perf_counter() - started) * 1000)
        results[name] = {"median": statistics.median(timings), "min": min(timings), "max": max(timings),
                         "rows": len(response.json()["data"])}
    # The cursor chain: the next 10 pages after the first, each timed once (pages differ), median per page.
    cursor, timings = get({"limit": 100}).json()["next_cursor"], []
    for _ in range(10):
        started = time.perf_counter()
        page = get({"limit": 100, "cursor": cursor}).json()
        timings.append((time.perf_counter() - started) * 1000)
        cursor = page["next_cursor"]
    results["cursor chain (pages 2-11)"] = {"median": statistics.median(timings), "min": min(timings),
                                            "max": max(timings), "rows": len(page["data"])}

    plans = {}
    if explain:
        for name, params in kinds.items():
            with CaptureQueriesContext(connection) as queries:
                get(params)
            page_sql = next(q["sql"] for q in queries.captured_queries if 'FROM "qa_transcription"' in q["sql"])
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + page_sql)
                plans[name] = {"sql": re.sub(r"^SELECT .*? FROM", "SELECT <all columns> FROM", page_sql),
                               "plan": "\n".join(row[0] for row in cursor.fetchall())}
    print(json.dumps({"count": count, "fill_seconds": fill_seconds, "table_size": size, "results": results,
                      "plans": plans}))


# --- the parent: databases, children, table ----------------------------------------------------------------


def run(count: int, requests: int, explain: bool) -> dict:
    import psycopg
    from psycopg import sql

    name = f"heify_bench_api_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {**os.environ, **bench_environment(name), "DJANGO_SECURE_SSL_REDIRECT": "0",
           "DJANGO_ALLOWED_HOSTS": "testserver"}
    argv = [PYTHON, str(Path(__file__).resolve()), "--child", str(count), "--requests", str(requests)]
    try:
        out = subprocess.run(argv + ([] if explain else ["--no-explain"]), cwd=ROOT, env=env, check=True,
                             stdout=subprocess.PIPE, text=True, timeout=CHILD_TIMEOUT).stdout
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return json.loads(out.strip().splitlines()[-1])


def table(runs: list[dict]) -> str:
    head = ("request (limit=100)", *(f"{r['count']:,} rows: median ms (min-max)" for r in runs))
    rows = [head]
    for kind in runs[0]["results"]:
        rows.append((kind, *(f"{r['results'][kind]['median']:.1f} ({r['results'][kind]['min']:.1f}-"
                             f"{r['results'][kind]['max']:.1f})" for r in runs)))
    return markdown_table(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.requests, not args.no_explain)
        return
    runs = []
    for count in args.counts:
        print(f"PostgreSQL, {count:,} transcriptions:", flush=True)
        result = run(count, args.requests, not args.no_explain)
        print(f"  filled in {result['fill_seconds']:.1f}s (table and indexes: {result['table_size']})", flush=True)
        for kind, r in result["results"].items():
            print(f"  {kind}: median {r['median']:.1f} ms ({r['rows']} rows)", flush=True)
        for kind, plan in result["plans"].items():
            print(f"\n  EXPLAIN (ANALYZE, BUFFERS), {kind}, {count:,} rows:\n    {plan['sql']}\n"
                  + "\n".join("    " + line for line in plan["plan"].splitlines()), flush=True)
        runs.append(result)
    print(f"\nGET /api/v1/transcriptions/, {args.requests} requests each, Django test client, PostgreSQL:")
    print(table(runs))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
