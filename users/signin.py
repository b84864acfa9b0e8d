"""The one way a person is signed in after proving who they are (docs/mfa.md).

Every entry point that signs someone in — the sign-in page, a password reset or verification
link, the Django admin's sign-in — calls ``sign_in``. It hands the login to django-allauth's
login flow (``allauth.account.utils.perform_login``), which runs the login stages of
``users.adapters.AccountAdapter``: when the person has set up a second factor, allauth keeps the
pending login in the session and answers with a redirect to its second-factor page
(``mfa_authenticate``); the session becomes signed in only once the factor is given. Without a
second factor the person is signed in at once, exactly as before.
"""

from __future__ import annotations

from allauth.account.internal.flows.login import (
    get_authentication_records,
    record_authentication,
)
from allauth.account.utils import perform_login
from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse

from users.models import User

BACKEND = "users.backends.EmailOrUsernameBackend"

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def sign_in(
    request: HttpRequest, user: User, *, redirect_url: str, via: str = "sign-in"
) -> HttpResponse:
    """Sign ``user`` in, asking for their second factor first when they have one. Returns the
    response to send: the redirect to ``redirect_url``, or to the second-factor page."""
    if not hasattr(user, "backend"):
        user.backend = BACKEND
    # allauth's record of how this session authenticated (read by its re-authentication
    # checks before factors are changed, and by ours for the Django admin). A password given
    # just now counts as a fresh check: setting up a factor right after signing in (as the
    # space's policy asks) does not ask for the password twice; after
    # ACCOUNT_REAUTHENTICATION_TIMEOUT it is asked for again.
    record_authentication(
        request, user, "password", reauthenticated=True, via=via, username=user.username
    )
    return perform_login(request, user, redirect_url=redirect_url, email_verification="none")


def has_second_factor(user: User) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()


def session_used_second_factor(request: HttpRequest) -> bool:
    """True when this session's sign-in (or a later re-authentication) included a factor."""
    records = get_authentication_records(request, request.user)
    return any(r.get("method") == "mfa" for r in records)
