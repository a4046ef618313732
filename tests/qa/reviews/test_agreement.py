"""AI-vs-reviewer agreement: Cohen's kappa by hand and against scikit-learn, the quadratic-weighted kappa against
scikit-learn and statsmodels, the report (pass/fail and values), the verdicts API and the managers' page."""

import math
import warnings
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa

from qa.mirror.models import Evaluator, Transcription
from qa.reviews import agreement, queues
from qa.reviews.agreement import cohen_kappa, weighted_kappa
from qa.reviews.models import CriterionVerdict
from tests import builders
from tests.builders import person
from tests.qa.test_api import API, assert_error, client_for

pytestmark = pytest.mark.django_db


# --- Cohen's kappa, against values worked out by hand ------------------------------------------------


def test_kappa_of_the_textbook_table():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15. po = .7, pe = .5*.6 + .5*.4 = .5, kappa = .4.
    # SE = sqrt(.7*.3 / (50 * .5**2)) = sqrt(.0168) = .12961; 1.96 SE = .25404.
    k = cohen_kappa([[20, 5], [10, 15]])
    assert (k.value, k.ci_low, k.ci_high, k.reason) == (0.4, 0.146, 0.654, "")


@pytest.mark.parametrize("table, kappa", [
    ([[45, 15], [25, 15]], 0.13),  # po .6, pe .6*.7 + .4*.3 = .54 -> .06/.46 = .1304
    ([[25, 35], [5, 35]], 0.259),  # po .6, pe .6*.3 + .4*.7 = .46 -> .14/.54 = .2593
    ([[0, 3], [2, 0]], -0.923),  # po 0, pe .6*.4 + .4*.6 = .48 -> -.48/.52
])
def test_kappa_by_hand(table, kappa):
    assert cohen_kappa(table).value == kappa


def test_perfect_agreement_has_a_zero_width_interval():
    assert cohen_kappa([[3, 0], [0, 2]]) == agreement.Kappa(1.0, 1.0, 1.0)


def test_the_interval_is_cut_to_kappas_range():
    # AI always passes, the reviewer 3 of 5: po = .6, pe = 1*.6 = .6, kappa 0, SE = sqrt(.24/(5*.16)) = .5477.
    k = cohen_kappa([[3, 2], [0, 0]])
    assert (k.value, k.ci_low, k.ci_high) == (0.0, -1.0, 1.0)


@pytest.mark.parametrize("table, words", [
    ([[0, 0], [0, 0]], "no reviewed calls"),
    ([[5, 0], [0, 0]], "'pass' on every call"),
    ([[0, 0], [0, 4]], "'fail' on every call"),
])
def test_undefined_kappa_is_none_with_the_reason_never_nan(table, words):
    k = cohen_kappa(table)
    assert k.value is None and k.ci_low is None and k.ci_high is None and words in k.reason


# --- against the reference libraries ---------------------------------------------------------------------


ROUNDED = 5e-4 + 1e-9  # ours are rounded to 3 places


def table_of(pairs, labels):
    table = [[0] * len(labels) for _ in labels]
    for a, b in pairs:
        table[labels.index(a)][labels.index(b)] += 1
    return table


def pairs_of(table, labels):
    return [(labels[i], labels[j]) for i, row in enumerate(table) for j, count in enumerate(row) for _ in range(count)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=80))
def test_cohen_kappa_is_scikit_learns(pairs):
    labels = [True, False]
    ours = cohen_kappa(table_of(pairs, labels))
    ai, reviewer = zip(*pairs, strict=True)
    if len(set(ai) | set(reviewer)) == 1:  # one same answer throughout: scikit-learn's is undefined too
        assert ours.value is None
        return
    assert ours.value == pytest.approx(cohen_kappa_score(ai, reviewer, labels=labels), abs=ROUNDED)


