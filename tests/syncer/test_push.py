"""Push: local edits reach Heify at once, Heify's refusals reach the person, nothing is lost while it is down."""

import json

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from qa.mirror.models import Configuration, Evaluator, Participant
from syncer import pull, push
from syncer.client import HeifyClient, RetryPolicy, Unavailable
from tests.qa.mirror.test_admin_editing import configuration_form, evaluator_form, rows_of

pytestmark = pytest.mark.django_db


def change_url(obj):
    return reverse(f"admin:qa_{type(obj)._meta.model_name}_change", args=[obj.pk])


def remote(heify, resource, heify_id):
    return next(o for o in heify.state.objects(resource) if o[resource[:-1] + "_id"] == heify_id)


def other_client(heify):
    """Someone else working on the same Heify account."""
    return httpx.Client(base_url=heify.url, headers={"x-api-key": heify.api_key})


def test_creating_an_evaluator_creates_it_in_heify_first(admin_client, heify):
    response = admin_client.post(reverse("admin:qa_evaluator_add"), evaluator_form(criteria=[
        {"name": "Greeting", "type": "boolean", "weight": "30"},
        {"name": "Resolved", "type": "scale", "weight": "70"},
        {"name": "No insults", "type": "strict", "weight": "0"},
    ]))
    assert response.status_code == 302
    evaluator = Evaluator.objects.get()
    assert evaluator.sync_state == "synced" and evaluator.heify_id
    theirs = remote(heify, "evaluators", evaluator.heify_id)
    assert theirs["tag"] == "Support QA"
    assert {c["id"] for c in theirs["criteria"]} == set(evaluator.criteria.values_list("heify_id", flat=True))


def test_update_and_delete_round_trip(admin_client, heify_account):
    pull.pull(["evaluators", "participants", "configurations"])
    evaluator = Evaluator.objects.filter(criteria__type="boolean").first()
    rows = rows_of(evaluator)
    response = admin_client.post(change_url(evaluator), evaluator_form(
        criteria=rows, version=evaluator.version, initial=len(rows), description="Updated here"))
    assert response.status_code == 302
    assert remote(heify_account, "evaluators", evaluator.heify_id)["description"] == "Updated here"
    evaluator.refresh_from_db()
    assert evaluator.sync_state == "synced"

    participant = Participant.objects.first()
    response = admin_client.post(reverse("admin:qa_participant_delete", args=[participant.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Participant.objects.filter(pk=participant.pk).exists()
    assert participant.heify_id not in {p["participant_id"] for p in heify_account.state.objects("participants")}


def test_an_evaluator_heify_rejects_shows_heifys_message_and_changes_nothing(admin_client, heify_account):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    heify_account.state.delete("evaluators", evaluator.heify_id)  # gone from Heify meanwhile
    rows = rows_of(evaluator)
    response = admin_client.post(change_url(evaluator), evaluator_form(
        criteria=rows, version=evaluator.version, initial=len(rows), description="Mine"))
    page = response.content.decode()
    assert response.status_code == 200 and "Heify refused the change" in page
    assert "Mine</textarea>" in page  # the person's input is kept on the form
    evaluator.refresh_from_db()
    assert evaluator.description != "Mine" and evaluator.sync_state == "synced"


def test_a_criteria_change_heify_rejects_leaves_no_revision(admin_client, heify_account):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    kept = list(evaluator.revisions.values_list("number", "source"))
    heify_account.state.delete("evaluators", evaluator.heify_id)  # gone from Heify meanwhile
    first = evaluator.criteria.first()
    rows = rows_of(evaluator, **{first.name: {"description": "A description Heify never took"}})
    response = admin_client.post(change_url(evaluator), evaluator_form(
        criteria=rows, version=evaluator.version, initial=len(rows)))
    assert response.status_code == 200 and "Heify refused the change" in response.content.decode()
    assert list(evaluator.revisions.values_list("number", "source")) == kept
    assert evaluator.criteria.get(pk=first.pk).description == first.description


def test_an_evaluator_changed_in_heify_meanwhile_is_not_overwritten(admin_client, heify_account):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    theirs = remote(heify_account, "evaluators", evaluator.heify_id)
    with other_client(heify_account) as other:
        other.put(f"/evaluator/{evaluator.heify_id}", json={"description": "Theirs",
                                                             "criteria": theirs["criteria"]}).raise_for_status()
    rows = rows_of(evaluator)
    response = admin_client.post(change_url(evaluator), evaluator_form(
        criteria=rows, version=evaluator.version, initial=len(rows), description="Mine"))
    page = response.content.decode()
    assert "changed in Heify since the version you edited" in page
    assert "description in Heify: &quot;Theirs&quot;" in page and "description yours: &quot;Mine&quot;" in page
    assert remote(heify_account, "evaluators", evaluator.heify_id)["description"] == "Theirs"


def test_metadata_changed_in_heify_meanwhile_is_refused_with_both_versions(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    with other_client(heify_account) as other:
        other.put(f"/participant/{participant.heify_id}",
                  json={"tag": participant.tag, "metadata": {"team": "changed in Heify"}}).raise_for_status()
    response = admin_client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"team": "changed here"}),
        "based_on_version": participant.version,
    })
    page = response.content.decode()
    assert response.status_code == 200 and "changed in Heify since the version you edited" in page
    assert "changed in Heify" in page and "changed here" in page
    assert remote(heify_account, "participants", participant.heify_id)["metadata"] == {"team": "changed in Heify"}
    participant.refresh_from_db()
    assert participant.metadata != {"team": "changed here"}


