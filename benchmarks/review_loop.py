"""Benchmark (not a test): a reviewer's loop through the review queue, request by request, at 1,000,000 calls.

    .venv/bin/python benchmarks/analytics.py --keep --no-explain --runs 1 --warm-up 0   # fill once, note its name
    .venv/bin/python benchmarks/review_loop.py --reuse heify_bench_analytics_12345 [--rounds 20] [--out after.json]
    .venv/bin/python benchmarks/review_loop.py --reuse NAME --profile archive          # where one step's time goes
    .venv/bin/python benchmarks/review_loop.py --table before.json after.json          # the README's table

Without --reuse it fills a throw-away database with analytics.py's fill (1,000,000 calls, 30% of them in a
review group) and drops it at the end. A reused database is migrated first (new migrations apply) and kept.
The loop's calls are changed (claimed, decided, archived): a reused database drifts a little from run to run,
in the calls a reviewer has already archived; the queue's head is always fresh calls.

What it does, in one process, through Django's test client (the whole middleware stack, no socket), DEBUG
off, the production settings: the cache and sessions on Redis (an empty database of the local one, as
benchmarks/load.py takes it; flushed at the end), signed in as a member of the "Reviewer" role (not a
superuser: the permission lookups are the ones a reviewer's request makes). Each round is what a reviewer of
benchmarks/load_users.py does: open the pending-review queue, claim its most urgent call, record a verdict on
each of its criteria (agreeing with the AI), write a note, archive ("Archive and next", the default: that claims
the next call). Every POST is timed alone (what the web worker spends on it, up to its redirect), and the page it
redirects to is timed apart. Per request: median and p95 wall-clock ms, the CPU ms this process spent (its own
work, which the other processes on the machine stretch less), the number of queries, and the goal of issue 24.

Baselines from the same run, on the same connection: `/healthz` through the same client (the stack's floor:
answered by the first middleware), and for each step the plain SQL it cannot do without: the queue's first 50
rows in the queue's order, one call's row by its id, and for a move the conditional UPDATE of its group (in a
transaction rolled back). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, benchmarks/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from benchmarks.api_list import POSTGRES_ADMIN_URL, bench_environment  # noqa: E402  (the path above first)
from benchmarks.report import markdown_table  # noqa: E402

QUEUE = "/admin/qa/reviewitem/"
CALL_LINK = re.compile(r'href="/admin/qa/reviewitem/(\d+)/change/')
CRITERION = re.compile(r'name="criterion" value="([^"]*)"')
# Issue 24's goals for the web worker's own time (ms) per request at 1,000,000 calls.
GOALS = {"queue": 50, "review page": 40, "claim": 30, "verdict": 30, "note": 30, "archive (and next)": 30}
ORDER = ["queue", "claim", "review page (after claim)", "verdict", "review page (after verdict)", "note",
         "review page (after note)", "archive (and next)", "review page (the next call)", "/healthz (floor)"]


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank


class Recorder:
    """Each request's wall-clock ms, CPU ms and queries, by label; a cProfile of the labels asked for."""

    def __init__(self, profile: str | None):
        self.figures: dict[str, list[tuple[float, float, int]]] = {}
        self.profile_label = profile
        self.profiler = cProfile.Profile() if profile else None
        self.recording = True
        self.last_queries: dict[str, list[dict]] = {}

    def __call__(self, label: str, request):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        profiling = self.recording and self.profiler is not None and self.profile_label and self.profile_label in label
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            if profiling:
                self.profiler.enable()
            try:
                response = request()
            finally:
                if profiling:
                    self.profiler.disable()
            wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        if self.recording:
            self.figures.setdefault(label, []).append((wall, cpu, len(captured.captured_queries)))
            self.last_queries[label] = captured.captured_queries
        return response


def ensure_users():
    """A reviewer (the "Reviewer" role, as a person who works the queue has it)."""
    from django.contrib.auth.models import Group, User

    reviewer, _ = User.objects.get_or_create(username="loop-reviewer", defaults={"is_staff": True})
    reviewer.groups.add(Group.objects.get(name="Reviewer"))
    return reviewer


