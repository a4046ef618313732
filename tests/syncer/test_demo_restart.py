"""A demo that remembers: the emulator keeps its account between runs, so a restart of the demo
(the emulator, then a pull, as scripts/run.sh does) keeps what the user did and marks nothing gone."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from qa.mirror import services
from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from syncer.emulator import EmulatorState
from syncer.emulator.persistence import StateSaver, state_load, state_save
from tests import builders

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "restart-test-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_emulator(port: int, state_file: Path) -> subprocess.Popen:
    """The emulator as scripts/run.sh starts it (a small demo account, to be quick)."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "heify_emulator", "--demo", "--demo-transcriptions", "120",
         "--port", str(port), "--api-key", API_KEY, "--state-file", str(state_file)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    for line in process.stdout:  # it prints its URL once it listens
        if "Heify emulator on" in line:
            return process
    process.wait(5)
    raise AssertionError(f"the emulator did not start (exit {process.returncode})")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)  # what run.sh's clean-up sends
    assert process.wait(timeout=20) == 0


def sync() -> dict[str, str]:
    out = []

    class Out:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    call_command("heify_sync", stdout=Out())
    return dict(re.findall(r"^(\w+): (.*)$", "".join(out), re.M))


@pytest.mark.django_db
def test_a_restarted_demo_keeps_the_users_archive_and_metadata_and_marks_nothing_gone(
        settings, tmp_path, django_capture_on_commit_callbacks):
    port, state_file = free_port(), tmp_path / "heify-emulator.json"
    settings.HEIFY_API_URL, settings.HEIFY_API_KEY = f"http://127.0.0.1:{port}", API_KEY
    manager = User.objects.create_user("max", password="pw-for-tests-1", is_staff=True)
    manager.groups.add(Group.objects.get(name="QA manager"))
    manager = User.objects.get(pk=manager.pk)

    emulator = start_emulator(port, state_file)
    try:
        sync()
        call = Transcription.objects.filter(group="PENDING_REVIEW").first()
        with django_capture_on_commit_callbacks(execute=True):  # the move is sent to Heify once committed
            queues.transcription_archive(transcription_id=call.pk, acting_user=manager, note="done with it",
                                         agree_rest=True)
        agent = Participant.objects.first()
        services.participant_save(participant=agent, data={"tag": agent.tag, "metadata": {"team": "Night shift"}},
                                  expected_version=agent.version)
        call.refresh_from_db()
        agent.refresh_from_db()
        assert (call.group, call.sync_state, agent.sync_state) == ("ARCHIVED", "synced", "synced")  # Heify took both
    finally:
        stop(emulator)

    emulator = start_emulator(port, state_file)
    try:
        pulled = sync()
    finally:
        stop(emulator)
    call.refresh_from_db()
    agent.refresh_from_db()
    assert call.group == "ARCHIVED"  # it came back PENDING_REVIEW while its history said archived
    assert agent.metadata == {"team": "Night shift"}
    assert not Transcription.all_objects.filter(gone_at__isnull=False).exists()
    assert pulled and all(re.search(r"\b0 gone\b", result) for result in pulled.values()), pulled
    kept = json.loads(state_file.read_text())
    assert next(t for t in kept["transcriptions"] if t["transcription_id"] == call.heify_id)["group"] == "ARCHIVED"


def test_run_sh_starts_the_emulator_with_its_state_file():
    # The test above starts the emulator as run.sh does: this keeps the two from drifting apart.
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert re.search(r"heify_emulator --demo .*--state-file \"\$VAR/heify-emulator.json\"", script)


def test_state_round_trips_and_the_saver_writes_only_after_a_change(tmp_path):
    path = tmp_path / "kept.json"
    state = EmulatorState()
    state.load(builders.snapshot(participants=[builders.participant_payload(tag="Ann")]))
    saver = StateSaver(state, path, interval=60)
    assert not saver.save_if_changed() and not path.exists()  # nothing changed since it started
    state.load(builders.snapshot(participants=[builders.participant_payload(tag="Bob")]))
    assert saver.save_if_changed() and not saver.save_if_changed()
    again = EmulatorState()
    assert state_load(again, path) and [p["tag"] for p in again.objects("participants")] == ["Ann", "Bob"]
    assert not state_load(EmulatorState(), tmp_path / "missing.json")


def test_a_broken_state_file_is_refused_not_silently_replaced(tmp_path):
    path = tmp_path / "kept.json"
    path.write_text('{"participants": "not a list"}')
    with pytest.raises(ValueError):
        state_load(EmulatorState(), path)
    state_save(EmulatorState(), path)
    assert json.loads(path.read_text()) == {"configurations": [], "evaluators": [], "participants": [],
                                            "transcriptions": []}

