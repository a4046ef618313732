"""Security regression: a webhook replay that only changes the case of the status or of the UUID is the same
event, stored as a duplicate, and fetches nothing more (each variant made a new fetch). No 5xx."""

import json

import pytest

from syncer.models import WebhookEvent

SECRET = "test-webhook-secret"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.HEIFY_WEBHOOK_SECRET = SECRET
    settings.HEIFY_WEBHOOK_REPLAY_WINDOW_SECONDS = 600


def post(client, body):
    return client.post(f"/webhooks/heify/{SECRET}/success/", json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_replays_differing_only_in_case_fetch_once(client, heify_account, django_capture_on_commit_callbacks):
    remote = next(t for t in heify_account.state.objects("transcriptions") if t["status"] == "COMPLETED")
    heify_id = remote["transcription_id"]
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(heify_id))
    variants = [(heify_id, "COMPLETED"), (heify_id, "completed"), (heify_id, "Completed"),
                (heify_id.upper(), "COMPLETED"), (mixed, "cOmPlEtEd")]
    heify_account.state.clear_request_log()
    with django_capture_on_commit_callbacks(execute=True):
        answers = [post(client, {"transcription_id": i, "status": s}) for i, s in variants]
    assert [a.status_code for a in answers] == [202, 200, 200, 200, 200]
    assert [f"{r.method} {r.path}" for r in heify_account.state.request_log] == [f"GET /transcription/{heify_id}"]
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.DUPLICATE).count() == 4
    assert set(WebhookEvent.objects.values_list("transcription_heify_id", "reported_status")) == {
        (heify_id, "COMPLETED")}
    # Another status is another event.
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, {"transcription_id": heify_id.upper(), "status": "failed"}).status_code == 202
