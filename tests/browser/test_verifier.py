"""/verify/ as a visitor uses it: paste a credential, upload a baked image, read the verdict."""

import json

import pytest

from badges import links
from badges.openbadges import publish
from tests.factories import make_award, revoke_award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_paste_and_upload(page, screenshot, space_a, tmp_path, settings):
    settings.VERIFY_FETCH_FOREIGN = False
    award = make_award(space_a)
    credential = json.dumps(publish.credential_for(award), indent=2)

    # Reached from the public badge page's footer.
    page.goto(links.assertion_url(award))
    page.click("footer >> text=Verify any Open Badge")
    assert page.locator("h1").inner_text() == "Verify a badge"
    screenshot("empty")

    page.fill("textarea[name=text]", credential)
    page.click("button:has-text('Verify')")
    assert page.locator("#verdict h1").inner_text() == "This badge is valid"
    rows = page.locator(".check-row")
    assert rows.count() == 5
    # Each row has an icon AND a word.
    for i in range(rows.count()):
        assert rows.nth(i).locator(".check-icon").inner_text() == "✓"
        assert rows.nth(i).locator(".check-word").inner_text().lower() == "passed"
    screenshot("pasted-valid")

    # The image the recipient downloaded before the issuer revoked the badge.
    png = tmp_path / "badge.png"
    png.write_bytes(publish.baked_credential_png(award.public_id).body)
    revoke_award(award, reason="Awarded by mistake.")
    page.set_input_files("input[name=file]", str(png))
    page.click("button:has-text('Verify')")
    assert page.locator("#verdict h1").inner_text() == "This badge is not valid"
    status_row = page.locator(".check-row.fail")
    assert "Awarded by mistake." in status_row.inner_text()
    assert "Failed" in status_row.inner_text() or "FAILED" in status_row.inner_text()
    screenshot("uploaded-revoked")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("phone")

    # Garbage: the form says what is wrong, the page stays usable.
    page.fill("textarea[name=text]", "hello")
    page.click("button:has-text('Verify')")
    assert "This is not an Open Badge" in page.locator(".errors").inner_text()
