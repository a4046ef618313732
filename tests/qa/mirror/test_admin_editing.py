"""The admin screens that edit Heify objects: rules applied, nothing half-saved."""

import json

import pytest
from django.urls import reverse

from qa.mirror.models import Configuration, Evaluator, Participant
from tests import builders

pytestmark = pytest.mark.django_db


def inline(prefix, rows, initial=0):
    data = {
        f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items()})
    return data


def evaluator_form(tag="Support QA", criteria=(), version=None, initial=0, **extra):
    return {
        "tag": tag, "description": "", "language": "en", "context": "null",
        **({"based_on_version": version} if version is not None else {}),
        **inline("criteria", list(criteria), initial),
        **extra,
    }


ADD_EVALUATOR = reverse("admin:qa_evaluator_add")


def change_url(obj):
    return reverse(f"admin:qa_{type(obj)._meta.model_name}_change", args=[obj.pk])


def test_evaluator_is_created_with_its_criteria(admin_client):
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(criteria=[
        {"name": "Greeting", "type": "boolean", "weight": "30", "description": "Hello?"},
        {"name": "Resolved", "type": "scale", "weight": "70", "description": "Fixed?"},
    ]))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    evaluator = Evaluator.objects.get()
    assert [(c.name, c.type, c.weight) for c in evaluator.criteria.all()] == [
        ("Greeting", "boolean", 30), ("Resolved", "scale", 70)
    ]
    # No Heify in this test (settings_test points at a closed port): kept, waiting.
    assert evaluator.sync_state == "waiting" and evaluator.heify_id is None


def test_bad_weights_show_the_sum_and_save_nothing(admin_client):
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(criteria=[
        {"name": "Greeting", "type": "boolean", "weight": "30"},
        {"name": "Resolved", "type": "boolean", "weight": "50"},
    ]))
    assert response.status_code == 200
    assert "they sum to 80" in response.content.decode()
    assert not Evaluator.objects.exists()


def test_eleven_criteria_are_refused(admin_client):
    rows = [{"name": f"c{i}", "type": "boolean", "weight": "10"} for i in range(10)]
    rows.append({"name": "c10", "type": "strict", "weight": "0"})
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(criteria=rows))
    assert "1 to 10 criteria; it has 11" in response.content.decode()
    assert not Evaluator.objects.exists()


def test_strict_weight_40_is_stored_as_0_and_the_user_is_told(admin_client):
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(criteria=[
        {"name": "Resolved", "type": "boolean", "weight": "100"},
        {"name": "No insults", "type": "strict", "weight": "40"},
    ]), follow=True)
    assert Evaluator.objects.get().criteria.get(name="No insults").weight == 0
    assert any("set to 0" in str(m) for m in response.context["messages"])


def existing_evaluator(load):
    load(evaluators=[builders.evaluator_payload(tag="Customer service")])
    return Evaluator.objects.get()


def rows_of(evaluator, **changes):
    return [
        {"id": c.pk, "evaluator": evaluator.pk, "name": c.name, "type": c.type, "weight": str(c.weight),
         "description": c.description, **changes.get(c.name, {})}
        for c in evaluator.criteria.all()
    ]


def test_tag_is_read_only_on_change(admin_client, load):
    evaluator = existing_evaluator(load)
    page = admin_client.get(change_url(evaluator)).content.decode()
    assert 'name="tag"' not in page
    response = admin_client.post(change_url(evaluator), evaluator_form(
        tag="Renamed", criteria=rows_of(evaluator), version=evaluator.version, initial=3, description="new"
    ))
    assert response.status_code == 302
    evaluator.refresh_from_db()
    assert evaluator.tag == "Customer service" and evaluator.description == "new"


def test_change_of_weights_keeps_criteria_ids_and_bumps_version(admin_client, load):
    evaluator = existing_evaluator(load)
    ids = sorted(evaluator.criteria.values_list("heify_id", flat=True))
    rows = rows_of(evaluator, **{"Greeting": {"weight": "40"}, "Issue resolved": {"weight": "60"}})
    response = admin_client.post(change_url(evaluator), evaluator_form(
        tag="x", criteria=rows, version=evaluator.version, initial=3))
    assert response.status_code == 302
    evaluator.refresh_from_db()
    assert evaluator.criteria.get(name="Greeting").weight == 40
    assert sorted(evaluator.criteria.values_list("heify_id", flat=True)) == ids
    assert evaluator.version == 2 and evaluator.sync_state == "waiting"


def test_bad_change_leaves_the_evaluator_untouched(admin_client, load):
    evaluator = existing_evaluator(load)
    rows = rows_of(evaluator, **{"Greeting": {"weight": "45"}})
    response = admin_client.post(change_url(evaluator), evaluator_form(
        criteria=rows, version=evaluator.version, initial=3, description="should not stick"))
    assert "they sum to 125" in response.content.decode()
    evaluator.refresh_from_db()
    assert evaluator.description == "Support calls." and evaluator.version == 1
    assert evaluator.criteria.get(name="Greeting").weight == 20


def test_stale_evaluator_edit_is_refused(admin_client, load):
    evaluator = existing_evaluator(load)
    response = admin_client.post(change_url(evaluator), evaluator_form(
        criteria=rows_of(evaluator), version=evaluator.version - 1 + 5, initial=3, description="mine"))
    assert "changed by someone else" in response.content.decode()
    evaluator.refresh_from_db()
    assert evaluator.description == "Support calls."


# --- participants ---------------------------------------------------------------------


