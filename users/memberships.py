"""Memberships: who holds which role where. The one module that writes Member and Membership.

Every entry point (the Users area, group pages, bulk actions, deleting a group, removing an
organisation, registration, issuing's newcomers, commands, demo data) comes through here, so one
rule decides each change whatever the path:

- giving a role at a place needs every permission of that role at that place
  (``users.places.can_assign_role``); so does changing it, moving it or **ending** it — a group
  delete, an organisation removal or a bulk action ends only roles the actor could have ended
  one by one, or refuses the whole operation, naming what blocks it;
- a person in a space always keeps at least one place: taking away a last place by hand is
  refused; when a group or organisation goes, people left with no place are put in the
  organisation that held it with the plain User role;
- the space keeps at least one Space Administrator on its root organisation (checked inside the
  transaction of each change, so a refused change writes nothing);
- awards point at the user, never at these rows, so nothing here touches them.

Functions take the actor as ``access``: a person's ``Access`` in the space, or
``Access.system(space)`` (the explicit system access) for commands, tasks and seeding.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Expression, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.bulk import insert_many
from badgeplatform.permissions import SPACE_ADMINISTRATOR, USER_ROLE
from orgs.models import Group, Organisation
from users.access import require_edit_member
from users.models import Member, Membership, Role, User
from users.places import Place, can_assign_role

if TYPE_CHECKING:
    from orgs.models import Space

PlaceRoles = list[tuple[Place, Role]]

NAMES_SHOWN = 5


def _actor_user(access: Access) -> User | None:
    return access.user


def _person(user: User) -> str:
    return f"{user.display_name} <{user.email}>"


def _emails(user_ids: Iterable[int]) -> list[str]:
    return list(
        User.objects.filter(pk__in=set(user_ids)).order_by("email").values_list("email", flat=True)
    )


def _user_role(space: Space) -> Role:
    return Role.objects.get(space=space, name=USER_ROLE, is_default=True)


def _clean_external_id(external_id: str | None) -> str | None:
    return (external_id or "").strip() or None


def _with_places(qs: QuerySet[Membership]) -> QuerySet[Membership]:
    return qs.select_related("user", "role", "organisation", "group__organisation")


# ---- The rules -------------------------------------------------------------------------------


def may_assign(access: Access, role: Role, place: Place) -> bool:
    """May the actor give ``role`` at ``place`` (or change, move or end it there)?"""
    return access.is_system or can_assign_role(access, role, place)


def may_end(access: Access, membership: Membership) -> bool:
    """May the actor end this role? The same rule as giving it: every one of its permissions
    must be the actor's at that place, whatever the path (single, bulk, cascade)."""
    return may_assign(access, membership.role, Place.of(membership))


def _blocked(access: Access, ending: QuerySet[Membership]) -> Q | None:
    """The part of ``ending`` the actor may not end, as a filter (None: nothing is blocked).

    The rule depends only on (role, place), so each distinct pair is judged once: a node with
    thousands of people costs one grouped query, not a Python loop over every row."""
    if access.is_system:
        return None
    pairs = set(ending.order_by().values_list("role_id", "organisation_id", "group_id"))
    if not pairs:
        return None
    roles = Role.objects.in_bulk({r for r, _, _ in pairs})
    orgs = Organisation.objects.in_bulk({o for _, o, _ in pairs if o is not None})
    groups = Group.objects.select_related("organisation").in_bulk(
        {g for _, _, g in pairs if g is not None}
    )
    blocked = Q(pk__in=[])
    any_blocked = False
    for role_id, org_id, group_id in pairs:
        place = Place(organisation=orgs[org_id]) if org_id else Place(group=groups[group_id])
        if not may_assign(access, roles[role_id], place):
            any_blocked = True
            blocked |= Q(role_id=role_id, organisation_id=org_id, group_id=group_id)
    return blocked if any_blocked else None


def end_refusal(access: Access, ending: QuerySet[Membership], *, doing: str) -> str:
    """Why ``doing`` (e.g. "Deleting the group “Cohort 1”") may not end the roles in
    ``ending``: it would end one the actor could not have ended one by one. The message names
    who holds what, where; "" when nothing blocks it."""
    blocked_q = _blocked(access, ending)
    if blocked_q is None:
        return ""
    blocked = _with_places(ending.filter(blocked_q)).order_by(
        "user__last_name", "user__first_name", "pk"
    )
    shown = list(blocked[: NAMES_SHOWN + 1])
    named = [f"{m.user.display_name} ({m.role.name} in “{Place.of(m)}”)" for m in shown]
    listed = ", ".join(named[:NAMES_SHOWN])
    if len(named) > NAMES_SHOWN:
        listed += f" and {blocked.count() - NAMES_SHOWN} more"
    return (
        f"{doing} would end roles you could not end one by one: {listed}. Ending a role needs "
        "every right of that role where it is held; ask someone who holds them, or change "
        "those roles first."
    )


