"""How a member's grants are loaded: registered with the core's access module at start-up."""

from __future__ import annotations

from badgeplatform.access import Access, Grant
from orgs.models import Space
from users.models import Member, Membership, User


def find_space(slug: str) -> Space | None:
    return Space.objects.filter(slug=slug).first()


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
