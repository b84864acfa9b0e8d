"""Accounts: registration, verification, passwords. Views, commands and tasks call these."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from badgeplatform.mail import queue_email
from badgeplatform.permissions import SPACE_ADMINISTRATOR, USER_ROLE, Perm
from orgs.services import space_create
from users.models import Member, Membership, Role, User
from users.tokens import verification_token

if TYPE_CHECKING:
    from orgs.models import Group, Organisation, Space
    from users.places import Place


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


def verification_send(*, user: User, space: Space | None = None) -> None:
    """Queue the "verify your email and create a password" email (sent after commit)."""
    queue_email(
        to=user.email,
        template="verify_email",
        context=_verification_context(user, space),
        space=space,
    )


def render_verification_email(email) -> tuple[str, str, str]:
    """Renderer for verification emails queued unrendered in bulk (new recipients)."""
    from badgeplatform.mail import render_email
    from orgs.models import Space

    user = User.objects.get(pk=email.context["user"])
    space = Space.objects.filter(pk=email.context.get("space")).first()
    return render_email("verify_email", _verification_context(user, space))


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


# ---- People in a space: places and roles -----------------------------------------------------
#
# Rules every change below keeps:
# - a person in a space always has at least one place (organisation or group): when their last
#   one ends because a group or organisation went away, they are put in the organisation that
#   held it with the plain User role; removing a last place by hand is refused;
# - the space keeps at least one Space Administrator on its root organisation;
# - awards reference the user, never the Member row, so nothing here can touch them.

PlaceRoles = list[tuple["Place", "Role"]]


def _user_role(space: Space) -> Role:
    return Role.objects.get(space=space, name=USER_ROLE, is_default=True)


def memberships_rehome_orphans(
    *, space: Space, user_ids: Iterable[int], organisation: Organisation
) -> int:
    """Give ``organisation`` (with the User role) to each of these people who, still in the
    space, no longer hold any place in it. Returns how many were placed."""
    user_ids = set(user_ids)
    if not user_ids:
        return 0
    orphans = (
        Member.objects.filter(space=space, user_id__in=user_ids)
        .exclude(user_id__in=Membership.objects.filter(space=space).values("user_id"))
        .values_list("user_id", flat=True)
    )
    role = _user_role(space)
    created = Membership.objects.bulk_create(
        Membership(space=space, user_id=uid, organisation=organisation, role=role)
        for uid in orphans
    )
    return len(created)


def ensure_space_admin_remains(space: Space) -> None:
    """Raise (rolling the surrounding transaction back) if no one administers the space."""
    if not Membership.objects.filter(
        space=space,
        organisation__parent__isnull=True,
        role__name=SPACE_ADMINISTRATOR,
        role__is_default=True,
    ).exists():
        raise ValidationError(
            "That would leave the space without a Space Administrator on its root "
            "organisation. Make someone else Space Administrator first."
        )


def _memberships_create(*, space: Space, user: User, places: PlaceRoles) -> list[Membership]:
    seen = set()
    rows = []
    for place, role in places:
        if place.value in seen:
            raise ValidationError(f"“{place}” is listed twice: a person has one role per place.")
        seen.add(place.value)
        rows.append(Membership(space=space, user=user, role=role, **place.membership_kwargs()))
    return Membership.objects.bulk_create(rows)


def _clean_external_id(external_id: str | None) -> str | None:
    return (external_id or "").strip() or None


@transaction.atomic
def member_create(
    *,
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
    user = user_create_unverified(
        email=email, first_name=first_name, last_name=last_name, username=username
    )
    member = Member.objects.create(
        space=space, user=user, external_id=_clean_external_id(external_id)
    )
    _memberships_create(space=space, user=user, places=places)
    verification_send(user=user, space=space)
    return member


@transaction.atomic
def member_add_existing(
    *,
    space: Space,
    user: User,
    places: PlaceRoles,
    added_by: User,
    external_id: str | None = None,
) -> Member:
    """Someone already on the platform joins this space. They are told by email; the email says
    nothing about their other spaces. Someone who never verified gets the verification email."""
    if not places:
        raise ValidationError("Choose at least one organisation or group.")
    if Member.objects.filter(space=space, user=user).exists():
        raise ValidationError("This person is already in your space.")
    member = Member.objects.create(
        space=space, user=user, external_id=_clean_external_id(external_id)
    )
    _memberships_create(space=space, user=user, places=places)
    if user.is_verified:
        queue_email(
            to=user.email,
            template="added_to_space",
            context={
                "user": user,
                "space": space,
                "added_by": added_by,
                "login_url": settings.SITE_URL + reverse("accounts:login"),
            },
            space=space,
        )
    else:
        verification_send(user=user, space=space)
    return member


@transaction.atomic
def member_update(*, member: Member, external_id: str | None) -> Member:
    member.external_id = _clean_external_id(external_id)
    member.save(update_fields=["external_id"])
    return member


@transaction.atomic
def membership_add(*, space: Space, user: User, place: Place, role: Role) -> Membership:
    if Membership.objects.filter(space=space, user=user, **place.membership_kwargs()).exists():
        raise ValidationError(
            f"{user.display_name} is already in “{place}”. Change the role there instead."
        )
    return Membership.objects.create(space=space, user=user, role=role, **place.membership_kwargs())


@transaction.atomic
def membership_set_role(*, membership: Membership, role: Role) -> Membership:
    membership.role = role
    membership.save(update_fields=["role"])
    ensure_space_admin_remains(membership.space)
    return membership


@transaction.atomic
def membership_transfer(*, membership: Membership, place: Place) -> Membership:
    """Move a person from one place to another, keeping the role they held."""
    others = Membership.objects.filter(
        space=membership.space_id, user=membership.user_id, **place.membership_kwargs()
    ).exclude(pk=membership.pk)
    if others.exists():
        raise ValidationError(
            f"{membership.user.display_name} is already in “{place}”: remove this place "
            "instead, or change the role there."
        )
    membership.organisation, membership.group = place.organisation, place.group
    membership.save(update_fields=["organisation", "group"])
    ensure_space_admin_remains(membership.space)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    if (
        not Membership.objects.filter(space=membership.space_id, user=membership.user_id)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(
            "This is their only organisation or group. Add another place first, or remove "
            "the person from the space."
        )
    membership.delete()
    ensure_space_admin_remains(membership.space)


# ---- Bulk actions ----------------------------------------------------------------------------


@transaction.atomic
def members_remove_from_space(*, space: Space, user_ids: Iterable[int]) -> int:
    """End these people's membership of the space: their places and roles go, the people (and
    everything they were awarded, which points at the user) stay on the platform."""
    user_ids = set(user_ids)
    Membership.objects.filter(space=space, user_id__in=user_ids).delete()
    removed, _ = Member.objects.filter(space=space, user_id__in=user_ids).delete()
    ensure_space_admin_remains(space)
    return removed


@transaction.atomic
def group_members_add(*, group: Group, user_ids: Iterable[int], role: Role) -> int:
    """Add these people into ``group`` with ``role``; those already in it keep their role."""
    already = set(group.memberships.values_list("user_id", flat=True))
    rows = [
        Membership(space_id=group.space_id, user_id=uid, group=group, role=role)
        for uid in sorted(set(user_ids) - already)
    ]
    return len(Membership.objects.bulk_create(rows))


@transaction.atomic
def group_members_remove(*, group: Group, user_ids: Iterable[int]) -> int:
    """Take these people out of ``group``; people for whom it was their only place are put in
    the group's organisation as User."""
    ending = group.memberships.filter(user_id__in=set(user_ids))
    affected = set(ending.values_list("user_id", flat=True))
    ending.delete()
    memberships_rehome_orphans(
        space=group.space, user_ids=affected, organisation=group.organisation
    )
    return len(affected)


