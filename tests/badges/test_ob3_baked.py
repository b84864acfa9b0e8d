"""Baked Open Badges 3.0 (spec 5.3): the signed credential inside a PNG (iTXt
``openbadgecredential``) and an SVG (``<openbadges:credential>``, namespace
https://purl.imsglobal.org/ob/v3p0), served at public URLs, downloadable from the backpack.
What a reader extracts is byte for byte the served credential, and its proof verifies.
Readers here are independent of the app: Pillow for PNG, defusedxml for SVG."""

import base64
import io
import json

import pytest
from defusedxml import ElementTree as SafeET
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from badges import links
from badges.openbadges import baking
from tests.badges.test_ob3_credentials import key_over_http
from tests.factories import UserFactory, add_member, make_award, png_bytes, revoke_award
from tests.openbadges_reference import HAVE_CONFORMANCE, SKIP_REASON, ref_verify

pytestmark = pytest.mark.django_db
conformance = pytest.mark.skipif(not HAVE_CONFORMANCE, reason=SKIP_REASON)

SVG = "{http://www.w3.org/2000/svg}"
OB3 = "{https://purl.imsglobal.org/ob/v3p0}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def served_credential(client, award) -> bytes:
    response = client.get(links.credential_url(award).removeprefix(links._url("")))
    assert response.status_code == 200
    return response.content


def get(client, url):
    return client.get(url.removeprefix(links._url("")))


@conformance
def test_the_png_carries_the_served_credential_byte_for_byte(client, space_a):
    award = make_award(space_a)
    response = get(client, links.credential_image_url(award))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    baked = Image.open(io.BytesIO(response.content)).text["openbadgecredential"]
    body = served_credential(client, award)
    assert baked.encode() == body
    credential = json.loads(baked)
    assert ref_verify(credential, key_over_http(client, credential))


@conformance
def test_the_svg_carries_the_served_credential_and_shows_the_png(client, space_a):
    award = make_award(space_a)
    response = get(client, links.credential_svg_url(award))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Access-Control-Allow-Origin"] == "*"
    root = SafeET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    # The credential element comes first (a reader that stops at the first match stops early).
    first = root[0]
    assert first.tag == f"{OB3}credential"
    assert len(root.findall(f".//{OB3}credential")) == 1
    assert b"<![CDATA[" in response.content
    body = served_credential(client, award)
    assert first.text.encode() == body
    credential = json.loads(first.text)
    assert credential["id"] == links.credential_url(award)
    assert ref_verify(credential, key_over_http(client, credential))
    # Our graphics are PNG: the SVG shows it, unchanged, as a data URI of its size.
    graphic = default_storage.open(award.badge_snapshot["image"]).read()
    (image,) = root.iter(f"{SVG}image")
    for attribute in ("href", XLINK_HREF):
        prefix, data = image.get(attribute).split(",", 1)
        assert prefix == "data:image/png;base64"
        assert base64.b64decode(data) == graphic
    width, height = Image.open(io.BytesIO(graphic)).size
    assert (image.get("width"), image.get("height")) == (str(width), str(height))
    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert root.find(f"{SVG}title").text == award.badge_snapshot["name"]
    # And the app's own reader agrees.
    assert baking.unbake_svg(response.content).encode() == body


@conformance
def test_a_tampered_baked_credential_fails_its_proof(client, space_a):
    award = make_award(space_a)
    svg = get(client, links.credential_svg_url(award)).content
    credential = json.loads(SafeET.fromstring(svg)[0].text)
    public = key_over_http(client, credential)
    credential["credentialSubject"]["achievement"]["name"] = "Something grander"
    assert not ref_verify(credential, public)


