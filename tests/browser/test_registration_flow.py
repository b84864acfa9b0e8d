"""A visitor registers, opens the verification email, sets a password and sees the dashboard."""

import re

import pytest
from django.core import mail

from orgs.models import Space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_verify_set_password_and_land_on_dashboard(page, live_server, screenshot):
    page.goto("/")
    page.get_by_role("link", name="Create a space").first.click()
    page.get_by_label("Organisation name").fill("Lakeside Academy")
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Lake")
    page.get_by_label("Email").fill("lena@lakeside.test")
    page.get_by_label("Username").fill("lena")
    screenshot("1-register")
    page.get_by_role("button", name="Create space").click()

    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert "lena@lakeside.test" in page.content()
    screenshot("2-check-inbox")

    # The email a worker sent (tasks run eagerly here): open its link like the person would.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/verify/\S+/\S+/", mail.outbox[0].body).group(0)
    assert link.startswith(live_server.url)
    page.goto(link)
    page.get_by_role("heading", name="Create your password").wait_for()
    assert "set-password" in page.url  # the token left the address bar
    page.get_by_label("New password").fill("short")
    page.get_by_label("Confirm the password").fill("short")
    page.get_by_role("button", name="Save password and continue").click()
    assert page.get_by_text("This password is too short").is_visible()
    screenshot("3-password-error")

    page.get_by_label("New password").fill("lakeside-rowing-club-1987")
    page.get_by_label("Confirm the password").fill("lakeside-rowing-club-1987")
    page.get_by_role("button", name="Save password and continue").click()

    page.get_by_role("heading", name="Welcome, Lena").wait_for()
    space = Space.objects.get()
    assert page.url.endswith(f"/s/{space.slug}/dashboard/")
    assert page.get_by_text("Your email is verified").is_visible()
    # The shell: the side menu and the personal menu in the top right corner.
    menu = page.get_by_role("complementary", name="Main menu")
    assert menu.get_by_role("link", name="Dashboard").is_visible()
    assert menu.get_by_text("Organisations").is_visible()
    assert menu.get_by_text("System settings").is_visible()
    screenshot("4-dashboard")

    page.get_by_label("Personal menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()

    # And back in with the new password.
    page.get_by_label("Email or username").fill("lena")
    page.get_by_label("Password").fill("lakeside-rowing-club-1987")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Lena").wait_for()
