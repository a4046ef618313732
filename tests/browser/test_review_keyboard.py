"""A reviewer's day at 1280x800: a 6-criterion call reviewed with the keyboard alone, in at most 15 keys, the
transcript and the scorecard side by side without the page scrolling; and the participant dashboard first,
labelled."""

import re
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from qa.mirror import rules
from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from qa.reviews.models import CriterionVerdict
from syncer import mirror
from tests import builders
from tests.builders import TEST_PASSWORD, person

LAPTOP = {"width": 1280, "height": 800}
KEY_BUDGET = 15  # issue 22: a 6-criterion call reviewable in at most 15 keys without the mouse

# Six criteria of every type, weights summing to 100.
SIX = [
    ("Greeting", "BOOLEAN", 15, "Does the agent open with the standard greeting and their name?"),
    ("Empathy", "SCALE", 25, "Rate 1-5 how well the agent acknowledges the customer's feelings."),
    ("Verification", "BOOLEAN", 20, "Is the customer's identity verified before account details are given?"),
    ("Resolution", "SCALE", 25, "Rate 1-5 how completely the customer's issue is resolved."),
    ("Closing", "BOOLEAN", 15, "Does the agent summarise and close the call properly?"),
    ("No insults", "STRICT", 0, "Any offensive or abusive language from the agent?"),
]
# The AI passed every criterion, giving Empathy's value (4) but not Resolution's; its 90 settles Resolution at 4:
# 15 + 4/5 x 25 + 20 + 4/5 x 25 + 15.
AI_RESULTS = [{"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True, "value": 4},
              {"name": "Verification", "passed": True}, {"name": "Resolution", "passed": True},
              {"name": "Closing", "passed": True}, {"name": "No insults", "passed": True}]


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    failures = []
    # A missing page or a server error on the way (a refusal's 400 is an answer, not a failure).
    page.on("response", lambda response: failures.append(f"{response.status} {response.url}")
            if response.status == 404 or response.status >= 500 else None)
    page.on("pageerror", lambda error: failures.append(f"script error: {error}"))
    page.failures = failures
    yield page
    context.close()


def sign_in(page, live_server, username, password=TEST_PASSWORD):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def six_criteria_calls():
    evaluator = builders.evaluator_payload(tag="Support scorecard", criteria=[
        {"id": builders.new_id(), "name": name, "type": kind, "weight": weight, "description": about}
        for name, kind, weight, about in SIX])
    agent = builders.participant_payload(tag="Sam Carter")
    calls = []
    for name, day in (("billing-complaint.mp3", 2), ("address-change.mp3", 3)):
        payload = builders.transcription_payload(evaluator=evaluator, participant=agent, name=name,
                                                 group="PENDING_REVIEW", created_at=f"2026-03-0{day}T10:00:00+00:00")
        payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False,
                                            "criteria_results": [dict(r) for r in AI_RESULTS]}
        payload["details"]["conversation"]["segments"] = [
            {"speaker": f"SPEAKER_0{n % 2}",
             "text": (f"Turn {n}: thank you for calling, let me look into the charge on your March invoice."
                      if n % 2 == 0 else f"Turn {n}: I was billed twice and nobody called me back.")}
            for n in range(60)]
        calls.append(payload)
    mirror.load_snapshot(builders.snapshot(evaluators=[evaluator], participants=[agent], transcriptions=calls))
    return [Transcription.objects.get(name=name) for name in ("billing-complaint.mp3", "address-change.mp3")]


FOCUSED = "() => document.activeElement && document.activeElement.dataset.criterion"


