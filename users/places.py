"""A "place" is where a person holds a role: an organisation or a group.

Forms offer places as one select (organisations indented by depth, then groups under their
organisation) with values ``o:<id>`` / ``g:<id>``; the helpers here answer who may manage the
people of a place and who may hand out which role there, always through ``request.access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from badgeplatform.permissions import Perm
from orgs.models import Group, Organisation

if TYPE_CHECKING:
    from badgeplatform.access import Access
    from orgs.models import Space
    from users.models import Membership, Role


@dataclass(frozen=True)
class Place:
    organisation: Organisation | None = None
    group: Group | None = None

    def __post_init__(self) -> None:
        if (self.organisation is None) == (self.group is None):
            raise ValueError("A place is an organisation or a group")

    @classmethod
    def of(cls, membership: Membership) -> Place:
        return cls(organisation=membership.organisation, group=membership.group)

    @property
    def value(self) -> str:
        return f"g:{self.group.pk}" if self.group else f"o:{self.organisation.pk}"

    @property
    def kind(self) -> str:
        return "group" if self.group else "organisation"

    def membership_kwargs(self) -> dict:
        return {"organisation": self.organisation, "group": self.group}

    def __str__(self) -> str:
        if self.group is not None:
            return f"{self.group.name} (group in {self.group.organisation.name})"
        return self.organisation.name


class PlaceOptions:
    """The space's organisations and groups, loaded once (two queries) for selects and lookups."""

    def __init__(self, space: Space):
        self.organisations = list(Organisation.objects.for_space(space).order_by("tree_id", "lft"))
        self.groups = list(
            Group.objects.for_space(space)
            .select_related("organisation")
            .order_by("organisation__lft", "name")
        )
        self._orgs = {o.pk: o for o in self.organisations}
        self._groups = {g.pk: g for g in self.groups}

    def get(self, value: str) -> Place | None:
        kind, _, pk = (value or "").partition(":")
        if not pk.isdigit():
            return None
        if kind == "o" and int(pk) in self._orgs:
            return Place(organisation=self._orgs[int(pk)])
        if kind == "g" and int(pk) in self._groups:
            return Place(group=self._groups[int(pk)])
        return None

    def organisation(self, pk: int | str | None) -> Organisation | None:
        return self._orgs.get(int(pk)) if str(pk or "").isdigit() else None

    def group(self, pk: int | str | None) -> Group | None:
        return self._groups.get(int(pk)) if str(pk or "").isdigit() else None

    def organisation_choices(self, allowed=None) -> list[tuple[str, str]]:
        # Indentation by depth keeps the tree readable inside a plain <select>.
        return [
            (str(o.pk), "\u2003" * o.level + o.name)
            for o in self.organisations
            if allowed is None or allowed(o)
        ]

    def group_choices(self, allowed=None) -> list[tuple[str, str]]:
        return [
            (str(g.pk), f"{g.name} — {g.organisation.name}")
            for g in self.groups
            if allowed is None or allowed(g)
        ]

    def place_choices(self, allowed=None) -> list:
        """Grouped choices for a place select; ``allowed(place)`` filters them."""
        orgs = [
            (f"o:{o.pk}", "\u2003" * o.level + o.name)
            for o in self.organisations
            if allowed is None or allowed(Place(organisation=o))
        ]
        groups = [
            (f"g:{g.pk}", f"{g.name} — {g.organisation.name}")
            for g in self.groups
            if allowed is None or allowed(Place(group=g))
        ]
        choices = []
        if orgs:
            choices.append(("Organisations", orgs))
        if groups:
            choices.append(("Groups", groups))
        return choices


def can_manage_place(access: Access, place: Place) -> bool:
    """May the user add people to, remove them from, or change their roles at ``place``?

    Organisations need "manage users" on the node (held there or above). A group also yields to
    "manage groups" on the group itself, so a Group Administrator manages their group's members.
    """
    if place.group is not None:
        return access.can(Perm.MANAGE_USERS, organisation=place.group.organisation) or access.can(
            Perm.MANAGE_GROUPS, group=place.group
        )
    return access.can(Perm.MANAGE_USERS, organisation=place.organisation)


def can_assign_role(access: Access, role: Role, place: Place) -> bool:
    """Nobody hands out more than they hold: every permission of ``role`` must be the actor's
    at ``place`` (space-wide permissions at the root)."""
    if not can_manage_place(access, place):
        return False
    return all(
        access.can(perm, organisation=place.organisation, group=place.group)
        for perm in role.permission_set
    )


def members_in_reach_q(access: Access, prefix: str = "") -> Q | None:
    """A filter on Membership for the places whose people the user manages ("manage users"),
    or None when that is the whole space (no filter needed)."""
    if access.can(Perm.MANAGE_USERS):
        return None
    return access.organisations_q(Perm.MANAGE_USERS, f"{prefix}organisation__") | (
        access.organisations_q(Perm.MANAGE_USERS, f"{prefix}group__organisation__")
    )


# What lets a person see other people (their names and addresses): managing them, or issuing
# and revoking badges where they hold a place. The people pages, the awards of a person and
# issuing's recipient preview all show a person only within this reach.
PEOPLE_PERMS: tuple[Perm, ...] = (Perm.MANAGE_USERS, Perm.ISSUE_BADGES, Perm.REVOKE_AWARDS)


def people_in_view_q(
    access: Access, perms: tuple[Perm, ...] = PEOPLE_PERMS, prefix: str = ""
) -> Q | None:
    """A filter on Membership for the places whose people the user may see, or None when
    that is the whole space (one of ``perms`` held on the root).

    A place is in view when one of ``perms`` is held on its organisation (or above), or on the
    group itself; "manage groups" adds the members of the groups it covers."""
    if any(access.can(perm) for perm in perms):
        return None
    q = Q(pk__in=[])
    for perm in perms:
        q |= access.organisations_q(perm, f"{prefix}organisation__")
        q |= access.organisations_q(perm, f"{prefix}group__organisation__")
        q |= Q(**{f"{prefix}group_id__in": access.group_ids_with(perm)})
    q |= access.organisations_q(Perm.MANAGE_GROUPS, f"{prefix}group__organisation__")
    q |= Q(**{f"{prefix}group_id__in": access.group_ids_with(Perm.MANAGE_GROUPS)})
    return q
