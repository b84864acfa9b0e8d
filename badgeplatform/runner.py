"""The embedded background runner: the periodic jobs of the Celery beat, in a thread.

With no broker (the embedded default, ``make run``) tasks run eagerly in the request, so
nothing would retry an email or a webhook that failed. This daemon thread is that "nothing":
started by the development server's serving process, it runs every registered job on its
interval (the outbox drain, webhook deliveries) and can be woken early with ``wake()``.
In production the Celery beat runs the same jobs and this thread never starts.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every: float  # seconds
    run: Callable[[], object]
    due: float = 0.0


_jobs: dict[str, Job] = {}
_wake = threading.Event()
_stop = threading.Event()
_thread: list[threading.Thread] = []


def register(name: str, every: float, run: Callable[[], object]) -> None:
    _jobs[name] = Job(name, every, run)


def running() -> bool:
    return bool(_thread) and _thread[0].is_alive()


def wake() -> None:
    """Run the due jobs now rather than at the next tick (e.g. a webhook just queued)."""
    for job in _jobs.values():
        job.due = 0.0
    _wake.set()


def tick(now: float | None = None) -> list[str]:
    """Run every job that is due; the names of those that ran. One failing job is logged and
    does not stop the others."""
    from django.db import close_old_connections

    now = time.monotonic() if now is None else now
    ran = []
    for job in list(_jobs.values()):
        if job.due > now:
            continue
        job.due = now + job.every
        close_old_connections()
        try:
            job.run()
        except Exception:
            log.exception("Background job %s failed", job.name)
        ran.append(job.name)
    close_old_connections()
    return ran


def _loop(interval: float) -> None:
    while not _stop.is_set():
        # Wait first: the thread starts while the apps are still being made ready.
        _wake.wait(interval)
        _wake.clear()
        if not _stop.is_set():
            tick()
    from django.db import connections

    connections.close_all()  # this thread's own connections


def should_start(argv: list[str] | None = None) -> bool:
    """Only in the development server's serving process, with eager tasks (no broker)."""
    from django.conf import settings

    argv = sys.argv if argv is None else argv
    if not getattr(settings, "EMBEDDED_RUNNER", False):
        return False
    if not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return False
    if "runserver" not in argv:
        return False
    # The autoreloader's parent only watches files; its child (RUN_MAIN) serves.
    return os.environ.get("RUN_MAIN") == "true" or "--noreload" in argv


def start(interval: float = 2.0) -> bool:
    if running():
        return False
    _stop.clear()
    thread = threading.Thread(target=_loop, args=(interval,), name="embedded-runner", daemon=True)
    _thread[:] = [thread]
    thread.start()
    log.info("Embedded background runner started")
    return True


def stop(timeout: float = 10.0) -> None:
    """End the thread after the job it is running (tests; the server's exit ends a daemon)."""
    _stop.set()
    _wake.set()
    if _thread:
        _thread[0].join(timeout)
        _thread.clear()
