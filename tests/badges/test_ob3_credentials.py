"""Open Badges 3.0 credentials of awards: schema, the independent proof check (with the key
dereferenced over HTTP from the proof's verificationMethod, as 1EdTech's validator does: no
Accept header, a top-level ``controller`` that must be the credential's issuer), the issuer's
stable id and its profile listing its keys, tampering, revocation status, lazy/worker signing,
and key rotation with keys encrypted at rest."""

import base64
import copy
import json
from datetime import UTC
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings

from badgeplatform.access import Access
from badges import links
from badges.models import Award, AwardCredential, SigningKey, StatusListEntry
from badges.openbadges import keys, tasks
from badges.openbadges.status import decode_list
from issuers.models import Issuer
from tests.factories import make_award, make_badge, make_issuer, revoke_award
from tests.openbadges_reference import (
    ACHIEVEMENT_SCHEMA,
    HAVE_CONFORMANCE,
    SKIP_REASON,
    ref_b58decode,
    ref_schema_errors,
    ref_verify,
)

PROFILE_SCHEMA = "ob_v3p0_profile_schema.json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not HAVE_CONFORMANCE, reason=SKIP_REASON),
]


def fetch(client, url):
    response = client.get(url.removeprefix(links._url("")), HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200, url
    return json.loads(response.content)


def fetch_plain(client, url):
    """A GET with no Accept header at all (1EdTech's validator's key fetch)."""
    response = client.get(url.removeprefix(links._url("")))
    assert response.status_code == 200, url
    return json.loads(response.content)


def key_over_http(client, credential) -> bytes:
    """What an outside verifier does: dereference the proof's verificationMethod (no Accept
    header), check its controller is the credential's issuer, and that the issuer's profile
    (the controller document, at the issuer's id) lists the key as an assertion method."""
    method = credential["proof"][0]["verificationMethod"]
    issuer = credential["issuer"]  # an object on an award's credential, an id on a status list
    issuer_id = issuer if isinstance(issuer, str) else issuer["id"]
    doc = fetch_plain(client, method)
    assert doc["@context"] == ["https://w3id.org/security/multikey/v1"]
    assert doc["id"] == method and doc["type"] == "Multikey"
    assert doc["controller"] == issuer_id
    controller = fetch(client, doc["controller"])
    assert controller["id"] == issuer_id
    assert method in controller["assertionMethod"]
    listed = {vm["id"]: vm for vm in controller["verificationMethod"]}
    assert listed[method] == {k: v for k, v in doc.items() if k != "@context"}
    raw = ref_b58decode(doc["publicKeyMultibase"].removeprefix("z"))
    assert raw[:2] == b"\xed\x01"
    return raw[2:]


@pytest.fixture
def award(space_a):
    return make_award(space_a, expiry_amount=6, expiry_unit="months")


def test_credential_validates_and_verifies_independently(client, award):
    credential = fetch(client, links.credential_url(award))
    assert ref_schema_errors(credential, ACHIEVEMENT_SCHEMA) == []
    assert ref_verify(credential, key_over_http(client, credential))
    proof = credential["proof"][0]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"


def test_credential_content(client, award):
    credential = fetch(client, links.credential_url(award))
    assert credential["id"] == links.credential_url(award)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    # The issuer's stable id (not the profile version's), with the version's snapshot.
    assert credential["issuer"]["id"] == links.issuer_id_url(award.badge.issuer)
    assert credential["issuer"]["id"] != links.issuer_url(award.issuer_version)
    assert credential["issuer"]["name"] == award.issuer_version.name
    assert credential["validFrom"].startswith(award.issued_at.strftime("%Y-%m-%dT%H:%M"))
    assert credential["validUntil"].startswith(award.expires_at.strftime("%Y-%m-%dT%H:%M"))
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["salt"] == award.identity_salt
    assert subject["identifier"][0]["identityType"] == "emailAddress"
    achievement = subject["achievement"]
    assert achievement["name"] == award.badge_snapshot["name"]
    assert achievement["criteria"]["narrative"] == award.badge_snapshot["criteria_text"]
    # The achievement id dereferences to the same badge, as an OB 2.0 BadgeClass.
    assert fetch(client, achievement["id"])["name"] == achievement["name"]
    entry = StatusListEntry.objects.get(award=award)
    list_url = links.status_list_url(entry.status_list)
    assert credential["credentialStatus"] == {
        "id": f"{list_url}#{entry.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(entry.index),
        "statusListCredential": list_url,
    }


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c["credentialSubject"]["achievement"].update(name="Rocket Science"),
        lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
        lambda c: c["credentialSubject"]["identifier"][0].update(salt="other"),
        lambda c: c["issuer"].update(name="Someone Else"),
    ],
    ids=["achievement", "validUntil", "recipient", "issuer"],
)
def test_tampered_credential_fails(client, award, tamper):
    credential = fetch(client, links.credential_url(award))
    public = key_over_http(client, credential)
    tampered = copy.deepcopy(credential)
    tamper(tampered)
    assert ref_verify(credential, public)
    assert not ref_verify(tampered, public)


