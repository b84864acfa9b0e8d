"""Who may do what with people and roles.

How a member's grants are loaded (registered with the core's access module at start-up) and
which spaces a person administers; the fetch-and-authorize helpers for people and roles; and
the policy for granting: nobody puts a permission they do not hold into a role or onto a
person, and editing a person needs covering every role they hold."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from badgeplatform.access import Access, Grant, permission_denied_message
from badgeplatform.permissions import PERMISSION_LABELS, Perm
from orgs.models import Space
from users.models import Member, Membership, Role, User
from users.places import Place, can_assign_role


def find_space(slug: str) -> Space | None:
    return Space.objects.filter(slug=slug).first()


def spaces_administered(user: User) -> list[Space]:
    """The spaces where ``user`` holds any admin permission, most recently joined first.

    A person who only holds the User role everywhere is a recipient: their home is the
    backpack, not a dashboard. Two queries (roles are few per person).
    """
    admin_ids = {
        space_id
        for space_id, perms in Membership.objects.filter(user=user).values_list(
            "space_id", "role__permissions"
        )
        if perms
    }
    if not admin_ids:
        return []
    return list(
        Space.objects.filter(pk__in=admin_ids, members__user=user).order_by("-members__created_at")
    )


def load_access(space: Space, user: User) -> Access | None:
    """The user's grants in ``space``, or None when they are not a member.

    Two queries: the Member row, then every membership with its role and node bounds.
    """
    member = Member.objects.filter(space=space, user=user).first()
    if member is None:
        return None
    rows = Membership.objects.filter(space=space, user=user).values_list(
        "role__permissions",
        "role__name",
        "organisation_id",
        "organisation__tree_id",
        "organisation__lft",
        "organisation__rght",
        "group_id",
        "organisation__parent_id",
    )
    grants = [
        Grant(
            perms=frozenset(perms or ()),
            role_name=role_name,
            organisation_id=org_id,
            tree_id=tree_id,
            lft=lft,
            rght=rght,
            group_id=group_id,
            on_root=org_id is not None and parent_id is None,
        )
        for perms, role_name, org_id, tree_id, lft, rght, group_id, parent_id in rows
    ]
    return Access(space, user, member, grants)


# ---- Fetch and authorize ---------------------------------------------------------------------
# Views, forms, bulk actions and the API reach people and roles only through these. Missing and
# forbidden answer alike (Http404): a URL never tells whether someone exists outside your reach.


def _id(pk: int | str) -> int:
    if isinstance(pk, int):
        return pk
    if not str(pk).isdigit():
        raise Http404("No such object")
    return int(pk)


def memberships_here(space: Space) -> Prefetch:
    """The person's memberships in ``space`` with their places and roles, as
    ``member.user.memberships_here`` (one query for any number of people)."""
    return Prefetch(
        "user__memberships",
        queryset=Membership.objects.filter(space=space)
        .select_related("organisation", "group__organisation", "role")
        .order_by("organisation__lft", "group__name"),
        to_attr="memberships_here",
    )


def place_covered(access: Access, membership: Membership, need: Perm | str) -> bool:
    """Does ``need`` reach this membership's place? An organisation needs it there (or above);
    a group also yields to it held on the group itself."""
    if membership.group_id is not None:
        return access.can(need, group=membership.group)
    return access.can(need, organisation=membership.organisation)


def member_for(access: Access, pk: int | str, *, need: Perm | str = Perm.MANAGE_USERS) -> Member:
    """A person of the space whom the actor may see: ``need`` covers one of their places.

    Two queries (the member with their user, then their memberships here). Http404 when the
    person is missing, in another space, or out of reach."""
    member = (
        Member.objects.select_related("user")
        .prefetch_related(memberships_here(access.space))
        .filter(space=access.space, pk=_id(pk))
        .first()
    )
    if member is None:
        raise Http404("No such person")
    if access.can(need):  # held on the root: everyone in the space
        return member
    if not any(place_covered(access, m, need) for m in member.user.memberships_here):
        raise Http404("No such person")
    return member


def members_visible(access: Access, *, need: Perm | str = Perm.MANAGE_USERS) -> QuerySet[Member]:
    """The space's people whom ``need`` reaches through one of their places (one EXISTS)."""
    qs = Member.objects.for_space(access.space)
    if access.can(need):
        return qs
    reach = (
        access.organisations_q(need, "organisation__")
        | access.organisations_q(need, "group__organisation__")
        | Q(group_id__in=access.group_ids_with(need))
    )
    return qs.filter(
        Exists(
            Membership.objects.filter(space=access.space, user=OuterRef("user_id")).filter(reach)
        )
    )


