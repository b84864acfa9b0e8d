"""Accounts: registration, verification, passwords. Views, commands and tasks call these."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.formats import date_format
from django.utils.http import urlsafe_base64_encode

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.mail import queue_email, queue_rendered_email, render_space_email
from badgeplatform.permissions import SPACE_ADMINISTRATOR, Perm
from orgs.services import space_tree_create, suggest_slug
from users import memberships
from users.access import require_role_change
from users.memberships import PlaceRoles
from users.models import Member, Role, User
from users.places import Place
from users.roles import default_roles_sync
from users.tokens import verification_token

if TYPE_CHECKING:
    from badgeplatform.access import Access
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


def _verification_context(user: User) -> dict:
    return {
        "user": user,
        "verify_url": verification_url(user),
        "expires_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }


def render_verification(user: User, space: Space | None) -> tuple[str, str, str]:
    """Subject, text and HTML of the verification email.

    Inside a space it is the space's authored welcome email in its logo and colours
    (rendered by branding through badgeplatform.mail.render_space_email); outside one (e.g.
    "resend verification") the platform's own.
    """
    if space is None:
        from badgeplatform.mail import render_email

        return render_email("verify_email", _verification_context(user))
    from django.utils.formats import date_format

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


def render_verification_emails(emails) -> dict[int, tuple[str, str, str]]:
    """Batch renderer of the verification emails of a chunk (new recipients of an issue): the
    people in one query, each space's email prepared once (see mail.prepare_space_email)."""
    from badgeplatform.mail import prepare_space_email
    from orgs.models import Space

    wanted = {e.pk: e.context for e in emails if e.context and e.context.get("space")}
    users = User.objects.in_bulk({c["user"] for c in wanted.values()})
    spaces = Space.objects.in_bulk({c["space"] for c in wanted.values()})
    expires = date_format(
        timezone.localdate() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT), "j F Y"
    )
    prepared = {}
    out = {}
    for email_pk, context in wanted.items():
        user, space = users.get(context["user"]), spaces.get(context["space"])
        if user is None or space is None:
            continue  # rendered alone, it fails alone
        if space.pk not in prepared:
            prepared[space.pk] = prepare_space_email(space, "verification")
        out[email_pk] = prepared[space.pk].render_many(
            {
                "first_name": user.first_name or user.username,
                "last_name": user.last_name,
                "username": user.username,
                "organisation": space.name,
                "link": verification_url(user),
                "expiry_date": expires,
            }
        )
    return out


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
def space_create(*, name: str, slug: str, admin: User) -> Space:
    """A space, its root organisation (named as typed), its default roles, and ``admin`` as
    its Space Administrator on the root."""
    space = space_tree_create(name=name, slug=slug)
    # The same function that brings existing spaces along when the catalogue changes.
    default_roles_sync(space_id=space.pk)
    admin_role = Role.objects.get(space=space, name=SPACE_ADMINISTRATOR)
    # Nobody holds a role in a space that does not exist yet: the system seats its first admin.
    memberships.member_join_space(
        access=Access.system(space),
        space=space,
        user=admin,
        places=[(Place(organisation=space.root_organisation), admin_role)],
    )
    audit_log(space=space, actor=admin, action="space.create", obj=space)
    return space


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

    The answer to the visitor never depends on what already exists (no enumeration of
    accounts, usernames or spaces), so nothing here can fail for a taken value:

    - an email that already belongs to someone: nothing is created, and the owner of the
      address is told by email (they may sign in or reset their password);
    - a taken space address: the space gets the first free variant ("acme" → "acme-2", …); a
      taken username likewise ("rita" → "rita2"). The person learns both where only the
      owner of the address can: the verification email names the username, and the page its
      link opens (then the welcome message) shows the space's address and the username.

    We considered holding the space back until verification, so that the address would go to
    whoever verifies first; that needs a table of pending registrations and still cannot
    promise the address, so the variant is chosen at once. Returns the space, or None when the
    address was already registered. Concurrent registrations that collide on a unique value
    are retried with fresh variants.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _space_register_once(
                    organisation_name=organisation_name,
                    slug=slug,
                    first_name=first_name,
                    last_name=last_name,
                    email=email,
                    username=username,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    return None  # unreachable: the loop returns or raises


def free_username(wanted: str) -> str:
    """``wanted`` if free, else the first free of wanted2, wanted3, …"""
    base, n = wanted[:140], 1
    candidate = wanted
    while not username_available(candidate):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _space_register_once(
    *,
    organisation_name: str,
    slug: str,
    first_name: str,
    last_name: str,
    email: str,
    username: str,
) -> Space | None:
    existing = User.objects.get_by_email(email)
    if existing is not None:
        queue_email(
            to=existing.email,
            template="already_registered",
            context={"user": existing, "organisation_name": organisation_name},
        )
        return None
    user = user_create_unverified(
        email=email,
        first_name=first_name,
        last_name=last_name,
        username=free_username(username),
    )
    space = space_create(
        name=organisation_name.strip(), slug=suggest_slug(slug or organisation_name), admin=user
    )
    verification_send(user=user, space=space)
    return space


def spaces_registered(user: User) -> list[Space]:
    """The spaces ``user`` administers from the root: for a new registrant, the one they made."""
    from orgs.models import Space

    return list(
        Space.objects.filter(
            memberships__user=user,
            memberships__organisation__parent__isnull=True,
            memberships__role__name=SPACE_ADMINISTRATOR,
            memberships__role__is_default=True,
        ).distinct()
    )


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


# ---- People in a space -----------------------------------------------------------------------
# Member and Membership rows are written by users.memberships only (one rule for every path);
# these add what a person joining needs besides: the account, the email that tells them.


def _person(user: User) -> str:
    return f"{user.display_name} <{user.email}>"


@transaction.atomic
def member_create(
    *,
    access: Access,
    space: Space,
    email: str,
    first_name: str,
    last_name: str,
    username: str,
    places: PlaceRoles,
    external_id: str | None = None,
) -> Member:
    """A new person, put into ``places`` with their roles, and the verification email queued
    (it invites them to verify their address and create a password)."""
    if not places:
        raise ValidationError("Choose at least one organisation or group.")
    for place, role in places:
        memberships.require_may_assign(access, role, place)
    user = user_create_unverified(
        email=email, first_name=first_name, last_name=last_name, username=username
    )
    member = memberships.member_join_space(
        access=access, space=space, user=user, places=places, external_id=external_id
    )
    verification_send(user=user, space=space)
    audit_log(
        space=space,
        actor=access.user,
        action="member.create",
        obj=user,
        label=_person(user),
        changes={"places": memberships.places_audit(places), "external_id": member.external_id},
    )
    return member


@transaction.atomic
def member_add_existing(
    *,
    access: Access,
    space: Space,
    user: User,
    places: PlaceRoles,
    external_id: str | None = None,
) -> Member:
    """Someone already on the platform joins this space. They are told by email; the email says
    nothing about their other spaces. Someone who never verified gets the verification email."""
    member = memberships.member_join_space(
        access=access, space=space, user=user, places=places, external_id=external_id
    )
    if user.is_verified:
        queue_email(
            to=user.email,
            template="added_to_space",
            context={
                "user": user,
                "space": space,
                "added_by": access.user,
                "login_url": settings.SITE_URL + reverse("accounts:login"),
            },
            space=space,
        )
    else:
        verification_send(user=user, space=space)
    audit_log(
        space=space,
        actor=access.user,
        action="member.add_existing",
        obj=user,
        label=_person(user),
        changes={"places": memberships.places_audit(places), "external_id": member.external_id},
    )
    return member


# ---- Roles -----------------------------------------------------------------------------------


def _check_role_name_free(space: Space, name: str, exclude: Role | None = None) -> None:
    qs = Role.objects.filter(space=space, name__iexact=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    if qs.exists():
        raise ValidationError({"name": f"There is already a role called “{name}”."})


def _check_permissions(permissions: Iterable[str]) -> list[str]:
    perms = sorted({Perm(p).value for p in permissions})
    if not perms:
        raise ValidationError(
            {
                "permissions": "Choose at least one permission. People with no admin rights "
                "already have the User role."
            }
        )
    return perms


@transaction.atomic
def role_create(
    *,
    access: Access,
    space: Space,
    name: str,
    description: str,
    permissions: Iterable[str],
    actor: User | None,
) -> Role:
    """A custom role; it carries only permissions the actor holds across the space."""
    perms = _check_permissions(permissions)
    require_role_change(access, permissions=perms)
    _check_role_name_free(space, name)
    role = Role.objects.create(
        space=space, name=name, description=description, permissions=perms, is_default=False
    )
    audit_log(
        space=space, actor=actor, action="role.create", obj=role, changes={"permissions": perms}
    )
    return role


@transaction.atomic
def role_update(
    *,
    access: Access,
    role: Role,
    name: str,
    description: str,
    permissions: Iterable[str],
    actor: User | None,
) -> Role:
    """Edit a custom role: never a default one, never one carrying rights the actor lacks, never
    beyond what the actor holds, and never widening a role the actor holds."""
    role = Role.objects.select_for_update().get(pk=role.pk)
    if role.is_default:
        raise ValidationError("Default roles cannot be edited.")
    perms = _check_permissions(permissions)
    require_role_change(access, permissions=perms, role=role)
    _check_role_name_free(role.space, name, exclude=role)
    changes = {
        f: [old, new]
        for f, old, new in (
            ("name", role.name, name),
            ("description", role.description, description),
            ("permissions", sorted(role.permissions), perms),
        )
        if old != new
    }
    role.name, role.description, role.permissions = name, description, perms
    role.save(update_fields=["name", "description", "permissions"])
    audit_log(space=role.space, actor=actor, action="role.update", obj=role, changes=changes)
    return role


@transaction.atomic
def role_delete(*, access: Access, role: Role, actor: User | None) -> None:
    if role.is_default:
        raise ValidationError("Default roles cannot be deleted.")
    require_role_change(access, permissions=role.permission_set, role=role)
    held = role.memberships.count()
    if held:
        raise ValidationError(
            f"“{role.name}” is held {held} time{'s' if held != 1 else ''}. Give those people "
            "another role first; then it can be deleted."
        )
    audit_log(space=role.space, actor=actor, action="role.delete", label=role.name)
    role.delete()


# ---- Personal settings -----------------------------------------------------------------------


@transaction.atomic
def profile_update(
    *,
    user: User,
    first_name: str,
    last_name: str,
    username: str,
    avatar: ContentFile | None = None,
    remove_avatar: bool = False,
    expiry_reminders: bool | None = None,
) -> User:
    """A person's own name, username, profile picture (``avatar`` is already re-encoded) and
    email preference for expiry reminders (None: unchanged)."""
    if not username_available(username, exclude=user):
        raise ValidationError({"username": "That username is taken. Please choose another."})
    old_avatar = user.avatar.name if user.avatar else ""
    user.first_name, user.last_name, user.username = first_name, last_name, username
    if avatar is not None:
        user.avatar.save(avatar.name, avatar, save=False)
    elif remove_avatar:
        user.avatar = ""
    fields = ["first_name", "last_name", "username", "avatar"]
    if expiry_reminders is not None:
        user.expiry_reminders = expiry_reminders
        fields.append("expiry_reminders")
    user.save(update_fields=fields)
    if old_avatar and old_avatar != (user.avatar.name if user.avatar else ""):
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user
