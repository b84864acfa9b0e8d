"""/verify/: public, paste or upload, verdict first, clear 4xx answers for bad input."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from badges.openbadges import publish
from tests.factories import make_award, revoke_award

pytestmark = pytest.mark.django_db
URL = "/verify/"


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.VERIFY_FETCH_FOREIGN = False


def test_the_page_is_public_and_linked_from_public_pages(client, space_a):
    assert reverse("verify") == URL
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Verify a badge" in response.content
    award = make_award(space_a)
    page = client.get(f"/public/assertions/{award.public_id}", HTTP_ACCEPT="text/html")
    assert f'href="{URL}"'.encode() in page.content


def test_paste_our_credential_shows_the_verdict_first(client, space_a):
    award = make_award(space_a)
    credential = json.dumps(publish.credential_for(award))
    response = client.post(URL, {"text": credential})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This badge is valid" in html
    assert html.index("This badge is valid") < html.index("What was checked")
    for words in ("Signature", "Who holds the key", "Revoked or suspended?", "Dates", "Passed"):
        assert words in html


def test_a_revoked_credential_says_so(client, space_a):
    award = make_award(space_a)
    credential = json.dumps(publish.credential_for(award))
    revoke_award(award, reason="Awarded by mistake.")
    html = client.post(URL, {"text": credential}).content.decode()
    assert "This badge is not valid" in html
    assert "Awarded by mistake." in html and "Failed" in html


def test_upload_baked_png(client, space_a):
    award = make_award(space_a)
    png = publish.baked_credential_png(award.public_id).body
    upload = SimpleUploadedFile("badge.png", png, content_type="image/png")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 200
    assert b"This badge is valid" in response.content
    assert b"a baked PNG image" in response.content


def test_upload_baked_svg(client, space_a):
    from tests.badges.test_verify import svg_with

    award = make_award(space_a)
    svg = svg_with(publish.credential_for(award))
    upload = SimpleUploadedFile("badge.svg", svg, content_type="image/svg+xml")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 200
    assert b"a baked SVG image" in response.content


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"text": "definitely not a badge"}, "This is not an Open Badge"),
        ({"text": '{"broken": '}, "This is not valid JSON"),
        ({}, "Paste a badge or choose a file"),
        ({"text": "x", "email": "not-an-email"}, "valid email"),
    ],
)
def test_garbage_is_a_422_with_a_clear_message(client, data, words):
    response = client.post(URL, data)
    assert response.status_code == 422
    assert words in response.content.decode()


def test_garbage_file_is_a_422(client):
    upload = SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\nnonsense", content_type="image/png")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 422
    assert b"PNG image could not be read" in response.content


def test_huge_input_is_a_413_before_it_is_read(client, settings):
    settings.VERIFY_MAX_BYTES = 64 * 1024
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (200 * 1024), content_type="image/png")
    response = client.post(URL, {"file": big})
    assert response.status_code == 413
    assert b"64 KB" in response.content
    # Just under the form overhead allowance but over the cap: refused by the size check.
    settings.VERIFY_MAX_BYTES = 1024
    response = client.post(URL, {"text": "{" + " " * 4000 + "}"})
    assert response.status_code == 413


def test_rate_limited_per_address(client, settings):
    settings.VERIFY_RATE_LIMIT = 3
    for _ in range(3):
        assert client.post(URL, {"text": "nope"}).status_code == 422
    response = client.post(URL, {"text": "nope"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"try again" in response.content
    # Looking at the page is not counted.
    assert client.get(URL).status_code == 200


def test_query_count_of_a_verification(client, space_a, django_assert_max_num_queries):
    award = make_award(space_a)
    credential = json.dumps(publish.credential_for(award))
    client.post(URL, {"text": credential})  # warm the caches (contexts, schema, lists)
    with django_assert_max_num_queries(4):
        assert client.post(URL, {"text": credential}).status_code == 200
