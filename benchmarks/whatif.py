"""Benchmark (not a test): what-if (qa.scorecards.whatif) over 100,000 calls, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/whatif.py                          # SQLite and PostgreSQL, 100,000 calls
    .venv/bin/python benchmarks/whatif.py --databases sqlite --count 10000 --runs 3
    .venv/bin/python benchmarks/whatif.py --before e8c8616         # "before": what-if as it was at that commit
    .venv/bin/python benchmarks/whatif.py --databases sqlite --sqlite-file /tmp/w.sqlite3  # kept, or reused
    .venv/bin/python benchmarks/whatif.py --databases postgres --postgres-db heify_bench_whatif  # kept, or reused

For each database it creates an empty one (an SQLite file in a temp directory,
or a PostgreSQL database heify_bench_whatif_<pid> on BENCH_POSTGRES_URL, dropped
afterwards), migrates it in a child process, and in another child fills it
through the one upsert path (syncer.mirror.load_snapshot, 5,000 calls a
transaction):

- one evaluator with five criteria: Greeting (boolean), Empathy and Clarity
  (scale), Resolved (boolean), No offensive language (strict); a second
  revision from 2026-04-01 changes the weights, so the calls after it are
  scored (and their results pinned) with other weights than those before;
- 50 participants, the calls spread over them unevenly (one has 20 %);
- `count` completed calls from 2026-01-02 to 2026-06-30, scored by Heify's
  rule with the revision in force; Heify gives Empathy's value on 40 % of the
  calls and Clarity's wherever Empathy's is not given (and on half the others),
  so a call has at most one unknown scale value and its score settles it.

On PostgreSQL the fill ends with VACUUM (ANALYZE), as autovacuum would: without
statistics the planner takes 100,000 calls for one.

Then, in that child, each of these is run --warm-up times and timed --runs
times, seconds apart: the median wall-clock seconds, and in brackets the median
CPU seconds of the measuring process and, on PostgreSQL, of its server backend
(read from /proc when the server runs on this machine): the work itself, which
other processes' load stretches far less than the wall clock:

- **plain calls**: the `count` newest scored calls' participant, score and
  critical flag, by one SELECT ... LIMIT, fetched (the least any answer needs);
- **plain rows**: the same calls joined with their typed results, fetched (the
  rows what-if read until it counted calls by the key of their results: now it
  reads the rows of one call of each key and revision);
- **before**: what-if as it was at --before (qa/scorecards/whatif.py of that
  commit, loaded beside the current one; its limit cap lifted);
- **after**: what-if as it is.

The new criteria: Greeting 15, Empathy 35, Clarity 10, Resolved 30, and
Upsell 10 (which no call has a result for: "not evaluated"). Both answers must
be identical, and they are checked against a reference that rescores every
call one by one with rules.evaluation_score (no grouping); the script fails
if either differs. The machine's load average is printed with each case.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, benchmarks/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from benchmarks.api_list import POSTGRES_ADMIN_URL, bench_environment  # noqa: E402  (the path above first)
from benchmarks.report import markdown_table  # noqa: E402

PYTHON = sys.executable
CHILD_TIMEOUT = 3600
BEFORE = "e8c8616"  # main before the what-if's speed work (issue 24, goal 5)
EVALUATOR = "00000000-0000-4000-9000-00000000a001"
PARTICIPANTS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 51)]
FIRST_DAY = datetime(2026, 1, 2, tzinfo=UTC)
DAYS = 180
SECOND_REVISION = "2026-04-01T00:00:00+00:00"
# name, type, weight in revision 1, weight in revision 2
CRITERIA = (("Greeting", "BOOLEAN", 15, 10), ("Empathy", "SCALE", 25, 30), ("Clarity", "SCALE", 20, 20),
            ("Resolved", "BOOLEAN", 40, 40), ("No offensive language", "STRICT", 0, 0))
NEW_CRITERIA = [
    {"name": "Greeting", "description": "", "type": "boolean", "weight": 15},
    {"name": "Empathy", "description": "", "type": "scale", "weight": 35},
    {"name": "Clarity", "description": "", "type": "scale", "weight": 10},
    {"name": "Resolved", "description": "", "type": "boolean", "weight": 30},
    {"name": "No offensive language", "description": "", "type": "strict", "weight": 0},
    {"name": "Upsell", "description": "", "type": "boolean", "weight": 10},
]
CHUNK = 5_000

PLAIN_CALLS = """
SELECT participant_id, score, critical_fail_triggered FROM qa_transcription
WHERE evaluator_id = %s AND status = 'COMPLETED' AND score IS NOT NULL
ORDER BY occurred_at DESC, id DESC LIMIT %s
"""
PLAIN_ROWS = """
SELECT t.participant_id, t.score, t.critical_fail_triggered, r.position, r.name, r.passed, r.value, r.type, r.weight
FROM (SELECT id, participant_id, score, critical_fail_triggered FROM qa_transcription
      WHERE evaluator_id = %s AND status = 'COMPLETED' AND score IS NOT NULL
      ORDER BY occurred_at DESC, id DESC LIMIT %s) AS t
