"""Faults survived with nothing lost (issue 10, section 4).

A sync process (`manage.py heify_sync`, or the push job) is killed with
SIGKILL at a random moment while the emulator injects 5xx errors, 429s and
latency. After each kill: every local edit and group change made so far is
in Heify or still waiting here; the next, unfaulted pull makes the mirror
equal to Heify (every object's full JSON, by digest); and Heify never received
more writes for an object than edits were made to it. At the end, the waiting
changes are pushed and everything agrees.

The victims, and a driver making edits through the public actions
(qa.mirror.services, qa.reviews.queues), are separate processes on one SQLite file. Seeded
(FAULT_SEED) and bounded: FAULT_RUNS runs (20 by default, CI's minimum), each
kill within KILL_WITHIN seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from syncer import demo, mirror
from syncer.emulator import EmulatorState, Faults, running_emulator

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("FAULT_RUNS", "20"))
SEED = int(os.environ.get("FAULT_SEED", "20260321"))
KILL_WITHIN = (0.2, 2.5)  # seconds after start: from Django's start-up to the middle of the work
CLAIM_SECONDS = 10  # HEIFY_PUSH_CLAIM_SECONDS of the processes: above the longest send with these budgets
FAULTS = Faults(latency=0.01, slow_rate=0.1, slow_seconds=0.3, error_rate=0.25, error_statuses=(500, 502, 503, 504),
                rate_429=0.1, retry_after=0.2)
WRITES = {"participants": ("PUT", "/participant/"), "transcriptions": ("PATCH", "/transcription/")}

pytestmark = pytest.mark.faults


def environment(database: Path, heify) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "heifyadmin.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "HEIFY_VAR_DIR": str(database.parent),
        "HEIFY_API_URL": heify.url,
        "HEIFY_API_KEY": heify.api_key,
        "DJANGO_SECRET_KEY": "fault-runs-" + "k" * 50,
        "DJANGO_DEBUG": "0",
        "HEIFY_TIMEOUT": "2", "HEIFY_RETRY_TOTAL": "2", "HEIFY_INTERACTIVE_RETRY_TOTAL": "0.5",
        # A push killed mid-send leaves its change claimed until this lapses (the longest send here is ~8 s).
        "HEIFY_PUSH_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "PYTHONPATH": str(ROOT),
    }


class Driver:
    """The long-lived process that edits, pulls, pushes and reports (tests/syncer/fault_driver.py)."""

    def __init__(self, env: dict, log: Path):
        self.log = log.open("w")  # its warnings and httpx lines, for a failure's post-mortem
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.syncer.fault_driver", "serve"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
        )

    def __call__(self, cmd: str, **args):
        self.process.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        assert "error" not in reply, f"driver {cmd}: {reply.get('error')}"
        return reply["ok"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.log.close()


def kill_at_random(command: list[str], env: dict, rng: random.Random) -> tuple[float, int | None]:
    victim = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    delay = rng.uniform(*KILL_WITHIN)
    try:
        victim.wait(timeout=delay)  # finished (or failed on a fault) before its time came
    except subprocess.TimeoutExpired:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        return delay, None
    return delay, victim.returncode


def successful_writes(heify) -> Counter:
    counts = Counter()
    for record in heify.state.request_log:
        for resource, (method, prefix) in WRITES.items():
            if record.method == method and record.path.startswith(prefix) and 200 <= record.status < 300:
                counts[(resource, record.path.removeprefix(prefix))] += 1
    return counts


def heify_value(heify, resource: str, heify_id: str):
    payload = heify.state.get(resource, heify_id)
    return payload["metadata"] if resource == "participants" else payload.get("group")


def assert_no_edit_lost(heify, mirrored: dict, latest: dict, when: str) -> set:
    """Each object's newest edit is in Heify, or waits here with its value; returns those that wait."""
    waiting = set()
    for (resource, heify_id), value in latest.items():
        row = mirrored[resource][heify_id]
        if row["sync_state"] != "synced":
            waiting.add((resource, heify_id))
        if heify_value(heify, resource, heify_id) == value and row["sync_state"] != "waiting":
            continue
        assert row["sync_state"] == "waiting" and row["value"] == value, (
            f"{when}: the edit of {resource} {heify_id} is neither in Heify nor waiting here: {row}, edit {value}")
    return waiting


