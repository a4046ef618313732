"""Transcriptions: upload from the admin, then polling and webhooks bring them to their final state."""

import time

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse

from qa.mirror.models import Configuration, Transcription
from syncer import pull, tasks
from syncer.models import WebhookEvent

SECRET = "test-webhook-secret"


def webhook_url(kind, secret=SECRET):
    return f"/webhooks/heify/{secret}/{kind}/"


def upload(admin_client, configuration, **fields):
    data = {"file": SimpleUploadedFile("call.mp3", b"ID3" + b"\0" * 2048, content_type="audio/mpeg"),
            "configuration": configuration.pk, **fields}
    return admin_client.post(reverse("admin:qa_transcription_add"), data)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """POST a webhook as Heify does, running what the view schedules after its commit."""

    def _deliver(client, kind, body):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(webhook_url(kind), body, content_type="application/json")

    return _deliver


@pytest.mark.django_db
def test_upload_appears_pending_then_polling_completes_it(admin_client, heify_account):
    heify_account.state.processing_seconds = {"PENDING": 60, "IN_PROGRESS": 60}
    pull.pull(["configurations", "evaluators", "participants"])
    configuration = Configuration.objects.first()
    response = upload(admin_client, configuration, name="Refund call")
    assert response.status_code == 302
    call = Transcription.objects.get(name="Refund call")
    assert call.status == "PENDING" and call.configuration == configuration
    heify_account.state.processing_seconds = 0
    tasks.poll_in_flight()
    call.refresh_from_db()
    assert call.status == "COMPLETED" and call.segments and call.completed_at


@pytest.mark.django_db
def test_upload_refused_by_heify_shows_why(admin_client, heify_account):
    pull.pull(["configurations"])
    configuration = Configuration.objects.first()
    heify_account.state.delete("configurations", configuration.heify_id)
    response = upload(admin_client, configuration)
    assert response.status_code == 200 and "Heify refused the file" in response.content.decode()
    assert not Transcription.objects.exists()


@pytest.mark.django_db
def test_upload_while_heify_is_down_says_so(admin_client, heify_account):
    pull.pull(["configurations"])
    heify_account.state.down = True
    response = upload(admin_client, Configuration.objects.first())
    assert "Nothing was uploaded; try again later" in response.content.decode()


@pytest.mark.django_db
def test_webhook_with_a_wrong_secret_is_404_and_stores_nothing(client):
    for kind in ("success", "error"):
        assert client.post(webhook_url(kind, "wrong"), {"transcription_id": "x"}, "application/json").status_code == 404
    assert client.get(webhook_url("success")).status_code == 405
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body, message", [
    ("not json", "not valid JSON"), ('{"status": "COMPLETED"}', "transcription_id"), ("[1]", "transcription_id"),
])
def test_webhook_with_a_bad_body_is_a_clear_400(client, body, message):
    response = client.post(webhook_url("success"), body, content_type="application/json")
    assert response.status_code == 400 and message in response.json()["error"]["message"]


@pytest.mark.django_db
def test_webhook_fetches_the_transcription_and_a_duplicate_is_harmless(client, heify_account, deliver):
    remote = next(t for t in heify_account.state.objects("transcriptions") if t["status"] == "COMPLETED")
    body = {"transcription_id": remote["transcription_id"], "status": "COMPLETED"}
    response = deliver(client, "success", body)
    assert response.status_code == 202
    call = Transcription.objects.get(heify_id=remote["transcription_id"])
    assert call.status == "COMPLETED" and call.score == remote["details"]["evaluation"]["score"]
    assert WebhookEvent.objects.get().status == "processed"
    heify_account.state.clear_request_log()
    assert deliver(client, "success", body).status_code == 200  # a replay: recognised on arrival
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["duplicate", "processed"]
    assert heify_account.state.request_log == []  # nothing fetched again
    # A late "error" for the same call (out of order) only triggers a fetch: the truth stays.
    deliver(client, "error", {**body, "status": "FAILED"})
    call.refresh_from_db()
    assert call.status == "COMPLETED" and Transcription.objects.count() == 1


@pytest.mark.django_db
def test_webhook_while_heify_is_down_is_kept_as_failed(client, heify, deliver):
    heify.state.down = True
    deliver(client, "success", {"transcription_id": "00000000-0000-4000-8000-000000000000"})
    event = WebhookEvent.objects.get()
    assert event.status == "failed" and "down" in event.error.lower()


@pytest.mark.django_db(transaction=True)
def test_upload_to_completed_through_heifys_webhook(admin_client, heify, live_server, settings):
    """The whole loop over real HTTP: upload, Heify processes, Heify calls back, we fetch."""
    settings.PUBLIC_BASE_URL = live_server.url
    heify.state.processing_seconds = 0.3
    with httpx.Client(base_url=heify.url, headers={"x-api-key": heify.api_key}) as other:
        created = other.post("/configuration", json={"tag": "Support", "summary": True, "webhooks": {
            "success_url": live_server.url + webhook_url("success"),
            "error_url": live_server.url + webhook_url("error")}}).json()["data"]
    pull.pull(["configurations"])
    assert upload(admin_client, Configuration.objects.get(heify_id=created["configuration_id"])).status_code == 302
    call = Transcription.objects.get()
    assert call.status in ("PENDING", "IN_PROGRESS")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not webhook_processed(call.heify_id):
        time.sleep(0.1)
    call.refresh_from_db()
    assert call.status == "COMPLETED" and call.summary
    assert WebhookEvent.objects.filter(status="processed", transcription_heify_id=call.heify_id).exists()


def webhook_processed(heify_id: str) -> bool:
    """The call is COMPLETED and its webhook processed. On SQLite the test database is in memory, shared between
    threads, where a table being written by the live server's thread cannot be read meanwhile (the busy
    timeout does not apply to shared-cache locks): such a look counts as "not yet"."""
    try:
        return Transcription.objects.filter(heify_id=heify_id, status="COMPLETED").exists() and (
            WebhookEvent.objects.filter(status="processed", transcription_heify_id=heify_id).exists()
        )
    except OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
