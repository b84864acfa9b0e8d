"""The recipient's control, walked in a browser as the recipient (issue 17): add a secondary
address, confirm it from the emailed link and find an award issued to it in the backpack; make
an award public then private again and check, as an anonymous visitor, that neither the public page
nor the certificate names them (signed in, their own certificate does); download all their
badges as a zip whose credential verifies and whose PNG carries the same bytes."""

import io
import re
import zipfile
from datetime import timedelta

import pypdf
import pytest
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.models import OutboundEmail
from badges import links
from badges.issuing import RecipientInput, awards_issue
from badges.openbadges import baking
from badges.openbadges.verify import verify_credential
from tests.browser.test_api_keys_and_rules import sign_in
from tests.factories import UserFactory, add_member, make_award, make_badge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf_text(body: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(body))
    return " ".join(reader.pages[0].extract_text().split())


def test_recipient_keeps_their_name_private_and_downloads_everything(page, screenshot, space_a):
    recipient = add_member(space_a, UserFactory(first_name="Rita", last_name="Recipient"))
    award = make_award(space_a, recipient=recipient, name="Data Stewardship")
    make_award(space_a, recipient=recipient, name="Open Science")
    sign_in(page, recipient)

    # Public, then private again, from the award's page.
    page.goto(f"/backpack/{award.public_id}/")
    page.get_by_role("button", name="Show my name publicly").click()
    page.get_by_text("Your name now shows on this award's public page.").wait_for()
    page.get_by_role("button", name="Hide my name").click()
    page.get_by_text("Your name is hidden on this award's public page.").wait_for()
    screenshot("award-private")
    # Signed in, the recipient's own certificate carries their name.
    own = page.request.get(links.certificate_url(award)).body()
    assert "Rita Recipient" in pdf_text(own)

    # An anonymous visitor (a fresh browser context): no name on the page nor the certificate.
    visitor = page.context.browser.new_context()
    public = visitor.new_page()
    public.goto(links.assertion_url(award))
    public.get_by_text("Awarded to a recipient who keeps their name private").wait_for()
    assert "Rita" not in public.content()
    certificate = public.request.get(links.certificate_url(award))
    assert certificate.headers["content-type"] == "application/pdf"
    text = pdf_text(certificate.body())
    assert "Rita" not in text and "Recipient" not in text.replace("A recipient", "")
    assert recipient.email not in text
    visitor.close()

    # Download all my badges.
    page.goto("/backpack/")
    screenshot("backpack")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download all my badges (zip)").click()
    download = info.value
    assert download.suggested_filename.startswith("my-badges-")
    archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    folder = f"my-badges/data-stewardship-{str(award.public_id)[:8]}"
    credential = archive.read(f"{folder}/credential.json")
    assert credential == page.request.get(links.credential_url(award)).body()
    assert verify_credential(credential).status == "valid"
    png = archive.read(f"{folder}/badge.png")
    assert baking.unbake(png, baking.OB3_KEYWORD).encode() == credential
    assert len([n for n in archive.namelist() if n.endswith("credential.json")]) == 2
    assert "README.txt" in " ".join(archive.namelist())


def test_recipient_adds_a_secondary_address_and_gets_its_awards(page, screenshot, space_a):
    recipient = add_member(space_a, UserFactory(first_name="Rita", last_name="Recipient"))
    make_award(space_a, recipient=recipient, name="Data Stewardship")
    sign_in(page, recipient)
    page.goto("/accounts/settings/#emails")
    page.get_by_text("No other addresses yet").wait_for()
    screenshot("settings-emails-empty")

    # A mistake first: a clear message, nothing added.
    page.get_by_label("Add an address").fill("not-an-address")
    page.get_by_role("button", name="Send confirmation link").click()
    page.get_by_text("Enter a valid email address.").wait_for()
    # Beside the field, which keeps what was typed (to correct, not to type again).
    assert page.locator("#new-email-error").inner_text() == "Enter a valid email address."
    assert page.get_by_label("Add an address").input_value() == "not-an-address"
    screenshot("settings-emails-error")
    page.get_by_label("Add an address").fill("rita@old-job.example")
    page.get_by_role("button", name="Send confirmation link").click()
    page.get_by_text("We sent a confirmation link to rita@old-job.example").wait_for()
    page.get_by_text("Waiting for confirmation").wait_for()
    screenshot("settings-emails-pending")

    email = OutboundEmail.objects.get(kind="verify_secondary_email")
    assert email.to == "rita@old-job.example"
    link = re.search(r"https?://[^/\s]+(/accounts/settings/emails/verify/\S+/)", email.body_text)
    page.goto(link.group(1))
    page.get_by_text("rita@old-job.example is confirmed").wait_for()
    screenshot("settings-emails-confirmed")

    # An issuer awards a badge to that address: it lands in Rita's backpack.
    awards_issue(
        access=Access.system(space_a),
        badge=make_badge(space_a, name="Open Science"),
        recipients=[RecipientInput(email="rita@old-job.example")],
        achieved_at=timezone.now().replace(microsecond=0) - timedelta(days=1),
        notify=False,
    )
    page.goto("/backpack/")
    page.get_by_role("heading", name="Open Science").wait_for()
    page.get_by_role("heading", name="Data Stewardship").wait_for()
    screenshot("backpack-with-secondary")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/settings/#emails")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The field stays wide enough to type an address in; the button goes below it.
    assert page.locator("#new-email").bounding_box()["width"] >= 200
    screenshot("settings-emails-phone")
    # A refused address on a phone: the message under the field, inside the screen.
    page.get_by_label("Add an address").fill("rita@@typo.example")
    page.get_by_role("button", name="Send confirmation link").click()
    error = page.locator("#new-email-error")
    error.wait_for()
    box = error.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert box["y"] > page.locator("#new-email").bounding_box()["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("settings-emails-phone-error")
