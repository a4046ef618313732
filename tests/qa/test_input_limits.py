"""No input gives a 500: the probe's cases (issue 11, section 4), kept as data, through every entry point.

Each row is one request: where it goes, what it carries, the answer expected
and a phrase the answer must contain. Run on SQLite and on PostgreSQL.
"""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa import limits
from qa.mirror.models import Evaluator, Participant
from tests import builders

pytestmark = pytest.mark.django_db

DEEP = "[" * 5_000 + "]" * 5_000
DEEP_OBJECT = '{"a":' * 200 + "1" + "}" * 200
HUGE_INT = "1" * 5_001
NAN = '{"a": NaN}'
INFINITY = '{"a": Infinity}'
OVERFLOWING_FLOAT = '{"a": 1e999}'
NUL_IN_METADATA = '{"a": "x\\u0000y"}'
NUL_IN_KEY = '{"x\\u0000y": 1}'
LONE_SURROGATE = '{"a": "\\ud800"}'
LONG_STRING = json.dumps({"a": "x" * (limits.TEXT_MAX_LENGTH + 1)})
TOO_LARGE = json.dumps({"a": ["x" * 1000] * 300})  # over JSON_MAX_BYTES, each string within the limit
OUT_OF_RANGE = '{"a": 99999999999999999999}'

# Values Python's json reads without complaint (the limits apply to what it made).
PARSED_BEFORE_CHECKED = {"NUL", "NUL in a key", "lone surrogate", "long string", "too large", "out of range"}

# --- the admin ------------------------------------------------------------------------------------

BAD_DATES = ["9999-12-31", "0001-01-01", "1970-12-31", "2026-02-30", "yesterday", "2026-03-01T00:00"]
BAD_JSON = [
    ("deep array", DEEP, "nested too deep"),
    ("deep object", DEEP_OBJECT, "nested too deep"),
    ("NaN", NAN, "NaN"),
    ("Infinity", INFINITY, "Infinity"),
    ("1e999", OVERFLOWING_FLOAT, "too large"),
    ("5,001 digits", HUGE_INT, "digits"),
    ("5,001 digits inside", '{"a": ' + HUGE_INT + "}", "digits"),
    ("NUL", NUL_IN_METADATA, "null characters"),
    ("NUL in a key", NUL_IN_KEY, "null characters"),
    ("lone surrogate", LONE_SURROGATE, "surrogate"),
    ("long string", LONG_STRING, "characters long"),
    ("too large", TOO_LARGE, "too large"),
    ("out of range", OUT_OF_RANGE, "out of range"),
]


@pytest.fixture
def participant(load):
    payload = builders.participant_payload(tag="Ann")
    load(participants=[payload], transcriptions=[builders.transcription_payload(participant=payload)])
    return Participant.objects.get(heify_id=payload["participant_id"])


@pytest.mark.parametrize("as_of", BAD_DATES)
@pytest.mark.parametrize("page", ["team", "participant"])
def test_a_report_date_out_of_range_is_a_clear_message(admin_client, participant, page, as_of):
    url = (reverse("admin:qa_participant_team") if page == "team"
           else reverse("admin:qa_participant_change", args=[participant.pk]))
    response = admin_client.get(url, {"as_of": as_of})
    assert response.status_code == 200
    page = response.content.decode().lower()
    said = f"as_of must be a date between {limits.REPORT_DATE_MIN} and {limits.REPORT_DATE_MAX}" in page or (
        "as_of must be a date as yyyy-mm-dd" in page)
    assert said and "shown as of today" in page


@pytest.mark.parametrize("as_of", BAD_DATES)
def test_the_api_refuses_the_same_dates_with_the_same_rule(admin_user, participant, as_of):
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.get(f"/api/v1/participants/{participant.heify_id}/analytics/", {"as_of": as_of})
    assert response.status_code == 400 and "as_of" in response.json()["error"]["message"]


@pytest.mark.parametrize("name, text, phrase", BAD_JSON, ids=[row[0] for row in BAD_JSON])
def test_participant_metadata_beyond_the_limits_is_a_form_error(admin_client, participant, name, text, phrase):
    url = reverse("admin:qa_participant_change", args=[participant.pk])
    before = (participant.version, participant.metadata)
    response = admin_client.post(url, {"tag": "Ann", "metadata": text, "based_on_version": participant.version})
    assert response.status_code == 200
    assert phrase in response.content.decode()
    participant.refresh_from_db()
    assert (participant.version, participant.metadata) == before