@pytest.mark.django_db(transaction=True)
def test_a_six_criterion_call_is_reviewed_with_the_keyboard_alone_in_at_most_15_keys(
        live_server, laptop, screenshot_at):
    first, second = six_criteria_calls()
    person("rita", "Reviewer")
    sign_in(laptop, live_server, "rita")
    # Opened from the pending-review queue (the list's link carries its filters), as a reviewer does.
    from_queue = "?_changelist_filters=" + quote("queue=PENDING_REVIEW")
    laptop.goto(f"{live_server.url}{reverse('admin:qa_reviewitem_change', args=[first.pk])}{from_queue}")

    keys, typed = [], []

    def key(name: str, then_focus: str | None = None):
        keys.append(name)
        laptop.keyboard.press(name)
        if then_focus:
            laptop.wait_for_function(f"() => ({FOCUSED})() === {then_focus!r}")

    def reason(text: str):
        laptop.wait_for_function("() => document.activeElement.name === 'reason'")  # opened by the refusal
        typed.append(text)
        laptop.keyboard.type(text)

    # The call is free: "Start review" has the focus; Enter claims it and the focus lands on the first criterion.
    assert laptop.evaluate("document.activeElement.dataset.testid") == "start-review"
    screenshot_at(laptop, "review-keyboard-0-free")
    key("Enter")
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'Greeting'")
    laptop.evaluate("window.sameDocument = true")  # gone if the page reloads
    screenshot_at(laptop, "review-keyboard-1-claimed")
    assert laptop.get_by_test_id("keys").is_visible()  # the legend
    assert [row.inner_text() for row in laptop.get_by_test_id("verdict-saved").all()] == ["Undecided"] * 6

    key("ArrowDown", "Empathy")
    key("ArrowUp", "Greeting")
    key("a", "Empathy")  # Greeting: agree with the AI (passed)
    key("2")  # Empathy: 2 of 5 where the AI said 4: the reason opens
    reason("Talks over the customer twice.")
    screenshot_at(laptop, "review-keyboard-2-reason")
    key("Enter", "Verification")
    key("f")  # Verification: failed where the AI passed
    reason("Never asked for the account number.")
    key("Enter", "Resolution")
    key("4", "Closing")  # Resolution: 4, which the AI's pass allows: as the AI
    key("a", "No insults")
    key("a")  # No insults: every criterion decided, the focus goes to "Archive and next"
    laptop.wait_for_function("() => document.activeElement.dataset.testid === 'archive-next'")
    assert laptop.evaluate("window.sameDocument") is True  # every result saved in place
    assert laptop.evaluate("window.scrollY") == 0  # and the page never scrolled
    reviewed = laptop.get_by_test_id("reviewed-score").inner_text()
    screenshot_at(laptop, "review-keyboard-3-decided")

    # What was saved, and the score of record by Heify's rule: 15 + 2/5 x 25 + 0 + 4/5 x 25 + 15.
    verdicts = {v.criterion_name: (v.agrees, v.passed, v.value, v.reason)
                for v in CriterionVerdict.objects.filter(transcription=first)}
    assert verdicts == {
        "Greeting": (True, True, None, ""),
        "Empathy": (False, False, 2, "Talks over the customer twice."),
        "Verification": (False, False, None, "Never asked for the account number."),
        "Resolution": (True, True, 4, ""),
        "Closing": (True, True, None, ""),
        "No insults": (True, True, None, ""),
    }
    criteria = [{"name": n, "type": k.lower(), "weight": w} for n, k, w, _ in SIX]
    expected = rules.evaluation_score(criteria, {"Greeting": True, "Empathy": 2, "Verification": False,
                                                 "Resolution": 4, "Closing": True, "No insults": True})
    first.refresh_from_db()
    assert first.reviewed_score == expected["score"] == 60.0 and first.reviewed_critical is False
    assert reviewed == "60" and laptop.get_by_test_id("ai-score").inner_text() == "90"

    # "Archive and next": the call is archived, the next of the pending queue opened and claimed, the focus on
    # its first criterion.
    key("n")
    laptop.wait_for_url(f"**/{second.pk}/change/**")
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'Greeting'")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.group == "ARCHIVED"
    assert second.group == "UNDER_REVIEW" and second.assigned_to.username == "rita"
    assert "Archived. Next: “address-change.mp3”" in laptop.locator(".messagelist").inner_text()
    screenshot_at(laptop, "review-keyboard-4-next")

    assert len(keys) <= KEY_BUDGET, keys  # the reasons' words are typed, not counted as keys
    assert len(keys) == 12, keys
    assert not laptop.failures, laptop.failures


