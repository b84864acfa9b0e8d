"""A real Celery worker takes an email task from Redis and the email arrives.

Runs when the real services are configured (CI's PostgreSQL + Redis run sets REDIS_URL and
DATABASE_URL); CI also sets REQUIRE_SERVICES=1, which turns a missing service into a failure
instead of a skip.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from badgeplatform.mail import queue_email
from badgeplatform.models import OutboundEmail

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def require_services():
    missing = []
    if not os.environ.get("REDIS_URL"):
        missing.append("REDIS_URL")
    if connection.vendor != "postgresql":
        missing.append("DATABASE_URL=postgres://…")
    if missing:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but not configured: {', '.join(missing)}")
        pytest.skip(f"needs the real services: {', '.join(missing)}")


@pytest.fixture
def worker(tmp_path, settings):
    require_services()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from badgeplatform.celery import app

    app.conf.task_always_eager = False
    outbox_dir = tmp_path / "outbox"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox_dir),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    queue_name = f"test-{os.getpid()}-{time.time_ns()}"
    app.conf.task_default_queue = queue_name
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "badgeplatform",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue_name,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield outbox_dir
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    app.conf.task_default_queue = "celery"


def test_worker_takes_the_email_task_from_redis_and_sends_it(worker: Path):
    email = queue_email(
        to="worker@example.test",
        template="password_reset",
        context={
            "user": {"first_name": "Wes", "username": "wes"},
            "reset_url": "https://x/r",
            "expires_days": 3,
        },
    )  # not in an atomic block: committed at once, so on_commit publishes to Redis now
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.status == OutboundEmail.Status.SENT:
            break
        time.sleep(0.25)
    assert email.status == OutboundEmail.Status.SENT, "the worker did not send the email in 60 s"
    files = list(worker.glob("*.log"))
    assert len(files) == 1
    content = files[0].read_text()
    assert "To: worker@example.test" in content and "https://x/r" in content
