"""Benchmark (not a test): the web worker's CPU per request of the working day's mix, through Django's test client.

    .venv/bin/python benchmarks/mix_cpu.py --fill heify_bench_mix                    # once: 30,000 demo calls, kept
    .venv/bin/python benchmarks/mix_cpu.py --reuse heify_bench_mix [--rounds 20]     # this checkout's figures
    .venv/bin/python benchmarks/mix_cpu.py --reuse heify_bench_mix --against /path/to/older/checkout
                                                                                     # both, alternating, one table
    .venv/bin/python benchmarks/mix_cpu.py --reuse heify_bench_mix --profile "review page"    # where its CPU goes
    .venv/bin/python benchmarks/mix_cpu.py --drop heify_bench_mix

benchmarks/load.py's step load is bound by the CPU of two cores that gunicorn's workers share with PostgreSQL,
Redis, the clusters and Locust, so what the web worker spends per request sets the rate the stack can hold. This
measures that, request by request, in one process: the data is the load's own (`heify_demo` loaded by
`heify_load`, on PostgreSQL), the settings the production ones (DEBUG off, sessions and cache on an empty Redis
database, as load.py takes it), and each request is the one benchmarks/load_users.py sends:

- a reviewer (the "Reviewer" role): the pending queue, a claim, three verdicts, a note, an archive with "agree
  with the AI on the rest" (which opens the next call, claimed), each POST followed by the page it redirects to;
- a QA manager: the team overview, a participant's dashboard, the under-review queue and a call's review page
  (what a reassignment reads);
- an internal tool (a token): a filtered transcription list of 100 and its next page, a participant's analytics.

The measuring process imports heifyadmin.wsgi, as a gunicorn worker does (whatever that checkout's does there, it
does here). Per request: the mean CPU ms of that process (time.process_time: its own work, which other processes on
the machine stretch far less than the wall clock; the mean, not the median, since what a worker can serve in a
second is its total: a full pass of the garbage collector lands on one request in many, and a median would leave
it out), and the number of queries. The line "a reviewer's round" sums what one round of a reviewer costs (14
requests: the queue, a claim, three verdicts, a note, an archive, each POST's page); "mix per request" weighs
every request by how often the load's people send it (MIX_WEIGHTS); the last line is the share of all that CPU
spent in Python's cyclic garbage collector (gc.callbacks).

With --against DIR the same measurement runs in a child process on DIR's code (its own .venv, this script's
file), alternating with this checkout's (--pairs times each: before, after, after, before, ...), on the same
database: both see the same data. Each round archives a call as the load does, and puts back the next one that
"Archive and next" claimed (not measured), so the queues stay as they were. The table shows both and their
ratio. Other processes on the machine stretch the CPU figures too (caches, frequency): compare within a run.
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent

QUEUE = "/admin/qa/reviewitem/"
CALL_LINK = re.compile(r'href="/admin/qa/reviewitem/(\d+)/change/')
CRITERION = re.compile(r'name="criterion" value="([^"]*)"')
PARTICIPANT_LINK = re.compile(r'href="/admin/qa/participant/(\d+)/change/')
# Requests of a reviewer's round, then a manager's and a tool's reads, in the table's order.
ORDER = ["queue", "claim", "review page", "verdict", "note", "archive", "team overview", "participant dashboard",
         "queue (under review)", "api transcriptions", "api transcriptions next page", "api analytics"]
# How often the load's people send each request, per reviewer round (load_users: 52 reviewers go through rounds
# of 14 requests with 1-3 s between rounds; 10 managers one task every 2-5 s; 3 tools one every 1-2 s). A rough
# weighting: the reviewers' rounds are most of the traffic, as the load's request log shows.
MIX_WEIGHTS = {"queue": 1, "claim": 1, "review page": 6, "verdict": 3, "note": 1, "archive": 1,
               "team overview": 0.15, "participant dashboard": 0.2, "queue (under review)": 0.05,
               "api transcriptions": 0.05, "api transcriptions next page": 0.2, "api analytics": 0.02}


def database_url(name: str) -> str:
    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return base.rsplit("/", 1)[0] + f"/{name}"


def admin_url() -> str:
    return database_url("postgres")


class Recorder:
    """Each request's CPU ms, wall ms and queries, by label; a cProfile of the labels asked for."""

    def __init__(self, profile: str | None):
        self.figures: dict[str, list[tuple[float, float, int]]] = {}
        self.profile = profile
        # CPU, not the waits for PostgreSQL (the clock's own cost inflates small functions: read it for proportions)
        self.profiler = cProfile.Profile(time.process_time) if profile else None
        self.recording = False

    def __call__(self, label: str, request):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        profiling = self.recording and self.profiler is not None and label == self.profile
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            if profiling:
                self.profiler.enable()
            try:
                response = request()
            finally:
                if profiling:
                    self.profiler.disable()
            cpu, wall = (time.process_time() - started_cpu) * 1000, (time.perf_counter() - started) * 1000
        assert response.status_code in (200, 302), (label, response.status_code, response.content[:800])
        if self.recording:
            self.figures.setdefault(label, []).append((cpu, wall, len(captured.captured_queries)))
        return response