def assert_mirror_equals_heify(heify, mirrored: dict, *, waiting: set) -> None:
    """Every object Heify has is in the mirror with Heify's full JSON (by digest), but those waiting to be pushed."""
    for resource, rows in mirrored.items():
        remote = {payload[mirror.contract.ID_FIELDS[resource]]: payload for payload in heify.state.objects(resource)}
        present = {heify_id for heify_id, row in rows.items() if not row["gone"]}
        assert present == set(remote), f"{resource}: mirror and Heify hold different objects"
        for heify_id, payload in remote.items():
            row = rows[heify_id]
            if (resource, heify_id) in waiting:
                continue
            assert row["sync_state"] == "synced", (resource, heify_id, row)
            assert row["payload_hash"] == mirror.payload_digest(payload), f"{resource} {heify_id} differs from Heify"


def test_sync_processes_killed_at_random_points_lose_nothing(tmp_path):
    rng = random.Random(SEED)
    state = EmulatorState(api_key="fault-key", processing_seconds=0, seed=SEED)
    state.load(demo.generate(seed=3, transcriptions=120))
    database = tmp_path / "db.sqlite3"
    with running_emulator(state) as heify:
        env = environment(database, heify)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        driver = Driver(env, tmp_path / "driver.log")
        try:
            driver("pull")
            latest: dict[tuple, object] = {}  # (resource, id) -> the value of its newest edit
            edits = Counter()
            kills = outcomes = 0
            for run in range(RUNS):
                # Half the time Heify is down while people edit, so their changes wait for the push job.
                heify.state.set_faults(FAULTS if rng.random() < 0.5 else Faults(down=True))
                for change in driver("edit", seed=SEED + run, count=rng.randint(1, 3)):
                    if change["kind"] != "refused":
                        key = (change["kind"], change["id"])
                        latest[key] = change["value"]
                        edits[key] += 1
                victim = rng.choice([
                    [sys.executable, "manage.py", "heify_sync", "--quiet"],
                    [sys.executable, "-m", "tests.syncer.fault_driver", "push"],
                ])
                heify.state.set_faults(FAULTS)
                _delay, returncode = kill_at_random(victim, env, rng)
                kills += returncode is None
                outcomes += 1
                heify.state.reset_faults()

                # Every edit made before the kill is in Heify, or still waiting here.
                assert_no_edit_lost(heify, driver("state"), latest, f"run {run}, after the kill")
                # None sent twice: Heify took no more writes of an object than edits were made to it.
                for key, count in successful_writes(heify).items():
                    assert count <= edits[key], f"run {run}: {key} written {count} times for {edits[key]} edits"

                # The next, unfaulted pull makes the mirror equal to Heify (what waits is left alone).
                driver("pull")
                mirrored = driver("state")
                waiting = assert_no_edit_lost(heify, mirrored, latest, f"run {run}, after the next pull")
                assert_mirror_equals_heify(heify, mirrored, waiting=waiting)

            # Heify back for good: once the claims of killed senders lapse, whatever waits is sent,
            # and then everything agrees.
            time.sleep(CLAIM_SECONDS)
            driver("push")
            driver("pull")
            mirrored = driver("state")
            assert_mirror_equals_heify(heify, mirrored, waiting=set())
            for (resource, heify_id), value in latest.items():
                assert heify_value(heify, resource, heify_id) == value, f"{resource} {heify_id}: an edit was lost"
            for key, count in successful_writes(heify).items():
                assert count <= edits[key], f"{key} written {count} times for {edits[key]} edits"
        finally:
            driver.close()
    print(f"fault runs: {outcomes}, killed mid-way: {kills}, edits: {sum(edits.values())}")
    assert outcomes == RUNS and kills >= RUNS // 2  # most runs really were cut short
