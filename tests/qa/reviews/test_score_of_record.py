"""The score of record: the reviewer's results where given, the AI's elsewhere, scored by Heify's rule under the
revision that scored the call; verdicts with a result, archiving only what is decided, and the JSON's "review"."""

import pytest
from django.core.exceptions import ValidationError

from qa.mirror import rules
from qa.mirror.models import Transcription
from qa.reviews import queues, record
from tests.builders import person
from tests.qa.reviews.test_queues import api_for
from tests.qa.reviews.test_review_page import load_scale_call
from tests.qa.test_api import assert_error

# Greeting (boolean 20), Empathy (scale 50), Resolved (boolean 30), No insults (strict): the AI passed every one
# and scored 90, so Empathy's unknown value is 4 (20 + 4/5 x 50 + 30).
PATTERN = (("Greeting", True, None, "boolean", 20.0), ("Empathy", True, None, "scale", 50.0),
           ("Resolved", True, None, "boolean", 30.0), ("No insults", True, None, "strict", 0.0))
CRITERIA = [{"name": n, "type": k, "weight": w} for n, _, _, k, w in PATTERN]


def heify(verdicts: dict) -> dict:
    """Heify's own rule on every criterion's verdict: what the score of record must equal when all are known."""
    return rules.evaluation_score(CRITERIA, verdicts)


def compute(verdicts: dict, pattern=PATTERN, score=90.0, critical=False) -> record.Record:
    return record.compute(pattern, ai_score=score, ai_critical=critical, verdicts=verdicts)


def test_agreeing_on_everything_leaves_the_ais_score_and_flag():
    kept = compute({"Greeting": (True, None), "Empathy": (True, None)})
    assert (kept.low, kept.high, kept.score, kept.critical) == (90.0, 90.0, 90.0, False)
    assert {r.source for r in kept.results} == {"ai"}


def test_a_boolean_flip_is_rescored_by_heifys_rule_with_the_value_the_ais_score_settles():
    kept = compute({"Resolved": (False, None)})
    expected = heify({"Greeting": True, "Empathy": 4, "Resolved": False, "No insults": True})
    assert kept.exact and kept.score == expected["score"] == 60.0
    assert [r.as_json() for r in kept.results if r.source == "reviewer"] == [
        {"name": "Resolved", "passed": False, "value": None, "source": "reviewer"}]
    assert kept.failed == ["Resolved"]


def test_a_reviewers_scale_value_replaces_the_ais():
    kept = compute({"Empathy": (False, 2)})
    assert kept.score == heify({"Greeting": True, "Empathy": 2, "Resolved": True, "No insults": True})["score"] == 70


def test_a_failed_strict_criterion_is_the_critical_fail_of_record():
    kept = compute({"No insults": (False, None)})
    assert kept.critical and kept.score == 90.0  # a strict criterion adds nothing


def test_values_no_score_settles_leave_a_range_and_its_middle():
    # Two scale criteria of unknown value, 40 and 40: the AI's 68 fits (3,3)->... many pairs, so a flip of
    # Greeting leaves Empathy + Tone anywhere the 68 allowed.
    pattern = (("Greeting", True, None, "boolean", 20.0), ("Empathy", True, None, "scale", 40.0),
               ("Tone", True, None, "scale", 40.0))
    kept = compute({"Greeting": (False, None)}, pattern=pattern, score=68.0)
    # 68 - 20 = 48 = 8 x (a + b) -> a + b = 6: (3,3); (4,2) is not allowed (both passed: 3-5). Exact: 48.
    assert kept.exact and kept.score == 48.0
    kept = compute({"Greeting": (False, None)}, pattern=pattern, score=None)
    assert (kept.low, kept.high, kept.score) == (48.0, 80.0, 64.0) and not kept.exact


def test_a_call_no_revision_scored_has_no_score_of_record_once_changed():
    pattern = tuple((name, passed, value, "", None) for name, passed, value, _, _ in PATTERN)
    assert compute({"Greeting": (True, None)}, pattern=pattern).score == 90.0  # nothing changed
    assert compute({"Greeting": (False, None)}, pattern=pattern).score is None


# --- through the service and the API -------------------------------------------------------------------


@pytest.fixture
def call(load, db):
    load_scale_call(load)
    return Transcription.objects.get()


@pytest.fixture
def ann(db):
    return person("ann", "Reviewer")


