"""Calibration at 1280x800 in a real browser: a rater gives a value (1-5) on a scale criterion and pass/fail on the
others, then reads everyone's values and Krippendorff's alpha; the manager reads the same results."""

import pytest

from qa.mirror.models import Transcription
from qa.reviews import calibration
from syncer import mirror
from tests import builders
from tests.browser.test_review_keyboard import laptop  # noqa: F401 (a fixture)
from tests.builders import TEST_PASSWORD, person
from tests.qa.reviews.test_review_page import SCALE_EVALUATOR


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_a_rater_scores_values_then_reads_the_results(live_server, laptop, screenshot_at):  # noqa: F811
    evaluator = builders.evaluator_payload(tag="Support scorecard", **SCALE_EVALUATOR)
    bodies = []
    for n in range(3):
        body = builders.transcription_payload(evaluator=evaluator, name=f"renewal-call-{n + 1}.mp3",
                                              created_at=f"2026-03-0{n + 1}T10:00:00+00:00")
        body["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
            {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True, "value": 4 - n % 2},
            {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True}]}
        bodies.append(body)
    mirror.load_snapshot(builders.snapshot(evaluators=[evaluator], transcriptions=bodies))
    ann, bob, cleo = (person(name, "Reviewer") for name in ("ann", "bob", "cleo"))
    manager = person("max", "QA manager")
    calls = list(Transcription.objects.order_by("occurred_at"))
    session = calibration.calibration_session_create(name="March values", calls=calls, reviewers=[ann, bob, cleo],
                                                     acting_user=manager)
    for rater, values in ((bob, (5, 3, 2)), (cleo, (4, 2, 2))):
        calibration.calibration_answers_save(session=session, rater=rater, submit=True, answers={
            (call.pk, name): value if name == "Empathy" else True
            for call, value in zip(calls, values, strict=True) for name in calibration.call_criteria(call)})

    sign_in(laptop, live_server, "ann")
    laptop.goto(f"{live_server.url}/admin/qa/calibrationsession/{session.pk}/score/")
    for call, value in zip(calls, (4, 3, 1), strict=True):
        laptop.get_by_role("radio", name=str(value)).and_(
            laptop.locator(f"input[name='answer-{call.pk}-Empathy']")).check()
        for name in ("Greeting", "Resolved", "No insults"):
            laptop.locator(f"input[name='answer-{call.pk}-{name}'][value='pass']").check()
    row = laptop.locator("tr[data-criterion='Empathy']").first
    row.scroll_into_view_if_needed()
    # The values sit on one line beside the criterion, none cut, the failing ones set apart.
    boxes = [label.bounding_box() for label in row.locator(".qa-scale-answer label").all()]
    assert len(boxes) == 5 and len({round(box["y"]) for box in boxes}) == 1
    assert all(box["x"] + box["width"] <= 1280 for box in boxes)
    assert "1–2 fail · 3–5 pass" in row.inner_text()
    screenshot_at(laptop, "calibration-score-sheet")
    laptop.get_by_role("button", name="Submit (final)").click()

    laptop.get_by_test_id("calibration-results").wait_for()
    section = laptop.locator("section[data-criterion='Empathy']")
    assert "Krippendorff's alpha (values):" in section.inner_text()
    rows = section.locator("tbody tr")
    assert [cell.strip() for cell in rows.nth(0).locator("td").all_inner_texts()][:4] == [
        "4 pass", "5 pass", "4 pass", "4 pass"]  # ann, bob, cleo, the AI
    assert laptop.evaluate("document.documentElement.scrollWidth") <= 1280  # nothing wider than the screen
    section.scroll_into_view_if_needed()
    screenshot_at(laptop, "calibration-results-values")
    assert not laptop.failures

    laptop.context.clear_cookies()  # signed out
    sign_in(laptop, live_server, "max")
    laptop.goto(f"{live_server.url}/admin/qa/calibrationsession/{session.pk}/results/")
    assert "Krippendorff's alpha (values):" in laptop.locator("section[data-criterion='Empathy']").inner_text()
    assert laptop.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot_at(laptop, "calibration-results-manager")
