"""What a person holds in a space (their awards…), as the apps that keep it say.

users sits below badges, so the person's page cannot query awards itself. An app that keeps
something for people registers, from its ``AppConfig.ready()``, how to list a person's most
recent ones in a space:

    from users import holdings
    holdings.register("awards", lambda space, user, limit: [...newest first...])

A key nobody registered lists nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgs.models import Space
    from users.models import User

RecentFn = Callable[["Space", "User", int], list[Any]]

_REGISTRY: dict[str, RecentFn] = {}


def register(key: str, recent: RecentFn) -> None:
    """Register (or replace, so ready() may run twice) how to list what people hold."""
    _REGISTRY[key] = recent


def recent(key: str, *, space: Space, user: User, limit: int = 5) -> list[Any]:
    """The person's most recent ``key`` in ``space``, newest first ([] when none registered)."""
    fn = _REGISTRY.get(key)
    return fn(space, user, limit) if fn is not None else []
