"""A working day of a QA team against the production stack, with Locust, then the checks that matter.

    .venv/bin/python benchmarks/load.py                          # the benchmark: 40 reviewers, 8 QA managers,
                                                                 # 2 internal tools, 5 minutes, 100,000 calls
    .venv/bin/python benchmarks/load.py --reviewers 15 --managers 4 --tools 1 --run-time 30 \\
        --transcriptions 3000 --check-serving                    # what CI runs (scripts/production_check.sh)
    .venv/bin/python benchmarks/load.py --step 5,5,40 --reviewers 80 --managers 16 --tools 4 --wait-first-pull
                                                                 # a step load: the highest rate held

Everything runs on this machine, on loopback, and stops by itself:

1. a throw-away PostgreSQL database (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432) and an
   empty Redis database (LOAD_REDIS_URL, refused if not empty; else the first empty one of 15..8 on 127.0.0.1);
2. the deterministic demo account (`heify_demo`) loaded into the back office (`heify_load`) and into the
   Heify emulator, so both hold the same calls and versions;
3. the Procfile's `release`, then `web` (gunicorn, WEB_CONCURRENCY=4) and `worker` twice (two django-q2
   clusters on Redis): each Procfile line run by `sh -c` with the virtualenv first on PATH, as a process
   manager runs it; DEBUG off, a generated secret key, JSON logs, as behind a TLS proxy
   (X-Forwarded-Proto: https);
4. with --check-serving: the admin login page and its CSS (text/css, long cache) from gunicorn, /healthz and
   /readyz 200, 16 concurrent API clients answered 200 within the database connection budget, and /readyz
   503 naming the database from a second `web` pointed at a closed port;
5. Locust, headless, bounded in users, time (--run-time) and requests (--max-iterations per user); the
   people are in benchmarks/load_users.py;
6. once the run ends and the workers have drained: requests, errors by kind, p50/p95/p99 per page, the
   outcomes (claims lost, edits refused), and the checks: no call claimed by two reviewers at once, every
   group change present in the emulator, no change left waiting, no 5xx in the logs. With --keep-pulling a
   pull runs back to back all the while, so that review moves meet pages fetched before Heify took them.

With --step START,INCREMENT,SECONDS it is a step load instead of a fixed crowd: everybody signs in first (not
measured), then START people work, INCREMENT more every SECONDS, until all of them do, in the working day's mix
(benchmarks/load_users.StepPlan); --run-time is ignored. For each step it prints the people at work, the
requests per second answered and their p50/p95 (Locust's requests: a POST with the page it redirects to is one),
leaving out each step's first STEP_SETTLE seconds; and the highest rate held with p95 <= 300 ms.

It exits non-zero when a request failed or a check did not hold. Logs and Locust's CSV files stay in
--keep DIR when given. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PY = str(BIN / "python")
SHOWN_COLUMNS = ("requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s")
STEP_SETTLE = 5  # seconds of each step left out of its figures: the newly working people's first requests
STEP_P95_MS = 300  # the step load's aim: the highest rate held with p95 at most this


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(what: str, ready, *, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:] if log else ""
            raise SystemExit(f"{what}: the process stopped (exit {process.returncode})\n{tail}")
        try:
            if ready():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what}: not ready within {timeout:.0f} s")


def procfile(process_type: str) -> list[str]:
    """The command of a process type, as the Procfile says it, for a shell (as every process manager runs it)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            return ["sh", "-c", command.strip()]
    raise SystemExit(f"the Procfile has no {process_type!r} process type")


