"""Security regression: staff who may not use a page or an endpoint cannot tell an existing object from a
missing one by the answer. Without the permission, both answer 403 (the permission is asked before the object
is looked up, as Django's admin does); an object outside what the user may see answers as a missing one does
(404). No 5xx."""

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.mirror.models import Participant, Transcription
from qa.reviews import calibration
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db
MISSING = 999_999


@pytest.fixture
def world(load):
    evaluator = builders.evaluator_payload()
    agent = builders.participant_payload()
    load(evaluators=[evaluator], participants=[agent],
         transcriptions=[builders.transcription_payload(evaluator=evaluator, participant=agent)])
    raters = [person("ann", "Reviewer"), person("bob", "Reviewer")]
    session = calibration.calibration_session_create(name="S", calls=Transcription.objects.all(), reviewers=raters,
                                                     acting_user=person("max", "QA manager"))
    return {"session": session.pk, "participant": Participant.objects.get().pk, "agent": agent["participant_id"],
            "nobody": person("nobody"), "cleo": person("cleo", "Reviewer")}


ADMIN_PAGES = {
    "calibration score sheet": lambda pk: reverse("admin:qa_calibrationsession_score", args=[pk]),
    "calibration results": lambda pk: reverse("admin:qa_calibrationsession_results", args=[pk]),
    "report export": lambda pk: reverse("admin:qa_participant_report_export", args=[pk, "csv"]),
    "report export, a format that is not": lambda pk: reverse("admin:qa_participant_report_export", args=[pk, "x"]),
    "Heify's report": lambda pk: reverse("admin:qa_participant_heify_report", args=[pk]),
}
OBJECT = {"calibration score sheet": "session", "calibration results": "session"}


def statuses(client, url_for, existing):
    found, missing = client.get(url_for(existing)), client.get(url_for(MISSING))
    assert found.status_code < 500 and missing.status_code < 500
    return found.status_code, missing.status_code


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_staff_without_the_permission_get_403_whether_it_exists_or_not(client, world, page):
    client.force_login(world["nobody"])
    assert statuses(client, ADMIN_PAGES[page], world[OBJECT.get(page, "participant")]) == (403, 403)


@pytest.mark.parametrize("page", ["calibration score sheet", "calibration results", "Heify's report"])
def test_a_reviewer_cannot_tell_a_session_or_report_they_may_not_see_from_a_missing_one(client, world, page):
    client.force_login(world["cleo"])  # a reviewer, not a rater of the session, not a manager
    found, missing = statuses(client, ADMIN_PAGES[page], world[OBJECT.get(page, "participant")])
    assert found == missing and found in (403, 404)


def test_the_apis_heify_report_is_refused_before_the_lookup(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=world['cleo'])[1]}")
    found = api.get(f"/api/v1/participants/{world['agent']}/analytics/?remote=true")
    missing = api.get(f"/api/v1/participants/{builders.new_id()}/analytics/?remote=true")
    assert (found.status_code, missing.status_code) == (403, 403)
