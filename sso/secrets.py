"""OIDC client secrets at rest: AES-GCM, bound to the provider's id (like webhook secrets)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_NONCE = 12


def _kek() -> bytes:
    secret = getattr(settings, "SIGNING_KEY_SECRET", "") or settings.SECRET_KEY
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"badgeplatform.sso", info=b"client secret v1"
    ).derive(secret.encode())


def seal(secret: str, bound_to: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_kek()).encrypt(nonce, secret.encode(), bound_to.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(token: str, bound_to: str) -> str:
    if not token:
        return ""
    raw = base64.b64decode(token)
    return AESGCM(_kek()).decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode()).decode()
