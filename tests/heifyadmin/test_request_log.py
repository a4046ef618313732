"""One log line per request, with a request id that the Heify calls made for it carry too."""

import logging
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from knox.models import AuthToken
from rest_framework.test import APIClient

from heifyadmin.log_context import RequestIdFilter
from qa.mirror.models import Transcription
from syncer import pull


class Records(logging.Handler):
    """Keeps what it is handed, after the same request-id filter the console handler has."""

    def __init__(self):
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def records():
    handler = Records()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


@pytest.mark.django_db(transaction=True)  # the push to Heify runs when the move commits, as in production
def test_the_request_id_is_echoed_and_reaches_the_heify_calls_of_that_request(heify_account, records):
    pull.pull(["transcriptions"])
    call = Transcription.objects.filter(group__isnull=True).first()
    api = APIClient()
    token = AuthToken.objects.create(user=User.objects.create_superuser("a"))[1]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    records.clear()
    response = api.patch(f"/api/v1/transcriptions/{call.heify_id}/", {"group": "PENDING_REVIEW"}, format="json",
                         HTTP_X_REQUEST_ID="lb-1234")
    assert response.status_code == 200 and response["X-Request-ID"] == "lb-1234"
    heify_calls = [r for r in records if r.name == "syncer.client"]
    assert heify_calls and {r.request_id for r in heify_calls} == {"lb-1234"}
    assert any(r.getMessage().startswith(f"Heify PATCH /transcription/{call.heify_id}: 200") for r in heify_calls)
    lines = [r for r in records if r.name == "heifyadmin.request"]
    assert len(lines) == 1 and lines[0].request_id == "lb-1234" and lines[0].status == 200
    assert lines[0].getMessage().startswith(f'"PATCH /api/v1/transcriptions/{call.heify_id}/ HTTP/1.1" 200 ')


def test_an_id_is_generated_when_none_or_a_forged_one_is_sent(client, records):
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" 200 fake\nline')["X-Request-ID"]
    assert forged != 'x" 200 fake\nline' and len(forged) == 32


@pytest.mark.django_db
def test_the_webhook_secret_never_reaches_the_request_line(client, settings, records):
    client.post(f"/webhooks/heify/{settings.HEIFY_WEBHOOK_SECRET}/success/?again={settings.HEIFY_WEBHOOK_SECRET}",
                data="{}", content_type="application/json")
    line = next(r for r in records if r.name == "heifyadmin.request")
    assert settings.HEIFY_WEBHOOK_SECRET not in line.getMessage() + line.path
    assert line.status == 400


@pytest.mark.django_db
def test_one_line_per_job_and_its_heify_calls_carry_the_jobs_id(heify_account, records):
    from django_q.tasks import async_task

    async_task("syncer.tasks.poll_in_flight")  # tasks run inline in tests, through django-q2's worker code
    pull.pull(["transcriptions"])
    records.clear()
    async_task("syncer.tasks.poll_in_flight")
    jobs = [r for r in records if r.name == "syncer.jobs"]
    assert len(jobs) == 1 and jobs[0].success and jobs[0].job == "syncer.tasks.poll_in_flight"
    job_id = jobs[0].request_id
    assert job_id.startswith("job-")
    heify_calls = [r for r in records if r.name == "syncer.client"]
    assert heify_calls and {r.request_id for r in heify_calls} == {job_id}


def test_a_job_run_inside_another_keeps_each_ones_duration_and_request_id(records, monkeypatch):
    """Inline (sync) jobs run inside the job that enqueued them: the inner one's end neither ends the outer one's
    timing nor leaves its request id behind."""
    from heifyadmin import job_log
    from heifyadmin.log_context import request_id

    ticks = [100.0, 100.5, 100.7, 103.0]  # outer starts, inner starts, inner ends, outer ends
    monkeypatch.setattr(job_log, "time",
                        SimpleNamespace(monotonic=lambda: ticks.pop(0) if len(ticks) > 1 else ticks[0]))
    outer, inner = {"id": "outer", "func": "a", "success": True}, {"id": "inner", "func": "b", "success": True}
    job_log.job_started(None, None, outer)
    assert request_id.get() == "job-outer"
    job_log.job_started(None, None, inner)
    assert request_id.get() == "job-inner"
    job_log.job_finished(None, None, inner)
    assert request_id.get() == "job-outer"
    job_log.job_finished(None, None, outer)
    assert request_id.get() == "-"
    durations = {r.job: r.duration_ms for r in records if r.name == "syncer.jobs"}
    assert durations == {"b": 200.0, "a": 3000.0}
