"""Calibration sessions: Fleiss' kappa by hand, blind answering, the results, and the admin pages."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from qa.mirror.models import Transcription
from qa.reviews import calibration
from qa.reviews.agreement import fleiss_kappa
from qa.reviews.models import CalibrationSession
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db


def test_fleiss_kappa_of_the_textbook_table():
    # Fleiss (1971), as on Wikipedia: 10 subjects, 14 raters, 5 categories; P = .378, Pe = .213, kappa = .210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table).value == 0.21


def test_fleiss_kappa_by_hand():
    # 3 raters, 4 calls: P_i = 1, 1, 1/3, 1/3 -> P = 2/3; p_pass = 6/12 -> Pe = .5; kappa = (2/3 - .5) / .5.
    assert fleiss_kappa([[3, 0], [0, 3], [2, 1], [1, 2]]).value == 0.333


@pytest.mark.parametrize("table, words", [
    ([], "no calls"), ([[1, 0], [0, 1]], "fewer than two raters"), ([[3, 0], [2, 0]], "same number"),
    ([[3, 0], [3, 0]], "same answer on every call"),
])
def test_undefined_fleiss_kappa_says_why(table, words):
    k = fleiss_kappa(table)
    assert k.value is None and words in k.reason


AI = {1: [False, True, True], 2: [True, True, True]}  # Greeting, No offensive language, Issue resolved
NAMES = ["Greeting", "No offensive language", "Issue resolved"]
PLAN = {  # rater -> call -> answers, in NAMES' order
    "ann": {1: [True, True, True], 2: [True, True, False]},
    "bob": {1: [False, True, True], 2: [True, True, True]},
    "cleo": {1: [False, True, True], 2: [False, True, True]},
    "eve": {1: [False, True, True], 2: [True, True, True]},
}


@pytest.fixture
def session(load):
    evaluator = builders.evaluator_payload()
    calls = []
    for n in (1, 2):
        body = builders.transcription_payload(evaluator=evaluator, name=f"call {n}",
                                              created_at=f"2026-03-0{n}T10:00:00+00:00")
        body["details"]["evaluation"]["criteria_results"] = [
            {"name": name, "passed": passed} for name, passed in zip(NAMES, AI[n], strict=True)]
        calls.append(body)
    load(evaluators=[evaluator], transcriptions=calls)
    people = {name: person(name, "Reviewer") for name in ("ann", "bob", "cleo", "eve")}
    people["max"] = person("max", "QA manager")
    created = calibration.calibration_session_create(
        name="March", calls=Transcription.objects.order_by("occurred_at"),
        reviewers=[people["ann"], people["bob"], people["cleo"]], expert=people["eve"], acting_user=people["max"])
    return created, people


def answer(session, user, *, submit=True, note=""):
    calls = {n: Transcription.objects.get(name=f"call {n}").pk for n in (1, 2)}
    answers = {(calls[n], name): passed for n, row in PLAN[user.username].items()
               for name, passed in zip(NAMES, row, strict=True)}
    calibration.calibration_answers_save(session=session, rater=user, answers=answers, submit=submit,
                                         notes={key: note for key in answers})


def test_a_reviewer_sees_no_other_answer_before_submitting(client, session):
    created, people = session
    answer(created, people["bob"], note="BOB-ONLY-NOTE")
    answer(created, people["eve"], note="EXPERT-ONLY-NOTE")
    sheet = calibration.rater_sheet(created, people["ann"])
    assert all(c["answer"] is None and c["note"] == "" for item in sheet for c in item["criteria"])
    with pytest.raises(PermissionDenied):
        calibration.session_results(created, people["ann"])

    client.force_login(people["ann"])
    page = client.get(reverse("admin:qa_calibrationsession_score", args=[created.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Greeting" in html
    assert "BOB-ONLY-NOTE" not in html and "EXPERT-ONLY-NOTE" not in html
    assert "checked" not in html  # no answer shown as given: not bob's, the expert's, nor the AI's
    assert "qa-passed" not in html and "qa-failed" not in html and "Passed" not in html
    assert client.get(reverse("admin:qa_calibrationsession_results", args=[created.pk])).status_code == 403

    # Her own answers, saved but not submitted, are all she sees.
    answer(created, people["ann"], submit=False, note="ANN-NOTE")
    html = client.get(reverse("admin:qa_calibrationsession_score", args=[created.pk])).content.decode()
    assert "ANN-NOTE" in html and "BOB-ONLY-NOTE" not in html
    response = client.post(reverse("admin:qa_calibrationsession_score", args=[created.pk]), {"submit": "1"})
    assert response.status_code == 302
    assert client.get(reverse("admin:qa_calibrationsession_results", args=[created.pk])).status_code == 200


def test_results_per_criterion_with_the_ai_and_the_expert(session):
    created, people = session
    for name in ("ann", "bob", "cleo", "eve"):
        answer(created, people[name])
    results = calibration.session_results(created, people["max"])
    by_name = {c["name"]: c for c in results["criteria"]}
    # Greeting: [1 pass, 2 fail], [2, 1] -> P = 1/3, Pe = .5 -> -0.333. Resolved: [3, 0], [2, 1] -> P = 2/3,
    # p_pass = 5/6, Pe = 26/36 -> -0.2. No offensive language: everyone passed both: undefined.
    assert by_name["Greeting"]["fleiss_kappa"] == -0.333 and by_name["Issue resolved"]["fleiss_kappa"] == -0.2
    assert by_name["No offensive language"]["fleiss_kappa"] is None
    assert "same answer" in by_name["No offensive language"]["kappa_undefined_reason"]
    assert (by_name["Greeting"]["observed_agreement"], by_name["Issue resolved"]["observed_agreement"]) == (33.3, 66.7)
    assert results["discuss_first"] == ["Greeting", "Issue resolved"]
    first = by_name["Greeting"]["items"][0]
    assert (first["answers"], first["expert"], first["AI"], first["passes"], first["fails"]) == (
        {"ann": True, "bob": False, "cleo": False}, False, False, 1, 2)
    # ann differs from eve twice in 6, cleo once, bob never.
    assert results["with_expert"] == [{"reviewer": "ann", "items": 6, "agreement_rate": 66.7},
                                      {"reviewer": "bob", "items": 6, "agreement_rate": 100},
                                      {"reviewer": "cleo", "items": 6, "agreement_rate": 83.3}]
    # Over all six items: P = 2/3, p_pass = 14/18, Pe = .6543 -> .036.
    assert results["fleiss_kappa"] == 0.036


def test_answers_are_final_once_submitted_and_kept_when_closed(session):
    created, people = session
    with pytest.raises(ValidationError, match="every criterion"):
        calibration.calibration_answers_save(session=created, rater=people["ann"], answers={}, submit=True)
    answer(created, people["ann"])
    with pytest.raises(ValidationError, match="final"):
        answer(created, people["ann"])
    with pytest.raises(PermissionDenied):  # not a rater
        calibration.calibration_answers_save(session=created, rater=people["max"], answers={})
    with pytest.raises(PermissionDenied):
        calibration.calibration_session_close(session=created, acting_user=people["bob"])
    calibration.calibration_session_close(session=created, acting_user=people["max"])
    with pytest.raises(ValidationError, match="closed"):
        answer(created, people["bob"])
    assert created.answers.filter(rater=people["ann"]).count() == 6


def test_a_session_needs_calls_two_reviewers_and_an_expert_apart(load):
    load(transcriptions=[builders.transcription_payload()])
    ann, bob, max_ = person("ann", "Reviewer"), person("bob", "Reviewer"), person("max", "QA manager")
    with pytest.raises(ValidationError) as bad:
        calibration.calibration_session_create(name="x", calls=[], reviewers=[ann], expert=ann, acting_user=max_)
    assert set(bad.value.message_dict) == {"calls", "reviewers", "expert"}
    with pytest.raises(PermissionDenied):
        calibration.calibration_session_create(name="x", calls=Transcription.objects.all(), reviewers=[ann, bob],
                                               acting_user=ann)


def test_managers_set_sessions_up_in_the_admin_and_see_results(client, session):
    created, people = session
    client.force_login(people["max"])
    response = client.post(reverse("admin:qa_calibrationsession_add"), {
        "name": "April", "calls": [t.pk for t in Transcription.objects.all()],
        "reviewers": [people["ann"].pk, people["bob"].pk], "expert": people["eve"].pk,
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    april = CalibrationSession.objects.get(name="April")
    assert april.created_by == people["max"] and april.reviewers.count() == 2
    for name in ("ann", "bob", "cleo"):
        answer(created, people[name])
    html = client.get(reverse("admin:qa_calibrationsession_results", args=[created.pk])).content.decode()
    assert "Discuss first: Greeting, Issue resolved" in html and "-0.333" in html
    client.post(reverse("admin:qa_calibrationsession_results", args=[created.pk]))
    created.refresh_from_db()
    assert created.closed_at is not None
    client.force_login(people["ann"])
    assert client.post(reverse("admin:qa_calibrationsession_results", args=[april.pk])).status_code == 403
    april.refresh_from_db()
    assert april.closed_at is None


def test_a_sessions_setup_is_changed_through_the_rules_until_the_first_answer(client, session):
    created, people = session
    calls = list(Transcription.objects.order_by("pk"))
    client.force_login(people["max"])
    url = reverse("admin:qa_calibrationsession_change", args=[created.pk])
    response = client.post(url, {"name": "March, again", "calls": [c.pk for c in calls],
                                 "reviewers": [people["ann"].pk, people["bob"].pk], "expert": people["eve"].pk})
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.name == "March, again" and set(created.reviewers.all()) == {people["ann"], people["bob"]}
    answer(created, people["ann"])
    # Once answered, the calls, the raters and the expert stay, whoever asks: only the name may change.
    with pytest.raises(ValidationError, match="answered already"):
        calibration.calibration_session_update(session=created, name="x", calls=calls[:1],
                                               reviewers=[people["ann"], people["bob"]], expert=people["eve"],
                                               acting_user=people["max"])
    response = client.post(url, {"name": "March, answered"})
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.name == "March, answered" and created.calls.count() == 2 and created.reviewers.count() == 2
    with pytest.raises(PermissionDenied):
        calibration.calibration_session_update(session=created, name="mine", calls=calls, expert=people["eve"],
                                               reviewers=[people["ann"], people["bob"]], acting_user=people["ann"])
    calibration.calibration_session_close(session=created, acting_user=people["max"])
    with pytest.raises(ValidationError, match="closed"):
        calibration.calibration_session_update(session=created, name="after", calls=calls, expert=people["eve"],
                                               reviewers=[people["ann"], people["bob"]], acting_user=people["max"])
    assert client.post(url, {"name": "after"}).status_code == 403
