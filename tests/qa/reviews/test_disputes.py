"""Disputes: an agent disputes a criterion's result of their reviewed call, a QA manager who did not review it
upholds (the score of record and the report follow) or rejects it; both sides are told by e-mail through the
alerts' delivery; the Disputes queue and the agreement page's upheld-dispute rate."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from qa.agents import services as agents
from qa.alerts.models import Alert, AlertDelivery
from qa.audit import AuditEvent
from qa.mirror.models import Participant, Transcription
from qa.mirror.rules import Group
from qa.reviews import disputes, queues
from qa.reviews.models import Dispute, ReviewEvent
from tests import builders
from tests.builders import person
from tests.qa.reviews.test_queues import api_for
from tests.qa.reviews.test_review_page import SCALE_EVALUATOR
from tests.qa.test_api import assert_error

pytestmark = pytest.mark.django_db
COMMIT = []  # the test's django_capture_on_commit_callbacks, set by the autouse fixture


@pytest.fixture(autouse=True)
def _commits(django_capture_on_commit_callbacks):
    COMMIT[:] = [django_capture_on_commit_callbacks]
    yield
    COMMIT.clear()


def committed(action, *args, **kwargs):
    """Run `action` and what it left for after the commit (the notices, their delivery), as a request would."""
    with COMMIT[0](execute=True):
        return action(*args, **kwargs)


def load_call(load, participant: dict, name: str = "scale.mp3") -> Transcription:
    """A call of `participant` scored 90 by SCALE_EVALUATOR (Greeting 20, Empathy scale 50, Resolved 30, No insults
    strict), every criterion passed."""
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    payload = builders.transcription_payload(evaluator=evaluator, participant=participant, group="PENDING_REVIEW",
                                             name=name)
    payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True},
        {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True},
    ]}
    load(evaluators=[evaluator], participants=[participant], transcriptions=[payload])
    return Transcription.objects.get(heify_id=payload["transcription_id"])


@pytest.fixture
def world(load):
    """Ana's call, reviewed and archived by ann (Resolved failed: score of record 60); ana is Ana's agent; max and
    mia are QA managers; every one has an e-mail address."""
    ann = person("ann", "Reviewer", email="ann@example.com")
    max_ = person("max", "QA manager", email="max@example.com")
    mia = person("mia", "QA manager", email="mia@example.com")
    ana = person("ana", "Agent", email="ana@example.com")
    participant = builders.participant_payload(tag="Ana")
    call = load_call(load, participant)
    agents.agent_link(participant_id=Participant.objects.get(tag="Ana").pk, username="ana", acting_user=max_)
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann, verdicts=[
        queues.Verdict("Resolved", passed=False, reason="not fixed")])
    queues.transcription_archive(transcription_id=call.pk, acting_user=ann, agree_rest=True)
    call.refresh_from_db()
    assert (call.group, call.reviewed_score) == (Group.ARCHIVED, 60.0)
    mail.outbox.clear()
    return {"call": call, "ann": ann, "max": max_, "mia": mia, "ana": person_fresh(ana), "participant": participant}


def person_fresh(user):
    return type(user).objects.get(pk=user.pk)


def resolve(**kwargs):
    return committed(disputes.dispute_resolve, **kwargs)


def raise_(world, criterion="Resolved", reason="The customer said it was fixed.", **kwargs):
    return committed(disputes.dispute_raise, transcription_id=world["call"].pk, criterion=criterion, reason=reason,
                                  acting_user=world["ana"], **kwargs)


# --- raising ---------------------------------------------------------------------------------------------------


def test_the_agent_disputes_a_result_of_record_once_and_the_reviewer_and_managers_are_told(world):
    dispute = raise_(world)
    assert (dispute.status, dispute.raised_by, dispute.reviewer) == ("open", world["ana"], world["ann"])
    assert dispute.result_when_raised == {"passed": False, "value": None, "source": "reviewer"}
    row = AuditEvent.objects.get(action="dispute_raise")
    assert (row.actor, row.object_type, row.object_id) == (world["ana"], "qa.dispute", dispute.pk)
    # The delivery job sent it: to the call's reviewer and the QA managers (not the agent).
    alert = Alert.objects.get(event_key=f"dispute:{dispute.pk}:raised")
    assert alert.rule is None and alert.deliveries.get().state == AlertDelivery.State.SENT
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["ann@example.com", "max@example.com", "mia@example.com"]
    assert "ana disputes Resolved" in mail.outbox[0].subject and "fixed" in mail.outbox[0].body
    with pytest.raises(ValidationError) as again:
        raise_(world)
    assert f"was disputed already (dispute #{dispute.pk}, open): once per criterion" in again.value.messages[0]


@pytest.mark.parametrize("change, words", [
    ({"criterion": "Politeness"}, "This call has no result for 'Politeness' (its criteria: Greeting, Empathy"),
    ({"reason": "  "}, "The reason cannot be empty."),
    ({"now": "late"}, "Disputes on this call closed on"),
])
def test_a_bad_dispute_is_refused_by_name(world, change, words):
    if change.get("now") == "late":
        change["now"] = world["call"].reviewed_at + timedelta(days=14, seconds=1)
    with pytest.raises(ValidationError) as refused:
        raise_(world, **change)
    assert words in " ".join(refused.value.messages)
    assert not Dispute.objects.exists() and not mail.outbox


def test_only_the_calls_own_agent_disputes_a_reviewed_call(world, load):
    with pytest.raises(PermissionDenied):
        disputes.dispute_raise(transcription_id=world["call"].pk, criterion="Resolved", reason="x",
                               acting_user=world["ann"])
    ben = person("ben", "Agent")
    other = builders.participant_payload(tag="Ben")
    unreviewed = load_call(load, other, name="ben.mp3")
    agents.agent_link(participant_id=Participant.objects.get(tag="Ben").pk, username="ben", acting_user=world["max"])
    ben = person_fresh(ben)
    with pytest.raises(Transcription.DoesNotExist):  # Ana's call: not found for Ben
        disputes.dispute_raise(transcription_id=world["call"].pk, criterion="Resolved", reason="x", acting_user=ben)
    with pytest.raises(ValidationError) as refused:
        disputes.dispute_raise(transcription_id=unreviewed.pk, criterion="Resolved", reason="x", acting_user=ben)
    assert "has not been reviewed" in refused.value.messages[0]


# --- resolving ---------------------------------------------------------------------------------------------------


def test_upheld_changes_the_score_of_record_on_the_archived_call_and_the_agent_is_told(world):
    dispute = raise_(world)
    mail.outbox.clear()
    resolved = resolve(dispute_id=dispute.pk, outcome="upheld", reason="The recording agrees.",
                                        passed=True, acting_user=world["max"])
    assert (resolved.status, resolved.upheld_passed, resolved.resolved_by) == ("upheld", True, world["max"])
    call = Transcription.objects.get(pk=world["call"].pk)
    assert (call.group, call.reviewed_score, call.reviewed_failed_criteria) == (Group.ARCHIVED, 90.0, [])
    verdict = call.criterion_verdicts.get(criterion_name="Resolved")
    assert (verdict.passed, verdict.reviewer, verdict.as_manager) == (True, world["max"], True)
    event = ReviewEvent.objects.filter(transcription=call, action="verdict").first()
    assert event.note.startswith(f"dispute #{dispute.pk} upheld: Resolved: agrees with the AI")
    assert AuditEvent.objects.get(action="dispute_resolve").after["status"] == "upheld"
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    assert "was upheld" in mail.outbox[0].subject and "now passed" in mail.outbox[0].body


def test_rejected_changes_nothing_and_the_agent_is_told(world):
    dispute = raise_(world)
    mail.outbox.clear()
    resolve(dispute_id=dispute.pk, outcome="rejected", reason="The customer hung up.",
                             acting_user=world["max"])
    call = Transcription.objects.get(pk=world["call"].pk)
    assert call.reviewed_score == 60.0 and call.criterion_verdicts.get(criterion_name="Resolved").reviewer == world[
        "ann"]
    assert [m.to for m in mail.outbox] == [["ana@example.com"]] and "rejected" in mail.outbox[0].subject
    with pytest.raises(ValidationError) as again:
        resolve(dispute_id=dispute.pk, outcome="upheld", reason="x", passed=True,
                                 acting_user=world["mia"])
    assert "was rejected already" in again.value.messages[0]


def test_who_resolves_a_manager_who_did_not_review_the_call(world):
    dispute = raise_(world)
    with pytest.raises(PermissionDenied):
        resolve(dispute_id=dispute.pk, outcome="rejected", reason="x", acting_user=world["ann"])
    # A manager who recorded a verdict on the call reviewed it.
    queues.transcription_reopen(transcription_id=world["call"].pk, acting_user=world["mia"])
    queues.transcription_verdicts_record(transcription_id=world["call"].pk, acting_user=world["mia"],
                                         verdicts=[queues.Verdict("Greeting", agrees=True)])
    with pytest.raises(PermissionDenied) as refused:
        resolve(dispute_id=dispute.pk, outcome="rejected", reason="x", acting_user=world["mia"])
    assert "You reviewed this call" in str(refused.value)
    resolve(dispute_id=dispute.pk, outcome="rejected", reason="x", acting_user=world["max"])


@pytest.mark.parametrize("body, field, words", [
    ({"outcome": "maybe"}, "outcome", "upheld or rejected, not 'maybe'"),
    ({"outcome": "upheld"}, "passed", "gives the result"),
    ({"outcome": "upheld", "passed": False}, "passed", "That is the result disputed (failed)"),
    ({"outcome": "upheld", "value": 3}, "value", "is a boolean criterion"),
    ({"outcome": "rejected", "passed": True}, "passed", "A rejected dispute gives no result"),
    ({"outcome": "upheld", "passed": True, "reason": ""}, "reason", "cannot be empty"),
])
def test_a_bad_resolution_is_refused_by_name_and_changes_nothing(world, body, field, words):
    dispute = raise_(world)
    with pytest.raises(ValidationError) as refused:
        resolve(dispute_id=dispute.pk, acting_user=world["max"], **{"reason": "why", **body})
    assert words in " ".join(refused.value.message_dict[field])
    dispute.refresh_from_db()
    assert dispute.status == "open" and Transcription.objects.get(pk=world["call"].pk).reviewed_score == 60.0


def test_an_upheld_scale_value_is_validated_like_a_verdict(world):
    dispute = raise_(world, criterion="Empathy")
    with pytest.raises(ValidationError) as refused:
        resolve(dispute_id=dispute.pk, outcome="upheld", reason="r", value=6,
                                 acting_user=world["max"])
    assert "from 1 to 5, not 6" in refused.value.message_dict["value"][0]
    resolve(dispute_id=dispute.pk, outcome="upheld", reason="warm", value=5, acting_user=world["max"])
    assert Transcription.objects.get(pk=world["call"].pk).reviewed_score == 70.0  # 20 + 50 + 0 (Resolved failed)


# --- the API, end to end ------------------------------------------------------------------------------------------


class Committing:
    """An API client whose writes run what they leave for after the commit (as a real request's would)."""

    def __init__(self, api):
        self.api = api

    def get(self, *args, **kwargs):
        return self.api.get(*args, **kwargs)

    def post(self, *args, **kwargs):
        return committed(self.api.post, *args, **kwargs)


def api(user):
    return Committing(api_for(user))


def report(api, participant_id, score):
    answer = api.get(f"/api/v1/participants/{participant_id}/analytics/?score={score}")
    assert answer.status_code == 200, answer.content
    data = answer.json()["data"]
    data.pop("metadata")  # when it was generated
    return data


def test_a_dispute_end_to_end_through_the_api(world, load):
    call, agent, manager = world["call"], api(world["ana"]), api(world["max"])
    pid = world["participant"]["participant_id"]
    before = report(manager, pid, "reviewed")
    url = f"/api/v1/transcriptions/{call.heify_id}/disputes/"
    raised = agent.post(url, {"criterion": "Resolved", "reason": "It was fixed."}, format="json")
    assert raised.status_code == 201, raised.content
    data = raised.json()["data"]
    assert (data["criterion"], data["status"], data["result_disputed"]["passed"], data["reviewer"]) == (
        "Resolved", "open", False, "ann")
    assert_error(agent.post(url, {"criterion": "Resolved", "reason": "again"}, format="json"), 400,
                 field="criterion")
    assert_error(agent.post(url, {"criterion": "Nope", "reason": "x"}, format="json"), 400, field="criterion")
    assert_error(agent.post(url, {"criterion": "Greeting"}, format="json"), 400, field="reason")
    assert [m.to for m in mail.outbox][-1] == ["ann@example.com", "max@example.com", "mia@example.com"]
    # Listed: the manager sees it open, the agent theirs, the reviewer the disputes of their results.
    assert [d["id"] for d in manager.get("/api/v1/disputes/?status=open").json()["data"]] == [data["id"]]
    assert [d["id"] for d in agent.get("/api/v1/disputes/").json()["data"]] == [data["id"]]
    assert [d["id"] for d in api(world["ann"]).get("/api/v1/disputes/").json()["data"]] == [data["id"]]
    assert manager.get("/api/v1/disputes/?status=upheld").json()["data"] == []
    assert_error(manager.get("/api/v1/disputes/?status=closed"), 400, field="status")
    # Resolved: only a manager who did not review it; the score of record and the report follow.
    resolve = f"/api/v1/disputes/{data['id']}/resolve/"
    assert_error(agent.post(resolve, {"outcome": "upheld", "reason": "x", "passed": True}, format="json"), 403)
    assert_error(api(world["ann"]).post(resolve, {"outcome": "rejected", "reason": "x"}, format="json"), 403)
    assert_error(manager.post("/api/v1/disputes/999999/resolve/", {"outcome": "rejected", "reason": "x"},
                              format="json"), 404)
    assert_error(manager.post(resolve, {"outcome": "upheld", "reason": "x"}, format="json"), 400, field="passed")
    upheld = manager.post(resolve, {"outcome": "upheld", "reason": "Heard it fixed.", "passed": True}, format="json")
    assert upheld.status_code == 200, upheld.content
    assert upheld.json()["data"]["result_given"] == {"passed": True, "value": None}
    assert mail.outbox[-1].to == ["ana@example.com"]
    review = manager.get(f"/api/v1/transcriptions/{call.heify_id}/").json()["data"]["review"]
    assert review["score"] == 90.0
    after = report(manager, pid, "reviewed")
    assert (before["kpis"]["avg_score"], after["kpis"]["avg_score"]) == (60, 90)
    assert (before["kpis"]["pass_rate"], after["kpis"]["pass_rate"]) == (100, 100)
    # A second dispute, rejected: nothing changes but the agent is told.
    second = agent.post(url, {"criterion": "Empathy", "reason": "I was kind."}, format="json").json()["data"]
    rejected = manager.post(f"/api/v1/disputes/{second['id']}/resolve/", {"outcome": "rejected", "reason": "Cold."},
                            format="json")
    assert rejected.status_code == 200 and rejected.json()["data"]["result_given"] is None
    assert report(manager, pid, "reviewed") == after and mail.outbox[-1].subject.endswith("was rejected")
    assert [d["status"] for d in manager.get("/api/v1/disputes/").json()["data"]] == ["rejected", "upheld"]


def test_the_api_refuses_by_role_before_the_lookup(world, load):
    call = world["call"]
    body = {"criterion": "Resolved", "reason": "x"}
    assert_error(api(world["ann"]).post(f"/api/v1/transcriptions/{call.heify_id}/disputes/", body,
                                            format="json"), 403)
    assert_error(api(world["ana"]).post("/api/v1/transcriptions/nope/disputes/", body, format="json"), 404)
    stranger = person("sam")
    assert_error(api(stranger).get("/api/v1/disputes/"), 403)


# --- the admin queue and the agreement page ------------------------------------------------------------------------


def test_the_disputes_queue_lists_open_ones_first_and_resolves(world, client):
    dispute = raise_(world)
    client.force_login(world["max"])
    url = reverse("admin:qa_dispute_changelist")
    page = client.get(url).content.decode()
    assert "Resolved" in page and "The customer said it was fixed." in page and "ana" in page
    assert 'name="outcome"' in page
    answer = committed(client.post, reverse("admin:qa_dispute_resolve", args=[dispute.pk]),
                         {"outcome": "upheld", "reason": "Heard it.", "passed": "true"})
    assert answer.status_code == 302
    assert Dispute.objects.get().status == "upheld"
    refused = client.post(reverse("admin:qa_dispute_resolve", args=[dispute.pk]),
                          {"outcome": "rejected", "reason": "x"}, follow=True)
    assert "was upheld already" in refused.content.decode()
    for who in ("ann", "ana"):
        client.force_login(world[who])
        assert client.get(url).status_code == 403


def test_the_agreement_page_shows_the_upheld_dispute_rate_per_reviewer(world, client):
    from qa.mirror.models import Evaluator
    from qa.reviews import agreement

    dispute = raise_(world)
    second = raise_(world, criterion="Empathy")
    resolve(dispute_id=dispute.pk, outcome="upheld", reason="r", passed=True,
                             acting_user=world["max"])
    evaluator = Evaluator.objects.get()
    found = agreement.evaluator_agreement(evaluator=evaluator)
    ann = next(r for r in found["reviewers"] if r["reviewer"] == "ann")
    assert (ann["disputes_resolved"], ann["disputes_upheld"], ann["upheld_dispute_rate"]) == (1, 1, 100.0)
    resolve(dispute_id=second.pk, outcome="rejected", reason="r", acting_user=world["max"])
    ann = next(r for r in agreement.evaluator_agreement(evaluator=evaluator)["reviewers"] if r["reviewer"] == "ann")
    assert (ann["disputes_resolved"], ann["disputes_upheld"], ann["upheld_dispute_rate"]) == (2, 1, 50.0)
    client.force_login(world["mia"])
    page = client.get(reverse("admin:qa_evaluatoragreement_changelist")).content.decode()
    assert "Upheld disputes" in page and "1/2" in page


def test_a_failed_send_is_retried_by_the_delivery_job(world, settings, monkeypatch):
    from qa.alerts import services as alerts

    calls = []

    def broken(self, *args, **kwargs):
        calls.append(1)
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    dispute = raise_(world)
    delivery = AlertDelivery.objects.get(alert__event_key=f"dispute:{dispute.pk}:raised")
    assert (delivery.state, delivery.last_error) == ("pending", "OSError: SMTP down") and calls
    monkeypatch.undo()
    assert alerts.deliveries_due(now=timezone.now() + timedelta(hours=2)) == {"sent": 1}
    assert len(mail.outbox) == 1


def test_a_notice_is_listed_with_the_alerts(world, client):
    dispute = raise_(world)
    client.force_login(world["max"])
    page = client.get(reverse("admin:qa_alert_changelist")).content.decode()
    assert f"Dispute #{dispute.pk}: ana disputes Resolved" in page
    alert = Alert.objects.get(event_key=f"dispute:{dispute.pk}:raised")
    assert client.get(reverse("admin:qa_alert_change", args=[alert.pk])).status_code == 200
