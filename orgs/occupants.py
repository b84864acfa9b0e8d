"""Who holds a place on the tree: the people layer says so, at start-up.

``orgs`` keeps the space, its tree and its groups, and knows nothing of the people who hang on
them (memberships live in ``users``, a layer above). Yet removing a node or deleting a group
must end the roles held there, put anyone left with no place in the parent, and refuse when the
actor could not have ended one of those roles by hand; and the tree's pages show how many people
sit on a node. ``users`` registers one implementation of :class:`Occupants` from its
``AppConfig.ready()``::

    from orgs import occupants
    occupants.register(MembershipOccupants())

Without one (``orgs`` on its own), nobody sits on the tree: counts are 0 and ending is a no-op.

Every ``end_*`` call runs inside the caller's transaction, checks the actor's right to end each
role before it writes anything, and raises ``PermissionDenied`` naming what blocks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.db.models import Expression, Value

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from badgeplatform.access import Access
    from orgs.models import Group, Organisation, Space


class Occupants(Protocol):
    def people_count(self, space: Space, organisations: QuerySet[Organisation]) -> int:
        """People holding a place on these nodes or on their groups (each counted once)."""

    def count_on_organisation(self) -> Expression:
        """An annotation for an Organisation queryset: places held directly on the node (a
        correlated subquery on ``OuterRef("pk")``, so a list stays one query)."""

    def count_in_group(self) -> Expression:
        """An annotation for a Group queryset: the group's members (correlated, as above)."""

    def on_organisation(self, organisation: Organisation) -> QuerySet:
        """The roles held directly on a node, with ``user`` and ``role``, ordered by name."""

    def end_for_organisations(
        self,
        *,
        access: Access,
        organisation: Organisation,
        organisations: QuerySet[Organisation],
        parent: Organisation,
    ) -> tuple[int, int]:
        """Removing ``organisation``: end the roles on ``organisations`` (it and its subtree)
        and their groups; place anyone left with no place in ``parent`` as User. Returns (roles
        ended, people placed)."""

    def end_for_group(self, *, access: Access, group: Group) -> tuple[int, int]:
        """End every role in ``group``; place anyone left with no place in its organisation as
        User. Returns (roles ended, people placed)."""

    def refusal_for_organisations(
        self, *, access: Access, organisation: Organisation, organisations: QuerySet[Organisation]
    ) -> str:
        """Why ``access`` may not end the roles removing ``organisation`` would end ("" if it
        may): shown on the removal page before anyone presses the button."""

    def refusal_for_group(self, *, access: Access, group: Group) -> str:
        """Why ``access`` may not end the roles in ``group`` ("" if it may)."""


class _Nobody:
    """Nobody sits on the tree (``orgs`` without a people layer)."""

    def people_count(self, space, organisations) -> int:
        return 0

    def count_on_organisation(self) -> Expression:
        return Value(0)

    def count_in_group(self) -> Expression:
        return Value(0)

    def on_organisation(self, organisation):
        return []

    def end_for_organisations(
        self, *, access, organisation, organisations, parent
    ) -> tuple[int, int]:
        return 0, 0

    def end_for_group(self, *, access, group) -> tuple[int, int]:
        return 0, 0

    def refusal_for_organisations(self, *, access, organisation, organisations) -> str:
        return ""

    def refusal_for_group(self, *, access, group) -> str:
        return ""


_registered: Occupants = _Nobody()


def register(impl: Occupants) -> None:
    """Install the people layer's implementation (replacing any, so ready() may run twice)."""
    global _registered
    _registered = impl


def get() -> Occupants:
    return _registered
