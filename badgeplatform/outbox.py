"""The outbox's sending side: claim a stored email, render it if it was queued unrendered, send.

``badgeplatform.mail`` stores emails and queues their delivery; the tasks of
``badgeplatform.tasks`` and the drain call this module. It imports neither, so the queueing
side, the tasks and the sender form a line, not a circle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings

from badgeplatform.models import OutboundEmail

log = logging.getLogger(__name__)

# kind → renderer(email) returning (subject, text, html) for rows queued unrendered.
Renderer = Callable[[OutboundEmail], tuple[str, str, str]]
_RENDERERS: dict[str, Renderer] = {}


def register_renderer(kind: str, renderer: Renderer) -> None:
    _RENDERERS[kind] = renderer


def has_renderer(kind: str) -> bool:
    return kind in _RENDERERS


def _render_if_needed(email: OutboundEmail) -> OutboundEmail:
    if email.subject:
        return email
    subject, text, html = _RENDERERS[email.kind](email)
    subject = " ".join(subject.split())[:300]
    OutboundEmail.objects.filter(pk=email.pk).update(
        subject=subject, body_text=text, body_html=html
    )
    email.subject, email.body_text, email.body_html = subject, text, html
    return email


class DeliveryFailed(Exception):
    pass


def deliver(email_id: int) -> bool:
    """Claim, send and mark one email. True if this call sent it.

    The claim is a conditional UPDATE (pending → sending), so of two workers racing for the
    same row exactly one proceeds and the email is sent once.
    """
    from django.core.mail import EmailMultiAlternatives
    from django.db.models import F
    from django.utils import timezone

    now = timezone.now()
    claimed = OutboundEmail.objects.filter(pk=email_id, status=OutboundEmail.Status.PENDING).update(
        status=OutboundEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        email = _render_if_needed(email)
        message = EmailMultiAlternatives(email.subject, email.body_text, to=[email.to])
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        message.send()
    except Exception as exc:
        give_up = email.attempts >= MAX_ATTEMPTS
        OutboundEmail.objects.filter(pk=email_id).update(
            status=OutboundEmail.Status.FAILED if give_up else OutboundEmail.Status.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=now + backoff(email.attempts),
        )
        raise DeliveryFailed(str(exc)) from exc
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


MAX_ATTEMPTS = 8
# A claim older than this belongs to a worker that died mid-send; the drain releases it.
# (Defaults; settings.OUTBOX_STALE_CLAIM_SECONDS / OUTBOX_DRAIN_GRACE_SECONDS override them.)
STALE_CLAIM_SECONDS = 600
# Rows younger than this are left to the task queued at commit time.
DRAIN_GRACE_SECONDS = 30


def backoff(attempts: int):
    from datetime import timedelta

    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def drain_outbox(limit: int = 500) -> int:
    """Send what the queue lost: pending rows past their grace period, and stale claims."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    now = timezone.now()
    stale = getattr(settings, "OUTBOX_STALE_CLAIM_SECONDS", STALE_CLAIM_SECONDS)
    grace = getattr(settings, "OUTBOX_DRAIN_GRACE_SECONDS", DRAIN_GRACE_SECONDS)
    OutboundEmail.objects.filter(
        status=OutboundEmail.Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=stale),
    ).update(status=OutboundEmail.Status.PENDING)
    ids = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.PENDING,
            created_at__lt=now - timedelta(seconds=grace),
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for email_id in ids:
        try:
            sent += deliver(email_id)
        except DeliveryFailed:
            log.warning("Email %s failed again; will retry", email_id)
    return sent
