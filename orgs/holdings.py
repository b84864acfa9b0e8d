"""What other apps keep in an organisation, for the removal page and service.

Issuers, badges, awards (and later API keys, rules…) belong to an organisation, but orgs must
not import those apps. Each app registers what it keeps from its ``AppConfig.ready()``:

    from orgs import holdings
    holdings.register(
        "issuers", "Issuers",
        count=lambda space, orgs: Issuer.objects.filter(space=space, organisation__in=orgs).count(),
        blocks_removal=True,
        move=lambda space, orgs, target: Issuer.objects.filter(
            space=space, organisation__in=orgs).update(organisation=target),
    )

``orgs`` is a QuerySet of the organisations about to go (the node and its whole subtree), so a
count is one query with a subquery, whatever the size of the tree. ``target`` is an organisation
outside that subtree.

- ``blocks_removal=True``: the removal is refused while the count is not zero; with a ``move``
  function the removal page offers to move them elsewhere first (issuers, badges).
- ``blocks_removal=False``: the count is shown with ``consequence`` (what happens to them, e.g.
  "awards stay with their badges"); ``on_remove(space, orgs, parent)`` (optional) runs inside the
  removal transaction before the organisations are deleted, to re-point or end rows that would
  otherwise block the delete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from orgs.models import Organisation, Space

CountFn = Callable[["Space", "QuerySet[Organisation]"], int]
MoveFn = Callable[["Space", "QuerySet[Organisation]", "Organisation"], int]
OnRemoveFn = Callable[["Space", "QuerySet[Organisation]", "Organisation"], None]


@dataclass(frozen=True)
class Holding:
    key: str
    label: str
    count: CountFn
    blocks_removal: bool
    move: MoveFn | None = None
    consequence: str = ""
    on_remove: OnRemoveFn | None = None
    order: int = 100


_REGISTRY: dict[str, Holding] = {}


def register(
    key: str,
    label: str,
    count: CountFn,
    *,
    blocks_removal: bool,
    move: MoveFn | None = None,
    consequence: str = "",
    on_remove: OnRemoveFn | None = None,
    order: int = 100,
) -> Holding:
    """Register (or replace, so ready() may run twice) what an app keeps in organisations."""
    if not blocks_removal and not consequence:
        raise ValueError(f"Holding {key!r}: say what happens to them when an organisation goes")
    holding = Holding(key, label, count, blocks_removal, move, consequence, on_remove, order)
    _REGISTRY[key] = holding
    return holding


def unregister(key: str) -> None:
    _REGISTRY.pop(key, None)


def registered() -> list[Holding]:
    return sorted(_REGISTRY.values(), key=lambda h: (h.order, h.key))
