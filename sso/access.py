"""The sso layer's lookup: a space's identity provider, fetched and authorized in one call."""

from __future__ import annotations

from django.http import Http404

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from sso.models import IdentityProvider


def provider_for(access: Access, pk: int) -> IdentityProvider:
    if not access.can(Perm.MANAGE_SETTINGS):
        raise Http404("No such identity provider")
    idp = (
        IdentityProvider.objects.for_space(access.space)
        .select_related("jit_organisation", "jit_role")
        .filter(pk=pk)
        .first()
    )
    if idp is None:
        raise Http404("No such identity provider")
    return idp
