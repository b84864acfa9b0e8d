"""The spaces' signing keys: made on first use, stored encrypted, rotated on request.

The private key never leaves this module unencrypted except as the raw seed handed to the
signer. It is encrypted with AES-256-GCM under a key-encryption key derived
(HKDF-SHA256) from ``settings.SIGNING_KEY_SECRET`` (or, when that is empty, from SECRET_KEY),
and the key's public id is the associated data, so a ciphertext copied onto another key's row
does not decrypt.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from badges.models import SigningKey
from badges.openbadges.signing import (
    decode_public_key_multibase,
    generate_keypair,
    public_key_multibase,
)

if TYPE_CHECKING:
    from orgs.models import Space

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


def _encrypt(seed: bytes, key_id: str) -> str:
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


def _new_key(space: Space) -> SigningKey:
    seed, public = generate_keypair()
    key = SigningKey(space=space, public_key_multibase=public_key_multibase(public))
    key.private_key_encrypted = _encrypt(seed, str(key.public_id))
    key.save()
    return key


def signing_key_current(*, space: Space) -> SigningKey:
    """The space's active key, made on first use. Two concurrent first uses meet the
    one-active-key constraint: the loser finds the winner's key."""
    key = SigningKey.objects.for_space(space).active().first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(space)
    except IntegrityError:
        return SigningKey.objects.for_space(space).active().get()


@transaction.atomic
def signing_key_rotate(*, space: Space) -> SigningKey:
    """Retire the active key and make a new one. The retired key stays published, so every
    credential it signed keeps verifying; new credentials are signed with the new key."""
    now = timezone.now()
    SigningKey.objects.for_space(space).active().update(retired_at=now)
    return _new_key(space)
