"""Fetch-and-authorize for webhook endpoints and their messages ("manage system settings" is
space-wide, so it is asked of the root); missing, another space's and forbidden answer alike."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from orgs.access import object_id
from webhooks.models import Endpoint, Message


def endpoint_for(
    access: Access, pk: int | str, *, need: Perm | str = Perm.MANAGE_SETTINGS
) -> Endpoint:
    endpoint = Endpoint.objects.for_space(access.space).filter(pk=object_id(pk)).first()
    if endpoint is None or not access.can(need):
        raise Http404("No such webhook endpoint")
    return endpoint


def endpoints_visible(
    access: Access, *, need: Perm | str = Perm.MANAGE_SETTINGS
) -> QuerySet[Endpoint]:
    qs = Endpoint.objects.for_space(access.space)
    return qs if access.can(need) else qs.none()


def message_for(access: Access, pk: int | str) -> Message:
    message = (
        Message.objects.filter(endpoint__space=access.space, pk=object_id(pk))
        .select_related("endpoint")
        .first()
    )
    if message is None or not access.can(Perm.MANAGE_SETTINGS):
        raise Http404("No such webhook message")
    return message
