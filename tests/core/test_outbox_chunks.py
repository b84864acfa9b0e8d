"""Issuing's emails go out in chunks: one claim, one render pass, one SMTP connection, one mark.

The guarantees of the single-email path hold for chunks too: every row is sent once, a failed
message goes back to pending alone, and a worker killed between sending and marking re-sends at
most OUTBOX_MARK_EVERY emails (the documented at-least-once bound), never loses one.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from badgeplatform import mail as queueing
from badgeplatform import outbox
from badgeplatform.access import Access
from badgeplatform.models import OutboundEmail
from badges.emails import render_badge_issued, render_badge_issued_batch
from badges.issuing import RecipientInput, awards_issue
from tests.factories import make_badge
from users.services import render_verification_email, render_verification_emails

pytestmark = pytest.mark.django_db

WHEN = timezone.now().replace(microsecond=0) - timedelta(days=1)


class CountingBackend(LocmemBackend):
    """locmem, counting the connections opened (SMTP's cost per connection)."""

    opened = 0
    fail_for: set[str] = set()

    def open(self):
        CountingBackend.opened += 1
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            if message.to[0] in CountingBackend.fail_for:
                raise OSError("550 mailbox unavailable")
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def _no_timed_marks(monkeypatch):
    # Marks also flush every MARK_SECONDS: on a loaded machine that adds UPDATEs at random, so
    # the query pins here count the marks by message number only. (The timed flush has its
    # own reason: the crash bound, drilled in drills.worker_killed --chunked.)
    monkeypatch.setattr(outbox, "MARK_SECONDS", 3600.0)


@pytest.fixture
def counting(settings):
    settings.EMAIL_BACKEND = "tests.core.test_outbox_chunks.CountingBackend"
    CountingBackend.opened = 0
    CountingBackend.fail_for = set()
    return CountingBackend


def issue(space, n, *, new=True):
    """n awards to new people, emails queued (not sent: no commit callbacks run here)."""
    badge = make_badge(space)
    _, outcomes = awards_issue(
        access=Access.system(space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[
            RecipientInput(email=f"p{i}@chunk.test", first_name="Pat", last_name=str(i))
            for i in range(n)
        ],
    )
    assert {o.status for o in outcomes} == {"awarded"}
    return list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))


@pytest.mark.parametrize("n", [5, 40])
def test_a_chunk_is_sent_with_a_constant_number_of_queries(
    space_a, counting, settings, django_assert_max_num_queries, n
):
    settings.OUTBOX_MARK_EVERY = 1000
    ids = issue(space_a, n)
    assert len(ids) == 2 * n  # a badge email and a verification email each
    # claim 1; badge emails: awards 1, branding 1, plan 1; verification: people 1, spaces 1,
    # branding 1, plan 1; mark sent 1. The same for 10 emails as for 80.
    with django_assert_max_num_queries(9):
        assert outbox.deliver_chunk(ids) == 2 * n
    assert counting.opened == 1  # one connection for the whole chunk
    assert len(mail.outbox) == 2 * n
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_marks_are_flushed_every_mark_every_messages(
    space_a, counting, settings, django_assert_num_queries
):
    settings.OUTBOX_MARK_EVERY = 4
    ids = issue(space_a, 6)  # 12 emails: marks after 4, 8, 12
    rows = outbox.claim(ids)
    for row in rows:  # rendered already, so only the marks are counted
        row.subject, row.body_text = "Hello", "Hi"
    with django_assert_num_queries(3):
        assert outbox.send_claimed(rows) == 12


def test_batch_rendering_is_the_same_as_one_by_one(space_a):
    # The verification link's token carries the current second: both renders must see the same
    # one, or a render that straddles a second boundary differs for no fault of the batch.
    from users.tokens import EmailVerificationTokenGenerator

    now = EmailVerificationTokenGenerator()._now()
    with mock.patch.object(EmailVerificationTokenGenerator, "_now", return_value=now):
        ids = issue(space_a, 3)
        rows = list(OutboundEmail.objects.filter(pk__in=ids))
        issued = [r for r in rows if r.kind == "badge_issued"]
        verify = [r for r in rows if r.kind == "verify_email"]
        batch = render_badge_issued_batch(issued) | render_verification_emails(verify)
        for row in issued:
            assert batch[row.pk] == render_badge_issued(row)
        for row in verify:
            assert batch[row.pk] == render_verification_email(row)
    assert all("Pat" in text for _, text, _ in batch.values())


