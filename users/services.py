"""Accounts: registration, verification, passwords. Views, commands and tasks call these."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from badgeplatform.audit import audit_log
from badgeplatform.mail import queue_email, queue_rendered_email, render_space_email
from badgeplatform.permissions import SPACE_ADMINISTRATOR, USER_ROLE, Perm
from orgs.services import space_create, suggest_slug
from users.access import require_edit_member, require_role_change
from users.models import Member, Membership, Role, User
from users.places import Place, can_assign_role
from users.tokens import verification_token

if TYPE_CHECKING:
    from badgeplatform.access import Access
    from orgs.models import Group, Organisation, Space


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


def _places_audit(places: PlaceRoles) -> list[str]:
    return [f"{place} as {role.name}" for place, role in places]


def _person(user: User) -> str:
    return f"{user.display_name} <{user.email}>"


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
    access: Access,
    actor: User | None,
) -> Member:
    """A new person, put into ``places`` with their roles, and the verification email queued
    (it invites them to verify their address and create a password)."""
    if not places:
        raise ValidationError("Choose at least one organisation or group.")
    for place, role in places:
        _require_assign(access, role, place)
    user = user_create_unverified(
        email=email, first_name=first_name, last_name=last_name, username=username
    )
    member = Member.objects.create(
        space=space, user=user, external_id=_clean_external_id(external_id)
    )
    _memberships_create(space=space, user=user, places=places)
    verification_send(user=user, space=space)
    audit_log(
        space=space,
        actor=actor,
        action="member.create",
        obj=user,
        label=_person(user),
        changes={"places": _places_audit(places), "external_id": member.external_id},
    )
    return member


@transaction.atomic
def member_add_existing(
    *,
    space: Space,
    user: User,
    places: PlaceRoles,
    access: Access,
    actor: User,
    external_id: str | None = None,
) -> Member:
    """Someone already on the platform joins this space. They are told by email; the email says
    nothing about their other spaces. Someone who never verified gets the verification email."""
    if not places:
        raise ValidationError("Choose at least one organisation or group.")
    for place, role in places:
        _require_assign(access, role, place)
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
                "added_by": actor,
                "login_url": settings.SITE_URL + reverse("accounts:login"),
            },
            space=space,
        )
    else:
        verification_send(user=user, space=space)
    audit_log(
        space=space,
        actor=actor,
        action="member.add_existing",
        obj=user,
        label=_person(user),
        changes={"places": _places_audit(places), "external_id": member.external_id},
    )
    return member


@transaction.atomic
def member_update(
    *, access: Access, member: Member, external_id: str | None, actor: User | None
) -> Member:
    """Change a person's details (the external id the API matches on). Needs covering every role
    they hold, whoever calls."""
    require_edit_member(access, member)
    old = member.external_id
    member.external_id = _clean_external_id(external_id)
    member.save(update_fields=["external_id"])
    if old != member.external_id:
        audit_log(
            space=member.space,
            actor=actor,
            action="member.update",
            obj=member.user,
            label=_person(member.user),
            changes={"external_id": [old, member.external_id]},
        )
    return member


def _require_assign(access: Access, role: Role, place: Place) -> None:
    """Nobody hands out more than they hold at that place (users.places.can_assign_role)."""
    if not can_assign_role(access, role, place):
        raise PermissionDenied(
            f"You cannot give the role “{role.name}” in “{place}”: it carries permissions you "
            "do not hold there."
        )


def _require_change_membership(access: Access, membership: Membership) -> None:
    """Changing or ending someone's role at a place needs covering the role they hold there
    (someone could not take away, or move, what they could not have given)."""
    place = Place.of(membership)
    if not can_assign_role(access, membership.role, place):
        raise PermissionDenied(
            f"{membership.user.display_name} holds “{membership.role.name}” in “{place}”; "
            "changing it needs rights you do not hold there."
        )


def _audit_membership(action: str, membership: Membership, actor: User | None, **changes):
    audit_log(
        space=membership.space,
        actor=actor,
        action=action,
        obj=membership.user,
        label=_person(membership.user),
        changes=changes,
    )


@transaction.atomic
def membership_add(
    *, access: Access, space: Space, user: User, place: Place, role: Role, actor: User | None
) -> Membership:
    _require_assign(access, role, place)
    if Membership.objects.filter(space=space, user=user, **place.membership_kwargs()).exists():
        raise ValidationError(
            f"{user.display_name} is already in “{place}”. Change the role there instead."
        )
    membership = Membership.objects.create(
        space=space, user=user, role=role, **place.membership_kwargs()
    )
    _audit_membership("membership.add", membership, actor, place=str(place), role=role.name)
    return membership


@transaction.atomic
def membership_set_role(
    *, access: Access, membership: Membership, role: Role, actor: User | None
) -> Membership:
    _require_change_membership(access, membership)
    _require_assign(access, role, Place.of(membership))
    old = membership.role.name
    membership.role = role
    membership.save(update_fields=["role"])
    ensure_space_admin_remains(membership.space)
    _audit_membership(
        "membership.set_role",
        membership,
        actor,
        place=str(Place.of(membership)),
        role=[old, role.name],
    )
    return membership


@transaction.atomic
def membership_transfer(
    *, access: Access, membership: Membership, place: Place, actor: User | None
) -> Membership:
    """Move a person from one place to another, keeping the role they held."""
    _require_change_membership(access, membership)
    _require_assign(access, membership.role, place)
    others = Membership.objects.filter(
        space=membership.space_id, user=membership.user_id, **place.membership_kwargs()
    ).exclude(pk=membership.pk)
    if others.exists():
        raise ValidationError(
            f"{membership.user.display_name} is already in “{place}”: remove this place "
            "instead, or change the role there."
        )
    old = str(Place.of(membership))
    membership.organisation, membership.group = place.organisation, place.group
    membership.save(update_fields=["organisation", "group"])
    ensure_space_admin_remains(membership.space)
    _audit_membership(
        "membership.transfer", membership, actor, place=[old, str(place)], role=membership.role.name
    )
    return membership


@transaction.atomic
def membership_remove(*, access: Access, membership: Membership, actor: User | None) -> None:
    _require_change_membership(access, membership)
    if (
        not Membership.objects.filter(space=membership.space_id, user=membership.user_id)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(
            "This is their only organisation or group. Add another place first, or remove "
            "the person from the space."
        )
    place = str(Place.of(membership))
    membership.delete()
    ensure_space_admin_remains(membership.space)
    _audit_membership(
        "membership.remove", membership, actor, place=place, role=membership.role.name
    )


def sessions_end_for(*, user_ids: Iterable[int]) -> int:
    """Delete every live session of these users; returns how many went.

    Sessions are the database backend's rows with the user id inside the signed payload, so
    this reads the live ones (a bulk removal is rare; logins are not slowed by an index)."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    wanted = {str(pk) for pk in user_ids}
    doomed = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) in wanted
    ]
    Session.objects.filter(pk__in=doomed).delete()
    return len(doomed)


