"""The audit trail (qa/audit.py, qa/reviews/admin/audit.py): each write through a service leaves exactly its row,
from the admin, the API and the jobs alike; a refused write leaves none; the Audit log lists, filters, searches and
exports the rows for QA managers only; an object's History page shows its own."""

import csv
import io
import json

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.tasks import async_task
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.audit import AuditEvent
from qa.mirror import services
from qa.mirror.models import Configuration, Evaluator, Participant, Transcription
from qa.reviews import calibration, queues
from qa.reviews.models import CalibrationSession
from syncer import pull
from tests import builders
from tests.builders import person
from tests.qa.mirror.test_admin_editing import configuration_form, evaluator_form, rows_of

pytestmark = pytest.mark.django_db

API = "/api/v1"
LIST = "/admin/qa/auditevent/"


@pytest.fixture
def max_(db):
    return person("max", "QA manager")


@pytest.fixture
def ann(db):
    return person("ann", "Reviewer")


def api_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def rows():
    return list(AuditEvent.objects.order_by("id"))


def change_url(obj):
    return reverse(f"admin:qa_{type(obj)._meta.model_name}_change", args=[obj.pk])


# --- admin writes ----------------------------------------------------------------------------------------------


def test_an_evaluator_created_in_the_admin_leaves_one_row_and_its_revision_names_the_author(client, heify, max_):
    client.force_login(max_)
    response = client.post(reverse("admin:qa_evaluator_add"), evaluator_form(criteria=[
        {"name": "Greeting", "type": "boolean", "weight": "30", "description": "Hello?"},
        {"name": "Resolved", "type": "scale", "weight": "70", "description": "Fixed?"},
    ]), HTTP_X_REQUEST_ID="req-admin-1")
    assert response.status_code == 302
    evaluator = Evaluator.objects.get()
    [event] = rows()
    assert (event.actor, event.actor_label, event.action, event.object_type, event.object_id, event.request_id) == (
        max_, "max", "create", "qa.evaluator", evaluator.pk, "req-admin-1")
    assert event.before == {}
    assert event.after == {
        "tag": "Support QA", "description": "", "language": "en", "context": None,
        "criteria": [{"name": "Greeting", "description": "Hello?", "type": "boolean", "weight": 30.0},
                     {"name": "Resolved", "description": "Fixed?", "type": "scale", "weight": 70.0}],
    }
    assert evaluator.revisions.get().author == max_


def test_an_admin_edit_keeps_only_the_fields_it_changed(client, heify_account, max_):
    pull.pull(["evaluators", "participants"])
    client.force_login(max_)
    participant = Participant.objects.first()
    old = participant.metadata
    response = client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"shift": "night"}), "based_on_version": participant.version,
    }, HTTP_X_REQUEST_ID="req-admin-2")
    assert response.status_code == 302
    [event] = rows()
    assert (event.action, event.object_id, event.heify_id, event.request_id) == (
        "update", participant.pk, participant.heify_id, "req-admin-2")
    assert (event.before, event.after) == ({"metadata": old}, {"metadata": {"shift": "night"}})

    evaluator = Evaluator.objects.filter(criteria__type="boolean").first()
    first = evaluator.criteria.order_by("position").first()
    criteria = rows_of(evaluator, **{first.name: {"description": "Said hello by name?"}})
    response = client.post(change_url(evaluator), evaluator_form(
        criteria=criteria, version=evaluator.version, initial=len(criteria), tag=evaluator.tag,
        description=evaluator.description, language=evaluator.language,
        context=json.dumps(evaluator.context)))
    assert response.status_code == 302
    event = rows()[-1]
    assert (event.action, event.object_type, set(event.before), set(event.after)) == (
        "update", "qa.evaluator", {"criteria"}, {"criteria"})
    assert [c["description"] for c in event.after["criteria"]][0] == "Said hello by name?"
    assert [c["description"] for c in event.before["criteria"]][0] == first.description
    assert evaluator.revisions.order_by("-number").first().author == max_