def test_a_failed_message_goes_back_alone_and_the_rest_are_sent(space_a, counting):
    ids = issue(space_a, 4)
    counting.fail_for = {"p2@chunk.test"}
    assert outbox.deliver_chunk(ids) == 6
    failed = OutboundEmail.objects.filter(to="p2@chunk.test")
    assert failed.count() == 2
    for row in failed:
        assert row.status == "pending" and row.attempts == 1
        assert "550" in row.last_error and row.next_attempt_at > timezone.now()
    assert OutboundEmail.objects.filter(status="sent").count() == 6
    assert counting.opened == 3  # the first connection, and a fresh one after each failure
    # Its backoff over, the drain sends it (and only it).
    counting.fail_for = set()
    failed.update(next_attempt_at=timezone.now())
    assert outbox.drain_outbox(grace_seconds=0) == 2
    assert Counter(m.to[0] for m in mail.outbox)["p2@chunk.test"] == 2  # its two emails, once


def test_an_email_whose_award_is_gone_fails_alone(space_a, counting):
    ids = issue(space_a, 3)
    gone = OutboundEmail.objects.filter(kind="badge_issued").order_by("pk").first()
    OutboundEmail.objects.filter(pk=gone.pk).update(context={"award": 10**9})
    assert outbox.deliver_chunk(ids) == 5
    gone.refresh_from_db()
    assert gone.status == "pending" and "DoesNotExist" in gone.last_error


def test_the_smtp_server_down_leaves_the_whole_chunk_pending(space_a, counting):
    ids = issue(space_a, 3)
    with mock.patch.object(CountingBackend, "open", side_effect=OSError("connection refused")):
        assert outbox.deliver_chunk(ids) == 0
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"pending"}
    assert not mail.outbox


def test_a_chunk_claimed_elsewhere_is_not_sent_again(space_a, counting):
    ids = issue(space_a, 3)
    assert outbox.deliver_chunk(ids) == 6
    assert outbox.deliver_chunk(ids) == 0  # a redelivered task
    assert outbox.drain_outbox(grace_seconds=0) == 0
    assert len(mail.outbox) == 6


def test_a_worker_killed_between_send_and_mark_resends_at_most_mark_every(
    space_a, settings, counting
):
    """The at-least-once bound: the messages sent since the last mark go again, none is lost."""
    settings.OUTBOX_MARK_EVERY = 5
    ids = issue(space_a, 10)  # 20 emails
    dead = []

    class Killed(BaseException):
        pass

    real_send, real_mark = CountingBackend.send_messages, outbox._mark_sent

    def dying(self, messages):
        if len(mail.outbox) == 13:  # the SMTP server has 13; rows 1-10 are marked
            dead.append(True)
            raise Killed
        return real_send(self, messages)

    def mark(email_ids):
        if not dead:  # a SIGKILLed process runs no finally: its last marks never happen
            real_mark(email_ids)

    with (
        mock.patch.object(CountingBackend, "send_messages", dying),
        mock.patch.object(outbox, "_mark_sent", mark),
        pytest.raises(Killed),
    ):
        outbox.deliver_chunk(ids)
    assert OutboundEmail.objects.filter(status="sent").count() == 10
    assert OutboundEmail.objects.filter(status="sending").count() == 10
    # The drain releases the dead worker's claims once they are stale, and sends them.
    OutboundEmail.objects.filter(status="sending").update(
        claimed_at=timezone.now() - timedelta(seconds=outbox.STALE_CLAIM_SECONDS + 1)
    )
    assert outbox.drain_outbox(grace_seconds=0) == 10
    counts = Counter((m.to[0], m.subject) for m in mail.outbox)
    assert len(counts) == 20  # nothing lost
    duplicated = sum(n - 1 for n in counts.values())
    assert duplicated == 3 <= settings.OUTBOX_MARK_EVERY


def test_enqueue_many_queues_one_task_per_chunk(settings):
    settings.OUTBOX_CHUNK = 40
    with mock.patch("badgeplatform.tasks.deliver_emails.delay") as delay:
        queueing.enqueue_many(list(range(1, 101)))
    assert [len(c.args[0]) for c in delay.call_args_list] == [40, 40, 20]


def test_a_broker_down_midway_leaves_the_rest_to_the_drain(settings):
    settings.OUTBOX_CHUNK = 40
    with mock.patch(
        "badgeplatform.tasks.deliver_emails.delay", side_effect=[None, ConnectionError("down")]
    ) as delay:
        queueing.enqueue_many(list(range(1, 101)))
    assert delay.call_count == 2  # stops at the first failure: the drain has the rest


# ---- The SMTP fast path: pre-built messages over one connection to a real SMTP server --------