SCALE = [1, 2, 3, 4, 5]
TABLES = [  # AI's value (rows) x reviewer's (columns), 1-5
    [[5, 2, 0, 0, 0], [1, 6, 3, 0, 0], [0, 2, 9, 2, 1], [0, 0, 3, 7, 2], [0, 0, 0, 1, 4]],  # close, mostly
    [[0, 0, 0, 0, 4], [0, 0, 0, 3, 0], [0, 0, 2, 0, 0], [0, 3, 0, 0, 0], [4, 0, 0, 0, 0]],  # the scale reversed
    [[0, 0, 0, 0, 0], [0, 3, 1, 0, 0], [0, 0, 0, 0, 0], [0, 2, 0, 6, 1], [0, 0, 0, 1, 2]],  # values unused
    [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 5, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],  # constant, apart
    [[1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]],  # two, both agreed
]


def assert_weighted_kappa_is_the_references(table):
    ours = weighted_kappa(table)
    ai, reviewer = zip(*pairs_of(table, SCALE), strict=True)
    # labels: the whole 1-5 scale, so that the weights are on the values, not on the values that happen to occur.
    assert ours.value == pytest.approx(cohen_kappa_score(ai, reviewer, labels=SCALE, weights="quadratic"), abs=ROUNDED)
    with warnings.catch_warnings():  # its z statistic under the null divides by zero on a constant rater: unused
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = cohens_kappa(table, wt="quadratic")
    assert ours.value == pytest.approx(reference.kappa, abs=ROUNDED)
    se = math.sqrt(max(0.0, reference.var_kappa))  # Fleiss, Cohen & Everitt's large-sample variance, as ours
    assert ours.ci_low == pytest.approx(max(-1, reference.kappa - agreement.Z_95 * se), abs=2 * ROUNDED)
    assert ours.ci_high == pytest.approx(min(1, reference.kappa + agreement.Z_95 * se), abs=2 * ROUNDED)


@pytest.mark.parametrize("table", TABLES)
def test_weighted_kappa_is_scikit_learns_and_its_interval_statsmodels(table):
    assert_weighted_kappa_is_the_references(table)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SCALE), st.sampled_from(SCALE)), min_size=2, max_size=60))
def test_weighted_kappa_is_the_references_on_any_table(pairs):
    assume(len({value for pair in pairs for value in pair}) > 1)  # else undefined: below
    assert_weighted_kappa_is_the_references(table_of(pairs, SCALE))


def test_weighted_kappa_by_hand_and_where_undefined():
    # AI 4 and 2, reviewer 4 and 1: disagreement weights (i - j)^2/16: 0 and 1/16 observed -> 1/32 on average;
    # expected over AI {2, 4} x reviewer {1, 4}: (1/16 + 4/16 + 9/16 + 0) / 4 = 14/64; kappa = 1 - (1/32)/(14/64).
    assert weighted_kappa(table_of([(4, 4), (2, 1)], SCALE)).value == round(1 - (1 / 32) / (14 / 64), 3) == 0.857
    assert "no reviewed calls" in weighted_kappa(table_of([], SCALE)).reason
    same = weighted_kappa(table_of([(4, 4)] * 3, SCALE))
    assert same.value is None and "both gave 4 on every call" in same.reason


# --- the report ------------------------------------------------------------------------------------------


def results(greeting, resolved=True):
    return [{"name": "Greeting", "passed": greeting}, {"name": "No offensive language", "passed": True},
            {"name": "Issue resolved", "passed": resolved}]


@pytest.fixture
def reviewed(load):
    """Five calls; ann reviews three, bob two (each holds the claim while recording, as on the review page)."""
    evaluator = builders.evaluator_payload()
    greeting = [False, True, True, False, True]
    calls = []
    for n, passed in enumerate(greeting):
        body = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW",
                                              created_at=f"2026-03-{n + 1:02d}T10:00:00+00:00")
        body["details"]["evaluation"]["criteria_results"] = results(passed)
        calls.append(body)
    load(evaluators=[evaluator], transcriptions=calls)
    ann, bob = person("ann", "Reviewer"), person("bob", "Reviewer")
    pks = [Transcription.objects.get(heify_id=c["transcription_id"]).pk for c in calls]
    plan = [(ann, [True, True, False], pks[:3]), (bob, [True, False], pks[3:])]
    for reviewer, agrees, their_calls in plan:
        for pk, agree in zip(their_calls, agrees, strict=True):
            queues.transcription_claim(transcription_id=pk, reviewer=reviewer)
            queues.transcription_verdicts_record(transcription_id=pk, acting_user=reviewer,
                                                 verdicts=[queues.Verdict("Greeting", agree,
                                                                          "" if agree else "The greeting was fine.")])
            if reviewer is ann:
                queues.transcription_verdicts_record(transcription_id=pk, acting_user=reviewer,
                                                     verdicts=[queues.Verdict("Issue resolved", True)])
    return Evaluator.objects.get(), pks


