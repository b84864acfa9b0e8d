"""The embedded default (no broker, eager tasks): a request only queues its emails; the
background runner's thread sends them, woken at commit, in chunks."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.core.mail.backends.locmem import EmailBackend

from badgeplatform import runner
from badgeplatform.models import OutboundEmail
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)


class ThreadRecordingBackend(EmailBackend):
    threads: list[str] = []

    def send_messages(self, messages):
        ThreadRecordingBackend.threads += [threading.current_thread().name] * len(messages)
        return super().send_messages(messages)


@pytest.fixture
def embedded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "tests.api.test_embedded_outbox.ThreadRecordingBackend"
    ThreadRecordingBackend.threads = []
    assert not runner.running()
    yield
    runner.stop()


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_an_api_call_only_queues_and_the_runner_sends_every_email_once(
    embedded, api: ApiClient, badge
):
    events = [
        {
            "ActivityId": str(badge.public_id),
            "ActivityTime": "2026-01-05T10:00:00+01:00",
            "UserId": f"E-{n}",
            "Email": f"e{n}@embedded.test",
            "FirstName": "Em",
            "LastName": str(n),
        }
        for n in range(150)
    ]
    # The runner serves (as under runserver); its thread starts once the request is done, so
    # that the in-memory SQLite of the tests is not written from two threads at once.
    with (
        mock.patch.object(runner, "running", return_value=True),
        mock.patch.object(runner, "wake") as wake,
    ):
        response = api.events(events)
    assert response.status_code == 200, response.content
    assert wake.called  # the commit woke the runner…
    assert ThreadRecordingBackend.threads == []  # … and nothing was sent inside the request
    assert OutboundEmail.objects.filter(status="pending").count() == 300

    runner.start(interval=0.2)
    # 150 badge emails + 150 verification emails, all sent by the runner's drain.
    assert wait_for(lambda: len(ThreadRecordingBackend.threads) >= 300, seconds=60)
    runner.stop()
    assert set(ThreadRecordingBackend.threads) == {"embedded-runner"}
    assert len(ThreadRecordingBackend.threads) == 300
    assert OutboundEmail.objects.exclude(status="sent").count() == 0


def test_without_the_runner_eager_tasks_still_send_in_process(embedded, api: ApiClient, badge):
    """Management commands and the suite have no runner: the eager task sends, as before."""
    event = {
        "ActivityId": str(badge.public_id),
        "ActivityTime": "2026-01-05T10:00:00+01:00",
        "UserId": "E-1",
        "Email": "e1@embedded.test",
        "FirstName": "Em",
        "LastName": "One",
    }
    assert api.events([event]).status_code == 200
    assert ThreadRecordingBackend.threads == [threading.current_thread().name] * 2