def ensure_rollups() -> None:
    """The roll-ups of a database filled by SQL (the admin home and the queues' counts read them)."""
    from django.core.management import call_command

    from qa.mirror.models import DailyCalls

    if not DailyCalls.objects.exists():
        started = time.monotonic()
        call_command("rebuild_rollups", verbosity=0)
        print(f"  roll-ups rebuilt in {time.monotonic() - started:.0f} s", flush=True)


def baselines(runs: int) -> dict[str, float]:
    """The plain SQL each step cannot do without, median ms over `runs`."""
    from django.db import connection, transaction

    from qa.mirror.models import Transcription

    call = Transcription.objects.filter(group="PENDING_REVIEW").order_by("-critical_fail_triggered",
                                                                         "occurred_at", "id").first()
    plans = {
        "queue": ('SELECT id, heify_id, name, status, "group", participant_id, evaluator_id, score, '
                  "critical_fail_triggered, duration, occurred_at, assigned_to_id FROM qa_transcription "
                  "WHERE \"group\" = 'PENDING_REVIEW' AND gone_at IS NULL "
                  "ORDER BY critical_fail_triggered DESC, occurred_at ASC, id ASC LIMIT 51", []),
        "review page": ("SELECT * FROM qa_transcription WHERE id = %s", [call.pk]),
        "a move": ('UPDATE qa_transcription SET "group" = \'UNDER_REVIEW\', version = version + 1 '
                   "WHERE id = %s AND \"group\" = 'PENDING_REVIEW'", [call.pk]),
    }
    out = {}
    for label, (sql, params) in plans.items():
        timings = []
        for n in range(runs + 2):
            started = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()
                transaction.set_rollback(True)
            if n >= 2:
                timings.append((time.perf_counter() - started) * 1000)
        out[label] = statistics.median(timings)
    return out


def review_round(client, record) -> bool:
    """One call through the loop, as load_users.Reviewer.review_one_call; False when the queue is empty."""
    queue = record("queue", lambda: client.get(QUEUE, {"queue": "PENDING_REVIEW"}))
    assert queue.status_code == 200, queue.status_code
    calls = list(dict.fromkeys(CALL_LINK.findall(queue.content.decode())))
    if not calls:
        return False
    pk = calls[0]
    base = f"{QUEUE}{pk}/review"

    def post(label, step, data, follow_label):
        response = record(label, lambda: client.post(f"{base}/{step}/", data))
        assert response.status_code == 302, (label, response.status_code, response.content[:500])
        location = response["Location"].split("#")[0]
        page = record(follow_label, lambda: client.get(location))
        assert page.status_code == 200, (follow_label, location, page.status_code)
        return page.content.decode()

    page = post("claim", "claim", {}, "review page (after claim)")
    assert "You are reviewing this call." in page, page[:2000]
    import html

    for criterion in dict.fromkeys(CRITERION.findall(page)):  # every criterion: "Archive and next" asks it
        done = post("verdict", "verdict", {"criterion": html.unescape(criterion), "agrees": "yes"},
                    "review page (after verdict)")
        assert ": saved — " in done, done[:2000]
    done = post("note", "note", {"note": "Checked the opening and the close."}, "review page (after note)")
    assert "Note saved." in done
    done = post("archive (and next)", "archive", {"note": "Reviewed."}, "review page (the next call)")
    assert "Archived." in done, done[:2000]
    return True


