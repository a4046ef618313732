"""Benchmark (not a test): exports (qa.spreadsheets) at 1,000,000 calls on PostgreSQL: rows/s, first byte,
peak memory.

    .venv/bin/python benchmarks/exports.py [--count 1000000] [--small 100000] [--kinds ...]

It creates a throw-away PostgreSQL database (heify_bench_exports_<pid> on
BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres; dropped
at the end, whatever happens), migrates it and fills qa_transcription with
--count calls straight from SQL (benchmarks/api_list.py's fill: its columns,
statuses, groups, 12 participants, 4 evaluators), with Participant and
Evaluator rows so the export's joins find their tags. Then, each in a fresh
child process (so that one measure's memory is not another's), it reads the
same calls, in the list's order, with the export's columns:

  fetch (baseline)   the export's own query, rows fetched through Django's server-side cursor and dropped
  COPY (baseline)    the same SELECT as COPY ... TO STDOUT (FORMAT csv): PostgreSQL writes the CSV itself
  csv                qa.reviews.exports.calls_table -> csv_chunks (what every CSV export runs)
  xlsx               qa.reviews.exports.calls_table -> xlsx_chunks
  admin csv          GET /admin/qa/transcription/export/csv/ through Django's test client, as a superuser
                     (the ChangeList, its COUNT, the StreamingHttpResponse), the body read chunk by chunk

and prints for each: rows, seconds, rows/s, ms to the first byte (the
writers send the header, or the zip's first parts, before reading a row) and to
the first rows, MiB written, the peak RSS of the process while it ran and its growth over the RSS
before (VmHWM after resetting it through /proc/self/clear_refs). csv and xlsx
run at --small rows too (the first N of the same order): flat memory means the
same peak at both counts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, benchmarks/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from benchmarks.api_list import (  # noqa: E402  (the path above first)
    CONFIGURATIONS,
    CRITERIA_RESULTS,
    EVALUATORS,
    PARTICIPANTS,
    POSTGRES_ADMIN_URL,
    SEGMENTS,
    _sql_list,
    bench_environment,
    transcription_insert,
)
from benchmarks.report import markdown_table  # noqa: E402

PYTHON = sys.executable
CHILD_TIMEOUT = 3600
KINDS = ("fetch (baseline)", "COPY (baseline)", "csv", "xlsx", "admin csv")
SMALL_KINDS = ("csv", "xlsx")


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current RSS (Linux)
        return True
    except OSError:
        return False


# --- children ------------------------------------------------------------------------------------------


def fill(count: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from qa.mirror.models import Evaluator, Participant

    call_command("migrate", verbosity=0)
    Participant.objects.bulk_create(Participant(heify_id=heify_id, client_id="client-bench", tag=f"Agent {n}")
                                    for n, heify_id in enumerate(PARTICIPANTS, start=1))
    Evaluator.objects.bulk_create(Evaluator(heify_id=heify_id, client_id="client-bench", tag=f"Scorecard {n}")
                                  for n, heify_id in enumerate(EVALUATORS, start=1))
    expression = {
        "configurations": _sql_list(c for c, _ in CONFIGURATIONS),
        "configuration_tags": _sql_list(t for _, t in CONFIGURATIONS),
        "evaluators": _sql_list(EVALUATORS), "participants": _sql_list(PARTICIPANTS),
        "segments": SEGMENTS, "criteria": CRITERIA_RESULTS,
    }
    sql, _ = transcription_insert(connection, expression, count)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: the % in it are SQL's modulo
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('qa_transcription'))")
        size = cursor.fetchone()[0]
    return {"seconds": time.monotonic() - started, "size": size}


def measure(kind: str, rows: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from qa import db, spreadsheets
    from qa.mirror.models import Transcription
    from qa.reviews import exports

    queryset = Transcription.objects.all()  # the list's order: newest first (the index tx_date)
    if rows:
        queryset = queryset[:rows]

    def table():
        return exports.calls_table(queryset, review_url=lambda pk: f"https://qa.example.com/admin/qa/reviewitem/"
                                                                   f"{pk}/change/", blind_call_ids=())

    def chunks():
        if kind == "fetch (baseline)":
            with db.streaming_read(queryset.db):  # as the export reads: not a WITH HOLD cursor
                yield from queryset.values_list(*exports.CALL_FIELDS).iterator(chunk_size=spreadsheets.BATCH * 2)
        elif kind == "COPY (baseline)":
            sql, params = queryset.values_list(*exports.CALL_FIELDS).query.sql_with_params()
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
                    yield from copy
        elif kind in ("csv", "xlsx"):
            yield from spreadsheets.WRITERS[kind](table())
        elif kind == "admin csv":
            from django.contrib.auth.models import User
            from django.test import Client

            user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
            client = Client()
            client.force_login(user)
            response = client.get("/admin/qa/transcription/export/csv/")
            assert response.status_code == 200, response.status_code
            yield from response.streaming_content
        else:
            raise SystemExit(f"unknown kind {kind!r}")

    connection.ensure_connection()
    gc.collect()
    before = _rss_kib("VmRSS")
    exact_peak = _reset_peak()
    started = time.perf_counter()
    first = first_rows = None
    written = items = 0
    header_first = kind in ("csv", "xlsx", "admin csv")  # the writers send the header (or the zip's start) at once
    for chunk in chunks():
        if first is None:
            first = time.perf_counter() - started
        elif first_rows is None and chunk:
            first_rows = time.perf_counter() - started
        if first_rows is None and not header_first:
            first_rows = first
        items += 1
        written += len(chunk) if isinstance(chunk, (bytes, bytearray, memoryview)) else 0
    seconds = time.perf_counter() - started
    peak = _rss_kib("VmHWM") if exact_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM qa_transcription LIMIT %s) AS t", [rows or None])
        counted = cursor.fetchone()[0]
    return {"kind": kind, "rows": counted, "seconds": seconds, "first_byte": first or seconds,
            "first_rows": first_rows or seconds,
            "mib": written / 2**20, "peak_mib": peak / 1024, "growth_mib": (peak - before) / 1024,
            "exact_peak": exact_peak}


# --- the parent ------------------------------------------------------------------------------------------


def _child(env: dict, *args: str) -> dict:
    argv = [PYTHON, str(Path(__file__).resolve()), *args]
    out = subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True,
                         timeout=CHILD_TIMEOUT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="csv and xlsx at this many rows too (0: no)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fill is not None:
        print(json.dumps(fill(args.fill)))
        return
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.rows)))
        return

    import psycopg
    from psycopg import sql

    name = f"heify_bench_exports_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {**os.environ, **bench_environment(name), "DJANGO_SECURE_SSL_REDIRECT": "0",
           "DJANGO_ALLOWED_HOSTS": "testserver"}
    results = []
    try:
        print(f"PostgreSQL, {args.count:,} transcriptions: filling...", flush=True)
        filled = _child(env, "--fill", str(args.count))
        print(f"  filled in {filled['seconds']:.1f}s (table and indexes: {filled['size']})", flush=True)
        plan = [(kind, 0) for kind in args.kinds]  # 0: every row, no LIMIT, as the export runs
        plan += [(kind, args.small) for kind in SMALL_KINDS if kind in args.kinds and 0 < args.small < args.count]
        for kind, rows in plan:
            result = _child(env, "--measure", kind, "--rows", str(rows))
            results.append(result)
            print(f"  {kind} at {result['rows']:,} rows: {result['seconds']:.1f}s, "
                  f"{result['rows'] / result['seconds']:,.0f} rows/s, first byte {result['first_byte'] * 1000:.0f} ms, "
                  f"first rows {result['first_rows'] * 1000:.0f} ms, "
                  f"{result['mib']:.0f} MiB out, peak RSS {result['peak_mib']:.1f} MiB "
                  f"(+{result['growth_mib']:.1f})", flush=True)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        print(f"  dropped {name}", flush=True)
    head = ("export", "rows", "s", "rows/s", "first byte ms", "first rows ms", "MiB out", "peak RSS MiB",
            "RSS growth MiB")
    print("\n" + markdown_table([head] + [
        (r["kind"], f"{r['rows']:,}", f"{r['seconds']:.1f}", f"{r['rows'] / r['seconds']:,.0f}",
         f"{r['first_byte'] * 1000:.0f}", f"{r['first_rows'] * 1000:.0f}", f"{r['mib']:.0f}",
         f"{r['peak_mib']:.1f}", f"{r['growth_mib']:.1f}")
        for r in results
    ]))
    if results and not all(r["exact_peak"] for r in results):
        print("(peak RSS: ru_maxrss of the child, /proc/self/clear_refs was not writable)")


if __name__ == "__main__":
    main()
