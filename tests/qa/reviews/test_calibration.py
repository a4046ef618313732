"""Calibration sessions: Fleiss' kappa by hand and against statsmodels, Krippendorff's interval alpha against the
krippendorff package, blind answering (values on scale criteria), the results, and the admin pages."""

import math
import warnings

import krippendorff
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from statsmodels.stats import inter_rater

from qa.mirror.models import Transcription
from qa.reviews import calibration
from qa.reviews.agreement import fleiss_kappa, interval_alpha
from qa.reviews.models import CalibrationAnswer, CalibrationSession
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db
ROUNDED = 5e-4 + 1e-9  # ours are rounded to 3 places


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


def test_fleiss_kappa_is_statsmodels_on_the_textbook_table():
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table).value == pytest.approx(inter_rater.fleiss_kappa(table, method="fleiss"), abs=ROUNDED)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 8).flatmap(lambda raters: st.lists(
    st.integers(0, raters).map(lambda passes: [passes, raters - passes]), min_size=1, max_size=12)))
def test_fleiss_kappa_is_statsmodels_on_any_pass_fail_table(table):
    ours = fleiss_kappa(table)
    if ours.value is None:  # every rater gave one same answer throughout: statsmodels' divides 0 by 0
        assert len({tuple(row) for row in table}) == 1 and 0 in table[0]
        return
    assert ours.value == pytest.approx(inter_rater.fleiss_kappa(table, method="fleiss"), abs=ROUNDED)


def reference_alpha(units):
    data = [[math.nan if v is None else v for v in rater] for rater in zip(*units, strict=True)]  # raters x units
    return krippendorff.alpha(reliability_data=data, level_of_measurement="interval")


def test_interval_alpha_is_krippendorffs_on_his_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units, values missing;
    # interval alpha = .849.
    raters = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
              [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    units = [list(unit) for unit in zip(*raters, strict=True)]
    assert interval_alpha(units).value == 0.849 == round(reference_alpha(units), 3)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 5).flatmap(lambda raters: st.lists(
    st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=raters, max_size=raters), min_size=1, max_size=10)))
def test_interval_alpha_is_krippendorffs_with_missing_answers(units):
    ours = interval_alpha(units)
    pairable = [v for unit in units if sum(v is not None for v in unit) >= 2 for v in unit if v is not None]
    if ours.value is None:
        assert len(set(pairable)) <= 1  # nothing to pair, or every paired value the same
        return
    assume(len({v for unit in units for v in unit if v is not None}) > 1)  # the package wants two values at least
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ours.value == pytest.approx(reference_alpha(units), abs=ROUNDED)


@pytest.mark.parametrize("units, words", [
    ([], "no call has two answers"), ([[3, None], [None, 4]], "no call has two answers"),
    ([[4, 4], [4, 4, None]], "same value"),
])
def test_undefined_alpha_says_why(units, words):
    alpha = interval_alpha(units)
    assert alpha.value is None and words in alpha.reason


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


# --- scale criteria: values ------------------------------------------------------------------------------


SCALE_PLAN = {  # rater -> call -> (Greeting, Empathy's value, Resolved, No insults)
    "ann": {1: (True, 4, True, True), 2: (True, 2, True, True)},
    "bob": {1: (True, 5, True, True), 2: (True, 3, False, True)},
    "cleo": {1: (False, 4, True, True), 2: (True, 1, True, True)},
    "eve": {1: (True, 4, True, True), 2: (True, 2, True, True)},
}
SCALE_NAMES = ["Greeting", "Empathy", "Resolved", "No insults"]


