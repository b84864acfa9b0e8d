"""Playwright (Python) driving the system Chromium against pytest-django's live server.

The browser is never downloaded: it is Debian's /usr/bin/chromium, or CHROMIUM_PATH.
Screenshots go to test-artifacts/ so a person can look at what the tests saw.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.chromium import INSTALL_CHROMIUM, NO_CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def find_chromium() -> str | None:
    """The browser to drive: CHROMIUM_PATH if set, else `chromium` on PATH, else Debian's."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        pytest.fail(f"{NO_CHROMIUM}: {INSTALL_CHROMIUM}")
    return path


@pytest.hookimpl(trylast=True)  # after `-m` deselected what this run does not include
def pytest_collection_modifyitems(config, items):
    """Without Chromium, the browser tests are skipped (tests/conftest.py prints a loud line at
    the end) so that a fresh machine runs everything else; with REQUIRE_BROWSER=1 (CI) a
    missing browser fails the run instead."""
    wanted = [item for item in items if item.get_closest_marker("browser")]
    if not wanted or find_chromium() is not None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(
            f"REQUIRE_BROWSER=1 and {len(wanted)} browser tests selected, but {NO_CHROMIUM}: "
            f"{INSTALL_CHROMIUM}"
        )
    skip = pytest.mark.skip(reason=f"{NO_CHROMIUM}: {INSTALL_CHROMIUM}")
    for item in wanted:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    # Links in emails and Open Badges ids are built from SITE_URL: point it at the live server.
    settings.SITE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(20_000)  # generous: CI runs the suite on two busy cores
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