# ---- Bulk actions ----------------------------------------------------------------------------
# One audit entry per action, naming the people it touched (by email).


def _emails(user_ids: Iterable[int]) -> list[str]:
    return list(
        User.objects.filter(pk__in=set(user_ids)).order_by("email").values_list("email", flat=True)
    )


@transaction.atomic
def members_remove_from_space(*, space: Space, user_ids: Iterable[int], actor: User | None) -> int:
    """End these people's membership of the space: their places and roles go, the people (and
    everything they were awarded, which points at the user) stay on the platform."""
    user_ids = set(user_ids)
    people = _emails(user_ids)
    Membership.objects.filter(space=space, user_id__in=user_ids).delete()
    removed, _ = Member.objects.filter(space=space, user_id__in=user_ids).delete()
    ensure_space_admin_remains(space)
    # Someone who belongs to no space any more is signed out everywhere at once (after commit:
    # a rolled-back removal leaves their sessions alone). They may sign in again to their
    # backpack; an open admin page of the old space would 404 anyway, this closes the session.
    spaceless = list(
        User.objects.filter(pk__in=user_ids, space_memberships__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if spaceless:
        transaction.on_commit(lambda: sessions_end_for(user_ids=spaceless))
    audit_log(
        space=space,
        actor=actor,
        action="member.remove_from_space",
        label=f"{removed} people",
        changes={"people": people},
    )
    return removed


@transaction.atomic
def group_members_add(
    *, access: Access, group: Group, user_ids: Iterable[int], role: Role, actor: User | None
) -> int:
    """Add these people into ``group`` with ``role``; those already in it keep their role."""
    _require_assign(access, role, Place(group=group))
    already = set(group.memberships.values_list("user_id", flat=True))
    adding = sorted(set(user_ids) - already)
    Membership.objects.bulk_create(
        Membership(space_id=group.space_id, user_id=uid, group=group, role=role) for uid in adding
    )
    audit_log(
        space=group.space,
        actor=actor,
        action="group.members_add",
        obj=group,
        changes={"role": role.name, "people": _emails(adding)},
    )
    return len(adding)


@transaction.atomic
def group_members_remove(*, group: Group, user_ids: Iterable[int], actor: User | None) -> int:
    """Take these people out of ``group``; people for whom it was their only place are put in
    the group's organisation as User."""
    ending = group.memberships.filter(user_id__in=set(user_ids))
    affected = set(ending.values_list("user_id", flat=True))
    ending.delete()
    rehomed = memberships_rehome_orphans(
        space=group.space, user_ids=affected, organisation=group.organisation
    )
    audit_log(
        space=group.space,
        actor=actor,
        action="group.members_remove",
        obj=group,
        changes={"people": _emails(affected), "people_rehomed": rehomed},
    )
    return len(affected)


@transaction.atomic
def group_members_transfer(
    *, source: Group, target: Group, user_ids: Iterable[int], actor: User | None
) -> int:
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
    audit_log(
        space=source.space,
        actor=actor,
        action="group.members_transfer",
        obj=source,
        changes={"to": target.name, "people": _emails(m.user_id for m in moving)},
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
