"""django-allauth adapters: how allauth fits the platform (docs/mfa.md).

The platform keeps its own sign-in, registration, verification and password pages; allauth
contributes its login *stages* (the second-factor step) and the MFA pages. So:

- the only login stage is allauth.mfa's AuthenticateStage (our own verification links replace
  allauth's email verification stage; login by code and phone are not used);
- allauth's sign-up is closed (users.views.register creates accounts and spaces);
- allauth's "Successfully signed in" message is not added (the site never said it).
"""

from __future__ import annotations

import base64
import os

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        return ["allauth.mfa.stages.AuthenticateStage"]

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request) -> str:
        return reverse("home")

    def get_logout_redirect_url(self, request) -> str:
        return reverse(settings.LOGOUT_REDIRECT_URL)

    def add_message(self, request, level, message_template=None, *args, **kwargs) -> None:
        if message_template and message_template.startswith("account/messages/"):
            return  # sign-in/out messages are the site's own (users.views)
        super().add_message(request, level, message_template, *args, **kwargs)


_SEALED = "aesgcm:"
_NONCE = 12


def _mfa_key() -> bytes:
    secret = settings.SIGNING_KEY_SECRET or settings.SECRET_KEY
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"badgeplatform.mfa", info=b"mfa secrets v1"
    ).derive(secret.encode())


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        """TOTP secrets and the recovery codes' seed are stored AES-GCM encrypted with a key
        derived from SIGNING_KEY_SECRET (or SECRET_KEY), like the Open Badges signing keys."""
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(_mfa_key()).encrypt(nonce, text.encode(), b"mfa")
        return _SEALED + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(_SEALED):
            return encrypted_text  # stored before encryption (none in this project's history)
        raw = base64.b64decode(encrypted_text[len(_SEALED) :])
        return AESGCM(_mfa_key()).decrypt(raw[:_NONCE], raw[_NONCE:], b"mfa").decode()

    def get_totp_label(self, user) -> str:
        return user.email or user.username

    def send_notification_mail(self, *args, **kwargs) -> None:
        # Changes to a person's factors are in the audit log of their spaces (users.mfa) and
        # shown on their Settings page; allauth's unbranded emails are not sent.
        return None

    def can_delete_authenticator(self, authenticator) -> bool:
        """Not the last second factor of someone a space's policy requires it of."""
        from users import mfa

        self._refusal = mfa.removal_refusal(authenticator)
        return self._refusal is None

    def validation_error(self, code, *args) -> ValidationError:
        if code == "cannot_delete_authenticator" and getattr(self, "_refusal", None):
            return ValidationError(self._refusal, code=code)
        return super().validation_error(code, *args)

    def generate_authenticator_name(self, user, type) -> str:
        from allauth.mfa.models import Authenticator

        n = Authenticator.objects.filter(user_id=user.pk, type=type).count()
        return "Passkey" if n == 0 else f"Passkey {n + 1}"
