from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.text import slugify

from badgeplatform.audit import audit_log
from badgeplatform.permissions import DEFAULT_ROLES, SPACE_ADMINISTRATOR
from orgs.models import Organisation, Space

if TYPE_CHECKING:
    from users.models import User

RESERVED_SLUGS = frozenset({"admin", "api", "static", "media", "public", "accounts", "new"})


def slug_is_available(slug: str) -> bool:
    return slug not in RESERVED_SLUGS and not Space.objects.filter(slug=slug).exists()


def suggest_slug(name: str) -> str:
    """A free slug derived from ``name``: "acme", then "acme-2", "acme-3", …"""
    base = slugify(name)[:50].strip("-") or "space"
    candidate, n = base, 1
    while not slug_is_available(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@transaction.atomic
def space_create(*, name: str, slug: str, admin: User) -> Space:
    """A space, its root organisation (named as typed), its default roles, and ``admin`` as
    its Space Administrator on the root."""
    from users.models import Member, Membership, Role

    space = Space.objects.create(name=name, slug=slug)
    root = Organisation.objects.create(space=space, name=name)
    roles = Role.objects.bulk_create(
        Role(
            space=space,
            name=role_name,
            description=desc,
            permissions=sorted(perms),
            is_default=True,
        )
        for role_name, (desc, perms) in DEFAULT_ROLES.items()
    )
    admin_role = next(r for r in roles if r.name == SPACE_ADMINISTRATOR)
    Member.objects.create(space=space, user=admin)
    Membership.objects.create(space=space, user=admin, organisation=root, role=admin_role)
    audit_log(space=space, actor=admin, action="space.create", obj=space)
    return space
