"""Two django-q2 clusters on one database, as two `worker` processes on two machines would run.

Each scheduled job runs once per period, and each task enqueued once runs once, though both clusters
race for them: django-q2's scheduler takes the due schedules under SELECT ... FOR UPDATE (on SQLite,
under the write lock of an IMMEDIATE transaction) and moves next_run before it commits, and the
database broker hands a task to the one process whose conditional UPDATE of its lock wins.

The clusters are real processes (`manage.py qcluster`) on their own throw-away database (an SQLite
file, or a PostgreSQL database beside the test database), talking to the emulator over loopback.
Bounded: about 30 s on an idle machine, each wait capped.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE_SCHEDULES = 12
EVENTS = 12

SETUP = f"""
from datetime import timedelta
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from qa.mirror.models import Transcription
from syncer import pull
from syncer.models import WebhookEvent

pull.pull()
for i in range({PROBE_SCHEDULES}):
    Schedule.objects.create(name=f"probe {{i}}", func="tests.cluster_probe.scheduled", args=repr(f"probe {{i}}"),
                            schedule_type=Schedule.MINUTES, minutes=1, repeats=-1)
Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=1))  # every schedule is due
for heify_id in Transcription.objects.order_by("id").values_list("heify_id", flat=True)[:{EVENTS}]:
    event = WebhookEvent.objects.create(kind="success", body="{{}}", transcription_heify_id=heify_id)
    async_task("tests.cluster_probe.process_webhook_event", event.pk)
"""
NEXT_PERIOD = """
from datetime import timedelta
from django.utils import timezone
from django_q.models import Schedule
Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=1))
"""
RESULTS = """
import json
from django.db.models import Count
from django_q.models import Schedule, Task
from syncer.models import WebhookEvent
runs = dict(Task.objects.values_list("group").annotate(n=Count("id")).order_by())
print(json.dumps({
    "schedules": list(Schedule.objects.values_list("name", flat=True)),
    "runs": runs,
    "events": dict(WebhookEvent.objects.values_list("id", "status")),
}))
"""


def test_two_clusters_run_each_schedule_once_per_period_and_each_task_once(heify_account, fresh_database, tmp_path):
    probe = tmp_path / "executions.txt"
    probe.touch()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "tests.cluster_settings", "DATABASE_URL": fresh_database,
        "HEIFY_VAR_DIR": str(tmp_path / "var"), "DJANGO_SECRET_KEY": "clusters-test-" + "k" * 50,
        "HEIFY_API_URL": heify_account.url, "HEIFY_API_KEY": heify_account.api_key, "REDIS_URL": "",
        "CLUSTER_PROBE_FILE": str(probe), "DJANGO_LOG_LEVEL": "WARNING",
    }

    def manage(*args, timeout=60):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def one_period(expected_lines: int):
        logs = [tmp_path / f"cluster-{n}-{time.monotonic_ns()}.log" for n in (1, 2)]
        clusters = [subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                                     stdout=log.open("wb"), stderr=subprocess.STDOUT) for log in logs]
        try:
            deadline = time.monotonic() + 40
            while len(probe.read_text().splitlines()) < expected_lines and time.monotonic() < deadline:
                assert all(c.poll() is None for c in clusters), [log.read_text()[-2000:] for log in logs]
                time.sleep(0.2)
            time.sleep(2)  # a second run of anything would show by now: both clusters looked at start
        finally:
            for cluster in clusters:
                cluster.send_signal(signal.SIGTERM)
            for cluster in clusters:
                try:
                    cluster.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    cluster.kill()
                    cluster.wait()

    manage("migrate", "--noinput", "-v0", timeout=120)
    manage("shell", "-c", SETUP)
    one_period(PROBE_SCHEDULES + EVENTS)
    manage("shell", "-c", NEXT_PERIOD)
    one_period(2 * PROBE_SCHEDULES + EVENTS)
    results = json.loads(manage("shell", "-c", RESULTS).strip().splitlines()[-1])

    lines = Counter(line.rsplit(" pid=", 1)[0] for line in probe.read_text().splitlines())
    assert {f"schedule probe {i}": 2 for i in range(PROBE_SCHEDULES)}.items() <= lines.items()
    assert {f"event {pk}": 1 for pk in results["events"]} == {k: v for k, v in lines.items() if k.startswith("event")}
    assert len(results["events"]) == EVENTS and set(results["events"].values()) == {"processed"}
    # The project's own schedules (pull, poll, push, expiry) ran once per period too.
    assert {name: results["runs"].get(name) for name in results["schedules"]} == {
        name: 2 for name in results["schedules"]}
    # And the two clusters both did work: the race was real.
    pids = {line.rsplit(" pid=", 1)[1] for line in probe.read_text().splitlines()}
    assert len(pids) >= 2