def test_downloads_are_attachments_and_cached(client, space_a, django_assert_max_num_queries):
    award = make_award(space_a)
    url = links.download(links.credential_svg_url(award)).removeprefix(links._url(""))
    first = client.get(url)
    assert first.status_code == 200
    assert first["Content-Disposition"] == (
        f'attachment; filename="badge-{award.public_id}-credential.svg"'
    )
    with django_assert_max_num_queries(0):  # built once, then served from the cache
        again = client.get(url)
    assert again.content == first.content
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_suspended_and_revoked_awards_have_no_baked_svg(client, space_a, committed):
    from badgeplatform.access import Access
    from badges.awards import award_reinstate, award_suspend

    award = make_award(space_a)
    url = links.credential_svg_url(award)
    assert get(client, url).status_code == 200
    with committed():
        award_suspend(access=Access.system(space_a), award=award, actor=None, reason="Checking")
    assert get(client, url).status_code == 410
    with committed():
        award_reinstate(access=Access.system(space_a), award=award, actor=None)
    assert get(client, url).status_code == 200
    revoke_award(award)
    assert get(client, links.credential_svg_url(award)).status_code == 410
    # The signed credential itself stays served: its status list says revoked.
    assert get(client, links.credential_url(award)).status_code == 200


def test_svg_baking_round_trips_awkward_text_exactly():
    text = json.dumps({"name": 'A ]]> B <tag> & "q" ü 𝄞', "n": "]]]]>"}, ensure_ascii=False)
    svg = baking.svg_with_png(png_bytes(8), text, width=8, height=8, title="R&D <1>\x07")
    assert SafeET.fromstring(svg)[0].text == text
    assert baking.unbake_svg(svg) == text
    assert SafeET.fromstring(svg).find(f"{SVG}title").text == "R&D <1>"


def test_an_svg_graphic_is_baked_in_place_once():
    graphic = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        b'<circle cx="5" cy="5" r="4" fill="#2f6fde"/></svg>'
    )
    once = baking.bake_svg(graphic, '{"a":1}')
    twice = baking.bake_svg(once, '{"a":2}')
    root = SafeET.fromstring(twice)
    assert [child.tag for child in root] == [f"{OB3}credential", f"{SVG}circle"]
    assert baking.unbake_svg(twice) == '{"a":2}'
    assert b"xmlns:openbadges=" in twice and b"ns0:" not in twice
    # A third-party SVG with whitespace around the JSON (as in the spec's example).
    spaced = (
        b'<svg xmlns="http://www.w3.org/2000/svg" '
        b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        b'<openbadges:credential>\n  <![CDATA[ {"b": 2} ]]>\n</openbadges:credential></svg>'
    )
    assert baking.unbake_svg(spaced) == '{"b": 2}'
    assert baking.unbake_svg(graphic) is None


@pytest.mark.parametrize(
    "bad",
    [
        b"not xml at all",
        b'<html xmlns="http://www.w3.org/1999/xhtml"/>',
        # Entity expansion and external entities: refused by defusedxml, never expanded.
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>',
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    ],
)
def test_unsafe_or_foreign_files_are_refused(bad):
    with pytest.raises(baking.NotAnSvg):
        baking.unbake_svg(bad)
    with pytest.raises(baking.NotAnSvg):
        baking.bake_svg(bad, "{}")


def test_the_backpack_offers_the_three_downloads(client, space_a):
    recipient = add_member(space_a, UserFactory())
    award = make_award(space_a, recipient=recipient)
    client.force_login(recipient)
    page = reverse("backpack:award", args=[award.public_id])
    html = client.get(page).content.decode()
    buttons = {
        "Download OB 3.0 badge (PNG)": links.download(links.credential_image_url(award)),
        "Download OB 3.0 badge (SVG)": links.download(links.credential_svg_url(award)),
        "Download OB 3.0 credential JSON": links.download(links.credential_url(award)),
    }
    for label, url in buttons.items():
        assert f'<a class="btn block" href="{url}" download>{label}</a>' in html
        assert get(client, url).status_code == 200

    # Revoked: the images are gone (410), the credential stays (its status list says why).
    revoke_award(award)
    html = client.get(page).content.decode()
    assert "Download OB 3.0 badge (PNG)" not in html and "Download OB 3.0 badge (SVG)" not in html
    assert "Download the badge image" not in html
    assert "Download OB 3.0 credential JSON" in html