def test_agreement_per_criterion_and_reviewer(reviewed):
    evaluator, pks = reviewed
    data = agreement.evaluator_agreement(evaluator=evaluator)
    greeting, resolved = data["criteria"]
    # Greeting: AI pass & reviewer pass 1 (call 2), AI pass & reviewer fail 2 (3, 5), AI fail & reviewer fail 2.
    # po = .6, pe = .6*.2 + .4*.8 = .44, kappa = .16/.56 = .2857; SE = sqrt(.24/(5*.56**2)) = .39123.
    se = math.sqrt(0.6 * 0.4 / (5 * 0.56 ** 2))
    assert {k: greeting[k] for k in ("name", "reviewed", "agree", "agreement_rate", "kappa", "kappa_ci_low",
                                     "kappa_ci_high")} == {
        "name": "Greeting", "reviewed": 5, "agree": 3, "agreement_rate": 60, "kappa": 0.286,
        "kappa_ci_low": round(0.16 / 0.56 - agreement.Z_95 * se, 3), "kappa_ci_high": 1.0,
    }
    assert greeting["kappa_ci_low"] == -0.481
    assert [(d["pk"], d["reviewer"], d["ai_passed"]) for d in greeting["disagreements"]] == [
        (pks[2], "ann", True), (pks[4], "bob", True)]
    assert resolved["name"] == "Issue resolved" and resolved["agreement_rate"] == 100
    assert resolved["kappa"] is None and "'pass' on every call" in resolved["kappa_undefined_reason"]
    assert [(r["reviewer"], r["reviewed"], r["disagree"]) for r in data["reviewers"]] == [("ann", 6, 1), ("bob", 2, 1)]
    assert data["reviewers"][1]["criteria"] == [{"name": "Greeting", "reviewed": 2, "disagree": 1,
                                                 "disagreement_rate": 50}]


def test_the_date_range_picks_the_calls(reviewed):
    evaluator, _ = reviewed
    from datetime import date

    data = agreement.evaluator_agreement(evaluator=evaluator, date_from=date(2026, 3, 4), date_to=date(2026, 3, 5))
    assert [(c["name"], c["reviewed"]) for c in data["criteria"]] == [("Greeting", 2)]


def test_agreement_api(reviewed):
    evaluator, _ = reviewed
    manager = person("max", "QA manager")
    api = client_for(manager)
    url = f"{API}/evaluators/{evaluator.heify_id}/agreement/"
    body = api.get(url, {"date_from": "2026-03-01", "date_to": "2026-03-31"}).json()["data"]
    first = body["criteria"][0]
    assert {"name", "reviewed", "agree", "agreement_rate", "kappa", "kappa_ci_low", "kappa_ci_high"} <= set(first)
    assert first["kappa"] == 0.286 and body["criteria"][1]["kappa"] is None
    assert [r["reviewer"] for r in body["reviewers"]] == ["ann", "bob"]
    assert_error(api.get(url, {"date_from": "2026-03-05", "date_to": "2026-03-01"}), 400, field="date_to")
    assert_error(api.get(url, {"date_from": "March"}), 400, field="date_from")
    assert_error(api.get(f"{API}/evaluators/nope/agreement/"), 404)
    assert_error(client_for(User.objects.get(username="ann")).get(url), 403)


