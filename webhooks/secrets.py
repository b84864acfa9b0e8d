"""Endpoint secrets: made, stored encrypted (AES-GCM, bound to the endpoint), read back to sign."""

from __future__ import annotations

import base64
import os
import secrets as random

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "whsec_"
_NONCE = 12


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes: the form the standardwebhooks library reads."""
    return PREFIX + base64.b64encode(random.token_bytes(32)).decode("ascii")


def _kek() -> bytes:
    secret = getattr(settings, "SIGNING_KEY_SECRET", "") or settings.SECRET_KEY
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"badgeplatform.webhooks", info=b"secret v1"
    ).derive(secret.encode())


def seal(secret: str, endpoint_id: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_kek()).encrypt(nonce, secret.encode(), endpoint_id.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(token: str, endpoint_id: str) -> str:
    raw = base64.b64decode(token)
    return AESGCM(_kek()).decrypt(raw[:_NONCE], raw[_NONCE:], endpoint_id.encode()).decode()
