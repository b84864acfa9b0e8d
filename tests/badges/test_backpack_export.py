"""Download all my badges (issue 17): a streamed zip of every award's Open Badges 3.0
credential (the served bytes) and its baked PNG, with a README; declined awards left out,
suspended and revoked ones with their credential only."""

import io
import json
import zipfile

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from badges import backpack_export, links
from badges.awards import award_decline
from badges.openbadges import baking
from badges.openbadges.verify import verify_credential
from tests.factories import UserFactory, add_member, make_award, revoke_award

pytestmark = pytest.mark.django_db


def local(url: str) -> str:
    return url.removeprefix(links._url(""))


@pytest.fixture
def recipient(space_a):
    return add_member(space_a, UserFactory(first_name="Rita", last_name="Recipient"))


def download(client) -> tuple[object, zipfile.ZipFile]:
    response = client.get(reverse("backpack:download_all"))
    assert response.status_code == 200
    assert response.streaming, "the zip is streamed, never built whole"
    body = b"".join(response.streaming_content)
    return response, zipfile.ZipFile(io.BytesIO(body))


def test_the_zip_holds_each_credential_as_served_and_its_baked_png(client, space_a, recipient):
    kept = make_award(space_a, recipient=recipient, name="Data Stewardship")
    revoked = revoke_award(make_award(space_a, recipient=recipient, name="Revoked One"))
    declined = make_award(space_a, recipient=recipient, name="Declined One")
    with TestCase.captureOnCommitCallbacks(execute=True):
        award_decline(award=declined, actor=recipient)
    someone_elses = make_award(space_a, name="Not Mine")
    client.force_login(recipient)

    response, archive = download(client)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="my-badges-')
    assert archive.testzip() is None
    names = archive.namelist()
    folder = f"my-badges/data-stewardship-{str(kept.public_id)[:8]}"
    assert f"{folder}/credential.json" in names and f"{folder}/badge.png" in names

    # The credential: exactly the bytes served publicly, and its proof checks.
    credential = archive.read(f"{folder}/credential.json")
    served = Client().get(local(links.credential_url(kept)))
    assert credential == served.content
    verdict = verify_credential(credential)
    assert verdict.status == "valid", [(c.key, c.status, c.detail) for c in verdict.checks]
    assert [c.status for c in verdict.checks if c.key == "signature"] == ["pass"]
    assert json.loads(credential)["id"] == links.credential_url(kept)
    # The baked PNG carries the same bytes, and is itself a valid credential.
    png = archive.read(f"{folder}/badge.png")
    assert baking.unbake(png, baking.OB3_KEYWORD).encode() == credential
    assert verify_credential(png).status == "valid"

    # Revoked: its credential only (the status list says revoked); declined: left out.
    revoked_folder = f"my-badges/revoked-one-{str(revoked.public_id)[:8]}"
    assert f"{revoked_folder}/credential.json" in names
    assert f"{revoked_folder}/badge.png" not in names
    assert verify_credential(archive.read(f"{revoked_folder}/credential.json")).status == (
        "invalid"
    )
    assert not any(str(declined.public_id)[:8] in n for n in names)
    assert not any(str(someone_elses.public_id)[:8] in n for n in names)

    readme = archive.read("my-badges/README.txt").decode()
    assert "credential.json" in readme and "badge.png" in readme
    assert "Data Stewardship (valid)" in readme and "Revoked One (revoked)" in readme
    assert "Declined One" not in readme and "Left out: 1 badge(s) you declined." in readme


def test_the_stream_yields_award_by_award(space_a, recipient):
    for n in range(3):
        make_award(space_a, recipient=recipient, name=f"Badge {n}")
    entries, declined = backpack_export.entries_for(recipient)
    pieces = list(backpack_export.zip_stream(entries, declined))
    # One piece per award, then the README and the central directory: never one blob.
    assert len(pieces) == 4 and all(pieces)
    assert zipfile.ZipFile(io.BytesIO(b"".join(pieces))).testzip() is None


def test_an_empty_backpack_gets_a_readme_and_no_button(client, recipient):
    client.force_login(recipient)
    page = client.get(reverse("backpack:index")).content.decode()
    assert "Download all my badges" not in page
    _, archive = download(client)
    assert archive.namelist() == ["my-badges/README.txt"]


def test_the_button_and_the_query_count(client, space_a, recipient, django_assert_max_num_queries):
    for n in range(4):
        make_award(space_a, recipient=recipient, name=f"Badge {n}")
    client.force_login(recipient)
    page = client.get(reverse("backpack:index")).content.decode()
    assert reverse("backpack:download_all") in page and "Download all my badges (zip)" in page
    download(client)  # warm: each credential signed and cached once
    # Session, user, the awards list: constant; each credential and baked image is read
    # from the cache (signed once, when issued or first served).
    with django_assert_max_num_queries(3):
        download(client)


def test_only_signed_in_people_download(client):
    response = client.get(reverse("backpack:download_all"))
    assert response.status_code == 302 and "login" in response["Location"]
