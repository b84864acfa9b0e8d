"""The public verification page as a visitor sees it, on a desktop and on a phone."""

import pytest

from badges import links
from badges.models import BadgeAttribute
from tests.factories import make_award, make_badge, revoke_award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_verifies_a_shared_award(page, screenshot, space_a, member_a):
    badge = make_badge(
        space_a,
        expiry_amount=2,
        expiry_unit="years",
        criteria_text="Complete **all six** modules and pass the final assessment.",
    )
    BadgeAttribute.objects.create(space=space_a, badge=badge, key="Credits", value="5 ECTS")
    award = make_award(space_a, badge=badge, recipient=member_a)
    award.is_public = True
    award.save()

    page.goto(links.assertion_url(award))
    assert page.locator("h1").inner_text() == "Valid"
    assert "Signature checked." in page.locator(".verify-signature").inner_text()
    assert member_a.get_full_name() in page.locator(".verify-recipient").inner_text()
    assert page.locator(".verify-graphic img").evaluate("img => img.naturalWidth") > 0
    screenshot("desktop")

    # The JSON link gives the hosted assertion to a person too.
    page.click("text=Open Badges 2.0 assertion")
    assert '"type":"Assertion"' in page.content().replace(" ", "")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(links.assertion_url(award))
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("phone")


def test_visitor_sees_a_revoked_award(page, screenshot, space_a):
    award = make_award(space_a)
    revoke_award(award, reason="The assessment was found to be plagiarised.")
    page.goto(links.assertion_url(award))
    assert page.locator("h1").inner_text().startswith("Revoked on")
    assert "plagiarised" in page.locator(".verify-reason").inner_text()
    assert "has revoked it" in page.locator(".verify-signature").inner_text()
    assert page.locator("text=Badge image with the 2.0 assertion baked in").count() == 0
    screenshot("revoked")
