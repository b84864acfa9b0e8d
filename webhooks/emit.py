"""Queueing events: one Message per (event, subscribed endpoint), written in the transaction of
the change that caused it (so an event exists exactly when its change committed), delivery
started after commit. Bulk: a constant number of queries whatever the number of objects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from badges.models import Award
from orgs.models import Space
from webhooks.delivery import kick
from webhooks.models import Cursor, Endpoint, Message
from webhooks.payloads import award_objects, badge_objects


def subscribed(space_id: int, type: str) -> list[Endpoint]:  # noqa: A002
    """The space's active endpoints listening to ``type`` (one query; filtered in Python so
    SQLite and PostgreSQL read the JSON list alike)."""
    return [
        e
        for e in Endpoint.objects.filter(space_id=space_id, active=True).only("pk", "events")
        if type in e.events
    ]


def body(type: str, data: dict, at=None) -> str:  # noqa: A002
    return json.dumps(
        {
            "type": type,
            "timestamp": (at or timezone.now()).astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
        cls=NinjaJSONEncoder,  # as the API encodes the same objects (dates, UUIDs)
    )


def data_for(space_id: int, type: str, objects: Sequence[Any]) -> list[dict]:  # noqa: A002
    if type.startswith("award."):
        return award_objects(space_id, objects)
    return badge_objects(objects)


def emit(space: Space, type: str, objects: Sequence[Any]) -> int:  # noqa: A002
    """Queue ``type`` for every object to every subscribed endpoint: 1 query when no endpoint
    listens, else 1 (endpoints) + the payload's (1 for awards) + 1 INSERT."""
    endpoints = subscribed(space.pk, type)
    if not endpoints:
        return 0
    now = timezone.now()
    datas = data_for(space.pk, type, objects)
    rows = []
    for data in datas:
        event_id = f"msg_{uuid.uuid4().hex}"
        payload = body(type, data, now)
        rows += [
            Message(endpoint=e, event_id=event_id, type=type, body=payload, created_at=now)
            for e in endpoints
        ]
    Message.objects.bulk_create(rows)
    ids = [m.pk for m in rows if m.pk is not None]
    transaction.on_commit(lambda: kick(ids))
    return len(rows)


def test_event(endpoint: Endpoint) -> Message:
    """A ``webhook.test`` message for one endpoint, whatever it subscribed to."""
    now = timezone.now()
    message = Message.objects.create(
        endpoint=endpoint,
        event_id=f"msg_{uuid.uuid4().hex}",
        type="webhook.test",
        body=body("webhook.test", {"EndpointId": str(endpoint.public_id), "Test": True}, now),
        created_at=now,
    )
    transaction.on_commit(lambda: kick([message.pk]))
    return message


EXPIRY_LOOKBACK = timedelta(days=1)


def emit_expired(now=None) -> int:
    """``award.expired`` for each award whose expiry passed since the last run, per space with a
    subscribed endpoint. Idempotent: the space's cursor moves in the same transaction, so a
    second run (or two overlapping ones: the cursor row is locked) announces nothing twice."""
    now = now or timezone.now()
    spaces = {
        e.space_id
        for e in Endpoint.objects.filter(active=True).only("space_id", "events")
        if "award.expired" in e.events
    }
    sent = 0
    for space_id in sorted(spaces):
        with transaction.atomic():
            cursor, made = Cursor.objects.select_for_update().get_or_create(
                space_id=space_id, kind="award.expired", defaults={"until": now - EXPIRY_LOOKBACK}
            )
            if made:
                cursor = Cursor.objects.select_for_update().get(pk=cursor.pk)
            awards = list(
                Award.objects.filter(
                    space_id=space_id,
                    expires_at__gt=cursor.until,
                    expires_at__lte=now,
                    revoked_at__isnull=True,
                )
                .select_related("badge", "recipient")
                .order_by("expires_at", "pk")
            )
            if awards:
                sent += emit(Space(pk=space_id), "award.expired", awards)
            cursor.until = now
            cursor.save(update_fields=["until"])
    return sent