@pytest.mark.django_db(transaction=True)
def test_a_reason_is_edited_and_the_rest_agreed_with_the_keyboard(live_server, laptop, screenshot_at):
    first, second = six_criteria_calls()
    rita = person("rita", "Reviewer")
    queues.transcription_claim(transcription_id=first.pk, reviewer=rita)
    sign_in(laptop, live_server, "rita")
    laptop.goto(f"{live_server.url}{reverse('admin:qa_reviewitem_change', args=[first.pk])}")
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'Greeting'")
    laptop.keyboard.press("p")  # as the AI: no reason asked
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'Empathy'")
    laptop.keyboard.press("k")  # back to Greeting, to give a reason all the same
    laptop.keyboard.press("r")
    laptop.wait_for_function("() => document.activeElement.name === 'reason'")
    laptop.keyboard.type("Said the name twice.")
    laptop.keyboard.press("Enter")
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'Empathy'")  # on to the next undecided
    greeting = laptop.locator("tr[data-criterion='Greeting'] [data-testid=verdict-saved]")
    assert greeting.inner_text() == "Passed, as the AI: Said the name twice. — rita"
    laptop.keyboard.press("x")  # no such key: nothing happens
    laptop.keyboard.press("p")  # Empathy is a scale criterion: p is not one of its results
    assert laptop.locator("tr[data-criterion='Empathy'] [data-testid=verdict-saved]").inner_text() == "Undecided"
    undecided = laptop.get_by_test_id("undecided").inner_text()
    assert undecided == "Undecided: Empathy, Verification, Resolution, Closing, No insults."
    screenshot_at(laptop, "review-keyboard-5-undecided")
    laptop.keyboard.press("n")  # refused: the page says which are undecided
    laptop.wait_for_selector(".messagelist .error")
    assert "5 criteria are not decided yet" in laptop.locator(".messagelist").inner_text()
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'Empathy'")  # back at the first undecided
    laptop.keyboard.press("Shift+A")  # agree with the AI on the rest, archive, and on to the next call
    laptop.wait_for_url(f"**/{second.pk}/change/**")
    verdicts = dict(CriterionVerdict.objects.filter(transcription=first).values_list("criterion_name", "agrees"))
    assert verdicts == dict.fromkeys([name for name, *_ in SIX], True)
    first.refresh_from_db()
    assert first.group == "ARCHIVED" and first.reviewed_score == 90.0
    assert not laptop.failures, laptop.failures