class Stack:
    """The processes and throw-away stores of one run; everything is stopped and removed on exit.

    Each process starts in its own process group, and stopping it signals the whole group: the shell
    that runs a Procfile line may exit first and leave its child (gunicorn, qcluster) running.
    """

    def __init__(self, work: Path, exits: ExitStack):
        self.work, self.exits = work, exits

    def start(self, name: str, argv: list[str], env: dict) -> tuple[subprocess.Popen, Path]:
        log = self.work / f"{name}.log"
        handle = open(log, "wb")  # noqa: SIM115 - closed with the stack
        self.exits.callback(handle.close)
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.exits.callback(self.stop, process)
        return process, log

    @staticmethod
    def stop(process: subprocess.Popen, grace: float = 30) -> None:
        """SIGTERM to the group (gunicorn and qcluster stop gracefully), SIGKILL to what is left after `grace`."""
        group = process.pid
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def run(self, name: str, argv: list[str], env: dict) -> str:
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        (self.work / f"{name}.log").write_text(done.stdout + done.stderr)
        if done.returncode:
            raise SystemExit(f"{name} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
        return done.stdout


def create_database(exits: ExitStack) -> str:
    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    if base.count("/") > 2:
        base = base.rsplit("/", 1)[0]
    name = f"heify_load_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    exits.callback(drop)
    return f"{base}/{name}"


def claim_redis(exits: ExitStack) -> str:
    """LOAD_REDIS_URL if it is empty, else the first empty database from 15 down to 8 of the local Redis."""
    given = os.environ.get("LOAD_REDIS_URL")
    candidates = [given] if given else [f"redis://127.0.0.1:6379/{n}" for n in range(15, 7, -1)]
    for url in candidates:
        client = redis.Redis.from_url(url)
        if not client.dbsize():
            exits.callback(client.flushdb)
            return url
    raise SystemExit(f"no empty Redis database among {', '.join(candidates)}: set LOAD_REDIS_URL to an empty one")


USERS_SCRIPT = """
import os
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from knox.models import AuthToken

password = make_password(os.environ["LOAD_PASSWORD"])  # hashed once: the logins are measured, not the set-up
roles = {"reviewer": ("Reviewer", int(os.environ["LOAD_REVIEWERS"])),
         "manager": ("QA manager", int(os.environ["LOAD_MANAGERS"])),
         "tool": ("QA manager", int(os.environ["LOAD_TOOLS"]))}
tokens = []
for prefix, (role, n) in roles.items():
    group = Group.objects.get(name=role)
    for i in range(1, n + 1):
        user = User.objects.create(username=f"{prefix}{i:02d}", password=password, is_staff=prefix != "tool")
        user.groups.add(group)
        if prefix == "tool":
            tokens.append(AuthToken.objects.create(user=user)[1])
print("TOKENS=" + ",".join(tokens))
"""


def connection_budget(database_url: str, base: str, token: str, budget: int) -> tuple[str, bool, str]:
    """16 concurrent API clients: every answer 200, and the database never holds more connections than budgeted."""
    statuses: dict[int, int] = {}
    peak, stop = 0, threading.Event()

    def watch():
        nonlocal peak
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid()").fetchone()[0]
                peak = max(peak, count)
                time.sleep(0.05)

    def client():
        with httpx.Client(base_url=base, timeout=120, headers={
                "Authorization": f"Token {token}", "X-Forwarded-Proto": "https"}) as http:
            for _ in range(10):
                status = http.get("/api/v1/transcriptions/?limit=20").status_code
                statuses[status] = statuses.get(status, 0) + 1

    watcher = threading.Thread(target=watch)
    watcher.start()
    clients = [threading.Thread(target=client) for _ in range(16)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    stop.set()
    watcher.join()
    ok = set(statuses) == {200} and 0 < peak <= budget
    return ("16 concurrent API clients: all 200, connections within the budget", ok,
            f"statuses {statuses}, at most {peak} connections (budget {budget})")


def check_serving(stack: Stack, env: dict, base: str, token: str, budget: int) -> list[tuple[str, bool, str]]:
    """The production stack serves the admin and its static files itself, and its probes tell the truth."""
    results = []
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=base, timeout=30) as http:
        login = http.get("/admin/login/", headers=https)
        ok = login.status_code == 200 and login.headers.get("server", "").startswith("gunicorn")
        results.append(("admin login page served by gunicorn", ok,
                        f"{login.status_code} {login.headers.get('server')}"))
        links = [part.split('"')[0] for part in login.text.split('href="')[1:]]
        css = next((link for link in links if link.startswith("/static/admin/css/") and link.endswith(".css")), "")
        sheet = http.get(css, headers=https) if css else None
        cache = sheet.headers.get("cache-control", "") if sheet is not None else ""
        ok = (sheet is not None and sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
              and "max-age=315360000" in cache and "immutable" in cache and len(sheet.content) > 1000)
        results.append(("admin CSS: text/css, cached for a year", ok,
                        f"{css} {sheet.status_code if sheet is not None else '-'} {cache}"))
        for path in ("/healthz", "/readyz"):
            answer = http.get(path)  # plain HTTP, no proxy header: as a load balancer probes
            results.append((f"{path} answers 200", answer.status_code == 200, f"{answer.status_code} {answer.text}"))
    results.append(connection_budget(env["DATABASE_URL"], base, token, budget))
    # A second web process whose database is a closed port.
    closed = free_port()
    port = free_port()
    broken_env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed}/nowhere", "PORT": str(port),
                  "WEB_CONCURRENCY": "1"}
    process, log = stack.start("web-without-database", procfile("web"), broken_env)
    probe = f"http://127.0.0.1:{port}"
    wait_until("web without a database", lambda: httpx.get(f"{probe}/healthz", timeout=2).status_code == 200,
               timeout=60, process=process, log=log)
    answer = httpx.get(f"{probe}/readyz", timeout=30)
    body = answer.json() if answer.headers.get("content-type") == "application/json" else {}
    results.append(("/readyz answers 503 naming the database when it is unreachable",
                    answer.status_code == 503 and body.get("failed") == ["database"], f"{answer.status_code} {body}"))
    stack.stop(process)
    return results


