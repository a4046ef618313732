"""What-if: past calls rescored with unsaved criteria, by hand-computed cases, through the service and the API."""

import pytest
from django.core.exceptions import ValidationError

from qa.mirror.models import Evaluator, EvaluatorRevision
from qa.scorecards import whatif
from tests import builders
from tests.qa.test_api import API, assert_error, client_for, user_with

pytestmark = pytest.mark.django_db


def crit(name, kind, weight):
    return {"id": builders.new_id(), "name": name, "description": f"{name}?", "type": kind, "weight": weight}


def result(name, passed, value=None):
    return {"name": name, "passed": passed, **({"value": value} if value is not None else {})}


def scored_call(evaluator, participant, score, results, *, critical=False, day=7, completed=None):
    body = builders.transcription_payload(evaluator=evaluator, participant=participant,
                                          created_at=f"2026-03-{day:02d}T10:00:00+00:00")
    body["details"]["evaluation"] = {"score": score, "critical_fail_triggered": critical, "criteria_results": results}
    body["details"]["completed_at"] = completed or f"2026-03-{day:02d}T10:05:00Z"
    return body


def new(*criteria):
    return [{"name": n, "description": "", "type": k, "weight": w} for n, k, w in criteria]


@pytest.fixture
def boolean_calls(load):
    """Greeting (boolean 20), No offensive language (strict), Issue resolved (boolean 80); three calls."""
    evaluator = builders.evaluator_payload(criteria=[
        crit("Greeting", "BOOLEAN", 20), crit("No offensive language", "STRICT", 0),
        crit("Issue resolved", "BOOLEAN", 80),
    ])
    ann, bob = builders.participant_payload(tag="Ann"), builders.participant_payload(tag="Bob")
    calls = [
        scored_call(evaluator, ann, 80, [result("Greeting", False), result("No offensive language", True),
                                         result("Issue resolved", True)], day=1),
        scored_call(evaluator, bob, 20, [result("Greeting", True), result("No offensive language", True),
                                         result("Issue resolved", False)], day=2),
        scored_call(evaluator, bob, 100, [result("Greeting", True), result("No offensive language", False),
                                          result("Issue resolved", True)], critical=True, day=3),
    ]
    load(evaluators=[evaluator], participants=[ann, bob], transcriptions=calls)
    return Evaluator.objects.get()


def test_boolean_weights_rescored_by_hand(boolean_calls):
    data = whatif.evaluator_what_if(evaluator=boolean_calls, criteria=new(
        ("Greeting", "boolean", 70), ("No offensive language", "strict", 0), ("Issue resolved", "boolean", 30)))
    # Before: 80 (pass), 20 (fail), 100 critical (fail). After: 30, 70, 100 critical.
    assert {k: data[k] for k in (
        "calls", "avg_score_before", "avg_score_after", "pass_rate_before", "pass_rate_after",
        "critical_fails_before", "critical_fails_after", "flipped_to_fail", "flipped_to_pass", "inexact_calls",
    )} == {
        "calls": 3, "avg_score_before": 66.7, "avg_score_after": 66.7, "pass_rate_before": 33.3,
        "pass_rate_after": 33.3, "critical_fails_before": 1, "critical_fails_after": 1, "flipped_to_fail": 1,
        "flipped_to_pass": 1, "inexact_calls": 0,
    }
    assert data["score_distribution_before"] == {"0-20": 1, "21-40": 0, "41-60": 0, "61-80": 1, "81-100": 1}
    assert data["score_distribution_after"] == {"0-20": 0, "21-40": 1, "41-60": 0, "61-80": 1, "81-100": 1}
    assert data["avg_score_after_range"] == [66.7, 66.7] and data["not_evaluated"] == []
    # Ann: 80 -> 30 (-50); Bob: 60 -> 85 (+25).
    assert [(p["tag"], p["avg_score_before"], p["avg_score_after"], p["change"])
            for p in data["participants_most_affected"]] == [("Ann", 80, 30, -50), ("Bob", 60, 85, 25)]


