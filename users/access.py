"""How a member's grants are loaded (registered with the core's access module at start-up),
and which spaces a person administers."""

from __future__ import annotations

from badgeplatform.access import Access, Grant
from orgs.models import Space
from users.models import Member, Membership, User


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
