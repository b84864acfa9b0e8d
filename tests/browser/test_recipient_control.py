"""The recipient's control, walked in a browser as the recipient (issue 17): make an award
public then private again and check, as an anonymous visitor, that neither the public page
nor the certificate names them (signed in, their own certificate does); download all their
badges as a zip whose credential verifies and whose PNG carries the same bytes."""

import io
import zipfile

import pypdf
import pytest

from badges import links
from badges.openbadges import baking
from badges.openbadges.verify import verify_credential
from tests.browser.test_api_keys_and_rules import sign_in
from tests.factories import UserFactory, add_member, make_award

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
