"""Accounts: registration, verification, passwords. Views, commands and tasks call these."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from badgeplatform.mail import queue_email, queue_rendered_email
from orgs.services import space_create
from users.models import User
from users.tokens import verification_token

if TYPE_CHECKING:
    from orgs.models import Space


def normalise_email(email: str) -> str:
    # The domain part is case-insensitive; keep the local part as typed, compare with iexact.
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def username_available(username: str, *, exclude: User | None = None) -> bool:
    qs = User.objects.filter(username__iexact=username)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return not qs.exists()


def suggest_username(email: str) -> str:
    base = re.sub(r"[^\w.@+-]", "", email.split("@")[0])[:120] or "user"
    candidate, n = base, 1
    while not username_available(candidate):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def verification_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = verification_token.make_token(user)
    return settings.SITE_URL + reverse("accounts:verify", args=[uid, token])


def _verification_context(user: User, space: Space | None) -> dict:
    return {
        "user": user,
        "space": space,
        "verify_url": verification_url(user),
        "expires_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }


def render_verification(user: User, space: Space | None) -> tuple[str, str, str]:
    """Subject, text and HTML of the verification email.

    Inside a space it is the space's authored welcome email in its logo and colours
    (branding.emails); outside one (e.g. "resend verification") the platform's own.
    """
    if space is None:
        from badgeplatform.mail import render_email

        return render_email("verify_email", _verification_context(user, None))
    from django.utils.formats import date_format

    from branding.emails import render_space_email

    expires = timezone.localdate() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    return render_space_email(
        space=space,
        kind="verification",
        values={
            "first_name": user.first_name or user.username,
            "last_name": user.last_name,
            "username": user.username,
            "organisation": space.name,
            "link": verification_url(user),
            "expiry_date": date_format(expires, "j F Y"),
        },
    )


def verification_send(*, user: User, space: Space | None = None) -> None:
    """Queue the "verify your email and create a password" email (sent after commit)."""
    subject, text, html = render_verification(user, space)
    queue_rendered_email(
        to=user.email, subject=subject, text=text, html=html, kind="verify_email", space=space
    )


def render_verification_email(email) -> tuple[str, str, str]:
    """Renderer for verification emails queued unrendered in bulk (new recipients)."""
    from orgs.models import Space

    user = User.objects.get(pk=email.context["user"])
    space = Space.objects.filter(pk=email.context.get("space")).first()
    return render_verification(user, space)


def user_create_unverified(
    *, email: str, first_name: str, last_name: str, username: str | None = None
) -> User:
    """A person who has not yet verified their email: no usable password until they do."""
    email = normalise_email(email)
    user = User(
        email=email,
        username=username or suggest_username(email),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def space_register(
    *,
    organisation_name: str,
    slug: str,
    first_name: str,
    last_name: str,
    email: str,
    username: str,
) -> Space | None:
    """A visitor's registration: user + space + root organisation + admin role + email.

    If the email already belongs to someone, nothing is created and that person is told by
    email instead, so the response never reveals whether an address is registered.
    """
    existing = User.objects.get_by_email(email)
    if existing is not None:
        queue_email(
            to=existing.email,
            template="already_registered",
            context={"user": existing, "organisation_name": organisation_name},
        )
        return None
    user = user_create_unverified(
        email=email, first_name=first_name, last_name=last_name, username=username
    )
    space = space_create(name=organisation_name.strip(), slug=slug, admin=user)
    verification_send(user=user, space=space)
    return space


@transaction.atomic
def user_set_password_and_verify(*, user: User, password: str) -> None:
    """Setting a password through an emailed link proves the address: mark it verified."""
    user.set_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
    user.save(update_fields=["password", "email_verified_at"])


def password_reset_send(*, user: User) -> None:
    from django.contrib.auth.tokens import default_token_generator

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    queue_email(
        to=user.email,
        template="password_reset",
        context={
            "user": user,
            "reset_url": settings.SITE_URL
            + reverse("accounts:password_reset_confirm", args=[uid, token]),
            "expires_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        },
    )
