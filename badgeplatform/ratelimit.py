"""Fixed-window counters in the shared cache: the throttles on sign-in, registration, password
reset and resend-verification (users/throttles.py) and the API's per-key rate limit.

Counters must hold across web processes, so they live in the cache every process shares
(Redis in production, see settings.CACHES) and are counted with ``cache.add`` (creates the
window's counter, atomically, if absent) then ``cache.incr`` (atomic INCR on Redis): N
attempts split across any number of processes count N. The embedded default (no REDIS_URL) is
one process (``runserver``) with the local-memory cache, whose add/incr hold a lock, so the
counts are exact there too; a deployment with several processes must set REDIS_URL (``manage.py
check --deploy`` warns otherwise).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.http import HttpRequest


def _trusted(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _networks() -> list:
    # Each entry an address or a network ("10.0.0.7", "172.18.0.0/16").
    return [ipaddress.ip_network(p.strip(), strict=False) for p in settings.TRUSTED_PROXIES if p]


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, unless the connection comes from a proxy listed in
    TRUSTED_PROXIES; then the right-most address of X-Forwarded-For that is not one of our
    proxies (what the outermost trusted proxy saw; anything left of it the client may forge)."""
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks()
    if remote and _trusted(remote, networks):
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _trusted(hop, networks):
                return hop
    return remote


def client_ip(request: HttpRequest) -> str:
    return client_address(request) or "unknown"


def _key(name: str, window: int) -> tuple[str, int]:
    bucket = int(time.time()) // window
    return f"rl:{name}:{bucket}", window - int(time.time()) % window


def count(name: str, window: int) -> int:
    key, _ = _key(name, window)
    return cache.get(key, 0)


def hit(name: str, window: int) -> int:
    """Count one event; returns the count in the current window."""
    key, remaining = _key(name, window)
    if cache.add(key, 1, timeout=remaining + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=remaining + 1)
        return 1


def retry_after(window: int) -> int:
    return window - int(time.time()) % window


def reset(name: str, window: int) -> None:
    key, _ = _key(name, window)
    cache.delete(key)


# ---- Throttles: a named budget of attempts per window, spent per subject ----------------------


@dataclass(frozen=True)
class Throttle:
    """``limit`` attempts per ``window`` seconds for each subject (an account, an address…)."""

    scope: str
    limit: int
    window: int

    def name(self, subject: str) -> str:
        # Subjects are user input (emails, usernames): hashed, so every key is short and safe.
        digest = hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:32]
        return f"{self.scope}:{digest}"


def spend(budgets: Iterable[tuple[Throttle, str]]) -> int | None:
    """Count one attempt against each (throttle, subject). None if every budget still allows
    it, else the seconds until the longest-blocked one frees up. Counting first and comparing
    the atomic result (never "read, then count") keeps the budget exact under concurrency."""
    wait = None
    for throttle, subject in budgets:
        if hit(throttle.name(subject), throttle.window) > throttle.limit:
            wait = max(wait or 0, retry_after(throttle.window))
    return wait


def refund(throttle: Throttle, subject: str) -> None:
    """Give one attempt back (e.g. the sign-in succeeded)."""
    key, _ = _key(throttle.name(subject), throttle.window)
    try:
        if cache.decr(key) < 0:
            cache.delete(key)
    except ValueError:  # the window rolled over meanwhile: nothing to give back
        pass


def clear(throttle: Throttle, subject: str) -> None:
    reset(throttle.name(subject), throttle.window)


def wait_text(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@checks.register(checks.Tags.caches, deploy=True)
def shared_cache_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Throttles are only as shared as the cache: a per-process cache splits the budget."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.rsplit(".", 1)[-1] in {"LocMemCache", "DummyCache"}:
        return [
            checks.Warning(
                "The default cache is per process: sign-in and email throttles hold per web "
                "process only.",
                hint="Set REDIS_URL when more than one web process serves the site.",
                id="badgeplatform.W001",
            )
        ]
    return []
