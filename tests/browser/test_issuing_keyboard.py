"""The issue flow by keyboard alone: Tab, Enter, Space and typing — no clicks — from an empty
list to a finished batch, with each step's feedback receiving focus so that it is announced,
and an error summary whose links lead to the fields they name."""

import re

import pytest

from badges.models import Award
from tests.browser.test_issuing_flow import sign_in
from tests.factories import UserFactory, add_member, make_badge, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED_ID = "() => document.activeElement && document.activeElement.id"


def focus_lands_on(page, element_id):
    """The page moves the focus (after its deferred script runs): wait for it, or fail."""
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id", arg=element_id
    )


def tab_to(page, target, limit=80):
    """Press Tab until ``target`` has the focus, as a keyboard user would: fail if it never does."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never received the focus by Tab")


def test_issue_a_badge_by_keyboard_alone(page, live_server, screenshot):
    admin = UserFactory(username="kim", first_name="Kim", last_name="Keys")
    space = make_space("Harbour College", "harbour", admin=admin)
    add_member(space, UserFactory(first_name="Mara", last_name="Member", email="mara@h.test"))
    badge = make_badge(space, name="Safe Boating")
    sign_in(page, "kim")
    page.goto(f"/s/{space.slug}/issuing/badges/{badge.pk}/")
    page.get_by_role("heading", name="Add recipients").wait_for()

    # A member, picked from the open panel: Space ticks the box, Enter sends the form.
    tab_to(page, page.get_by_label(re.compile("Mara Member")))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Add selected people"))
    page.keyboard.press("Enter")
    page.get_by_text("Added 1 person.").wait_for()
    focus_lands_on(page, "step-feedback")  # what happened is read out first

    # Someone new, with a mistake: the error summary takes the focus and links to the field.
    tab_to(page, page.get_by_text("Someone new, by email"))
    page.keyboard.press("Enter")  # opens the panel
    tab_to(page, page.get_by_label("Email", exact=True))
    page.keyboard.type("nico-at-example")
    tab_to(page, page.get_by_role("button", name="Add person"))
    page.keyboard.press("Enter")
    summary = page.get_by_role("alert")
    summary.get_by_text("Check these before going on:").wait_for()
    focus_lands_on(page, "step-feedback")
    screenshot("1-error-summary")
    page.keyboard.press("Tab")  # the summary's first link: the email field's message
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED_ID) == "id_email"
    page.keyboard.press("Control+A")
    page.keyboard.type("nico@newcomer.test")
    for label, value in (("First name", "Nico"), ("Last name", "Newcomer")):
        tab_to(page, page.get_by_label(label))
        page.keyboard.type(value)
    tab_to(page, page.get_by_role("button", name="Add person"))
    page.keyboard.press("Enter")
    page.get_by_text("Added 1 person.").wait_for()

    # Step 2, the review, then step 3.
    tab_to(page, page.get_by_role("link", name="Review the list →"))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Review the list").wait_for()
    assert page.get_by_text("2 ready").is_visible()
    assert page.locator('.stepper [aria-current="step"]').inner_text().startswith("2")
    screenshot("2-review")
    tab_to(page, page.get_by_role("link", name="Continue to issue →"))
    page.keyboard.press("Enter")
    issue = page.get_by_role("button", name="Issue to 2 people")
    issue.wait_for()
    screenshot("3-issue")
    tab_to(page, issue)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="“Safe Boating” issued").wait_for()
    assert page.locator('[data-count="issued"]').inner_text() == "2"
    assert Award.objects.filter(badge=badge).count() == 2
