"""Sections that apps above users add to a person's own Settings page.

users sits below the apps that keep things for a person outside any space (the Open Badges 3.0
API's connected apps), so the Settings page cannot read them itself. An app registers, from
its ``AppConfig.ready()``, a function that renders its section (already escaped HTML):

    from users import settings_panels
    settings_panels.register("connected_apps", lambda request: render_to_string(...))

Sections show in the order of their ``order``; none registered shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

PanelFn = Callable[["HttpRequest"], SafeString]

_REGISTRY: dict[str, tuple[int, PanelFn]] = {}


def register(key: str, render: PanelFn, *, order: int = 100) -> None:
    """Register (or replace, so ready() may run twice) a section of the Settings page."""
    _REGISTRY[key] = (order, render)


def render(request: HttpRequest) -> list[SafeString]:
    """Every registered section, rendered for the signed-in person."""
    return [fn(request) for _, fn in sorted(_REGISTRY.values(), key=lambda p: p[0])]
