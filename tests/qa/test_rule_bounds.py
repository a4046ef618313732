"""Bounds found by single inputs that wedged a job (issue 20, section 3): each is refused where it enters,
with a 400 or a form error naming the field, before anything reaches Heify or the database."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa import limits
from qa.alerts.models import AlertRule
from qa.mirror import rules
from qa.mirror.models import Configuration, Evaluator
from qa.reviews.models import SamplingRule
from syncer import pull

pytestmark = pytest.mark.django_db

TOO_LONG = limits.TEXT_MAX_LENGTH + 1


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=admin_user)[1]}")
    return client


def remote(heify, resource, heify_id):
    return next(o for o in heify.state.objects(resource) if o[resource[:-1] + "_id"] == heify_id)


def refused(response, field):
    assert response.status_code == 400, response.content[:500]
    error = response.json()["error"]
    assert field in error["fields"] or any(field in key for key in error["fields"]), error
    assert "characters" in error["message"], error
    return error


@pytest.mark.parametrize("length", [200_000, TOO_LONG])
def test_an_evaluator_description_too_long_for_the_mirror_is_a_400_and_reaches_no_one(api, heify_account, length):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    before = remote(heify_account, "evaluators", evaluator.heify_id)["description"]
    response = api.patch(f"/api/v1/evaluators/{evaluator.heify_id}/", {"description": "x" * length}, format="json")
    refused(response, "description")
    assert remote(heify_account, "evaluators", evaluator.heify_id)["description"] == before
    evaluator.refresh_from_db()
    assert evaluator.sync_state == "synced" and evaluator.description == before


def test_a_criterion_description_too_long_is_a_400(api, heify_account):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    criteria = [{"id": c.heify_id, "name": c.name, "type": c.type, "weight": str(c.weight),
                 "description": c.description} for c in evaluator.criteria.all()]
    criteria[0]["description"] = "x" * TOO_LONG
    response = api.patch(f"/api/v1/evaluators/{evaluator.heify_id}/", {"criteria": criteria}, format="json")
    refused(response, "criteria")
    assert Evaluator.objects.get(pk=evaluator.pk).sync_state == "synced"


def test_at_the_limit_a_description_is_taken_and_stored(api, heify_account):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    text = "x" * limits.TEXT_MAX_LENGTH
    response = api.patch(f"/api/v1/evaluators/{evaluator.heify_id}/", {"description": text}, format="json")
    assert response.status_code == 200, response.content[:500]
    evaluator.refresh_from_db()
    assert evaluator.description == text and evaluator.sync_state == "synced"


def test_an_extraction_field_description_too_long_is_a_400_and_reaches_no_one(api, heify_account):
    pull.pull(["configurations"])
    configuration = Configuration.objects.first()
    fields = [f.as_heify() for f in configuration.extraction_fields.all()]
    fields[0]["description"] = "x" * 300_000
    before = remote(heify_account, "configurations", configuration.heify_id)["extraction_fields"]
    response = api.patch(f"/api/v1/configurations/{configuration.heify_id}/", {"extraction_fields": fields},
                         format="json")
    refused(response, "extraction_fields")
    assert remote(heify_account, "configurations", configuration.heify_id)["extraction_fields"] == before
    assert Configuration.objects.get(pk=configuration.pk).sync_state == "synced"


def test_a_vocabulary_term_too_long_is_a_400(api, heify_account):
    pull.pull(["configurations"])
    configuration = Configuration.objects.first()
    response = api.patch(f"/api/v1/configurations/{configuration.heify_id}/", {"vocabulary": ["x" * TOO_LONG]},
                         format="json")
    refused(response, "vocabulary")


def test_rules_rule_the_emulator_too():
    """The emulator answers Heify's way with the same rule: a description over the limit is refused."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refusal:
        rules.clean_evaluator({"tag": "QA", "description": "x" * TOO_LONG,
                               "criteria": [{"name": "Greeting", "type": "boolean", "weight": 100}]})
    assert "description" in refusal.value.message_dict


# --- alert and sampling rules ---------------------------------------------------------------------------


@pytest.fixture
def manager_client(client):
    user = User.objects.create_user("max", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="QA manager"))
    client.force_login(user)
    return client