class CollectorClock:
    """The CPU seconds Python's cyclic garbage collector takes while `counting` (gc.callbacks)."""

    def __init__(self):
        import gc

        self.seconds, self.counting, self.started = 0.0, False, 0.0
        gc.callbacks.append(self)

    def __call__(self, phase, info):
        if phase == "start":
            self.started = time.process_time()
        elif self.counting:
            self.seconds += time.process_time() - self.started

    def stop(self):
        import gc

        gc.callbacks.remove(self)


def people():
    """A reviewer, a QA manager (each a member of their role, not a superuser) and a tool's API token."""
    from django.contrib.auth.models import Group, User
    from knox.models import AuthToken

    def person(name, role, staff=True):
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": staff})
        user.groups.add(Group.objects.get(name=role))
        return user

    reviewer, manager = person("mix-reviewer", "Reviewer"), person("mix-manager", "QA manager")
    tool = person("mix-tool", "QA manager", staff=False)
    AuthToken.objects.filter(user=tool).delete()
    return reviewer, manager, AuthToken.objects.create(user=tool)[1]


def reviewer_round(client, record) -> bool:
    """One round of load_users.Reviewer.review_one_call (the most urgent call, not a random one of ten)."""
    import html

    queue = record("queue", lambda: client.get(QUEUE, {"queue": "PENDING_REVIEW"}))
    calls = list(dict.fromkeys(CALL_LINK.findall(queue.content.decode())))
    if not calls:
        return False
    base = f"{QUEUE}{calls[0]}/review"

    def post(label, step, data):
        response = record(label, lambda: client.post(f"{base}/{step}/", data))
        assert response.status_code == 302, (label, response.status_code)
        post.location = response["Location"].split("#")[0]
        return record("review page", lambda: client.get(post.location)).content.decode()

    page = post("claim", "claim", {})
    assert "You are reviewing this call." in page, page[:2000]
    for criterion in list(dict.fromkeys(CRITERION.findall(page)))[:3]:
        done = post("verdict", "verdict", {"criterion": html.unescape(criterion), "agrees": "yes"})
        assert ": saved — " in done, done[:2000]
    assert "Note saved." in post("note", "note", {"note": "Checked the opening and the close."})
    assert "Archived." in post("archive", "archive", {"note": "Reviewed.", "agree_rest": "1"})
    # "Archive and next" claimed the next call: it goes back (not measured), so that every round and every run
    # finds the same queues (the calls under review would grow by one a round, and the later run pay for them).
    following = CALL_LINK.search(f'href="{post.location}')
    if following:
        client.post(f"{QUEUE}{following.group(1)}/review/release/", {"note": "Not measured."})
    return True


def manager_round(client, record, participants: list[str]) -> None:
    record("team overview", lambda: client.get("/admin/qa/participant/team/", {"o": "-avg_score"}))
    for pk in participants[:2]:
        record("participant dashboard", lambda pk=pk: client.get(f"/admin/qa/participant/{pk}/change/"))
    queue = record("queue (under review)", lambda: client.get(QUEUE, {"queue": "UNDER_REVIEW"}))
    calls = CALL_LINK.findall(queue.content.decode())
    if calls:
        record("review page (manager)", lambda: client.get(f"{QUEUE}{calls[0]}/change/"))


def tool_round(client, record, participants: list[str]) -> None:
    for query in ("status=COMPLETED&critical_fail=true", "group=PENDING_REVIEW", "score_min=20&score_max=60",
                  "status=COMPLETED&ordering=occurred_at"):
        body = record("api transcriptions", lambda q=query: client.get(f"/api/v1/transcriptions/?limit=100&{q}"))
        cursor = body.json().get("next_cursor")
        if cursor:
            record("api transcriptions next page", lambda q=query, c=cursor: client.get(
                f"/api/v1/transcriptions/?limit=100&{q}&cursor={c}"))
    if participants:
        record("api analytics", lambda: client.get(f"/api/v1/participants/{participants[0]}/analytics/"))


