"""Sending messages: claim, sign (Standard Webhooks), POST through the SSRF guard, log the
attempt, and schedule the next one with growing back-off.

A message is claimed with a conditional UPDATE (pending → sending) of a row whose endpoint is
still active, so two workers never send the same attempt and a deleted endpoint (its messages
go with it) or a disabled one is sent nothing more, pending retries included.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from badgeplatform import runner
from badgeplatform.audit import audit_log
from badgeplatform.mail import queue_email
from webhooks import net
from webhooks.models import Attempt, Endpoint, Message
from webhooks.secrets import unseal

log = logging.getLogger(__name__)

# After the n-th failed attempt the next one waits BACKOFF[n-1] (Standard Webhooks' schedule):
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over 27 h 35 min.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# An endpoint failing without a single success for this long is disabled.
DISABLE_AFTER = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=10)


def kick(message_ids: list[int]) -> None:
    """Start delivering just-committed messages: a Celery task, or with no broker a nudge to
    the embedded runner (never the request itself: a slow receiver must not slow the page).
    Without either (tests, commands) they wait for ``drain``."""
    if not message_ids:
        return
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        if runner.running():
            runner.wake()
        return
    from celery import current_app

    try:  # by name: webhooks.tasks imports this module
        current_app.send_task("webhooks.tasks.deliver_messages", args=[message_ids])
    except Exception:  # broker down: the beat's drain sends them
        log.warning("Could not queue %d webhook message(s); the drain will", len(message_ids))


def secrets_for(endpoint: Endpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its rotation window lasts."""
    key = str(endpoint.public_id)
    out = [unseal(endpoint.secret_encrypted, key)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        out.append(unseal(endpoint.previous_secret_encrypted, key))
    return out


def signed_headers(endpoint: Endpoint, message: Message, now: datetime) -> dict[str, str]:
    body = message.body.encode()
    signatures = [
        Webhook(secret).sign(msg_id=message.event_id, timestamp=now, data=body)
        for secret in secrets_for(endpoint, now)
    ]
    return {
        "webhook-id": message.event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _excerpt(data: bytes) -> str:
    return data[:300].decode("utf-8", "replace")


def deliver(message_id: int, *, replay: bool = False) -> bool | None:
    """One attempt of one message. True delivered, False failed (retry scheduled or given up),
    None when it was not ours to send (already claimed, delivered, endpoint gone or off)."""
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status=Message.Status.PENDING, endpoint__active=True
    ).update(status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    message = Message.objects.select_related("endpoint").filter(pk=message_id).first()
    if message is None:  # the endpoint was deleted meanwhile
        return None
    endpoint = message.endpoint
    try:
        headers = signed_headers(endpoint, message, now)
        answer = net.post(endpoint.url, message.body.encode(), headers)
    except net.RefusedUrl as exc:
        answer = net.Answer(None, b"", 0, f"Refused: {exc}"[:500])
    ok = answer.status is not None and 200 <= answer.status < 300
    Attempt.objects.create(
        message=message,
        at=now,
        status_code=answer.status,
        duration_ms=answer.duration_ms,
        response_excerpt=_excerpt(answer.body),
        error=answer.error,
        ok=ok,
        replay=replay,
    )
    if ok:
        Message.objects.filter(pk=message_id).update(
            status=Message.Status.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None
        )
        Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
            failing_since=None
        )
        return True
    attempts = message.attempts
    give_up = attempts >= MAX_ATTEMPTS
    Message.objects.filter(pk=message_id).update(
        status=Message.Status.FAILED if give_up else Message.Status.PENDING,
        next_attempt_at=None if give_up else now + BACKOFF[attempts - 1],
    )
    _failed(endpoint, now)
    return False


def _failed(endpoint: Endpoint, now: datetime) -> None:
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    since = Endpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
    if since is not None and now - since >= DISABLE_AFTER:
        endpoint_disable(endpoint, since=since, now=now)


def _admins(space_id: int) -> list:
    from badgeplatform.permissions import SPACE_ADMINISTRATOR
    from users.models import Membership  # users sits below; imported here to keep start-up light

    return list(
        {
            m.user.email: m.user
            for m in Membership.objects.filter(
                space_id=space_id,
                organisation__parent__isnull=True,
                role__name=SPACE_ADMINISTRATOR,
                role__is_default=True,
            ).select_related("user")
        }.values()
    )


def endpoint_disable(endpoint: Endpoint, *, since: datetime, now: datetime) -> bool:
    """Turn off an endpoint that has failed for DISABLE_AFTER, once: the conditional UPDATE lets
    one caller through, who writes the audit entry and emails the space's administrators."""
    with transaction.atomic():
        reason = f"Every delivery failed since {since:%Y-%m-%d %H:%M} UTC."
        done = Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_at=now, disabled_reason=reason
        )
        if not done:
            return False
        endpoint = Endpoint.objects.select_related("space").get(pk=endpoint.pk)
        audit_log(
            space=endpoint.space,
            actor=None,
            action="webhook.disable",
            obj=endpoint,
            label=endpoint.url,
            changes={"reason": reason},
        )
        for admin in _admins(endpoint.space_id):
            queue_email(
                to=admin.email,
                template="webhook_disabled",
                context={"user": admin, "space": endpoint.space, "endpoint": endpoint},
                space=endpoint.space,
                dedupe_key=f"webhook-disabled:{endpoint.public_id}:{now.timestamp()}:{admin.pk}",
            )
    return True


def deliver_many(message_ids: list[int]) -> int:
    """Deliver in order; once an endpoint fails, its other messages wait for the drain rather
    than each spending a time-out on it now (one dead receiver must not hold the queue)."""
    if not message_ids:
        return 0
    endpoint_of = dict(Message.objects.filter(pk__in=message_ids).values_list("pk", "endpoint_id"))
    failed: set[int] = set()
    sent = 0
    for pk in message_ids:
        endpoint_id = endpoint_of.get(pk)
        if endpoint_id is None or endpoint_id in failed:
            continue
        result = deliver(pk)
        if result:
            sent += 1
        elif result is False:
            failed.add(endpoint_id)
    return sent


# Delivered and given-up messages are kept this long for the log, then purged.
KEEP = timedelta(days=30)


def purge(now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - KEEP
    deleted, _ = Message.objects.filter(
        status__in=(Message.Status.DELIVERED, Message.Status.FAILED), created_at__lt=cutoff
    ).delete()
    return deleted


def drain(limit: int = 200) -> int:
    """Deliver what is due: new messages and retries whose time has come (and claims a dead
    worker left behind). Run by the beat every 5 s, and by the embedded runner."""
    now = timezone.now()
    Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Message.Status.PENDING
    )
    ids = list(
        Message.objects.filter(status=Message.Status.PENDING, endpoint__active=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return deliver_many(ids)