def test_the_reviewers_pass_fail_is_their_result_not_the_ais_turned_by_agrees(reviewed):
    """An agreement is the result the reviewer accepted: when Heify's result changes afterwards, the reviewer's
    result stays what it was, and now differs."""
    from syncer import mirror

    evaluator, pks = reviewed
    call = Transcription.objects.get(pk=pks[1])  # the AI passed Greeting; ann agreed
    assert CriterionVerdict.objects.get(transcription=call, criterion_name="Greeting").passed is True
    Transcription.objects.update(sync_state="synced")  # the claims reached Heify
    payload = {**call.raw, "updated_at": "2030-01-01T00:00:00Z"}
    payload["details"] = {**payload["details"], "evaluation": {  # Heify now says Greeting failed
        "score": 80.0, "critical_fail_triggered": False, "criteria_results": results(False)}}
    mirror.upsert("transcriptions", mirror.parse_batch("transcriptions", [payload]))
    greeting = agreement.evaluator_agreement(evaluator=evaluator)["criteria"][0]
    assert greeting["table"] == {"ai_pass_reviewer_pass": 0, "ai_pass_reviewer_fail": 2, "ai_fail_reviewer_pass": 1,
                                 "ai_fail_reviewer_fail": 2}
    assert [d["pk"] for d in greeting["disagreements"]] == [pks[1], pks[2], pks[4]]


def scale_results(empathy: dict, greeting=True) -> list[dict]:
    return [{"name": "Greeting", "passed": greeting}, {"name": "Empathy", **empathy},
            {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True}]


@pytest.fixture
def scale_reviewed(load):
    """Greeting (boolean 20), Empathy (scale 50), Resolved (boolean 30), No insults (strict); ann gives Empathy's
    value on five calls, or agrees."""
    from tests.qa.reviews.test_review_page import SCALE_EVALUATOR

    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    calls = {  # name -> (the AI's Empathy, its score, ann's verdict on Empathy)
        "carried": ({"passed": True, "value": 4}, 90.0, queues.Verdict("Empathy", value=5, reason="Warmer.")),
        "settled": ({"passed": True}, 90.0, queues.Verdict("Empathy", True)),  # 20 + 4/5 x 50 + 30: 4
        "unsettled": ({"passed": True}, None, queues.Verdict("Empathy", value=3)),  # no score: the AI's unknown
        "low": ({"passed": False, "value": 2}, 70.0, queues.Verdict("Empathy", value=1, reason="Cold.")),
        "agreed": ({"passed": False, "value": 1}, 60.0, queues.Verdict("Empathy", True)),
    }
    bodies = []
    for n, (name, (empathy, score, _)) in enumerate(calls.items()):
        body = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW", name=name,
                                              created_at=f"2026-03-{n + 1:02d}T10:00:00+00:00")
        body["details"]["evaluation"] = {"score": score, "critical_fail_triggered": False,
                                         "criteria_results": scale_results(empathy)}
        bodies.append(body)
    load(evaluators=[evaluator], transcriptions=bodies)
    ann = person("ann", "Reviewer")
    for name, (_, _, verdict) in calls.items():
        pk = Transcription.objects.get(name=name).pk
        queues.transcription_claim(transcription_id=pk, reviewer=ann)
        queues.transcription_verdicts_record(transcription_id=pk, acting_user=ann,
                                             verdicts=[verdict, queues.Verdict("Greeting", True)])
    return Evaluator.objects.get()


