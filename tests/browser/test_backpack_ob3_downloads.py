"""A recipient downloads their award as baked Open Badges 3.0 (PNG, SVG) and as the credential
JSON from the backpack's award page; each file carries the credential the public URL serves."""

import io
import json

import pytest
from defusedxml import ElementTree as SafeET
from PIL import Image

from badges import links
from tests.browser.test_api_keys_and_rules import sign_in
from tests.factories import UserFactory, add_member, make_award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_recipient_downloads_the_ob3_files(page, screenshot, space_a):
    recipient = add_member(space_a, UserFactory(first_name="Rita", last_name="Recipient"))
    award = make_award(space_a, recipient=recipient)
    sign_in(page, recipient)
    page.goto(f"/backpack/{award.public_id}/")
    page.get_by_role("heading", name="Open Badges 3.0").wait_for()
    screenshot("award-page")

    served = page.request.get(links.credential_url(award)).body()
    files = {}
    for label in ("badge (PNG)", "badge (SVG)", "credential JSON"):
        with page.expect_download() as info:
            page.get_by_role("link", name=f"Download OB 3.0 {label}").click()
        download = info.value
        files[label] = (download.suggested_filename, download.path().read_bytes())

    assert files["credential JSON"] == (f"badge-{award.public_id}-credential.json", served)
    png_name, png = files["badge (PNG)"]
    assert png_name.endswith("-credential.png")
    assert Image.open(io.BytesIO(png)).text["openbadgecredential"].encode() == served
    svg_name, svg = files["badge (SVG)"]
    assert svg_name.endswith("-credential.svg")
    assert SafeET.fromstring(svg)[0].text.encode() == served
    assert json.loads(served)["id"] == links.credential_url(award)

    # The SVG draws as an image in a browser (the PNG inside it at its full size).
    width = page.evaluate(
        """async url => { const img = new Image(); img.src = url; await img.decode();
                          return img.naturalWidth; }""",
        links.credential_svg_url(award),
    )
    assert width == Image.open(io.BytesIO(png)).size[0]

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/backpack/{award.public_id}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("award-page-phone")
