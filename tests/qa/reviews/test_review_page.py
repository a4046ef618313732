"""The review page a reviewer works on all day: verdicts in the evaluation table, saved in place,
messages that name the criterion, the score checkable by hand, one call reachable from both pages,
and titles a QA person would use."""

import re
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse

from qa.mirror.models import Transcription
from qa.reviews import calibration, queues
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann():
    return person("ann", "Reviewer")


@pytest.fixture
def max_(db):
    return person("max", "QA manager")


SCALE_EVALUATOR = {
    "criteria": [
        {"id": builders.new_id(), "name": "Greeting", "description": "Standard opening?", "type": "BOOLEAN",
         "weight": 20},
        {"id": builders.new_id(), "name": "Empathy", "description": "Rate 1-5.", "type": "SCALE", "weight": 50},
        {"id": builders.new_id(), "name": "Resolved", "description": "Resolved?", "type": "BOOLEAN", "weight": 30},
        {"id": builders.new_id(), "name": "No insults", "description": "Rude words?", "type": "STRICT", "weight": 0},
    ],
}


def load_scale_call(load) -> dict:
    """One call scored 90 by SCALE_EVALUATOR, every criterion passed; the evaluator's payload is returned."""
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    payload = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW", name="scale.mp3")
    payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True},
        {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True},
    ]}
    load(evaluators=[evaluator], transcriptions=[payload])
    return evaluator


@pytest.fixture
def scale_call(load):
    load_scale_call(load)
    return Transcription.objects.get()


def review_url(call, step=None):
    if step:
        return reverse("admin:qa_reviewitem_step", args=[call.pk, step])
    return reverse("admin:qa_reviewitem_change", args=[call.pk])


def row_html(page: str, n: int) -> str:
    match = re.search(rf'<tr id="qa-criterion-{n}".*?</tr>', page, re.S)
    assert match, f"no row {n}"
    return match.group(0)


# --- the reviewer's results in the scorecard ---------------------------------------------------------


def radios(row: str) -> dict[str, bool]:
    """A row's results: value -> checked."""
    return {m.group(1): " checked" in m.group(2)
            for m in re.finditer(r'<input type="radio" name="result" value="([^"]+)"([^>]*)>', row)}


