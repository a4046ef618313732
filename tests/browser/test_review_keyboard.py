"""A reviewer's day at 1280x800: every verdict of a call recorded from the evaluation table with the
keyboard, without the page reloading or moving; and the participant dashboard first, labelled."""

import re

import pytest
from django.contrib.auth.models import Group, User

from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from qa.reviews.models import CriterionVerdict
from syncer import mirror
from tests import builders

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    failures = []
    # A missing page or a server error on the way (a refusal's 400 is an answer, not a failure).
    page.on("response", lambda response: failures.append(f"{response.status} {response.url}")
            if response.status == 404 or response.status >= 500 else None)
    page.failures = failures
    yield page
    context.close()


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_a_reviewer_records_every_verdict_with_the_keyboard_and_stays_in_place(live_server, laptop, screenshot_at):
    evaluator, agent = builders.evaluator_payload(tag="Support scorecard"), builders.participant_payload(tag="Sam")
    payload = builders.transcription_payload(evaluator=evaluator, participant=agent, name="billing-complaint.mp3",
                                             group="PENDING_REVIEW")
    payload["details"]["conversation"]["segments"] *= 40  # a long conversation below the table
    mirror.load_snapshot(builders.snapshot(evaluators=[evaluator], participants=[agent], transcriptions=[payload]))
    reviewer = User.objects.create_user("rita", password="a-long-test-password", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewer"))
    call = Transcription.objects.get()
    queues.transcription_claim(transcription_id=call.pk, reviewer=reviewer)

    sign_in(laptop, live_server, "rita")
    laptop.goto(f"{live_server.url}/admin/qa/reviewitem/{call.pk}/change/")
    laptop.evaluate("window.sameDocument = true")  # gone if the page reloads
    first = laptop.get_by_label("Your verdict on Greeting")
    first.focus()
    top = laptop.evaluate("window.scrollY")

    # Greeting: Disagree (arrow key), Tab to the reason, type it, Enter saves.
    laptop.keyboard.press("ArrowDown")
    assert first.input_value() == "no"
    laptop.keyboard.press("Tab")
    laptop.keyboard.type("Greeted only after 40 seconds.")
    laptop.keyboard.press("Enter")
    laptop.wait_for_function("() => document.activeElement.getAttribute('aria-label') === "
                             "'Your verdict on No offensive language'")
    # No offensive language: Agree, Enter on the choice saves it and moves on.
    laptop.keyboard.press("Enter")
    laptop.wait_for_function("() => document.activeElement.getAttribute('aria-label') === "
                             "'Your verdict on Issue resolved'")
    # Issue resolved: Agree, Tab Tab to Save, Enter.
    laptop.keyboard.press("Tab")
    laptop.keyboard.press("Tab")
    laptop.keyboard.press("Enter")
    laptop.wait_for_function("() => [...document.querySelectorAll('.qa-verdict-saved')].every("
                             "cell => /Agrees|Disagrees/.test(cell.textContent))")

    assert laptop.evaluate("window.sameDocument") is True  # saved without a reload
    assert abs(laptop.evaluate("window.scrollY") - top) < 200  # and the reader's place kept
    saved = {row.get_attribute("data-criterion"): row.locator(".qa-verdict-saved").inner_text()
             for row in laptop.locator("tr.qa-criterion").all()}
    assert saved == {"Greeting": "Disagrees: Greeted only after 40 seconds. — rita",
                     "No offensive language": "Agrees — rita", "Issue resolved": "Agrees — rita"}
    status = laptop.locator("#qa-criterion-1 .qa-verdict-status").inner_text()
    assert status.startswith("Greeting: saved")
    verdicts = {v.criterion_name: (v.agrees, v.reason) for v in CriterionVerdict.objects.all()}
    assert verdicts == {"Greeting": (False, "Greeted only after 40 seconds."),
                        "No offensive language": (True, ""), "Issue resolved": (True, "")}
    laptop.get_by_label("Your verdict on Greeting").scroll_into_view_if_needed()
    screenshot_at(laptop, "review-page-1280")

    # A refusal names the criterion, in its row, and nothing is saved.
    laptop.get_by_label("Your verdict on Issue resolved").select_option("no")
    laptop.get_by_label("Why, for Issue resolved").focus()
    laptop.keyboard.press("Enter")
    laptop.wait_for_function("() => document.querySelector('#qa-criterion-3 .qa-verdict-status').textContent"
                             ".includes('not saved')")
    assert laptop.locator("#qa-criterion-3 .qa-verdict-status").inner_text().startswith(
        "Issue resolved: not saved — Say why")
    assert CriterionVerdict.objects.get(criterion_name="Issue resolved").agrees is True

    # What was saved is what the page shows after a reload too.
    laptop.reload()
    assert laptop.get_by_label("Your verdict on Greeting").input_value() == "no"
    assert laptop.get_by_label("Why, for Greeting").input_value() == "Greeted only after 40 seconds."
    assert not laptop.failures, laptop.failures  # no 404 (the favicon), no 500


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
    User.objects.create_superuser("boss", password="a-long-test-password")

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