def measure(rounds: int, warm_up: int, profile: str | None) -> dict:
    """In this process (Django set up on the database of the environment): the mix, `rounds` times."""
    from django.core.management import call_command
    from django.test import Client

    from qa.mirror.models import Participant

    call_command("migrate", verbosity=0)  # a newer checkout's migrations apply; an older one's are there already
    reviewer, manager, token = people()
    clients = {}
    for name, user in (("reviewer", reviewer), ("manager", manager)):
        clients[name] = Client()
        clients[name].force_login(user)
    clients["tool"] = Client(HTTP_AUTHORIZATION=f"Token {token}")
    busiest = list(Participant.objects.order_by("-pk").values_list("pk", flat=True)[:3])
    heify_ids = list(Participant.objects.filter(pk__in=busiest).values_list("heify_id", flat=True))
    record, clock = Recorder(profile), CollectorClock()
    for n in range(warm_up + rounds):
        record.recording = clock.counting = n >= warm_up
        if not reviewer_round(clients["reviewer"], record):
            raise SystemExit("the pending-review queue is empty: fill a new database")
        manager_round(clients["manager"], record, [str(pk) for pk in busiest[n % 3:] + busiest[:n % 3]])
        tool_round(clients["tool"], record, heify_ids[n % len(heify_ids):] + heify_ids[:n % len(heify_ids)])
    clock.stop()
    return summary(record, clock.seconds)


def summary(record: Recorder, collector_seconds: float) -> dict:
    out = {"figures": {label: {"cpu": statistics.mean(c for c, _, _ in values),
                               "cpu_median": statistics.median(c for c, _, _ in values),
                               "wall": statistics.median(w for _, w, _ in values),
                               "queries": sorted({q for _, _, q in values}), "n": len(values)}
                       for label, values in record.figures.items()},
           "gc": {"seconds": collector_seconds,
                  "of": sum(c for values in record.figures.values() for c, _, _ in values) / 1000}}
    if record.profiler is not None:
        stream = io.StringIO()
        stats = pstats.Stats(record.profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        out["profile"] = stream.getvalue()
    return out


def child_environment(name: str) -> dict:
    """The production settings on `name`, an empty Redis database for cache and sessions (load.py's choice)."""
    import secrets

    return {**os.environ, "DJANGO_SETTINGS_MODULE": "heifyadmin.settings", "DATABASE_URL": database_url(name),
            "DATABASE_CONN_MAX_AGE": "60", "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_LOG_LEVEL": "WARNING", "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_ALLOWED_HOSTS": "testserver",
            "HEIFY_VAR_DIR": tempfile.gettempdir(), "DJANGO_STATIC_ROOT": static_root()}


def static_root() -> str:
    """The static files collected once per machine (WhiteNoise's manifest: a page linking a stylesheet needs it)."""
    root = Path(tempfile.gettempdir()) / "heify-bench-static"
    if not (root / "staticfiles.json").exists():
        env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_STATIC_ROOT": str(root)}
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                       check=True)
    return str(root)


def run_child(code: Path, name: str, rounds: int, warm_up: int, profile: str | None) -> dict:
    """measure() on `code`'s checkout (its .venv, its Django, its templates), in a child process."""
    from contextlib import ExitStack

    from benchmarks.load import claim_redis  # an empty Redis database per child, flushed after it

    out = Path(tempfile.mkstemp(suffix=".json")[1])
    argv = [str(code / ".venv" / "bin" / "python"), str(HERE), "--child", str(code), "--reuse", name,
            "--rounds", str(rounds), "--warm-up", str(warm_up), "--out", str(out)]
    if profile:
        argv += ["--profile", profile]
    with ExitStack() as exits:
        env = {**child_environment(name), "REDIS_URL": claim_redis(exits)}
        subprocess.run(argv, cwd=code, env=env, check=True)
    try:
        return json.loads(out.read_text())
    finally:
        out.unlink()


