"""Playwright (Python) driving the system Chromium against pytest-django's live server.

The browser is never downloaded: it is Debian's /usr/bin/chromium, or CHROMIUM_PATH.

Every page the suite opens is watched (`Watch` below), in every browser context a test makes:
- axe-core (axe-playwright-python, which vendors axe.min.js) runs on each page after every
  `load` and once more on each open page when the test ends (htmx swaps included by then);
  any *serious* or *critical* violation of WCAG 2.2 AA fails the test;
- console errors, uncaught page errors, Content-Security-Policy violations and failed
  sub-resources (images, styles, scripts) fail the test too.
A test that provokes an error on purpose declares it: `@pytest.mark.expected_console(regex…)`.

Screenshots go to $SCREENSHOT_DIR, default /tmp/pytest-of-<user>/screenshots (ARTIFACTS).
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.chromium import INSTALL_CHROMIUM, NO_CHROMIUM

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
# One run at a time in a page: a run started on `load` may still be going when the test ends.
AXE_RUN = """options => {
  const run = (window.__axeQueue || Promise.resolve()).then(() => axe.run(document, options));
  window.__axeQueue = run.catch(() => null);
  return run;
}"""
# Pages drawn by someone else's code: Swagger UI, served by django-ninja for the API docs,
# and Django's own admin (for the operator). Console and CSP checks still run there.
AXE_NOT_OURS = ("/api/docs", "/admin/")
FAILING_IMPACTS = {"serious", "critical"}
# The DOM event, so a violation is named whatever words the console would use.
CSP_LISTENER = (
    "document.addEventListener('securitypolicyviolation', e => console.error("
    "'CSP violation: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' at ' +"
    " e.sourceFile + ':' + e.lineNumber));"
)
# Sub-resources: a failed one is a broken page. Documents and htmx/fetch requests are the
# app's own answers (a 403 page, a 422 form) that the tests assert on.
RESOURCE_TYPES = {"image", "stylesheet", "script", "font", "media"}


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


# Where screenshots go: $SCREENSHOT_DIR, else beside pytest's own temporary directories
# (/tmp/pytest-of-<user>/screenshots), kept between runs so a person can look at them.
ARTIFACTS = Path(
    os.environ.get("SCREENSHOT_DIR")
    or Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}" / "screenshots"
)


class Watch:
    """What went wrong on the pages of one test."""

    def __init__(self, expected: list[re.Pattern[str]]) -> None:
        self.expected = expected
        self.problems: list[str] = []
        self.pages: list = []
        self._axe = None

    def _problem(self, text: str) -> None:
        if not any(pattern.search(text) for pattern in self.expected):
            self.problems.append(text)

    def context(self, context) -> None:
        context.add_init_script(CSP_LISTENER)
        context.on("page", self.page)
        for page in context.pages:
            self.page(page)

    def page(self, page) -> None:
        self.pages.append(page)

        def on_console(message) -> None:
            # A failed load is named (with its address) by the response listener.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                source = (message.location or {}).get("url") or page.url
                self._problem(f"console error on {page.url} (from {source}): {message.text}")

        def on_response(response) -> None:
            if response.status >= 400 and response.request.resource_type in RESOURCE_TYPES:
                self._problem(f"HTTP {response.status} for {response.url} on {page.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self._problem(f"page error on {page.url}: {error}"))
        page.on("response", on_response)
        page.on("load", lambda p: self.axe(p))

    def axe(self, page) -> None:
        """Run axe on what the page shows now; a page that navigates meanwhile is checked
        on its next load instead."""
        from axe_playwright_python.sync_playwright import Axe

        if page.is_closed() or page.url.startswith(("about:", "data:")):
            return
        if urlsplit(page.url).path.startswith(AXE_NOT_OURS):
            return
        if self._axe is None:
            self._axe = Axe()
        try:
            # JSON, images: what Chromium draws around them is not ours.
            if page.evaluate("() => document.contentType") != "text/html":
                return
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.evaluate(self._axe.axe_script)
            result = page.evaluate(AXE_RUN, AXE_OPTIONS)
        except Exception as error:  # navigated away, closed, or scripts disabled
            if "Target" in str(error) or "context" in str(error) or "closed" in str(error):
                return
            raise
        for violation in result["violations"]:
            if violation["impact"] not in FAILING_IMPACTS:
                continue
            nodes = "; ".join(
                f"{', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}".replace(
                    "\n", " "
                )
                for node in violation["nodes"][:5]
            )
            self._problem(
                f"axe {violation['impact']} {violation['id']} on {page.url}: "
                f"{violation['help']} — {nodes}"
            )

    def finish(self) -> list[str]:
        for page in self.pages:
            if not page.is_closed():
                self.axe(page)
        # One line per distinct problem, in the order seen.
        return list(dict.fromkeys(self.problems))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _watch_pages(request, monkeypatch):
    """Every context a browser test makes (its `page`, a second person's, a no-JS one) is
    watched; the verdict is given in pytest_runtest_call below."""
    if "browser" not in request.fixturenames:
        yield None
        return
    marker = request.node.get_closest_marker("expected_console")
    watch = Watch([re.compile(p) for p in (marker.args if marker else ())])
    browser = request.getfixturevalue("browser")
    original = browser.new_context

    def new_context(*args, **kwargs):
        context = original(*args, **kwargs)
        watch.context(context)
        return context

    monkeypatch.setattr(browser, "new_context", new_context)
    request.node.page_watch = watch
    yield watch


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    watch = getattr(item, "page_watch", None)
    if watch is not None:
        problems = watch.finish()
        if problems:
            raise AssertionError(
                f"{len(problems)} accessibility, console or CSP problem(s) on the pages of "
                "this test:\n- " + "\n- ".join(problems)
            )
    return result


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
def screenshots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def screenshot(page, request, screenshots):
    def take(name: str) -> Path:
        path = screenshots / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
