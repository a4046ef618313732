"""The participant dashboard in a real browser: coaching sessions are dashed lines on the trend's chart, and the
focus criteria's pass rates before and after are beside it."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from qa.mirror.models import Participant
from qa.reviews import coaching
from syncer import mirror
from tests import builders

# Purple pixels (the marks' #8e44ad, antialiased) on a canvas: nothing else on the chart is purple.
MARK_INK = """(id) => {
  const canvas = document.getElementById(id);
  if (!window.Chart || !Chart.getChart(canvas)) return 0;
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 0; i < data.length; i += 4)
    if (data[i + 3] > 100 && data[i] - data[i + 1] > 30 && data[i + 2] - data[i + 1] > 50) painted++;
  return painted;
}"""


@pytest.mark.django_db(transaction=True)
def test_coaching_sessions_are_marked_on_the_trend(live_server, laptop, screenshot_at):
    scorecard = builders.evaluator_payload(tag="Support")
    participant = builders.participant_payload(tag="Emma Wilson")
    calls = []
    for n in range(40):
        payload = builders.transcription_payload(
            evaluator=scorecard, participant=participant, created_at=f"2026-03-{1 + n % 28:02d}T10:{n:02d}:00+00:00")
        passed = n % 28 >= 14 or n % 3 == 0  # the greeting comes after the coaching of the 14th
        payload["details"]["evaluation"]["score"] = 60 + 30 * passed
        payload["details"]["evaluation"]["criteria_results"][0]["passed"] = passed
        calls.append(payload)
    mirror.load_snapshot(builders.snapshot(evaluators=[scorecard], participants=[participant], transcriptions=calls))
    boss = User.objects.create_superuser("boss", password="a-long-test-password")
    emma = Participant.objects.get()
    coaching.coaching_create(participant_id=emma.pk, focus_criteria=["Greeting", "Issue resolved"],
                             held_at=datetime(2026, 3, 14, 16, tzinfo=UTC), action_items=["Open with the name"],
                             acting_user=boss)

    page = laptop
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/qa/participant/{emma.pk}/change/?as_of=2026-03-31")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('qa-timeline'))")
    assert page.evaluate(MARK_INK, "qa-timeline") > 100
    effect = page.get_by_test_id("coaching-effect").inner_text()
    assert "2026-03-14" in effect and "Greeting" in effect and "pts" in effect
    page.locator("#qa-coaching").scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('.qa-charts').scrollIntoView()")
    screenshot_at(page, "participant-dashboard-coaching")
