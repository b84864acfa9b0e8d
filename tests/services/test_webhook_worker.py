"""A real Celery worker takes the delivery task from Redis after commit and a real receiver on
loopback gets the signed event (verified with the standardwebhooks library)."""

import time

import pytest

from tests.factories import make_award
from tests.services.test_celery_worker import worker  # noqa: F401 - the fixture
from tests.webhooks.conftest import admin_access, receiver  # noqa: F401 - fixtures
from webhooks.models import Message
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_worker_delivers_the_committed_event(worker, admin_access, receiver, space_a):  # noqa: F811
    made = endpoint_create(access=admin_access, url=receiver.url, events=["award.issued"])
    receiver.secrets = [made.secret]
    award = make_award(space_a)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not receiver.processed:
        time.sleep(0.1)
    assert len(receiver.processed) == 1, "the worker delivered nothing"
    [event] = receiver.processed.values()
    assert event["type"] == "award.issued" and event["data"]["AwardId"] == str(award.public_id)
    assert all(r["valid"] for r in receiver.requests)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if Message.objects.get().status == Message.Status.DELIVERED:
            break
        time.sleep(0.1)
    assert Message.objects.get().status == Message.Status.DELIVERED
