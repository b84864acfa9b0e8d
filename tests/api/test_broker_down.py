"""Redis down: the API still accepts and stores the events; the emails go out once it is back."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from badgeplatform.celery import app as celery_app
from badgeplatform.mail import drain_outbox
from badgeplatform.models import OutboundEmail
from badges.models import Award

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: on_commit publishes


@pytest.fixture
def broker_down(settings):
    """Tasks go to a broker that nobody listens for (a closed port), as when Redis is down."""
    saved = (
        celery_app.conf.broker_url,
        celery_app.conf.task_always_eager,
        celery_app._pool,
        celery_app.amqp._producer_pool,
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    (
        celery_app.conf.broker_url,
        celery_app.conf.task_always_eager,
        celery_app._pool,
        celery_app.amqp._producer_pool,
    ) = saved
    settings.CELERY_TASK_ALWAYS_EAGER = True


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
