"""Emails: render three templates, store the result, send from a worker after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from badgeplatform.models import OutboundEmail

if TYPE_CHECKING:
    from orgs.models import Space

log = logging.getLogger(__name__)


class ConsoleAndFileBackend(BaseEmailBackend):
    """The embedded default: print each email and keep a copy in the file outbox."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        settings.EMAIL_FILE_PATH.mkdir(parents=True, exist_ok=True)
        self.console = ConsoleBackend(**kwargs)
        self.file = FileBackend(file_path=str(settings.EMAIL_FILE_PATH), **kwargs)

    def send_messages(self, email_messages):
        self.console.send_messages(email_messages)
        return self.file.send_messages(email_messages)


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML from ``emails/<template>_subject.txt``, ``.txt`` and ``.html``."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{template}_subject.txt", context)
    # A subject is one line: template whitespace and any CR/LF must not reach the header.
    subject = " ".join(subject.split())
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return subject, text, html


def queue_email(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    space: Space | None = None,
    dedupe_key: str | None = None,
) -> OutboundEmail | None:
    if space is not None:
        # Emails sent for a space wear its logo and colours (emails/base.html reads these).
        from branding.emails import frame_context

        context = {**frame_context(space), **context}
    subject, text, html = render_email(template, context)
    return queue_rendered_email(
        to=to,
        subject=subject,
        text=text,
        html=html,
        kind=template,
        space=space,
        dedupe_key=dedupe_key,
    )


def queue_rendered_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    kind: str,
    space: Space | None = None,
    dedupe_key: str | None = None,
) -> OutboundEmail | None:
    """Store the email and ask a worker to send it once the transaction commits.

    Returns None when ``dedupe_key`` says this email was already queued.
    """
    if "\r" in subject or "\n" in subject:
        raise ValueError("An email subject must be a single line")
    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                to=to,
                subject=subject[:300],
                body_text=text,
                body_html=html,
                kind=kind,
                space=space,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if dedupe_key and OutboundEmail.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    transaction.on_commit(lambda: enqueue_delivery(email.pk))
    return email


def enqueue_delivery(email_id: int) -> None:
    """Hand the email to the broker; if the broker is unreachable, the drain sends it later."""
    from badgeplatform.tasks import deliver_email

    try:
        deliver_email.delay(email_id)
    except Exception:  # any broker/connection error: the row stays pending for the drain
        log.warning(
            "Broker unavailable; email %s left for the outbox drain", email_id, exc_info=True
        )


# kind → renderer(email) returning (subject, text, html) for rows queued unrendered.
Renderer = Callable[[OutboundEmail], tuple[str, str, str]]
_RENDERERS: dict[str, Renderer] = {}


def register_renderer(kind: str, renderer: Renderer) -> None:
    _RENDERERS[kind] = renderer


def queue_bulk(rows: list[OutboundEmail]) -> list[OutboundEmail]:
    """Store many emails in one INSERT and hand them to one task after commit.

    Rows may be unrendered (``kind`` + ``context``): the renderer registered for the kind fills
    them in at send time. Rows whose ``dedupe_key`` already exists are skipped.
    """
    for row in rows:
        if not row.subject and row.kind not in _RENDERERS:
            raise ValueError(f"No renderer registered for unrendered emails of kind {row.kind!r}")
    keys = [r.dedupe_key for r in rows if r.dedupe_key]
    if keys:
        taken = set(
            OutboundEmail.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        rows = [r for r in rows if r.dedupe_key not in taken]
    if not rows:
        return []
    from badgeplatform.bulk import insert_many

    created = insert_many(rows)
    ids = [r.pk for r in created]
    transaction.on_commit(lambda: enqueue_many(ids))
    return created


def enqueue_many(email_ids: list[int]) -> None:
    from badgeplatform.tasks import deliver_emails

    try:
        deliver_emails.delay(email_ids)
    except Exception:  # the rows stay pending for the drain
        log.warning(
            "Broker unavailable; %d emails left for the outbox drain", len(email_ids), exc_info=True
        )


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
