"""The REST API: auth, permissions, Heify's shapes, filters, pagination, errors, and the push path."""

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.mirror.models import Evaluator, Participant, Transcription
from syncer import pull
from tests import builders

pytestmark = pytest.mark.django_db

API = "/api/v1"


def user_with(*codenames, username="tool"):
    user = User.objects.create_user(username, password="pw-for-tests-1")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    if code:
        assert error["code"] == code
    if field:
        assert field in error["fields"], error
    return error


# --- auth ---------------------------------------------------------------------------------


def test_token_is_issued_for_good_credentials_only():
    User.objects.create_user("ann", password="correct-horse-9")
    response = APIClient().post(f"{API}/auth/token/", {"username": "ann", "password": "correct-horse-9"},
                                format="json")
    assert response.status_code == 200 and len(response.json()["token"]) == 64
    bad = APIClient().post(f"{API}/auth/token/", {"username": "ann", "password": "nope"}, format="json")
    assert "Unable to log in" in assert_error(bad, 400)["message"]
    assert_error(APIClient().post(f"{API}/auth/token/", {}, format="json"), 400, field="username")


def test_anonymous_and_bad_tokens_get_401_and_a_good_token_works(api):
    assert_error(APIClient().get(f"{API}/participants/"), 401)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert_error(bad.get(f"{API}/participants/"), 401)
    assert api.get(f"{API}/participants/").status_code == 200


def test_the_session_works_too(client, admin_user):
    client.force_login(admin_user)
    assert client.get(f"{API}/participants/").status_code == 200


def test_permissions_follow_model_permissions(load):
    load(participants=[builders.participant_payload()])
    nobody = client_for(user_with(username="nobody"))
    assert_error(nobody.get(f"{API}/participants/"), 403)
    reader = client_for(user_with("view_participant", username="reader"))
    assert reader.get(f"{API}/participants/").status_code == 200
    assert_error(reader.post(f"{API}/participants/", {"tag": "X"}, format="json"), 403)
    assert_error(reader.get(f"{API}/evaluators/"), 403)


# --- shapes -------------------------------------------------------------------------------------


def test_evaluator_reads_like_heifys_evaluator(api, load):
    payload = builders.evaluator_payload()
    load(evaluators=[payload])
    response = api.get(f"{API}/evaluators/{payload['evaluator_id']}/")
    data = response.json()["data"]
    assert response["ETag"] == '"1"'
    assert data["evaluator_id"] == payload["evaluator_id"] and data["tag"] == payload["tag"]
    assert [(c["id"], c["name"], c["type"], c["weight"]) for c in data["criteria"]] == [
        (c["id"], c["name"], c["type"].lower(), c["weight"]) for c in payload["criteria"]
    ]
    assert data["updated_at"].startswith("2026-01-15") and data["sync"]["state"] == "synced"


def test_transcription_reads_like_heifys_transcription(api, load):
    payload = builders.transcription_payload(group="UNDER_REVIEW")
    load(transcriptions=[payload])
    data = api.get(f"{API}/transcriptions/{payload['transcription_id']}/").json()["data"]
    assert data["details"]["evaluation"] == payload["details"]["evaluation"]
    assert data["details"]["conversation"] == payload["details"]["conversation"]
    assert data["details"]["fields"] == payload["details"]["fields"]
    assert data["group"] == "UNDER_REVIEW" and data["duration"] == 185.4 and data["error"] is None


def test_unknown_object_and_unknown_address_are_json_404(api):
    assert_error(api.get(f"{API}/participants/nope/"), 404)
    assert_error(api.get(f"{API}/no-such-thing/"), 404, code="not_found")


@pytest.mark.parametrize("url", ["/api/v1/no-such-thing/", "/api/v2/", "/api/", "/api/v1/participants/x/y/z/"])
def test_an_unknown_address_is_json_404_even_with_debug_on(api, settings, url):
    settings.DEBUG = True  # make run's setting: Django then answers its HTML debug page
    response = api.get(url)
    assert response["Content-Type"] == "application/json"
    assert_error(response, 404, code="not_found")


