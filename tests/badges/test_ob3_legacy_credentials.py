"""Credentials signed before keys belonged to issuers (issue 14) keep verifying.

Then: one key per space, controlled by ``/public/signers/<space>``; ``issuer.id`` the profile
*version* URL; ``credentialStatus`` a 1EdTechRevocationList. Migration 0007 retired those keys
and gave each issuer its own; a signed credential is never re-signed, so an old credential is
served as it was and its key documents must stay served for its proof to verify.
"""

import importlib
import json

import pytest
from django.apps import apps
from django.core.cache import cache

from badgeplatform.access import Access
from badges import links
from badges.models import AwardCredential, SigningKey
from badges.openbadges import keys
from badges.openbadges.publish import clear_local_cache
from badges.openbadges.signing import generate_keypair, public_key_multibase, sign_credential
from tests.badges.test_ob3_credentials import fetch, fetch_plain
from tests.factories import make_award, revoke_award
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


def old_style_credential(award, legacy: SigningKey, seed: bytes) -> dict:
    """The award's credential as the code before issue 14 signed it: the space's key, the
    profile version as issuer id, the 1EdTech revocation list as status."""
    current = AwardCredential.objects.get(award=award).credential
    unsigned = {k: v for k, v in current.items() if k != "proof"}
    unsigned["issuer"] = {**unsigned["issuer"], "id": links.issuer_url(award.issuer_version)}
    unsigned["credentialStatus"] = {
        "id": links.revocation_list_url(award.issuer_version),
        "type": "1EdTechRevocationList",
    }
    return sign_credential(
        unsigned,
        private_key=seed,
        verification_method=links.signing_key_url(legacy),
        created="2026-03-01T09:00:00Z",
    )


def test_a_credential_signed_with_a_space_key_still_verifies(client, space_a, admin_a):
    # Before the migration: the space's key signs the award's credential.
    seed, public = generate_keypair()
    legacy = SigningKey(space=space_a, public_key_multibase=public_key_multibase(public))
    legacy.private_key_encrypted = keys.encrypt_private_key(seed, str(legacy.public_id))
    legacy.save()
    award = make_award(space_a)
    fetch(client, links.credential_url(award))  # signed and stored
    old = old_style_credential(award, legacy, seed)
    AwardCredential.objects.filter(award=award).update(credential=old, signing_key=legacy)
    cache.clear()
    clear_local_cache()

    # The migration, then a rotation of the issuer's own key: neither touches it.
    importlib.import_module("badges.migrations.0007_issuer_signing_keys").give_issuers_keys(
        apps, None
    )
    issuer = award.issuer_version.issuer
    keys.issuer_key_rotate(access=Access.system(space_a), issuer=issuer, actor=admin_a)

    served = fetch(client, links.credential_url(award))
    assert served == old  # served as signed, never re-signed
    assert ref_schema_errors(served, ACHIEVEMENT_SCHEMA) == []

    # What a verifier does: dereference the key (no Accept header), then its controller.
    method = served["proof"][0]["verificationMethod"]
    key_doc = fetch_plain(client, method)
    assert key_doc["id"] == method and key_doc["type"] == "Multikey"
    assert key_doc["controller"] == links.key_controller_url(space_a)
    controller = fetch(client, key_doc["controller"])
    assert method in controller["assertionMethod"]
    assert [vm["id"] for vm in controller["verificationMethod"]] == [method]
    raw = ref_b58decode(key_doc["publicKeyMultibase"].removeprefix("z"))
    assert raw[:2] == b"\xed\x01"
    assert ref_verify(served, raw[2:])
    # Tampering is still caught with that key.
    assert not ref_verify({**served, "name": "Something else"}, raw[2:])

    # Its issuer id (the profile version) still resolves, and its 1EdTech revocation list
    # follows revocations.
    assert fetch(client, served["issuer"]["id"])["id"] == served["issuer"]["id"]
    status_url = served["credentialStatus"]["id"]
    assert fetch(client, status_url)["revokedCredentials"] == []
    revoke_award(award)
    revoked = json.loads(client.get(status_url.removeprefix(links._url(""))).content)
    assert revoked["revokedCredentials"] == [
        {"id": served["id"], "revocationReason": "Awarded by mistake."}
    ]