def require_may_end(access: Access, ending: QuerySet[Membership], *, doing: str) -> None:
    """Refuse ``doing`` as a whole (``PermissionDenied``, before anything is written) when it
    would end a role the actor could not have ended one by one."""
    if refusal := end_refusal(access, ending, doing=doing):
        raise PermissionDenied(refusal + " Nothing was changed.")


def _just(membership: Membership) -> QuerySet[Membership]:
    return Membership.objects.filter(pk=membership.pk)


def require_may_assign(access: Access, role: Role, place: Place) -> None:
    if not may_assign(access, role, place):
        raise PermissionDenied(
            f"You cannot give “{role.name}” in “{place}”: it carries rights you do not hold there."
        )


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


# ---- Joining a space -------------------------------------------------------------------------


def _memberships_create(*, space: Space, user: User, places: PlaceRoles) -> list[Membership]:
    seen = set()
    rows = []
    for place, role in places:
        if place.value in seen:
            raise ValidationError(f"“{place}” is listed twice: a person has one role per place.")
        seen.add(place.value)
        rows.append(Membership(space=space, user=user, role=role, **place.membership_kwargs()))
    return Membership.objects.bulk_create(rows)


@transaction.atomic
def member_join_space(
    *,
    access: Access,
    space: Space,
    user: User,
    places: PlaceRoles,
    external_id: str | None = None,
) -> Member:
    """``user`` joins ``space``, holding each (place, role) of ``places`` (at least one)."""
    if not places:
        raise ValidationError("Choose at least one organisation or group.")
    for place, role in places:
        require_may_assign(access, role, place)
    if Member.objects.filter(space=space, user=user).exists():
        raise ValidationError("This person is already in your space.")
    member = Member.objects.create(
        space=space, user=user, external_id=_clean_external_id(external_id)
    )
    _memberships_create(space=space, user=user, places=places)
    return member


def places_audit(places: PlaceRoles) -> list[str]:
    return [f"{place} as {role.name}" for place, role in places]


def members_join_space_bulk(
    *, space: Space, joining: dict[int, tuple[Organisation, str | None]]
) -> None:
    """Newcomers join ``space`` as plain Users, each on their organisation, in a constant
    number of queries (issuing's hot path: ``joining`` maps user id → (organisation, external
    id)). The User role carries no rights, so the caller's own check (may issue there) is the
    one that counts; sorted so two concurrent batches insert in the same order."""
    if not joining:
        return
    ids = sorted(joining)
    user_role = _user_role(space)
    insert_many([Member(space=space, user_id=pk, external_id=joining[pk][1]) for pk in ids])
    insert_many(
        [
            Membership(space=space, user_id=pk, organisation=joining[pk][0], role=user_role)
            for pk in ids
        ]
    )


@transaction.atomic
def member_update(*, access: Access, member: Member, external_id: str | None) -> Member:
    """Change a person's details (the external id the API matches on). Needs covering every
    role they hold, whoever calls (users.access.require_edit_member)."""
    require_edit_member(access, member)
    old = member.external_id
    member.external_id = _clean_external_id(external_id)
    member.save(update_fields=["external_id"])
    if old != member.external_id:
        audit_log(
            space=member.space,
            actor=_actor_user(access),
            action="member.update",
            obj=member.user,
            label=_person(member.user),
            changes={"external_id": [old, member.external_id]},
        )
    return member


# ---- One place at a time ---------------------------------------------------------------------


def _audit_membership(action: str, membership: Membership, access: Access, **changes) -> None:
    audit_log(
        space=membership.space,
        actor=_actor_user(access),
        action=action,
        obj=membership.user,
        label=_person(membership.user),
        changes=changes,
    )


@transaction.atomic
def membership_add(
    *, access: Access, space: Space, user: User, place: Place, role: Role
) -> Membership:
    """Someone already in the space takes ``role`` at a further ``place``."""
    require_may_assign(access, role, place)
    if Membership.objects.filter(space=space, user=user, **place.membership_kwargs()).exists():
        raise ValidationError(
            f"{user.display_name} is already in “{place}”. Change the role there instead."
        )
    membership = Membership.objects.create(
        space=space, user=user, role=role, **place.membership_kwargs()
    )
    _audit_membership("membership.add", membership, access, place=str(place), role=role.name)
    return membership


