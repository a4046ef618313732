"""One log line per background job, and the request id its lines carry (django-q2's signals).

The twin of heifyadmin.request_log for jobs: a job enqueued while serving a request carries that
request's id, else its lines carry job-<task id>; when it ends, one line says how it went. Connected by
heifyadmin.apps.SiteConfig. The logger keeps its name, "syncer.jobs", which log readers filter on.
"""

from __future__ import annotations

import logging
import time
from contextvars import Token

from heifyadmin.log_context import request_id

job_log = logging.getLogger("syncer.jobs")

# What job_started keeps for job_finished, by task id: a worker process runs one job at a time, but a job run
# inline (Q_CLUSTER sync, tests) runs in the thread that enqueued it, inside the job that enqueued it, if any, and
# threads may do so at once. Each job's line gets its own duration, and the request id is set back in order.
_running: dict[str, tuple[Token, float]] = {}


def job_enqueued(sender, task, **kwargs) -> None:
    """A job enqueued while serving a request carries that request's id (its Heify calls are the request's)."""
    if request_id.get() != "-":
        task["request_id"] = request_id.get()


def job_started(sender, func, task, **kwargs) -> None:
    current = task.get("request_id") or f"job-{task.get('id', '?')}"
    _running[task.get("id")] = (request_id.set(current), time.monotonic())


def job_finished(sender, func, task, **kwargs) -> None:
    now = time.monotonic()
    token, started = _running.pop(task.get("id"), (None, now))
    milliseconds = (now - started) * 1000
    success = task.get("success", False)
    job_log.log(
        logging.INFO if success else logging.WARNING, "job %s (%s) %s in %.0fms", task.get("func"),
        task.get("name"), "succeeded" if success else "failed", milliseconds,
        extra={"job": str(task.get("func")), "job_name": task.get("name"), "success": success,
               "duration_ms": round(milliseconds, 1)},
    )
    if token is not None:
        request_id.reset(token)