def test_a_criterion_made_strict_triggers_critical_fails(boolean_calls):
    data = whatif.evaluator_what_if(evaluator=boolean_calls, criteria=new(
        ("Greeting", "strict", 40), ("No offensive language", "strict", 0), ("Issue resolved", "boolean", 100)))
    # Greeting failed on the first call: now a critical fail (score 100, but critical). Second: 0. Third: 100 critical.
    assert (data["critical_fails_after"], data["flipped_to_fail"], data["flipped_to_pass"]) == (2, 1, 0)
    assert data["avg_score_after"] == round((100 + 0 + 100) / 3, 1)
    assert data["notices"] == ["Criterion 1 ('Greeting') is strict, so its weight was set to 0 (it was 40)."]


def test_a_criterion_no_call_saw_counts_as_not_evaluated_and_is_named(boolean_calls):
    data = whatif.evaluator_what_if(evaluator=boolean_calls, criteria=new(
        ("Greeting", "boolean", 20), ("No offensive language", "strict", 0), ("Issue resolved", "boolean", 50),
        ("Upsell", "boolean", 30)))
    assert [(row["name"], row["calls"]) for row in data["not_evaluated"]] == [("Upsell", 3)]
    assert "in none of these calls' results" in data["not_evaluated"][0]["message"]
    assert "not evaluated" in data["not_evaluated"][0]["message"]
    # 50, 20, 70: Upsell adds nothing.
    assert data["avg_score_after"] == round((50 + 20 + 70) / 3, 1) and data["inexact_calls"] == 0


def scale_evaluator(load, calls_results, criteria=(("Empathy", "SCALE", 50), ("Issue resolved", "BOOLEAN", 50))):
    evaluator = builders.evaluator_payload(criteria=[crit(*c) for c in criteria])
    agent = builders.participant_payload(tag="Cleo")
    load(evaluators=[evaluator], participants=[agent], transcriptions=[
        scored_call(evaluator, agent, score, results, day=n + 1) for n, (score, results) in enumerate(calls_results)])
    return Evaluator.objects.get(heify_id=evaluator["evaluator_id"]), evaluator


def test_scale_values_carried_or_determined_by_the_score_rescore_exactly(load):
    evaluator, _ = scale_evaluator(load, [
        (90, [result("Empathy", True, value=4), result("Issue resolved", True)]),  # carried: 4/5*50 + 50
        (30, [result("Empathy", True), result("Issue resolved", False)]),  # v/5*50 = 30 -> 3
        (70, [result("Empathy", False), result("Issue resolved", True)]),  # v/5*50 = 20 -> 2
    ])
    data = whatif.evaluator_what_if(evaluator=evaluator, criteria=new(("Empathy", "scale", 80),
                                                                      ("Issue resolved", "boolean", 20)))
    # 4/5*80 + 20 = 84; 3/5*80 = 48; 2/5*80 + 20 = 52.
    assert data["inexact_calls"] == 0
    assert data["avg_score_after"] == round((84 + 48 + 52) / 3, 1) == data["avg_score_after_range"][0]
    assert data["score_distribution_after"] == {"0-20": 0, "21-40": 0, "41-60": 2, "61-80": 0, "81-100": 1}
    assert (data["flipped_to_fail"], data["flipped_to_pass"]) == (0, 0)  # 90 -> 84, 70 -> 52 pass; 30 -> 48 fails


def test_unknown_scale_values_are_bounded_and_counted_inexact(load):
    criteria = (("Empathy", "SCALE", 50), ("Clarity", "SCALE", 50))
    evaluator, _ = scale_evaluator(load, [
        (60, [result("Empathy", True), result("Clarity", False)]),  # two unknowns: 4 and 2, or 5 and 1
    ], criteria)
    data = whatif.evaluator_what_if(evaluator=evaluator,
                                    criteria=new(("Empathy", "scale", 70), ("Clarity", "scale", 30)))
    # Empathy passed: 3-5, Clarity failed: 1-2 -> from 3/5*70 + 1/5*30 = 48 to 70 + 2/5*30 = 82.
    assert data["inexact_calls"] == 1
    assert data["avg_score_after_range"] == [48, 82] and data["avg_score_after"] == 65
    assert data["pass_rate_after_range"] == [0, 100]
    assert (data["flipped_to_fail"], data["flipped_to_pass"], data["flips_uncertain"]) == (0, 0, 1)