@transaction.atomic
def membership_set_role(*, access: Access, membership: Membership, role: Role) -> Membership:
    place = Place.of(membership)
    require_may_end(access, _just(membership), doing=f"Changing the role in “{place}”")
    require_may_assign(access, role, place)
    old = membership.role.name
    membership.role = role
    membership.save(update_fields=["role"])
    ensure_space_admin_remains(membership.space)
    _audit_membership(
        "membership.set_role", membership, access, place=str(place), role=[old, role.name]
    )
    return membership


@transaction.atomic
def membership_transfer(*, access: Access, membership: Membership, place: Place) -> Membership:
    """Move a person from one place to another, keeping the role they held."""
    require_may_end(access, _just(membership), doing=f"Moving them out of “{Place.of(membership)}”")
    require_may_assign(access, membership.role, place)
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
        "membership.transfer",
        membership,
        access,
        place=[old, str(place)],
        role=membership.role.name,
    )
    return membership


@transaction.atomic
def membership_end(*, access: Access, membership: Membership) -> None:
    """Take one place away; refused for a person's last place (add another first, or remove
    them from the space)."""
    place = str(Place.of(membership))
    require_may_end(access, _just(membership), doing=f"Taking them out of “{place}”")
    if (
        not Membership.objects.filter(space=membership.space_id, user=membership.user_id)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(
            "This is their only organisation or group. Add another place first, or remove "
            "the person from the space."
        )
    membership.delete()
    ensure_space_admin_remains(membership.space)
    _audit_membership(
        "membership.remove", membership, access, place=place, role=membership.role.name
    )


# ---- Leaving a space -------------------------------------------------------------------------


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


@transaction.atomic
def members_remove_from_space(*, access: Access, space: Space, user_ids: Iterable[int]) -> int:
    """End these people's membership of the space: their places and roles go, the people (and
    everything they were awarded, which points at the user) stay on the platform. Every role
    they hold must be one the actor could end."""
    user_ids = set(user_ids)
    people = _emails(user_ids)
    ending = Membership.objects.filter(space=space, user_id__in=user_ids)
    n = len(user_ids)
    require_may_end(
        access, ending, doing=f"Removing {n} {'person' if n == 1 else 'people'} from the space"
    )
    ending.delete()
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
        actor=_actor_user(access),
        action="member.remove_from_space",
        label=f"{removed} people",
        changes={"people": people},
    )
    return removed


# ---- Groups ----------------------------------------------------------------------------------
# One audit entry per action, naming the people it touched (by email).


@transaction.atomic
def group_members_add(*, access: Access, group: Group, user_ids: Iterable[int], role: Role) -> int:
    """Add these people into ``group`` with ``role``; those already in it keep their role."""
    require_may_assign(access, role, Place(group=group))
    already = set(group.memberships.values_list("user_id", flat=True))
    adding = sorted(set(user_ids) - already)
    Membership.objects.bulk_create(
        Membership(space_id=group.space_id, user_id=uid, group=group, role=role) for uid in adding
    )
    audit_log(
        space=group.space,
        actor=_actor_user(access),
        action="group.members_add",
        obj=group,
        changes={"role": role.name, "people": _emails(adding)},
    )
    return len(adding)


def _end_and_rehome(
    *,
    access: Access,
    space: Space,
    ending: QuerySet[Membership],
    home: Organisation,
    doing: str,
) -> tuple[set[int], int, int]:
    """End these roles (all or none, by the one rule) and put anyone left with no place in
    ``home`` as User. Returns (the people touched, roles ended, how many were placed)."""
    require_may_end(access, ending, doing=doing)
    affected = set(ending.values_list("user_id", flat=True))
    ended, _ = ending.delete()  # nothing points at a membership: one DELETE, whatever the size
    rehomed = memberships_rehome_orphans(space=space, user_ids=affected, organisation=home)
    ensure_space_admin_remains(space)
    return affected, ended, rehomed


@transaction.atomic
def group_members_remove(*, access: Access, group: Group, user_ids: Iterable[int]) -> int:
    """Take these people out of ``group``; people for whom it was their only place are put in
    the group's organisation as User."""
    ending = group.memberships.filter(user_id__in=set(user_ids))
    affected, _, rehomed = _end_and_rehome(
        access=access,
        space=group.space,
        ending=ending,
        home=group.organisation,
        doing=f"Taking them out of “{group.name}”",
    )
    audit_log(
        space=group.space,
        actor=_actor_user(access),
        action="group.members_remove",
        obj=group,
        changes={"people": _emails(affected), "people_rehomed": rehomed},
    )
    return len(affected)


