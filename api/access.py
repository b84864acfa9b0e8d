"""Fetch-and-authorize for API keys (System settings → API keys), and the access an API key
acts with.

The settings pages reach keys only through ``key_for``/``keys_visible`` ("manage API keys" is
space-wide, so it is asked of the root); a missing key and a forbidden one answer alike
(Http404). ``key_access`` is what a key may do, as an ``Access``: the services it drives
(``awards_issue``) re-check their permission against it, so a key scoped to an organisation
cannot act outside that organisation's branch whichever path it takes.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from api.models import ApiKey
from api.services import in_scope
from badgeplatform.access import Access, Grant
from badgeplatform.permissions import Perm
from orgs.access import object_id

# What an API key does: issue badges (directly or through rules), revoke, suspend and
# reinstate awards (shared/API.md → Awards), and read reports.
KEY_PERMISSIONS = frozenset({Perm.ISSUE_BADGES, Perm.REVOKE_AWARDS, Perm.VIEW_REPORTS})


def key_for(access: Access, pk: int | str, *, need: Perm | str = Perm.MANAGE_API_KEYS) -> ApiKey:
    """The space's API key ``pk`` with its organisation, when the actor holds ``need`` on the
    whole space. One query."""
    key = (
        ApiKey.objects.for_space(access.space)
        .select_related("organisation", "created_by")
        .filter(pk=object_id(pk))
        .first()
    )
    if key is None or not access.can(need):
        raise Http404("No such API key")
    return key


def keys_visible(access: Access, *, need: Perm | str = Perm.MANAGE_API_KEYS) -> QuerySet[ApiKey]:
    qs = ApiKey.objects.for_space(access.space)
    return qs if access.can(need) else qs.none()


def key_access(key: ApiKey) -> Access:
    """The key as an actor: KEY_PERMISSIONS on its organisation's branch, or on the whole space
    for a key without one (no query either way: the key's organisation is loaded with it).
    No user: audit entries record the key's calls without a person."""
    scope = key.organisation
    grant = Grant(
        perms=KEY_PERMISSIONS,
        role_name=f"API key “{key.name}”",
        organisation_id=scope.pk if scope else None,
        tree_id=scope.tree_id if scope else None,
        lft=scope.lft if scope else None,
        rght=scope.rght if scope else None,
        group_id=None,
        on_root=scope is None or scope.parent_id is None,
    )
    return Access(key.space, None, None, [grant])


def object_in_key_scope(key: ApiKey, model: type[Model], public_id: str, noun: str, *related: str):
    """The key's space's ``model`` row with this public id (fetched with its organisation):
    404 when it is not there or is another space's, 403 when it lies outside the key's
    organisation (shared/API.md: "a key used outside its organisation scope: 403"). One query."""
    try:
        wanted = uuid.UUID(public_id)
    except ValueError:
        raise Http404(f"No {noun} has that Id.") from None
    obj = (
        model.objects.for_space(key.space)
        .select_related("organisation", *related)
        .filter(public_id=wanted)
        .first()
    )
    if obj is None:
        raise Http404(f"No {noun} of this space has that Id.")
    if not in_scope(key, obj.organisation):
        raise PermissionDenied(f"This key is limited to “{key.organisation}” and beneath.")
    return obj