def test_one_carried_value_lets_the_score_determine_the_other(load):
    criteria = (("Empathy", "SCALE", 50), ("Clarity", "SCALE", 50))
    evaluator, _ = scale_evaluator(load, [(60, [result("Empathy", True, value=4), result("Clarity", False)])], criteria)
    data = whatif.evaluator_what_if(evaluator=evaluator,
                                    criteria=new(("Empathy", "scale", 70), ("Clarity", "scale", 30)))
    # Clarity: 60 - 40 = 20 -> 2; 4/5*70 + 2/5*30 = 68.
    assert data["inexact_calls"] == 0 and data["avg_score_after"] == 68


def test_two_unknown_values_the_score_settles_are_recovered_as_the_score_of_record_recovers_them(load):
    from qa.mirror import criterion_results
    from qa.mirror.models import Transcription
    from qa.reviews import record

    criteria = (("Empathy", "SCALE", 25), ("Clarity", "SCALE", 20), ("Issue resolved", "BOOLEAN", 55))
    # 25e/5 + 20c/5 + 55 = 87 -> 5e + 4c = 32 with e, c in 3-5: only e = 4, c = 3.
    evaluator, _ = scale_evaluator(load, [(87, [result("Empathy", True), result("Clarity", True),
                                                result("Issue resolved", True)])], criteria)
    call = Transcription.objects.annotate(pattern=criterion_results.results_pattern()).get()
    assert record.ai_values(criterion_results.pattern(call.pattern), ai_score=87) == {"Empathy": 4, "Clarity": 3}
    data = whatif.evaluator_what_if(evaluator=evaluator, criteria=new(
        ("Empathy", "scale", 50), ("Clarity", "scale", 30), ("Issue resolved", "boolean", 20)))
    # 4/5*50 + 3/5*30 + 20 = 78, exactly.
    assert data["inexact_calls"] == 0 and data["avg_score_after"] == 78


def test_values_are_recovered_with_the_revision_that_scored_the_call(load):
    evaluator, payload = scale_evaluator(load, [(30, [result("Empathy", True), result("Issue resolved", False)])])
    changed = [dict(c) for c in payload["criteria"]]
    changed[0]["weight"], changed[1]["weight"] = 20, 80
    load(evaluators=[{**payload, "criteria": changed, "updated_at": "2026-03-20T09:00:00+00:00"}])
    assert EvaluatorRevision.objects.filter(evaluator=evaluator).count() == 2
    # Scored by revision 1 (Empathy 50): v = 3. Under revision 2's weights no value would give 30.
    data = whatif.evaluator_what_if(evaluator=evaluator, criteria=new(("Empathy", "scale", 50),
                                                                      ("Issue resolved", "boolean", 50)))
    assert data["inexact_calls"] == 0 and data["avg_score_after"] == 30


def test_calls_with_the_same_results_scored_by_different_revisions_are_told_apart(load):
    """What-if reads the rows of one call of each results key and revision: the same results and score under two
    revisions are two patterns, each recovered with its own weights."""
    same = [result("Empathy", True), result("Issue resolved", False)]
    evaluator, payload = scale_evaluator(load, [(30, same)])  # Empathy 50: v = 3
    changed = [dict(c) for c in payload["criteria"]]
    changed[0]["weight"], changed[1]["weight"] = 20, 80
    load(evaluators=[{**payload, "criteria": changed, "updated_at": "2026-03-20T09:00:00+00:00"}],
         transcriptions=[scored_call(payload, None, 30, same, day=25)])  # Empathy 20: no value gives 30
    data = whatif.evaluator_what_if(evaluator=evaluator, criteria=new(("Empathy", "scale", 50),
                                                                      ("Issue resolved", "boolean", 50)))
    # 3/5*50 = 30 exactly; the other 30-50 (3 to 5), 40 as an estimate.
    assert (data["calls"], data["inexact_calls"], data["avg_score_after"], data["avg_score_after_range"]) == (
        2, 1, 35, [30, 40])


