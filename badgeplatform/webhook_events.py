"""The one door through which the apps below ``webhooks`` announce events to subscribers.

Badges (issuing, revocation, publishing) call ``webhooks_emit`` inside the transaction of the
change; the ``webhooks`` app, a layer above, registers the real emitter from its
``AppConfig.ready()``. Without it (or when no endpoint of the space listens) this does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgs.models import Space

# shared/API.md → Webhooks. `award.claimed` is emitted by badges.claims when a claim link awards.
EVENT_TYPES: tuple[str, ...] = (
    "award.issued",
    "award.revoked",
    "award.suspended",
    "award.reinstated",
    "award.expired",
    "award.claimed",
    "badge.published",
    "badge.withdrawn",
)

Emitter = Callable[["Space", str, Sequence[Any]], int]
_emitter: list[Emitter] = []


def register_emitter(emitter: Emitter) -> None:
    _emitter[:] = [emitter]


def webhooks_emit(space: Space, type: str, objects: Sequence[Any]) -> int:  # noqa: A002
    """Queue one ``type`` event per object (awards or badges) for the space's subscribed
    endpoints, in the caller's transaction; delivery starts after commit. Returns how many
    messages were queued."""
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {type!r}")
    if not _emitter or not objects:
        return 0
    return _emitter[0](space, type, objects)
