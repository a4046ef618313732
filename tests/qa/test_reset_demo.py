"""`make reset` (manage.py reset_demo): with no environment set, it empties the database and forgets the emulator's
kept account together, or neither; a step that fails leaves what the next `make run` handles; and it refuses while
`make run` serves from the same HEIFY_VAR_DIR, but not because some other program holds port 8000.

Everything runs as a user would run it: `make reset` and `scripts/run.sh` in processes of their own, on a fresh
database of the test database's kind (on SQLite, the default file in the temporary HEIFY_VAR_DIR).
"""

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from qa.roles import ROLES

ROOT = Path(__file__).resolve().parents[2]
COUNTS = ("from django.contrib.auth.models import Group, User; from qa.mirror.models import Transcription; "
          "print(User.objects.count(), Transcription.objects.count(), Group.objects.count())")


@pytest.fixture
def var(tmp_path):
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def demo_env(var, fresh_database):
    """Nothing but PATH and HEIFY_VAR_DIR (and DATABASE_URL on PostgreSQL: on SQLite the file is var/db.sqlite3)."""
    env = {"PATH": os.environ["PATH"], "HEIFY_VAR_DIR": str(var)}
    if fresh_database.startswith("postgres"):
        env["DATABASE_URL"] = fresh_database
    return env


def make_reset(env) -> subprocess.CompletedProcess:
    # -o: the virtualenv counts as made (a test never reinstalls it).
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/installed", "reset"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def manage(env, *args) -> str:
    """manage.py as the demo runs it (run.sh turns DEBUG on)."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**env, "DJANGO_DEBUG": "1"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def counts(env) -> tuple[int, int, int]:
    """Users, calls, groups."""
    users, calls, groups = manage(env, "shell", "--no-imports", "-c", COUNTS).split()
    return int(users), int(calls), int(groups)


def keep_an_account(var: Path) -> Path:
    kept = var / "heify-emulator.json"
    kept.write_text(json.dumps({"configurations": [], "evaluators": [], "participants": [], "transcriptions": []}))
    return kept


@contextmanager
def port_8000_taken():
    """Another program listening on 8000 (this one, or whoever already has it)."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 8000))
        listener.listen()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
    try:
        yield
    finally:
        listener.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()[-3000:]
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"nothing served on {port} after {seconds} s")


def test_reset_with_no_environment_empties_the_database_and_forgets_the_kept_account(demo_env, var):
    manage(demo_env, "migrate", "--noinput")
    manage(demo_env, "ensure_admin")
    kept = keep_an_account(var)
    with port_8000_taken():  # not make run: no reason to refuse
        done = make_reset(demo_env)
    # It stopped on the missing DJANGO_SECRET_KEY, after it had deleted the kept account.
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Reset: the next 'make run' starts from a new demo account" in done.stdout
    assert not kept.exists()
    assert counts(demo_env) == (0, 0, len(ROLES))  # empty, but for the roles every migrate or flush ensures
    assert make_reset(demo_env).returncode == 0  # and again, with nothing left to reset


def test_a_database_that_cannot_be_emptied_or_settings_that_stop_leave_the_kept_account(demo_env, var, fresh_database):
    kept = keep_an_account(var)
    unreachable = ("postgres://postgres@127.0.0.1:9/nowhere" if fresh_database.startswith("postgres")
                   else f"sqlite:///{var / 'no-such-folder' / 'db.sqlite3'}")
    done = make_reset({**demo_env, "DATABASE_URL": unreachable})
    assert done.returncode != 0
    assert "Reset stopped: the database could not be emptied" in done.stderr
    assert kept.exists()  # else the next make run marked every call gone and made them all again

    # DEBUG turned off by hand, with no secret key: the settings stop it before it touches anything.
    done = make_reset({**demo_env, "DJANGO_DEBUG": "0"})
    assert done.returncode != 0 and "DJANGO_SECRET_KEY is missing" in done.stderr
    assert kept.exists()


def test_a_kept_account_that_cannot_be_removed_fails_after_the_database_is_empty_and_a_rerun_finishes(demo_env,
                                                                                                      var):
    manage(demo_env, "migrate", "--noinput")
    manage(demo_env, "ensure_admin")
    kept = var / "heify-emulator.json"
    kept.mkdir()  # unlink() fails on it, as on a file the user may not remove
    (kept / "x").touch()
    done = make_reset(demo_env)
    assert done.returncode != 0
    assert "The database was emptied, but the emulator's kept account" in done.stderr
    # The next make run loads the kept account into an empty database: nothing to mark gone, nothing twice.
    assert counts(demo_env) == (0, 0, len(ROLES))
    (kept / "x").unlink()
    kept.rmdir()
    keep_an_account(var)
    assert make_reset(demo_env).returncode == 0 and not kept.exists()


def test_reset_refuses_while_make_run_serves_from_the_same_var_and_works_once_it_stopped(demo_env, var, tmp_path,
                                                                                         heify_account):
    port = free_port()
    run = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**demo_env, "PORT": str(port), "HEIFY_API_URL": heify_account.url,
             "HEIFY_API_KEY": heify_account.api_key},
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches it
        # Ctrl-C as a terminal delivers it, however pytest was started: a shell that starts pytest in the
        # background ignores SIGINT for it, and so would run.sh and everything it starts (seen: 60 s, no stop).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for_port(port, run, seconds=240)
        kept = keep_an_account(var)
        users, calls, _ = counts(demo_env)
        assert users == 1 and calls == 120

        other_var = tmp_path / "other-var"  # another demo's folder: not this one's business
        other_var.mkdir()
        assert make_reset({**demo_env, "HEIFY_VAR_DIR": str(other_var),
                           "DATABASE_URL": f"sqlite:///{other_var / 'db.sqlite3'}"}).returncode == 0

        refused = make_reset(demo_env)
        assert refused.returncode != 0
        assert f"make run (pid {run.pid}) is serving from {var}" in refused.stderr
        assert kept.exists() and counts(demo_env)[:2] == (1, 120)

        second = subprocess.run(["bash", "scripts/run.sh"], cwd=ROOT, env={**demo_env, "PORT": str(free_port())},
                                capture_output=True, text=True, timeout=60)
        assert second.returncode != 0 and f"make run (pid {run.pid}) is serving from {var}" in second.stderr
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        run.wait(timeout=60)
    deadline = time.monotonic() + 30  # the worker's processes stop after it
    while (done := make_reset(demo_env)).returncode != 0 and time.monotonic() < deadline:
        time.sleep(1)
    assert done.returncode == 0, done.stderr
    assert not kept.exists() and counts(demo_env) == (0, 0, len(ROLES))