def test_revocation_is_published_in_the_status_list(client, award, space_a):
    credential = fetch(client, links.credential_url(award))
    status = credential["credentialStatus"]
    index = int(status["statusListIndex"])
    before = fetch(client, status["statusListCredential"])
    assert not bit(before, index)
    revoke_award(award, reason="Plagiarism.")
    after = fetch(client, status["statusListCredential"])
    assert bit(after, index)
    assert after["issuer"] == credential["issuer"]["id"]
    # The signed credential itself never changes.
    assert fetch(client, links.credential_url(award)) == credential


def test_the_legacy_revocation_list_is_still_kept_current(client, award):
    url = links.revocation_list_url(award.issuer_version)
    assert fetch(client, url)["revokedCredentials"] == []
    revoke_award(award, reason="Plagiarism.")
    assert fetch(client, url)["revokedCredentials"] == [
        {"id": links.credential_url(award), "revocationReason": "Plagiarism."}
    ]


def bit(list_credential, index) -> bool:
    bits = decode_list(list_credential["credentialSubject"]["encodedList"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def test_signed_once_lazily_and_stored(client, award):
    # Eager tasks (tests, the embedded default): issuing signs nothing.
    assert not AwardCredential.objects.filter(award=award).exists()
    first = client.get(links.credential_url(award)).content
    stored = AwardCredential.objects.get(award=award)
    assert json.loads(first) == stored.credential
    with mock.patch("badges.openbadges.signing.sign_credential") as sign:
        assert client.get(links.credential_url(award)).content == first
        sign.assert_not_called()
    assert AwardCredential.objects.filter(award=award).count() == 1


def test_issuing_queues_signing_after_commit_when_a_worker_exists(space_a, committed):
    badge = make_badge(space_a)
    conf = tasks.current_app.conf
    conf.task_always_eager = False  # a broker and a worker, as in production
    try:
        with mock.patch.object(tasks.sign_credentials, "delay") as delay, committed():
            award = make_award(space_a, badge=badge)
            delay.assert_not_called()  # nothing before the commit
    finally:
        conf.task_always_eager = True
    delay.assert_called_once_with([award.pk])


def test_the_worker_task_signs_what_is_unsigned(space_a):
    awards = [make_award(space_a) for _ in range(3)]
    ids = [a.pk for a in awards]
    assert tasks.sign_credentials(ids) == 3
    assert tasks.sign_credentials(ids) == 0  # idempotent
    for credential in AwardCredential.objects.filter(award_id__in=ids).select_related(
        "award__issuer_version__issuer", "signing_key"
    ):
        issuer = credential.award.issuer_version.issuer
        assert credential.signing_key.issuer_id == issuer.pk
        proof = credential.credential["proof"][0]
        assert proof["verificationMethod"] == links.signing_key_url(credential.signing_key)
        assert credential.credential["issuer"]["id"] == links.issuer_id_url(issuer)


def test_issuer_profile_at_its_id_lists_its_keys(client, award):
    """The issuer's id answers JSON-LD (its current profile and keys) to JSON clients and by
    default, a page to browsers; the profile is also the keys' controller document."""
    credential = fetch(client, links.credential_url(award))
    issuer_id = credential["issuer"]["id"]
    profile = fetch_plain(client, issuer_id)
    assert profile["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert profile["id"] == issuer_id and profile["type"] == ["Profile"]
    assert profile["name"] == award.issuer_version.name
    assert ref_schema_errors(profile, PROFILE_SCHEMA) == []
    method = credential["proof"][0]["verificationMethod"]
    assert profile["assertionMethod"] == [method]
    assert profile["verificationMethod"][0]["controller"] == issuer_id
    page = client.get(issuer_id.removeprefix(links._url("")), HTTP_ACCEPT=BROWSER)
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert award.issuer_version.name in html and "Signing keys" in html
    assert profile["verificationMethod"][0]["publicKeyMultibase"][:20] in html
    # The key document is JSON whatever a browser asks for (verifiers send anything).
    key = client.get(method.removeprefix(links._url("")), HTTP_ACCEPT=BROWSER)
    assert key["Content-Type"].startswith("application/") and json.loads(key.content)["id"]


def test_editing_the_issuer_keeps_its_id(client, space_a, award):
    from badgeplatform.access import Access
    from issuers.services import issuer_update

    issuer = award.badge.issuer
    first = fetch(client, links.credential_url(award))
    assertion = fetch(client, links.assertion_url(award))
    ob2_before = [assertion, fetch(client, assertion["badge"])]
    ob2_before.append(fetch(client, ob2_before[1]["issuer"]))
    issuer_update(access=Access.system(space_a), issuer=issuer, actor=None, name="Acme Academy")
    keys.issuer_key_rotate(
        access=Access.system(space_a),
        issuer=Issuer.objects.select_related("organisation").get(pk=issuer.pk),
        actor=None,
    )
    later = make_award(space_a, badge=award.badge)
    second = fetch(client, links.credential_url(later))
    assert later.issuer_version_id != award.issuer_version_id
    assert second["issuer"]["id"] == first["issuer"]["id"] == links.issuer_id_url(issuer)
    assert (first["issuer"]["name"], second["issuer"]["name"]) == ("Acme Learning", "Acme Academy")
    # The profile at the id is the current one; the first credential's snapshot is unchanged.
    assert fetch(client, first["issuer"]["id"])["name"] == "Acme Academy"
    assert ref_verify(first, key_over_http(client, first))
    assert ref_verify(second, key_over_http(client, second))
    # OB 2.0 keeps naming the profile version of each award: the old assertion, its
    # BadgeClass and its issuer profile answer exactly as before the edit and the rotation.
    ob2_after = [fetch(client, links.assertion_url(award))]
    ob2_after.append(fetch(client, ob2_after[0]["badge"]))
    ob2_after.append(fetch(client, ob2_after[1]["issuer"]))
    assert ob2_after == ob2_before
    assert ob2_after[2]["id"] == links.issuer_url(award.issuer_version)
    assert ob2_after[2]["name"] == "Acme Learning"


def test_rotation_keeps_old_credentials_verifiable(client, space_a):
    from badgeplatform.models import AuditEntry as Entry

    old = make_award(space_a)
    issuer = old.badge.issuer
    old_credential = fetch(client, links.credential_url(old))
    old_key = SigningKey.objects.get(issuer=issuer)
    access = Access.system(space_a)
    issuer = Issuer.objects.select_related("organisation", "current").get(pk=issuer.pk)
    new_key = keys.issuer_key_rotate(access=access, issuer=issuer, actor=None)
    old_key.refresh_from_db()
    assert old_key.retired_at is not None and new_key.is_active
    assert Entry.objects.filter(action="issuer.key_rotate", space=space_a).count() == 1

    new = make_award(space_a, badge=old.badge)
    new_credential = fetch(client, links.credential_url(new))
    assert new_credential["proof"][0]["verificationMethod"] == links.signing_key_url(new_key)
    assert new_credential["issuer"]["id"] == old_credential["issuer"]["id"]
    # The old key is still published and listed: the old credential still verifies over HTTP.
    assert ref_verify(old_credential, key_over_http(client, old_credential))
    assert ref_verify(new_credential, key_over_http(client, new_credential))
    assert not ref_verify(old_credential, key_over_http(client, new_credential))
    profile = fetch(client, links.issuer_id_url(issuer))
    assert profile["assertionMethod"] == [
        links.signing_key_url(old_key),
        links.signing_key_url(new_key),
    ]
    # The verification page checks each with its own key.
    from badges.openbadges.verification import signature_check

    assert signature_check(Award.objects.get(pk=old.pk)).ok
    assert signature_check(Award.objects.get(pk=new.pk)).ok


def test_rotation_needs_manage_issuers(space_a):
    from django.core.exceptions import PermissionDenied

    from badgeplatform.access import load_access
    from tests.factories import add_member

    issuer = make_issuer(space_a)
    user = add_member(space_a, role_name="Badge Issuer")
    with pytest.raises(PermissionDenied):
        keys.issuer_key_rotate(access=load_access(space_a, user), issuer=issuer, actor=user)
    assert not SigningKey.objects.filter(issuer=issuer).exists()


def test_keys_are_per_issuer(client, space_a, space_b):
    a = make_award(space_a)
    other_issuer = make_issuer(space_a, name="Other Institute")
    a2 = make_award(space_a, badge=make_badge(space_a, issuer=other_issuer))
    b = make_award(space_b)
    methods = {
        fetch(client, links.credential_url(x))["proof"][0]["verificationMethod"] for x in (a, a2, b)
    }
    assert len(methods) == 3
    for x in (a, a2, b):
        credential = fetch(client, links.credential_url(x))
        assert ref_verify(credential, key_over_http(client, credential))


def test_private_key_is_encrypted_at_rest(space_a):
    issuer = make_issuer(space_a)
    key = keys.signing_key_for(issuer)
    seed = keys.private_key(key)
    assert len(seed) == 32
    stored = base64.b64decode(key.private_key_encrypted)
    assert seed not in stored and seed.hex() not in key.private_key_encrypted
    # Bound to its row: the same ciphertext on another key does not decrypt.
    other = keys.signing_key_rotate(issuer=issuer)
    other.private_key_encrypted = key.private_key_encrypted
    with pytest.raises(keys.KeyUnreadable):
        keys.private_key(other)
    # And to the secret: another SIGNING_KEY_SECRET cannot read it.
    with (
        override_settings(SIGNING_KEY_SECRET="a-different-secret"),
        pytest.raises(keys.KeyUnreadable),
    ):
        keys.private_key(key)


def test_one_active_key_per_issuer(space_a):
    from django.db import IntegrityError, transaction

    issuer = make_issuer(space_a)
    key = keys.signing_key_for(issuer)
    assert keys.signing_key_for(issuer) == key
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            space=space_a, issuer=issuer, public_key_multibase="z", private_key_encrypted=""
        )


def test_rotate_command(space_a, space_b):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rotate_signing_key", "--space", "nope")
    with pytest.raises(CommandError):
        call_command("rotate_signing_key", "--issuer", "not-a-uuid")
    a, b = make_issuer(space_a), make_issuer(space_b)
    call_command("rotate_signing_key", "--space", space_a.slug, stdout=mock.MagicMock())
    assert SigningKey.objects.filter(issuer=a).count() == 1
    assert not SigningKey.objects.filter(issuer=b).exists()
    call_command("rotate_signing_key", "--issuer", str(b.public_id), stdout=mock.MagicMock())
    call_command("rotate_signing_key", "--all", stdout=mock.MagicMock())
    for issuer in (a, b):
        assert SigningKey.objects.filter(issuer=issuer).count() == 2
        assert SigningKey.objects.filter(issuer=issuer, retired_at__isnull=True).count() == 1


def test_public_key_documents_query_counts(client, award, django_assert_num_queries):
    """Issuer profile at its id: one query once cached (the issuer, its current version and
    its number of keys), whatever the number of keys; a key document: none once cached."""
    from badges.openbadges.publish import clear_local_cache

    credential = fetch(client, links.credential_url(award))
    issuer_path = credential["issuer"]["id"].removeprefix(links._url(""))
    key_path = credential["proof"][0]["verificationMethod"].removeprefix(links._url(""))
    with django_assert_num_queries(3):  # not a version; the issuer; its keys
        assert client.get(issuer_path).status_code == 200
    with django_assert_num_queries(2):  # not a version; the issuer (the document is cached)
        assert client.get(issuer_path).status_code == 200
    issuer = Issuer.objects.select_related("organisation").get(pk=award.badge.issuer_id)
    for _ in range(3):
        keys.issuer_key_rotate(access=Access.system(award.space), issuer=issuer, actor=None)
    fetch(client, issuer_path)
    with django_assert_num_queries(2):
        assert len(fetch(client, issuer_path)["assertionMethod"]) == 4
    clear_local_cache()
    with django_assert_num_queries(1):
        assert client.get(key_path).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(key_path).status_code == 200


def test_migration_gives_every_issuer_a_key_and_keeps_space_keys_published(client, space_a):
    """Before: one key per space, controlled by /public/signers/<space>. The data migration
    retires it (still published, so what it signed verifies) and gives each issuer its key."""
    import importlib

    from django.apps import apps

    from badges.openbadges.signing import generate_keypair, public_key_multibase

    migration = importlib.import_module("badges.migrations.0007_issuer_signing_keys")
    seed, public = generate_keypair()
    legacy = SigningKey(space=space_a, public_key_multibase=public_key_multibase(public))
    legacy.private_key_encrypted = keys.encrypt_private_key(seed, str(legacy.public_id))
    legacy.save()
    first, second = make_issuer(space_a), make_issuer(space_a, name="Second")
    migration.give_issuers_keys(apps, None)
    migration.give_issuers_keys(apps, None)  # idempotent
    legacy.refresh_from_db()
    assert legacy.retired_at is not None
    for issuer in (first, second):
        key = SigningKey.objects.get(issuer=issuer)
        assert key.is_active and len(keys.private_key(key)) == 32
        assert keys.signing_key_for(issuer) == key
    # The space key's documents are still served, under the space's controller document.
    doc = fetch_plain(client, links.signing_key_url(legacy))
    assert doc["controller"] == links.key_controller_url(space_a)
    signers = fetch(client, doc["controller"])
    assert signers["assertionMethod"] == [links.signing_key_url(legacy)]


def test_rotate_button_on_the_issuer_page(client_a, space_a):
    from badgeplatform.models import AuditEntry

    issuer = make_issuer(space_a)
    first = keys.signing_key_for(issuer)
    page = client_a.get(f"/s/{space_a.slug}/issuers/{issuer.pk}/").content.decode()
    assert "Signing keys" in page and first.public_key_multibase[:20] in page
    assert links.issuer_id_url(issuer) in page
    rotate = f"/s/{space_a.slug}/issuers/{issuer.pk}/signing-key/rotate/"
    assert f'action="{rotate}"' in page and "data-confirm=" in page
    assert client_a.get(rotate).status_code == 405  # only a POST (after the confirmation)
    response = client_a.post(rotate)
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.retired_at is not None
    assert SigningKey.objects.filter(issuer=issuer, retired_at__isnull=True).count() == 1
    entry = AuditEntry.objects.get(action="issuer.key_rotate")
    assert entry.changes["retired"] == [str(first.public_id)]
    page = client_a.get(response["Location"]).content.decode()
    assert "New signing key" in page and "Retired" in page


def clear_public_caches() -> None:
    from django.core.cache import cache

    from badges.openbadges.publish import clear_local_cache

    cache.clear()
    clear_local_cache()


def _signed_by_worker(award) -> dict:
    from badges.openbadges import publish

    awards = list(
        Award.objects.select_related("badge", "issuer_version__issuer").filter(pk=award.pk)
    )
    assert publish.sign_awards(awards) == 1
    return AwardCredential.objects.get(award=award).credential


def test_a_credential_has_the_same_bytes_whenever_and_however_it_is_signed(client, award):
    """Issue 15: "signed or signable on first request with the same bytes every time". Its
    content is fixed when the award is made (the proof's ``created`` is the issue time, the key
    the one active then), so the worker and a first request sign the very same document, and
    so does a first request after a key rotation."""
    by_worker = _signed_by_worker(award)
    proof = by_worker["proof"][0]
    issued = award.issued_at.astimezone(UTC).replace(microsecond=0)
    assert proof["created"] == issued.isoformat().replace("+00:00", "Z")
    old_key = SigningKey.objects.get(issuer=award.badge.issuer)
    assert proof["verificationMethod"] == links.signing_key_url(old_key)

    AwardCredential.objects.filter(award=award).delete()
    clear_public_caches()
    on_first_request = fetch(client, links.credential_url(award))
    assert on_first_request == by_worker

    issuer = Issuer.objects.select_related("organisation").get(pk=award.badge.issuer_id)
    new_key = keys.issuer_key_rotate(access=Access.system(award.space), issuer=issuer, actor=None)
    AwardCredential.objects.filter(award=award).delete()
    clear_public_caches()
    after_rotation = fetch(client, links.credential_url(award))
    assert after_rotation == by_worker  # still the key of the award's time, not new_key
    assert AwardCredential.objects.get(award=award).signing_key_id == old_key.pk
    assert ref_verify(after_rotation, key_over_http(client, after_rotation))
    # An award made after the rotation is signed with the new key, by either path.
    later = make_award(award.space, badge=award.badge)
    assert _signed_by_worker(later)["proof"][0]["verificationMethod"] == (
        links.signing_key_url(new_key)
    )


def test_an_award_made_before_its_issuer_had_a_key_is_signed_with_the_first_key(space_a):
    from datetime import timedelta

    from badges.openbadges import publish

    award = make_award(space_a)
    Award.objects.filter(pk=award.pk).update(issued_at=award.issued_at - timedelta(days=30))
    award.refresh_from_db()
    first = keys.signing_key_for(award.badge.issuer)
    keys.signing_key_rotate(issuer=award.badge.issuer)
    award = Award.objects.select_related("badge", "issuer_version__issuer").get(pk=award.pk)
    signed = publish.credential_for(award)
    assert signed["proof"][0]["verificationMethod"] == links.signing_key_url(first)


def test_signing_a_batch_costs_the_same_queries_at_any_size(space_a):
    """The signer's path (``publish.sign_awards``): a constant number of queries per batch."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from badges.openbadges import publish

    badge = make_badge(space_a)
    keys.signing_key_for(badge.issuer)

    def queries_for(count: int) -> int:
        made = [make_award(space_a, badge=badge) for _ in range(count)]
        awards = list(
            Award.objects.select_related("badge", "issuer_version__issuer").filter(
                pk__in=[a.pk for a in made]
            )
        )
        with CaptureQueriesContext(connection) as ctx:
            assert publish.sign_awards(awards) == count
        return len(ctx.captured_queries)

    queries_for(1)  # the BadgeClass version is made on first use
    # The status entries (1), the issuer's keys (1), the BadgeClass version (1), one INSERT.
    assert queries_for(2) == queries_for(8) == 4
