"""Coaching sessions: a QA manager opens one for an agent on their own calls and their evaluators' criteria, the
agent sees and acknowledges it, its completion is recorded; each problem is named, each write audited; the API and
the admin go through the same services."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.agents import services as agents
from qa.audit import AuditEvent
from qa.mirror.models import Participant, Transcription
from qa.reviews import coaching
from qa.reviews.models import CoachingSession
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

API = "/api/v1/coaching/"


@pytest.fixture
def world(load):
    ev = builders.evaluator_payload(tag="Support")
    other_ev = builders.evaluator_payload(tag="Sales", criteria=[
        {"id": builders.new_id(), "name": "Upsell offered", "description": "?", "type": "BOOLEAN", "weight": 100}])
    ana, ben = builders.participant_payload(tag="Ana"), builders.participant_payload(tag="Ben")
    calls = [builders.transcription_payload(evaluator=ev, participant=ana, name="ana-1.mp3"),
             builders.transcription_payload(evaluator=ev, participant=ana, name="ana-2.mp3"),
             builders.transcription_payload(evaluator=other_ev, participant=ben, name="ben-1.mp3")]
    load(evaluators=[ev, other_ev], participants=[ana, ben], transcriptions=calls)
    max_ = person("max", "QA manager")
    people = {"max": max_, "ana": person("ana", "Agent"), "bo": person("bo", "Agent"),
              "rita": person("rita", "Reviewer")}
    agents.agent_link(participant_id=Participant.objects.get(tag="Ana").pk, username="ana", acting_user=max_)
    agents.agent_link(participant_id=Participant.objects.get(tag="Ben").pk, username="bo", acting_user=max_)
    return {
        "people": people, "Ana": Participant.objects.get(tag="Ana"), "Ben": Participant.objects.get(tag="Ben"),
        "calls": {call.name: call for call in Transcription.objects.all()},
    }


def soon(days=7):
    return timezone.localdate() + timedelta(days=days)


def open_session(world, **overrides):
    fields = {"participant_id": world["Ana"].pk, "calls": [world["calls"]["ana-1.mp3"]],
              "focus_criteria": ["Greeting"], "notes": "Open with the company's name.",
              "action_items": ["Listen to two model calls"], "due_date": soon(), "acting_user": world["people"]["max"]}
    return coaching.coaching_create(**{**fields, **overrides})


def test_a_manager_opens_a_session_and_the_trail_records_it(world):
    session = open_session(world)
    assert session.participant == world["Ana"] and list(session.calls.all()) == [world["calls"]["ana-1.mp3"]]
    assert session.created_by == world["people"]["max"] and session.held_at is not None
    assert session.focus_criteria == ["Greeting"] and session.action_items == ["Listen to two model calls"]
    row = AuditEvent.objects.get(action="coaching_create")
    assert row.object_type == "qa.coachingsession" and row.actor == world["people"]["max"]
    assert row.after["participant"] == "Ana" and row.after["focus_criteria"] == ["Greeting"]
    assert row.after["calls"] == [world["calls"]["ana-1.mp3"].heify_id]


@pytest.mark.parametrize("overrides, field, words", [
    ({"calls": "ben"}, "calls", "These calls are not Ana's: ben-1.mp3"),
    ({"focus_criteria": ["Greeting", "Upsell offered", "Empathy"]}, "focus_criteria",
     "Ana's evaluators have no criterion called 'Upsell offered', 'Empathy'"),
    ({"focus_criteria": ["Greeting", "Greeting"]}, "focus_criteria", "names 'Greeting' twice"),
    ({"due_date": "past"}, "due_date", "is in the past"),
    ({"notes": "x" * (coaching.NOTES_MAX_LENGTH + 1)}, "notes", f"at most {coaching.NOTES_MAX_LENGTH} characters"),
    ({"notes": "a\x00b"}, "notes", "null characters"),
    ({"action_items": ["y" * (coaching.ACTION_ITEM_MAX_LENGTH + 1)]}, "action_items",
     f"at most {coaching.ACTION_ITEM_MAX_LENGTH} characters"),
    ({"action_items": ["ok", "  "]}, "action_items", "action_items[1] is blank"),
    ({"action_items": ["a"] * (coaching.ACTION_ITEMS_MAX + 1)}, "action_items",
     f"at most {coaching.ACTION_ITEMS_MAX} items"),
    ({"held_at": "future"}, "held_at", "in the future"),
])
def test_each_problem_is_named_and_nothing_is_written(world, overrides, field, words):
    values = {"ben": [world["calls"]["ben-1.mp3"], world["calls"]["ana-2.mp3"]],
              "past": timezone.localdate() - timedelta(days=1), "future": timezone.now() + timedelta(days=1)}
    overrides = {k: values.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    with pytest.raises(ValidationError) as refused:
        open_session(world, **overrides)
    assert words in " ".join(refused.value.message_dict[field])
    assert not CoachingSession.objects.exists() and not AuditEvent.objects.filter(action__startswith="coaching")


def test_only_managers_open_and_change_sessions(world):
    for name in ("ana", "rita"):
        with pytest.raises(PermissionDenied):
            open_session(world, acting_user=world["people"][name])
    session = open_session(world)
    with pytest.raises(PermissionDenied):
        coaching.coaching_change(session_id=session.pk, acting_user=world["people"]["ana"], notes="mine now")


def test_a_change_is_audited_with_what_changed_and_a_completed_session_is_fixed(world):
    session = open_session(world)
    coaching.coaching_change(session_id=session.pk, acting_user=world["people"]["max"],
                             calls=[world["calls"]["ana-2.mp3"]], action_items=["Use the greeting script"])
    row = AuditEvent.objects.get(action="coaching_change")
    assert row.before == {"calls": [world["calls"]["ana-1.mp3"].heify_id],
                          "action_items": ["Listen to two model calls"]}
    assert row.after == {"calls": [world["calls"]["ana-2.mp3"].heify_id], "action_items": ["Use the greeting script"]}
    coaching.coaching_complete(session_id=session.pk, acting_user=world["people"]["max"])
    with pytest.raises(ValidationError, match="can no longer be changed"):
        coaching.coaching_change(session_id=session.pk, acting_user=world["people"]["max"], notes="later")


def test_a_past_due_date_the_session_had_may_stay_on_a_change(world):
    session = open_session(world)
    CoachingSession.objects.filter(pk=session.pk).update(due_date=timezone.localdate() - timedelta(days=3))
    coaching.coaching_change(session_id=session.pk, acting_user=world["people"]["max"], notes="still due")
    with pytest.raises(ValidationError, match="in the past"):
        coaching.coaching_change(session_id=session.pk, acting_user=world["people"]["max"],
                                 due_date=timezone.localdate() - timedelta(days=1))


def test_the_agent_acknowledges_their_own_session_once(world):
    session = open_session(world)
    for name in ("max", "bo"):
        with pytest.raises(PermissionDenied, match="Only the agent coached"):
            coaching.coaching_acknowledge(session_id=session.pk, acting_user=world["people"][name])
    first = coaching.coaching_acknowledge(session_id=session.pk, acting_user=world["people"]["ana"]).acknowledged_at
    again = coaching.coaching_acknowledge(session_id=session.pk, acting_user=world["people"]["ana"]).acknowledged_at
    assert first is not None and again == first
    assert AuditEvent.objects.filter(action="coaching_acknowledge", actor=world["people"]["ana"]).count() == 1


def test_a_manager_or_the_agent_completes_it_and_who_is_recorded(world):
    by_agent, by_manager = open_session(world), open_session(world)
    with pytest.raises(PermissionDenied):
        coaching.coaching_complete(session_id=by_agent.pk, acting_user=world["people"]["bo"])
    coaching.coaching_complete(session_id=by_agent.pk, acting_user=world["people"]["ana"])
    coaching.coaching_complete(session_id=by_manager.pk, acting_user=world["people"]["max"])
    by_agent.refresh_from_db(), by_manager.refresh_from_db()
    assert by_agent.completed_by == world["people"]["ana"] and by_manager.completed_by == world["people"]["max"]
    rows = {row.actor.username: row.after["as"] for row in AuditEvent.objects.filter(action="coaching_complete")}
    assert rows == {"ana": "agent", "max": "QA manager"}


def test_coaching_for_and_who_sees_which(world):
    ana_session = open_session(world)
    ben_session = open_session(world, participant_id=world["Ben"].pk, calls=[world["calls"]["ben-1.mp3"]],
                               focus_criteria=["Upsell offered"])
    assert list(coaching.coaching_for(world["Ana"])) == [ana_session]
    people = world["people"]
    assert set(coaching.sessions_visible_to(people["max"])) == {ana_session, ben_session}
    assert list(coaching.sessions_visible_to(people["ana"])) == [ana_session]
    assert list(coaching.sessions_visible_to(people["rita"])) == []
    assert coaching.criteria_of(world["Ana"]) == ["Greeting", "No offensive language", "Issue resolved"]


# --- the API -------------------------------------------------------------------------------------------------


def api_as(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def body(world, **overrides):
    return {"participant": world["Ana"].heify_id, "calls": [world["calls"]["ana-1.mp3"].heify_id],
            "focus_criteria": ["Greeting"], "notes": "Say the company's name.", "action_items": ["Listen back"],
            "due_date": soon().isoformat(), **overrides}


def test_the_api_opens_lists_reads_acknowledges_and_completes(world):
    people = world["people"]
    created = api_as(people["max"]).post(API, body(world), format="json")
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert data["participant"] == world["Ana"].heify_id and data["participant_tag"] == "Ana"
    assert data["calls"] == [world["calls"]["ana-1.mp3"].heify_id] and data["created_by"] == "max"
    assert data["acknowledged_at"] is None and data["completed_by"] is None
    pk = data["id"]
    ana, bo = api_as(people["ana"]), api_as(people["bo"])
    assert [s["id"] for s in ana.get(API).json()["data"]] == [pk]
    assert bo.get(API).json()["data"] == []
    assert bo.get(f"{API}{pk}/").status_code == 404
    assert bo.post(f"{API}{pk}/acknowledge/").status_code == 404
    assert api_as(people["max"]).post(f"{API}{pk}/acknowledge/").status_code == 403
    acknowledged = ana.post(f"{API}{pk}/acknowledge/")
    assert acknowledged.status_code == 200 and acknowledged.json()["data"]["acknowledged_at"]
    completed = ana.post(f"{API}{pk}/complete/")
    assert completed.status_code == 200 and completed.json()["data"]["completed_by"] == "ana"
    listed = api_as(people["max"]).get(API, {"participant": world["Ben"].heify_id})
    assert listed.status_code == 200 and listed.json()["data"] == []
    assert api_as(people["max"]).get(f"{API}{pk}/").json()["data"]["completed_at"]


def test_the_api_refuses_others_and_names_bad_input(world):
    people = world["people"]
    assert APIClient().get(API).status_code == 401
    assert api_as(people["rita"]).get(API).status_code == 403
    assert api_as(people["ana"]).post(API, body(world), format="json").status_code == 403
    manager = api_as(people["max"])
    bad = manager.post(API, body(world, participant="nobody"), format="json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["participant"] == ["No participant has this id."]
    bad = manager.post(API, body(world, calls=["no-such-call"]), format="json")
    assert bad.status_code == 400 and "No call has the id 'no-such-call'" in bad.json()["error"]["message"]
    bad = manager.post(API, body(world, calls=[world["calls"]["ben-1.mp3"].heify_id], focus_criteria=["Empathy"],
                                 due_date="2020-01-01"), format="json")
    assert bad.status_code == 400
    fields = bad.json()["error"]["fields"]
    assert set(fields) == {"calls", "focus_criteria", "due_date"}
    assert "not Ana's: ben-1.mp3" in fields["calls"][0] and "'Empathy'" in fields["focus_criteria"][0]
    assert not CoachingSession.objects.exists()
    assert manager.get(f"{API}999999/").status_code == 404


# --- the admin -----------------------------------------------------------------------------------------------


def test_managers_open_a_session_in_the_admin_and_agents_are_kept_out(world, client):
    people = world["people"]
    client.force_login(people["max"])
    page = client.post("/admin/qa/coachingsession/add/", {
        "participant": world["Ana"].pk, "held_at_0": "2026-03-10", "held_at_1": "10:00:00",
        "calls": [world["calls"]["ana-2.mp3"].pk], "focus_criteria": "Greeting\nIssue resolved\n",
        "notes": "n", "action_items": "One\n\nTwo", "due_date": soon().isoformat()})
    assert page.status_code == 302, page.content.decode()[:3000]
    session = CoachingSession.objects.get()
    assert session.focus_criteria == ["Greeting", "Issue resolved"] and session.action_items == ["One", "Two"]
    assert AuditEvent.objects.filter(action="coaching_create", actor=people["max"]).exists()
    listing = client.get("/admin/qa/coachingsession/")
    assert listing.status_code == 200 and "Ana" in listing.content.decode()
    refused = client.post(f"/admin/qa/coachingsession/{session.pk}/change/", {
        "held_at_0": "2026-03-10", "held_at_1": "10:00:00", "calls": [world["calls"]["ben-1.mp3"].pk],
        "focus_criteria": "Upsell offered", "notes": "n", "action_items": "", "due_date": soon().isoformat()})
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "not Ana&#x27;s: ben-1.mp3" in text and "no criterion called &#x27;Upsell offered&#x27;" in text
    client.force_login(people["ana"])
    assert client.get("/admin/qa/coachingsession/").status_code == 403
    assert client.get(f"/admin/qa/coachingsession/{session.pk}/change/").status_code in (302, 403)


def test_the_agent_sees_their_sessions_on_their_page_and_acknowledges_them_there(world, client):
    session = open_session(world, action_items=["Listen to two model calls", "Greet with the company's name"])
    address = f"/admin/me/coaching/{session.pk}/acknowledge/"
    for name in ("max", "rita"):
        client.force_login(world["people"][name])
        assert client.post(address).status_code == 403
    client.force_login(world["people"]["bo"])
    assert client.post(address).status_code == 404  # another agent's: as if there were none
    assert "agent-coaching" not in client.get("/admin/me/").content.decode()  # bo has none
    client.force_login(world["people"]["ana"])
    page = client.get("/admin/me/").content.decode()
    section = page.split('data-testid="agent-coaching"')[1].split("</section>")[0]
    assert "Greet with the company&#x27;s name" in section and 'data-testid="coaching-acknowledge"' in section
    assert "Greeting" in section and session.due_date.isoformat() in section
    assert client.get(address).status_code == 405
    done = client.post(address)
    assert done.status_code == 302 and done["Location"] == f"/admin/me/#coaching-{session.pk}"
    session.refresh_from_db()
    assert session.acknowledged_at is not None
    page = client.get("/admin/me/").content.decode()
    assert 'data-testid="coaching-acknowledge"' not in page and "acknowledged</span>" in page
