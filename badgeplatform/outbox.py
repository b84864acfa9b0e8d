"""The outbox's sending side: claim stored emails, render those queued unrendered, send.

``badgeplatform.mail`` stores emails and queues their delivery; the tasks of
``badgeplatform.tasks`` and the drain call this module. It imports neither, so the queueing
side, the tasks and the sender form a line, not a circle.

Two ways out, with the same guarantees:

- ``deliver(id)``: one email (``queue_email`` of a single change), claimed with a conditional
  UPDATE, sent, marked.
- ``deliver_chunk(ids)`` (issuing's bulk emails, and the drain): a chunk of emails claimed with
  **one** ``UPDATE … RETURNING`` (pending → sending; of two workers racing for the same rows
  each row goes to exactly one), rendered together by the kind's batch renderer (the space's
  branding, plan and templates read once per chunk, the awards and people in one query), sent
  over **one** SMTP connection, and each marked sent as soon as the server took it.
  Failures go back to pending with backoff, each on its own.

The at-least-once point: a worker killed after the SMTP server took a message but before its
row was marked "sent" leaves the claim, which the drain releases after
``OUTBOX_STALE_CLAIM_SECONDS``, and the message goes again. Both ways mark each message at once,
so that window is one UPDATE. In a chunk the marks commit without waiting for the disk
(``synchronous_commit = off`` on PostgreSQL, ``synchronous = NORMAL`` on SQLite, for the
marks only): that makes a mark cheaper than one UPDATE per 20 messages waiting for the disk
was (0.30 against 0.51 ms per email, measured), and what it risks is only a mark lost when
the database server itself crashes (its last ~0.6 s), whose email then goes again — never an
email lost. ``OUTBOX_MARK_EVERY`` > 1 batches the marks instead (at most that many sent twice
per killed worker, flushed at least every ``MARK_SECONDS``). Nothing is ever lost: a row
leaves "sending" only by being marked sent, by failing back to pending, or by the drain's
release.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import connection as db_connection

from badgeplatform.models import OutboundEmail

log = logging.getLogger(__name__)

# kind → renderer(email) returning (subject, text, html) for rows queued unrendered.
Renderer = Callable[[OutboundEmail], tuple[str, str, str]]
_RENDERERS: dict[str, Renderer] = {}
# kind → renderer(emails) returning {email pk: (subject, text, html)} for a whole chunk; an
# email it leaves out (its award is gone…) is rendered alone by the kind's Renderer, so one
# bad row fails alone.
BatchRenderer = Callable[[Sequence[OutboundEmail]], dict[int, tuple[str, str, str]]]
_BATCH_RENDERERS: dict[str, BatchRenderer] = {}


def register_renderer(kind: str, renderer: Renderer, batch: BatchRenderer | None = None) -> None:
    _RENDERERS[kind] = renderer
    if batch is not None:
        _BATCH_RENDERERS[kind] = batch


def has_renderer(kind: str) -> bool:
    return kind in _RENDERERS


def _clean_subject(subject: str) -> str:
    return " ".join(subject.split())[:300]


def _render_if_needed(email: OutboundEmail) -> OutboundEmail:
    if email.subject:
        return email
    subject, text, html = _RENDERERS[email.kind](email)
    subject = _clean_subject(subject)
    OutboundEmail.objects.filter(pk=email.pk).update(
        subject=subject, body_text=text, body_html=html
    )
    email.subject, email.body_text, email.body_html = subject, text, html
    return email


class DeliveryFailed(Exception):
    pass


def message_id(email: OutboundEmail) -> str:
    """The row's own Message-ID: the same on every attempt, so a copy sent again after a
    worker died between sending and marking is recognisable as the same message (mail clients
    and archives fold them; the benchmark counts by it)."""
    from django.core.mail.utils import DNS_NAME

    return f"<{email.public_id}@{DNS_NAME}>"


def _message(email: OutboundEmail, connection=None):
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(
        email.subject,
        email.body_text,
        to=[email.to],
        connection=connection,
        headers={"Message-ID": message_id(email)},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


class RawSMTP:
    """Django's SMTP backend given pre-built bytes: the chunk's fast path.

    ``EmailMultiAlternatives.message()`` builds each message through the ``email`` package
    (about a millisecond per message, more than the SMTP exchange itself); the outbox's
    messages all have one shape (text, optional HTML, one recipient), so they are written
    directly: the same headers Django writes, both parts base64-encoded UTF-8 (7-bit clean for
    any server), the addresses through Django's own ``sanitize_address``.
    """

    def __init__(self, backend):
        from django.core.mail.message import sanitize_address

        self.backend = backend
        self.charset = settings.DEFAULT_CHARSET
        self.sanitize = sanitize_address
        self.sender = sanitize_address(settings.DEFAULT_FROM_EMAIL, self.charset)
        self.from_header = _header_value(settings.DEFAULT_FROM_EMAIL, address=True)

    @staticmethod
    def usable(backend) -> bool:
        from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

        return type(backend) is SMTPBackend

    def send(self, email: OutboundEmail) -> None:
        to = self.sanitize(email.to, self.charset)
        self.backend.connection.sendmail(self.sender, [to], self.build(email, to))

    def build(self, email: OutboundEmail, to: str) -> bytes:
        import secrets
        from email.utils import formatdate

        head = (
            f"From: {self.from_header}\r\n"
            f"To: {to}\r\n"
            f"Subject: {_header_value(email.subject)}\r\n"
            f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n"
            f"Message-ID: {message_id(email)}\r\n"
            "MIME-Version: 1.0\r\n"
        )
        text = _part("text/plain", email.body_text)
        if not email.body_html:
            return (head + text).encode("ascii")
        boundary = "===============" + secrets.token_hex(12) + "=="
        return (
            f'{head}Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\n{text}\r\n--{boundary}\r\n{_part('text/html', email.body_html)}"
            f"\r\n--{boundary}--\r\n"
        ).encode("ascii")


def _header_value(value: str, address: bool = False) -> str:
    """A header's value, RFC 2047-encoded (and folded) unless short plain ASCII."""
    if address:
        from django.core.mail.message import sanitize_address

        return sanitize_address(value, settings.DEFAULT_CHARSET)
    if value.isascii() and len(value) < 70:
        return value
    # RFC 2047 encoded words of at most 45 bytes of UTF-8 (75 characters each), never splitting
    # a character, folded onto continuation lines. (email.header.Header picks the shorter of
    # base64 and quoted-printable by measuring both per character: slower than the send.)
    import base64

    words, chunk, size = [], [], 0
    for char in value:
        n = len(char.encode("utf-8"))
        if size + n > 45:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += n
    words.append("".join(chunk))
    return "\r\n ".join(
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    )


