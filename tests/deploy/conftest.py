"""Helpers to run what docker-compose.yml and the Makefile run, as processes on this machine
(there is no Docker engine here, and CI has none either)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**values: str) -> dict[str, str]:
    """A clean environment (nothing of this test run's DATABASE_URL, REDIS_URL, …) with the
    virtualenv's python, gunicorn and celery first on PATH, as the image has them."""
    env = {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(values)
    return env


def wait_for(probe: Callable[[], bool], seconds: float, what: str, proc=None, log=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if probe():
                return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    output = Path(log).read_text()[-3000:] if log else ""
    raise AssertionError(f"{what} did not come up in {seconds}s\n{output}")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = log.open("ab")
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    out.close()
    return proc


def stop(proc: subprocess.Popen) -> None:
    """End a process we started, and its children (its own session), by its id."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def request(
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()