def test_limit_and_dates_pick_the_calls(boolean_calls):
    same = new(("Greeting", "boolean", 20), ("No offensive language", "strict", 0), ("Issue resolved", "boolean", 80))
    assert whatif.evaluator_what_if(evaluator=boolean_calls, criteria=same, limit=2)["avg_score_before"] == 60
    dated = whatif.evaluator_what_if(evaluator=boolean_calls, criteria=same, date_from=_day(2), date_to=_day(2))
    assert (dated["calls"], dated["avg_score_before"]) == (1, 20)
    with pytest.raises(ValidationError) as bad:
        whatif.evaluator_what_if(evaluator=boolean_calls, criteria=same, limit=0, date_from=_day(3), date_to=_day(2))
    assert set(bad.value.message_dict) == {"limit", "date_to"}


def test_the_newest_calls_come_grouped_with_their_results_as_the_orm_reads_them(load):
    """scored_calls: the newest scored calls the limit and dates pick, counted by participant, score, critical and
    results text, which decodes to each call's rows as the ORM reads them (odd names, unknown verdicts, none)."""
    from collections import Counter

    from qa.mirror import criterion_results
    from qa.mirror.models import Transcription

    evaluator = builders.evaluator_payload(criteria=[crit("Greeting", "BOOLEAN", 30), crit("Empathy", "SCALE", 70)])
    ann = builders.participant_payload(tag="Ann")
    odd = [result("Greeting", True), "not a result", {"name": "Issue resolved"}, result("Empathy", False, value=2),
           result('Quote "and" comma, 3,4,é ☎', True), result("", False), result("Greeting", False)]
    plain = [result("Greeting", True), result("Empathy", True, value=5)]
    calls = [scored_call(evaluator, ann, 100, plain, day=1), scored_call(evaluator, ann, 100, plain, day=2),
             scored_call(evaluator, ann, 44.5, odd, critical=True, day=3), scored_call(evaluator, None, 0, [], day=4),
             scored_call(evaluator, ann, 30, odd, day=5), scored_call(evaluator, ann, 100, plain, day=6)]
    unscored = builders.transcription_payload(evaluator=evaluator, status="FAILED", details=None)
    load(evaluators=[evaluator], participants=[ann], transcriptions=[*calls, unscored])
    card = Evaluator.objects.get()
    for query in ({"limit": 1_000, "date_from": None, "date_to": None},
                  {"limit": 4, "date_from": None, "date_to": None},
                  {"limit": 1_000, "date_from": _day(2), "date_to": _day(4)}):
        picked = Transcription.objects.filter(evaluator_id=card.heify_id, score__isnull=False)
        if query["date_from"]:
            picked = picked.filter(occurred_at__date__gte=query["date_from"], occurred_at__date__lte=query["date_to"])
        expected = Counter(
            (call.participant_id, call.score, call.critical_fail_triggered,
             tuple((r.name, r.passed, r.value, r.type, None if r.weight is None else float(r.weight))
                   for r in call.criterion_results.all()))
            for call in picked.order_by("-occurred_at")[:query["limit"]])
        got = Counter()
        for participant, score, critical, text, n in whatif.scored_calls(card, **query):
            got[(participant, score, bool(critical), criterion_results.pattern(text))] += n
        assert got == expected and len(expected) > 1


def _day(n):
    from datetime import date

    return date(2026, 3, n)


def test_api_answers_the_preview_and_changes_nothing(boolean_calls):
    manager = user_with("change_evaluator", "view_evaluator")
    api = client_for(manager)
    before = (boolean_calls.version, boolean_calls.revisions.count(), list(boolean_calls.criteria.values()))
    url = f"{API}/evaluators/{boolean_calls.heify_id}/what-if/"
    response = api.post(url, {"criteria": new(("Greeting", "boolean", 70), ("No offensive language", "strict", 0),
                                              ("Issue resolved", "boolean", 30)), "limit": 10}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["calls"], data["flipped_to_fail"], data["flipped_to_pass"]) == (3, 1, 1)
    boolean_calls.refresh_from_db()
    assert (boolean_calls.version, boolean_calls.revisions.count(), list(boolean_calls.criteria.values())) == before

    assert_error(client_for(user_with("view_evaluator", username="reader")).post(url, {"criteria": []}, format="json"),
                 403)
    assert_error(api.post(f"{API}/evaluators/nope/what-if/", {"criteria": []}, format="json"), 404)
    assert_error(api.post(url, {"criteria": []}, format="json", HTTP_X="y"), 400, field="criteria")
    assert_error(api.post(url, {"criteria": new(("A", "boolean", 100)), "limit": 0}, format="json"), 400,
                 field="limit")