def test_a_missing_slash_under_api_still_redirects(api, settings):
    settings.DEBUG = True
    response = api.get(f"{API}/participants")
    assert response.status_code == 301 and response["Location"].endswith("/participants/")


# --- writes through the rules and Heify ------------------------------------------------------------


BAD_EVALUATOR = {"tag": "Support", "criteria": [
    {"name": "Greeting", "type": "boolean", "weight": 30},
    {"name": "Resolved", "type": "boolean", "weight": 50},
]}


def test_a_bad_evaluator_gets_the_same_message_as_in_the_admin(api):
    error = assert_error(api.post(f"{API}/evaluators/", BAD_EVALUATOR, format="json"), 400, field="criteria")
    assert "they sum to 80" in " ".join(error["fields"]["criteria"])
    assert not Evaluator.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({}, "tag"),
    ({"tag": "x", "criteria": "all of them"}, "criteria"),
    ({"tag": "x", "criteria": [{"name": "a", "type": "boolean", "weight": "heavy"}]}, "criteria[0].weight"),
    ({"tag": "x" * 300, "criteria": []}, "tag"),
])
def test_bad_input_names_the_field(api, body, field):
    assert_error(api.post(f"{API}/evaluators/", body, format="json"), 400, field=field)


def test_create_goes_to_heify_first(api, heify):
    body = {**BAD_EVALUATOR, "criteria": [*BAD_EVALUATOR["criteria"][:1],
                                          {"name": "Resolved", "type": "SCALE", "weight": 70},
                                          {"name": "No insults", "type": "strict", "weight": 40}]}
    response = api.post(f"{API}/evaluators/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["evaluator_id"] and data["sync"]["state"] == "synced"
    assert [c["weight"] for c in data["criteria"]] == [30, 70, 0]
    assert data["evaluator_id"] in {e["evaluator_id"] for e in heify.state.objects("evaluators")}


def test_heify_down_queues_the_change_with_202(api, heify):
    heify.state.down = True
    response = api.post(f"{API}/participants/", {"tag": "New agent", "metadata": {"team": "L1"}}, format="json")
    assert response.status_code == 202 and response.json()["data"]["sync"]["state"] == "waiting"
    assert Participant.objects.get().sync_state == "waiting"


def test_participant_put_replaces_metadata_whole_and_patch_too(api, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    url = f"{API}/participants/{participant.heify_id}/"
    response = api.put(url, {"tag": participant.tag, "metadata": {"only": "this"}}, format="json")
    assert response.status_code == 200 and response.json()["data"]["metadata"] == {"only": "this"}
    response = api.patch(url, {"metadata": {"then": "that"}}, format="json")
    assert response.json()["data"]["metadata"] == {"then": "that"}
    remote = next(p for p in heify_account.state.objects("participants") if p["participant_id"] == participant.heify_id)
    assert remote["metadata"] == {"then": "that"}


def test_non_object_metadata_is_400(api, load):
    payload = builders.participant_payload()
    load(participants=[payload])
    response = api.patch(f"{API}/participants/{payload['participant_id']}/", {"metadata": [1, 2]}, format="json")
    assert "must be a JSON object" in " ".join(assert_error(response, 400, field="metadata")["fields"]["metadata"])


def test_a_write_over_a_version_heify_has_changed_is_409(api, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    with httpx.Client(base_url=heify_account.url, headers={"x-api-key": heify_account.api_key}) as other:
        other.put(f"/participant/{participant.heify_id}",
                  json={"tag": participant.tag, "metadata": {"by": "someone else"}}).raise_for_status()
    response = api.patch(f"{API}/participants/{participant.heify_id}/", {"metadata": {"by": "me"}}, format="json")
    error = assert_error(response, 409, code="conflict")
    assert "someone else" in error["message"] and "me" in error["message"]
    participant.refresh_from_db()
    assert participant.metadata != {"by": "me"}


def test_if_match_guards_a_read_modify_write(api, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    url = f"{API}/participants/{participant.heify_id}/"
    etag = api.get(url)["ETag"]
    first = api.patch(url, {"metadata": {"step": 1}}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    assert_error(api.patch(url, {"metadata": {"step": 2}}, format="json", HTTP_IF_MATCH=etag), 412)
    assert_error(api.patch(url, {"metadata": {}}, format="json", HTTP_IF_MATCH="yesterday"), 400, field="If-Match")
    participant.refresh_from_db()
    assert participant.metadata == {"step": 1}


def test_delete_through_heify(api, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    assert api.delete(f"{API}/participants/{participant.heify_id}/").status_code == 204
    assert not Participant.objects.filter(pk=participant.pk).exists()


@pytest.mark.django_db(transaction=True)  # the push runs when the move commits, as in production
def test_transcription_group_is_the_only_thing_that_changes(api, heify_account):
    pull.pull(["transcriptions"])
    call = Transcription.objects.filter(group__isnull=True).first()
    url = f"{API}/transcriptions/{call.heify_id}/"
    response = api.patch(url, {"group": "PENDING_REVIEW"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["group"] == "PENDING_REVIEW"
    remote = next(t for t in heify_account.state.objects("transcriptions") if t["transcription_id"] == call.heify_id)
    assert remote["group"] == "PENDING_REVIEW"
    assert_error(api.patch(url, {"group": "LATER"}, format="json"), 400, field="group")
    assert api.put(url, {"group": None}, format="json").status_code == 405
    assert api.delete(url).status_code == 405


def test_analytics_answers_heifys_shape(api, load):
    participant = builders.participant_payload()
    calls = [builders.transcription_payload(participant=participant, created_at=f"2026-03-0{d}T10:00:00+00:00")
             for d in (1, 2)]
    load(participants=[participant], transcriptions=calls)
    url = f"{API}/participants/{participant['participant_id']}/analytics/"
    data = api.get(url, {"as_of": "2026-03-21"}).json()["data"]
    assert set(data) == {"metadata", "kpis", "charts", "evaluators", "criteria_breakdown", "score_distribution",
                         "comparison", "duration_insights", "trend", "degradation_alert", "raw_data"}
    assert data["kpis"]["total_calls"] == 2 and data["kpis"]["avg_score"] == 80
    assert api.get(url, {"as_of": "2026-03-01"}).json()["data"]["kpis"]["total_calls"] == 1
    assert_error(api.get(url, {"as_of": "yesterday"}), 400, field="as_of")
    assert_error(api.get(url, {"as_of": "0001-01-01"}), 400, field="as_of")
    assert_error(api.get(f"{API}/participants/unknown/analytics/"), 404)


# --- lists ---------------------------------------------------------------------------------------------


@pytest.fixture
def calls(load):
    ev1, ev2 = builders.evaluator_payload(), builders.evaluator_payload()
    p1, p2 = builders.participant_payload(), builders.participant_payload()

    def call(name, **kw):
        tx = builders.transcription_payload(evaluator=kw.pop("ev", ev1), participant=kw.pop("p", p1), name=name, **kw)
        return tx

    items = [
        call("a", group="PENDING_REVIEW", created_at="2026-03-01T10:00:00+00:00"),
        call("b", group=None, created_at="2026-03-02T10:00:00+00:00", ev=ev2),
        call("c", group="ARCHIVED", created_at="2026-03-03T10:00:00+00:00", p=p2),
        call("d", status="FAILED", details=None, error={"code": "x", "message": "bad audio"},
             created_at="2026-03-04T10:00:00+00:00"),
    ]
    items[0]["details"]["evaluation"].update(score=35, critical_fail_triggered=True)
    items[2]["details"]["evaluation"]["score"] = 95
    load(evaluators=[ev1, ev2], participants=[p1, p2], transcriptions=items)
    return {"ev2": ev2["evaluator_id"], "p2": p2["participant_id"]}


@pytest.mark.parametrize("query, names", [
    ("", {"a", "b", "c", "d"}),
    ("status=FAILED", {"d"}),
    ("group=PENDING_REVIEW", {"a"}),
    ("group=none", {"b", "d"}),
    ("evaluator={ev2}", {"b"}),
    ("participant={p2}", {"c"}),
    ("critical_fail=true", {"a"}),
    ("critical_fail=false", {"b", "c", "d"}),
    ("score_min=90", {"c"}),
    ("score_max=50", {"a"}),
    ("score_min=50&score_max=90", {"b"}),
    ("date_from=2026-03-02&date_to=2026-03-03", {"b", "c"}),
])
def test_each_transcription_filter(api, calls, query, names):
    response = api.get(f"{API}/transcriptions/?{query.format(**calls)}")
    assert response.status_code == 200
    assert {t["name"] for t in response.json()["data"]} == names


@pytest.mark.parametrize("query, field", [
    ("status=DONE", "status"), ("score_min=abc", "score_min"), ("score_max=1000", "score_max"),
    ("date_from=yesterday", "date_from"), ("group=LATER", "group"),
])
def test_bad_filters_are_400_naming_the_filter(api, calls, query, field):
    assert_error(api.get(f"{API}/transcriptions/?{query}"), 400, field=field)


@pytest.mark.parametrize("url", ["transcriptions/", "participants/", "evaluators/", "configurations/"])
@pytest.mark.parametrize("limit", ["-5", "0", "abc", "501", "1.5"])
def test_a_bad_limit_is_400_saying_what_a_limit_is(api, calls, url, limit):
    # It silently answered 100 rows (DRF's fallback to the default page size).
    error = assert_error(api.get(f"{API}/{url}", {"limit": limit}), 400, field="limit")
    assert "whole number from 1 to 500" in error["fields"]["limit"][0]
    assert limit in error["fields"]["limit"][0]


def test_a_good_limit_is_taken(api, calls):
    assert len(api.get(f"{API}/transcriptions/", {"limit": "1"}).json()["data"]) == 1
    assert len(api.get(f"{API}/transcriptions/", {"limit": "500"}).json()["data"]) == 4


@pytest.mark.parametrize("field, value", [("participant", "Priya Patel"), ("evaluator", "Customer service"),
                                          ("configuration", "not-an-id")])
def test_an_object_filter_given_a_name_is_400_asking_for_a_heify_id(api, calls, field, value):
    # A name answered an empty list, as if the agent had no calls.
    error = assert_error(api.get(f"{API}/transcriptions/", {field: value}), 400, field=field)
    assert "Heify id" in error["fields"][field][0] and value in error["fields"][field][0]


@pytest.mark.parametrize("value", ["100%", "%s", "%(value)s", "50% off"])
def test_an_unknown_id_holding_a_percent_sign_is_400_not_500(api, calls, value):
    # Found by fuzzing: the message was %-formatted with the value inside it.
    error = assert_error(api.get(f"{API}/transcriptions/", {"participant": value}), 400, field="participant")
    assert repr(value) in error["fields"]["participant"][0]


def test_a_participant_filter_given_a_tag_names_the_id_to_use(api, calls):
    participant = Participant.objects.get(heify_id=calls["p2"])
    error = assert_error(api.get(f"{API}/transcriptions/", {"participant": participant.tag}), 400,
                         field="participant")
    assert participant.heify_id in error["fields"]["participant"][0]


def test_an_id_only_calls_carry_still_filters(api, load):
    # An agent removed from the mirror still has calls under her id: the filter finds them.
    former = builders.new_id()
    load(transcriptions=[builders.transcription_payload(participant_id=former, name="old call")])
    response = api.get(f"{API}/transcriptions/", {"participant": former})
    assert [t["name"] for t in response.json()["data"]] == ["old call"]


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-45", "03/02/2026"])
def test_a_bad_date_says_the_format(api, calls, field, value):
    error = assert_error(api.get(f"{API}/transcriptions/", {field: value}), 400, field=field)
    assert "YYYY-MM-DD" in error["fields"][field][0]


def test_a_bad_as_of_says_the_format(api, load):
    payload = builders.participant_payload()
    load(participants=[payload])
    url = f"{API}/participants/{payload['participant_id']}/analytics/"
    error = assert_error(api.get(url, {"as_of": "2026-13-45"}), 400, field="as_of")
    assert "YYYY-MM-DD" in error["fields"]["as_of"][0]


def test_ordering(api, calls):
    oldest_first = api.get(f"{API}/transcriptions/?ordering=occurred_at").json()["data"]
    assert [t["name"] for t in oldest_first] == ["a", "b", "c", "d"]
    newest_first = api.get(f"{API}/transcriptions/").json()["data"]
    assert [t["name"] for t in newest_first] == ["d", "c", "b", "a"]


def test_cursor_pagination_walks_every_row_once(api, load):
    load(transcriptions=[builders.transcription_payload(name=f"call {n}",
                                                        created_at=f"2026-03-01T10:{n:02d}:00+00:00")
                         for n in range(25)])
    seen, cursor = [], None
    for _ in range(10):
        page = api.get(f"{API}/transcriptions/", {"limit": 10, **({"cursor": cursor} if cursor else {})}).json()
        seen += [t["name"] for t in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 25 == len(set(seen)) and seen[0] == "call 24"
    assert_error(api.get(f"{API}/transcriptions/", {"cursor": "garbage"}), 400, field="cursor")


def test_transcription_list_query_count_is_flat(api, load, django_assert_num_queries):
    load(transcriptions=[builders.transcription_payload() for _ in range(30)])
    # token and user, the user's tokens (knox drops expired ones), the calls calibration hides from them, page
    with django_assert_num_queries(4):
        api.get(f"{API}/transcriptions/?limit=30")


def test_evaluator_list_query_count_is_flat(api, load, django_assert_num_queries):
    load(evaluators=[builders.evaluator_payload() for _ in range(12)])
    with django_assert_num_queries(4):  # token and user, the user's tokens, page, criteria
        assert len(api.get(f"{API}/evaluators/").json()["data"]) == 12


# --- schema and docs -------------------------------------------------------------------------------------


def test_schema_and_docs_are_for_signed_in_users_only(client, api, admin_user):
    assert_error(client.get(f"{API}/schema/?format=json"), 401)
    assert client.get(f"{API}/schema/").status_code == client.get(f"{API}/docs/").status_code == 401
    assert api.get(f"{API}/schema/?format=json").status_code == 200  # a token
    client.force_login(admin_user)  # or a session
    assert client.get(f"{API}/schema/?format=json").status_code == 200


def test_schema_and_docs_are_served_without_a_cdn(client, admin_user):
    client.force_login(admin_user)
    schema = client.get(f"{API}/schema/?format=json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    docs = client.get(f"{API}/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "unpkg" not in docs


# --- found by fuzzing the schema (scripts/api_fuzz.sh) -------------------------------------------------


def forged_cursor(position, offset="0", reverse="0"):
    from base64 import b64encode
    from urllib.parse import urlencode

    return b64encode(urlencode({"o": offset, "r": reverse, "p": position}).encode()).decode()


@pytest.mark.parametrize("url, cursor", [
    ("transcriptions", "garbage"),
    ("transcriptions", "À"),
    ("participants", forged_cursor("x", offset="lots")),
    ("transcriptions", forged_cursor("yesterday")),
    ("transcriptions", forged_cursor("2026-03-01 10:00:00")),  # naive: no time zone
    ("transcriptions", forged_cursor("0001-01-01 00:00:00+05:00")),  # before year 1 in UTC
    ("participants", forged_cursor("not-a-number")),
    ("participants", forged_cursor("9" * 30)),  # beyond bigint
    ("participants", forged_cursor("1e3")),
])
def test_a_cursor_we_did_not_give_out_is_400_naming_cursor(api, calls, url, cursor):
    response = api.get(f"{API}/{url}/", {"cursor": cursor})
    assert_error(response, 400, field="cursor")


@pytest.mark.parametrize("ordering", ["tag", "-id"])
def test_a_cursor_with_a_nul_is_400_on_every_database(api, calls, ordering):
    assert_error(api.get(f"{API}/participants/", {"ordering": ordering, "cursor": forged_cursor("a\x00b")}),
                 400, field="cursor")


def test_list_filters_do_not_hide_a_call_named_by_its_id(api, load):
    payload = builders.transcription_payload()  # COMPLETED
    load(transcriptions=[payload])
    url = f"{API}/transcriptions/{payload['transcription_id']}"
    assert api.get(f"{url}/", {"status": "FAILED"}).status_code == 200
    assert api.get(f"{url}/", {"status": "AAA", "score_min": "x"}).status_code == 200
    notes = api.get(f"{url}/notes/", {"status": "FAILED", "cursor": "garbage"})
    assert notes.status_code == 200 and notes.json() == {"data": []}


def schema_of(client):
    client.force_login(User.objects.get_or_create(username="schema-reader", is_staff=True)[0])
    return client.get(f"{API}/schema/?format=json").json()


def test_the_schema_declares_the_answers_drf_gives_on_its_own(client, api, calls):
    schema = schema_of(client)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "406" in operation["responses"], (method, path)
            if method in ("post", "put", "patch"):
                assert {"413", "415"} <= set(operation["responses"]), (method, path)
    assert "400" in schema["paths"][f"{API}/participants/"]["get"]["responses"]  # a bad cursor
    assert_error(api.get(f"{API}/participants/", HTTP_ACCEPT="application/xml"), 406)
    assert_error(api.post(f"{API}/participants/", "tag=x", content_type="text/plain"), 415)
    too_big = '{"tag": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    assert_error(api.post(f"{API}/participants/", too_big, content_type="application/json"), 413)


def test_bodies_are_json_only_in_the_schema_and_in_fact(client, api, calls):
    schema = schema_of(client)
    offered = {(method, path): sorted(operation["requestBody"]["content"])
               for path, operations in schema["paths"].items() for method, operation in operations.items()
               if "requestBody" in operation}
    assert offered and set(map(tuple, offered.values())) == {("application/json",)}, offered
    participant = Participant.objects.first().heify_id
    for path in ("/auth/token/", "/participants/", f"/participants/{participant}/"):
        for body, content_type in (("username=ann&password=pw&tag=x", "application/x-www-form-urlencoded"),
                                   ("--b\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nx\r\n--b--\r\n",
                                    "multipart/form-data; boundary=b")):
            method = "PATCH" if path.endswith(f"{participant}/") else "POST"
            error = assert_error(api.generic(method, f"{API}{path}", body, content_type=content_type), 415,
                                 code="unsupported_media_type")
            assert content_type.split(";")[0] in error["message"]
    assert Participant.objects.count() == 2 and not Participant.objects.filter(tag="x").exists()


def test_the_schema_declares_the_etag_of_every_answer_that_carries_one_object(client):
    schema = schema_of(client)
    declared = {
        (method, path.removeprefix(API)): sorted(code for code, answer in operation["responses"].items()
                                                 if "ETag" in answer.get("headers", {}))
        for path, operations in schema["paths"].items() for method, operation in operations.items()
    }
    expected = {}
    for resource in ("configurations", "evaluators", "participants"):
        expected |= {("post", f"/{resource}/"): ["201", "202"], ("get", f"/{resource}/{{id}}/"): ["200"],
                     ("put", f"/{resource}/{{id}}/"): ["200", "202"], ("patch", f"/{resource}/{{id}}/"): ["200", "202"],
                     ("delete", f"/{resource}/{{id}}/"): ["202"]}
    expected |= {("get", "/transcriptions/{id}/"): ["200"], ("patch", "/transcriptions/{id}/"): ["200", "202"]}
    expected |= {("post", f"/transcriptions/{{id}}/{step}/"): ["200", "202"]
                 for step in ("claim", "release", "archive", "move")}
    assert {key: codes for key, codes in declared.items() if codes} == expected


def test_the_notes_list_is_neither_paged_nor_filtered_in_the_schema(client):
    operation = schema_of(client)["paths"][f"{API}/transcriptions/{{id}}/notes/"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["id"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    body = schema_of(client)["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert body["required"] == ["data"] and body["properties"]["data"]["type"] == "array"


@pytest.mark.parametrize("url", ["participants/a%00b/", "evaluators/%00/", "transcriptions/a%00b/",
                                 "transcriptions/a%00b/notes/", "participants/%00/analytics/"])
def test_an_id_with_a_nul_is_404_on_every_database(api, url):
    assert_error(api.get(f"{API}/{url}"), 404)  # PostgreSQL answered 500: it cannot compare a NUL


@pytest.mark.parametrize("raw, field", [
    ('{"tag": "x", "metadata": {"note": "a\\u0000b"}}', "metadata"),  # jsonb cannot hold NUL: was 500
    ('{"tag": "x", "metadata": {"a\\u0000": 1}}', "metadata"),
    ('{"tag": "x", "metadata": {"note": ["\\udfff"]}}', "metadata"),  # cannot be sent to Heify: was 500
    ('{"tag": "x", "metadata": {"\\ud800": 1}}', "metadata"),
])
def test_json_that_cannot_be_stored_or_sent_is_400(api, heify, raw, field):
    response = api.generic("POST", f"{API}/participants/", raw.encode(), content_type="application/json")
    assert_error(response, 400, field=field)
    assert not Participant.objects.exists() and not heify.state.objects("participants")


def test_evaluator_context_is_checked_the_same_way(api, heify):
    raw = '{"tag": "x", "context": {"k": "\\u0000"}, "criteria": [{"name": "a", "type": "boolean", "weight": 100}]}'
    response = api.generic("POST", f"{API}/evaluators/", raw.encode(), content_type="application/json")
    assert_error(response, 400, field="context")


def test_a_body_nested_too_deep_is_400_not_500(api):
    raw = '{"tag": "x", "metadata": {"k": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    response = api.generic("POST", f"{API}/participants/", raw.encode(), content_type="application/json")
    assert_error(response, 400, code="parse_error")
    token = APIClient().generic("POST", f"{API}/auth/token/", ("[" * 100_000).encode(),
                                content_type="application/json")
    assert_error(token, 400, code="parse_error")


def test_schema_summaries_read_as_english(admin_client):
    summaries = [op["summary"] for path in admin_client.get(f"{API}/schema/?format=json").json()["paths"].values()
                 for op in path.values() if isinstance(op, dict) and "summary" in op]
    assert "Create an evaluator (in Heify first)" in summaries and "Read a participant" in summaries
    assert not [summary for summary in summaries if " a evaluator" in summary]


def test_schema_says_what_a_limit_is(admin_client):
    schema = admin_client.get(f"{API}/schema/?format=json").json()
    limit = next(p for p in schema["paths"]["/api/v1/transcriptions/"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}
    participant = next(p for p in schema["paths"]["/api/v1/transcriptions/"]["get"]["parameters"]
                       if p["name"] == "participant")
    assert "Heify id" in participant["description"]
