from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils.text import slugify

from badgeplatform.audit import audit_log
from orgs import holdings, occupants
from orgs.models import Group, Organisation, Space

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser as User

    from badgeplatform.access import Access

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
def space_tree_create(*, name: str, slug: str) -> Space:
    """A space and its root organisation (named as typed). Its roles and first administrator
    are the people layer's business: ``users.services.space_create`` does the whole thing."""
    space = Space.objects.create(name=name, slug=slug)
    space._root_org = Organisation.objects.create(space=space, name=name)
    return space


# ---- The organisation tree -------------------------------------------------------------------
#
# MPTT rewrites lft/rght of many rows on every insert, move and delete; two such changes running
# at once in the same tree would corrupt it. Every change below first locks the space's root row
# (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers anyway) and re-reads the nodes it
# was given, so it never works from lft/rght values that another change has shifted.


def _lock_tree(space: Space) -> None:
    list(
        Organisation.objects.select_for_update()
        .filter(space=space, parent__isnull=True)
        .values_list("pk", flat=True)
    )


def _fresh(org: Organisation) -> Organisation:
    return Organisation.objects.select_related("parent").get(pk=org.pk)


def _check_name_free_under(
    parent: Organisation, name: str, *, exclude: Organisation | None = None
) -> None:
    siblings = Organisation.objects.filter(space_id=parent.space_id, parent=parent)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.filter(name__iexact=name).exists():
        raise ValidationError(
            {"name": f"“{parent.name}” already has a sub-organisation called “{name}”."}
        )


@transaction.atomic
def organisation_create(
    *, space: Space, parent: Organisation, name: str, description: str = "", actor: User | None
) -> Organisation:
    """A child under ``parent`` (a team, department, faculty, office or region); any depth."""
    if parent.space_id != space.pk:
        raise ValueError("The parent belongs to another space")
    _lock_tree(space)
    parent = _fresh(parent)
    _check_name_free_under(parent, name)
    org = Organisation.objects.create(
        space=space, parent=parent, name=name, description=description
    )
    audit_log(
        space=space,
        actor=actor,
        action="organisation.create",
        obj=org,
        changes={"parent": parent.name},
    )
    return org


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, name: str, description: str, actor: User | None
) -> Organisation:
    _lock_tree(organisation.space)
    org = _fresh(organisation)
    if org.parent is not None:
        _check_name_free_under(org.parent, name, exclude=org)
    changes = {
        f: [getattr(org, f), new]
        for f, new in (("name", name), ("description", description))
        if getattr(org, f) != new
    }
    org.name = name
    org.description = description
    # MPTT re-sorts the node among its siblings when a name in order_insertion_by changes.
    org.save()
    audit_log(space=org.space, actor=actor, action="organisation.update", obj=org, changes=changes)
    return org


@transaction.atomic
def organisation_move(
    *, organisation: Organisation, new_parent: Organisation, actor: User | None
) -> Organisation:
    """Re-parent a node (and its whole subtree) within the same space."""
    _lock_tree(organisation.space)
    org, new_parent = _fresh(organisation), _fresh(new_parent)
    if new_parent.space_id != org.space_id:
        raise ValueError("The new parent belongs to another space")
    if org.is_root:
        raise ValidationError("The root organisation is your space itself; it cannot be moved.")
    if new_parent.tree_id == org.tree_id and org.lft <= new_parent.lft <= org.rght:
        raise ValidationError(
            {"parent": "An organisation cannot move under itself or one of its sub-organisations."}
        )
    if new_parent.pk == org.parent_id:
        return org
    _check_name_free_under(new_parent, org.name)
    old_parent = org.parent
    org.parent = new_parent
    org.save()  # MPTT moves the subtree and keeps siblings ordered by name
    audit_log(
        space=org.space,
        actor=actor,
        action="organisation.move",
        obj=org,
        changes={"parent": [old_parent.name, new_parent.name]},
    )
    return org


# ---- Removing an organisation ----------------------------------------------------------------


@dataclass
class HoldingLine:
    """One thing an organisation holds, how many, and what removal does to them."""

    key: str
    label: str
    count: int
    consequence: str
    blocks: bool = False
    movable: bool = False
    names: list[str] = field(default_factory=list)

    @property
    def phrase(self) -> str:
        """ "1 badge", "3 badges" (labels are plural nouns)."""
        label = self.label.lower()
        if self.count == 1 and label.endswith("s"):
            label = label[:-1]
        return f"{self.count} {label}"


