"""Real headless Chromium (Debian's package, never a downloaded browser) driven by Playwright."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = os.environ.get("HEIFY_SCREENSHOTS", "var/screenshots")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("HEIFY_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required (HEIFY_REQUIRE_BROWSER) but {CHROMIUM} does not exist")
        pytest.skip("no Chromium here (apt-get install chromium); CI runs these tests")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls made
    # by the tests themselves are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def laptop(browser):
    """A page at 1280x800, the screen the back office is read on."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    os.makedirs(SCREENSHOTS, exist_ok=True)

    def take(name: str) -> str:
        path = os.path.join(SCREENSHOTS, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
def screenshot_at():
    """What a person sees on that page's screen (its viewport, not the whole page), saved as a PNG."""
    os.makedirs(SCREENSHOTS, exist_ok=True)

    def take(page, name: str) -> str:
        path = os.path.join(SCREENSHOTS, f"{name}.png")
        page.screenshot(path=path)
        return path

    return take