def test_heify_down_during_an_edit_keeps_it_waiting_then_the_job_pushes_it(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    heify_account.state.down = True
    response = admin_client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"shift": "night"}), "based_on_version": participant.version,
    }, follow=True)
    assert any("will be sent automatically" in str(m) for m in response.context["messages"])
    participant.refresh_from_db()
    assert participant.sync_state == "waiting" and participant.metadata == {"shift": "night"}
    assert "waiting to be pushed" in admin_client.get(reverse("admin:qa_participant_changelist")).content.decode()

    # A pull while the change waits does not undo it.
    heify_account.state.down = False
    assert pull.pull(["participants"], full=True)["participants"].skipped == 1
    participant.refresh_from_db()
    assert participant.metadata == {"shift": "night"}

    assert push.push_waiting() == {"pushed": 1, "deleted": 0, "refused": 0, "waiting": 0, "failed": 0}
    participant.refresh_from_db()
    assert participant.sync_state == "synced"
    assert remote(heify_account, "participants", participant.heify_id)["metadata"] == {"shift": "night"}


def test_a_configuration_created_while_heify_is_down_is_created_later(admin_client, heify):
    heify.state.down = True
    response = admin_client.post(reverse("admin:qa_configuration_add"), configuration_form(fields=[
        {"name": "ticket_id", "type": "string", "description": "The ticket."}]))
    assert response.status_code == 302
    configuration = Configuration.objects.get()
    assert configuration.heify_id is None and configuration.sync_state == "waiting"
    heify.state.down = False
    assert push.push_waiting()["pushed"] == 1
    configuration.refresh_from_db()
    theirs = remote(heify, "configurations", configuration.heify_id)
    assert theirs["extraction_fields"] == [{"name": "ticket_id", "type": "string", "description": "The ticket."}]
    assert theirs["vocabulary"] == ["CRM", "upsell"]


