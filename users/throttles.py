"""Throttles on the account pages: sign-in (this site's and the Django admin's) and its second
factor, registration, password reset and "resend verification". Limits and keys are tabled in
docs/security.md.

Each counts in the shared cache (badgeplatform.ratelimit), so the budget is one across web
processes. A throttled request is answered 429 with a message and a ``Retry-After`` header,
and does nothing else: no authentication attempt, no email.

Sign-in spends one attempt per account and per client address *before* the password is
checked (so parallel guesses cannot overtake the count) and gets it back when the sign-in
succeeds: what remains counts failures. The account is the user the identifier names, whether
typed as username or email, so both spellings share one budget; an identifier naming nobody is
its own budget.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from badgeplatform import ratelimit
from badgeplatform.ratelimit import Throttle
from users.models import User


def _login_account() -> Throttle:
    return Throttle("login-account", settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW)


def _login_client() -> Throttle:
    return Throttle("login-ip", settings.LOGIN_FAILURE_IP_LIMIT, settings.LOGIN_FAILURE_WINDOW)


def account_subject(identifier: str) -> str:
    """One subject per account, however the person typed it (see EmailOrUsernameBackend)."""
    identifier = identifier.strip()
    field = "email__iexact" if "@" in identifier else "username__iexact"
    pk = User.objects.filter(**{field: identifier}).values_list("pk", flat=True).first()
    return f"user:{pk}" if pk else f"name:{identifier.lower()}"


def sign_in_attempt(request: HttpRequest, identifier: str) -> int | None:
    """Spend one sign-in attempt; the seconds to wait if over budget, else None."""
    return ratelimit.spend(
        [
            (_login_account(), account_subject(identifier)),
            (_login_client(), ratelimit.client_ip(request)),
        ]
    )


def sign_in_succeeded(request: HttpRequest, identifier: str) -> None:
    """The account's failures are forgiven; the client's attempt is given back."""
    ratelimit.clear(_login_account(), account_subject(identifier))
    ratelimit.refund(_login_client(), ratelimit.client_ip(request))


def _second_factor() -> Throttle:
    return Throttle("mfa-account", settings.MFA_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW)


def second_factor_attempt(request: HttpRequest, user_id: int) -> int | None:
    """Spend one second-factor attempt (a code or a passkey, at sign-in) of the account whose
    password was given, and one of the client's sign-in budget; the seconds to wait, or None."""
    return ratelimit.spend(
        [
            (_second_factor(), f"user:{user_id}"),
            (_login_client(), ratelimit.client_ip(request)),
        ]
    )


def second_factor_succeeded(request: HttpRequest, user_id: int) -> None:
    ratelimit.clear(_second_factor(), f"user:{user_id}")
    ratelimit.refund(_login_client(), ratelimit.client_ip(request))


def _email_request(kind: str, email: str, request: HttpRequest) -> int | None:
    per_address, per_client, window = {
        "registration": (
            settings.REGISTRATION_EMAIL_LIMIT,
            settings.REGISTRATION_IP_LIMIT,
            settings.REGISTRATION_WINDOW,
        ),
        "password-reset": (
            settings.PASSWORD_RESET_LIMIT,
            settings.PASSWORD_RESET_IP_LIMIT,
            settings.PASSWORD_RESET_WINDOW,
        ),
        "resend": (
            settings.RESEND_VERIFICATION_LIMIT,
            settings.RESEND_VERIFICATION_IP_LIMIT,
            settings.RESEND_VERIFICATION_WINDOW,
        ),
    }[kind]
    return ratelimit.spend(
        [
            (Throttle(f"{kind}-email", per_address, window), email),
            (Throttle(f"{kind}-ip", per_client, window), ratelimit.client_ip(request)),
        ]
    )


def registration_attempt(request: HttpRequest, email: str) -> int | None:
    """Per address registered (no address can be mailed again and again) and per client."""
    return _email_request("registration", email, request)


def password_reset_attempt(request: HttpRequest, email: str) -> int | None:
    return _email_request("password-reset", email, request)


def resend_verification_attempt(request: HttpRequest, email: str) -> int | None:
    return _email_request("resend", email, request)


def message(what: str, wait: int) -> str:
    return f"Too many {what}. Please wait {ratelimit.wait_text(wait)} and try again."


def throttled(response: HttpResponse, wait: int) -> HttpResponse:
    """Mark an answer as the throttle's: 429 and when to come back."""
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response
