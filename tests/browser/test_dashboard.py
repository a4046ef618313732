"""The participant dashboard in a real browser: the charts are drawn."""

import pytest
from django.contrib.auth.models import User

from qa.mirror.models import Participant
from syncer import mirror
from tests import builders

INK = """(id) => {
  const canvas = document.getElementById(id);
  if (!window.Chart || !Chart.getChart(canvas)) return 0;
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


@pytest.mark.django_db(transaction=True)
def test_dashboard_draws_its_charts(live_server, page, screenshot):
    participant = builders.participant_payload(tag="Emma Wilson")
    calls = []
    for n in range(30):
        payload = builders.transcription_payload(
            participant=participant, created_at=f"2026-03-{1 + n % 28:02d}T10:{n:02d}:00+00:00", duration=120 + 20 * n)
        payload["details"]["evaluation"]["score"] = 95 - 2 * n
        calls.append(payload)
    mirror.load_snapshot(builders.snapshot(participants=[participant], transcriptions=calls))
    User.objects.create_superuser("boss", password="a-long-test-password")

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    pk = Participant.objects.get().pk
    page.goto(f"{live_server.url}/admin/qa/participant/{pk}/change/?as_of=2026-03-31")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('qa-distribution'))")
    assert page.evaluate(INK, "qa-timeline") > 1000
    assert page.evaluate(INK, "qa-distribution") > 1000
    assert "declining" in page.get_by_test_id("trend").inner_text()
    assert page.get_by_test_id("degradation").is_visible()
    page.locator("#qa-dashboard").scroll_into_view_if_needed()
    screenshot("participant-dashboard")