def test_a_delete_while_heify_is_down_waits_then_completes(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    heify_account.state.down = True
    admin_client.post(reverse("admin:qa_participant_delete", args=[participant.pk]), {"post": "yes"})
    participant.refresh_from_db()
    assert participant.sync_state == "deleting"
    heify_account.state.down = False
    assert push.push_waiting()["deleted"] == 1
    assert not Participant.objects.filter(pk=participant.pk).exists()


def test_a_waiting_change_heify_then_refuses_is_kept_and_flagged(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    heify_account.state.down = True
    admin_client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"mine": 1}), "based_on_version": participant.version})
    heify_account.state.down = False
    heify_account.state.delete("participants", participant.heify_id)
    assert push.push_waiting()["refused"] == 1
    participant.refresh_from_db()
    assert participant.sync_state == "rejected" and participant.metadata == {"mine": 1}
    assert "not found" in participant.sync_error.lower() or "no participant" in participant.sync_error.lower()


def test_new_configuration_gets_webhook_urls_when_a_public_address_is_set(admin_client, heify, settings):
    settings.PUBLIC_BASE_URL = "https://qa.example.com"
    data = configuration_form(webhook_success_url="", webhook_error_url="")
    assert admin_client.post(reverse("admin:qa_configuration_add"), data).status_code == 302
    configuration = Configuration.objects.get()
    secret = settings.HEIFY_WEBHOOK_SECRET
    assert configuration.webhook_success_url == f"https://qa.example.com/webhooks/heify/{secret}/success/"
    assert remote(heify, "configurations", configuration.heify_id)["webhooks"]["error_url"].endswith(
        f"/webhooks/heify/{secret}/error/")


# --- answers lost on the way back, senders that die, two senders ---------------------------------------


class AnswersLost(HeifyClient):
    """A network that drops Heify's answer to a create or replace after Heify acted on it."""

    def request(self, method, resource, heify_id=None, **kwargs):
        answer = super().request(method, resource, heify_id, **kwargs)
        if method in ("POST", "PUT"):
            raise Unavailable(f"{method} {resource}: no answer from Heify (ReadTimeout)")
        return answer


def answers_lost(heify):
    return AnswersLost(heify.url, heify.api_key, retry=RetryPolicy(attempts=1))


def test_an_update_heify_took_but_whose_answer_was_lost_is_accepted_not_a_conflict(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    heify_account.state.down = True
    admin_client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"shift": "night"}), "based_on_version": participant.version})
    heify_account.state.down = False
    assert push.push_waiting(client=answers_lost(heify_account))["waiting"] == 1  # Heify has it; we did not hear
    assert remote(heify_account, "participants", participant.heify_id)["metadata"] == {"shift": "night"}

    assert push.push_waiting() == {"pushed": 1, "deleted": 0, "refused": 0, "waiting": 0, "failed": 0}
    participant.refresh_from_db()
    assert (participant.sync_state, participant.metadata) == ("synced", {"shift": "night"})
    assert participant.raw["metadata"] == {"shift": "night"}


def test_a_create_whose_answer_was_lost_is_found_in_heify_not_created_twice(admin_client, heify):
    heify.state.down = True
    admin_client.post(reverse("admin:qa_configuration_add"), configuration_form(fields=[
        {"name": "ticket_id", "type": "string", "description": "The ticket."}]))
    heify.state.down = False
    assert push.push_waiting(client=answers_lost(heify))["waiting"] == 1
    assert heify.state.count("configurations") == 1
    pull.pull(["configurations"])  # brings Heify's copy in beside the waiting row
    assert Configuration.objects.count() == 2

    assert push.push_waiting()["pushed"] == 1
    assert heify.state.count("configurations") == 1  # not sent again
    configuration = Configuration.objects.get()  # the pull's copy gave way to the row the person made
    assert configuration.heify_id == heify.state.objects("configurations")[0]["configuration_id"]
    assert configuration.sync_state == "synced" and configuration.create_sent_at is None
    assert list(configuration.extraction_fields.values_list("name", flat=True)) == ["ticket_id"]


