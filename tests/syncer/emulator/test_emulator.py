"""The Heify emulator (syncer.emulator), over real HTTP on loopback, and its `heify_emulator` command.

Every request goes to 127.0.0.1; webhooks are sent only to loopback
(the emulator only ever calls loopback addresses), so nothing here leaves the machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from django.core.management import CommandError, call_command
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from qa.mirror import rules
from syncer import contract
from syncer.emulator import FixtureError
from syncer.emulator import state as emulator_state
from syncer.emulator.paging import encode_cursor
from syncer.emulator.state import CLIENT_ID
from syncer.management.commands.heify_emulator import Command
from tests import builders
from tests.syncer.emulator.conftest import START

ROOT = Path(__file__).resolve().parents[3]


def data(response: httpx.Response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()[contract.DATA_KEY]


def error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()[contract.ERROR_KEY]


def wait_until(predicate, timeout: float = 3.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)
    return result


def configuration_body(**overrides) -> dict:
    body = {
        "tag": "Sales calls",
        "vocabulary": ["CRM"],
        "extraction_fields": [
            {"name": "sentiment", "type": "STRING", "description": "POSITIVE, NEGATIVE or NEUTRAL."},
            {"name": "deal_size", "type": "number", "description": "In EUR."},
        ],
        "summary": True,
        "summary_language": "EN",
        "analytics_language": "df",
    }
    return {**body, **overrides}


def evaluator_body(**overrides) -> dict:
    body = {
        "tag": "Customer service",
        "description": "Support calls.",
        "language": "en",
        "context": {"team": "support"},
        "criteria": [
            {"name": "Greeting", "description": "Opening?", "type": "BOOLEAN", "weight": 20},
            {"name": "No offensive language", "description": "Rude?", "type": "STRICT", "weight": 0},
            {"name": "Issue resolved", "description": "Resolved?", "type": "boolean", "weight": 80},
        ],
    }
    return {**body, **overrides}


def participant_body(**overrides) -> dict:
    return {"tag": "Sarah Johnson", "metadata": {"email": "sarah@example.com", "team": "Support"}, **overrides}


BODIES = {"configurations": configuration_body, "evaluators": evaluator_body, "participants": participant_body}


def upload(api, configuration_id: str, *, content: bytes = b"RIFF....WAVE", filename="call.wav", **fields):
    form = {"configuration_id": configuration_id, **fields}
    files = {contract.UPLOAD_FILE_FIELD: (filename, content)}
    return api.post(contract.PATHS["transcriptions"], data=form, files=files)


@contextmanager
def webhook_receiver():
    """A tiny HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it."""
    received = []

    def app(environ, start_response):
        request = Request(environ)
        received.append((request.path, json.loads(request.get_data())))
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", received=received)
    finally:
        server.shutdown()
        server.server_close()


# --- the wire: auth, routing, bodies ---------------------------------------------------------


def test_a_missing_or_wrong_api_key_is_refused(heify):
    path = heify.url + contract.PATHS["configurations"]
    missing = error(httpx.get(path), 401)
    assert missing["code"] == "unauthorized" and contract.AUTH_HEADER in missing["message"]
    wrong = error(httpx.get(path, headers={contract.AUTH_HEADER: "not-the-key"}), 401)
    assert "not valid" in wrong["message"] and "not-the-key" not in wrong["message"]
    assert data(httpx.get(path, headers={contract.AUTH_HEADER: heify.api_key})) == []


def test_unknown_paths_wrong_methods_and_bad_bodies(api):
    assert error(api.get("/nowhere"), 404)["code"] == "not_found"
    assert error(api.get(contract.item_path("participants", "no-such-id")), 404)["code"] == "not_found"
    refused = api.patch(contract.item_path("participants", "x"), json={})
    assert error(refused, 405)["code"] == "method_not_allowed" and "PUT" in refused.headers["Allow"]
    assert error(api.put(contract.item_path("transcriptions", "x"), json={}), 405)
    not_json = api.post(contract.PATHS["participants"], content=b"{tag:", headers={"content-type": "application/json"})
    assert "not valid JSON" in error(not_json, 400)["message"]
    assert "JSON object" in error(api.post(contract.PATHS["participants"], json=["a"]), 400)["message"]
    assert "unknown field(s) colour" in error(
        api.post(contract.PATHS["participants"], json={**participant_body(), "colour": "red"}), 400
    )["message"]


# --- CRUD ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["configurations", "evaluators", "participants"])
def test_crud_round_trip_with_paging(api, resource):
    path, id_field = contract.PATHS[resource], contract.ID_FIELDS[resource]
    created = [data(api.post(path, json=BODIES[resource](tag=f"Item {n}")), 201) for n in range(5)]
    first = created[0]
    assert first["client_id"] == CLIENT_ID and first["created_at"]
    assert ("updated_at" in first) == (resource != "configurations")
    assert data(api.get(contract.item_path(resource, first[id_field]))) == first

    seen, cursor, pages = [], None, 0
    while True:
        params = {contract.LIMIT_PARAM: 2, **({contract.CURSOR_PARAM: cursor} if cursor else {})}
        body = api.get(path, params=params).json()
        seen += [item[id_field] for item in body[contract.DATA_KEY]]
        pages += 1
        cursor = body[contract.NEXT_CURSOR_KEY]
        if cursor is None:
            break
    assert pages == 3 and seen == [item[id_field] for item in created]

    replaced = data(api.put(contract.item_path(resource, first[id_field]), json=BODIES[resource](tag="Item 0")))
    assert replaced[id_field] == first[id_field] and replaced["created_at"] == first["created_at"]
    assert api.delete(contract.item_path(resource, first[id_field])).status_code == 204
    assert error(api.get(contract.item_path(resource, first[id_field])), 404)["code"] == "not_found"
    assert len(data(api.get(path))) == 4


@pytest.mark.parametrize("resource", contract.INCREMENTAL_RESOURCES)
def test_a_list_of_changes_since_holds_only_those_updated_at_or_after(api, clock, resource):
    path, id_field = contract.PATHS[resource], contract.ID_FIELDS[resource]
    created = []
    for n in range(6):
        created.append(data(api.post(path, json=BODIES[resource](tag=f"Item {n}")), 201))
        clock.advance(60)
    replaced = data(api.put(contract.item_path(resource, created[1][id_field]), json=BODIES[resource](tag="Item 1")))
    since = created[4]["updated_at"]
    seen, cursor = [], None
    while True:  # pages of 2 over the changes: each page holds up to 2 of them, wherever they are in the list
        params = {contract.LIMIT_PARAM: 2, contract.UPDATED_SINCE_PARAM: since,
                  **({contract.CURSOR_PARAM: cursor} if cursor else {})}
        body = api.get(path, params=params).json()
        seen += [item[id_field] for item in body[contract.DATA_KEY]]
        cursor = body[contract.NEXT_CURSOR_KEY]
        if cursor is None:
            break
    assert seen == [replaced[id_field], created[4][id_field], created[5][id_field]]  # at or after, list order
    later = contract.updated_since_value(clock() + timedelta(seconds=1))
    assert data(api.get(path, params={contract.UPDATED_SINCE_PARAM: later})) == []


def test_a_list_of_changes_is_refused_where_heify_has_no_updated_at_or_for_a_bad_moment(api):
    for resource in ("configurations", "transcriptions"):
        refused = error(api.get(contract.PATHS[resource], params={contract.UPDATED_SINCE_PARAM: START.isoformat()}),
                        400)
        assert refused["code"] == "invalid_parameter" and contract.UPDATED_SINCE_PARAM in refused["message"]
    bad = api.get(contract.PATHS["participants"], params={contract.UPDATED_SINCE_PARAM: "yesterday"})
    assert "ISO 8601" in error(bad, 400)["message"]


def test_a_bad_cursor_or_limit_is_400(api):
    path = contract.PATHS["participants"]
    for limit in ("0", "1001", "ten"):
        assert "limit" in error(api.get(path, params={contract.LIMIT_PARAM: limit}), 400)["message"]
    assert error(api.get(path, params={contract.CURSOR_PARAM: "!!not-a-cursor"}), 400)["code"] == "invalid_cursor"
    foreign = encode_cursor("evaluators", 2)
    assert "does not belong" in error(api.get(path, params={contract.CURSOR_PARAM: foreign}), 400)["message"]


def test_configuration_is_stored_cleaned_by_the_rules(api):
    body = configuration_body(webhooks={"success_url": "https://example.com/ok"})
    created = data(api.post(contract.PATHS["configurations"], json=body), 201)
    assert created["summary_language"] == "en"
    assert [f["type"] for f in created["extraction_fields"]] == ["string", "number"]
    assert created["webhooks"] == {"success_url": "https://example.com/ok", "error_url": None}
    too_many = configuration_body(
        extraction_fields=[{"name": f"f{n}", "type": "string", "description": "x"} for n in range(11)]
    )
    problem = error(api.post(contract.PATHS["configurations"], json=too_many), 400)
    assert problem["code"] == "validation_error" and "at most 10 extraction fields" in problem["message"]
    bad_language = api.post(contract.PATHS["configurations"], json=configuration_body(summary_language="zz"))
    assert "ISO 639-1" in error(bad_language, 400)["message"]


# --- evaluators ----------------------------------------------------------------------------------


def test_evaluator_weights_must_sum_to_100(api):
    body = evaluator_body()
    body["criteria"][2]["weight"] = 60
    problem = error(api.post(contract.PATHS["evaluators"], json=body), 400)
    assert problem["code"] == "validation_error" and "sum to 80" in problem["message"]


def test_evaluator_strict_weight_forced_to_zero_types_canonical_and_ids_given(api):
    body = evaluator_body()
    body["criteria"][1]["weight"] = 15
    created = data(api.post(contract.PATHS["evaluators"], json=body), 201)
    strict = created["criteria"][1]
    assert strict["type"] == "strict" and strict["weight"] == 0
    assert [c["type"] for c in created["criteria"]] == ["boolean", "strict", "boolean"]
    assert len({c["id"] for c in created["criteria"]}) == 3


def test_evaluator_update_keeps_ids_and_tag_and_bumps_updated_at(api, clock):
    created = data(api.post(contract.PATHS["evaluators"], json=evaluator_body()), 201)
    path = contract.item_path("evaluators", created["evaluator_id"])
    greeting, strict, resolved = created["criteria"]
    body = evaluator_body(criteria=[
        {**greeting, "weight": 30},
        {"name": "Empathy", "description": "1-5", "type": "SCALE", "weight": 20},
        {**resolved, "weight": 50},
    ])
    del body["tag"]  # a PUT without a tag keeps it
    updated = data(api.put(path, json=body))  # the clock stands still: updated_at must still move on
    assert updated["tag"] == created["tag"]
    assert updated["criteria"][0]["id"] == greeting["id"] and updated["criteria"][2]["id"] == resolved["id"]
    assert updated["criteria"][1]["id"] not in {greeting["id"], strict["id"], resolved["id"]}
    assert updated["updated_at"] > created["updated_at"]
    again = data(api.put(path, json=body))
    assert again["updated_at"] > updated["updated_at"]

    renamed = error(api.put(path, json={**body, "tag": "Another name"}), 400)
    assert "cannot be changed" in renamed["message"]
    stranger = error(api.put(path, json={**body, "criteria": [{**body["criteria"][0], "id": "nope"},
                                                              *body["criteria"][1:]]}), 400)
    assert "'nope' is not a criterion of this evaluator" in stranger["message"]


def test_participant_put_replaces_metadata_whole_and_bumps_updated_at(api, clock):
    created = data(api.post(contract.PATHS["participants"], json=participant_body()), 201)
    clock.advance(5)
    path = contract.item_path("participants", created["participant_id"])
    updated = data(api.put(path, json={**created, "metadata": {"team": "Sales"}}))  # echoed server keys are fine
    assert updated["metadata"] == {"team": "Sales"}
    assert updated["updated_at"] > created["updated_at"]
    assert data(api.get(path))["metadata"] == {"team": "Sales"}
    assert "Metadata must be a JSON object" in error(api.put(path, json={"tag": "x", "metadata": []}), 400)["message"]


# --- transcriptions ---------------------------------------------------------------------------------


@pytest.fixture
def account(api):
    configuration = data(api.post(contract.PATHS["configurations"], json=configuration_body()), 201)
    evaluator = data(api.post(contract.PATHS["evaluators"], json=evaluator_body()), 201)
    participant = data(api.post(contract.PATHS["participants"], json=participant_body()), 201)
    return SimpleNamespace(configuration=configuration, evaluator=evaluator, participant=participant)


def test_upload_runs_pending_in_progress_completed_with_details(api, account, clock):
    created = data(upload(
        api, account.configuration["configuration_id"], evaluator_id=account.evaluator["evaluator_id"],
        participant_id=account.participant["participant_id"], name="first call",
    ), 201)
    assert created["status"] == "PENDING" and created["duration"] > 0 and created["created_at"]
    assert created["configuration_tag"] == account.configuration["tag"] and created["name"] == "first call"
    path = contract.item_path("transcriptions", created["transcription_id"])
    assert data(api.get(path))["status"] == "PENDING"
    clock.advance(1)
    assert data(api.get(path))["status"] == "IN_PROGRESS"
    clock.advance(2)
    done = data(api.get(path))
    assert done["status"] == "COMPLETED" and "error" not in done
    details = done["details"]
    assert details["language"] == "en" and details["num_speakers"] >= 2
    started, completed = (contract.parse_timestamp(details[key]) for key in ("created_at", "completed_at"))
    assert started == START + timedelta(seconds=1) and completed == clock.now
    assert all(segment["text"] and segment["speaker"] for segment in details["conversation"]["segments"])
    assert details["summary"]["summary"]
    assert [field["name"] for field in details["fields"]["fields"]] == ["sentiment", "deal_size"]
    evaluation = details["evaluation"]
    verdicts = {result["name"]: result["passed"] for result in evaluation["criteria_results"]}
    assert evaluation == rules.evaluation_score(account.evaluator["criteria"], verdicts)
    listed = data(api.get(contract.PATHS["transcriptions"]))
    assert listed == [done]


def test_processing_seconds_zero_completes_on_the_next_read(api, account, state):
    state.processing_seconds = 0
    created = data(upload(api, account.configuration["configuration_id"]), 201)
    assert created["status"] == "PENDING"
    done = data(api.get(contract.item_path("transcriptions", created["transcription_id"])))
    assert done["status"] == "COMPLETED" and "evaluation" not in done["details"]


def test_a_fail_upload_ends_failed_with_an_error(api, account, clock):
    created = data(upload(api, account.configuration["configuration_id"], filename="will-FAIL.mp3"), 201)
    clock.advance(3)
    failed = data(api.get(contract.item_path("transcriptions", created["transcription_id"])))
    assert failed["status"] == "FAILED" and "details" not in failed
    assert failed["error"]["code"] and failed["error"]["message"]


def test_upload_checks_its_form(api, account):
    config_id = account.configuration["configuration_id"]
    path = contract.PATHS["transcriptions"]
    assert "configuration_id" in error(upload(api, ""), 400)["message"]
    assert "not a configuration" in error(upload(api, "no-such-config"), 400)["message"]
    assert "empty" in error(upload(api, config_id, content=b""), 400)["message"]
    assert "not a participant" in error(upload(api, config_id, participant_id="ghost"), 400)["message"]
    no_file = api.post(path, files={"configuration_id": (None, config_id)})  # multipart, but no file part
    assert "file is required" in error(no_file, 400)["message"]
    assert "multipart/form-data" in error(api.post(path, json={"configuration_id": config_id}), 400)["message"]
    assert "language" in error(upload(api, config_id, language="en"), 400)["message"]


def test_webhooks_are_posted_on_completion_and_failure(state, api):
    with webhook_receiver() as receiver:
        hooks = {"success_url": receiver.url + "/ok", "error_url": receiver.url + "/ko"}
        configuration = data(api.post(contract.PATHS["configurations"], json=configuration_body(webhooks=hooks)), 201)
        good = data(upload(api, configuration["configuration_id"]), 201)
        bad = data(upload(api, configuration["configuration_id"], name="fail please"), 201)
        state.clock.advance(3)  # no read: the ticker finishes them and delivers
        wait_until(lambda: len(receiver.received) == 2)
    assert sorted(receiver.received) == sorted([
        ("/ok", {contract.WEBHOOK_ID_KEY: good["transcription_id"], contract.WEBHOOK_STATUS_KEY: "COMPLETED"}),
        ("/ko", {contract.WEBHOOK_ID_KEY: bad["transcription_id"], contract.WEBHOOK_STATUS_KEY: "FAILED"}),
    ])
    deliveries = state.webhook_deliveries
    assert {d.status_code for d in deliveries} == {200} and {d.error for d in deliveries} == {None}


def test_a_failing_webhook_is_recorded_not_raised(state, api):
    hooks = {"success_url": "http://127.0.0.1:9/nobody-listens", "error_url": "https://example.com/ko"}
    configuration = data(api.post(contract.PATHS["configurations"], json=configuration_body(webhooks=hooks)), 201)
    data(upload(api, configuration["configuration_id"]), 201)
    data(upload(api, configuration["configuration_id"], name="fail"), 201)
    state.clock.advance(3)
    deliveries = wait_until(lambda: len(state.webhook_deliveries) == 2 and state.webhook_deliveries)
    by_url = {d.url: d for d in deliveries}
    assert by_url[hooks["success_url"]].status_code is None and by_url[hooks["success_url"]].error
    assert "loopback" in by_url[hooks["error_url"]].error  # never sent off the machine


def test_patch_sets_only_name_and_group(api, account):
    created = data(upload(api, account.configuration["configuration_id"]), 201)
    path = contract.item_path("transcriptions", created["transcription_id"])
    patched = data(api.patch(path, json={"group": "UNDER_REVIEW", "name": "renamed"}))
    assert patched["group"] == "UNDER_REVIEW" and patched["name"] == "renamed"
    assert data(api.patch(path, json={"group": None}))["group"] is None
    assert "duration cannot be changed" in error(api.patch(path, json={"duration": 3}), 400)["message"]
    assert "group must be one of" in error(api.patch(path, json={"group": "DONE"}), 400)["message"]
    assert api.delete(path).status_code == 204
    assert error(api.get(path), 404)


# --- analytics ---------------------------------------------------------------------------------------


def test_analytics_counts_against_a_monthly_quota(api, account, state, clock):
    state.analytics_quota = 2
    body = {"participant_id": account.participant["participant_id"]}
    for _ in range(2):
        answer = api.post(contract.ANALYTICS_PATH, json=body)
        assert answer.status_code == 200, answer.text
    assert error(api.post(contract.ANALYTICS_PATH, json=body), 429)["code"] == "quota_exceeded"
    assert error(api.post(contract.ANALYTICS_PATH, json={"participant_id": "ghost"}), 429)
    clock.advance(31 * 24 * 3600)  # a new calendar month, a new quota
    assert error(api.post(contract.ANALYTICS_PATH, json={"participant_id": "ghost"}), 404)["code"] == "not_found"
    assert api.post(contract.ANALYTICS_PATH, json=body).status_code == 200


def test_analytics_answers_the_participants_report(api, account, monkeypatch, clock):
    calls = []

    def report(participant_id, transcriptions, evaluators, now):
        calls.append((participant_id, transcriptions, evaluators, now))
        return {"kpis": {"total_calls": len(transcriptions)}}

    monkeypatch.setattr(emulator_state, "participant_report_from_payloads", report)
    participant_id = account.participant["participant_id"]
    data(upload(api, account.configuration["configuration_id"], participant_id=participant_id), 201)
    data(upload(api, account.configuration["configuration_id"]), 201)
    assert data(api.post(contract.ANALYTICS_PATH, json={"participant_id": participant_id})) == {
        "kpis": {"total_calls": 1}
    }
    (_, transcriptions, evaluators, now), = calls
    assert transcriptions[0]["participant_id"] == participant_id and evaluators == [account.evaluator]
    assert now == clock.now


# --- faults --------------------------------------------------------------------------------------------


# --- preloading and volume ------------------------------------------------------------------------------


def test_a_fixture_is_preloaded_as_is(api, state):
    configuration = builders.configuration_payload()
    evaluator = builders.evaluator_payload()
    participant = builders.participant_payload()
    calls = [
        builders.transcription_payload(configuration=configuration, evaluator=evaluator, participant=participant),
        builders.transcription_payload(configuration=configuration, status="IN_PROGRESS", details=None),
    ]
    counts = state.load(builders.snapshot(
        configurations=[configuration], evaluators=[evaluator], participants=[participant], transcriptions=calls
    ))
    assert counts == {"configurations": 1, "evaluators": 1, "participants": 1, "transcriptions": 2}
    assert data(api.get(contract.item_path("evaluators", evaluator["evaluator_id"]))) == evaluator
    assert data(api.get(contract.PATHS["transcriptions"])) == calls  # statuses kept: nothing advances them
    with pytest.raises(FixtureError, match=r"transcriptions\[0\]: transcription_id is missing"):
        state.load({"transcriptions": [{"status": "COMPLETED"}]})
    with pytest.raises(FixtureError, match="unknown key"):
        state.load({"calls": []})


def test_listing_100k_preloaded_calls_stays_fast(api, state):
    template = builders.transcription_payload()
    state.load({"transcriptions": [{**template, "transcription_id": f"t-{n}"} for n in range(100_000)]})
    path, limit = contract.PATHS["transcriptions"], 1000
    started = time.monotonic()
    first = api.get(path, params={contract.LIMIT_PARAM: limit})
    last = api.get(path, params={contract.LIMIT_PARAM: limit, contract.CURSOR_PARAM: encode_cursor(
        "transcriptions", 99_000
    )})
    elapsed = time.monotonic() - started
    assert first.json()[contract.DATA_KEY][0]["transcription_id"] == "t-0"
    assert last.json()[contract.DATA_KEY][-1]["transcription_id"] == "t-99999"
    assert last.json()[contract.NEXT_CURSOR_KEY] is None
    assert elapsed < 2.0, f"two pages of 1000 took {elapsed:.2f}s"


# --- the command ------------------------------------------------------------------------------------------


def test_the_command_parses_its_arguments():
    parser = Command().create_parser("manage.py", "heify_emulator")
    options = parser.parse_args([
        "--port", "0", "--demo", "--demo-transcriptions", "50", "--seed", "3", "--api-key", "abc",
        "--processing-seconds", "0.5", "--fixture", "f.json",
    ])
    assert (options.port, options.demo, options.demo_transcriptions, options.seed) == (0, True, 50, 3)
    assert (options.api_key, options.processing_seconds, options.fixture) == ("abc", 0.5, "f.json")
    defaults = parser.parse_args([])
    assert (defaults.host, defaults.port, defaults.demo, defaults.api_key) == ("127.0.0.1", 8765, False, None)


def test_a_bad_fixture_is_a_command_error(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("heify_emulator", "--fixture", str(broken), "--port", "0")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"evaluators": [{"tag": "no id"}]}))
    with pytest.raises(CommandError, match=r"evaluators\[0\]: evaluator_id is missing"):
        call_command("heify_emulator", "--fixture", str(wrong), "--port", "0")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("heify_emulator", "--fixture", str(tmp_path / "absent.json"), "--port", "0")


def test_the_command_serves_the_demo_until_ctrl_c():
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "heifyadmin.settings_test"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "heify_emulator", "--port", "0", "--demo", "--demo-transcriptions", "50",
         "--api-key", "cmd-key", "--processing-seconds", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        banner = process.stdout.readline()
        assert "x-api-key: cmd-key" in banner and "50 transcriptions" in banner, banner + process.stderr.read()
        url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        answer = httpx.get(
            url + contract.PATHS["transcriptions"], params={contract.LIMIT_PARAM: 20},
            headers={contract.AUTH_HEADER: "cmd-key"}, timeout=5,
        )
        assert len(data(answer)) == 20 and answer.json()[contract.NEXT_CURSOR_KEY]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=30)  # a bound, not an expectation: a loaded machine is slow
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"the emulator did not stop within 30 s of Ctrl-C; stderr: {err}")
    assert process.returncode == 0, err
    assert "stopped" in out


