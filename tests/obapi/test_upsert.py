"""upsertCredential: verified before it is stored (201 / 200 / 304), refused with the spec's
error body when anything fails; the backpack shows it beside ours and re-checks it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from obapi import imports
from obapi.models import ImportedCredential
from tests.factories import UserFactory, add_member, make_award
from tests.obapi import wallet
from tests.obapi.foreign import ForeignIssuer
from tests.obapi.openapi import assert_valid_response, schema_errors

pytestmark = pytest.mark.django_db

URL = "/ims/ob/v3p0/credentials"


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.VERIFY_FETCH_FOREIGN = False


@pytest.fixture
def recipient(space_a):
    return add_member(space_a, UserFactory(email="learner@example.org"))


@pytest.fixture
def token(recipient):
    signed_in = Client()
    signed_in.force_login(recipient)
    return wallet.connect(signed_in, wallet.register(Client()))["access_token"]


def post(client, token, credential):
    if isinstance(credential, str):
        return client.post(URL, credential, content_type="text/plain", **wallet.bearer(token))
    return client.post(URL, credential, content_type="application/json", **wallet.bearer(token))


def test_create_then_unchanged_then_newer_replaces(client, token, recipient):
    issuer = ForeignIssuer()
    first = issuer.credential(credential_id="urn:uuid:1c0e", valid_from="2026-01-10T09:00:00Z")
    assert schema_errors("AchievementCredential", first) == []

    created = post(client, token, first)
    assert created.status_code == 201, created.content
    assert_valid_response("/credentials", "POST", created)
    assert created.json() == first
    item = ImportedCredential.objects.get()
    assert (item.recipient, item.issuer_id, item.credential_id) == (
        recipient,
        issuer.did,
        "urn:uuid:1c0e",
    )
    # Valid (a warning only where the official OB 3.0 JSON Schema is not installed).
    assert item.status in ("valid", "warning")
    assert "fail" not in {c["status"] for c in item.checks}
    checks = {c["key"]: c["status"] for c in item.checks}
    assert checks["signature"] == "pass" and checks["key_holder"] == "pass"
    assert item.added_by_name == "Example Wallet"

    again = post(client, token, first)
    assert again.status_code == 304 and again.content == b""

    newer = issuer.credential(
        credential_id="urn:uuid:1c0e", valid_from="2026-02-01T09:00:00Z", name="Welding II"
    )
    replaced = post(client, token, newer)
    assert replaced.status_code == 200
    assert_valid_response("/credentials", "POST", replaced)
    item.refresh_from_db()
    assert item.name == "Welding II" and ImportedCredential.objects.count() == 1
    # An older one does not replace the newer.
    assert post(client, token, first).status_code == 304
    item.refresh_from_db()
    assert item.name == "Welding II"

    # getCredentials lists it after ours.
    listed = client.get(URL, **wallet.bearer(token)).json()
    assert listed["credential"][-1]["id"] == "urn:uuid:1c0e"


def test_a_compact_jws_is_accepted_and_listed_as_one(client, token):
    issuer = ForeignIssuer()
    jws = issuer.jws(valid_from="2026-01-10T09:00:00Z")
    answer = post(client, token, jws)
    assert answer.status_code == 201, answer.content
    assert answer.content.decode() == jws and answer["Content-Type"].startswith("text/plain")
    listed = client.get(URL, **wallet.bearer(token))
    assert_valid_response("/credentials", "GET", listed)
    assert listed.json()["compactJwsString"] == [jws]


def _tampered(issuer):
    signed = issuer.credential(valid_from="2026-01-10T09:00:00Z")
    signed["name"] = "Brain Surgery"
    return signed


def _other_key(issuer):
    impostor = ForeignIssuer()
    unsigned = issuer.unsigned(valid_from="2026-01-10T09:00:00Z")
    return impostor.sign(unsigned)  # signed by a key that is not the issuer's


def _expired(issuer):
    return issuer.credential(valid_from="2020-01-10T09:00:00Z", validUntil="2021-01-10T09:00:00Z")


def _unsigned(issuer):
    return issuer.unsigned(valid_from="2026-01-10T09:00:00Z")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_tampered, "signature"),
        (_other_key, "nothing ties the key that signed it to its issuer"),
        (_expired, "expired"),
        (_unsigned, "no signature"),
    ],
)
def test_an_invalid_credential_is_refused_and_nothing_stored(client, token, make, words):
    answer = post(client, token, make(ForeignIssuer()))
    assert answer.status_code == 400
    assert_valid_response("/credentials", "POST", answer)
    body = answer.json()
    assert body["imsx_codeMajor"] == "failure"
    assert words in body["imsx_description"]
    assert not ImportedCredential.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("not json", "application/json", 400),
        ("[1]", "application/json", 400),
        ('{"a": 1}', "application/json", 400),
        ("<xml/>", "application/xml", 415),
        ("not a jws", "text/plain", 400),
    ],
)
def test_unreadable_bodies_are_refused(client, token, body, content_type, status):
    answer = client.post(URL, body, content_type=content_type, **wallet.bearer(token))
    assert answer.status_code == status
    assert answer.json()["imsx_codeMajor"] == "failure"
    assert not ImportedCredential.objects.exists()


def test_upsert_needs_its_scope(client, recipient):
    signed_in = Client()
    signed_in.force_login(recipient)
    read_only = wallet.connect(signed_in, wallet.register(Client()), scope=wallet.READ)
    credential = ForeignIssuer().credential(valid_from="2026-01-10T09:00:00Z")
    answer = post(client, read_only["access_token"], credential)
    assert answer.status_code == 403
    assert_valid_response("/credentials", "POST", answer)


def test_our_own_award_is_already_there(client, token, recipient, space_a):
    from badges.openbadges import publish

    award = make_award(space_a, recipient=recipient)
    mine = publish.credential_for(award)
    assert post(client, token, mine).status_code == 304
    theirs = publish.credential_for(make_award(space_a))
    assert post(client, token, theirs).status_code == 403
    assert not ImportedCredential.objects.exists()


def test_the_backpack_shows_imported_badges_beside_ours_and_rechecks_stale_ones(
    client, token, recipient, space_a, monkeypatch
):
    make_award(space_a, recipient=recipient)
    issuer = ForeignIssuer("Elsewhere Academy")
    post(client, token, issuer.credential(valid_from="2026-01-10T09:00:00Z"))
    item = ImportedCredential.objects.get()
    browser = Client()
    browser.force_login(recipient)
    html = browser.get("/backpack/").content.decode()
    assert "Badges from elsewhere" in html
    assert "from Elsewhere Academy" in html and ">Verified" in html
    assert "The digital signature matches" in html  # what was checked, in plain words
    # A local mark stands in for the foreign issuer's image, which is never loaded from here.
    assert '<div class="imported-mark" aria-hidden="true">W</div>' in html  # Welding Basics
    # A day later its status is read again when the backpack shows it.
    ImportedCredential.objects.filter(pk=item.pk).update(
        checked_at=timezone.now() - timedelta(days=2)
    )
    seen = []
    real = imports.verify_credential
    monkeypatch.setattr(imports, "verify_credential", lambda p: seen.append(p) or real(p))
    browser.get("/backpack/")
    assert len(seen) == 1
    item.refresh_from_db()
    assert item.checked_at > timezone.now() - timedelta(minutes=1)
    # Fresh: not checked again.
    browser.get("/backpack/")
    assert len(seen) == 1


def test_the_periodic_recheck_marks_a_credential_that_fails_now(
    token, recipient, client, monkeypatch
):
    issuer = ForeignIssuer()
    until = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    post(client, token, issuer.credential(valid_from="2026-01-10T09:00:00Z", validUntil=until))
    item = ImportedCredential.objects.get()
    assert item.status in ("valid", "warning")
    ImportedCredential.objects.filter(pk=item.pk).update(
        checked_at=timezone.now() - timedelta(days=2)
    )
    # Two months on, it has expired: the job re-reads it and keeps the verdict.
    later = timezone.now() + timedelta(days=60)
    real = imports.verify_credential
    monkeypatch.setattr(imports, "verify_credential", lambda p: real(p, now=later))
    from obapi.tasks import recheck_imported_credentials

    assert recheck_imported_credentials() == 1
    item.refresh_from_db()
    assert item.status == "invalid"
    assert {c["key"]: c["status"] for c in item.checks}["dates"] == "fail"
    html = Client()
    html.force_login(recipient)
    assert "No longer valid" in html.get("/backpack/").content.decode()


def test_the_backpack_draws_many_imported_badges_in_constant_queries(
    recipient, django_assert_max_num_queries
):
    now = timezone.now()

    def add(n):
        ImportedCredential.objects.bulk_create(
            ImportedCredential(
                recipient=recipient,
                issuer_id=f"did:key:z{i}",
                credential_id=f"urn:uuid:{i}",
                credential={"id": f"urn:uuid:{i}"},
                name=f"Imported {i}",
                valid_from=now,
                status="valid",
                checks=[{"key": "signature", "title": "Signed", "status": "pass", "message": "ok"}],
                checked_at=now,
            )
            for i in range(n)
        )

    browser = Client()
    browser.force_login(recipient)
    add(2)
    with django_assert_max_num_queries(12) as few:
        browser.get("/backpack/")
    ImportedCredential.objects.all().delete()
    add(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = browser.get("/backpack/").content.decode()
    assert html.count("data-imported=") == 30