@pytest.mark.parametrize("name, text, phrase", BAD_JSON, ids=[row[0] for row in BAD_JSON])
def test_an_evaluators_context_beyond_the_limits_is_a_form_error(admin_client, name, text, phrase):
    from tests.qa.mirror.test_admin_editing import evaluator_form

    form = evaluator_form(context=text, criteria=[{"name": "Greeting", "type": "boolean", "weight": "100"}])
    response = admin_client.post(reverse("admin:qa_evaluator_add"), form)
    assert response.status_code == 200
    assert phrase in response.content.decode()
    assert not Evaluator.objects.exists()


def test_metadata_at_the_limits_is_accepted(admin_client, participant):
    nested = '{"a":' * (limits.JSON_MAX_DEPTH - 1) + "[1]" + "}" * (limits.JSON_MAX_DEPTH - 1)
    url = reverse("admin:qa_participant_change", args=[participant.pk])
    response = admin_client.post(url, {"tag": "Ann", "metadata": nested, "based_on_version": participant.version})
    assert response.status_code == 302
    participant.refresh_from_db()
    assert json.dumps(participant.metadata, separators=(",", ":")) == nested


# --- the REST API -------------------------------------------------------------------------------------


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=admin_user)[1]}")
    return client


def participant_body(metadata_text: str) -> str:
    return '{"tag": "Ann", "metadata": ' + metadata_text + "}"


@pytest.mark.parametrize("name, text, phrase", BAD_JSON, ids=[row[0] for row in BAD_JSON])
def test_the_api_refuses_the_same_metadata_with_a_400(api, name, text, phrase):
    response = api.generic("POST", "/api/v1/participants/", participant_body(text), content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["status"] == 400 and phrase in error["message"]
    assert not Participant.objects.exists()


@pytest.mark.parametrize("name, text, phrase", BAD_JSON, ids=[row[0] for row in BAD_JSON])
def test_the_api_refuses_the_same_context_with_a_400(api, name, text, phrase):
    body = ('{"tag": "QA", "criteria": [{"name": "Greeting", "type": "boolean", "weight": 100}], "context": '
            + text + "}")
    response = api.generic("POST", "/api/v1/evaluators/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert phrase in response.json()["error"]["message"]
    assert not Evaluator.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_a_body_over_the_upload_limit_is_a_413_in_the_apis_shape(api, client, admin_user, settings, content_type):
    body = participant_body(json.dumps({"a": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}))
    for who in (api, client):
        if who is client:
            client.force_login(admin_user)
        response = who.generic("POST", "/api/v1/participants/", body, content_type=content_type)
        assert response.status_code == 413, response.content[:200]
        error = response.json()["error"]
        assert error == {"status": 413, "code": "too_large", "message": error["message"]}
        assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["message"]
    assert not Participant.objects.exists()


# --- heify_load (and with it the pull: both parse through syncer.mirror) ----------------------------


@pytest.mark.parametrize("name, text, phrase", BAD_JSON, ids=[row[0] for row in BAD_JSON])
def test_heify_load_refuses_the_same_values_and_names_the_place(tmp_path, name, text, phrase):
    good = builders.participant_payload()
    bad = builders.participant_payload()
    file = tmp_path / "account.json"
    snapshot = json.dumps({"participants": [good, {**bad, "metadata": None}]})
    file.write_text(snapshot.replace('"metadata": null', '"metadata": ' + text))
    with pytest.raises(CommandError) as refused:
        call_command("heify_load", str(file), stdout=io.StringIO())
    message = str(refused.value)
    assert phrase in message and "nothing was loaded" in message
    if name in PARSED_BEFORE_CHECKED:  # the text is JSON: the value it makes is refused, by its place
        named = ("participants[1].metadata", f"participants[1] ({bad['participant_id']}): metadata")
        assert any(place in message for place in named), message
    assert not Participant.objects.exists()  # all or nothing
