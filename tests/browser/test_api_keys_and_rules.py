"""An administrator makes an API key, uses it, revokes it; then sets up a rule and sees it
complete through the Events API."""

import pytest
from django.test import Client

from tests.api.conftest import ApiClient
from tests.factories import PASSWORD, OrganisationFactory, make_badge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Dashboard").or_(page.locator("h1")).first.wait_for()


def test_create_use_and_revoke_an_api_key(page, screenshot, admin_a, space_a):
    OrganisationFactory(space=space_a, name="Faculty of Science")
    sign_in(page, admin_a)
    menu = page.get_by_role("complementary", name="Main menu")
    menu.get_by_role("link", name="API keys").click()
    page.get_by_role("heading", name="API keys", exact=True).wait_for()
    assert page.get_by_text("No keys yet").is_visible()
    screenshot("1-empty")

    page.get_by_label("Name").fill("Moodle integration")
    page.get_by_label("Limited to").select_option(label="\u2003Faculty of Science")
    page.get_by_role("button", name="Create key").click()
    page.get_by_role("heading", name="“Moodle integration” is ready").wait_for()
    developer_key = page.locator("#developer-key").inner_text()
    token = page.locator("#auth-token").inner_text()
    assert page.get_by_text("Copy the auth token now").is_visible()
    screenshot("2-created")

    api = ApiClient(Client(), developer_key, token)
    assert api.get("/api/badges").status_code == 200

    page.get_by_role("link", name="I have copied it").click()
    row = page.get_by_role("row", name="Moodle integration")
    assert "Faculty of Science" in row.inner_text() and token not in page.content()
    screenshot("3-list")
    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    page.get_by_text("is revoked").wait_for()
    screenshot("4-revoked")
    assert api.get("/api/badges").status_code == 401


def test_a_rule_is_set_up_and_completes(page, screenshot, admin_a, space_a, member_a):
    badge = make_badge(space_a, name="Workshop Regular")
    sign_in(page, admin_a)
    page.goto(f"/s/{space_a.slug}/issuing/rules/")
    page.get_by_role("heading", name="Rules", exact=True).wait_for()
    screenshot("1-empty")
    page.get_by_role("link", name="New rule").first.click()
    page.get_by_label("Name").fill("Three workshops in a month")
    page.get_by_label("Activity identifier").fill("workshop-attended")
    page.get_by_label("Badge to award").select_option(
        label=f"Workshop Regular — {badge.organisation.name}"  # badges are named with their org
    )
    page.get_by_label("Events needed").fill("3")
    page.get_by_label("Within (days)").fill("30")
    screenshot("2-form")
    page.get_by_role("button", name="Create rule").click()
    page.get_by_role("heading", name="Three workshops in a month").wait_for()
    assert page.get_by_text("3 events within 30 days").is_visible()

    from api.services import apikey_create

    made = apikey_create(space=space_a, name="LMS")
    api = ApiClient(Client(), made.key.developer_key, made.token)
    body = [
        {
            "ActivityId": "workshop-attended",
            "ActivityTime": f"2026-02-{d:02d}T18:00:00+01:00",
            "UserId": member_a.email,
        }
        for d in (2, 9, 16)
    ]
    results = api.events(body).json()["Results"]
    statuses = [r["Status"] for r in results]
    assert statuses == ["recorded", "recorded", "awarded"]
    page.reload()
    assert page.get_by_role("cell", name=member_a.email).is_visible()
    screenshot("3-completed")
    page.goto(f"/s/{space_a.slug}/issuing/rules/")
    screenshot("4-list")
    assert badge.name in page.content()


def test_the_api_documentation_page_renders(page, screenshot):
    page.goto("/api/docs")
    page.get_by_text("/api/ActivityEvents").first.wait_for()
    assert page.get_by_text("Badge Platform API").first.is_visible()
    screenshot("docs")