@transaction.atomic
def group_members_transfer(
    *, access: Access, source: Group, target: Group, user_ids: Iterable[int]
) -> int:
    """Move these people from ``source`` into ``target`` with the role they held in ``source``.
    Someone already in ``target`` keeps their role there and just leaves ``source``."""
    if source.pk == target.pk:
        raise ValidationError("Choose two different groups.")
    require_may_end(
        access,
        source.memberships.filter(user_id__in=set(user_ids)),
        doing=f"Moving them out of “{source.name}”",
    )
    moving = list(_with_places(source.memberships.filter(user_id__in=set(user_ids))))
    for m in moving:
        require_may_assign(access, m.role, Place(group=target))
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
        actor=_actor_user(access),
        action="group.members_transfer",
        obj=source,
        changes={"to": target.name, "people": _emails(m.user_id for m in moving)},
    )
    return len(moving)


# ---- When the tree changes (called by orgs through orgs.occupants) ---------------------------


def _on_places(space: Space, organisations: QuerySet[Organisation]) -> QuerySet[Membership]:
    return Membership.objects.filter(space=space).filter(
        Q(organisation__in=organisations) | Q(group__organisation__in=organisations)
    )


def _deleting_group(group: Group) -> str:
    return f"Deleting the group “{group.name}”"


def _removing(organisation: Organisation) -> str:
    return f"Removing “{organisation.name}”"


def memberships_end_for_group(*, access: Access, group: Group) -> tuple[int, int]:
    """Deleting ``group``: end every role in it (refused as a whole if one of them is beyond
    the actor); returns (people whose role ended, people placed in the group's organisation)."""
    affected, _, rehomed = _end_and_rehome(
        access=access,
        space=group.space,
        ending=group.memberships.all(),
        home=group.organisation,
        doing=_deleting_group(group),
    )
    return len(affected), rehomed


def memberships_end_for_places(
    *,
    access: Access,
    space: Space,
    organisations: QuerySet[Organisation],
    home: Organisation,
    doing: str,
) -> tuple[int, int]:
    """Removing these nodes: end the roles on them and on their groups (refused as a whole if
    one is beyond the actor); returns (roles ended, people placed in ``home`` as User)."""
    _, ended, rehomed = _end_and_rehome(
        access=access,
        space=space,
        ending=_on_places(space, organisations),
        home=home,
        doing=doing,
    )
    return ended, rehomed


def _count_of(qs: QuerySet, by: str) -> Expression:
    """COUNT(*) of ``qs`` as a correlated subquery (grouped by the column it is filtered on)."""
    counted = qs.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1]), 0)


class MembershipOccupants:
    """What ``orgs`` asks of the people on its tree (registered in ``UsersConfig.ready``)."""

    def people_count(self, space: Space, organisations: QuerySet[Organisation]) -> int:
        return (
            Membership.objects.filter(space=space)
            .filter(Q(organisation__in=organisations) | Q(group__organisation__in=organisations))
            .values("user")
            .distinct()
            .count()
        )

    def count_on_organisation(self) -> Expression:
        return _count_of(Membership.objects.filter(organisation=OuterRef("pk")), "organisation")

    def count_in_group(self) -> Expression:
        return _count_of(Membership.objects.filter(group=OuterRef("pk")), "group")

    def on_organisation(self, organisation: Organisation) -> QuerySet[Membership]:
        return (
            Membership.objects.filter(space_id=organisation.space_id, organisation=organisation)
            .select_related("user", "role")
            .order_by("user__last_name", "user__first_name", "user__username")
        )

    def end_for_organisations(
        self,
        *,
        access: Access,
        organisation: Organisation,
        organisations: QuerySet[Organisation],
        parent: Organisation,
    ) -> tuple[int, int]:
        return memberships_end_for_places(
            access=access,
            space=organisation.space,
            organisations=organisations,
            home=parent,
            doing=_removing(organisation),
        )

    def refusal_for_organisations(
        self, *, access: Access, organisation: Organisation, organisations: QuerySet[Organisation]
    ) -> str:
        ending = _on_places(organisation.space, organisations)
        return end_refusal(access, ending, doing=_removing(organisation))

    def refusal_for_group(self, *, access: Access, group: Group) -> str:
        return end_refusal(access, group.memberships.all(), doing=_deleting_group(group))

    def end_for_group(self, *, access: Access, group: Group) -> tuple[int, int]:
        return memberships_end_for_group(access=access, group=group)
