"""Second factors for tests: a real TOTP generator (RFC 6238, computed here from the secret,
independently of allauth's code) and factors set up the way the pages set them up."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret


def totp_code(secret: str, *, at: float | None = None, period: int = 30, digits: int = 6) -> str:
    counter = int((time.time() if at is None else at) // period)
    key = base64.b32decode(secret.encode("ascii"), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def enable_totp(user) -> str:
    """An authenticator app and recovery codes for ``user``; returns the TOTP secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def recovery_codes(user) -> list[str]:
    from allauth.mfa.models import Authenticator

    auth = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return auth.wrap().get_unused_codes()
