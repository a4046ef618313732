"""Webhook input is validated before use: bounded bodies, Heify-shaped ids, replays that fetch nothing.

The bodies here are the probe's (issue 11, section 3), kept as data.
"""

import threading

import pytest

from qa.db import on_postgresql
from syncer import client as heify_client
from syncer import contract, tasks
from syncer.client import HeifyClient, RetryPolicy
from syncer.models import WebhookEvent

SECRET = "test-webhook-secret"
DEEP_BODY = "[" * 20_000 + "]" * 20_000  # 40 KB: Python's decoder recursed out (a 500)


def webhook_url(kind="success", secret=SECRET):
    return f"/webhooks/heify/{secret}/{kind}/"


def post(client, body, kind="success"):
    if not isinstance(body, str):
        import json

        body = json.dumps(body)
    return client.post(webhook_url(kind), body, content_type="application/json")


def fetches(state) -> list[str]:
    return [f"{r.method} {r.path}" for r in state.request_log]


@pytest.mark.django_db
def test_a_deeply_nested_body_is_a_clear_400(client):
    response = post(client, DEEP_BODY)
    assert response.status_code == 400
    assert "nested" in response.json()["error"]["message"]


SOME_ID = "3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"


def _probe_ids():
    some = SOME_ID
    return [
        f"../participant/{some}",  # sent GET /participant/<id> with the API key
        f"{some}?limit=1&x=",  # added a query
        "x\x00y",  # crashed the job with httpx InvalidURL
        f"{some}/",
        some.upper() + "0",
        "",
        " " + some,
        42,
        None,
        [some],
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("heify_id", _probe_ids(), ids=repr)
def test_an_id_that_is_not_a_uuid_is_refused_stored_as_refused_and_never_sent(client, heify, heify_id,
                                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, {"transcription_id": heify_id, "status": "COMPLETED"})
    assert response.status_code == 400
    assert "transcription_id" in response.json()["error"]["message"]
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.REFUSED and event.transcription_heify_id == ""
    assert heify.state.request_log == []


@pytest.mark.parametrize("heify_id", [i for i in _probe_ids() if isinstance(i, str)], ids=repr)
def test_the_client_puts_no_id_but_a_uuid_into_a_path(heify, heify_id):
    client = HeifyClient(heify.url, heify.api_key, retry=RetryPolicy(attempts=1))
    for call in (
        lambda: client.get("transcriptions", heify_id),
        lambda: client.replace("participants", heify_id, {"tag": "x"}),
        lambda: client.delete("evaluators", heify_id),
        lambda: client.patch_transcription(heify_id, group=None),
    ):
        with pytest.raises(heify_client.InvalidId):
            call()
    assert heify.state.request_log == []


def test_every_path_the_client_builds_comes_from_one_function(heify):
    heify_path = heify_client.heify_path
    some = SOME_ID
    assert heify_path("participants") == contract.PATHS["participants"]
    assert heify_path("participants", some) == f"{contract.PATHS['participants']}/{some}"
    with pytest.raises(heify_client.InvalidId):
        heify_path("participants/../evaluator")


@pytest.mark.django_db
def test_a_replayed_delivery_within_the_window_fetches_nothing(client, heify_account, settings,
                                                               django_capture_on_commit_callbacks):
    settings.HEIFY_WEBHOOK_REPLAY_WINDOW_SECONDS = 600
    remote = next(t for t in heify_account.state.objects("transcriptions") if t["status"] == "COMPLETED")
    body = {"transcription_id": remote["transcription_id"], "status": "COMPLETED"}
    heify_account.state.clear_request_log()
    # Three deliveries arrive before the worker gets to the first one.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answers = [post(client, body) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 200, 200]
    for callback in callbacks:
        callback()
    assert fetches(heify_account.state) == [f"GET /transcription/{remote['transcription_id']}"]
    assert sorted(WebhookEvent.objects.values_list("status", flat=True)) == ["duplicate", "duplicate", "processed"]
    # The other kind, or another status, is another event.
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, {**body, "status": "FAILED"}, kind="error").status_code == 202


@pytest.mark.django_db
def test_a_delivery_after_the_window_is_a_new_event(client, heify_account, settings,
                                                     django_capture_on_commit_callbacks):
    settings.HEIFY_WEBHOOK_REPLAY_WINDOW_SECONDS = 0
    remote = next(t for t in heify_account.state.objects("transcriptions") if t["status"] == "IN_PROGRESS"
                  or t["status"] == "PENDING")
    body = {"transcription_id": remote["transcription_id"], "status": "COMPLETED"}
    heify_account.state.clear_request_log()
    with django_capture_on_commit_callbacks(execute=True):
        assert [post(client, body).status_code for _ in range(2)] == [202, 202]
    assert len(fetches(heify_account.state)) == 2


@pytest.mark.django_db
def test_processing_an_event_twice_fetches_once(client, heify_account, django_capture_on_commit_callbacks):
    remote = heify_account.state.objects("transcriptions")[0]
    with django_capture_on_commit_callbacks(execute=False):
        event_id = post(client, {"transcription_id": remote["transcription_id"]}).json()["data"]["received"]
    heify_account.state.clear_request_log()
    assert tasks.process_webhook_event(event_id) == "processed"
    assert tasks.process_webhook_event(event_id) == "processed"
    assert len(fetches(heify_account.state)) == 1


postgres_only = pytest.mark.skipif(
    not on_postgresql(), reason="real concurrent transactions: PostgreSQL"
)


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(index):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            results[index] = target()
        except Exception as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_replays_in_several_processes_store_one_event_to_process(heify_account, settings):
    """Each thread has its own database connection, as separate web processes would."""
    from django.test import Client

    remote = heify_account.state.objects("transcriptions")[0]
    body = {"transcription_id": remote["transcription_id"], "status": "COMPLETED"}
    statuses = _in_threads(6, lambda: post(Client(), body).status_code)
    assert sorted(statuses) == [200] * 5 + [202]
    assert WebhookEvent.objects.exclude(status="duplicate").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_process_one_stored_event_once(heify_account):
    remote = heify_account.state.objects("transcriptions")[0]
    event = WebhookEvent.objects.create(kind="success", body="{}", transcription_heify_id=remote["transcription_id"])
    heify_account.state.clear_request_log()
    heify_account.state.latency = 0.3  # both workers are inside the fetch at the same time
    outcomes = _in_threads(2, lambda: tasks.process_webhook_event(event.pk))
    assert len(fetches(heify_account.state)) == 1
    assert "processed" in outcomes
