"""Baked PNGs: the OB 2.0 assertion (iTXt ``openbadges``) and the OB 3.0 credential (iTXt
``openbadgecredential``) round-trip through Pillow, uncompressed and exactly once."""

import io
import json

import pytest
from PIL import Image

from badges import links
from badges.openbadges import baking
from tests.factories import make_award, png_bytes, revoke_award
from tests.openbadges_reference import HAVE_CONFORMANCE, ref_b58decode, ref_verify

pytestmark = pytest.mark.django_db


def itxt_chunks(png: bytes) -> list[tuple[str, int]]:
    """(keyword, compression flag) of every iTXt chunk, read independently of the app."""
    found, pos = [], 8
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"iTXt":
            keyword, rest = body.split(b"\0", 1)
            found.append((keyword.decode(), rest[0]))
        pos += 12 + length
    return found


def test_bake_round_trips_through_pillow():
    original = png_bytes(48, "#aa3355")
    text = json.dumps({"id": "https://example.test/a/1", "name": "Ünïcødé ✓"})
    baked = baking.bake(original, baking.OB2_KEYWORD, text)
    image = Image.open(io.BytesIO(baked))
    assert image.text["openbadges"] == text
    assert itxt_chunks(baked) == [("openbadges", 0)]  # uncompressed, as the spec requires
    # The picture itself is untouched.
    assert (
        image.convert("RGBA").tobytes()
        == Image.open(io.BytesIO(original)).convert("RGBA").tobytes()
    )
    # Baking again replaces the chunk: never two.
    rebaked = baking.bake(baked, baking.OB2_KEYWORD, "{}")
    assert itxt_chunks(rebaked) == [("openbadges", 0)]
    assert baking.unbake(rebaked, baking.OB2_KEYWORD) == "{}"
    assert baking.unbake(original, baking.OB2_KEYWORD) is None


def test_bake_refuses_what_is_not_a_png():
    with pytest.raises(baking.NotAPng):
        baking.bake(b"GIF89a...", baking.OB2_KEYWORD, "{}")
    with pytest.raises(baking.NotAPng):
        baking.bake(png_bytes()[:40], baking.OB2_KEYWORD, "{}")


def test_baked_assertion_image(client, space_a):
    award = make_award(space_a)
    response = client.get(links.baked_image_url(award))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "ETag" in response and "max-age" in response["Cache-Control"]
    image = Image.open(io.BytesIO(response.content))
    baked = json.loads(image.text["openbadges"])
    hosted = json.loads(
        client.get(links.assertion_url(award), HTTP_ACCEPT="application/json").content
    )
    assert baked == hosted
    download = client.get(links.download(links.baked_image_url(award)))
    assert download["Content-Disposition"].startswith("attachment;")


@pytest.mark.skipif(not HAVE_CONFORMANCE, reason="needs shared/conformance")
def test_baked_credential_image(client, space_a):
    award = make_award(space_a)
    response = client.get(links.credential_image_url(award))
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    credential = json.loads(image.text["openbadgecredential"])
    assert credential["id"] == links.credential_url(award)
    assert itxt_chunks(response.content) == [("openbadgecredential", 0)]
    key_doc = json.loads(
        client.get(
            credential["proof"][0]["verificationMethod"].removeprefix(links._url(""))
        ).content
    )
    public = ref_b58decode(key_doc["publicKeyMultibase"][1:])[2:]
    assert ref_verify(credential, public)


def test_revoked_award_has_no_baked_images(client, space_a):
    award = make_award(space_a)
    assert client.get(links.baked_image_url(award)).status_code == 200  # cached while live
    revoke_award(award)
    assert client.get(links.baked_image_url(award)).status_code == 410
    assert client.get(links.credential_image_url(award)).status_code == 410
