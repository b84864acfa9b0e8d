"""``GET/POST /api/webhooks`` and ``DELETE /api/webhooks/{Id}`` (shared/API.md → Webhooks).

A key whose scope is the whole space manages its space's endpoints; a key limited to an
organisation gets 403 (endpoints belong to the whole space); another space's endpoint is 404.
"""

from __future__ import annotations

import json
import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Schema

from api.http import ApiError, api
from api.models import ApiKey
from api.schemas import ErrorOut
from badgeplatform.access import Access, Grant
from badgeplatform.permissions import Perm
from webhooks.models import Endpoint
from webhooks.services import InvalidEndpoint, endpoint_create, endpoint_delete

ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 429)}


class WebhookOut(Schema):
    Id: str
    Url: str
    Events: list[str]
    Active: bool


class WebhookCreated(WebhookOut):
    Secret: str


def webhook_access(key: ApiKey) -> Access:
    """A whole-space key manages the space's webhooks (the services ask "manage system
    settings" of the root); an organisation-scoped key is refused."""
    if key.organisation_id is not None:
        raise PermissionDenied(
            "Webhooks belong to the whole space: use a key that is not limited to an organisation."
        )
    grant = Grant(
        perms=frozenset({Perm.MANAGE_SETTINGS}),
        role_name=f"API key “{key.name}”",
        organisation_id=None,
        tree_id=None,
        lft=None,
        rght=None,
        group_id=None,
        on_root=True,
    )
    return Access(key.space, None, None, [grant])


def _out(endpoint: Endpoint) -> dict:
    return {
        "Id": str(endpoint.public_id),
        "Url": endpoint.url,
        "Events": list(endpoint.events),
        "Active": endpoint.active,
    }


@api.get(
    "/webhooks",
    response={200: list[WebhookOut], **ERRORS},
    tags=["Webhooks"],
    summary="The space's webhook endpoints",
    operation_id="getWebhooks",
)
def webhooks(request: HttpRequest) -> list[dict]:
    """Every endpoint of the key's space, newest first (never the secret)."""
    access = webhook_access(request.api_key)
    return [
        _out(e) for e in Endpoint.objects.for_space(access.space).order_by("-created_at", "-pk")
    ]


@api.post(
    "/webhooks",
    response={201: WebhookCreated, **ERRORS},
    tags=["Webhooks"],
    summary="Register a webhook endpoint",
    operation_id="postWebhook",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["Url", "Events"],
                        "properties": {
                            "Url": {"type": "string", "format": "uri"},
                            "Events": {"type": "array", "items": {"type": "string"}},
                        },
                    }
                }
            },
        }
    },
)
def webhooks_create(request: HttpRequest) -> HttpResponse:
    """`{"Url", "Events"}` → 201 with `Id` and `Secret` (`whsec_…`, shown only here)."""
    access = webhook_access(request.api_key)
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, 'The body must be an object: {"Url": …, "Events": [...]}.')
    url, events = data.get("Url"), data.get("Events")
    if not isinstance(url, str) or not url.strip():
        raise ApiError(400, "Url is required: an https:// URL.")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ApiError(400, "Events must be a list of event type names.")
    try:
        made = endpoint_create(access=access, url=url, events=events)
    except InvalidEndpoint as exc:
        raise ApiError(400, str(exc)) from None
    response = JsonResponse({**_out(made.endpoint), "Secret": made.secret}, status=201)
    response["Cache-Control"] = "no-store"
    return response


@api.delete(
    "/webhooks/{Id}",
    response={204: None, **ERRORS},
    tags=["Webhooks"],
    summary="Delete a webhook endpoint",
    operation_id="deleteWebhook",
)
def webhook(request: HttpRequest, Id: str) -> HttpResponse:  # noqa: N803 - the contract's name
    """Deleted at once: nothing more is sent to it, pending retries included."""
    access = webhook_access(request.api_key)
    try:
        wanted = uuid.UUID(Id)
    except ValueError:
        raise Http404("No webhook has that Id.") from None
    endpoint = Endpoint.objects.for_space(access.space).filter(public_id=wanted).first()
    if endpoint is None:
        raise Http404("No webhook of this space has that Id.")
    endpoint_delete(access=access, endpoint=endpoint)
    return HttpResponse(status=204)
