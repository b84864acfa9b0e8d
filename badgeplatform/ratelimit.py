"""Fixed-window counters in the cache (Redis in production, memory locally)."""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address. X-Forwarded-For is believed only when the connection comes
    from a proxy listed in TRUSTED_PROXIES, and then only the hop that proxy appended."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = set(settings.TRUSTED_PROXIES)
    if remote in trusted:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if hop not in trusted:
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