def test_verdicts_with_results_give_the_score_of_record_in_the_api(call, ann):
    url = f"/api/v1/transcriptions/{call.heify_id}/"
    api = api_for(ann)
    assert api.get(url).json()["data"]["review"] is None
    api.post(f"{url}claim/")
    answer = api.put(f"{url}verdicts/", {"verdicts": [
        {"criterion": "Empathy", "value": 2, "reason": "cold"}, {"criterion": "Greeting", "agrees": True},
        {"criterion": "Resolved", "passed": True}]}, format="json")
    assert answer.status_code == 200, answer.json()
    assert {v["criterion"]: (v["agrees"], v["passed"], v["value"]) for v in answer.json()["data"]} == {
        "Empathy": (False, False, 2), "Greeting": (True, True, None), "Resolved": (True, True, None)}
    review = api.get(url).json()["data"]["review"]
    assert review["score"] == 70.0 and review["score_range"] is None and review["critical_fail_triggered"] is False
    assert review["reviewed_by"] == "ann" and review["reviewed_at"]
    assert review["criteria_results"] == [
        {"name": "Greeting", "passed": True, "value": None, "source": "ai"},
        {"name": "Empathy", "passed": False, "value": 2, "source": "reviewer"},
        {"name": "Resolved", "passed": True, "value": None, "source": "ai"},
        {"name": "No insults", "passed": True, "value": None, "source": "ai"},
    ]
    call.refresh_from_db()
    assert (call.score, call.reviewed_score, call.reviewed_failed_criteria) == (90.0, 70.0, ["Empathy"])
    # Changed back: the score of record follows.
    api.put(f"{url}verdicts/", {"verdicts": [{"criterion": "Empathy", "agrees": True}]}, format="json")
    assert api.get(url).json()["data"]["review"]["score"] == 90.0


@pytest.mark.parametrize("verdict, field, words", [
    ({"criterion": "Empathy", "passed": False, "reason": "x"}, "passed", "is a scale criterion: give its value"),
    ({"criterion": "Greeting", "value": 3}, "value", "is a boolean criterion: say passed or failed"),
    ({"criterion": "Empathy", "value": 6}, "value", "from 1 to 5, not 6"),
    ({"criterion": "Greeting", "passed": False}, "reason", "Say why your result differs"),
    ({"criterion": "Greeting", "agrees": True, "passed": True}, "verdicts", "not agrees and passed"),
    ({"criterion": "Greeting"}, "verdicts", "give one of agrees, passed or value"),
])
def test_a_bad_result_is_refused_by_name_and_nothing_is_kept(call, ann, verdict, field, words):
    url = f"/api/v1/transcriptions/{call.heify_id}/"
    api = api_for(ann)
    api.post(f"{url}claim/")
    answer = api.put(f"{url}verdicts/", {"verdicts": [{"criterion": "Resolved", "agrees": True}, verdict]},
                     format="json")
    assert words in str(assert_error(answer, 400, field=f"verdicts[1].{field}")["fields"])
    call.refresh_from_db()
    assert not call.criterion_verdicts.exists() and call.reviewed_at is None


def test_archiving_asks_every_criterion_decided_or_agreement_on_the_rest(call, ann):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Resolved", passed=False, reason="no fix")])
    with pytest.raises(ValidationError) as refused:
        queues.transcription_archive(transcription_id=call.pk, acting_user=ann)
    assert "3 criteria are not decided yet (Greeting, Empathy, No insults)" in refused.value.messages[0]
    call.refresh_from_db()
    assert call.group == "UNDER_REVIEW"
    archived = queues.transcription_archive(transcription_id=call.pk, acting_user=ann, agree_rest=True)
    assert archived.group == "ARCHIVED"
    assert dict(call.criterion_verdicts.values_list("criterion_name", "agrees")) == {
        "Greeting": True, "Empathy": True, "No insults": True, "Resolved": False}
    assert (archived.reviewed_score, archived.reviewed_by) == (60.0, ann)


def test_heify_rescoring_a_reviewed_call_recomputes_its_score_of_record(call, ann, load):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Resolved", passed=False, reason="no fix")])
    Transcription.objects.update(sync_state="synced")  # the claim reached Heify
    payload = {**call.raw, "group": "UNDER_REVIEW", "updated_at": "2030-01-01T00:00:00Z"}
    payload["details"] = {**payload["details"], "evaluation": {
        "score": 70.0, "critical_fail_triggered": False, "criteria_results": [
            {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": False},
            {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True}]}}
    from syncer import mirror

    mirror.upsert("transcriptions", mirror.parse_batch("transcriptions", [payload]))
    call.refresh_from_db()
    # Empathy failed at 70: 20 + v/5 x 50 + 30 = 70 -> v = 2; with Resolved failed, 20 + 20 = 40.
    assert (call.score, call.reviewed_score) == (70.0, 40.0)
