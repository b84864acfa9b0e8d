"""Issuers' signing keys: made on first use, stored encrypted, rotated on request.

Each issuer signs with its own key, controlled by its stable id (``links.issuer_id_url``):
a verifier that checks who holds the key finds the credential's issuer. ``sign_as_issuer`` is
the one way to sign a document for an issuer (credentials, status lists); ``issuer_signer``
does the same for many documents with one key lookup and decryption.

The private key never leaves this module unencrypted except as the raw seed handed to the
signer. It is encrypted with AES-256-GCM under a key-encryption key derived
(HKDF-SHA256) from ``settings.SIGNING_KEY_SECRET`` (or, when that is empty, from SECRET_KEY),
and the key's public id is the associated data, so a ciphertext copied onto another key's row
does not decrypt.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from badgeplatform.audit import audit_log
from badgeplatform.permissions import Perm
from badges import links
from badges.models import SigningKey
from badges.openbadges.signing import (
    decode_public_key_multibase,
    generate_keypair,
    public_key_multibase,
    sign_credential,
)

if TYPE_CHECKING:
    from badgeplatform.access import Access
    from issuers.models import Issuer
    from users.models import User

_NONCE_BYTES = 12


def _key_encryption_key() -> bytes:
    secret = settings.SIGNING_KEY_SECRET or settings.SECRET_KEY
    if not secret:
        raise ImproperlyConfigured("SIGNING_KEY_SECRET (or SECRET_KEY) must be set")
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"badgeplatform.signing-keys",
        info=b"open badges signing key encryption v1",
    ).derive(secret.encode())


class KeyUnreadable(Exception):
    """The stored private key does not decrypt: SIGNING_KEY_SECRET (or SECRET_KEY) changed."""


def encrypt_private_key(seed: bytes, key_id: str) -> str:
    """The stored form of a private seed, bound to the key's public id (also used by the
    migration that gave existing issuers their keys)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key_encryption_key()).encrypt(nonce, seed, key_id.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def _decrypt(token: str, key_id: str) -> bytes:
    raw = base64.b64decode(token)
    try:
        return AESGCM(_key_encryption_key()).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], key_id.encode()
        )
    except InvalidTag as exc:
        raise KeyUnreadable(
            "The signing key does not decrypt: SIGNING_KEY_SECRET or SECRET_KEY has changed."
        ) from exc


def private_key(key: SigningKey) -> bytes:
    """The raw 32-byte Ed25519 seed, decrypted, for ``signing.sign_credential``."""
    return _decrypt(key.private_key_encrypted, str(key.public_id))


def public_key(key: SigningKey) -> bytes:
    """The raw 32-byte public key, for ``signing.verify_credential``."""
    return decode_public_key_multibase(key.public_key_multibase)


def _new_key(issuer: Issuer) -> SigningKey:
    seed, public = generate_keypair()
    key = SigningKey(
        space_id=issuer.space_id, issuer=issuer, public_key_multibase=public_key_multibase(public)
    )
    key.private_key_encrypted = encrypt_private_key(seed, str(key.public_id))
    key.save()
    return key


def signing_key_for(issuer: Issuer) -> SigningKey:
    """The issuer's active key, made on first use (one query when it exists). Two concurrent
    first uses meet the one-active-key constraint: the loser finds the winner's key."""
    key = SigningKey.objects.for_issuer(issuer).active().first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(issuer)
    except IntegrityError:
        return SigningKey.objects.for_issuer(issuer).active().get()


@transaction.atomic
def signing_key_rotate(*, issuer: Issuer) -> SigningKey:
    """Retire the issuer's active key and make a new one. The retired key stays published and
    listed in the issuer's profile, so every credential it signed keeps verifying; new
    credentials are signed with the new key. No permission check: for commands and
    ``issuer_key_rotate``."""
    # Lock the issuer: two rotations at once retire one key and make one each, in turn.
    type(issuer).objects.select_for_update().filter(pk=issuer.pk).first()
    SigningKey.objects.for_issuer(issuer).active().update(retired_at=timezone.now())
    return _new_key(issuer)


def issuer_key_rotate(*, access: Access, issuer: Issuer, actor: User | None) -> SigningKey:
    """Rotate an issuer's signing key, for someone who may manage the issuer (audit logged)."""
    if issuer.space_id != access.space.pk:
        raise ValueError("The issuer belongs to another space.")
    access.require(Perm.MANAGE_ISSUERS, organisation=issuer.organisation)
    with transaction.atomic():
        old = SigningKey.objects.for_issuer(issuer).active().values_list("public_id", flat=True)
        retired = [str(k) for k in old]
        key = signing_key_rotate(issuer=issuer)
        audit_log(
            space=issuer.space,
            actor=actor,
            action="issuer.key_rotate",
            obj=issuer,
            label=issuer.name,
            changes={"new_key": str(key.public_id), "retired": retired},
        )
    # The issuer's public profile is cached under its number of keys: it lists the new key
    # at once, nothing to invalidate.
    return key


@dataclass(frozen=True)
class IssuerSigner:
    """An issuer's current key, decrypted once, to sign one or many documents."""

    key: SigningKey
    seed: bytes

    @property
    def verification_method(self) -> str:
        return links.signing_key_url(self.key)

    def sign(self, document: dict[str, Any], *, created: str | None = None) -> dict[str, Any]:
        """A signed copy of ``document`` (eddsa-rdfc-2022, proofPurpose assertionMethod). The
        document's ``issuer`` (its id) must be ``links.issuer_id_url(issuer)``: the key's
        controller."""
        if created is None:
            created = timezone.now().astimezone(UTC).replace(microsecond=0).isoformat()
            created = created.replace("+00:00", "Z")
        return sign_credential(
            document,
            private_key=self.seed,
            verification_method=self.verification_method,
            created=created,
        )


def issuer_signer(issuer: Issuer) -> IssuerSigner:
    key = signing_key_for(issuer)
    return IssuerSigner(key=key, seed=private_key(key))


def issuer_keys(issuer: Issuer) -> list[SigningKey]:
    """Every key the issuer has had, oldest first (one query; its first key is made now if it
    has none)."""
    keys = list(SigningKey.objects.for_issuer(issuer).order_by("created_at", "pk"))
    return keys or [signing_key_for(issuer)]


def key_at(keys: list[SigningKey], moment: datetime) -> SigningKey:
    """Of ``issuer_keys``, the one that signs for what the issuer did at ``moment``: its active
    key then, i.e. the last made at or before it, else its first key (an issuer gets its first
    key on first use, which may come after its first awards). A pure function of rows that
    never change, so an award's credential is signed with the same key whenever it is signed:
    before or after a rotation, by the worker or on first request."""
    chosen = keys[0]
    for key in keys[1:]:
        if key.created_at > moment:
            break
        chosen = key
    return chosen


def award_signer(keys: list[SigningKey], issued_at: datetime) -> IssuerSigner:
    """The signer of the credential of an award issued at ``issued_at`` (``key_at``)."""
    key = key_at(keys, issued_at)
    return IssuerSigner(key=key, seed=private_key(key))


def sign_as_issuer(
    document: dict[str, Any], *, issuer: Issuer
) -> tuple[dict[str, Any], SigningKey]:
    """Sign ``document`` with the issuer's current key: (signed copy, the key used)."""
    signer = issuer_signer(issuer)
    return signer.sign(document), signer.key