def test_a_configuration_row_never_holds_the_webhook_secret(client, max_, settings):
    client.force_login(max_)
    secret_url = f"https://qa.example.com/webhooks/heify/{settings.HEIFY_WEBHOOK_SECRET}/success/"
    response = client.post(reverse("admin:qa_configuration_add"),
                           configuration_form(webhook_success_url=secret_url))
    assert response.status_code == 302  # Heify is down here: kept, waiting
    [event] = rows()
    assert event.object_id == Configuration.objects.get().pk
    assert event.after["webhook_success_url"] == "https://qa.example.com/webhooks/heify/••••••/success/"
    assert settings.HEIFY_WEBHOOK_SECRET not in json.dumps(event.after)


def test_a_deletion_through_the_admin_is_recorded_with_what_was_deleted(client, heify_account, max_):
    pull.pull(["participants"])
    client.force_login(max_)
    participant = Participant.objects.first()
    response = client.post(reverse("admin:qa_participant_delete", args=[participant.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Participant.objects.filter(pk=participant.pk).exists()
    [event] = rows()
    assert (event.action, event.object_id, event.heify_id, event.actor) == (
        "delete", participant.pk, participant.heify_id, max_)
    assert event.before == {"tag": participant.tag, "metadata": participant.metadata} and event.after == {}


def test_review_steps_in_the_admin_each_leave_their_row(client, load, ann):
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW")])
    call = Transcription.objects.get()
    client.force_login(ann)
    steps = [("claim", {}), ("note", {"note": "Listen from 1:20"}),
             ("verdict", {"criterion": "Greeting", "agrees": "no", "reason": "It was said"}),
             ("release", {"note": "Not mine"})]
    for step, data in steps:
        response = client.post(f"/admin/qa/reviewitem/{call.pk}/review/{step}/", data, HTTP_X_REQUEST_ID=f"r-{step}")
        assert response.status_code == 302, step
    found = [(e.action, e.actor, e.request_id, e.before, e.after) for e in rows()]
    assert found == [
        ("claim", ann, "r-claim", {"group": "PENDING_REVIEW", "assigned_to": None},
         {"group": "UNDER_REVIEW", "assigned_to": "ann"}),
        ("note", ann, "r-note", {}, {"note": "Listen from 1:20"}),
        ("verdict", ann, "r-verdict", {}, {"verdict": {"criterion": "Greeting", "agrees": False, "passed": True,
                                                       "value": None, "reason": "It was said", "reviewer": "ann",
                                                       "as_manager": False}}),
        ("release", ann, "r-release", {"group": "UNDER_REVIEW", "assigned_to": "ann"},
         {"group": "PENDING_REVIEW", "assigned_to": None, "note": "Not mine"}),
    ]
    assert {(e.object_type, e.object_id, e.heify_id) for e in rows()} == {
        ("qa.transcription", call.pk, call.heify_id)}


def test_a_bulk_move_leaves_one_row_per_call_moved_and_one_insert_each(client, load, max_):
    load(transcriptions=[builders.transcription_payload(name=f"call {n}") for n in range(3)])
    client.force_login(max_)
    ids = list(Transcription.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        client.post("/admin/qa/transcription/", {"action": "move_to_pending", "_selected_action": ids})
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "qa_auditevent"')]
    assert len(inserts) == 3
    assert sorted((e.object_id, e.action, e.after["group"]) for e in rows()) == [
        (pk, "move", "PENDING_REVIEW") for pk in sorted(ids)]


def test_a_session_set_up_changed_and_closed_in_the_admin_is_recorded(client, load, max_, ann):
    load(transcriptions=[builders.transcription_payload()])
    bob = person("bob", "Reviewer")
    client.force_login(max_)
    call = Transcription.objects.get()
    response = client.post(reverse("admin:qa_calibrationsession_add"), {
        "name": "April", "calls": [call.pk], "reviewers": [ann.pk, bob.pk]})
    assert response.status_code == 302
    session = CalibrationSession.objects.get()
    assert session.created_by == max_ and set(session.reviewers.all()) == {ann, bob}
    response = client.post(reverse("admin:qa_calibrationsession_change", args=[session.pk]), {
        "name": "April, week 1", "calls": [call.pk], "reviewers": [ann.pk, bob.pk]})
    assert response.status_code == 302
    client.post(reverse("admin:qa_calibrationsession_results", args=[session.pk]))
    assert [(e.action, e.object_type, e.object_id, e.actor) for e in rows()] == [
        ("session_create", "qa.calibrationsession", session.pk, max_),
        ("update", "qa.calibrationsession", session.pk, max_),
        ("session_close", "qa.calibrationsession", session.pk, max_)]
    assert rows()[0].after == {"name": "April", "calls": [call.pk], "reviewers": ["ann", "bob"], "expert": None}
    assert (rows()[1].before, rows()[1].after) == ({"name": "April"}, {"name": "April, week 1"})


def test_a_raters_answers_are_counted_never_copied(load, max_, ann):
    load(transcriptions=[builders.transcription_payload()])
    call = Transcription.objects.get()
    session = calibration.calibration_session_create(name="S", calls=[call], reviewers=[ann, person("bob", "Reviewer")],
                                                     acting_user=max_)
    answers = {(call.pk, name): True for name in calibration.call_criteria(call)}
    calibration.calibration_answers_save(session=session, rater=ann, answers=answers, submit=True)
    event = rows()[-1]
    assert (event.action, event.actor, event.before, event.after) == ("answers_submit", ann, {}, {"answers": 3})


# --- API writes ---------------------------------------------------------------------------------------------


def test_api_writes_leave_their_rows_with_the_request_id(heify_account, max_):
    pull.pull(["participants", "evaluators", "transcriptions"])
    api = api_for(max_)
    participant = Participant.objects.first()
    url = f"{API}/participants/{participant.heify_id}/"
    response = api.patch(url, {"metadata": {"team": "L2"}}, format="json", HTTP_X_REQUEST_ID="req-api-1")
    assert response.status_code == 200 and response["X-Request-ID"] == "req-api-1"
    [event] = rows()
    assert (event.actor, event.action, event.object_id, event.request_id, event.after) == (
        max_, "update", participant.pk, "req-api-1", {"metadata": {"team": "L2"}})

    call = Transcription.objects.filter(group__isnull=True).first()
    response = api.post(f"{API}/transcriptions/{call.heify_id}/move/", {"group": "ARCHIVED"}, format="json",
                        HTTP_X_REQUEST_ID="req-api-2")
    assert response.status_code in (200, 202)
    event = rows()[-1]
    assert (event.action, event.object_id, event.request_id, event.before["group"], event.after["group"]) == (
        "move", call.pk, "req-api-2", None, "ARCHIVED")


def test_the_api_revisions_name_their_author(heify, max_):
    api = api_for(max_)
    body = {"tag": "Support QA", "description": "", "language": "en", "criteria": [
        {"name": "Greeting", "type": "boolean", "weight": 30}, {"name": "Resolved", "type": "boolean", "weight": 70}]}
    created = api.post(f"{API}/evaluators/", body, format="json")
    assert created.status_code == 201, created.content
    evaluator_id = created.json()["data"]["evaluator_id"]
    [revision] = api.get(f"{API}/evaluators/{evaluator_id}/revisions/").json()["data"]
    assert revision["author"] == "max" and revision["number"] == 1
    [event] = rows()
    assert (event.action, event.object_type, event.actor) == ("create", "qa.evaluator", max_)


# --- refused writes leave nothing ----------------------------------------------------------------------------


def test_a_write_our_rules_refuse_leaves_no_row(client, heify_account, max_, ann):
    pull.pull(["participants", "transcriptions"])
    client.force_login(max_)
    response = client.post(reverse("admin:qa_evaluator_add"), evaluator_form(criteria=[
        {"name": "Greeting", "type": "boolean", "weight": "30"},
        {"name": "Resolved", "type": "boolean", "weight": "50"}]))
    assert response.status_code == 200 and "they sum to 80" in response.content.decode()
    participant = Participant.objects.first()
    stale = api_for(max_).patch(f"{API}/participants/{participant.heify_id}/", {"metadata": {}}, format="json",
                                HTTP_IF_MATCH=f'"{participant.version + 5}"')
    assert stale.status_code == 412
    call = Transcription.objects.filter(group__isnull=True).first()
    queues.transcription_claim(transcription_id=call.pk, reviewer=max_)
    AuditEvent.objects.all().delete()
    client.force_login(ann)
    response = client.post(f"/admin/qa/reviewitem/{call.pk}/review/release/", {"note": "not yours"})
    assert response.status_code == 302 and Transcription.objects.get(pk=call.pk).assigned_to == max_
    assert rows() == []


def test_a_write_heify_refuses_leaves_no_row(client, heify_account, max_):
    pull.pull(["evaluators", "participants"])
    client.force_login(max_)
    evaluator = Evaluator.objects.first()
    heify_account.state.delete("evaluators", evaluator.heify_id)  # gone from Heify meanwhile
    criteria = rows_of(evaluator)
    response = client.post(change_url(evaluator), evaluator_form(
        criteria=criteria, version=evaluator.version, initial=len(criteria), description="Mine"))
    assert response.status_code == 200 and "Heify refused the change" in response.content.decode()
    participant = Participant.objects.first()
    with httpx.Client(base_url=heify_account.url, headers={"x-api-key": heify_account.api_key}) as other:
        other.put(f"/participant/{participant.heify_id}",
                  json={"tag": participant.tag, "metadata": {"team": "changed in Heify"}}).raise_for_status()
    response = client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"team": "changed here"}),
        "based_on_version": participant.version})
    assert "changed in Heify since the version you edited" in response.content.decode()
    assert rows() == []


