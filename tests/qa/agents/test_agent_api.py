"""The agents' API: who am I, an agent's own calls, acknowledging a review, and linking an account."""

import pytest

from qa.audit import AuditEvent
from qa.insights import team
from qa.mirror.models import Participant
from qa.reviews.models import ReviewAcknowledgement
from tests.builders import person
from tests.qa.agents.conftest import review
from tests.qa.reviews.test_queues import api_for
from tests.qa.test_api import assert_error

pytestmark = pytest.mark.django_db


def test_me_says_who_is_signed_in_and_their_participant(agents):
    users, _calls = agents
    ana = Participant.objects.get(tag="Ana")
    assert api_for(users["ana"]).get("/api/v1/me/").json() == {"data": {
        "username": "ana", "roles": ["Agent"], "participant": {"id": ana.heify_id, "tag": "Ana"}}}
    assert api_for(users["max"]).get("/api/v1/me/").json()["data"] == {
        "username": "max", "roles": ["QA manager"], "participant": None}
    assert api_for(users["bo"]).get("/api/v1/me/").json()["data"]["participant"] is None


def test_an_agent_lists_their_own_calls_newest_first_reviewed_or_not(agents, django_assert_max_num_queries):
    users, calls = agents
    client = api_for(users["ana"])
    # The token and its user, their permissions, their participant, the page, its verdicts, the calls they score
    # blind (none), and the evaluator revisions: as many for a page of 100 calls.
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/me/transcriptions/").json()
    assert [c["name"] for c in body["data"]] == ["ana-new.mp3", "ana-old.mp3"]  # nothing of Ben's
    new, old = body["data"]
    assert old["review"] is None and old["acknowledged"] is False
    assert new["review"]["score"] == 60.0 and new["review"]["reviewed_by"] == "max"
    assert new["reviewer_reasons"] == {"Resolved": "The customer called back the next day."}
    assert [c["name"] for c in client.get("/api/v1/me/transcriptions/?limit=1").json()["data"]] == ["ana-new.mp3"]
    assert api_for(users["bo"]).get("/api/v1/me/transcriptions/").json() == {"data": [], "next_cursor": None}
    assert_error(api_for(users["max"]).get("/api/v1/me/transcriptions/"), 403)
    assert_error(api_for(person("rita", "Reviewer")).get("/api/v1/me/transcriptions/"), 403)


def test_an_agent_is_refused_everyone_elses_objects(agents):
    users, calls = agents
    client = api_for(users["ana"])
    for address in ("/api/v1/transcriptions/", f"/api/v1/transcriptions/{calls['ana-new.mp3'].heify_id}/",
                    "/api/v1/participants/", "/api/v1/transcriptions/?format=csv",
                    "/api/v1/participants/?format=xlsx"):
        assert client.get(address).status_code == 403, address


def test_acknowledging_is_the_own_agents_idempotent_and_asked_again_after_a_new_verdict(agents):
    users, calls = agents
    client, new = api_for(users["ana"]), calls["ana-new.mp3"]
    url = f"/api/v1/transcriptions/{new.heify_id}/acknowledge/"
    answer = client.post(url)
    assert answer.status_code == 200 and answer.json()["data"]["acknowledged"] is True
    assert client.post(url).status_code == 200
    assert AuditEvent.objects.filter(action="acknowledge").count() == 1  # idempotent: one row
    row = AuditEvent.objects.get(action="acknowledge")
    assert (row.actor, row.object_id) == (users["ana"], new.pk)
    assert_error(client.post(f"/api/v1/transcriptions/{calls['ana-old.mp3'].heify_id}/acknowledge/"), 400)
    assert_error(client.post(f"/api/v1/transcriptions/{calls['ben.mp3'].heify_id}/acknowledge/"), 404)
    assert_error(client.post("/api/v1/transcriptions/nope/acknowledge/"), 404)
    assert_error(api_for(users["max"]).post(url), 403)
    # A later change of the score of record: the review is unacknowledged again, until acknowledged anew.
    rows = {row["tag"]: row for row in team.team_overview()}
    assert (rows["Ana"]["unacknowledged_reviews"], rows["Ben"]["unacknowledged_reviews"]) == (0, None)
    review(new, users["max"], Greeting=(False, "Said nothing first."))
    assert {row["tag"]: row for row in team.team_overview()}["Ana"]["unacknowledged_reviews"] == 1
    assert client.get("/api/v1/me/transcriptions/").json()["data"][0]["acknowledged"] is False
    assert client.post(url).status_code == 200
    assert ReviewAcknowledgement.objects.count() == 1 and AuditEvent.objects.filter(action="acknowledge").count() == 2
    assert {row["tag"]: row for row in team.team_overview()}["Ana"]["unacknowledged_reviews"] == 0


def test_a_manager_links_and_unlinks_through_the_api(agents):
    users, _calls = agents
    ben = Participant.objects.get(tag="Ben")
    url = f"/api/v1/participants/{ben.heify_id}/agent/"
    manager = api_for(users["max"])
    assert manager.put(url, {"username": "bo"}, format="json").json() == {
        "data": {"participant_id": ben.heify_id, "username": "bo"}}
    assert Participant.objects.get(tag="Ben").agent_user == users["bo"]
    error = assert_error(manager.put(url, {"username": "ana"}, format="json"), 400, field="username")
    assert "Ben is already linked to bo" in str(error["fields"]["username"])
    assert_error(manager.put(url, {}, format="json"), 400, field="username")
    assert_error(manager.put("/api/v1/participants/nobody/agent/", {"username": "bo"}, format="json"), 404)
    assert_error(api_for(person("rita", "Reviewer")).put(url, {"username": "bo"}, format="json"), 403)
    assert_error(api_for(users["ana"]).delete(url), 403)
    assert manager.delete(url).json()["data"]["username"] is None
    assert Participant.objects.get(tag="Ben").agent_user is None


def test_options_on_the_agents_endpoints_describe_them(agents):
    # schemathesis found OPTIONS acknowledge/ answering 500: a POST view DRF's metadata describes needs a serializer.
    users, calls = agents
    api = api_for(users["ana"])
    for url in ("/api/v1/me/", "/api/v1/me/transcriptions/",
                f"/api/v1/transcriptions/{calls['ana-new.mp3'].heify_id}/acknowledge/"):
        assert api.options(url).status_code == 200, url