def role_for(access: Access, pk: int | str, *, need: Perm | str = Perm.MANAGE_ROLES) -> Role:
    """A role of the space. Roles are space-wide: a space-wide ``need`` (manage roles) is asked
    of the root, another (e.g. manage users, to hand roles out) anywhere."""
    role = Role.objects.filter(space=access.space, pk=_id(pk)).first()
    if role is None or not access.can_anywhere(need):
        raise Http404("No such role")
    return role


def roles_assignable(access: Access, place: Place) -> list[Role]:
    """The roles the actor may hand out at ``place`` (for select choices)."""
    return [r for r in Role.objects.for_space(access.space) if can_assign_role(access, r, place)]


# ---- Who may grant what ----------------------------------------------------------------------
# Nobody grants more than they hold. A role is space-wide (it may be held on the root), so the
# permissions someone may put in a role are those they hold on the root; assigning a role at a
# place needs its permissions at that place (users.places.can_assign_role).


def grantable_permissions(access: Access) -> frozenset[Perm]:
    """The permissions the actor may put into a role: those they hold on the whole space."""
    return frozenset(p for p in Perm if access.can(p))


def holds_role(access: Access, role: Role) -> bool:
    return access.user is not None and any(g.role_name == role.name for g in access.grants)


def role_change_refusal(
    access: Access, *, permissions: Iterable[str], role: Role | None = None
) -> str | None:
    """Why the actor may not create (``role`` None) or edit ``role`` with ``permissions``, or
    None when they may. Default roles stay read-only; a role with rights the actor lacks is out
    of their hands; nothing may be added that they do not hold; and the role they hold
    themselves never widens."""
    if not access.can(Perm.MANAGE_ROLES):
        return permission_denied_message(Perm.MANAGE_ROLES)
    if role is not None and role.is_default:
        return "Default roles cannot be edited; create a custom role instead."
    mine = grantable_permissions(access)
    if role is not None and not role.permission_set <= mine:
        return (
            f"“{role.name}” carries permissions you do not hold, so only someone who holds them "
            "may change it."
        )
    wanted = {Perm(p) for p in permissions if p in Perm.__members__.values()}
    beyond = wanted - mine
    if beyond:
        labels = ", ".join(f"“{PERMISSION_LABELS[p]}”" for p in Perm if p in beyond)
        return f"You can only give permissions you hold across the space; not {labels}."
    if role is not None and holds_role(access, role) and wanted - role.permission_set:
        return (
            f"You hold “{role.name}” yourself, so you cannot widen it. Ask another administrator."
        )
    return None


def require_role_change(
    access: Access, *, permissions: Iterable[str], role: Role | None = None
) -> None:
    refusal = role_change_refusal(access, permissions=permissions, role=role)
    if refusal:
        raise PermissionDenied(refusal)


def can_edit_member(access: Access, member: Member, memberships: Iterable[Membership]) -> bool:
    """May the actor change anything about this person (details, external id, places, roles)?
    Only by covering every role they hold: the actor could give each of those roles at each of
    their places. Otherwise a user manager could retarget an administrator (e.g. the external
    id the API matches on)."""
    if access.is_system:
        return True
    return all(can_assign_role(access, m.role, Place.of(m)) for m in memberships)


def require_edit_member(access: Access, member: Member) -> None:
    """Raise PermissionDenied unless ``can_edit_member``; reads the memberships afresh."""
    memberships = Membership.objects.filter(
        space=member.space_id, user=member.user_id
    ).select_related("organisation", "group__organisation", "role")
    if not can_edit_member(access, member, memberships):
        raise PermissionDenied(NOT_ALL_COVERED.format(name=member.user.display_name))


NOT_ALL_COVERED = (
    "{name} holds roles you could not give yourself, so only an administrator who covers all "
    "of them may change their details, places or roles."
)
