"""Chunked delivery on PostgreSQL: concurrent senders share the rows, and each row goes once.

Two drains (the beat's, and one started by hand while it ran) and two workers given the same
chunk (a redelivered task) race on real connections: the claim is one
``UPDATE … RETURNING`` (with ``FOR UPDATE SKIP LOCKED`` in the drain's pick), so every email is
handed to the mail backend exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, connections

from badgeplatform import outbox
from badgeplatform.models import OutboundEmail

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def require_postgres():
    import os

    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…)")


class SlowBackend(EmailBackend):
    """An SMTP server taking 2 ms per message, so that the two senders overlap."""

    def send_messages(self, messages):
        import time

        time.sleep(0.002)
        return super().send_messages(messages)


def rows(n: int) -> list[int]:
    made = OutboundEmail.objects.bulk_create(
        OutboundEmail(to=f"c{i}@race.test", subject=f"Race {i}", body_text="Once.", kind="race")
        for i in range(n)
    )
    return [r.pk for r in made]


def race(*jobs) -> list[int]:
    """Run the jobs at once, each in its own thread (its own database connection)."""
    barrier = threading.Barrier(len(jobs))
    results: list[int] = [0] * len(jobs)
    errors: list[BaseException] = []

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_two_concurrent_drains_send_every_email_exactly_once(settings):
    require_postgres()
    settings.OUTBOX_CHUNK = 25
    settings.EMAIL_BACKEND = "tests.services.test_outbox_concurrent.SlowBackend"
    mail.outbox = []
    rows(400)
    sent = race(*[lambda: outbox.drain_outbox(grace_seconds=0)] * 2)
    assert sum(sent) == 400
    assert all(sent), sent  # both took a share (skip locked: neither waited for the other)
    counts = Counter(m.to[0] for m in mail.outbox)
    assert len(counts) == 400 and set(counts.values()) == {1}
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_the_same_chunk_given_to_two_workers_is_sent_once(settings):
    require_postgres()
    settings.EMAIL_BACKEND = "tests.services.test_outbox_concurrent.SlowBackend"
    mail.outbox = []
    ids = rows(200)
    sent = race(lambda: outbox.deliver_chunk(ids), lambda: outbox.deliver_chunk(ids))
    assert sum(sent) == 200
    counts = Counter(m.to[0] for m in mail.outbox)
    assert len(counts) == 200 and set(counts.values()) == {1}
