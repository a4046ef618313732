"""Under the Content-Security-Policy every page's scripts run: the dashboard's charts are drawn, the review page
saves a verdict without reloading, the API docs' Swagger UI shows the API; the browser reports no violation."""

import pytest
from django.contrib.auth.models import Group, User

from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from syncer import mirror
from tests import builders

# Recorded before any page script runs (an init script is the browser's, not the page's).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def watched(page):
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.add_init_script(RECORD_VIOLATIONS)
    page.console_errors = console
    return page


def violations(page) -> list[str]:
    return page.evaluate("window.__violations") + [
        text for text in page.console_errors if "Content Security Policy" in text or "Content-Security-Policy" in text]


@pytest.mark.django_db(transaction=True)
def test_pages_scripts_run_under_the_policy(live_server, watched):
    page = watched
    agent, evaluator = builders.participant_payload(tag="Emma Wilson"), builders.evaluator_payload(tag="Support")
    calls = []
    for n in range(25):
        payload = builders.transcription_payload(
            participant=agent, evaluator=evaluator, group="PENDING_REVIEW",
            created_at=f"2026-03-{1 + n % 28:02d}T10:{n:02d}:00+00:00")
        payload["details"]["evaluation"]["score"] = 90 - n
        calls.append(payload)
    mirror.load_snapshot(builders.snapshot(participants=[agent], evaluators=[evaluator], transcriptions=calls))
    boss = User.objects.create_superuser("boss", password="a-long-test-password")
    boss.groups.add(Group.objects.get(name="QA manager"))
    call = Transcription.objects.order_by("occurred_at").first()
    queues.transcription_claim(transcription_id=call.pk, reviewer=boss)

    response = page.goto(f"{live_server.url}/admin/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    assert violations(page) == []

    # The dashboard: Chart.js and dashboard.js draw the charts.
    pk = Participant.objects.get().pk
    page.goto(f"{live_server.url}/admin/qa/participant/{pk}/change/?as_of=2026-03-31")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('qa-timeline'))")
    assert violations(page) == []

    # The review page: review.js saves a verdict in place (the page is not reloaded).
    page.goto(f"{live_server.url}/admin/qa/reviewitem/{call.pk}/change/")
    page.evaluate("window.sameDocument = true")
    page.wait_for_function("() => document.activeElement.dataset.criterion === 'Greeting'")  # the script's focus
    page.keyboard.press("a")  # agree with the AI, saved in place
    page.wait_for_selector(".qa-verdict-just-saved")
    assert page.evaluate("window.sameDocument") is True
    assert violations(page) == []

    # The API docs: Swagger UI's bundle and its start-up script (a file, not inline) render the API.
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Heify back office API" in page.inner_text(".swagger-ui .info .title")
    assert violations(page) == []


@pytest.mark.django_db(transaction=True)
def test_an_inline_script_is_refused(live_server, watched):
    """The policy is enforced, not only sent: a script injected into a page does not run."""
    page = watched
    page.goto(f"{live_server.url}/admin/login/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("window.injected") is None
    assert any("script-src" in v for v in violations(page))