def fill(name: str, calls: int) -> None:
    """A database `name` holding the load's demo account of `calls` calls, loaded as load.py loads it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = child_environment(name)
    python = str(ROOT / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as work:
        demo = f"{work}/demo.json"
        for argv in (["heify_demo", "--transcriptions", str(calls), "--out", demo], ["migrate", "-v0"],
                     ["heify_load", demo]):
            subprocess.run([python, "manage.py", *argv], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"filled {name}: {calls:,} demo calls")


def drop(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def table(runs: dict[str, list[dict]]) -> str:
    """Median over the runs of each code's mean CPU ms per request; the round and the weighted mix."""
    from benchmarks.report import markdown_table

    codes = list(runs)
    labels = [label for label in ORDER + ["review page (manager)"] if label in runs[codes[0]][0]["figures"]]

    def cpu(code, label):
        return statistics.median(run["figures"][label]["cpu"] for run in runs[code] if label in run["figures"])

    head = ["request"] + [f"{code} cpu ms" for code in codes] + [f"{code} queries" for code in codes]
    if len(codes) == 2:
        head.append(f"{codes[1]} / {codes[0]}")
    rows = [tuple(head)]

    def line(label, values, queries):
        cells = [label] + [f"{v:.1f}" for v in values] + queries
        if len(codes) == 2:
            cells.append(f"{values[1] / values[0]:.2f}" if values[0] else "")
        rows.append(tuple(cells))

    for label in labels:
        line(label, [cpu(code, label) for code in codes],
             ["–".join(str(q) for q in sorted({*runs[code][-1]["figures"][label]["queries"]})[::max(1, len(
                 runs[code][-1]["figures"][label]["queries"]) - 1)]) for code in codes])
    round_weights = {"queue": 1, "claim": 1, "review page": 6, "verdict": 3, "note": 1, "archive": 1}
    line("a reviewer's round (14 requests)", [sum(w * cpu(code, label) for label, w in round_weights.items())
                                              for code in codes], ["" for _ in codes])
    weight = sum(w for label, w in MIX_WEIGHTS.items() if label in labels)
    line("mix per request (MIX_WEIGHTS)", [sum(w * cpu(code, label) for label, w in MIX_WEIGHTS.items()
                                               if label in labels) / weight for code in codes], ["" for _ in codes])
    shares = [statistics.median(run["gc"]["seconds"] / run["gc"]["of"] for run in runs[code]) for code in codes]
    rows.append(("of all that CPU, the garbage collector's", *[f"{100 * share:.0f} %" for share in shares],
                 *["" for _ in codes], *([""] if len(codes) == 2 else [])))
    return markdown_table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", metavar="NAME", help="create database NAME with the demo account (kept)")
    parser.add_argument("--calls", type=int, default=30_000, help="demo calls of --fill (default 30,000)")
    parser.add_argument("--reuse", metavar="NAME", help="measure on this filled database")
    parser.add_argument("--drop", metavar="NAME", help="drop this database and stop")
    parser.add_argument("--against", metavar="DIR", help="another checkout to measure too (its .venv)")
    parser.add_argument("--pairs", type=int, default=2, help="runs of each checkout, alternating (default 2)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds timed per run (default 10)")
    parser.add_argument("--warm-up", type=int, default=2, help="rounds first, not timed (default 2)")
    parser.add_argument("--profile", metavar="LABEL", help="cProfile the requests of this label, print it")
    parser.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # the measuring process: DIR's code first on the path
        sys.path.insert(0, args.child)
        import heifyadmin.wsgi  # noqa: F401  (Django set up as a web worker sets it up, whatever that checkout does)
        Path(args.out).write_text(json.dumps(measure(args.rounds, args.warm_up, args.profile)))
        return
    sys.path.insert(0, str(ROOT))
    if args.drop:
        drop(args.drop)
        return
    if args.fill:
        fill(args.fill, args.calls)
        return
    if not args.reuse:
        parser.error("--fill NAME first, then --reuse NAME")
    codes = {"after": ROOT} if not args.against else {"before": Path(args.against).resolve(), "after": ROOT}
    runs: dict[str, list[dict]] = {}
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    for pair in range(1 if args.profile else args.pairs):
        for code, checkout in (list if pair % 2 == 0 else reversed)(list(codes.items())):  # before, after, after...
            runs.setdefault(code, []).append(run_child(checkout, args.reuse, args.rounds, args.warm_up, args.profile))
            if args.profile:
                print(f"--- {code} ({checkout}) ---\n{runs[code][-1]['profile']}")
    print(f"load average {os.getloadavg()[0]:.2f}; {1 if args.profile else args.pairs} run(s) of {args.rounds} "
          "rounds per checkout, each figure the median of the runs' means")
    print(table(runs))


if __name__ == "__main__":
    main()