def test_scale_criteria_compare_values_with_the_weighted_kappa(scale_reviewed):
    data = agreement.evaluator_agreement(evaluator=scale_reviewed)
    greeting, empathy = data["criteria"]
    assert not greeting["scale"] and greeting["weighted_kappa"] is None and greeting["value_table"] is None
    assert empathy["scale"] and empathy["reviewed"] == 5 and empathy["agreement_rate"] == 100  # pass/fail: all same
    # The values: carried 4 -> 5; settled by the score 4 -> agreed, so 4; unsettled: unknown; 2 -> 1; 1 -> agreed 1.
    pairs = [(4, 5), (4, 4), (2, 1), (1, 1)]
    assert (empathy["values_compared"], empathy["values_unknown"], empathy["same_value"],
            empathy["same_value_rate"]) == (4, 1, 2, 50)
    assert empathy["value_table"] == table_of(pairs, SCALE)
    ai, reviewer = zip(*pairs, strict=True)
    assert empathy["weighted_kappa"] == pytest.approx(
        cohen_kappa_score(ai, reviewer, labels=SCALE, weights="quadratic"), abs=ROUNDED)
    assert empathy["weighted_kappa_ci_low"] < empathy["weighted_kappa"] <= empathy["weighted_kappa_ci_high"]
    # A different value is a disagreement, though the pass/fail is the same.
    assert [(d["ai_value"], d["reviewer_value"], d["reason"]) for d in empathy["disagreements"]] == [
        (4, 5, "Warmer."), (2, 1, "Cold.")]
    assert [(r["reviewer"], r["reviewed"], r["disagree"]) for r in data["reviewers"]] == [("ann", 10, 2)]


def test_a_scale_criterion_without_values_says_why_it_has_no_weighted_kappa(scale_reviewed):
    only_unsettled = agreement.evaluator_agreement(evaluator=scale_reviewed, date_from=date(2026, 3, 3),
                                                   date_to=date(2026, 3, 3))
    empathy = only_unsettled["criteria"][1]
    assert (empathy["values_compared"], empathy["values_unknown"]) == (0, 1)
    assert empathy["value_table"] == table_of([], SCALE)
    assert empathy["weighted_kappa"] is None and "both values known" in empathy["weighted_kappa_undefined_reason"]


def test_the_agreement_api_and_page_show_the_values(client, scale_reviewed):
    manager = person("max", "QA manager")
    body = client_for(manager).get(f"{API}/evaluators/{scale_reviewed.heify_id}/agreement/").json()["data"]
    empathy = body["criteria"][1]
    assert {"scale", "values_compared", "weighted_kappa", "weighted_kappa_ci_low", "weighted_kappa_ci_high",
            "value_table"} <= set(empathy)
    assert empathy["weighted_kappa"] is not None and empathy["disagreements"][0]["reviewer_value"] == 5
    client.force_login(manager)
    html = client.get(reverse("admin:qa_evaluatoragreement_changelist")).content.decode()
    values = html[html.index('id="agreement-values"'):]
    values = values[:values.index("</section>")]
    assert 'data-criterion="Empathy"' in values and 'data-criterion="Greeting"' not in values
    assert str(empathy["weighted_kappa"]) in values
    assert f"{empathy['weighted_kappa_ci_low']} to {empathy['weighted_kappa_ci_high']}" in values


# --- PUT /transcriptions/<id>/verdicts/ ------------------------------------------------------------------


@pytest.fixture
def claimed(load):
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW")])
    call = Transcription.objects.get()
    ann = person("ann", "Reviewer")
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    return call, ann


def test_verdicts_are_recorded_through_the_review_rules(claimed):
    call, ann = claimed
    api = client_for(ann)
    url = f"{API}/transcriptions/{call.heify_id}/verdicts/"
    response = api.put(url, {"verdicts": [
        {"criterion": "Greeting", "agrees": False, "reason": "She did greet."},
        {"criterion": "Issue resolved", "agrees": True},
    ]}, format="json")
    assert response.status_code == 200, response.content
    assert [(v["criterion"], v["agrees"], v["reviewer"]) for v in response.json()["data"]] == [
        ("Greeting", False, "ann"), ("Issue resolved", True, "ann")]
    assert call.review_events.filter(action="verdict").count() == 2  # history, as on the review page
    # A later PUT replaces that criterion's verdict and keeps the other.
    api.put(url, {"verdicts": [{"criterion": "Greeting", "agrees": True}]}, format="json")
    assert dict(CriterionVerdict.objects.values_list("criterion_name", "agrees")) == {
        "Greeting": True, "Issue resolved": True}


