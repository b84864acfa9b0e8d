"""An administrator rotates an issuer's signing key from the issuer's page (after a
confirmation the browser shows); the issuer's public profile lists both keys."""

import pytest

from badges import links
from badges.models import SigningKey
from badges.openbadges import publish
from tests.browser.test_api_keys_and_rules import sign_in
from tests.factories import make_award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rotate_an_issuers_key(page, screenshot, admin_a, space_a):
    award = make_award(space_a)
    issuer = award.badge.issuer
    publish.credential_for(award)  # signed: the issuer has its first key
    sign_in(page, admin_a)
    page.goto(f"/s/{space_a.slug}/issuers/{issuer.pk}/")
    page.get_by_role("heading", name="Signing keys").wait_for()
    assert page.get_by_text("Signs new badges").is_visible()
    screenshot("1-issuer-page")

    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Rotate key").click()
    page.get_by_text("New signing key").wait_for()
    assert asked and "Badges signed with earlier keys keep verifying" in asked[0]
    assert page.get_by_text("Retired").first.is_visible()
    screenshot("2-rotated")
    assert SigningKey.objects.filter(issuer=issuer).count() == 2

    page.goto(links.issuer_id_url(issuer))
    page.get_by_role("heading", name="Acme Learning").wait_for()
    assert page.locator("ul.plain-list li").count() == 2
    screenshot("3-public-profile")