class Received:
    """aiosmtpd handler keeping every message it is handed."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    received = Received()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    connections = []
    real_open = __import__("smtplib").SMTP.connect

    def counting_connect(self, *args, **kwargs):
        connections.append(args)
        return real_open(self, *args, **kwargs)

    with mock.patch("smtplib.SMTP.connect", counting_connect):
        yield received, connections
    controller.stop()


def test_a_chunk_reaches_a_real_smtp_server_over_one_connection_as_django_would_write_it(
    space_a, smtp_server
):
    import email as email_lib
    from email.policy import default

    received, connections = smtp_server
    ids = issue(space_a, 3)
    # The badge emails as already rendered rows (non-ASCII, a subject to fold, long lines);
    # the verification emails stay unrendered (the batch renderer fills them in).
    subject = "Ünïcode “quotes” and a long subject line " + "x" * 80
    text = "Héllo Pat,\n" + "é" * 300 + "\nThe end."
    html = "<p>Héllo <strong>Pat</strong></p>" + "<p>" + "ü" * 300 + "</p>"
    OutboundEmail.objects.filter(kind="badge_issued").update(
        subject=subject, body_text=text, body_html=html
    )
    assert outbox.deliver_chunk(ids) == 6
    assert len(connections) == 1  # one SMTP connection for the chunk
    rows = {outbox.message_id(r): r for r in OutboundEmail.objects.filter(pk__in=ids)}
    assert len(received.messages) == 6
    for rcpt, raw in received.messages:
        message = email_lib.message_from_bytes(raw, policy=default)
        row = rows.pop(message["Message-ID"])  # each row once, by its own Message-ID
        assert rcpt == [row.to] and message["To"] == row.to
        assert message["From"] == "Badge Platform <noreply@localhost>" and message["Date"]
        body = message.get_body(("plain",)).get_content()
        markup = message.get_body(("html",)).get_content()
        if row.kind == "badge_issued":
            assert message["Subject"] == subject
            assert body == text and markup == html
        else:
            assert message["Subject"].startswith("Verify your email for Acme University")
            assert "Pat" in body and "<a href=" in markup
    assert rows == {}


def test_the_same_row_keeps_its_message_id_on_every_attempt(space_a, counting):
    ids = issue(space_a, 1)
    row = OutboundEmail.objects.get(pk=ids[0])
    assert outbox.message_id(row) == outbox.message_id(OutboundEmail.objects.get(pk=ids[0]))
    assert outbox.deliver_chunk(ids) == 2
    by_id = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert outbox.message_id(row) in by_id


def test_by_default_each_message_is_marked_as_soon_as_it_is_sent(space_a, settings, counting):
    """The default (OUTBOX_MARK_EVERY = 1): a worker killed mid-chunk leaves no sent email
    unmarked, so nothing goes twice (the window is the one UPDATE after the server's answer)."""
    assert settings.OUTBOX_MARK_EVERY == 1
    ids = issue(space_a, 10)  # 20 emails

    class Killed(BaseException):
        pass

    real_send = CountingBackend.send_messages

    def dying(self, messages):
        if len(mail.outbox) == 13:
            raise Killed
        return real_send(self, messages)

    with mock.patch.object(CountingBackend, "send_messages", dying), pytest.raises(Killed):
        outbox.deliver_chunk(ids)
    assert OutboundEmail.objects.filter(status="sent").count() == 13
    OutboundEmail.objects.filter(status="sending").update(
        claimed_at=timezone.now() - timedelta(seconds=outbox.STALE_CLAIM_SECONDS + 1)
    )
    assert outbox.drain_outbox(grace_seconds=0) == 7
    counts = Counter((m.to[0], m.subject) for m in mail.outbox)
    assert len(counts) == 20 and set(counts.values()) == {1}  # none lost, none twice


def _commit_durability() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW synchronous_commit")
        else:
            cursor.execute("PRAGMA synchronous")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_marks_commit_without_waiting_for_the_disk_and_the_setting_is_restored(space_a, counting):
    """A chunk's marks are committed asynchronously (each is one cheap statement); the
    connection gets its durability back afterwards, for whatever it does next."""
    ids = [
        OutboundEmail.objects.create(
            space=space_a, to=f"r{i}@chunk.test", subject="Hello", body_text="Hi", kind="test"
        ).pk
        for i in range(4)
    ]
    before = _commit_durability()
    during = []
    real_send = CountingBackend.send_messages

    def watching(self, messages):
        during.append(_commit_durability())
        return real_send(self, messages)

    with mock.patch.object(CountingBackend, "send_messages", watching):
        assert outbox.deliver_chunk(ids) == 4
    relaxed = {"off"} if before in ("on", "local", "remote_apply", "remote_write") else {"1"}
    assert set(during) == relaxed != {before}
    assert _commit_durability() == before
    assert OutboundEmail.objects.filter(status="sent").count() == 4
