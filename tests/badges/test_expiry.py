"""Expiry emails: the reminders N days before an award expires and the "expired" email, each
queued exactly once however often the job runs, respecting the badge's switch and the
person's preference (badges.expiry)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from badgeplatform import runner
from badgeplatform.audit import AuditEntry
from badgeplatform.models import OutboundEmail
from badgeplatform.outbox import drain_outbox
from badges import expiry
from badges.models import Award, ExpiryNotice
from badges.models.badges import parse_reminder_days
from badges.tasks import send_expiry_emails
from tests.factories import make_award, make_badge, revoke_award

pytestmark = pytest.mark.django_db


def expiring(award: Award, *, in_days: float, lifetime_days: float = 365) -> Award:
    """Place the award so it expires ``in_days`` from now after ``lifetime_days``."""
    now = timezone.now()
    award.expires_at = now + timedelta(days=in_days)
    award.issued_at = award.expires_at - timedelta(days=lifetime_days)
    Award.objects.filter(pk=award.pk).update(expires_at=award.expires_at, issued_at=award.issued_at)
    return award


def expiry_emails():
    return list(OutboundEmail.objects.filter(kind="award_expiry").order_by("pk"))


@pytest.fixture
def badge(space_a):
    return make_badge(space_a, name="First Aid", expiry_amount=1, expiry_unit="years")


def test_reminder_days_are_read_forgivingly():
    assert parse_reminder_days("30, 7") == [30, 7]
    assert parse_reminder_days("7;30;30") == [30, 7]
    assert parse_reminder_days("") == []
    assert parse_reminder_days("0, 400, x, 14") == [14]


def test_thirty_and_seven_day_reminders_each_once(space_a, badge, committed):
    award = expiring(make_award(space_a, badge=badge), in_days=25)
    with committed():
        assert expiry.reminders_send() == 1
    with committed():
        assert expiry.reminders_send() == 0  # a second run: nothing new
    emails = expiry_emails()
    assert [e.context["days"] for e in emails] == [30]
    assert emails[0].to == award.recipient_email

    # Later: within 7 days → the 7-day reminder, once.
    expiring(award, in_days=6)
    with committed():
        assert expiry.reminders_send() == 1
        assert expiry.reminders_send() == 0
    assert [e.context["days"] for e in expiry_emails()] == [30, 7]
    assert set(ExpiryNotice.objects.filter(award=award).values_list("kind", "days")) == {
        ("reminder", 30),
        ("reminder", 7),
    }


def test_a_late_start_sends_only_the_nearest_reminder(space_a, badge, committed):
    expiring(make_award(space_a, badge=badge), in_days=3)
    with committed():
        assert expiry.reminders_send() == 1
    assert [e.context["days"] for e in expiry_emails()] == [7]
    # The 30-day one is never sent afterwards.
    with committed():
        assert expiry.reminders_send() == 0


def test_an_award_issued_inside_the_window_waits_for_the_next_threshold(space_a, badge, committed):
    # Issued 20 days before it expires: no "30 days" reminder, the 7-day one later.
    award = expiring(make_award(space_a, badge=badge), in_days=15, lifetime_days=20)
    with committed():
        assert expiry.reminders_send() == 0
    expiring(award, in_days=5, lifetime_days=20)
    with committed():
        assert expiry.reminders_send() == 1
    assert [e.context["days"] for e in expiry_emails()] == [7]


def test_expired_email_once(space_a, badge, committed):
    award = expiring(make_award(space_a, badge=badge), in_days=-1)
    old = expiring(make_award(space_a, badge=badge), in_days=-30)  # lapsed long ago: not mailed
    with committed():
        assert expiry.expired_send() == 1
        assert expiry.expired_send() == 0
    emails = expiry_emails()
    assert [(e.context["event"], e.context["award"]) for e in emails] == [("expired", award.pk)]
    assert not ExpiryNotice.objects.filter(award=old).exists()


def test_the_beat_task_and_the_embedded_runner_run_the_job(space_a, badge, committed):
    assert any(
        entry["task"] == "badges.tasks.send_expiry_emails"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )
    assert "award-expiry-emails" in runner._jobs
    expiring(make_award(space_a, badge=badge), in_days=2)
    expiring(make_award(space_a, badge=badge), in_days=-2)
    with committed():
        assert send_expiry_emails.delay().get() == {"reminders": 1, "expired": 1}
    with committed():
        runner._jobs["award-expiry-emails"].run()  # the embedded runner's job: nothing new
    assert len(expiry_emails()) == 2
    entries = AuditEntry.objects.filter(action="award.expiry_emails").order_by("pk")
    assert [e.changes for e in entries] == [{"reminder": 1}, {"expired": 1}]
    assert {e.actor_label for e in entries} == {"system"}


def test_opt_outs_badge_person_and_status(space_a, badge, committed):
    off = make_badge(space_a, name="Quiet", expiry_amount=1, expiry_unit="years")
    off.expiry_emails = False
    off.save()
    no_days = make_badge(space_a, name="No reminders", expiry_amount=1, expiry_unit="years")
    no_days.expiry_reminder_days = ""
    no_days.save()
    expiring(make_award(space_a, badge=off), in_days=5)
    expiring(make_award(space_a, badge=off), in_days=-1)
    expiring(make_award(space_a, badge=no_days), in_days=5)  # no reminder…
    lapsed = expiring(make_award(space_a, badge=no_days), in_days=-1)  # …but the expired email
    person = expiring(make_award(space_a, badge=badge), in_days=5)
    person.recipient.expiry_reminders = False
    person.recipient.save()
    revoke_award(expiring(make_award(space_a, badge=badge), in_days=5))
    suspended = expiring(make_award(space_a, badge=badge), in_days=5)
    Award.objects.filter(pk=suspended.pk).update(suspended_at=timezone.now())
    with committed():
        assert expiry.expiry_emails_send() == {"reminders": 0, "expired": 1}
    assert [e.context["award"] for e in expiry_emails()] == [lapsed.pk]


def test_a_renewed_award_gets_no_more_emails(space_a, badge, committed):
    from badgeplatform.access import Access
    from badges.renewal import awards_renew

    award = expiring(make_award(space_a, badge=badge), in_days=5)
    awards_renew(access=Access.system(space_a), awards=[award], actor=None)
    expiring(award, in_days=-1)
    with committed():
        assert expiry.expiry_emails_send() == {"reminders": 0, "expired": 0}


def test_the_email_is_in_the_space_frame_and_links_to_settings(space_a, badge, committed):
    award = expiring(make_award(space_a, badge=badge), in_days=6.5)
    with committed():
        expiry.reminders_send()
    drain_outbox(grace_seconds=0)
    sent = [m for m in mail.outbox if "expires in 7 days" in m.subject]
    assert len(sent) == 1 and sent[0].to == [award.recipient_email]
    assert sent[0].subject == "Your badge “First Aid” expires in 7 days"
    body = sent[0].body
    assert "/accounts/settings/" in body or "/settings/" in body
    assert timezone.localtime(award.expires_at).strftime("%B %Y") in body
    html = sent[0].alternatives[0][0]
    assert "Acme University" in html  # the space's frame


def test_query_count_does_not_grow_with_awards(
    space_a, badge, committed, django_assert_max_num_queries
):
    for _ in range(3):
        expiring(make_award(space_a, badge=badge), in_days=5)
    with committed(), django_assert_max_num_queries(9):
        assert expiry.reminders_send() == 3
    for _ in range(30):
        expiring(make_award(space_a, badge=badge), in_days=5)
    with committed(), django_assert_max_num_queries(9):
        assert expiry.reminders_send() == 30


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_email_once(space_a, badge):
    """On PostgreSQL: two runs at once in two threads (own connections and transactions)."""
    if connection.vendor != "postgresql":
        import os

        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL: DATABASE_URL=postgres://…")
    from tests.api.test_concurrency import at_once

    for _ in range(40):
        expiring(make_award(space_a, badge=badge), in_days=5)
    for _ in range(40):
        expiring(make_award(space_a, badge=badge), in_days=-1)
    now = timezone.now()
    results = at_once([lambda: expiry.expiry_emails_send(now) for _ in range(4)])
    assert sum(r["reminders"] for r in results) == 40
    assert sum(r["expired"] for r in results) == 40
    emails = expiry_emails()
    assert len(emails) == 80
    assert len({(e.context["award"], e.context["event"]) for e in emails}) == 80
