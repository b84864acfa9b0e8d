"""What every drill needs: its own Redis, a live server, a worker, fixtures, the outbox count.

Everything listens on 127.0.0.1. The drills never stop the machine's shared Redis or
PostgreSQL: they start a private ``redis-server`` (and, for pg_restart, a private PostgreSQL
cluster) and break those. The database is DRILL_DATABASE_URL (default the shared cluster's
``issue9drills`` database, created and migrated on first use).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get(
    "DRILL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/issue9drills"
)
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


class Drill:
    """A temp dir, the child processes (killed at exit), and the environment they share."""

    def __init__(self, name: str, database_url: str = DATABASE_URL):
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"drill-{name}-"))
        self.outbox = self.tmp / "outbox"
        self.outbox.mkdir()
        self.redis_port = free_port()
        self.procs: list[subprocess.Popen] = []
        self.redis: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "badgeplatform.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_BACKEND": "drills.backends.TimedFileBackend",
            "EMAIL_FILE_PATH": str(self.outbox),
            "API_RATE_LIMIT": "1000000",
            "OUTBOX_DRAIN_GRACE_SECONDS": "1",
            "OUTBOX_STALE_CLAIM_SECONDS": "5",
            "VAR_DIR": str(self.tmp / "var"),
            "STATIC_ROOT": str(self.tmp / "static"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("EMAIL_HOST", None)

    # --- this process: Django on the drill's settings (for fixtures and counting)
    def setup_django(self) -> None:
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        ensure_database(self.env["DATABASE_URL"])
        call_command("migrate", verbosity=0, interactive=False)
        # DEBUG off: gunicorn starts only with the static files' manifest (see startup.py).
        call_command("collectstatic", verbosity=0, interactive=False)

    # --- Redis (private)
    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.redis_port), 0.2), 10, "redis")

    def stop_redis(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.send_signal(signal.SIGKILL)  # a crash: nothing saved, nothing flushed
            self.redis.wait()
        self.redis = None

    # --- children
    def spawn(self, args: list[str], log: str, env: dict | None = None) -> subprocess.Popen:
        out = open(self.tmp / log, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env or self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def start_server(self, workers: int = 4) -> str:
        port = free_port()
        self.spawn(
            [str(BIN / "gunicorn"), "badgeplatform.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", str(workers), "--timeout", "60"],
            "gunicorn.log",
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: urllib.request.urlopen(base + "/healthz", timeout=2), 30, "gunicorn")
        return base

    def start_worker(self, concurrency: int = 2, pool: str = "prefork") -> subprocess.Popen:
        return self.spawn(
            [str(BIN / "celery"), "-A", "badgeplatform", "worker", "-P", pool,
             "-c", str(concurrency), "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "WARNING"],
            "worker.log",
        )  # fmt: skip

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)

    def close(self, keep: bool = False) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc, signal.SIGTERM)
                if proc.poll() is None:
                    self.kill(proc)
        self.stop_redis()
        if keep:
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def ensure_database(url: str) -> None:
    """Create the drill database on its cluster if missing (never any other database)."""
    from bench.pg import ensure_database as ensure

    ensure(url)


def make_fixtures(tag: str, *, members: int = 0):
    """A space, a published badge and an API key (the Events benchmark's fixtures)."""
    from bench.events import setup

    space, badge, _floor, developer_key, token, people = setup(tag, members)
    return space, badge, developer_key, token, people


def read_outbox(folder: Path) -> Counter:
    """(to, Message-ID) → how many times it left, over every message the backend wrote. The
    outbox gives each row its own Message-ID, the same on every attempt (bulk emails are
    rendered at send time, so their rows keep no subject to compare with)."""
    sent: Counter = Counter()
    for path in folder.iterdir():
        for chunk in path.read_bytes().split(SEPARATOR):
            if not chunk.strip():
                continue
            msg = email.message_from_bytes(chunk, policy=email.policy.default)
            sent[(str(msg["To"]), str(msg["Message-ID"]).strip())] += 1
    return sent


def expected_outbox(rows) -> Counter:
    """(to, Message-ID) of the outbox rows that should each leave once."""
    from badgeplatform.outbox import message_id

    return Counter((r.to, message_id(r)) for r in rows)


def compare(expected: Counter, sent: Counter) -> dict:
    """Figures of an outbox against the rows that should have left, once each."""
    delivered = sum(min(n, sent[k]) for k, n in expected.items())
    duplicates = sum(max(0, sent[k] - n) for k, n in expected.items())
    lost = sum(max(0, n - sent[k]) for k, n in expected.items())
    strangers = sum(n for k, n in sent.items() if k not in expected)
    return {
        "expected": sum(expected.values()),
        "delivered": delivered,
        "duplicates": duplicates,
        "lost": lost,
        "unexpected": strangers,
    }


def post(url: str, body: bytes, headers: dict, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        return 0, str(exc).encode()


def report(figures: dict, broken: list[str]) -> None:
    for name, value in figures.items():
        print(f"{name}={value}")
    if broken:
        for problem in broken:
            print(f"BROKEN: {problem}")
        sys.exit(1)
    print("OK: every guarantee held")