def _part(content_type: str, body: str) -> str:
    import base64

    encoded = base64.encodebytes(body.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        "MIME-Version: 1.0\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{encoded}"
    )


def deliver(email_id: int) -> bool:
    """Claim, send and mark one email. True if this call sent it.

    The claim is a conditional UPDATE (pending → sending), so of two workers racing for the
    same row exactly one proceeds and the email is sent once.
    """
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
        _message(email).send()
    except Exception as exc:
        _failed(email, exc, now)
        raise DeliveryFailed(str(exc)) from exc
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _failed(email: OutboundEmail, exc: BaseException, now) -> None:
    give_up = email.attempts >= MAX_ATTEMPTS
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.FAILED if give_up else OutboundEmail.Status.PENDING,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        next_attempt_at=now + backoff(email.attempts),
    )


MAX_ATTEMPTS = 8
# A claim older than this belongs to a worker that died mid-send; the drain releases it.
# (Defaults; settings.OUTBOX_STALE_CLAIM_SECONDS / OUTBOX_DRAIN_GRACE_SECONDS override them.)
STALE_CLAIM_SECONDS = 600
# Rows younger than this are left to the task queued at commit time.
DRAIN_GRACE_SECONDS = 30
# Emails per task / per claim (settings.OUTBOX_CHUNK), and how many sent messages are marked
# in one UPDATE (settings.OUTBOX_MARK_EVERY: the most a killed worker can send twice).
CHUNK = 100
MARK_EVERY = 1
# … and at least this often (s), so a slow SMTP server does not widen the window.
MARK_SECONDS = 0.2

_COLUMNS = (
    "id",
    "public_id",
    "space_id",
    "to",
    "subject",
    "body_text",
    "body_html",
    "kind",
    "context",
    "attempts",
    "status",
    "claimed_at",
)


def chunk_size() -> int:
    return max(1, int(getattr(settings, "OUTBOX_CHUNK", CHUNK)))