# --- jobs ---------------------------------------------------------------------------------------------------


def test_claim_expiry_leaves_a_row_with_no_actor_naming_the_job(load, ann):
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW")])
    call = Transcription.objects.get()
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    Transcription.objects.update(review_touched_at="2026-01-01T00:00:00Z")
    async_task("qa.reviews.tasks.release_expired_claims")  # inline in tests, through django-q2's worker code
    event = rows()[-1]
    assert (event.actor, event.actor_label, event.action) == (None, "job: claim expiry", "expire")
    assert event.request_id.startswith("job-")
    assert (event.before, event.after["group"], event.after["assigned_to"]) == (
        {"group": "UNDER_REVIEW", "assigned_to": "ann"}, "PENDING_REVIEW", None)


# --- the Audit log ------------------------------------------------------------------------------------------


@pytest.fixture
def trail(load, max_, ann):
    """Two calls, each claimed by ann, one also noted by max; a participant saved by max (Heify down: waiting)."""
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW", name=f"call {n}") for n in range(2)],
         participants=[builders.participant_payload(metadata={"team": "Support"})])
    first, second = Transcription.objects.order_by("pk")
    for call in (first, second):
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_note(transcription_id=first.pk, author=max_, text="=SUM(A1:A2) looks odd")
    participant = Participant.objects.get()
    services.participant_save(participant=participant, data={"tag": participant.tag, "metadata": {"x": 1}},
                              acting_user=max_)
    return first, second, participant