@dataclass
class RemovalPlan:
    organisation: Organisation
    lines: list[HoldingLine]
    # Why the actor may not end the roles held there (the people layer's rule), or "".
    roles_refusal: str = ""

    @property
    def blocking(self) -> list[HoldingLine]:
        return [line for line in self.lines if line.blocks and line.count]

    @property
    def allowed(self) -> bool:
        return not self.organisation.is_root and not self.blocking and not self.roles_refusal

    @property
    def can_move_blocking(self) -> bool:
        return bool(self.blocking) and all(line.movable for line in self.blocking)

    @property
    def refusal(self) -> str:
        if self.organisation.is_root:
            return (
                f"“{self.organisation.name}” is the root organisation — your space itself — "
                "and cannot be removed."
            )
        if self.blocking:
            parts = [line.phrase for line in self.blocking]
            what = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
            return (
                f"“{self.organisation.name}” still holds {what}. Move them to another "
                "organisation first; then it can be removed."
            )
        return self.roles_refusal


NAMES_SHOWN = 12


def subtree(organisation: Organisation) -> QuerySet[Organisation]:
    """The node and everything beneath it: one range condition."""
    return Organisation.objects.filter(
        space_id=organisation.space_id,
        tree_id=organisation.tree_id,
        lft__gte=organisation.lft,
        rght__lte=organisation.rght,
    )


def organisation_removal_plan(
    *, organisation: Organisation, access: Access | None = None
) -> RemovalPlan:
    """What removing ``organisation`` would touch, and what happens to each kind of thing;
    with ``access``, also whether that actor may end every role held there (so the page says
    so before the button is pressed; ``organisation_remove`` enforces it either way)."""
    org = organisation
    space = org.space
    nodes = subtree(org)
    parent_name = org.parent.name if org.parent_id else ""
    descendants = list(
        nodes.exclude(pk=org.pk).order_by("lft").values_list("name", flat=True)[: NAMES_SHOWN + 1]
    )
    groups = Group.objects.filter(space=space, organisation__in=nodes)
    people = occupants.get().people_count(space, nodes)
    lines = [
        HoldingLine(
            "organisations",
            "Sub-organisations",
            (org.rght - org.lft - 1) // 2,
            "Removed together with it. To keep one, move it elsewhere first.",
            names=descendants,
        ),
        HoldingLine(
            "groups",
            "Groups",
            groups.count(),
            "Deleted together with it. To keep a group, move it to another organisation first.",
            names=list(groups.order_by("name").values_list("name", flat=True)[: NAMES_SHOWN + 1]),
        ),
        HoldingLine(
            "members",
            "People",
            people,
            "Their roles here end; nobody is removed from the space. Anyone left without any "
            f"organisation or group is placed in “{parent_name}” with the User role.",
        ),
    ]
    for h in holdings.registered():
        lines.append(
            HoldingLine(
                h.key,
                h.label,
                h.count(space, nodes),
                h.consequence
                or "Must be moved to another organisation before this one can be removed.",
                blocks=h.blocks_removal,
                movable=h.move is not None,
            )
        )
    refusal = ""
    if access is not None and not org.is_root:
        refusal = occupants.get().refusal_for_organisations(
            access=access, organisation=org, organisations=nodes
        )
    return RemovalPlan(organisation=org, lines=lines, roles_refusal=refusal)


@transaction.atomic
def organisation_move_holdings(
    *, organisation: Organisation, target: Organisation, actor: User | None
) -> dict[str, int]:
    """Move what blocks a removal (issuers, badges…) out of the subtree into ``target``."""
    _lock_tree(organisation.space)
    org, target = _fresh(organisation), _fresh(target)
    if target.space_id != org.space_id:
        raise ValueError("The target belongs to another space")
    if target.tree_id == org.tree_id and org.lft <= target.lft <= org.rght:
        raise ValidationError({"target": "Choose an organisation outside the one being removed."})
    nodes = subtree(org)
    moved = {}
    for h in holdings.registered():
        if h.blocks_removal and h.move is not None:
            moved[h.label] = h.move(org.space, nodes, target)
    audit_log(
        space=org.space,
        actor=actor,
        action="organisation.move_holdings",
        obj=org,
        changes={"to": target.name, **moved},
    )
    return moved


@dataclass
class RemovalResult:
    name: str
    parent: Organisation
    organisations: int
    groups: int
    memberships: int
    rehomed: int