def existing_participant(load, metadata):
    load(participants=[builders.participant_payload(tag="Sarah", metadata=metadata)])
    return Participant.objects.get()


def test_metadata_editor_shows_the_whole_object(admin_client, load):
    participant = existing_participant(load, {"email": "s@example.com", "role": "Senior"})
    page = admin_client.get(change_url(participant)).content.decode()
    assert "&quot;email&quot;: &quot;s@example.com&quot;" in page and "&quot;role&quot;" in page


def test_metadata_is_replaced_whole(admin_client, load):
    participant = existing_participant(load, {"email": "s@example.com", "role": "Senior", "shift": "early"})
    response = admin_client.post(change_url(participant), {
        "tag": "Sarah", "metadata": json.dumps({"role": "Lead"}), "based_on_version": participant.version,
    })
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.metadata == {"role": "Lead"}
    assert participant.sync_state == "waiting" and participant.version == 2


@pytest.mark.parametrize("text, message", [
    ("{not json", "metadata is not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('"just text"', "must be a JSON object"),
    ("42", "must be a JSON object"),
])
def test_bad_metadata_is_a_form_error(admin_client, load, text, message):
    participant = existing_participant(load, {"role": "Senior"})
    response = admin_client.post(change_url(participant), {
        "tag": "Sarah", "metadata": text, "based_on_version": participant.version,
    })
    assert response.status_code == 200 and message in response.content.decode()
    participant.refresh_from_db()
    assert participant.metadata == {"role": "Senior"} and participant.version == 1


def test_metadata_edit_on_a_stale_version_shows_both_and_keeps_the_other(admin_client, load):
    participant = existing_participant(load, {"role": "Senior"})
    stale_version = participant.version
    # Someone else saves first.
    admin_client.post(change_url(participant), {
        "tag": "Sarah", "metadata": json.dumps({"role": "Lead"}), "based_on_version": stale_version,
    })
    response = admin_client.post(change_url(participant), {
        "tag": "Sarah", "metadata": json.dumps({"role": "Trainee"}), "based_on_version": stale_version,
    })
    page = response.content.decode()
    assert response.status_code == 200 and "changed by someone else" in page
    assert "Lead" in page and "Trainee" in page
    participant.refresh_from_db()
    assert participant.metadata == {"role": "Lead"}


def test_new_participant_with_empty_metadata(admin_client):
    response = admin_client.post(reverse("admin:qa_participant_add"), {"tag": "New agent", "metadata": ""})
    assert response.status_code == 302
    assert Participant.objects.get().metadata == {}


# --- configurations ----------------------------------------------------------------------


def configuration_form(fields=(), initial=0, **overrides):
    data = {
        "tag": "Support calls", "vocabulary": "CRM\n\n upsell \n", "summary": "on",
        "summary_language": "en", "analytics_language": "df",
        "webhook_success_url": "https://example.com/ok", "webhook_error_url": "",
        **inline("extraction_fields", list(fields), initial),
    }
    data.update(overrides)
    return data


def test_configuration_with_vocabulary_lines_and_extraction_fields(admin_client):
    response = admin_client.post(reverse("admin:qa_configuration_add"), configuration_form(fields=[
        {"name": "ticket_id", "type": "string", "description": "The ticket number."},
        {"name": "refund", "type": "boolean", "description": "Was a refund promised?"},
    ]))
    assert response.status_code == 302
    configuration = Configuration.objects.get()
    assert configuration.vocabulary == ["CRM", "upsell"]
    assert [f.as_heify() for f in configuration.extraction_fields.all()] == [
        {"name": "ticket_id", "type": "string", "description": "The ticket number."},
        {"name": "refund", "type": "boolean", "description": "Was a refund promised?"},
    ]


@pytest.mark.parametrize("fields, overrides, message", [
    ([{"name": "ticket id", "type": "string", "description": "d"}], {}, "must be an identifier"),
    ([{"name": "a", "type": "string", "description": "d"}] * 2, {}, "used twice"),
    ([{"name": f"f{i}", "type": "string", "description": "d"} for i in range(11)], {}, "it has 11"),
    ([], {"analytics_language": "xx"}, "Select a valid choice"),
    ([], {"webhook_error_url": "ftp://example.com"}, "valid http(s) URL"),
])
def test_bad_configuration_is_refused_with_a_message(admin_client, fields, overrides, message):
    response = admin_client.post(reverse("admin:qa_configuration_add"), configuration_form(fields, **overrides))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Configuration.objects.exists()


def test_changelists_render(admin_client, load):
    load(configurations=[builders.configuration_payload()], evaluators=[builders.evaluator_payload()],
         participants=[builders.participant_payload()])
    for model in ("configuration", "evaluator", "participant"):
        response = admin_client.get(reverse(f"admin:qa_{model}_changelist"))
        assert response.status_code == 200 and "in sync with Heify" in response.content.decode()


def test_metadata_with_a_null_character_is_a_form_error(admin_client, load):
    participant = existing_participant(load, {"role": "Senior"})
    response = admin_client.post(change_url(participant), {
        "tag": "Sarah", "metadata": '{"role": "a\\u0000b"}', "based_on_version": participant.version,
    })
    assert response.status_code == 200 and "null characters" in response.content.decode()


def test_context_with_a_null_character_is_a_form_error(admin_client):
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(
        criteria=[{"name": "Resolved", "type": "boolean", "weight": "100"}], context='{"x": "\\u0000"}'))
    assert response.status_code == 200 and "null characters" in response.content.decode()
    assert not Evaluator.objects.exists()
