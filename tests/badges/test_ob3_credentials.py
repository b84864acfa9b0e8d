"""Open Badges 3.0 credentials of awards: schema, the independent proof check (with the key
dereferenced over HTTP from the proof's verificationMethod), tampering, revocation status,
lazy/worker signing, and key rotation with keys encrypted at rest."""

import base64
import copy
import json
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings

from badges import links
from badges.models import Award, AwardCredential, SigningKey, StatusListEntry
from badges.openbadges import keys, tasks
from badges.openbadges.status import decode_list
from tests.factories import make_award, make_badge, revoke_award
from tests.openbadges_reference import (
    ACHIEVEMENT_SCHEMA,
    HAVE_CONFORMANCE,
    SKIP_REASON,
    ref_b58decode,
    ref_schema_errors,
    ref_verify,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not HAVE_CONFORMANCE, reason=SKIP_REASON),
]


def fetch(client, url):
    response = client.get(url.removeprefix(links._url("")), HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200, url
    return json.loads(response.content)


def key_over_http(client, credential) -> bytes:
    """What an outside verifier does: dereference the proof's verificationMethod."""
    method = credential["proof"][0]["verificationMethod"]
    doc = fetch(client, method)
    assert doc["id"] == method and doc["type"] == "Multikey"
    controller = fetch(client, doc["controller"])
    assert method in controller["assertionMethod"]
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
    assert credential["issuer"]["id"] == links.issuer_url(award.issuer_version)
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
    for credential in AwardCredential.objects.filter(award_id__in=ids):
        assert credential.signing_key.space_id == space_a.pk
        assert credential.credential["proof"][0]["verificationMethod"] == links.signing_key_url(
            credential.signing_key
        )


def test_rotation_keeps_old_credentials_verifiable(client, space_a):
    old = make_award(space_a)
    old_credential = fetch(client, links.credential_url(old))
    old_key = SigningKey.objects.get(space=space_a)
    call_command("rotate_signing_key", "--space", space_a.slug, stdout=mock.MagicMock())
    old_key.refresh_from_db()
    assert old_key.retired_at is not None
    new_key = SigningKey.objects.get(space=space_a, retired_at__isnull=True)

    new = make_award(space_a)
    new_credential = fetch(client, links.credential_url(new))
    assert new_credential["proof"][0]["verificationMethod"] == links.signing_key_url(new_key)
    # The old key is still published: the old credential still verifies over HTTP.
    assert ref_verify(old_credential, key_over_http(client, old_credential))
    assert ref_verify(new_credential, key_over_http(client, new_credential))
    controller = fetch(client, links.key_controller_url(space_a))
    assert controller["assertionMethod"] == [
        links.signing_key_url(old_key),
        links.signing_key_url(new_key),
    ]
    # The verification page checks each with its own key.
    from badges.openbadges.verification import signature_check

    assert signature_check(Award.objects.get(pk=old.pk)).ok


def test_keys_are_per_space(client, space_a, space_b):
    a = make_award(space_a)
    b = make_award(space_b)
    ka = fetch(client, links.credential_url(a))["proof"][0]["verificationMethod"]
    kb = fetch(client, links.credential_url(b))["proof"][0]["verificationMethod"]
    assert ka != kb


def test_private_key_is_encrypted_at_rest(space_a):
    key = keys.signing_key_current(space=space_a)
    seed = keys.private_key(key)
    assert len(seed) == 32
    stored = base64.b64decode(key.private_key_encrypted)
    assert seed not in stored and seed.hex() not in key.private_key_encrypted
    # Bound to its row: the same ciphertext on another key does not decrypt.
    other = keys.signing_key_rotate(space=space_a)
    other.private_key_encrypted = key.private_key_encrypted
    with pytest.raises(keys.KeyUnreadable):
        keys.private_key(other)
    # And to the secret: another SIGNING_KEY_SECRET cannot read it.
    with (
        override_settings(SIGNING_KEY_SECRET="a-different-secret"),
        pytest.raises(keys.KeyUnreadable),
    ):
        keys.private_key(key)


def test_one_active_key_per_space(space_a):
    from django.db import IntegrityError, transaction

    key = keys.signing_key_current(space=space_a)
    assert keys.signing_key_current(space=space_a) == key
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(space=space_a, public_key_multibase="z", private_key_encrypted="")


def test_rotate_command_needs_a_known_space(space_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rotate_signing_key", "--space", "nope")
    call_command("rotate_signing_key", "--all", stdout=mock.MagicMock())
    assert SigningKey.objects.filter(space=space_a, retired_at__isnull=True).count() == 1