def _claim_sql(where: str) -> str:
    table = OutboundEmail._meta.db_table
    quote = db_connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _COLUMNS)
    # Identifiers are this module's constants; every value is a parameter.
    return (
        f"UPDATE {quote(table)} SET {quote('status')} = %s, {quote('claimed_at')} = %s, "  # noqa: S608
        f"{quote('attempts')} = {quote('attempts')} + 1 WHERE {where} RETURNING {columns}"
    )


def claim(email_ids: Sequence[int]) -> list[OutboundEmail]:
    """Pending → sending for those of ``email_ids`` still pending, in one statement; the rows
    this call won. A row claimed by a concurrent call is not returned here (PostgreSQL
    re-checks ``status`` after the other transaction commits)."""
    from django.utils import timezone

    ids = list(dict.fromkeys(int(i) for i in email_ids))
    if not ids:
        return []
    marks = ", ".join(["%s"] * len(ids))
    sql = _claim_sql(f'"id" IN ({marks}) AND "status" = %s')
    params = [OutboundEmail.Status.SENDING, timezone.now(), *ids, OutboundEmail.Status.PENDING]
    return _run_claim(sql, params)


def claim_due(limit: int, grace_seconds: float) -> list[OutboundEmail]:
    """The drain's claim: up to ``limit`` pending rows past their grace period and backoff,
    oldest first. On PostgreSQL rows locked by a concurrent drain are skipped, not waited for."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    table = db_connection.ops.quote_name(OutboundEmail._meta.db_table)
    skip_locked = db_connection.features.has_select_for_update_skip_locked
    lock = " FOR UPDATE SKIP LOCKED" if skip_locked else ""
    sub = (
        f'SELECT "id" FROM {table} WHERE "status" = %s AND "created_at" < %s '  # noqa: S608
        f'AND ("next_attempt_at" IS NULL OR "next_attempt_at" <= %s) '
        f'ORDER BY "created_at" LIMIT %s{lock}'
    )
    sql = _claim_sql(f'"id" IN ({sub}) AND "status" = %s')
    params = [
        OutboundEmail.Status.SENDING,
        now,
        OutboundEmail.Status.PENDING,
        now - timedelta(seconds=grace_seconds),
        now,
        int(limit),
        OutboundEmail.Status.PENDING,
    ]
    return _run_claim(sql, params)


def _run_claim(sql: str, params: list) -> list[OutboundEmail]:
    # A raw queryset maps the RETURNING columns onto model instances (the JSON context
    # decoded by the field, as a SELECT would). Autocommit: the claim is durable at once.
    return list(OutboundEmail.objects.raw(sql, params))


def _render_chunk(emails: Sequence[OutboundEmail]) -> dict[int, Exception]:
    """Fill in subject and bodies of the unrendered rows (in memory); the rows that failed."""
    errors: dict[int, Exception] = {}
    by_kind: dict[str, list[OutboundEmail]] = {}
    for email in emails:
        if not email.subject:
            by_kind.setdefault(email.kind, []).append(email)
    for kind, rows in by_kind.items():
        done: dict[int, tuple[str, str, str]] = {}
        batch = _BATCH_RENDERERS.get(kind)
        if batch is not None:
            try:
                done = batch(rows)
            except Exception:
                log.warning("Batch renderer for %s failed; one by one", kind, exc_info=True)
                done = {}
        for email in rows:
            try:
                subject, text, html = done.get(email.pk) or _RENDERERS[kind](email)
            except Exception as exc:
                errors[email.pk] = exc
                continue
            email.subject, email.body_text, email.body_html = _clean_subject(subject), text, html
    return errors


def deliver_chunk(email_ids: Sequence[int]) -> int:
    """Claim, render, send over one connection and mark a chunk of emails; how many this call
    sent. Rows already claimed or sent elsewhere are skipped."""
    return send_claimed(claim(email_ids))


def send_claimed(emails: Sequence[OutboundEmail]) -> int:
    """Send rows this process has claimed (status "sending"); see the module's docstring."""
    from django.core.mail import get_connection
    from django.utils import timezone

    if not emails:
        return 0
    now = timezone.now()
    errors: dict[int, Exception] = _render_chunk(emails)
    mark_every = max(1, int(getattr(settings, "OUTBOX_MARK_EVERY", MARK_EVERY)))
    connection = get_connection()
    sent: list[int] = []
    total = 0

    flushed = [time.monotonic()]

    def flush() -> None:
        nonlocal total
        if sent:
            _mark_sent(sent)
            total += len(sent)
            sent.clear()
        flushed[0] = time.monotonic()

    raw = RawSMTP(connection) if RawSMTP.usable(connection) else None
    opened = _open(connection)
    relaxed = _relaxed_commits()
    try:
        for email in emails:
            if email.pk in errors:
                continue
            if isinstance(opened, Exception):
                errors[email.pk] = opened
                continue
            try:
                if raw is not None:
                    raw.send(email)
                elif not connection.send_messages([_message(email, connection)]):
                    raise DeliveryFailed("the mail backend did not accept the message")
            except Exception as exc:
                errors[email.pk] = exc
                # The connection may be broken: start a new one for the rest of the chunk.
                _close(connection)
                opened = _open(connection)
                continue
            sent.append(email.pk)
            if len(sent) >= mark_every or time.monotonic() - flushed[0] >= MARK_SECONDS:
                flush()
    finally:
        flush()
        _restore_commits(relaxed)
        _close(connection)
    for email in emails:
        if email.pk in errors:
            exc = errors[email.pk]
            log.warning("Email %s not sent (%s); will retry", email.pk, exc)
            _failed(email, exc, now)
    return total