@pytest.mark.parametrize("hours", ["1e308", "1e10", str(limits.ALERT_HOURS_MAX + 1)])
def test_an_alert_rules_hours_beyond_a_year_are_a_form_error(manager_client, hours):
    response = manager_client.post(reverse("admin:qa_alertrule_add"),
                                   {"name": "slow", "kind": "claim_waiting", "enabled": "on", "hours": hours})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "hours" in errors and str(limits.ALERT_HOURS_MAX) in str(errors["hours"])
    assert not AlertRule.objects.exists()


def test_an_alert_rule_within_the_bounds_is_saved(manager_client):
    response = manager_client.post(reverse("admin:qa_alertrule_add"), {
        "name": "slow", "kind": "claim_waiting", "enabled": "on", "hours": str(limits.ALERT_HOURS_MAX)})
    assert response.status_code == 302
    assert AlertRule.objects.get().hours == limits.ALERT_HOURS_MAX


@pytest.mark.parametrize("points", ["1e-300", "0.0001", "0"])
def test_a_sampling_precision_below_the_bound_is_a_form_error(manager_client, points):
    response = manager_client.post(reverse("admin:qa_samplingrule_add"), {
        "name": "precise", "active": "on", "period": "week", "method": "precision", "precision_points": points})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "precision_points" in errors and f"{limits.PRECISION_POINTS_MIN:g}" in str(errors["precision_points"])
    assert not SamplingRule.objects.exists()


def test_a_sampling_precision_at_the_bound_is_saved_and_its_dry_run_answers(manager_client):
    response = manager_client.post(reverse("admin:qa_samplingrule_add"), {
        "name": "precise", "active": "on", "period": "week", "method": "precision",
        "precision_points": str(limits.PRECISION_POINTS_MIN)})
    assert response.status_code == 302, response.content.decode()[:1000]
    rule = SamplingRule.objects.get()
    response = manager_client.post(reverse("admin:qa_samplingrule_changelist"),
                                   {"action": "dry_run", "_selected_action": [rule.pk]}, follow=True)
    assert response.status_code == 200 and "would move" in response.content.decode()


def test_the_admin_form_refuses_the_same_description_beside_its_field(admin_client, heify_account):
    from tests.qa.mirror.test_admin_editing import evaluator_form, rows_of

    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    before = remote(heify_account, "evaluators", evaluator.heify_id)["description"]
    rows = rows_of(evaluator)
    response = admin_client.post(reverse("admin:qa_evaluator_change", args=[evaluator.pk]), evaluator_form(
        tag=evaluator.tag, criteria=rows, version=evaluator.version, initial=len(rows), description="x" * 200_000))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "description" in errors and "at most 100000 characters" in str(errors["description"])
    assert remote(heify_account, "evaluators", evaluator.heify_id)["description"] == before
    assert Evaluator.objects.get(pk=evaluator.pk).sync_state == "synced"


def test_the_admin_refuses_a_criterion_description_too_long_on_the_form(admin_client, heify_account):
    from tests.qa.mirror.test_admin_editing import evaluator_form, rows_of

    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.first()
    first = evaluator.criteria.first()
    rows = rows_of(evaluator, **{first.name: {"description": "x" * TOO_LONG}})
    response = admin_client.post(reverse("admin:qa_evaluator_change", args=[evaluator.pk]), evaluator_form(
        tag=evaluator.tag, criteria=rows, version=evaluator.version, initial=len(rows)))
    assert response.status_code == 200 and "at most 100000 characters" in response.content.decode()
    assert Evaluator.objects.get(pk=evaluator.pk).sync_state == "synced"


def test_the_admin_refuses_an_extraction_field_description_too_long_on_the_form(admin_client, heify):
    from tests.qa.mirror.test_admin_editing import configuration_form

    response = admin_client.post(reverse("admin:qa_configuration_add"), configuration_form(fields=[
        {"name": "ticket_id", "type": "string", "description": "x" * 300_000}]))
    assert response.status_code == 200 and "at most 100000 characters" in response.content.decode()
    assert not Configuration.objects.exists() and not heify.state.objects("configurations")


def test_the_admin_refuses_a_vocabulary_term_too_long_on_the_form(admin_client, heify):
    from tests.qa.mirror.test_admin_editing import configuration_form

    response = admin_client.post(reverse("admin:qa_configuration_add"),
                                 configuration_form(vocabulary="CRM\n" + "x" * TOO_LONG))
    assert response.status_code == 200 and "at most 100000 characters" in response.content.decode()
    assert not Configuration.objects.exists() and not heify.state.objects("configurations")
