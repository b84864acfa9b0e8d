"""Fixed-window counters in the cache (Redis in production, memory locally)."""

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # Only REMOTE_ADDR: a forwarded header is trusted solely behind a configured proxy.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


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
