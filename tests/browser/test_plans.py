"""A new administrator meets a locked feature, reads what it does, opens System settings →
Plans from it, starts the 30-day trial and uses the feature at once."""

import pytest

from tests.browser.test_branding import open_menu_section
from tests.factories import PASSWORD, UserFactory, ensure_plans, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def nora():
    ensure_plans()  # an earlier transactional test may have flushed the seeded plans
    admin = UserFactory(username="nora", first_name="Nora", last_name="North")
    return admin, make_space("Northwind College", "northwind", admin=admin)


def test_a_locked_feature_leads_to_a_trial_that_unlocks_it(page, nora, screenshot):
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill("nora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Nora").wait_for()

    menu = page.get_by_role("complementary", name="Main menu")
    open_menu_section(menu, "System settings")
    menu.get_by_role("link", name="Emails").click()
    note = page.get_by_role("note")
    assert note.get_by_text("part of the Standard plan").is_visible()
    assert note.get_by_text("Write the subject and text").is_visible()  # what it does
    screenshot("1-locked-emails")

    note.get_by_role("link", name="Start a 30-day trial").click()
    page.get_by_role("heading", name="Plans", exact=True).wait_for()
    table = page.get_by_role("table")
    assert table.get_by_role("columnheader", name="Free Yours").is_visible()
    trial_buttons = table.get_by_role("button", name="Start a 30-day trial")
    assert trial_buttons.count() == 2  # Standard and White-label
    screenshot("2-plans")

    trial_buttons.first.click()  # Standard
    page.get_by_text("Your 30-day trial of the Standard plan has started").wait_for()
    assert page.get_by_role("status").get_by_text("Trying the Standard plan").is_visible()
    assert page.get_by_role("button", name="Start a 30-day trial").count() == 0  # once
    screenshot("3-on-trial")

    open_menu_section(menu, "System settings")
    menu.get_by_role("link", name="Emails").click()
    assert page.get_by_role("note").count() == 0  # unlocked at once
    page.get_by_role("link", name="Edit").first.wait_for()

    # The landing page stays White-label's: still locked, and now it says how to compare.
    open_menu_section(menu, "System settings")
    menu.get_by_role("link", name="Landing page").click()
    note = page.get_by_role("note")
    assert note.get_by_text("part of the White-label plan").is_visible()
    assert note.get_by_role("link", name="Compare the plans").is_visible()
    screenshot("4-locked-landing-page")