def test_bad_verdicts_change_nothing_and_say_which(claimed):
    call, ann = claimed
    api = client_for(ann)
    url = f"{API}/transcriptions/{call.heify_id}/verdicts/"
    no_reason = api.put(url, {"verdicts": [{"criterion": "Greeting", "agrees": True},
                                           {"criterion": "Issue resolved", "agrees": False}]}, format="json")
    assert "Say why" in assert_error(no_reason, 400, field="verdicts[1].reason")["message"]
    unknown = api.put(url, {"verdicts": [{"criterion": "Empathy", "agrees": True}]}, format="json")
    assert "no result for 'Empathy'" in assert_error(unknown, 400, field="verdicts[0].criterion")["message"]
    assert_error(api.put(url, {"verdicts": []}, format="json"), 400, field="verdicts")
    assert_error(api.put(url, {"verdicts": [{"criterion": "Greeting", "agrees": True}] * 2}, format="json"), 400,
                 field="verdicts")
    assert_error(api.put(url, {"verdicts": [{"criterion": "Greeting", "agrees": "perhaps"}]}, format="json"), 400,
                 field="verdicts[0].agrees")
    assert not CriterionVerdict.objects.exists()  # the good first one of the first request was not kept
    assert_error(api.put(f"{API}/transcriptions/nope/verdicts/", {"verdicts": []}, format="json"), 404)


def test_verdicts_need_the_review_permission(claimed):
    call, _ = claimed
    nobody = User.objects.create_user("nobody", password="pw-for-tests-1")
    response = client_for(nobody).put(f"{API}/transcriptions/{call.heify_id}/verdicts/",
                                      {"verdicts": [{"criterion": "Greeting", "agrees": True}]}, format="json")
    assert_error(response, 403)
    assert not CriterionVerdict.objects.exists()
    from rest_framework.test import APIClient

    assert_error(APIClient().put(f"{API}/transcriptions/{call.heify_id}/verdicts/", {}, format="json"), 401)


# --- the managers' page -------------------------------------------------------------------------------------


def test_the_agreement_page_is_for_managers(client, reviewed):
    evaluator, pks = reviewed
    client.force_login(person("max", "QA manager"))
    url = reverse("admin:qa_evaluatoragreement_changelist")
    page = client.get(url, {"evaluator": evaluator.heify_id})
    assert page.status_code == 200
    html = page.content.decode()
    assert "0.286" in html and "-0.481 to 1.0" in html
    assert reverse("admin:qa_reviewitem_change", args=[pks[2]]) in html  # a disagreement, linked
    assert "on every call" in html  # the undefined kappa, with its reason
    client.force_login(User.objects.get(username="ann"))
    assert client.get(url).status_code == 403


def test_dates_beyond_the_calendar_are_refused_not_a_crash(reviewed):
    evaluator, _ = reviewed
    api = client_for(person("max", "QA manager"))
    for path in ("agreement/?date_to=9999-12-31", "agreement/?date_from=0001-01-01"):
        assert_error(api.get(f"{API}/evaluators/{evaluator.heify_id}/{path}"), 400)
    response = api.post(f"{API}/evaluators/{evaluator.heify_id}/what-if/", {
        "criteria": [{"name": "A", "type": "boolean", "weight": 100}], "date_to": "9999-12-31"}, format="json")
    assert_error(response, 400, field="date_to")


def test_options_on_every_new_endpoint_answers(reviewed):
    evaluator, pks = reviewed
    call = Transcription.objects.get(pk=pks[0])
    api = client_for(person("max", "QA manager"))
    for path in (f"transcriptions/{call.heify_id}/verdicts/", f"evaluators/{evaluator.heify_id}/what-if/",
                 f"evaluators/{evaluator.heify_id}/agreement/", f"evaluators/{evaluator.heify_id}/revisions/"):
        assert api.options(f"{API}/{path}").status_code == 200, path


def test_the_report_reads_the_same_few_queries_whatever_the_calls(scale_reviewed, django_assert_num_queries):
    # The evaluator's criteria, the calls' results as scored (one pattern each), the verdicts, the disputes resolved.
    with django_assert_num_queries(4):
        agreement.evaluator_agreement(evaluator=scale_reviewed)
