"""Fetch-and-authorize for issuer profiles.

Views, forms and the API reach issuers only through these: scoped to the actor's space, with
``need`` checked on the issuer's organisation; missing and forbidden answer alike (Http404).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from issuers.models import Issuer
from orgs.access import object_id


def issuer_for(access: Access, pk: int | str, *, need: Perm | str = Perm.MANAGE_ISSUERS) -> Issuer:
    """The space's issuer ``pk`` with its current profile and organisation (one query), when the
    actor holds ``need`` on its organisation."""
    issuer = Issuer.objects.for_space(access.space).with_profile().filter(pk=object_id(pk)).first()
    if issuer is None or not access.can(need, organisation=issuer.organisation):
        raise Http404("No such issuer")
    return issuer


def issuers_visible(access: Access, *, need: Perm | str = Perm.MANAGE_ISSUERS) -> QuerySet[Issuer]:
    """The space's issuers whose organisation the actor holds ``need`` on."""
    qs = Issuer.objects.for_space(access.space)
    if access.can(need):
        return qs
    return qs.filter(access.organisations_q(need, prefix="organisation__"))


def issuers_offered(access: Access) -> QuerySet[Issuer]:
    """The issuers a badge may name: any issuer of the space (a department's badge is often
    issued in the university's name), so no issuer right is needed to choose one."""
    return Issuer.objects.for_space(access.space)