def listed(client, **query):
    response = client.get(LIST, query)
    assert response.status_code == 200
    return [(e.action, e.object_id) for e in response.context["cl"].result_list]


def test_the_audit_log_filters_and_searches(client, trail, max_, ann):
    first, second, participant = trail
    client.force_login(max_)
    assert len(listed(client)) == 4
    assert listed(client, action__exact="claim") == [("claim", second.pk), ("claim", first.pk)]
    assert listed(client, object_type__exact="qa.participant") == [("update", participant.pk)]
    assert listed(client, actor__id__exact=max_.pk) == [("update", participant.pk), ("note", first.pk)]
    assert listed(client, q=str(first.pk), object_type__exact="qa.transcription") == [
        ("note", first.pk), ("claim", first.pk)]
    assert listed(client, q=second.heify_id) == [("claim", second.pk)]
    since_2000 = {"created_at__gte": "2000-01-01 00:00:00+00:00", "created_at__lt": "2100-01-01 00:00:00+00:00"}
    assert listed(client, **since_2000, action__exact="note") == [("note", first.pk)]
    assert listed(client, created_at__gte="1999-01-01 00:00:00+00:00", created_at__lt="2000-01-01 00:00:00+00:00") == []
    assert listed(client, q="nothing-like-this") == []


def test_the_audit_log_exports_what_it_lists(client, trail, max_):
    first, _second, _participant = trail
    client.force_login(max_)
    page = client.get(LIST, {"object_type__exact": "qa.transcription"}).content.decode()
    assert "/admin/qa/auditevent/export/csv/?object_type__exact=qa.transcription" in page
    response = client.get("/admin/qa/auditevent/export/csv/", {"object_type__exact": "qa.transcription"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert table[0][:5] == ["When", "Who", "Action", "Object type", "Object ID"]
    assert [(row[1], row[2], row[4]) for row in table[1:]] == [
        ("max", "wrote a note", str(first.pk)), ("ann", "started review", str(_second.pk)),
        ("ann", "started review", str(first.pk))]
    assert json.loads(table[1][9]) == {"note": "=SUM(A1:A2) looks odd"}  # a JSON cell: no formula to run
    assert client.get("/admin/qa/auditevent/export/xlsx/").status_code == 200
    assert client.get("/admin/qa/auditevent/export/pdf/").status_code == 404


@pytest.mark.parametrize("who", ["reviewer", "staff"])
def test_the_audit_log_refuses_anyone_but_managers(client, trail, who):
    user = person("ann2", "Reviewer") if who == "reviewer" else person("sam")
    client.force_login(user)
    assert client.get(LIST).status_code == 403
    assert client.get("/admin/qa/auditevent/export/csv/").status_code == 403
    assert client.get(f"{LIST}{AuditEvent.objects.first().pk}/change/").status_code == 403
    assert "auditevent" not in client.get("/admin/").content.decode()


def test_no_one_edits_or_deletes_the_trail(client, trail, max_, admin_user):
    event = AuditEvent.objects.first()
    for user in (max_, admin_user):
        client.force_login(user)
        assert client.get(f"{LIST}{event.pk}/change/").status_code == 200  # read-only
        client.post(f"{LIST}{event.pk}/change/", {"actor_label": "someone else"})
        assert client.get(f"{LIST}{event.pk}/delete/").status_code == 403
        assert client.get(f"{LIST}add/").status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).actor_label == event.actor_label


def test_a_history_page_shows_the_objects_rows_to_managers_only(client, trail, max_, ann):
    first, _second, participant = trail
    client.force_login(max_)
    page = client.get(reverse("admin:qa_transcription_history", args=[first.pk]))
    assert [e.action for e, _ in page.context["audit_events"]] == ["note", "claim"]
    assert 'id="audit-history"' in page.content.decode()
    page = client.get(reverse("admin:qa_participant_history", args=[participant.pk]))
    [(event, changes)] = page.context["audit_events"]
    assert changes == [("metadata", '{"team": "Support"}', '{"x": 1}')]
    client.force_login(ann)
    page = client.get(reverse("admin:qa_transcription_history", args=[first.pk]))
    assert page.status_code == 200 and "audit_events" not in page.context
    assert 'id="audit-history"' not in page.content.decode()


def test_a_manager_scoring_a_call_blind_does_not_read_its_rows(client, trail, max_):
    first, second, _participant = trail
    raters = [person("cleo", "QA manager"), person("dan", "Reviewer")]
    calibration.calibration_session_create(name="Blind", calls=[first], reviewers=raters, acting_user=max_)
    client.force_login(raters[0])
    assert {pk for _action, pk in listed(client, object_type__exact="qa.transcription")} == {second.pk}
    page = client.get(reverse("admin:qa_transcription_history", args=[first.pk]))
    assert page.context["audit_events"] == []
