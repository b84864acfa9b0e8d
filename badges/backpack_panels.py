"""Sections that apps above badges add to the recipient's backpack.

badges sits below the Open Badges 3.0 API (obapi), which keeps the badges a person added from
elsewhere and hands ours to wallets, so the backpack cannot read those itself. An app
registers, from its ``AppConfig.ready()``, functions that render its sections (already escaped
HTML): on the list of badges (``register_list``, given the request) and on one award's page
(``register_award``, given the request and the award, already the signed-in person's own).

Sections show in the order of their ``order``; none registered shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

    from badges.models import Award

ListFn = Callable[["HttpRequest"], SafeString]
AwardFn = Callable[["HttpRequest", "Award"], SafeString]

_LIST: dict[str, tuple[int, ListFn]] = {}
_AWARD: dict[str, tuple[int, AwardFn]] = {}


def register_list(key: str, render: ListFn, *, order: int = 100) -> None:
    """Register (or replace) a section of the backpack's list of badges."""
    _LIST[key] = (order, render)


def register_award(key: str, render: AwardFn, *, order: int = 100) -> None:
    """Register (or replace) a section of one award's page in the backpack."""
    _AWARD[key] = (order, render)


def render_list(request: HttpRequest) -> list[SafeString]:
    return [fn(request) for _, fn in sorted(_LIST.values(), key=lambda p: p[0])]


def render_award(request: HttpRequest, award: Award) -> list[SafeString]:
    return [fn(request, award) for _, fn in sorted(_AWARD.values(), key=lambda p: p[0])]
