"""A configuration's webhook URLs hold the webhook secret: only those who manage configurations see it."""

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.mirror.models import Configuration
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

SECRET = "whsec-only-managers-see-7d3f"


@pytest.fixture
def configuration(load, settings):
    settings.HEIFY_WEBHOOK_SECRET = SECRET
    base = "https://qa.example.com/webhooks/heify"
    payload = builders.configuration_payload(
        webhooks={"success_url": f"{base}/{SECRET}/success/", "error_url": f"{base}/{SECRET}/error/"})
    load(configurations=[payload])
    return Configuration.objects.get()


def api_as(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def admin_as(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_reviewer_reads_the_urls_with_the_secret_masked_in_the_api(configuration):
    reviewer = api_as(person("rita", "Reviewer"))
    one = reviewer.get(f"/api/v1/configurations/{configuration.heify_id}/")
    listed = reviewer.get("/api/v1/configurations/")
    assert one.status_code == listed.status_code == 200
    assert SECRET not in one.text and SECRET not in listed.text
    masked = "https://qa.example.com/webhooks/heify/••••••/success/"
    assert one.json()["data"]["webhooks"]["success_url"] == masked
    assert listed.json()["data"][0]["webhooks"]["success_url"] == masked


def test_a_qa_manager_reads_them_whole_in_the_api(configuration):
    manager = api_as(person("max", "QA manager"))
    one = manager.get(f"/api/v1/configurations/{configuration.heify_id}/")
    assert one.json()["data"]["webhooks"]["success_url"] == configuration.webhook_success_url
    assert SECRET in manager.get("/api/v1/configurations/").text


def test_the_admin_masks_them_for_a_reviewer_and_not_for_a_qa_manager(configuration):
    page = f"/admin/qa/configuration/{configuration.pk}/change/"
    reviewer = admin_as(person("rita", "Reviewer"))
    for address in (page, "/admin/qa/configuration/"):
        response = reviewer.get(address)
        assert response.status_code == 200 and SECRET not in response.text
    assert "/webhooks/heify/••••••/success/" in reviewer.get(page).text
    manager = admin_as(person("max", "QA manager"))
    assert SECRET in manager.get(page).text


def test_a_url_with_an_old_secret_is_masked_too(load, settings):
    settings.HEIFY_WEBHOOK_SECRET = "the-new-secret-0000"
    load(configurations=[builders.configuration_payload(
        webhooks={"success_url": "https://qa.example.com/webhooks/heify/the-old-secret-1111/success/",
                  "error_url": ""})])
    response = api_as(person("rita", "Reviewer")).get("/api/v1/configurations/")
    assert "the-old-secret-1111" not in response.text