@pytest.fixture
def scale_session(load):
    """Two calls of an evaluator with a scale criterion (Empathy, weight 50): on call 1 Heify gave its value (4), on
    call 2 only passed, which the score settles (20 + 2/5 x 50 + 30 = 70... failed: 2)."""
    from tests.qa.reviews.test_review_page import SCALE_EVALUATOR

    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    bodies = []
    for n, (empathy, score) in {1: ({"passed": True, "value": 4}, 90.0), 2: ({"passed": False}, 70.0)}.items():
        body = builders.transcription_payload(evaluator=evaluator, name=f"call {n}",
                                              created_at=f"2026-03-0{n}T10:00:00+00:00")
        body["details"]["evaluation"] = {"score": score, "critical_fail_triggered": False, "criteria_results": [
            {"name": "Greeting", "passed": True}, {"name": "Empathy", **empathy},
            {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True}]}
        bodies.append(body)
    load(evaluators=[evaluator], transcriptions=bodies)
    people = {name: person(name, "Reviewer") for name in ("ann", "bob", "cleo", "eve")}
    people["max"] = person("max", "QA manager")
    created = calibration.calibration_session_create(
        name="Values", calls=Transcription.objects.order_by("occurred_at"),
        reviewers=[people["ann"], people["bob"], people["cleo"]], expert=people["eve"], acting_user=people["max"])
    return created, people


def scale_answers(user) -> dict:
    calls = {n: Transcription.objects.get(name=f"call {n}").pk for n in (1, 2)}
    return {(calls[n], name): given for n, row in SCALE_PLAN[user.username].items()
            for name, given in zip(SCALE_NAMES, row, strict=True)}


def test_the_score_sheet_asks_a_value_on_scale_criteria_and_pass_fail_on_the_others(client, scale_session):
    created, people = scale_session
    sheet = calibration.rater_sheet(created, people["ann"])
    assert [(c["name"], c["scale"]) for c in sheet[0]["criteria"]] == [
        ("Greeting", False), ("Empathy", True), ("Resolved", False), ("No insults", False)]
    call = sheet[0]["call"]
    client.force_login(people["ann"])
    url = reverse("admin:qa_calibrationsession_score", args=[created.pk])
    html = client.get(url).content.decode()
    empathy = html[html.index('data-criterion="Empathy"'):]
    empathy = empathy[:empathy.index("</tr>")]
    assert [f'name="answer-{call.pk}-Empathy" value="{v}"' in empathy for v in range(1, 6)] == [True] * 5
    assert 'value="pass"' not in empathy and "1–2 fail · 3–5 pass" in empathy
    greeting = html[html.index('data-criterion="Greeting"'):]
    assert 'value="pass"' in greeting[:greeting.index("</tr>")]
    # The page keeps a value, and says it back; the pass/fail kept beside it is the value's.
    response = client.post(url, {f"answer-{call.pk}-Empathy": "2", f"answer-{call.pk}-Greeting": "pass"})
    assert response.status_code == 302
    kept = CalibrationAnswer.objects.get(criterion_name="Empathy")
    assert (kept.value, kept.passed) == (2, False)
    assert calibration.rater_sheet(created, people["ann"])[0]["criteria"][1]["value"] == 2
    assert 'value="2" checked' in client.get(url).content.decode()


@pytest.mark.parametrize("name, answer, words", [
    ("Empathy", True, "Empathy is a scale criterion: the answer is a value from 1 to 5"),
    ("Empathy", 6, "a value from 1 to 5"), ("Empathy", 0, "a value from 1 to 5"),
    ("Greeting", 4, "Greeting: the answer is pass or fail"),
])
def test_an_answer_that_does_not_fit_its_criterion_is_refused(scale_session, name, answer, words):
    created, people = scale_session
    call = Transcription.objects.get(name="call 1")
    with pytest.raises(ValidationError, match=words):
        calibration.calibration_answers_save(session=created, rater=people["ann"], answers={(call.pk, name): answer})
    assert not CalibrationAnswer.objects.exists()