def test_a_change_on_its_way_is_sent_by_one_sender_only_and_by_the_job_once_its_sender_died(
        admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    heify_account.state.down = True
    admin_client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"shift": "early"}), "based_on_version": participant.version})
    heify_account.state.down = False
    assert push.claim(Participant, participant.pk) is not None  # a sender took it... and died
    assert push.claim(Participant, participant.pk) is None  # nobody else may send it meanwhile
    assert push.push_waiting()["pushed"] == 0
    # Nor may it be edited meanwhile: the person is told, nothing is saved.
    response = admin_client.post(change_url(participant), {
        "tag": participant.tag, "metadata": json.dumps({"shift": "late"}),
        "based_on_version": Participant.objects.get(pk=participant.pk).version})
    assert "being sent to Heify right now" in response.content.decode()

    Participant.objects.filter(pk=participant.pk).update(push_claimed_until=timezone.now())  # the claim lapses
    assert push.push_waiting()["pushed"] == 1
    participant.refresh_from_db()
    assert (participant.sync_state, participant.push_claim) == ("synced", None)
    assert remote(heify_account, "participants", participant.heify_id)["metadata"] == {"shift": "early"}


def test_a_refused_edit_puts_the_evaluator_back_whole(admin_client, heify_account):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.filter(criteria__type="boolean").distinct().first()
    before = (evaluator.version, list(evaluator.criteria.values_list("heify_id", "name", "weight")))
    heify_account.state.delete("evaluators", evaluator.heify_id)
    rows = rows_of(evaluator, **{evaluator.criteria.first().name: {"name": "Renamed"}})
    response = admin_client.post(change_url(evaluator), evaluator_form(
        criteria=rows, version=evaluator.version, initial=len(rows), description="Mine"))
    assert "Heify refused the change" in response.content.decode()
    evaluator.refresh_from_db()
    assert (evaluator.version, list(evaluator.criteria.values_list("heify_id", "name", "weight"))) == before
    assert (evaluator.sync_state, evaluator.push_claim) == ("synced", None)



def test_the_etag_a_save_answers_is_the_stored_version(admin_user, heify_account):
    from tests.qa.test_api import API, client_for

    pull.pull(["participants"])
    participant = Participant.objects.first()
    api, url = client_for(admin_user), f"{API}/participants/{participant.heify_id}/"
    first = api.patch(url, {"metadata": {"step": 1}}, format="json", HTTP_IF_MATCH=api.get(url)["ETag"])
    assert first.status_code == 200
    # Heify's answer was stored after the send (a new version): the ETag answered is that one.
    second = api.patch(url, {"metadata": {"step": 2}}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert second.status_code == 200, second.content
    participant.refresh_from_db()
    assert second["ETag"] == f'"{participant.version}"' and participant.metadata == {"step": 2}


def test_a_change_whose_answer_was_lost_is_not_taken_for_a_conflict_by_the_next(heify_account, monkeypatch):
    from datetime import timedelta

    from qa import heify
    from qa.mirror import services

    pull.pull(["participants"])
    participant = Participant.objects.first()
    heify_account.state.down = True
    services.participant_save(participant=participant, data={"tag": participant.tag, "metadata": {"shift": "A"}},
                              expected_version=participant.version)
    heify_account.state.down = False

    # The push sends it and Heify takes it; the sender dies before it stores Heify's answer.
    def dies(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(push, "_record_accepted", dies)
    with pytest.raises(SystemExit):
        push.push_one(Participant, participant.pk)
    monkeypatch.undo()
    assert remote(heify_account, "participants", participant.heify_id)["metadata"] == {"shift": "A"}
    Participant.objects.filter(pk=participant.pk).update(push_claimed_until=timezone.now() - timedelta(seconds=1))

    # The next edit, made on what the back office shows (its own change), goes through.
    participant.refresh_from_db()
    try:
        services.participant_save(participant=participant, data={"tag": participant.tag, "metadata": {"shift": "B"}},
                                  expected_version=participant.version)
    except heify.Refused as refusal:
        pytest.fail(f"our own lost change was taken for Heify's: {refusal.messages}")
    participant.refresh_from_db()
    assert participant.sync_state == "synced" and participant.replace_sent is None
    assert remote(heify_account, "participants", participant.heify_id)["metadata"] == {"shift": "B"}
