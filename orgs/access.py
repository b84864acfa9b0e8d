"""Fetch-and-authorize for the tree: organisations and groups.

Views, forms, bulk actions and the API reach organisations and groups only through these.
Each scopes the lookup to the actor's space and checks ``need`` on the node (held there or
above); a missing node and a forbidden one answer alike, Http404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from orgs.models import Group, Organisation


def object_id(pk: int | str) -> int:
    """A primary key from a URL or a form value; anything else is simply not found."""
    if isinstance(pk, int):
        return pk
    if not str(pk).isdigit():
        raise Http404("No such object")
    return int(pk)


def organisation_for(
    access: Access, pk: int | str, *, need: Perm | str = Perm.MANAGE_ORGANISATIONS
) -> Organisation:
    """The space's organisation ``pk``, when the actor holds ``need`` on it (one query)."""
    org = (
        Organisation.objects.select_related("parent")
        .filter(space=access.space, pk=object_id(pk))
        .first()
    )
    if org is None or not access.can(need, organisation=org):
        raise Http404("No such organisation")
    return org


def organisations_visible(
    access: Access, *, need: Perm | str = Perm.MANAGE_ORGANISATIONS
) -> QuerySet[Organisation]:
    """The space's organisations the actor holds ``need`` on (subtrees as MPTT ranges)."""
    qs = Organisation.objects.for_space(access.space)
    if access.can(need):
        return qs
    return qs.filter(access.organisations_q(need))


def group_for(access: Access, pk: int | str, *, need: Perm | str = Perm.MANAGE_GROUPS) -> Group:
    """The space's group ``pk``, when the actor holds ``need`` on it: on the group itself or on
    an organisation above it (one query)."""
    group = (
        Group.objects.select_related("organisation")
        .filter(space=access.space, pk=object_id(pk))
        .first()
    )
    if group is None or not access.can(need, group=group):
        raise Http404("No such group")
    return group


def groups_visible(access: Access, *, need: Perm | str = Perm.MANAGE_GROUPS) -> QuerySet[Group]:
    """The space's groups the actor holds ``need`` on (their organisation's, or their own)."""
    qs = Group.objects.for_space(access.space)
    if access.can(need):
        return qs
    return qs.filter(
        access.organisations_q(need, "organisation__") | Q(pk__in=access.group_ids_with(need))
    )