def test_bad_criteria_get_the_same_400_as_a_save(boolean_calls):
    api = client_for(user_with("change_evaluator", "view_evaluator"))
    bad = new(("Greeting", "boolean", 20), ("greeting", "boolean", 70))
    preview = assert_error(api.post(f"{API}/evaluators/{boolean_calls.heify_id}/what-if/", {"criteria": bad},
                                    format="json"), 400, field="criteria")
    save = assert_error(api.patch(f"{API}/evaluators/{boolean_calls.heify_id}/", {"criteria": bad}, format="json"),
                        400, field="criteria")
    assert preview["fields"]["criteria"] == save["fields"]["criteria"]
    assert any("sum to 100" in m for m in preview["fields"]["criteria"]) is False  # names first, as a save says
    assert any("already used" in m for m in preview["fields"]["criteria"])


def test_many_calls_sharing_few_patterns_get_the_figures_of_each_call_scored_alone(load):
    """What-if counts calls by pattern and adds figures up per pattern and participant; the figures are those of
    every call rescored on its own by the score rule, from the values the calls were made with (benchmarks/whatif.py
    times it at 100,000 calls)."""
    import random

    from qa.mirror import report_rules, rules

    rng = random.Random(7)
    criteria = [crit("Greeting", "BOOLEAN", 20), crit("Empathy", "SCALE", 30), crit("Resolved", "BOOLEAN", 50),
                crit("No offensive language", "STRICT", 0)]
    evaluator = builders.evaluator_payload(criteria=criteria)
    agents = [builders.participant_payload() for _ in range(7)]
    new_criteria = new(("Greeting", "boolean", 10), ("Empathy", "scale", 60), ("Resolved", "boolean", 30),
                       ("No offensive language", "strict", 0))
    cleaned, _ = rules.clean_criteria(new_criteria)
    calls, after, by_agent = [], [], {}
    for n in range(600):
        verdicts = {"Greeting": rng.random() < 0.8, "Empathy": rng.randint(1, 5), "Resolved": rng.random() < 0.7,
                    "No offensive language": rng.random() < 0.97}
        score = round(20 * verdicts["Greeting"] + verdicts["Empathy"] / 5 * 30 + 50 * verdicts["Resolved"], 2)
        results = [result("Greeting", verdicts["Greeting"]), result("Empathy", verdicts["Empathy"] >= 3),
                   result("Resolved", verdicts["Resolved"]),
                   result("No offensive language", verdicts["No offensive language"])]
        agent = agents[n % 7]
        calls.append(scored_call(evaluator, agent, score, results, critical=not verdicts["No offensive language"],
                                 day=1 + n % 28))
        alone = rules.evaluation_score(cleaned, verdicts)
        after.append(alone)
        by_agent.setdefault(agent["participant_id"], []).append(alone["score"] - score)
    load(evaluators=[evaluator], participants=agents, transcriptions=calls)
    data = whatif.evaluator_what_if(evaluator=Evaluator.objects.get(), limit=600, criteria=new_criteria)
    pass_mark = report_rules.ReportSettings.current().pass_mark
    assert data["calls"] == 600 and data["inexact_calls"] == 0  # the one scale value follows from each score
    assert data["avg_score_after"] == report_rules.mean_figure(sum(a["score"] for a in after) / 600)
    assert data["pass_rate_after"] == report_rules.rate_figure(
        sum(report_rules.passes(a["score"], a["critical_fail_triggered"], pass_mark) for a in after), 600)
    assert data["critical_fails_after"] == sum(a["critical_fail_triggered"] for a in after)
    assert {p["participant_id"]: p["change"] for p in data["participants_most_affected"]} == {
        agent: report_rules.mean_figure(sum(changes) / len(changes)) for agent, changes in by_agent.items()}


def test_the_edit_page_offers_the_preview(admin_client, boolean_calls):
    from django.urls import reverse

    page = admin_client.get(reverse("admin:qa_evaluator_change", args=[boolean_calls.pk])).content.decode()
    assert "Preview the effect" in page
    assert f'data-url="/api/v1/evaluators/{boolean_calls.heify_id}/what-if/"' in page
