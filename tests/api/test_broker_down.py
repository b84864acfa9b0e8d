"""Redis down: the API still accepts and stores the events; the emails go out once it is back."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from badgeplatform.celery import app as celery_app
from badgeplatform.models import OutboundEmail
from badgeplatform.outbox import drain_outbox
from badges.models import Award

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: on_commit publishes


@pytest.fixture
def broker_down(settings, monkeypatch):
    """Publishing a task fails as it does when Redis is down (kombu's OperationalError).

    Patched at Celery's publish step rather than by pointing the app at a closed port: an app
    that already holds a pooled connection to a live broker (CI's Redis run) would keep using
    it. The real outage is exercised by drills/redis_down.py."""
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    monkeypatch.setattr(celery_app.amqp, "send_task_message", refuse)
    yield
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True


def test_the_api_answers_and_stores_while_the_broker_is_down(api, badge, broker_down, caplog):
    response = api.events(
        {
            "ActivityId": str(badge.public_id),
            "ActivityTime": "2026-01-05T10:00:00+01:00",
            "UserId": "EMP-1",
            "Email": "offline@x.test",
            "FirstName": "Off",
            "LastName": "Line",
        }
    )
    assert response.status_code == 200
    assert response.json()["Results"][0]["Status"] == "awarded"
    assert Award.objects.count() == 1
    assert "left for the outbox drain" in caplog.text  # the broker was tried, and failed
    # Nothing was sent; both emails wait in the outbox.
    assert mail.outbox == []
    pending = OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING)
    assert sorted(pending.values_list("kind", flat=True)) == ["badge_issued", "verify_email"]


def test_the_emails_go_out_once_the_broker_is_back(api, badge, broker_down, member_a):
    api.events(
        {
            "ActivityId": str(badge.public_id),
            "ActivityTime": "2026-01-05T10:00:00+01:00",
            "UserId": member_a.email,
        }
    )
    assert mail.outbox == []
    # The periodic drain (Celery beat, every minute) sends what the broker lost.
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert drain_outbox() == 1
    assert [m.to for m in mail.outbox] == [[member_a.email]]
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT
