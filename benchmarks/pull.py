"""Benchmark (not a test): how fast a full pull stores transcriptions from the emulator, and with how much memory.

    .venv/bin/python benchmarks/pull.py [--counts 10000 100000] [--databases sqlite postgres]
                                        [--repeat N] [--no-profile]

For each database and count it starts the Heify emulator in a subprocess (its
memory is not counted), preloaded with the demo account of that many
transcriptions, creates a fresh empty database (SQLite: a temp file;
PostgreSQL: a throw-away database heify_bench_<pid>, dropped afterwards),
migrates it in one child process, and times `syncer.pull.pull()` (a full pull
of all four resources) in another, followed by a second, idempotent pull.
Each child gets its own DATABASE_URL, HEIFY_API_URL and HEIFY_API_KEY, so
Django settings are per run.

Time is split into: the client (HTTP round trip, including the emulator
building the page, and JSON decoding, also shown alone), parsing
(mirror.parse_*), the upsert (mirror.upsert) and the rest (the pull's own
bookkeeping: SeenInPull, the checkpoint, marking what is gone). For the 10,000
SQLite case the pull is also run once under cProfile (top 15 cumulative).

Everything binds 127.0.0.1 only, and every process started here is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

# The checkout measured: the one it is run from (`cd <older checkout> && python <this script>` measures that code,
# its "before" figures), else the one holding this script. The children and the emulator run there.
ROOT = Path.cwd() if (Path.cwd() / "manage.py").is_file() else Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, benchmarks/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from benchmarks.report import markdown_table  # noqa: E402  (the path above first)

PYTHON = sys.executable
API_KEY = "bench-key"
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
EMULATOR_START_TIMEOUT = 300  # seconds; generating 100,000 demo transcriptions alone takes a while
CHILD_TIMEOUT = 3600


# --- the parent: emulator, databases, children, table -------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def emulator(count: int):
    """A `heify_emulator --demo` subprocess on 127.0.0.1, ready to answer; yields its URL."""
    port = _free_port()
    log = tempfile.TemporaryFile(mode="w+")
    # No request line per page on its stderr; production settings refuse to start without a secret key.
    env = {**os.environ, "DJANGO_LOG_LEVEL": "WARNING", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    process = subprocess.Popen(
        [PYTHON, "manage.py", "heify_emulator", "--demo", "--demo-transcriptions", str(count),
         "--host", "127.0.0.1", "--port", str(port), "--api-key", API_KEY],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the emulator exited with {process.returncode}:\n{log.read()}")
            if time.monotonic() - started > EMULATOR_START_TIMEOUT:
                raise RuntimeError("the emulator did not answer in time")
            request = urllib.request.Request(f"{url}/configuration?limit=1", headers={"x-api-key": API_KEY})
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        print(f"  emulator ready on {url} after {time.monotonic() - started:.1f}s", flush=True)
        yield url
    finally:
        _stop(process)
        log.close()


@contextmanager
def fresh_database(kind: str):
    """A new, empty database; yields its DATABASE_URL and removes it afterwards."""
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix="heify_bench_")
        try:
            yield f"sqlite:///{directory}/bench.sqlite3"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    import psycopg
    from psycopg import sql

    name = f"heify_bench_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run_child(mode: str, database_url: str, api_url: str) -> dict | None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "heifyadmin.settings",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "0",
        "HEIFY_API_URL": api_url,
        "HEIFY_API_KEY": API_KEY,
        "HEIFY_VAR_DIR": tempfile.gettempdir(),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # production settings refuse to start without one
        "PYTHONHASHSEED": "0",
    }
    process = subprocess.Popen(
        [PYTHON, str(Path(__file__).resolve()), "--child", mode], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, text=True,
    )
    try:
        out, _ = process.communicate(timeout=CHILD_TIMEOUT)
    finally:
        _stop(process)
    if process.returncode:
        raise RuntimeError(f"the {mode} child failed with {process.returncode}:\n{out}")
    if mode not in ("pull", "plain"):
        print(out, end="", flush=True)
        return None
    return json.loads(out.strip().splitlines()[-1])


def measure(kind: str, count: int, profile: bool, repeat: int = 1) -> dict:
    print(f"{kind}, {count:,} transcriptions:", flush=True)
    with emulator(count) as url:
        runs = []
        for _ in range(repeat):  # each on a fresh database; the fastest first pull is kept
            with fresh_database(kind) as database_url:
                run_child("migrate", database_url, url)
                runs.append(run_child("pull", database_url, url))
            with fresh_database(kind) as database_url:  # the baseline, on its own fresh database
                runs[-1].update(run_child("plain", database_url, url))
            if repeat > 1:
                print(f"  run {len(runs)}: {runs[-1]['seconds']:.2f}s (plain load {runs[-1]['plain_seconds']:.2f}s)",
                      flush=True)
        result = min(runs, key=lambda run: run["seconds"] / run["plain_seconds"])
        if profile:
            with fresh_database(kind) as database_url:
                run_child("migrate", database_url, url)
                print(f"  cProfile of a full pull ({kind}, {count:,}):", flush=True)
                run_child("profile", database_url, url)
    result.update(database=kind, count=count)
    print(
        f"  stored {result['stored']:,} in {result['seconds']:.2f}s = {result['stored'] / result['seconds']:,.0f}/s; "
        f"peak RSS {result['peak_mib']:.1f} MiB (+{result['growth_mib']:.1f} during the pull); "
        f"second pull {result['second_seconds']:.2f}s; {result['queries_logged']} queries in Django's query log",
        flush=True,
    )
    print("  of which: " + ", ".join(f"{name} {value:.2f}s" for name, value in sorted(result["parts"].items())),
          flush=True)
    print(f"  plain load of the same rows {result['plain_seconds']:.2f}s "
          f"(fetching them {result['fetch_seconds']:.2f}s); "
          f"pull / plain = {result['seconds'] / result['plain_seconds']:.1f}x, "
          f"2nd pull / plain = {result['second_seconds'] / result['plain_seconds']:.2f}x", flush=True)
    return result


def table(results: list[dict]) -> str:
    head = ("database", "count", "stored", "pull s", "tx/s", "plain load s", "pull / plain", "2nd pull s",
            "2nd / plain", "peak RSS MiB", "RSS growth MiB", "drift MiB", "client s", "(fetch s)", "(json s)",
            "parse s", "upsert s", "other s")
    rows = [head]
    for r in results:
        split = r["split"]
        rows.append((
            r["database"], f"{r['count']:,}", f"{r['stored']:,}", f"{r['seconds']:.2f}",
            f"{r['stored'] / r['seconds']:,.0f}", f"{r['plain_seconds']:.2f}",
            f"{r['seconds'] / r['plain_seconds']:.1f}x",
            f"{r['second_seconds']:.2f}", f"{r['second_seconds'] / r['plain_seconds']:.2f}x", f"{r['peak_mib']:.1f}",
            f"{r['growth_mib']:.1f}", f"{r['drift_mib']:+.1f}",
            *(f"{split[phase]:.2f}" for phase in ("client", "fetch", "json", "parse", "upsert", "other")),
        ))
    return markdown_table(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per case on fresh databases; the fastest is shown")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run of the 10,000 SQLite case")
    parser.add_argument("--child", choices=["migrate", "pull", "profile", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    results = []
    for kind in args.databases:
        for count in args.counts:
            profile = not args.no_profile and kind == "sqlite" and count == 10_000
            results.append(measure(kind, count, profile, max(1, args.repeat)))
    print(
        f"\nFull pull from the emulator ({os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.2f} at the end):\n"
    )
    print(table(results))


# --- the children: one Django process per step -------------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _drift(rss: list[float]) -> float:
    half = len(rss) // 2
    return max(rss[half:]) - max(rss[:half]) if half else 0.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Timers:
    """Seconds spent in the pull's phases, measured by wrapping one function per phase (a call per page)."""

    def __init__(self):
        self.seconds = {"client": 0.0, "fetch": 0.0, "json": 0.0, "parse": 0.0, "upsert": 0.0}

    def wrap(self, owner, name: str, phase: str) -> None:
        if not hasattr(owner, name):  # an older checkout measured with this script (its "before" figures)
            return
        original = getattr(owner, name)
        seconds = self.seconds

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[phase] += time.perf_counter() - start

        setattr(owner, name, timed)

    def split(self, total: float) -> dict:
        other = total - self.seconds["client"] - self.seconds["parse"] - self.seconds["upsert"]
        return {**self.seconds, "other": other}


def child(mode: str) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if mode == "migrate":
        call_command("migrate", verbosity=0)
        return

    import gc

    from django.db import connection

    from qa.mirror import criterion_results, revisions, rollups
    from qa.mirror.models import Transcription
    from syncer import client as client_module
    from syncer import mirror, pull
    from syncer.client import get_client

    client = get_client()
    if mode == "plain":
        return print(json.dumps(plain_load(client)))
    if mode == "profile":
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(pull.pull, client=client)
        if os.environ.get("BENCH_PROFILE_OUT"):  # for a closer look: python -m pstats <file>
            profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats("cumulative").print_stats(15)
        stats.sort_stats("tottime").print_stats(15)
        return

    timers = Timers()
    timers.wrap(client, "request", "fetch")  # in the fetch-ahead thread, if any: overlaps the rest
    # What the pull waited for its pages: the fetch that was not hidden behind the work on the page before.
    pages = client.pages

    def waited_pages(*args, **kwargs):
        iterator = pages(*args, **kwargs)
        try:
            while True:
                start = time.perf_counter()
                try:
                    page = next(iterator)
                finally:
                    timers.seconds["client"] += time.perf_counter() - start
                yield page
        except StopIteration:
            return
        finally:
            iterator.close()

    client.pages = waited_pages
    timers.wrap(client_module, "_json_of_list" if hasattr(client_module, "_json_of_list") else "_json", "json")
    timers.wrap(pull, "_parse_page", "parse")
    timers.wrap(mirror, "upsert", "upsert")
    # Inside the upsert (and the pull's bookkeeping): each model's INSERTs, the roll-ups' recount, the revision
    # that scored each call, and the score of record (the receiver of results_changed).
    parts = {}
    original_insert = mirror.insert_rows

    def timed_insert(model, rows, **kwargs):
        start = time.perf_counter()
        try:
            return original_insert(model, rows, **kwargs)
        finally:
            parts[f"insert {model.__name__}"] = parts.get(f"insert {model.__name__}", 0.0) + time.perf_counter() - start

    mirror.insert_rows = timed_insert
    part_timers = Timers()
    part_timers.seconds = {"roll-ups": 0.0, "revisions": 0.0, "score of record": 0.0, "read unchanged": 0.0}
    part_timers.wrap(rollups, "_buckets", "roll-ups")
    part_timers.wrap(rollups, "refresh", "roll-ups")
    part_timers.wrap(revisions, "scoring_revisions", "revisions")
    part_timers.wrap(criterion_results.results_changed, "send", "score of record")
    part_timers.wrap(mirror, "unchanged_payloads", "read unchanged")
    # RSS after each page of transcriptions: what accumulates across pages shows as a drift
    # (the highest RSS of the second half of the pages minus that of the first half).
    rss_by_page = []

    def on_page(name, count):
        if name == "transcriptions":
            rss_by_page.append(_rss_mib())

    gc.collect()
    baseline = _rss_mib()
    start = time.perf_counter()
    results = pull.pull(client=client, on_page=on_page)
    seconds = time.perf_counter() - start
    peak = _peak_mib()
    split = timers.split(seconds)
    parts = {**parts, **part_timers.seconds}  # the first pull's (the wrappers go on counting)
    stored = Transcription.objects.count()
    assert results["transcriptions"].created == stored, results
    start = time.perf_counter()
    again = pull.pull(client=client)
    second_seconds = time.perf_counter() - start
    assert all(r.created == r.updated == r.gone == 0 for r in again.values()), again
    print(json.dumps({
        "stored": stored, "seconds": seconds, "second_seconds": second_seconds, "baseline_mib": baseline,
        "peak_mib": peak, "growth_mib": peak - baseline, "peak_after_second_mib": _peak_mib(), "split": split,
        "drift_mib": _drift(rss_by_page), "parts": parts,
        "rss_by_page": rss_by_page, "queries_logged": len(connection.queries_log),
    }))


# --- the baseline: a plain load of the same rows ---------------------------------------------------

PLAIN_TABLE = "bench_plain_load"


def plain_load(client) -> dict:
    """The baseline: the same objects, fetched page by page through the same client, inserted into ONE table
    with a unique index on the Heify id and one on (participant, date), with `executemany`, a transaction per
    page. Timed apart: the fetch (HTTP and JSON decoding, `fetch_seconds`) and the load (building the rows,
    `json.dumps` of each payload, the INSERTs and the commits, `plain_seconds`). Run on a fresh, unmigrated
    database."""
    from django.db import connection, transaction

    from qa.db import on_postgresql
    from syncer import contract

    postgresql = on_postgresql(connection.alias)
    payload_type = "jsonb" if postgresql else "text"
    id_type = "bigserial" if postgresql else "integer"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {PLAIN_TABLE} (id {id_type} PRIMARY KEY, resource varchar(16) NOT NULL, "
            f"heify_id varchar(64) NOT NULL UNIQUE, participant_id varchar(64), created_at varchar(40), "
            f"status varchar(16), score double precision, payload {payload_type} NOT NULL)")
        cursor.execute(f"CREATE INDEX {PLAIN_TABLE}_participant ON {PLAIN_TABLE} (participant_id, created_at)")
    sql = (f"INSERT INTO {PLAIN_TABLE} (resource, heify_id, participant_id, created_at, status, score, payload) "
           "VALUES (%s, %s, %s, %s, %s, %s, %s)")
    fetch = load = 0.0
    rows_loaded = 0
    for name in contract.RESOURCES:
        id_field = contract.ID_FIELDS[name]
        pages = client.pages(name)
        while True:
            start = time.perf_counter()
            page = next(pages, None)
            fetch += time.perf_counter() - start
            if page is None:
                break
            start = time.perf_counter()
            rows = [
                (name, item[id_field], item.get("participant_id"), item.get("created_at"), item.get("status"),
                 ((item.get("details") or {}).get("evaluation") or {}).get("score"), json.dumps(item))
                for item in page.items
            ]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            load += time.perf_counter() - start
            rows_loaded += len(rows)
    return {"plain_seconds": load, "fetch_seconds": fetch, "plain_rows": rows_loaded}


if __name__ == "__main__":
    main()
