"""The Content-Security-Policy breaks nothing: the main pages load in Chromium without a
single CSP violation (Chromium logs each refusal as a console error "Refused to …").

The walk covers every kind of thing the policy could refuse: htmx (its injected indicator
style is turned off), the designer's data: image preview redrawn through htmx, the inline SVG
chart, the per-space stylesheet, the email preview in its sandboxed same-origin frame, the
public verification page, the backpack and Swagger UI on the API docs page (which needs no
exception: ninja serves it from our static files, without inline script).
"""

import re

import pytest

from badges import links
from tests.factories import (
    PASSWORD,
    UserFactory,
    add_member,
    make_award,
    make_badge,
    make_space,
    put_on_plan,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP_WORDS = re.compile(r"Content Security Policy|Refused to|violates", re.IGNORECASE)


@pytest.fixture
def watched(page):
    """The page, with every console error, page error and CSP violation event recorded."""
    problems: list[str] = []

    def on_console(message):
        # A failed load is named by the response listener below (Chromium's own favicon.ico
        # probe on pages without an icon link, e.g. Django's admin, is not ours to fix here).
        if message.text.startswith("Failed to load resource"):
            return
        if message.type == "error" or CSP_WORDS.search(message.text):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    # A failed subresource is logged without its address: name it.
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"),
    )
    # The DOM event too, for violations inside the page that the console might word differently.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.problems = problems
    return page


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    page.wait_for_load_state("networkidle")


def test_main_pages_load_without_csp_violations(watched, screenshot):
    page = watched
    admin = UserFactory(username="csp-admin", first_name="Casey", last_name="Park")
    space = make_space("Policy Park", "policy-park", admin=admin)
    put_on_plan(space, "white-label")  # custom emails: the editor with its preview frame
    badge = make_badge(space, name="Secure Coder")
    award = make_award(space, badge=badge, recipient=admin)
    award.is_public = True
    award.save()
    add_member(space)

    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill("csp-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()

    # The header is really there (so a clean console is not a page without a policy).
    response = page.goto("/s/policy-park/dashboard/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy

    for url in (
        "/s/policy-park/dashboard/",
        "/s/policy-park/badges/",
        f"/s/policy-park/badges/{badge.pk}/",
        f"/s/policy-park/badges/{badge.pk}/edit/",
        "/s/policy-park/reports/",
        "/s/policy-park/settings/branding/",
        "/s/policy-park/users/",
        "/backpack/",
    ):
        visit(page, url)

    # The reporting chart is inline SVG: drawn, not refused.
    visit(page, "/s/policy-park/reports/")
    assert page.locator("svg.chart-svg").count() >= 1

    # The designer: its preview is a data: image, redrawn through htmx on every change.
    visit(page, "/s/policy-park/graphics/new/design/")
    preview = page.locator("#preview img")
    first = preview.get_attribute("src")
    assert first.startswith("data:image/png")
    page.get_by_label("Hexagon").check()
    page.wait_for_function("src => document.querySelector('#preview img').src !== src", arg=first)
    assert preview.evaluate("img => img.naturalWidth") > 0
    screenshot("designer")

    # The email editor frames its preview (same origin, sandboxed) and the preview renders.
    visit(page, "/s/policy-park/settings/emails/badge-issued/")
    frame = page.frame_locator("iframe.email-preview")
    frame.locator("body").wait_for()
    assert "Secure Coder" in frame.locator("body").inner_text() or frame.locator("p").count()
    screenshot("email-editor")

    # Public pages, signed out too.
    visit(page, links.assertion_url(award))
    assert page.locator("h1").inner_text() == "Valid"
    assert page.locator(".verify-graphic img").evaluate("img => img.naturalWidth") > 0

    # Swagger UI (ninja serves it from our static files, its init script is a file too) needs
    # no exception to the policy: it renders the operations and opens one.
    visit(page, "/api/docs")
    page.locator(".opblock").first.wait_for()
    page.locator(".opblock-summary").first.click()
    page.locator(".opblock-body").first.wait_for()
    page.wait_for_timeout(300)
    screenshot("api-docs")

    assert page.problems == []


@pytest.mark.expected_console(r"Content Security Policy|CSP violation")
def test_a_violation_would_be_caught(watched, live_server):
    """The watcher is not blind: an inline script on a page of ours is refused and reported."""
    page = watched
    visit(page, "/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.x") is None
    assert any("Content Security Policy" in p or "CSP violation" in p for p in page.problems)


def test_admin_and_account_pages_load_without_csp_violations(watched):
    """Pages outside the app shell: sign-in, registration, password reset, Django's admin."""
    page = watched
    for url in (
        "/",
        "/accounts/login/",
        "/accounts/register/",
        "/accounts/password/reset/",
        "/admin/login/",
    ):
        visit(page, url)
    assert page.problems == []