def test_results_on_a_scale_criterion_are_the_values_with_krippendorffs_alpha(client, scale_session):
    created, people = scale_session
    for name in ("ann", "bob", "cleo", "eve"):
        calibration.calibration_answers_save(session=created, rater=people[name], answers=scale_answers(people[name]),
                                             submit=True)
    results = calibration.session_results(created, people["max"])
    by_name = {c["name"]: c for c in results["criteria"]}
    empathy = by_name["Empathy"]
    assert empathy["scale"] and not by_name["Greeting"]["scale"] and by_name["Greeting"]["alpha"] is None
    # The reviewers' values: call 1: 4, 5, 4; call 2: 2, 3, 1.
    assert empathy["alpha"] == round(reference_alpha([[4, 5, 4], [2, 3, 1]]), 3)
    first, second = empathy["items"]
    assert (first["values"], first["expert_value"], first["AI_value"], first["lowest"], first["highest"]) == (
        {"ann": 4, "bob": 5, "cleo": 4}, 4, 4, 4, 5)
    assert (second["AI_value"], second["AI"]) == (2, False)  # settled by the AI's score
    # Pass/fail, as the values say it: call 1 all pass; call 2 ann 2 fail, bob 3 pass, cleo 1 fail.
    assert (second["passes"], second["fails"]) == (1, 2)
    assert empathy["fleiss_kappa"] == fleiss_kappa([[3, 0], [1, 2]]).value
    # Same value (pairs): call 1: ann-cleo of 3 pairs; call 2: none -> 1 in 6.
    assert empathy["observed_agreement"] == 16.7
    # With the expert, the value: ann 4 and 2 (both), bob neither, cleo the first; on the three pass/fail ones,
    # cleo's Greeting on call 1 and bob's Resolved on call 2 differ.
    assert results["with_expert"] == [{"reviewer": "ann", "items": 8, "agreement_rate": 100},
                                      {"reviewer": "bob", "items": 8, "agreement_rate": 62.5},
                                      {"reviewer": "cleo", "items": 8, "agreement_rate": 75}]
    # Lowest first: Greeting's and Resolved's kappa (-0.2 each), then Empathy's alpha (.692, its values close).
    assert results["discuss_first"] == ["Greeting", "Resolved", "Empathy"] and empathy["alpha"] == 0.692

    client.force_login(people["max"])
    html = client.get(reverse("admin:qa_calibrationsession_results", args=[created.pk])).content.decode()
    section = html[html.index('data-criterion="Empathy"'):]
    section = section[:section.index("</section>")]
    assert f"Krippendorff's alpha (values): <strong>{empathy['alpha']}</strong>" in section
    assert '<span class="qa-value qa-value-pass">5</span>' in section  # bob's value, as a value
    assert "4–5 · 3 pass / 0 fail" in section and "1–3 · 1 pass / 2 fail" in section


def test_a_scale_answer_kept_without_a_value_is_missing(scale_session):
    """An answer kept before values were asked (pass/fail only) is no value: the sheet asks it again, submitting
    waits for it, and alpha leaves it out."""
    created, people = scale_session
    ann, bob, cleo = people["ann"], people["bob"], people["cleo"]
    calibration.calibration_answers_save(session=created, rater=ann, answers=scale_answers(ann))
    call = Transcription.objects.get(name="call 2")
    CalibrationAnswer.objects.filter(rater=ann, transcription=call, criterion_name="Empathy").update(value=None)
    assert calibration.rater_sheet(created, ann)[1]["criteria"][1]["answer"] is None
    with pytest.raises(ValidationError, match=r"\(1 left\)"):
        calibration.calibration_answers_save(session=created, rater=ann, answers={}, submit=True)
    for rater in (bob, cleo):
        calibration.calibration_answers_save(session=created, rater=rater, answers=scale_answers(rater), submit=True)
    CalibrationAnswer.objects.filter(rater=bob, transcription=call, criterion_name="Empathy").update(value=None)
    empathy = calibration.session_results(created, people["max"])["criteria"][1]
    assert empathy["items"][1]["values"] == {"bob": None, "cleo": 1}
    assert empathy["alpha"] == round(reference_alpha([[5, 4], [None, 1]]), 3)
