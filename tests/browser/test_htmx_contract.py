"""The htmx contract in a browser: an invalid form's errors (422) are swapped in and shown;
any other error answer leaves the page as it was and says what happened."""

import pytest

from badges.models import Badge
from tests.browser.test_badge_authoring_flow import sign_in
from tests.factories import UserFactory, add_member, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def creator(db):
    owner = UserFactory(username="owner")
    space = make_space("Lakeside Academy", "lakeside", admin=owner)
    add_member(space, UserFactory(username="cara", first_name="Cara"), role_name="Badge Creator")
    return space


def is_editor_post(response) -> bool:
    return "/badges/new/" in response.url and response.request.method == "POST"


def test_the_badge_editors_errors_appear_after_an_invalid_htmx_submit(page, creator, screenshot):
    space = creator
    sign_in(page, "cara")
    page.goto(f"/s/{space.slug}/badges/new/")
    page.get_by_label("Name").fill("Data Wrangler")
    page.get_by_label("Expires after").fill("3")  # a number without its unit
    with page.expect_response(is_editor_post) as answer:
        page.get_by_role("button", name="Graphics", exact=True).click()
    response = answer.value
    assert response.status == 422
    assert response.request.headers.get("hx-request") == "true"  # sent by htmx, not a page load

    error = page.get_by_text("Choose days, months or years.")
    error.wait_for()
    assert error.is_visible()
    # Still on the details tab, with what was typed kept; nothing saved.
    assert page.get_by_label("Name").input_value() == "Data Wrangler"
    page.locator(".tabs .tab.active", has_text="Details").wait_for()
    assert not Badge.objects.filter(space=space).exists()
    screenshot("badge-editor-422")


def failing_posts(status: int):
    def handle(route, request) -> None:
        if request.method == "POST":
            route.fulfill(status=status, body="<p>server error page</p>")
        else:
            route.continue_()

    return handle


# htmx logs each refused answer to the console: here they are the point of the test.
@pytest.mark.expected_console(r"Response Status Error Code (500|403) from /s/[^/]+/badges/new/")
def test_an_error_answer_is_reported_on_screen_not_swallowed(page, creator, screenshot):
    space = creator
    sign_in(page, "cara")
    page.goto(f"/s/{space.slug}/badges/new/")
    page.get_by_label("Name").fill("Data Wrangler")
    # The server fails (as a crash or a lost permission would): htmx must not swap the answer,
    # and the person must be told rather than left clicking a button that does nothing.
    for status, text in [
        (500, "Something went wrong on our side"),
        (403, "You are not allowed to do that."),
    ]:
        page.route("**/badges/new/", failing_posts(status))
        page.get_by_role("button", name="Graphics", exact=True).click()
        alert = page.locator("#htmx-error")
        alert.get_by_text(text).wait_for()
        assert alert.get_attribute("role") == "alert"
        assert "server error page" not in page.content()
        assert page.get_by_label("Name").input_value() == "Data Wrangler"
        page.unroute("**/badges/new/")
    screenshot("htmx-error-message")
