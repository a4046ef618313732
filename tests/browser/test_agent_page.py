"""The agent's own page in a real browser, on a phone (390 px) and a desktop (1280 px): no horizontal scroll,
the calls and the dashboard shown, and the acknowledge button working."""

import pytest

from tests.builders import TEST_PASSWORD
from tests.qa.agents.conftest import agents  # noqa: F401 (the fixture: Ana's calls, one reviewed)

WIDEST = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_the_agents_page_reads_well_on_a_phone_and_a_desktop(agents, live_server, browser, width,  # noqa: F811
                                                             screenshot_at):
    _users, calls = agents
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "ana")
        page.fill("#id_password", TEST_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/me/")  # the index sends an agent to their page
        assert page.get_by_test_id("agent-call").count() == 2
        assert page.evaluate(WIDEST) <= width, "the page scrolls sideways"
        page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('qa-distribution'))")
        screenshot_at(page, f"agent-page-{width}-top")
        call = page.locator(f"#call-{calls['ana-new.mp3'].pk}")
        call.scroll_into_view_if_needed()
        assert "The customer called back the next day." in call.inner_text()
        screenshot_at(page, f"agent-page-{width}-call")
        call.get_by_test_id("acknowledge").click()
        page.get_by_test_id("acknowledged").wait_for()
        assert page.evaluate(WIDEST) <= width
        screenshot_at(page, f"agent-page-{width}-acknowledged")
    finally:
        context.close()