def test_each_criterion_offers_its_results_and_none_is_preset(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    page = client.get(review_url(scale_call)).content.decode()
    offered = {n: radios(row_html(page, n)) for n in range(1, 5)}
    assert offered == {  # Greeting (boolean), Empathy (scale), Resolved (boolean), No insults (strict)
        1: dict.fromkeys(["pass", "fail", "agree"], False),
        2: dict.fromkeys(["1", "2", "3", "4", "5", "agree"], False),
        3: dict.fromkeys(["pass", "fail", "agree"], False),
        4: dict.fromkeys(["pass", "fail", "agree"], False),
    }
    for n in range(1, 5):
        row = row_html(page, n)
        assert 'data-testid="verdict-saved">Undecided<' in row and "qa-undecided" in row
        assert f'form="qa-verdict-form-{n}"' in row  # the controls in the AI's row, their form outside the admin's
        assert f'id="qa-verdict-form-{n}"' in page
    assert "Undecided: Greeting, Empathy, Resolved, No insults." in page
    assert 'data-testid="decided" data-total="4">0</strong> of 4 decided' in page
    assert 'data-testid="keys"' in page  # the keys' legend


def test_the_transcript_and_the_scorecard_stand_side_by_side(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    page = client.get(review_url(scale_call)).content.decode()
    split = page[page.index('data-testid="review-split"'):]
    transcript, scorecard = split.index('data-testid="transcript-pane"'), split.index('data-testid="scorecard-pane"')
    assert transcript < split.index("qa-conversation-heading") < scorecard < split.index("qa-criteria")
    assert page.index('data-testid="review-split"') < page.index("qa-facts-heading")  # the facts below


def test_the_agreement_a_call_without_an_ai_result_cannot_take_is_not_offered(client, load, ann):
    payload = builders.transcription_payload(group="PENDING_REVIEW")
    payload["details"]["evaluation"]["criteria_results"][0]["passed"] = None  # Greeting: no result
    load(transcriptions=[payload])
    call = Transcription.objects.get()
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(ann)
    row = row_html(client.get(review_url(call)).content.decode(), 1)
    assert re.search(r'value="agree"[^>]* disabled', row) and "The AI gave no result to agree with" in row


RESULTS = [  # what the page posts -> what is kept (agrees, passed, value)
    ({"criterion": "Greeting", "result": "agree"}, (True, True, None)),
    ({"criterion": "Greeting", "result": "pass"}, (True, True, None)),
    ({"criterion": "Greeting", "result": "fail", "reason": "no name"}, (False, False, None)),
    ({"criterion": "Empathy", "result": "4"}, (True, True, 4)),  # the AI passed it, its value unknown
    ({"criterion": "Empathy", "result": "2", "reason": "cold"}, (False, False, 2)),
    ({"criterion": "Empathy", "result": "agree"}, (True, True, None)),
    ({"criterion": "Empathy", "agrees": "no", "reason": "cold"}, (False, False, None)),  # the API's "agrees"
]


@pytest.mark.parametrize(("posted", "kept"), RESULTS, ids=[f"{p['criterion']} {p.get('result') or p['agrees']}"
                                                           for p, _ in RESULTS])
def test_the_form_gives_the_service_the_result_chosen(client, scale_call, ann, posted, kept):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    response = client.post(review_url(scale_call, "verdict"), posted, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.json()
    verdict = scale_call.criterion_verdicts.get()
    assert (verdict.agrees, verdict.passed, verdict.value) == kept


@pytest.mark.parametrize(("posted", "said"), [
    ({"criterion": "Greeting", "result": "3"}, "'Greeting' is a boolean criterion: say passed or failed"),
    ({"criterion": "Empathy", "result": "pass"}, "'Empathy' is a scale criterion: give its value"),
    ({"criterion": "Empathy", "result": "6"}, "Choose a result: pass, fail, a value from 1 to 5, or agree"),
    ({"criterion": "Greeting", "result": "pass", "agrees": "yes"}, "not both"),
    ({"criterion": "Greeting"}, "give one of agrees, passed or value"),  # the service's own answer, as the API's
], ids=["a value on a boolean", "pass on a scale", "a value out of the scale", "two results", "no result"])
def test_a_result_the_criterion_does_not_take_is_refused_naming_it(client, scale_call, ann, posted, said):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    response = client.post(review_url(scale_call, "verdict"), posted, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and said in response.json()["message"], response.json()
    assert response.json()["message"].startswith(f"{posted['criterion']}: not saved — ")
    assert not scale_call.criterion_verdicts.exists()


def test_a_saved_result_shows_in_its_row_and_checks_its_radio(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    client.post(review_url(scale_call, "verdict"), {"criterion": "Empathy", "result": "2", "reason": "cold tone"})
    client.post(review_url(scale_call, "verdict"), {"criterion": "Greeting", "result": "agree"})
    page = client.get(review_url(scale_call)).content.decode()
    empathy, greeting = row_html(page, 2), row_html(page, 1)
    assert "2/5: cold tone — ann" in empathy and radios(empathy)["2"] and sum(radios(empathy).values()) == 1
    assert 'value="cold tone"' in empathy
    assert "Passed, as the AI — ann" in greeting and radios(greeting) == {"pass": True, "fail": False,
                                                                          "agree": False}
    assert "Undecided: Resolved, No insults." in page and 'data-testid="decided" data-total="4">2</strong> of 4' in page


def test_every_verdict_message_names_the_criterion(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    refused = client.post(review_url(scale_call, "verdict"), {"criterion": "Empathy", "result": "1"}, follow=True)
    assert "Empathy: not saved — Say why your result differs" in refused.content.decode()
    saved = client.post(review_url(scale_call, "verdict"), {"criterion": "Resolved", "result": "pass"}, follow=True)
    assert "Resolved: saved — Passed, as the AI — ann." in saved.content.decode()


def test_without_the_script_a_save_comes_back_at_the_row(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    response = client.post(review_url(scale_call, "verdict"), {"criterion": "Resolved", "result": "agree"})
    assert response.status_code == 302 and response["Location"].endswith("/change/#qa-criterion-3")


def test_the_script_gets_json_with_the_score_of_record_and_no_message_waits(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    url = review_url(scale_call, "verdict")
    saved = client.post(url, {"criterion": "Empathy", "result": "2", "reason": "cold"},
                        HTTP_ACCEPT="application/json")
    assert saved.status_code == 200
    # 90 with Empathy (50) passed: its value is 4 (20 + 40 + 30); 2 of 5 makes it 20 + 20 + 30.
    assert saved.json() == {"ok": True, "message": "Empathy: saved — 2/5: cold — ann.", "verdict": {
        "criterion": "Empathy", "agrees": False, "passed": False, "value": 2, "reason": "cold",
        "label": "2/5: cold — ann", "choice": "2"},
        "record": {"reviewed": "70", "undecided": ["Greeting", "Resolved", "No insults"]}}
    agreed = client.post(url, {"criterion": "Empathy", "result": "agree"}, HTTP_ACCEPT="application/json").json()
    assert agreed["verdict"]["choice"] == "agree" and agreed["record"]["reviewed"] == "90"  # the AI's, unknown value
    refused = client.post(url, {"criterion": "Greeting", "result": "fail"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and refused.json()["message"].startswith("Greeting: not saved — Say why")
    assert refused.json()["fields"] == ["reason"]  # the script opens the reason field
    page = client.get(review_url(scale_call))
    assert not list(page.context["messages"])


def test_the_script_is_told_plainly_when_the_role_forbids(client, scale_call):
    nobody = User.objects.create_user("nobody", password="pw-for-tests-1", is_staff=True)
    client.force_login(nobody)
    response = client.post(review_url(scale_call, "verdict"), {"criterion": "Greeting", "agrees": "yes"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["message"] == "Greeting: not saved — You are not allowed to record review verdicts."


def test_a_reviewer_who_may_not_record_verdicts_is_told_why(client, scale_call, ann):
    client.force_login(ann)
    page = client.get(review_url(scale_call)).content.decode()
    assert "Start review first: verdicts come from the reviewer who holds the call." in page
    assert 'form="qa-verdict-form-1"' not in page


# --- archiving: every criterion decided, or the rest agreed; then the next call ----------------------------


FROM_PENDING = "?_changelist_filters=" + quote("queue=PENDING_REVIEW")
FROM_MINE = "?_changelist_filters=" + quote("queue=UNDER_REVIEW&mine=1")


def queue_of_three(load) -> list[Transcription]:
    """Three pending calls of SCALE_EVALUATOR's, the most urgent first (the queue's order: critical, then oldest)."""
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    payloads = []
    for name, day, critical in (("urgent.mp3", 9, True), ("old.mp3", 1, False), ("new.mp3", 5, False)):
        payload = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW", name=name,
                                                 created_at=f"2026-03-0{day}T10:00:00+00:00")
        payload["details"]["evaluation"]["critical_fail_triggered"] = critical
        payloads.append(payload)
    load(evaluators=[evaluator], transcriptions=payloads)
    return [Transcription.objects.get(name=name) for name in ("urgent.mp3", "old.mp3", "new.mp3")]


def test_archiving_with_undecided_criteria_is_refused_naming_them(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    client.post(review_url(scale_call, "verdict"), {"criterion": "Greeting", "result": "agree"})
    page = client.get(review_url(scale_call)).content.decode()
    assert "Undecided: Empathy, Resolved, No insults." in page
    agree_rest = re.search(r'<button [^>]*data-testid="agree-rest"[^>]*>([^<]*)<', page)
    assert agree_rest.group(1) == "Agree with the AI on the rest and archive" and "hidden" not in agree_rest.group(0)
    assert 'name="agree_rest" value="1"' in agree_rest.group(0)
    refused = client.post(review_url(scale_call, "archive"), {"then": "next"}, follow=True).content.decode()
    assert "3 criteria are not decided yet (Empathy, Resolved, No insults)" in refused
    scale_call.refresh_from_db()
    assert scale_call.group == "UNDER_REVIEW"
    client.post(review_url(scale_call, "archive"), {"agree_rest": "1"})
    scale_call.refresh_from_db()
    assert scale_call.group == "ARCHIVED" and scale_call.criterion_verdicts.count() == 4


def test_once_every_criterion_is_decided_the_page_says_so_and_offers_no_agreement_on_the_rest(
        client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=scale_call.pk, acting_user=ann, verdicts=[
        queues.Verdict(name, agrees=True) for name in ("Greeting", "Empathy", "Resolved", "No insults")])
    client.force_login(ann)
    page = client.get(review_url(scale_call)).content.decode()
    assert "Every criterion is decided." in page
    assert re.search(r'<button [^>]*data-testid="agree-rest"[^>]* hidden>', page)


def test_a_call_without_results_is_archived_from_its_page_too(client, load, ann):
    payload = builders.transcription_payload(group="PENDING_REVIEW", name="unscored.mp3")
    payload["details"]["evaluation"] = None
    load(transcriptions=[payload])
    call = Transcription.objects.get()
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(ann)
    page = client.get(review_url(call)).content.decode()
    assert "there is nothing to score" in page and "Every criterion is decided." in page
    assert 'data-testid="archive-next"' in page
    client.post(review_url(call, "archive"))
    call.refresh_from_db()
    assert call.group == "ARCHIVED"


def test_archive_and_next_claims_the_next_call_of_the_pending_queue(client, load, ann):
    urgent, old, new = queue_of_three(load)
    queues.transcription_claim(transcription_id=old.pk, reviewer=ann)
    client.force_login(ann)
    page = client.get(review_url(old) + FROM_PENDING).content.decode()
    assert "then open the next call of the pending-review queue (most urgent first), started for you." in page
    archive_action = re.search(r'<form id="qa-archive-form" method="post" action="([^"]+)"', page).group(1)
    assert archive_action == review_url(old, "archive") + FROM_PENDING.replace("&", "&amp;")
    response = client.post(review_url(old, "archive") + FROM_PENDING, {"agree_rest": "1"})
    assert response.status_code == 302 and response["Location"] == review_url(urgent) + FROM_PENDING
    urgent.refresh_from_db()
    old.refresh_from_db()
    assert old.group == "ARCHIVED" and (urgent.group, urgent.assigned_to) == ("UNDER_REVIEW", ann)
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["Archived. Next: “urgent.mp3”, which you are now reviewing."]
    # Opened without the list's filters, the page goes on in the pending queue too (the list's default).
    response = client.post(review_url(urgent, "archive"), {"agree_rest": "1"})
    assert response["Location"] == review_url(new)
    new.refresh_from_db()
    assert new.assigned_to == ann


def test_archive_and_next_from_my_reviews_opens_my_next_held_call(client, load, ann):
    urgent, old, new = queue_of_three(load)
    for call in (old, new):
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(ann)
    assert "then open your next call under review." in client.get(review_url(old) + FROM_MINE).content.decode()
    response = client.post(review_url(old, "archive") + FROM_MINE, {"agree_rest": "1"})
    assert response["Location"] == review_url(new) + FROM_MINE  # not the pending queue's urgent call
    urgent.refresh_from_db()
    assert urgent.group == "PENDING_REVIEW" and urgent.assigned_to is None
    response = client.post(review_url(new, "archive") + FROM_MINE, {"agree_rest": "1"})
    changelist = reverse("admin:qa_reviewitem_changelist")
    assert response["Location"] == f"{changelist}?queue=UNDER_REVIEW&mine=1"
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert messages[-1] == "Archived. No more calls in your reviews for you."


def test_archive_and_next_from_the_calls_nobody_holds_claims_the_next_of_them(client, load, ann):
    # Moved under review in Heify: nobody holds them here (qa.reviews.queues.unheld).
    load(transcriptions=[builders.transcription_payload(group="UNDER_REVIEW", name=f"moved-{day}.mp3",
                                                        created_at=f"2026-03-0{day}T10:00:00+00:00")
                         for day in (1, 2, 3)])
    first, second, third = (Transcription.objects.get(name=f"moved-{day}.mp3") for day in (1, 2, 3))
    bob = person("bob", "Reviewer")
    queues.transcription_claim(transcription_id=second.pk, reviewer=bob)  # bob takes one over
    queues.transcription_claim(transcription_id=first.pk, reviewer=ann)
    unheld = "?_changelist_filters=" + quote("queue=UNDER_REVIEW&mine=nobody")
    client.force_login(ann)
    page = client.get(review_url(first) + unheld).content.decode()
    assert "then open the next call under review that nobody holds, claimed for you." in page
    response = client.post(review_url(first, "archive") + unheld, {"agree_rest": "1"})
    assert response["Location"] == review_url(third) + unheld
    third.refresh_from_db()
    assert third.assigned_to == ann


def test_archive_and_next_leaves_out_the_calls_another_holds_and_those_scored_blind(client, load, ann):
    urgent, old, new = queue_of_three(load)
    bob, max_ = person("bob", "Reviewer"), person("max", "QA manager")
    queues.transcription_claim(transcription_id=urgent.pk, reviewer=bob)
    calibration.calibration_session_create(name="March", calls=[old], reviewers=[ann, bob], acting_user=max_)
    extra = builders.transcription_payload(group="PENDING_REVIEW", name="extra.mp3",
                                           created_at="2026-03-08T10:00:00+00:00")
    load(transcriptions=[extra])
    extra = Transcription.objects.get(name="extra.mp3")
    queues.transcription_claim(transcription_id=extra.pk, reviewer=ann)
    client.force_login(ann)
    response = client.post(review_url(extra, "archive"), {"agree_rest": "1"})
    assert response["Location"] == review_url(new)  # not bob's urgent call, nor old, which ann scores blind


def test_archive_back_to_the_queue_goes_to_the_list_it_came_from(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    response = client.post(review_url(scale_call, "archive") + FROM_PENDING, {"agree_rest": "1", "then": "queue"})
    assert response["Location"] == reverse("admin:qa_reviewitem_changelist") + "?queue=PENDING_REVIEW"


def test_start_review_keeps_the_queue_and_has_the_focus(client, scale_call, ann):
    client.force_login(ann)
    page = client.get(review_url(scale_call) + FROM_PENDING).content.decode()
    assert re.search(r'<button type="submit" class="button default" name="step" value="claim" autofocus', page)
    response = client.post(review_url(scale_call, "claim") + FROM_PENDING)
    assert response["Location"] == review_url(scale_call) + FROM_PENDING


# --- the AI's score and the reviewed score, side by side ---------------------------------------------------


def scores(page: str) -> tuple[str, str]:
    said = re.search(r'data-testid="ai-score">(.*?)</strong>.*?data-testid="reviewed-score">(.*?)</strong>', page,
                     re.S)
    return said.group(1), said.group(2)


def listed(client, url: str, name: str) -> dict[str, str]:
    """A list's row of the call `name`: column class -> its cell's HTML."""
    page = client.get(url).content.decode()
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if name in r)
    return dict(re.findall(r'<td class="field-(\w+)[^"]*">(.*?)</td>', row, re.S))


def test_the_review_page_and_the_lists_show_both_scores(client, scale_call, ann):
    client.force_login(ann)
    assert scores(client.get(review_url(scale_call)).content.decode()) == ("90", "not reviewed yet")
    queue_url = reverse("admin:qa_reviewitem_changelist")
    calls_url = reverse("admin:qa_transcription_changelist")
    assert listed(client, queue_url, "scale.mp3")["reviewed_display"] == "-"
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=scale_call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Resolved", passed=False, reason="unresolved")])
    assert scores(client.get(review_url(scale_call)).content.decode()) == ("90", "60")
    for url in (calls_url, queue_url + "?queue=UNDER_REVIEW"):
        cells = listed(client, url, "scale.mp3")
        assert (cells.get("score_display") or cells["result_display"], cells["reviewed_display"]) == ("90", "60")
    for url in (calls_url, queue_url + "?queue=UNDER_REVIEW"):
        assert ">AI score<" in client.get(url).content.decode()
    facts = client.get(reverse("admin:qa_transcription_change", args=[scale_call.pk])).content.decode()
    assert re.search(r"<dt>AI score</dt><dd>90</dd>.*<dt>Reviewed score</dt><dd>60</dd>", facts, re.S)


def test_a_critical_fail_of_record_voids_the_reviewed_score(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=scale_call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("No insults", passed=False, reason="swore")])
    client.force_login(ann)
    ai, reviewed = scores(client.get(review_url(scale_call)).content.decode())
    assert ai == "90" and "<s>90</s>" in reviewed and "qa-critical" in reviewed  # a strict fail adds no points
    cells = listed(client, reverse("admin:qa_reviewitem_changelist") + "?queue=UNDER_REVIEW", "scale.mp3")
    assert "<s>90</s>" in cells["reviewed_display"] and "<s>" not in cells["score_display"]


def test_a_score_of_record_that_cannot_be_exact_shows_its_range(client, load, ann):
    # Empathy and Tone (40 each) passed without values, scored 84: 20 + 8 x (Empathy + Tone), so the two sum to 8,
    # (3, 5), (4, 4) or (5, 3). Empathy at 2 leaves Tone anywhere in 3-5: 20 + 16 + 24..40.
    evaluator = builders.evaluator_payload(criteria=[
        {"id": builders.new_id(), "name": "Greeting", "type": "BOOLEAN", "weight": 20},
        {"id": builders.new_id(), "name": "Empathy", "type": "SCALE", "weight": 40},
        {"id": builders.new_id(), "name": "Tone", "type": "SCALE", "weight": 40}])
    payload = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW", name="tone.mp3")
    payload["details"]["evaluation"] = {"score": 84.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True}, {"name": "Tone", "passed": True}]}
    load(evaluators=[evaluator], transcriptions=[payload])
    call = Transcription.objects.get()
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Empathy", value=2, reason="flat")])
    client.force_login(ann)
    _, reviewed = scores(client.get(review_url(call)).content.decode())
    assert "68 (60–76)" in reviewed and "Not exact" in reviewed
    cells = listed(client, reverse("admin:qa_transcription_changelist"), "tone.mp3")
    assert ">60–76<" in cells["reviewed_display"] and "Its middle: 68." in cells["reviewed_display"]


def test_a_rater_scoring_blind_sees_neither_score(client, scale_call, ann):
    max_ = person("max", "QA manager")
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=max_)
    queues.transcription_verdicts_record(transcription_id=scale_call.pk, acting_user=max_,
                                         verdicts=[queues.Verdict("Resolved", passed=False, reason="unresolved")])
    calibration.calibration_session_create(name="March", calls=[scale_call], reviewers=[ann, person("bob", "Reviewer")],
                                           acting_user=max_)
    client.force_login(ann)
    page = client.get(review_url(scale_call)).content.decode()
    assert scores(page) == ("hidden", "hidden") and ">60<" not in page and "unresolved" not in page


def test_a_rater_scoring_blind_cannot_agree_with_the_ai_on_the_rest(scale_call, ann):
    max_ = person("max", "QA manager")
    calibration.calibration_session_create(name="March", calls=[scale_call], reviewers=[max_, ann],
                                           acting_user=max_)
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=max_)
    with pytest.raises(ValidationError, match="scoring this call blind"):
        queues.transcription_archive(transcription_id=scale_call.pk, acting_user=max_, agree_rest=True)
    scale_call.refresh_from_db()
    assert scale_call.group == "UNDER_REVIEW" and not scale_call.criterion_verdicts.exists()


# --- the score, checkable by hand -------------------------------------------------------------------------


def test_scale_criteria_show_their_range_and_every_criterion_its_points(admin_client, scale_call):
    page = admin_client.get(review_url(scale_call)).content.decode()
    assert "30–50" in row_html(page, 2) and "3–5/5" in row_html(page, 2)  # Heify said only "passed"
    assert "20" in row_html(page, 1) and "/ 20" in row_html(page, 1)
    total = re.search(r'data-testid="points-total">(.*?)</td>', page, re.S).group(1)
    assert "80–100" in total and "Heify's score 90" in total


def test_a_scale_value_heify_gives_is_shown_with_its_exact_points(admin_client, load):
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    payload = builders.transcription_payload(evaluator=evaluator)
    payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True, "value": 4},
        {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True},
    ]}
    load(evaluators=[evaluator], transcriptions=[payload])
    call = Transcription.objects.get()
    page = admin_client.get(reverse("admin:qa_transcription_change", args=[call.pk])).content.decode()
    assert "4/5" in row_html(page, 2) and ">40 <" in row_html(page, 2)
    total = re.search(r'data-testid="points-total">(.*?)</td>', page, re.S).group(1)
    assert re.search(r"^\s*90\s", total)


def test_points_come_from_the_revision_that_scored_the_call_not_the_current_criteria(admin_client, load):
    evaluator = load_scale_call(load)
    # A month after Heify scored the call, the weights change (revision 2): the call stays revision 1's.
    reweighted = [dict(c, weight=w) for c, w in zip(evaluator["criteria"], (40, 30, 30, 0), strict=True)]
    load(evaluators=[{**evaluator, "criteria": reweighted, "updated_at": "2026-04-07T10:00:00+00:00"}])
    call = Transcription.objects.get()
    for url in (review_url(call), reverse("admin:qa_transcription_change", args=[call.pk])):
        page = admin_client.get(url).content.decode()
        assert "revision 1" in page
        assert "/ 20" in row_html(page, 1) and "30–50" in row_html(page, 2)  # not 40, nor 18–30
        total = re.search(r'data-testid="points-total">(.*?)</td>', page, re.S).group(1)
        assert "80–100" in total  # 88–100 by the current weights


def test_a_critical_call_says_its_score_does_not_count(admin_client, load):
    payload = builders.transcription_payload(name="rude.mp3", group="PENDING_REVIEW")
    payload["details"]["evaluation"].update(score=95, critical_fail_triggered=True)
    load(transcriptions=[payload])
    call = Transcription.objects.get()
    page = admin_client.get(review_url(call)).content.decode()
    assert "does not count: a critical criterion failed" in page
    for changelist in ("admin:qa_reviewitem_changelist", "admin:qa_transcription_changelist"):
        listed = admin_client.get(reverse(changelist)).content.decode()
        assert "<s>95</s>" in listed and "the score does not count" in listed


# --- one call, one place to act -----------------------------------------------------------------------------


def test_the_transcription_page_and_the_review_page_link_to_each_other(admin_client, scale_call):
    details = reverse("admin:qa_transcription_change", args=[scale_call.pk])
    assert f'href="{review_url(scale_call)}"' in admin_client.get(details).content.decode()
    assert f'href="{details}"' in admin_client.get(review_url(scale_call)).content.decode()


def test_the_transcription_list_offers_queue_moves_to_managers_only(client, scale_call, ann, max_):
    changelist = reverse("admin:qa_transcription_changelist")
    data = {"action": "move_to_archived", "_selected_action": [scale_call.pk]}
    client.force_login(ann)
    assert "move_to_archived" not in client.get(changelist).content.decode()
    client.post(changelist, data)
    scale_call.refresh_from_db()
    assert scale_call.group == "PENDING_REVIEW"
    client.force_login(max_)
    assert "move_to_archived" in client.get(changelist).content.decode()
    client.post(changelist, data)
    scale_call.refresh_from_db()
    assert scale_call.group == "ARCHIVED"


# --- titles and labels -------------------------------------------------------------------------------------------


def test_screens_have_titles_a_qa_person_would_use(admin_client, scale_call):
    pages = {
        reverse("admin:qa_reviewitem_changelist"): "Pending review queue",
        reverse("admin:qa_reviewitem_changelist") + "?queue=ARCHIVED": "Archived queue",
        reverse("admin:qa_reviewitem_changelist") + "?queue=UNDER_REVIEW&mine=1": "My reviews",
        reverse("admin:qa_transcription_changelist"): "All calls",
        review_url(scale_call): "Review a call",
        reverse("admin:qa_transcription_change", args=[scale_call.pk]): "Call",
    }
    for url, title in pages.items():
        page = admin_client.get(url).content.decode()
        assert f"<h1>{title}</h1>" in page, url
        assert "Select review queue item" not in page and "View review queue item" not in page
        assert "Select transcription to view" not in page and "View transcription" not in page


def test_the_calls_list_says_upload_and_the_breadcrumbs_say_review_queues(admin_client, scale_call):
    calls = admin_client.get(reverse("admin:qa_transcription_changelist")).content.decode()
    assert "Upload a call" in calls and "Add transcription" not in calls
    review = admin_client.get(review_url(scale_call)).content.decode()
    assert "Review queues</a>" in review and "Review queue items" not in review


def test_no_column_header_reads_like_a_field_name(admin_client, load):
    load(evaluators=[builders.evaluator_payload()], participants=[builders.participant_payload()])
    for name in ("evaluator", "participant"):
        page = admin_client.get(reverse(f"admin:qa_{name}_changelist")).content.decode()
        assert "updated_at" not in page.lower() and "Updated in Heify" in page


def test_the_evaluator_language_filter_lists_only_languages_in_use(admin_client, load):
    load(evaluators=[builders.evaluator_payload(language="en"), builders.evaluator_payload(language="es")])
    response = admin_client.get(reverse("admin:qa_evaluator_changelist"))
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "language")
    shown = [choice["display"] for choice in spec.choices(response.context["cl"])]
    assert shown == ["All", "English (en)", "Spanish (es)"]
    narrowed = admin_client.get(reverse("admin:qa_evaluator_changelist") + "?language=es")
    assert [e.language for e in narrowed.context["cl"].result_list] == ["es"]