JOIN qa_criterionresult AS r ON r.transcription_id = t.id
"""


# --- the fill -----------------------------------------------------------------------------------------------


def _evaluator(revision: int, updated_at: str) -> dict:
    return {
        "evaluator_id": EVALUATOR, "client_id": "client-bench", "tag": "Support", "description": "Support calls.",
        "language": "en", "context": "",
        "criteria": [{"id": f"00000000-0000-4000-9100-{n:012d}", "name": name, "description": f"{name}?",
                      "type": kind, "weight": (w1, w2)[revision - 1]}
                     for n, (name, kind, w1, w2) in enumerate(CRITERIA, start=1)],
        "created_at": "2026-01-01T00:00:00+00:00", "updated_at": updated_at,
    }


def _call(n: int, rng: random.Random) -> dict:
    from qa.mirror import rules

    at = FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86400))
    revision = 1 if at.isoformat() < SECOND_REVISION else 2
    criteria = [{"name": name, "type": kind.lower(), "weight": (w1, w2)[revision - 1]}
                for name, kind, w1, w2 in CRITERIA]
    verdicts = {"Greeting": rng.random() < 0.8, "Empathy": rng.choices(range(1, 6), (5, 10, 30, 35, 20))[0],
                "Clarity": rng.choices(range(1, 6), (5, 15, 30, 30, 20))[0], "Resolved": rng.random() < 0.7,
                "No offensive language": rng.random() < 0.97}
    evaluation = rules.evaluation_score(criteria, verdicts)
    empathy_given = rng.random() < 0.4
    given = {"Empathy": empathy_given, "Clarity": not empathy_given or rng.random() < 0.5}
    results = [{"name": r["name"], "passed": r["passed"],
                **({"value": verdicts[r["name"]]} if given.get(r["name"]) else {})}
               for r in evaluation["criteria_results"]]
    participant = PARTICIPANTS[0] if rng.random() < 0.2 else rng.choice(PARTICIPANTS[1:])
    return {
        "transcription_id": f"00000000-0000-4000-b000-{n:012d}", "client_id": "client-bench", "status": "COMPLETED",
        "configuration_id": "00000000-0000-4000-a000-000000000001", "configuration_tag": "Support",
        "evaluator_id": EVALUATOR, "participant_id": participant, "name": f"Call {n}", "group": None,
        "duration": 60 + rng.randrange(900), "created_at": at.isoformat(),
        "details": {
            "language": "en", "num_speakers": 2, "created_at": at.isoformat(),
            "completed_at": (at + timedelta(minutes=4)).isoformat(), "conversation": {"segments": []},
            "evaluation": {"score": evaluation["score"], "criteria_results": results,
                           "critical_fail_triggered": evaluation["critical_fail_triggered"]},
        },
    }


def fill(count: int) -> None:
    from django.db import connection

    from qa import db
    from syncer import mirror

    rng = random.Random(24)
    participants = [{"participant_id": p, "client_id": "client-bench", "tag": f"Agent {n}", "metadata": {},
                     "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00"}
                    for n, p in enumerate(PARTICIPANTS, start=1)]
    mirror.load_snapshot({"evaluators": [_evaluator(1, "2026-01-01T00:00:00+00:00")], "participants": participants})
    for start in range(0, count, CHUNK):
        mirror.load_snapshot({"transcriptions": [_call(n, rng) for n in range(start, min(count, start + CHUNK))]})
    # The second revision, seen in a later pull: the calls completed after it are pinned to it again.
    mirror.load_snapshot({"evaluators": [_evaluator(2, SECOND_REVISION)]})
    if db.on_postgresql():  # the statistics autovacuum would have gathered by the time anyone asks
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


# --- the measurements ---------------------------------------------------------------------------------------


def _before_module(ref: str):
    """qa/scorecards/whatif.py as it was at `ref`, imported beside the current one, its limit cap lifted."""
    source = subprocess.run(["git", "show", f"{ref}:qa/scorecards/whatif.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "whatif_before.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("whatif_before", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look themselves up there
        spec.loader.exec_module(module)
    module.MAX_LIMIT = 10 ** 7
    return module


def _reference(evaluator, count: int) -> dict:
    """Every call rescored one by one (no grouping, no memo) with the shared rules: the figures what-if must give."""
    from qa.mirror import criterion_results, report_rules, rules
    from qa.mirror.models import Transcription
    from qa.mirror.rules import Status

    newest = (Transcription.objects.filter(evaluator_id=evaluator.heify_id, status=Status.COMPLETED,
                                           score__isnull=False)
              .order_by("-occurred_at", "-id").values_list("pk", "score", "critical_fail_triggered")[:count])
    calls = {pk: (score, critical) for pk, score, critical in newest}
    patterns = {}
    for call_id, *row in criterion_results.CriterionResult.objects.filter(transcription_id__in=list(calls)).order_by(
            "transcription_id", "position").values_list("transcription_id", "name", "passed", "value", "type",
                                                        "weight"):
        name, passed, value, kind, weight = row
        patterns.setdefault(call_id, []).append((name, passed, value, kind, None if weight is None else float(weight)))
    cleaned, _ = rules.clean_criteria(NEW_CRITERIA)
    pass_mark = report_rules.ReportSettings.current().pass_mark
    total = passed_after = critical_after = 0
    for call_id, (score, _) in calls.items():
        pattern = tuple(patterns.get(call_id, ()))
        ai = {name: (passed, value) for name, passed, value, _, _ in pattern if passed is not None}
        known = rules.known_scale_values(criterion_results.scored_criteria(pattern), ai, score)
        evaluated = [c for c in cleaned if c["name"] in ai]
        verdicts = {c["name"]: (known.get(c["name"]) if c["type"] == rules.SCALE else ai[c["name"]][0])
                    for c in evaluated}
        assert None not in verdicts.values(), (call_id, pattern, score)  # the fill leaves no value unknown
        result = rules.evaluation_score(evaluated, verdicts)
        total += result["score"]
        passed_after += report_rules.passes(result["score"], result["critical_fail_triggered"], pass_mark)
        critical_after += result["critical_fail_triggered"]
    return {"calls": len(calls), "avg_score_after": report_rules.mean_figure(total / len(calls)),
            "pass_rate_after": report_rules.rate_figure(passed_after, len(calls)),
            "critical_fails_after": critical_after, "inexact_calls": 0}


def _cpu() -> float:
    """CPU seconds of this process, plus those of its PostgreSQL backend when the server runs on this machine."""
    from django.db import connection

    from qa import db

    seconds = time.process_time()
    if db.on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the server is elsewhere
            return seconds
        seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def _timed(function, *, warm_up: int, runs: int) -> tuple[tuple[float, float], object]:
    """The median wall-clock seconds and the median CPU seconds (_cpu), and the last answer."""
    for _ in range(warm_up):
        function()
    seconds, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), _cpu()
        answer = function()
        seconds.append(time.perf_counter() - started)
        cpu.append(_cpu() - started_cpu)
    return (statistics.median(seconds), statistics.median(cpu)), answer


def measure(count: int, *, warm_up: int, runs: int, before_ref: str) -> dict:
    from django.db import connection

    from qa.mirror.models import Evaluator
    from qa.scorecards import whatif

    evaluator = Evaluator.objects.get(heify_id=EVALUATOR)
    before = _before_module(before_ref)

    def plain(sql):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, [EVALUATOR, count])
                return len(cursor.fetchall())
        return run

    figures = {"loadavg_before": os.getloadavg()}
    figures["plain_calls"], calls = _timed(plain(PLAIN_CALLS), warm_up=warm_up, runs=runs)
    figures["plain_rows"], rows = _timed(plain(PLAIN_ROWS), warm_up=warm_up, runs=runs)
    figures["before"], old = _timed(lambda: before.evaluator_what_if(evaluator=evaluator, criteria=NEW_CRITERIA,
                                                                     limit=count), warm_up=warm_up, runs=runs)
    figures["after"], new = _timed(lambda: whatif.evaluator_what_if(evaluator=evaluator, criteria=NEW_CRITERIA,
                                                                    limit=count), warm_up=warm_up, runs=runs)
    figures["loadavg_after"] = os.getloadavg()
    assert calls == count == new["calls"], (calls, count, new["calls"])
    figures["result_rows"] = rows
    figures["identical"] = old == new
    if old != new:
        figures["differences"] = {k: (old.get(k), new.get(k)) for k in set(old) | set(new) if old.get(k) != new.get(k)}
    reference = _reference(evaluator, count)
    figures["reference_agrees"] = {k: new[k] for k in reference} == reference
    if not figures["reference_agrees"]:
        figures["reference"] = (reference, {k: new[k] for k in reference})
    figures["summary"] = {k: new[k] for k in ("calls", "avg_score_before", "avg_score_after", "pass_rate_before",
                                               "pass_rate_after", "inexact_calls", "flipped_to_fail",
                                               "flipped_to_pass")}
    return figures


def child(mode: str, count: int, warm_up: int, runs: int, before_ref: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    if mode == "migrate":
        call_command("migrate", verbosity=0)
    elif mode == "fill":
        started = time.perf_counter()
        fill(count)
        print(json.dumps({"fill_seconds": time.perf_counter() - started}))
    else:
        print(json.dumps(measure(count, warm_up=warm_up, runs=runs, before_ref=before_ref)))


# --- the parent ---------------------------------------------------------------------------------------------


def _run_child(env: dict, mode: str, args) -> dict | None:
    command = [PYTHON, __file__, "--child", mode, "--count", str(args.count), "--warm-up", str(args.warm_up),
               "--runs", str(args.runs), "--before", args.before]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{mode} failed on {env['DATABASE_URL']}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


def run_case(database: str, args) -> dict:
    import psycopg

    name = f"heify_bench_whatif_{os.getpid()}"
    env = bench_environment(name)
    directory = None
    reuse = False
    if database == "sqlite" and args.sqlite_file:
        reuse = Path(args.sqlite_file).exists()
        env["DATABASE_URL"] = f"sqlite:///{Path(args.sqlite_file).resolve()}"
    elif database == "sqlite":
        directory = tempfile.TemporaryDirectory()
        env["DATABASE_URL"] = f"sqlite:///{directory.name}/whatif.sqlite3"
    else:
        name = args.postgres_db or name
        env = bench_environment(name)
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            reuse = bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())
            if not reuse:
                admin.execute(f"CREATE DATABASE {name}")
    try:
        _run_child(env, "migrate", args)
        filled = {"fill_seconds": None} if reuse else _run_child(env, "fill", args)
        figures = _run_child(env, "measure", args)
        return {"database": database, **filled, **figures}
    finally:
        if directory:
            directory.cleanup()
        elif database == "postgres" and not args.postgres_db:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--warm-up", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", default=BEFORE, help="the commit whose what-if is 'before'")
    parser.add_argument("--sqlite-file", help="keep the SQLite database in this file; reuse it if it exists")
    parser.add_argument("--postgres-db", help="keep the PostgreSQL database of this name; reuse it if it exists")
    parser.add_argument("--child", choices=["migrate", "fill", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.count, args.warm_up, args.runs, args.before)
        return
    table = [("database", "calls", "plain calls s", "plain rows s", "before s", "after s", "after / plain calls",
              "after / plain rows", "before / after", "identical", "reference", "load avg (1 min) before, after")]

    def both(pair):  # wall (CPU of the measuring process)
        return f"{pair[0]:.3f} ({pair[1]:.3f})"

    for database in args.databases:
        f = run_case(database, args)
        print(json.dumps(f), flush=True)
        table.append((database, f"{args.count:,}", both(f["plain_calls"]), both(f["plain_rows"]), both(f["before"]),
                      both(f["after"]), f"{f['after'][0] / f['plain_calls'][0]:.2f}",
                      f"{f['after'][0] / f['plain_rows'][0]:.2f}",
                      f"{f['before'][0] / f['after'][0]:.1f}x", "yes" if f["identical"] else "NO",
                      "agrees" if f["reference_agrees"] else "DIFFERS",
                      f"{f['loadavg_before'][0]:.2f}, {f['loadavg_after'][0]:.2f}"))
    print(markdown_table(table))
    if not all(row[9] == "yes" and row[10] == "agrees" for row in table[1:]):
        raise SystemExit("what-if's figures changed")


if __name__ == "__main__":
    main()
