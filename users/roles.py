"""Default roles follow the catalogue (badgeplatform.permissions.DEFAULT_ROLES).

Each space holds its own copy of the default roles (memberships point at them). A space is
given them by :func:`default_roles_sync` when it is created, and an existing space is brought
along by a data migration whenever the catalogue changes.

**When you change DEFAULT_ROLES** (a permission added to a role, a new default role, a new
description), add a data migration to users/ like ``0002_default_roles_sync``: copy the
catalogue *as it now stands* into the migration as plain strings and call
:func:`default_roles_sync_all` with it. The migration embeds its table, never imports
DEFAULT_ROLES: a migration must do the same thing whenever it runs, not whatever the catalogue
says on the day it is applied. ``tests/users/test_default_roles_sync.py`` fails while the last
such migration's table differs from DEFAULT_ROLES. Renaming or retiring a default role is not
a sync: write that step out in the migration (memberships hold the role).

The functions take the Role model as an argument so that a migration passes its historical
model; keep their signatures, old migrations call them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# name → (description, permission codes). Plain strings, so a migration can embed one.
Catalogue = Mapping[str, tuple[str, Iterable[str]]]


def current_catalogue() -> dict[str, tuple[str, list[str]]]:
    """DEFAULT_ROLES as plain strings, the form migrations embed."""
    from badgeplatform.permissions import DEFAULT_ROLES

    return {
        name: (description, sorted(str(p) for p in perms))
        for name, (description, perms) in DEFAULT_ROLES.items()
    }


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # A custom role already has the name of a default role: left alone, default not added.
    name_taken_by_custom: list[str] = field(default_factory=list)


def default_roles_sync(
    *, space_id: int, catalogue: Catalogue | None = None, role_model: Any = None
) -> SyncResult:
    """Make the space's default roles those of ``catalogue`` (today's DEFAULT_ROLES unless a
    migration passes its own table): missing ones are added, the permissions and description
    of existing ones are set to the catalogue's. Custom roles are never touched, and neither
    are default roles the catalogue no longer lists (people may hold them)."""
    if catalogue is None:
        catalogue = current_catalogue()
    if role_model is None:
        from users.models import Role as role_model
    result = SyncResult()
    existing = {r.name.lower(): r for r in role_model.objects.filter(space_id=space_id)}
    to_create = []
    for name, (description, perms) in catalogue.items():
        permissions = sorted(set(perms))
        role = existing.get(name.lower())
        if role is None:
            to_create.append(
                role_model(
                    space_id=space_id,
                    name=name,
                    description=description,
                    permissions=permissions,
                    is_default=True,
                )
            )
            result.created.append(name)
        elif not role.is_default:
            result.name_taken_by_custom.append(name)
        elif sorted(role.permissions) != permissions or role.description != description:
            role.permissions, role.description = permissions, description
            role.save(update_fields=["permissions", "description"])
            result.updated.append(name)
    role_model.objects.bulk_create(to_create)
    return result


def default_roles_sync_all(
    *, catalogue: Catalogue, role_model: Any, space_model: Any
) -> dict[int, SyncResult]:
    """:func:`default_roles_sync` for every space (what a catalogue migration runs)."""
    return {
        space_id: default_roles_sync(space_id=space_id, catalogue=catalogue, role_model=role_model)
        for space_id in space_model.objects.order_by("pk").values_list("pk", flat=True)
    }