@transaction.atomic
def organisation_remove(*, organisation: Organisation, access: Access) -> RemovalResult:
    """Remove a node and its subtree; refuse the root and nodes that still hold blocking things.

    Groups in the subtree are deleted, the roles held on the removed nodes and groups end (the
    people layer refuses the whole removal if ``access`` could not end one of them by hand),
    people stay in the space (those left with no place at all are put in the parent as User).
    Nothing awarded is touched: badges and issuers must have been moved out first.
    """
    space = organisation.space
    _lock_tree(space)
    org = _fresh(organisation)
    plan = organisation_removal_plan(organisation=org)
    if not plan.allowed:
        raise ValidationError(plan.refusal)
    parent = org.parent
    nodes = subtree(org)
    n_memberships, rehomed = occupants.get().end_for_organisations(
        access=access, organisation=org, organisations=nodes, parent=parent
    )
    for h in holdings.registered():
        if h.on_remove is not None:
            h.on_remove(space, nodes, parent)
    n_groups, _ = Group.objects.filter(space=space, organisation__in=nodes).delete()
    n_orgs = (org.rght - org.lft + 1) // 2
    try:
        # Deepest first: a node's parent is PROTECTed while it has children. These plain deletes
        # leave lft/rght alone; the MPTT delete of the node itself then closes the whole gap.
        levels = nodes.exclude(pk=org.pk).values_list("level", flat=True).distinct()
        for level in sorted(set(levels), reverse=True):
            nodes.filter(level=level).delete()
        org.delete()
    except ProtectedError as exc:
        kinds = sorted({type(o)._meta.verbose_name_plural for o in exc.protected_objects})
        raise ValidationError(
            f"“{org.name}” cannot be removed: {', '.join(kinds)} still refer to it."
        ) from exc
    audit_log(
        space=space,
        actor=access.user,
        action="organisation.remove",
        label=org.name,
        changes={
            "parent": parent.name,
            "organisations": n_orgs,
            "groups": n_groups,
            "memberships_ended": n_memberships,
            "people_rehomed": rehomed,
        },
    )
    return RemovalResult(org.name, parent, n_orgs, n_groups, n_memberships, rehomed)


# ---- Groups ----------------------------------------------------------------------------------


def _check_group_name_free(
    organisation: Organisation, name: str, *, exclude: Group | None = None
) -> None:
    qs = Group.objects.filter(space_id=organisation.space_id, organisation=organisation)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    if qs.filter(name__iexact=name).exists():
        raise ValidationError(
            {"name": f"“{organisation.name}” already has a group called “{name}”."}
        )


@transaction.atomic
def group_create(
    *,
    space: Space,
    organisation: Organisation,
    name: str,
    description: str = "",
    actor: User | None,
) -> Group:
    if organisation.space_id != space.pk:
        raise ValueError("The organisation belongs to another space")
    _check_group_name_free(organisation, name)
    group = Group.objects.create(
        space=space, organisation=organisation, name=name, description=description
    )
    audit_log(
        space=space,
        actor=actor,
        action="group.create",
        obj=group,
        changes={"organisation": organisation.name},
    )
    return group


@transaction.atomic
def group_update(
    *, group: Group, name: str, description: str, organisation: Organisation, actor: User | None
) -> Group:
    """Rename a group, or move it into another organisation of the same space."""
    if organisation.space_id != group.space_id:
        raise ValueError("The organisation belongs to another space")
    _check_group_name_free(organisation, name, exclude=group)
    changes = {
        f: [str(old), str(new)]
        for f, old, new in (
            ("name", group.name, name),
            ("description", group.description, description),
            ("organisation", group.organisation, organisation),
        )
        if old != new
    }
    group.name, group.description, group.organisation = name, description, organisation
    group.save(update_fields=["name", "description", "organisation"])
    audit_log(space=group.space, actor=actor, action="group.update", obj=group, changes=changes)
    return group


@transaction.atomic
def group_delete(*, group: Group, access: Access) -> tuple[int, int]:
    """Delete a group; its roles end, its people stay in the space.

    The people layer ends the roles first, refusing the whole delete (``PermissionDenied``,
    nothing written) if ``access`` could not have ended one of them by hand. Returns (roles
    ended, people placed in the group's organisation because the group was their only place).
    """
    ended, rehomed = occupants.get().end_for_group(access=access, group=group)
    group.delete()
    audit_log(
        space=group.space,
        actor=access.user,
        action="group.delete",
        label=group.name,
        changes={"memberships_ended": ended, "people_rehomed": rehomed},
    )
    return ended, rehomed
