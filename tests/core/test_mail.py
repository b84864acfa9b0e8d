"""Emails are stored before they are sent, sent once, and never lost when the broker is down."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from badgeplatform import mail as queueing
from badgeplatform import outbox
from badgeplatform.models import OutboundEmail

pytestmark = pytest.mark.django_db


def queue(**kw):
    return queueing.queue_email(
        to="r@example.test",
        template="password_reset",
        context={
            "user": mock.Mock(first_name="Rae", username="rae"),
            "reset_url": "https://x/y",
            "expires_days": 3,
        },
        **kw,
    )


def age(email, seconds=120):
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_email_has_subject_text_and_html_and_is_sent_after_commit(committed):
    with committed():
        email = queue()
        assert not mail.outbox  # nothing leaves before the transaction commits
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your Badge Platform password"
    assert "https://x/y" in message.body
    assert message.alternatives[0][1] == "text/html" and "https://x/y" in message.alternatives[0][0]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT and email.sent_at is not None


def test_broker_down_keeps_the_email_and_the_drain_sends_it_exactly_once(committed):
    with (
        mock.patch(
            "badgeplatform.tasks.deliver_email.delay", side_effect=ConnectionError("redis down")
        ),
        committed(),
    ):
        email = queue()
    assert not mail.outbox
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING

    assert outbox.drain_outbox() == 0  # still inside the grace period of its own task
    age(email)
    assert outbox.drain_outbox() == 1
    assert outbox.drain_outbox() == 0
    assert len(mail.outbox) == 1


def test_a_claimed_email_is_not_sent_twice():
    email = queue()
    assert outbox.deliver(email.pk) is True
    assert outbox.deliver(email.pk) is False
    assert len(mail.outbox) == 1


def test_smtp_failure_leaves_the_email_pending_with_backoff_then_it_is_sent():
    email = queue()
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")
        ),
        pytest.raises(outbox.DeliveryFailed),
    ):
        outbox.deliver(email.pk)
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING and email.attempts == 1
    assert "smtp down" in email.last_error and email.next_attempt_at > timezone.now()
    age(email)
    assert outbox.drain_outbox() == 0  # waiting for its backoff
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert outbox.drain_outbox() == 1
    assert len(mail.outbox) == 1


def test_a_worker_that_died_mid_send_is_released_by_the_drain():
    email = queue()
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.SENDING,
        claimed_at=timezone.now() - timedelta(seconds=outbox.STALE_CLAIM_SECONDS + 5),
        created_at=timezone.now() - timedelta(hours=1),
    )
    assert outbox.drain_outbox() == 1


def test_dedupe_key_makes_an_email_once_only(committed):
    with committed():
        assert queue(dedupe_key="award:1") is not None
        assert queue(dedupe_key="award:1") is None
    assert len(mail.outbox) == 1


def test_subjects_with_line_breaks_are_refused():
    with pytest.raises(ValueError, match="single line"):
        queueing.queue_rendered_email(
            to="a@b.test", subject="Hi\r\nBcc: x@y", text="", html="", kind="x"
        )


def test_the_stale_claim_and_grace_periods_are_settings(settings):
    # The fault drills (drills.worker_killed) shorten them instead of waiting ten minutes.
    settings.OUTBOX_STALE_CLAIM_SECONDS = 2
    settings.OUTBOX_DRAIN_GRACE_SECONDS = 0
    email = queue()
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_at=timezone.now() - timedelta(seconds=1)
    )
    assert outbox.drain_outbox() == 0  # a claim one second old still belongs to its worker
    OutboundEmail.objects.filter(pk=email.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=3)
    )
    assert outbox.drain_outbox() == 1  # well under the 600 s default, released and sent
    assert len(mail.outbox) == 1
