"""Endpoints: register, rotate the secret, delete, enable again; replay and test messages.

Each takes the actor's ``access`` and re-checks "manage system settings" on the whole space
(a person's, or a whole-space API key's through ``webhooks.api``). Secrets are returned once
(``NewSecret``) and stored only encrypted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from badgeplatform.audit import audit_log
from badgeplatform.permissions import Perm
from badgeplatform.webhook_events import EVENT_TYPES
from webhooks import net
from webhooks.delivery import kick
from webhooks.emit import test_event
from webhooks.models import Endpoint, Message
from webhooks.secrets import new_secret, seal, unseal

if TYPE_CHECKING:
    from badgeplatform.access import Access

# During a rotation the old secret keeps signing (beside the new one) this long.
ROTATION_WINDOW = timedelta(hours=24)
MAX_ENDPOINTS = 20


class InvalidEndpoint(ValueError):
    """A refused URL, an unknown event type, no events: the message says which."""


@dataclass(frozen=True)
class NewSecret:
    endpoint: Endpoint
    secret: str  # exists only here


def clean_events(events: Iterable[str]) -> list[str]:
    events = [str(e).strip() for e in events]
    unknown = sorted({e for e in events if e not in EVENT_TYPES})
    if unknown:
        raise InvalidEndpoint(
            f"Unknown event type(s): {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}."
        )
    if not events:
        raise InvalidEndpoint("Choose at least one event type.")
    return [e for e in EVENT_TYPES if e in set(events)]  # the catalogue's order, no repeats


def clean_url(url: str) -> str:
    try:
        net.check(url)
    except net.RefusedUrl as exc:
        raise InvalidEndpoint(str(exc)) from exc
    return url.strip()


@transaction.atomic
def endpoint_create(*, access: Access, url: str, events: Iterable[str]) -> NewSecret:
    access.require(Perm.MANAGE_SETTINGS)
    events = clean_events(events)
    url = clean_url(url)
    if Endpoint.objects.for_space(access.space).count() >= MAX_ENDPOINTS:
        raise InvalidEndpoint(f"A space has at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = new_secret()
    endpoint = Endpoint(space=access.space, url=url, events=events, created_by=access.user)
    endpoint.secret_encrypted = seal(secret, str(endpoint.public_id))
    endpoint.save()
    audit_log(
        space=access.space,
        actor=access.user,
        action="webhook.create",
        obj=endpoint,
        label=url,
        changes={"events": events},
    )
    return NewSecret(endpoint, secret)


@transaction.atomic
def endpoint_rotate(*, access: Access, endpoint: Endpoint) -> NewSecret:
    """A new secret; the old one keeps signing too for ROTATION_WINDOW (both signatures are
    sent), so receivers can switch without missing an event."""
    access.require(Perm.MANAGE_SETTINGS)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk, space=access.space)
    key = str(endpoint.public_id)
    secret = new_secret()
    endpoint.previous_secret_encrypted = seal(unseal(endpoint.secret_encrypted, key), key)
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_WINDOW
    endpoint.secret_encrypted = seal(secret, key)
    endpoint.save(
        update_fields=[
            "secret_encrypted",
            "previous_secret_encrypted",
            "previous_secret_expires_at",
        ]
    )
    audit_log(
        space=access.space,
        actor=access.user,
        action="webhook.rotate",
        obj=endpoint,
        label=endpoint.url,
        changes={"previous secret valid until": endpoint.previous_secret_expires_at.isoformat()},
    )
    return NewSecret(endpoint, secret)


@transaction.atomic
def endpoint_delete(*, access: Access, endpoint: Endpoint) -> None:
    """Gone with its messages: nothing more is sent, pending retries included."""
    access.require(Perm.MANAGE_SETTINGS)
    audit_log(
        space=access.space,
        actor=access.user,
        action="webhook.delete",
        obj=endpoint,
        label=endpoint.url,
        changes={"events": endpoint.events},
    )
    Endpoint.objects.filter(pk=endpoint.pk, space=access.space).delete()


@transaction.atomic
def endpoint_enable(*, access: Access, endpoint: Endpoint) -> Endpoint:
    """Turn a disabled endpoint back on; its pending messages are due at once."""
    access.require(Perm.MANAGE_SETTINGS)
    clean_url(endpoint.url)
    Endpoint.objects.filter(pk=endpoint.pk, space=access.space).update(
        active=True, disabled_at=None, disabled_reason="", failing_since=None
    )
    ids = list(
        Message.objects.filter(endpoint=endpoint, status=Message.Status.PENDING).values_list(
            "pk", flat=True
        )
    )
    Message.objects.filter(pk__in=ids).update(next_attempt_at=None)
    audit_log(
        space=access.space,
        actor=access.user,
        action="webhook.enable",
        obj=endpoint,
        label=endpoint.url,
    )
    transaction.on_commit(lambda: kick(ids))
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def message_replay(*, access: Access, message: Message) -> Message:
    """Send a message again now (same ``webhook-id``, freshly signed). A message being sent
    right now is left alone."""
    access.require(Perm.MANAGE_SETTINGS)
    Message.objects.filter(pk=message.pk).exclude(status=Message.Status.SENDING).update(
        status=Message.Status.PENDING, next_attempt_at=None
    )
    audit_log(
        space=access.space,
        actor=access.user,
        action="webhook.replay",
        obj=message.endpoint,
        label=f"{message.type} {message.event_id}",
    )
    transaction.on_commit(lambda: kick([message.pk]))
    return message


@transaction.atomic
def endpoint_test(*, access: Access, endpoint: Endpoint) -> Message:
    access.require(Perm.MANAGE_SETTINGS)
    return test_event(endpoint)
