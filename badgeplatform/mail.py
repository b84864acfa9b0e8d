"""Emails: render three templates, store the result, send from a worker after commit.

Sending (claim, render what was queued unrendered, send, back off, drain) is in
``badgeplatform.outbox``, which the tasks call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from badgeplatform.models import OutboundEmail
from badgeplatform.outbox import has_renderer

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


# What emails/base.html needs to frame an email sent for a space (its logo and colours). The
# space's look belongs to branding, above this module: branding registers the frame from its
# AppConfig.ready(), so the ground imports no app.
Frame = Callable[["Space"], dict[str, Any]]
_frame: Frame | None = None


def register_frame(frame: Frame) -> None:
    global _frame
    _frame = frame


# A space's authored emails (its welcome email…) are rendered by branding too; apps below it
# (users) render them through render_space_email, which branding fills from AppConfig.ready().
SpaceEmail = Callable[..., tuple[str, str, str]]
_space_email: SpaceEmail | None = None


def register_space_email(render: SpaceEmail) -> None:
    global _space_email
    _space_email = render


# For a batch: ``prepare_space_email(space, kind).render(values, notes)`` renders many
# recipients' emails with the space's branding, plan, authored content and templates read once
# (branding.emails.prepared_space_email, registered from branding's AppConfig.ready()).
_prepare_space_email: Callable[..., Any] | None = None


def register_space_email_preparer(prepare: Callable[..., Any]) -> None:
    global _prepare_space_email
    _prepare_space_email = prepare


def prepare_space_email(space: Space, kind: str) -> Any:
    if _prepare_space_email is None:
        raise RuntimeError("No app renders a space's emails: branding registers it at start-up")
    return _prepare_space_email(space, kind)


def render_space_email(
    *, space: Space, kind: str, values: Mapping[str, str], notes: Sequence[str] = ()
) -> tuple[str, str, str]:
    """(subject, text, html) of the space's email of ``kind``: see
    ``branding.emails.render_space_email`` for the kinds and their values."""
    if _space_email is None:
        raise RuntimeError("No app renders a space's emails: branding registers it at start-up")
    return _space_email(space=space, kind=kind, values=values, notes=notes)


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
    if space is not None and _frame is not None:
        # Emails sent for a space wear its logo and colours (emails/base.html reads these).
        context = {**_frame(space), **context}
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


def _left_to_runner() -> bool:
    """With no broker (eager tasks) and the embedded runner serving, a request only queues:
    the runner's drain sends the rows, woken at once. Without the runner (management commands,
    the test suite) eager tasks send in the calling process as before."""
    from celery import current_app

    from badgeplatform import runner

    if current_app.conf.task_always_eager and runner.running():
        runner.wake()
        return True
    return False


def enqueue_delivery(email_id: int) -> None:
    """Hand the email to the broker; if the broker is unreachable, the drain sends it later."""
    from badgeplatform.tasks import deliver_email

    if _left_to_runner():
        return
    try:
        deliver_email.delay(email_id)
    except Exception:  # any broker/connection error: the row stays pending for the drain
        log.warning(
            "Broker unavailable; email %s left for the outbox drain", email_id, exc_info=True
        )


def queue_bulk(rows: list[OutboundEmail]) -> list[OutboundEmail]:
    """Store many emails in one INSERT and hand them to one task after commit.

    Rows may be unrendered (``kind`` + ``context``): the renderer registered for the kind fills
    them in at send time. Rows whose ``dedupe_key`` already exists are skipped.
    """
    for row in rows:
        if not row.subject and not has_renderer(row.kind):
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
    """One task per chunk of OUTBOX_CHUNK emails, so every worker process takes a share of a
    big batch (and other tasks, such as signing, never wait behind one long task)."""
    from badgeplatform.outbox import chunk_size
    from badgeplatform.tasks import deliver_emails

    if _left_to_runner():
        return
    size = chunk_size()
    for start in range(0, len(email_ids), size):
        try:
            deliver_emails.delay(email_ids[start : start + size])
        except Exception:  # the rows stay pending for the drain
            log.warning(
                "Broker unavailable; %d emails left for the outbox drain",
                len(email_ids) - start,
                exc_info=True,
            )
            return