@transaction.atomic
def group_members_transfer(*, source: Group, target: Group, user_ids: Iterable[int]) -> int:
    """Move these people from ``source`` into ``target`` with the role they held in ``source``.
    Someone already in ``target`` keeps their role there and just leaves ``source``."""
    if source.pk == target.pk:
        raise ValidationError("Choose two different groups.")
    moving = list(source.memberships.filter(user_id__in=set(user_ids)))
    already = set(
        target.memberships.filter(user_id__in=[m.user_id for m in moving]).values_list(
            "user_id", flat=True
        )
    )
    Membership.objects.filter(pk__in=[m.pk for m in moving if m.user_id in already]).delete()
    Membership.objects.filter(pk__in=[m.pk for m in moving if m.user_id not in already]).update(
        group=target
    )
    return len(moving)


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
def role_create(*, space: Space, name: str, description: str, permissions: Iterable[str]) -> Role:
    perms = _check_permissions(permissions)
    _check_role_name_free(space, name)
    return Role.objects.create(
        space=space, name=name, description=description, permissions=perms, is_default=False
    )


@transaction.atomic
def role_update(*, role: Role, name: str, description: str, permissions: Iterable[str]) -> Role:
    if role.is_default:
        raise ValidationError("Default roles cannot be edited.")
    perms = _check_permissions(permissions)
    _check_role_name_free(role.space, name, exclude=role)
    role.name, role.description, role.permissions = name, description, perms
    role.save(update_fields=["name", "description", "permissions"])
    return role


@transaction.atomic
def role_delete(*, role: Role) -> None:
    if role.is_default:
        raise ValidationError("Default roles cannot be deleted.")
    held = role.memberships.count()
    if held:
        raise ValidationError(
            f"“{role.name}” is held {held} time{'s' if held != 1 else ''}. Give those people "
            "another role first; then it can be deleted."
        )
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
) -> User:
    """A person's own name, username and profile picture (``avatar`` is already re-encoded)."""
    if not username_available(username, exclude=user):
        raise ValidationError({"username": "That username is taken. Please choose another."})
    old_avatar = user.avatar.name if user.avatar else ""
    user.first_name, user.last_name, user.username = first_name, last_name, username
    if avatar is not None:
        user.avatar.save(avatar.name, avatar, save=False)
    elif remove_avatar:
        user.avatar = ""
    user.save(update_fields=["first_name", "last_name", "username", "avatar"])
    if old_avatar and old_avatar != (user.avatar.name if user.avatar else ""):
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


# ---- Hooks for later areas -------------------------------------------------------------------


def recent_awards_for(*, space: Space, user: User, limit: int = 5) -> list:
    """The person's most recent awards in this space, for their summary page.

    HOOK: returns nothing until the award model lands (badges.models.Award); then this becomes
    one query, e.g. ``Award.objects.filter(space=space, recipient=user).select_related("badge")
    .order_by("-issued_on")[:limit]``, and templates/users/_recent_awards.html renders it.
    """
    return []
