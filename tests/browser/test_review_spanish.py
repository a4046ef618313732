"""The review page in Spanish at 1280x800 (issue 25): the page, the script's own texts (through the JavaScript
catalogue) and the server's answers read in Spanish, and the keys work as they do in English."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from tests.browser.conftest import LAPTOP
from tests.browser.test_review_keyboard import FOCUSED, sign_in, six_criteria_calls
from tests.builders import person


@pytest.fixture
def spanish_laptop(browser):
    context = browser.new_context(viewport=LAPTOP, locale="es-ES", extra_http_headers={"Accept-Language": "es"})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_review_page_and_its_script_read_in_spanish(live_server, spanish_laptop, screenshot_at):
    page = spanish_laptop
    first, _second = six_criteria_calls()
    person("rita", "Reviewer")
    sign_in(page, live_server, "rita")
    from_queue = "?_changelist_filters=" + quote("queue=PENDING_REVIEW")
    page.goto(f"{live_server.url}{reverse('admin:qa_reviewitem_change', args=[first.pk])}{from_queue}")
    assert page.get_by_test_id("start-review").inner_text() == "Iniciar revisión"
    page.keyboard.press("Enter")  # claims it: the focus lands on the first criterion
    page.wait_for_function(f"() => ({FOCUSED})() === 'Greeting'")
    assert "Archivar y siguiente" in page.get_by_test_id("archive-next").inner_text()
    assert page.get_by_test_id("keys").inner_text().startswith("↑ ↓ criterio")

    page.keyboard.press("a")  # Greeting, as the AI: saved in place; the script rewrites the undecided line
    page.wait_for_function(f"() => ({FOCUSED})() === 'Empathy'")
    page.wait_for_function("() => document.querySelector('[data-testid=undecided]').textContent"
                           ".startsWith('Sin decidir: Empathy')")
    assert page.locator("#qa-criterion-1 [data-testid=verdict-saved]").inner_text().startswith("Cumple, como la IA")

    page.keyboard.press("2")  # Empathy 2 where the AI said 4: refused until a reason is given, in Spanish
    page.wait_for_function("() => document.activeElement.name === 'reason'")
    said = page.locator("#qa-criterion-2 .qa-verdict-status").inner_text()
    assert said == "Empathy: no se ha guardado — Indique por qué su resultado difiere del de la IA."
    screenshot_at(page, "review-spanish")
    page.keyboard.type("Interrumpe al cliente dos veces.")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => ({FOCUSED})() === 'Verification'")
    assert page.locator("#qa-criterion-2 .qa-verdict-status").inner_text().startswith("Empathy: guardado")
    assert page.errors == []