def measure(rounds: int, warm_up: int, profile: str | None, show_queries: bool = False) -> dict:
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    ensure_rollups()
    reviewer = ensure_users()
    client = Client()
    client.force_login(reviewer)
    record = Recorder(profile)
    load_before = os.getloadavg()[0]
    record.recording = False
    for _ in range(warm_up):
        review_round(client, record)
        record("/healthz (floor)", lambda: client.get("/healthz"))
    record.recording = True
    for _ in range(rounds):
        if not review_round(client, record):
            print("  the pending-review queue is empty", flush=True)
            break
        record("/healthz (floor)", lambda: client.get("/healthz"))
    base = baselines(max(rounds, 5))
    results = []
    for label in ORDER:
        values = record.figures.get(label, [])
        if not values:
            continue
        walls = [w for w, _, _ in values]
        queries = sorted({q for _, _, q in values})
        results.append({"label": label, "n": len(values), "median": statistics.median(walls), "p95": _p95(walls),
                        "cpu": statistics.median(c for _, c, _ in values),
                        "queries": queries[0] if len(queries) == 1 else f"{queries[0]}–{queries[-1]}",
                        "goal": next((g for name, g in GOALS.items() if label.startswith(name)), None)})
    out = {"load_before": load_before, "load_after": os.getloadavg()[0], "results": results, "baselines": base}
    if show_queries:
        out["queries"] = {label: [{"ms": float(q["time"]) * 1000, "sql": q["sql"]} for q in queries]
                          for label, queries in record.last_queries.items()}
    if record.profiler is not None:
        stream = io.StringIO()
        stats = pstats.Stats(record.profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        out["profile"] = stream.getvalue()
    return out


def table(before: dict | None, after: dict) -> str:
    """The Markdown table of a run (after), with before's median and queries beside it when given."""
    old = {r["label"]: r for r in (before or {}).get("results", [])}
    head = ["request"] + (["before ms", "before cpu ms", "before queries"] if old else []) + [
        "median ms", "p95 ms", "cpu ms", "queries", "goal ms"]
    rows = [tuple(head)]
    for r in after["results"]:
        o = old.get(r["label"])
        cells = [r["label"]]
        if old:
            cells += [f"{o['median']:.1f}", f"{o['cpu']:.1f}", str(o["queries"])] if o else ["", "", ""]
        cells += [f"{r['median']:.1f}", f"{r['p95']:.1f}", f"{r['cpu']:.1f}", str(r["queries"]),
                  f"≤ {r['goal']}" if r["goal"] else ""]
        rows.append(tuple(cells))
    base = ", ".join(f"{label} {ms:.2f} ms" for label, ms in after["baselines"].items())
    return (f"{markdown_table(rows)}\n\nplain SQL baselines, same run: {base}; load average "
            f"{after['load_before']:.1f} → {after['load_after']:.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", metavar="NAME", help="a database filled by analytics.py --keep (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the database this run fills")
    parser.add_argument("--rounds", type=int, default=20, help="calls taken through the loop (timed)")
    parser.add_argument("--warm-up", type=int, default=3, help="calls taken through the loop first (not timed)")
    parser.add_argument("--profile", metavar="LABEL", help="cProfile the requests whose label contains this")
    parser.add_argument("--show-queries", action="store_true",
                        help="print the queries of each request's last run, with their ms")
    parser.add_argument("--out", help="write the figures to this JSON file")
    parser.add_argument("--table", nargs="+", metavar="JSON", help="print the table of [before] after, and stop")
    args = parser.parse_args(argv)
    if args.table:
        runs = [json.loads(Path(p).read_text()) for p in args.table]
        print(table(runs[0] if len(runs) > 1 else None, runs[-1]))
        return

    from contextlib import ExitStack

    import psycopg
    from psycopg import sql

    from benchmarks.load import claim_redis

    name = args.reuse or f"heify_bench_loop_{os.getpid()}"
    with ExitStack() as exits:
        os.environ.update({**bench_environment(name), "REDIS_URL": claim_redis(exits),
                           "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_ALLOWED_HOSTS": "testserver"})

        def drop():
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

        if not args.reuse:
            drop()
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            if not args.keep:
                exits.callback(drop)
        import django

        django.setup()
        from django.db import connections

        exits.callback(connections.close_all)
        if not args.reuse:
            from django.core.management import call_command

            from benchmarks.analytics import fill

            call_command("migrate", verbosity=0)
            print("filling 1,000,000 transcriptions...", flush=True)
            fill()
        from qa.mirror.models import Transcription

        print(f"database {name}: {Transcription.objects.count():,} calls; load average {os.getloadavg()[0]:.2f}",
              flush=True)
        out = measure(args.rounds, args.warm_up, args.profile, args.show_queries)
        if args.out:
            Path(args.out).write_text(json.dumps(out, indent=1))
        print(table(None, out))
        for label, queries in out.get("queries", {}).items():
            print(f"\n{label}: {len(queries)} queries, {sum(q['ms'] for q in queries):.1f} ms")
            for query in queries:
                print(f"  {query['ms']:7.1f} ms  {query['sql'][:400]}")
        if out.get("profile"):
            print(out["profile"])
        if args.keep and not args.reuse:
            print(f"kept database {name}")


if __name__ == "__main__":
    main()
