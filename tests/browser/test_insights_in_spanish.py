"""The dashboard, the team overview and the what-if in Spanish in a real browser (issue 25): the words are
Spanish, the scripts' too (Django admin's JavaScript catalogue holds ours: LOCALE_PATHS), and the charts are still
drawn (the numbers they read stay machine numbers). Screenshots at 1280x800."""

import pytest
from django.contrib.auth.models import Group, User

from qa.mirror.models import Evaluator, Participant
from syncer import mirror
from tests import builders
from tests.browser.conftest import LAPTOP
from tests.browser.test_dashboard import INK


@pytest.fixture
def spanish(browser):
    """A 1280x800 page of a browser that asks for Spanish."""
    context = browser.new_context(viewport=LAPTOP, locale="es-ES", extra_http_headers={"Accept-Language": "es"})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_and_the_team_overview_in_spanish(live_server, spanish, screenshot_at):
    participant = builders.participant_payload(tag="Emma Wilson")
    calls = []
    for n in range(30):
        payload = builders.transcription_payload(
            participant=participant, created_at=f"2026-03-{1 + n % 28:02d}T10:{n:02d}:00+00:00", duration=120 + 20 * n)
        payload["details"]["evaluation"]["score"] = 95.5 - 2 * n
        calls.append(payload)
    mirror.load_snapshot(builders.snapshot(participants=[participant], transcriptions=calls))
    User.objects.create_superuser("boss", password="a-long-test-password")
    sign_in(spanish, live_server, "boss")
    pk = Participant.objects.get().pk
    spanish.goto(f"{live_server.url}/admin/qa/participant/{pk}/change/?as_of=2026-03-31")
    spanish.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('qa-distribution'))")
    assert spanish.evaluate(INK, "qa-timeline") > 1000 and spanish.evaluate(INK, "qa-distribution") > 1000
    assert "en descenso" in spanish.get_by_test_id("trend").inner_text()
    assert "Deterioro" in spanish.get_by_test_id("degradation").inner_text()
    legend = spanish.evaluate("Chart.getChart(document.getElementById('qa-timeline')).data.datasets.map(d => d.label)")
    assert legend == ["Llamadas", "Puntuación media"]
    dashboard = spanish.locator("#qa-dashboard").inner_text().lower()  # headings are shown in capitals
    assert "tasa de cumplimiento" in dashboard and "pass rate" not in dashboard and "analítica" in dashboard
    spanish.locator("#qa-dashboard").scroll_into_view_if_needed()
    screenshot_at(spanish, "es-participant-dashboard")

    spanish.goto(f"{live_server.url}/admin/qa/participant/team/")
    overview = spanish.locator("#content").inner_text().lower()
    assert "resumen del equipo" in overview and "empeorando" in overview and "tendencia" in overview
    screenshot_at(spanish, "es-team-overview")


@pytest.mark.django_db(transaction=True)
def test_the_what_if_in_spanish(live_server, spanish, screenshot_at):
    evaluator = builders.evaluator_payload(tag="Soporte")
    calls = []
    for n in range(12):
        body = builders.transcription_payload(evaluator=evaluator, created_at=f"2026-03-{n + 1:02d}T10:00:00+00:00")
        greeting, resolved = n % 3 != 0, n % 2 == 0
        body["details"]["evaluation"]["score"] = 20 * greeting + 80 * resolved
        body["details"]["evaluation"]["criteria_results"] = [
            {"name": "Greeting", "passed": greeting}, {"name": "No offensive language", "passed": True},
            {"name": "Issue resolved", "passed": resolved}]
        calls.append(body)
    mirror.load_snapshot(builders.snapshot(evaluators=[evaluator], transcriptions=calls))
    manager = User.objects.create_user("max", password="a-long-test-password", is_staff=True)
    manager.groups.add(Group.objects.get(name="QA manager"))
    sign_in(spanish, live_server, "max")
    spanish.goto(f"{live_server.url}/admin/qa/evaluator/{Evaluator.objects.get().pk}/change/")
    spanish.fill("input[name='criteria-0-weight']", "70")
    spanish.fill("input[name='criteria-2-weight']", "30")
    spanish.click("#qa-whatif-run")
    flips = spanish.get_by_test_id("whatif-flips")
    flips.wait_for()
    assert "de cumplir a no cumplir" in flips.inner_text() and "pass to fail" not in flips.inner_text()
    figures = spanish.get_by_test_id("whatif-figures").inner_text().lower()
    assert "puntuación media" in figures and "antes → después" in figures and "53,3" in figures
    spanish.wait_for_function("window.Chart && Chart.getChart(document.getElementById('qa-whatif-chart'))")
    assert spanish.evaluate(INK, "qa-whatif-chart") > 1000
    datasets = spanish.evaluate(
        "Chart.getChart(document.getElementById('qa-whatif-chart')).data.datasets.map(d => d.label)")
    assert datasets == ["Antes", "Después"]
    assert "previsualizar el efecto" in spanish.locator("#qa-whatif").inner_text().lower()
    spanish.locator("#qa-whatif").scroll_into_view_if_needed()
    screenshot_at(spanish, "es-evaluator-what-if")