@pytest.mark.django_db(transaction=True)
def test_the_transcript_and_the_scorecard_stand_side_by_side_each_scrolling_on_its_own(
        live_server, laptop, screenshot_at):
    first, _ = six_criteria_calls()
    person("rita", "Reviewer")
    sign_in(laptop, live_server, "rita")
    laptop.goto(f"{live_server.url}{reverse('admin:qa_reviewitem_change', args=[first.pk])}")
    laptop.get_by_test_id("start-review").press("Enter")
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'Greeting'")
    box = {name: laptop.get_by_test_id(name).bounding_box() for name in ("transcript-pane", "scorecard-pane")}
    transcript, scorecard = box["transcript-pane"], box["scorecard-pane"]
    assert transcript["x"] + transcript["width"] <= scorecard["x"]  # side by side
    assert abs(transcript["y"] - scorecard["y"]) < 1
    assert transcript["y"] + transcript["height"] <= LAPTOP["height"]  # both whole on the screen
    assert scorecard["y"] + scorecard["height"] <= LAPTOP["height"]
    assert scorecard["width"] > 600  # room for the results beside the AI's
    # The long conversation scrolls in its pane, not the page.
    assert laptop.evaluate("""() => { const pane = document.querySelector('.qa-pane-transcript');
        pane.scrollTop = pane.scrollHeight; return [pane.scrollTop > 0, window.scrollY]; }""") == [True, 0]
    # The last criterion and "Archive and next" are reached in the scorecard's own pane.
    laptop.keyboard.press("End")
    for _ in range(5):
        laptop.keyboard.press("j")
    laptop.wait_for_function(f"() => ({FOCUSED})() === 'No insults'")
    assert laptop.evaluate("window.scrollY") == 0
    row = laptop.locator("tr[data-criterion='No insults']").bounding_box()
    assert scorecard["y"] <= row["y"] and row["y"] + row["height"] <= scorecard["y"] + scorecard["height"]
    screenshot_at(laptop, "review-split-1280")
    assert not laptop.failures, laptop.failures


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_shows_first_with_labelled_values(live_server, laptop, screenshot_at):
    agent = builders.participant_payload(tag="Emma Wilson", metadata={"team": "L1", "shift": "early"})
    evaluator = builders.evaluator_payload(tag="Support scorecard")
    calls = []
    for n in range(60):
        payload = builders.transcription_payload(
            participant=agent, evaluator=evaluator, group=("PENDING_REVIEW", "ARCHIVED", None)[n % 3],
            created_at=f"2026-03-{1 + n % 28:02d}T{8 + n % 9:02d}:{n:02d}:00+00:00", duration=95 + 7 * n)
        payload["details"]["evaluation"]["score"] = 95 - n
        calls.append(payload)
    mirror.load_snapshot(builders.snapshot(participants=[agent], evaluators=[evaluator], transcriptions=calls))
    User.objects.create_superuser("boss", password=TEST_PASSWORD)

    sign_in(laptop, live_server, "boss")
    pk = Participant.objects.get().pk
    laptop.goto(f"{live_server.url}/admin/qa/participant/{pk}/change/?as_of=2026-03-31")
    dashboard_top = laptop.locator("#qa-dashboard").bounding_box()["y"]
    editor_top = laptop.locator("textarea[name=metadata]").bounding_box()["y"]
    assert dashboard_top < LAPTOP["height"] < editor_top  # the dashboard is what one sees first
    facts = dict(zip(laptop.locator("#qa-dashboard .qa-fact dt").all_inner_texts(),
                     laptop.locator("#qa-dashboard .qa-fact dd").all_inner_texts(), strict=True))
    assert facts["CALLS"] == "60" and facts["PASS RATE"].endswith("%")
    calls_table = laptop.get_by_test_id("dashboard-calls")
    shown = calls_table.inner_text()
    assert "Pending review" in shown and "Archived" in shown and "PENDING_REVIEW" not in shown
    assert not re.search(r"\dT\d", shown) and re.search(r"\b\d+:\d\d\b", shown)  # local dates, m:ss
    assert calls_table.locator("tbody tr").count() == 25
    rows = calls_table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(rows) < 1.5 * min(rows)  # no row wraps
    assert "Support scorecard" in laptop.get_by_test_id("criteria-fail-most").inner_text()
    screenshot_at(laptop, "participant-dashboard-1280")
    laptop.get_by_test_id("criteria-fail-most").scroll_into_view_if_needed()
    screenshot_at(laptop, "participant-dashboard-calls-1280")
    laptop.get_by_role("link", name="Older →").click()
    laptop.wait_for_url("**calls_page=2**")
    laptop.wait_for_load_state()
    assert "page 2 of 3" in laptop.locator("#qa-calls h2").text_content()
    assert laptop.get_by_test_id("dashboard-calls").locator("tbody tr").count() == 25
    assert not laptop.failures, laptop.failures
