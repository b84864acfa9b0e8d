"""Secondary email addresses (issue 17): a person adds addresses to their account, each
confirmed by a signed link emailed to it; once confirmed, awards issued to the address land in
their backpack (``badges.issuing`` resolves a recipient by primary or confirmed address in one
query), and awards issued to it before are attached (the listeners badges registers).

Privacy: adding an address another account holds (its primary, or confirmed by someone else)
answers exactly as adding a free one — the same message, a pending row — but emails nothing,
so the person adding it learns nothing and can never confirm it; accounts are never merged.
The one exception is an account created by issuing that never signed in nor verified its
address (a placeholder holding awards): confirming the address proves the mailbox, the same
proof that account would need, so its awards move to the confirming person and the
placeholder is retired (its address freed, deactivated).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from badgeplatform.mail import queue_email
from users.models import EmailAddress, User

MAX_ADDRESSES = 5
LINK_DAYS = 3
SALT = "users.secondary_emails.verify"

# (placeholder, person, address) -> None: what other apps hand over when an address a
# placeholder account held is confirmed by a person (badges moves the awards).
_listeners: dict[str, Callable[[User, User, str], None]] = {}


def register_verified_listener(key: str, fn: Callable[[User, User, str], None]) -> None:
    _listeners[key] = fn


class AddressRefused(ValueError):
    """A message for the person, about their own input (never about another account)."""


def _is_placeholder(user: User) -> bool:
    never_used = user.email_verified_at is None and user.last_login is None
    return never_used and not user.has_usable_password()


def _holder(email: str, exclude: User) -> User | None:
    """The other account holding ``email`` (its primary, or confirmed as a secondary)."""
    found = User.objects.annotate(e=Lower("email")).filter(e=email.lower()).exclude(pk=exclude.pk)
    user = found.first()
    if user is not None:
        return user
    row = (
        EmailAddress.objects.annotate(e=Lower("email"))
        .filter(e=email.lower(), verified_at__isnull=False)
        .exclude(user=exclude)
        .select_related("user")
        .first()
    )
    return row.user if row else None


def verify_url(address: EmailAddress) -> str:
    token = signing.dumps({"a": address.pk, "u": address.user_id, "e": address.email}, salt=SALT)
    return settings.SITE_URL + reverse("accounts:email_verify", args=[token])


def address_add(*, user: User, email: str) -> EmailAddress:
    """Add ``email`` as pending and email its confirmation link (see the module's note on
    addresses other accounts hold). Raises AddressRefused for the person's own mistakes."""
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise AddressRefused("Enter a valid email address.") from None
    if len(email) > 254:
        raise AddressRefused("An email address has at most 254 characters.")
    local, _, domain = email.rpartition("@")
    email = f"{local}@{domain.lower()}"
    if email.lower() == user.email.lower():
        raise AddressRefused("This is already your account's main address.")
    mine = EmailAddress.objects.filter(user=user)
    if any(a.email.lower() == email.lower() for a in mine):
        raise AddressRefused("You already added this address.")
    if len(mine) >= MAX_ADDRESSES:
        raise AddressRefused(f"You can add at most {MAX_ADDRESSES} addresses. Remove one first.")
    holder = _holder(email, user)
    try:
        with transaction.atomic():
            address = EmailAddress.objects.create(user=user, email=email)
    except IntegrityError:
        raise AddressRefused("You already added this address.") from None
    if holder is None or _is_placeholder(holder):
        queue_email(
            to=email,
            template="verify_secondary_email",
            context={
                "user": user,
                "address": email,
                "verify_url": verify_url(address),
                "expires_days": LINK_DAYS,
            },
        )
    return address


def address_remove(*, user: User, address_id: int) -> bool:
    deleted, _ = EmailAddress.objects.filter(user=user, pk=address_id).delete()
    return bool(deleted)


@transaction.atomic
def address_verify(*, user: User, token: str) -> EmailAddress:
    """Confirm the address the link names, for ``user`` (the signed-in person, who must be
    the one who added it). Raises AddressRefused with a message for the person."""
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(days=LINK_DAYS))
    except signing.SignatureExpired:
        raise AddressRefused("This link has expired. Add the address again.") from None
    except signing.BadSignature:
        raise AddressRefused("This link is not valid.") from None
    if data.get("u") != user.pk:
        raise AddressRefused(
            "This link is for another account: sign in with the account that added the address."
        )
    address = (
        EmailAddress.objects.select_for_update()
        .filter(pk=data.get("a"), user=user, email=data.get("e"))
        .first()
    )
    if address is None:
        raise AddressRefused("This address was removed from your account. Add it again.")
    if address.is_verified:
        return address
    holder = _holder(address.email, user)
    if holder is not None and not _is_placeholder(holder):
        # The person proved the mailbox: telling them the address has its own account is
        # no leak, and nothing is merged.
        raise AddressRefused(
            "This address belongs to another account, so it cannot be added to yours. "
            "Sign in with it to use that account."
        )
    if holder is not None:
        for fn in _listeners.values():
            fn(holder, user, address.email)
        # The placeholder is retired: its address freed, never to sign in.
        User.objects.filter(pk=holder.pk).update(
            email=f"retired-{holder.public_id}@invalid.invalid", is_active=False
        )
    address.verified_at = timezone.now()
    try:
        with transaction.atomic():
            address.save(update_fields=["verified_at"])
    except IntegrityError:
        raise AddressRefused(
            "This address belongs to another account, so it cannot be added to yours."
        ) from None
    return address


def addresses_of(user: User) -> list[EmailAddress]:
    return list(EmailAddress.objects.filter(user=user))
