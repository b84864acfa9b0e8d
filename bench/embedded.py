"""The embedded default (no broker, SQLite): a 1,000-event call answers without sending, and
the embedded runner sends its emails.

    python -m bench.embedded [--size 1000] [--calls 1]

In a fresh SQLite database in a temporary folder, with no broker (eager tasks) and the
embedded runner's thread started as ``runserver`` starts it, it posts ``--size`` events for new
people to ``POST /api/ActivityEvents`` through the whole stack (Django's test client), and
prints how long the call took, how many emails were sent while it ran (0 expected), and how
long after the call the runner had sent every email (the embedded default's file backend, as
``make run`` has it, without the console copy). Targets: ``call_s`` ≤ 2, ``sent_in_request=0``,
``all_sent_after_s`` ≤ 60.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time

TMP = tempfile.mkdtemp(prefix="bench-embedded-")
for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_XDIST_WORKER"):
    os.environ.pop(name, None)
os.environ.update(
    DJANGO_SETTINGS_MODULE="badgeplatform.settings",
    VAR_DIR=TMP,
    DEBUG="1",
    EMAIL_BACKEND="bench.embedded.ThreadFileBackend",
    EMAIL_FILE_PATH=f"{TMP}/outbox",
    API_RATE_LIMIT="1000000",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

import threading  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.mail.backends.filebased import EmailBackend  # noqa: E402
from django.core.management import call_command  # noqa: E402

SENDERS: list[str] = []


class ThreadFileBackend(EmailBackend):
    """The file backend, noting which thread sent each message."""

    def send_messages(self, email_messages):
        SENDERS.extend(threading.current_thread().name for _ in email_messages)
        return super().send_messages(email_messages)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=1)
    args = parser.parse_args(argv)
    assert settings.CELERY_TASK_ALWAYS_EAGER, "the embedded default has no broker"
    call_command("migrate", verbosity=0)

    from badgeplatform import runner
    from bench import embedded  # the module the backend setting names (not __main__)

    senders = embedded.SENDERS
    from badgeplatform.models import OutboundEmail
    from bench.events import api_caller, bodies, setup

    tag = f"emb-{secrets.token_hex(3)}"
    space, badge, _floor, key, token, _members = setup(tag, 0)
    call = api_caller(key, token)
    # Every event a new person (bench.events's bodies give half members: use its new half).
    payloads = bodies(tag, badge, args.calls, 2 * args.size)
    import json

    runner.start(interval=2.0)
    try:
        for body in payloads:
            events = [e for e in json.loads(body) if "Email" in e][: args.size]
            queued_before = OutboundEmail.objects.count()
            senders.clear()
            elapsed = call(json.dumps(events).encode())
            answered = time.perf_counter()
            queued = OutboundEmail.objects.count() - queued_before
            deadline = answered + 300
            while OutboundEmail.objects.exclude(status="sent").exists():
                if time.perf_counter() > deadline:
                    sys.exit("not every email sent within 300 s")
                time.sleep(0.2)
            print(f"events={len(events)} emails={queued}")
            print(f"call_s={elapsed:.2f}")
            # The request runs in this (main) thread; the runner in "embedded-runner".
            print(f"sent_in_request={senders.count(threading.current_thread().name)}")
            print(f"sent_by_runner={senders.count('embedded-runner')}")
            print(f"all_sent_after_s={time.perf_counter() - answered:.1f}")
    finally:
        runner.stop()
    print(f"load_average={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
