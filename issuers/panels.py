"""Sections that apps above issuers add to an issuer's page.

issuers sits below badges, so the issuer page cannot read what badges keeps for an issuer
(its signing keys). An app registers, from its ``AppConfig.ready()``, a function that renders
its section of the page (already escaped HTML):

    from issuers import panels
    panels.register("signing_keys", lambda request, issuer: render_to_string(...))

Sections show in the order of their ``order``; none registered shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

    from issuers.models import Issuer

PanelFn = Callable[["HttpRequest", "Issuer"], SafeString]

_REGISTRY: dict[str, tuple[int, PanelFn]] = {}


def register(key: str, render: PanelFn, *, order: int = 100) -> None:
    """Register (or replace, so ready() may run twice) a section of the issuer page."""
    _REGISTRY[key] = (order, render)


def render(request: HttpRequest, issuer: Issuer) -> list[SafeString]:
    """Every registered section, rendered for this issuer (the view has authorized it)."""
    return [fn(request, issuer) for _, fn in sorted(_REGISTRY.values(), key=lambda p: p[0])]