def first_jobs_done(database_url: str) -> bool:
    with psycopg.connect(database_url, autocommit=True) as conn:
        done = conn.execute("""SELECT count(DISTINCT "group") FROM django_q_task WHERE "group" IN """
                            """('heify pull', 'heify poll in-flight transcriptions')""").fetchone()[0]
    return done == 2


def drain(database_url: str, timeout: float) -> int:
    """Wait for the workers to send every change that waits for Heify; the number left."""
    deadline = time.monotonic() + timeout
    query = " UNION ALL ".join(f"SELECT count(*) FROM {table} WHERE sync_state = 'waiting'" for table in (
        "qa_transcription", "qa_participant", "qa_evaluator", "qa_configuration"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            waiting = sum(row[0] for row in conn.execute(query).fetchall())
            if waiting == 0 or time.monotonic() > deadline:
                return waiting
            time.sleep(2)


def claims_never_overlap(database_url: str) -> tuple[bool, str]:
    """Walk each call's review history: a claim only ever starts on a call nobody holds."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT transcription_id, action, assignee_id, actor_id, from_group, to_group, at FROM qa_reviewevent "
            "WHERE action NOT IN ('note', 'verdict') ORDER BY transcription_id, id").fetchall()
    holder: dict[int, int | None] = {}
    claims, overlapping = 0, []
    for call, action, assignee, *_ in rows:
        if action == "claim":
            claims += 1
            if holder.get(call) is not None:
                overlapping.append(call)
            holder[call] = assignee
        elif action == "reassign":
            holder[call] = assignee
        elif action in ("release", "archive", "expire", "move", "reopen"):
            holder[call] = assignee if action == "move" else None
    detail = f"{claims} claims, {len(overlapping)} over another reviewer's"
    for call in overlapping[:3]:  # the history of each, to see how it came about
        detail += f"\n      call {call}: " + "; ".join(
            f"{action} by {actor} to {assignee} ({from_group} -> {to_group}) at {at:%H:%M:%S.%f}"
            for c, action, assignee, actor, from_group, to_group, at in rows if c == call)
    return not overlapping, detail


def emulator_agrees(database_url: str, heify_url: str, api_key: str) -> tuple[bool, str]:
    """Every call whose group changed, and every participant, reads the same in Heify as here."""
    with psycopg.connect(database_url) as conn:
        calls = conn.execute(
            "SELECT t.heify_id, t.group FROM qa_transcription t WHERE EXISTS "
            "(SELECT 1 FROM qa_reviewevent e WHERE e.transcription_id = t.id AND e.from_group IS DISTINCT FROM "
            "e.to_group)").fetchall()
        people = conn.execute("SELECT heify_id, metadata FROM qa_participant WHERE heify_id <> ''").fetchall()
    differ = []
    with httpx.Client(base_url=heify_url, headers={"x-api-key": api_key}, timeout=30) as heify:
        for heify_id, group in calls:
            remote = heify.get(f"/transcription/{heify_id}").json()["data"]
            if remote.get("group") != group:
                differ.append(f"call {heify_id}: {group} here, {remote.get('group')} in Heify")
        for heify_id, metadata in people:
            remote = heify.get(f"/participant/{heify_id}").json()["data"]
            if remote.get("metadata") != metadata:
                differ.append(f"participant {heify_id}: metadata differs")
    detail = f"{len(calls)} calls moved, {len(people)} participants compared"
    return not differ, detail + ("; " + "; ".join(differ[:5]) if differ else "")


def server_errors(logs: list[Path]) -> tuple[bool, str]:
    """JSON request lines with a 5xx status, error lines and tracebacks, in the web and worker logs."""
    errors = error_lines = tracebacks = 0
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            text = line
            if text.startswith("{"):
                try:
                    record = json.loads(text)
                except ValueError:
                    continue
                errors += isinstance(record.get("status"), int) and record["status"] >= 500
                error_lines += record.get("level") in ("ERROR", "CRITICAL")
                tracebacks += "Traceback" in record.get("exc_info", "")
            tracebacks += text.startswith("Traceback")
    return errors == error_lines == tracebacks == 0, (
        f"{errors} answers 5xx, {error_lines} error lines, {tracebacks} tracebacks")


def server_time(web_log: Path, top: int = 12) -> list[tuple[str, ...]]:
    """Where the web workers' time went, from the JSON request lines: per method and path (ids as N)."""
    durations: dict[str, list[float]] = {}
    for line in web_log.read_text(errors="replace").splitlines():
        text = line
        if not text.startswith('{"'):
            continue
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if record.get("logger") == "heifyadmin.request":
            path = re.sub(r"/[0-9a-f-]{6,}/|/\d+/", "/N/", record["path"].split("?")[0])
            durations.setdefault(f"{record['method']} {path}", []).append(record["duration_ms"])
    total = sum(sum(values) for values in durations.values()) or 1
    rows = []
    for name, values in sorted(durations.items(), key=lambda item: -sum(item[1]))[:top]:
        values.sort()
        p50, p95 = values[len(values) // 2], values[int(len(values) * 0.95)]
        rows.append((name, str(len(values)), f"{p50:.0f}", f"{p95:.0f}", f"{sum(values) / 1000:.1f}",
                     f"{100 * sum(values) / total:.0f}%"))
    return rows


def read_stats(prefix: Path) -> tuple[list[tuple[str, ...]], dict[str, int], int, int]:
    rows, total, failures = [], 0, 0
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                total, failures = int(row["Request Count"]), int(row["Failure Count"])
                name = "all pages"
            else:
                name = row["Name"]
            rows.append((name, row["Request Count"], row["Failure Count"], row["50%"], row["95%"], row["99%"],
                         f"{float(row['Max Response Time']):.0f}", f"{float(row['Requests/s']):.1f}"))
    kinds: dict[str, int] = {}
    with open(f"{prefix}_failures.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            key = f"{row['Name']}: {row['Error']}"
            kinds[key] = kinds.get(key, 0) + int(row["Occurrences"])
    return rows, kinds, total, failures


def step_table(summary: dict) -> tuple[list[tuple[str, ...]], tuple[float, int] | None]:
    """Each step's people, rate and percentiles from the requests it finished (its first STEP_SETTLE seconds left
    out); and the highest rate held with p95 <= STEP_P95_MS, with the people at work then."""
    rows, best = [], None
    start, seconds = summary["started_at"], summary["seconds"]
    for step, people in enumerate(summary["people"]):
        low, high = start + step * seconds + STEP_SETTLE, start + (step + 1) * seconds
        times = sorted(ms for at, _, ms, _ in summary["requests"] if low <= at < high)
        errors = sum(failed for at, _, _, failed in summary["requests"] if low <= at < high)
        if not times:
            rows.append((str(step + 1), str(people), "0", "", "", "", str(errors), "no"))
            continue
        rate = len(times) / (high - low)
        p50, p95 = times[len(times) // 2], times[max(0, -(-len(times) * 95 // 100) - 1)]
        held = p95 <= STEP_P95_MS and errors == 0
        if held and (best is None or rate > best[0]):
            best = (rate, people)
        rows.append((str(step + 1), str(people), f"{len(times)}", f"{rate:.1f}", f"{p50:.0f}", f"{p95:.0f}",
                     str(errors), "yes" if held else "no"))
    return rows, best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviewers", type=int, default=40)
    parser.add_argument("--managers", type=int, default=8)
    parser.add_argument("--tools", type=int, default=2)
    parser.add_argument("--run-time", type=int, default=300, help="seconds of load (default 300)")
    parser.add_argument("--max-iterations", type=int, default=200, help="tasks per simulated user at most")
    parser.add_argument("--transcriptions", type=int, default=100_000)
    parser.add_argument("--web-concurrency", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=1,
                        help="WEB_THREADS: above 1, gunicorn's gthread workers, each serving that many requests")
    parser.add_argument("--worker-clusters", type=int, default=2)
    parser.add_argument("--drain-timeout", type=int, default=240, help="seconds to wait for waiting changes")
    parser.add_argument("--check-serving", action="store_true", help="check static files and probes first")
    parser.add_argument("--wait-first-pull", action="store_true",
                        help="start the people once the workers' first pull and poll are done")
    parser.add_argument("--keep-pulling", action="store_true",
                        help="pull back to back while the people work (heify_sync in a loop, beside the workers' "
                             "schedule), so that moves and edits meet pages fetched before Heify took them")
    parser.add_argument("--step", metavar="START,INCREMENT,SECONDS",
                        help="a step load: START people at work, INCREMENT more every SECONDS, up to all of them")
    parser.add_argument("--keep", help="keep logs and Locust's CSV files in this directory")
    args = parser.parse_args()
    users = args.reviewers + args.managers + args.tools
    if not (1 <= users <= 200 and 5 <= args.run_time <= 3600 and args.tools >= 1):
        parser.error("between 1 and 200 users (at least 1 tool) and 5 to 3600 seconds")
    if args.step:
        try:
            start, increment, seconds = (int(part) for part in args.step.split(","))
        except ValueError:
            parser.error("--step is START,INCREMENT,SECONDS: three whole numbers, e.g. 5,5,40")
        if not (1 <= start <= users and increment >= 1 and STEP_SETTLE + 5 <= seconds <= 600):
            parser.error(f"--step: START from 1 to the {users} people, INCREMENT at least 1, SECONDS from "
                         f"{STEP_SETTLE + 5} to 600")
        steps = 1 + -(-(users - start) // increment)
        args.run_time = 600 + steps * seconds  # a bound: the people end the run after the last step
        args.max_iterations = 1_000_000

    started = time.monotonic()
    with ExitStack() as exits:
        work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="heify-load-"))
        work.mkdir(parents=True, exist_ok=True)
        if not args.keep:
            exits.callback(shutil.rmtree, work, ignore_errors=True)
        stack = Stack(work, exits)
        database_url = create_database(exits)
        redis_url = claim_redis(exits)
        api_key, password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        heify_port, web_port = free_port(), free_port()
        heify_url = f"http://127.0.0.1:{heify_port}"
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # the Procfile's bare commands
            "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_BEHIND_PROXY": "1",
            "DJANGO_STATIC_ROOT": str(work / "static"), "HEIFY_VAR_DIR": str(work / "var"),
            "HEIFY_API_URL": heify_url, "HEIFY_API_KEY": api_key, "HEIFY_WEBHOOK_SECRET": secrets.token_urlsafe(24),
            "WEB_CONCURRENCY": str(args.web_concurrency), "WEB_THREADS": str(args.web_threads),
            "PORT": str(web_port), "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        print(f"load: {args.transcriptions:,} calls; database {database_url}; Redis {redis_url}; work {work}")

        demo = work / "demo.json"
        stack.run("demo", [PY, "manage.py", "heify_demo", "--transcriptions", str(args.transcriptions),
                           "--out", str(demo)], env)
        stack.run("release", procfile("release"), env)
        stack.run("heify_load", [PY, "manage.py", "heify_load", str(demo)], env)
        out = stack.run("users", [PY, "manage.py", "shell", "-c", USERS_SCRIPT], {
            **env, "LOAD_PASSWORD": password, "LOAD_REVIEWERS": str(args.reviewers),
            "LOAD_MANAGERS": str(args.managers), "LOAD_TOOLS": str(args.tools)})
        tokens = next(line for line in out.splitlines() if line.startswith("TOKENS="))[len("TOKENS="):]

        emulator, emulator_log = stack.start("emulator", [
            PY, "manage.py", "heify_emulator", "--fixture", str(demo), "--port", str(heify_port),
            f"--api-key={api_key}", "--processing-seconds", "0"], env)
        wait_until("the emulator", lambda: httpx.get(f"{heify_url}/configuration", headers={"x-api-key": api_key},
                                                     timeout=5).status_code == 200,
                   timeout=600, process=emulator, log=emulator_log)
        web, web_log = stack.start("web", procfile("web"), env)
        base = f"http://127.0.0.1:{web_port}"
        wait_until("web", lambda: httpx.get(f"{base}/readyz", timeout=5).status_code == 200, timeout=120,
                   process=web, log=web_log)
        worker_logs = []
        for n in range(1, args.worker_clusters + 1):
            worker, log = stack.start(f"worker-{n}", procfile("worker"), env)
            worker_logs.append(log)

        # The workers' first pull and poll start with them (their schedules are due since `release`);
        # with --wait-first-pull the people start once those are done, so that the figures are the serving's
        # and the review path's alone. A pull overlapping the review work (the full benchmark's first pull of
        # 100,000 calls does; --keep-pulling makes every run do so) must not put back what Heify took.
        if args.wait_first_pull:
            wait_until("the workers' first pull and poll", lambda: first_jobs_done(database_url), timeout=900)
        checks: list[tuple[str, bool, str]] = []
        if args.check_serving:
            # web processes x threads + each cluster's job processes, guard, pusher and monitor (README)
            budget = (args.web_concurrency * args.web_threads
                      + args.worker_clusters * (int(os.environ.get("HEIFY_WORKERS", "2")) + 3))
            checks += check_serving(stack, env, base, tokens.split(",")[0], budget)

        how_long = f"in steps ({args.step})" if args.step else f"for {args.run_time} s"
        print(f"load: {users} users ({args.reviewers} reviewers, {args.managers} QA managers, {args.tools} tools) "
              f"{how_long} against gunicorn with {args.web_concurrency} workers x {args.web_threads} threads and "
              f"{args.worker_clusters} worker clusters")
        outcomes_file, requests_file = work / "outcomes.json", work / "requests.json"
        locust_env = {**env, "LOAD_REVIEWERS": str(args.reviewers), "LOAD_MANAGERS": str(args.managers),
                      "LOAD_TOOLS": str(args.tools), "LOAD_PASSWORD": password, "LOAD_TOOL_TOKENS": tokens,
                      "LOAD_MAX_ITERATIONS": str(args.max_iterations), "LOAD_OUTCOMES_FILE": str(outcomes_file)}
        if args.step:
            locust_env.update({"LOAD_STEP": args.step, "LOAD_REQUESTS_FILE": str(requests_file)})
        spawn_rate = users if args.step else max(1, users // 5)  # a step load: everybody signs in first
        locust = [str(BIN / "locust"), "-f", str(ROOT / "benchmarks" / "load_users.py"), "--headless",
                  "--host", base, "-u", str(users), "-r", str(spawn_rate), "-t", f"{args.run_time}s",
                  "--stop-timeout", "20", "--csv", str(work / "locust"), "--only-summary", "--exit-code-on-error", "0"]
        if args.keep_pulling:
            pulling, pulls_log = stack.start("pulls", [
                "sh", "-c", f'while :; do "{PY}" manage.py heify_sync; done'], env)
            worker_logs.append(pulls_log)  # checked as the workers' logs are
        stack.run("locust", locust, locust_env)
        if args.keep_pulling:
            Stack.stop(pulling)  # a pull cut off here is resumed by the next; none is needed for the checks
            print(f"load: {pulls_log.read_text().count('transcriptions: ')} pulls ran to the end while people worked")

        waiting = drain(database_url, args.drain_timeout)
        checks.append(("no change left waiting for Heify", waiting == 0, f"{waiting} waiting"))
        checks.append(("no call claimed by two reviewers at once", *claims_never_overlap(database_url)))
        checks.append(("every group change and metadata edit present in the emulator",
                       *emulator_agrees(database_url, heify_url, api_key)))
        checks.append(("no 5xx in the logs", *server_errors([web_log, *worker_logs])))

        rows, kinds, total, failures = read_stats(work / "locust")
        outcomes = json.loads(outcomes_file.read_text()) if outcomes_file.exists() else {}
        from benchmarks.report import markdown_table

        print(f"load: {total} requests, {failures} errors")
        print(markdown_table([("page", *SHOWN_COLUMNS), *rows]))
        print("server time per request (the web workers' own, from the request log):")
        print(markdown_table([("request", "n", "p50 ms", "p95 ms", "total s", "share"), *server_time(web_log)]))
        for kind, occurrences in sorted(kinds.items()):
            print(f"  error {occurrences} x {kind}")
        if args.step:
            steps_rows, best = step_table(json.loads(requests_file.read_text()))
            print(f"step load (each step {args.step.split(',')[2]} s, its first {STEP_SETTLE} s left out):")
            print(markdown_table([("step", "people", "requests", "req/s", "p50 ms", "p95 ms", "errors",
                                   f"p95 <= {STEP_P95_MS} ms"), *steps_rows]))
            print(f"step load: highest rate held with p95 <= {STEP_P95_MS} ms: "
                  + (f"{best[0]:.1f} requests/s ({best[1]} people at work)" if best else "none"))
        print("outcomes: " + (", ".join(f"{name} {n}" for name, n in sorted(outcomes.items())) or "none"))
        good = sum(ok for _, ok, _ in checks)
        for name, ok, detail in checks:
            print(f"  [{'ok' if ok else 'NOT OK'}] {name}: {detail}")
        print(f"load: checks {good} of {len(checks)} hold; {failures} request errors; "
              f"{time.monotonic() - started:.0f} s all told")
        return 0 if good == len(checks) and failures == 0 and total > 0 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
