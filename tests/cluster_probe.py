"""Jobs for tests/syncer/test_clusters.py: each writes one line per execution, then does the real work.

The line goes to the file named by CLUSTER_PROBE_FILE, appended in one write, so two processes of two
clusters cannot mix their lines: the file counts executions, whatever django-q2 records.
"""

import os

from syncer import tasks


def _record(line: str) -> None:
    with open(os.environ["CLUSTER_PROBE_FILE"], "a", encoding="utf-8") as handle:
        handle.write(f"{line} pid={os.getpid()}\n")


def scheduled(label: str) -> None:
    _record(f"schedule {label}")


def process_webhook_event(event_id: int) -> str:
    _record(f"event {event_id}")
    return tasks.process_webhook_event(event_id)
