"""The embedded default (no broker): the background runner's thread, not the request, delivers
a committed event, and a retry falls due and goes out from it too, by itself."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from badgeplatform import runner
from tests.factories import make_award
from webhooks.models import Attempt, Message
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def running_runner(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert not runner.running()
    runner.start(interval=0.2)
    yield
    runner.stop()
    assert not runner.running()


def test_the_runner_delivers_after_commit_and_retries_by_itself(
    running_runner, admin_access, receiver, space_a
):
    made = endpoint_create(access=admin_access, url=receiver.url, events=["award.issued"])
    receiver.secrets = [made.secret]
    receiver.fail_first = 1
    started = time.monotonic()
    make_award(space_a)  # commits: the runner is woken
    assert wait_for(lambda: len(receiver.requests) == 1)
    first = time.monotonic() - started
    # The retry is due 5 s later; the runner's next ticks send it without anyone asking.
    assert wait_for(lambda: len(receiver.processed) == 1, seconds=20)
    assert first < 5.0, f"first attempt after {first:.2f} s"
    # (the runner records the answer just after the receiver has sent it)
    assert wait_for(lambda: Message.objects.get().status == Message.Status.DELIVERED)
    message = Message.objects.get()
    one, two = Attempt.objects.filter(message=message).order_by("at")
    gap = (two.at - one.at).total_seconds()
    assert 5.0 <= gap < 10.0, f"retry {gap:.2f} s after the failure (first retry within 10 s)"
    assert message.delivered_at <= timezone.now()