def _mark_sent(email_ids: Sequence[int]) -> None:
    """Mark rows sent: one plain UPDATE (Django compiling ``.update()`` cost as much as
    running it, and this runs once per email)."""
    from django.utils import timezone

    table = db_connection.ops.quote_name(OutboundEmail._meta.db_table)
    marks = ", ".join(["%s"] * len(email_ids))  # placeholders only: the ids are parameters
    sql = f"UPDATE {table} SET status = %s, sent_at = %s, last_error = '' WHERE id IN ({marks})"  # noqa: S608
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [OutboundEmail.Status.SENT, timezone.now(), *email_ids])


def _relaxed_commits() -> str | None:
    """Let this connection's commits (a chunk's marks) return before they reach the disk; the
    setting to restore, None when nothing changed (inside a transaction, as eager tasks in
    tests run, the marks commit with it anyway)."""
    if not db_connection.get_autocommit():
        return None
    with db_connection.cursor() as cursor:
        if db_connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO off")
            return "postgresql"
        if db_connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous")
            before = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous = NORMAL")  # WAL: durable unless the OS crashes
            return f"sqlite:{int(before)}"
    return None


def _restore_commits(relaxed: str | None) -> None:
    if relaxed is None:
        return
    try:
        with db_connection.cursor() as cursor:
            if relaxed == "postgresql":
                cursor.execute("RESET synchronous_commit")
            else:
                cursor.execute(f"PRAGMA synchronous = {int(relaxed.split(':')[1])}")
    except Exception:  # a broken connection is closed by Django; nothing to restore
        log.debug("restoring commit durability failed", exc_info=True)


def _open(connection):
    try:
        connection.open()
    except Exception as exc:
        return exc
    return None


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:  # a broken connection is dropped either way
        log.debug("closing the mail connection failed", exc_info=True)


def backoff(attempts: int):
    from datetime import timedelta

    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def release_stale_claims() -> int:
    """Claims older than OUTBOX_STALE_CLAIM_SECONDS belong to dead workers: back to pending."""
    from datetime import timedelta

    from django.utils import timezone

    stale = getattr(settings, "OUTBOX_STALE_CLAIM_SECONDS", STALE_CLAIM_SECONDS)
    return OutboundEmail.objects.filter(
        status=OutboundEmail.Status.SENDING,
        claimed_at__lt=timezone.now() - timedelta(seconds=stale),
    ).update(status=OutboundEmail.Status.PENDING)


def drain_outbox(limit: int = 5000, grace_seconds: float | None = None) -> int:
    """Send what the queue lost: pending rows past their grace period (and their backoff),
    and stale claims; chunk by chunk, each claimed in one statement, up to ``limit`` rows.

    ``grace_seconds`` defaults to OUTBOX_DRAIN_GRACE_SECONDS; the embedded runner passes 0,
    since with no broker no task was queued for the rows (the drain is their only sender).
    """
    if grace_seconds is None:
        grace_seconds = getattr(settings, "OUTBOX_DRAIN_GRACE_SECONDS", DRAIN_GRACE_SECONDS)
    release_stale_claims()
    sent = 0
    left = limit
    size = chunk_size()
    while left > 0:
        rows = claim_due(min(size, left), grace_seconds)
        if not rows:
            break
        left -= len(rows)
        sent += send_claimed(rows)
    return sent
