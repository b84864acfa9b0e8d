"""One pagination: :func:`paginate` in views, ``components/pagination.html`` in templates.

The page is always the ``page`` query parameter, and the links keep every other parameter of
the request (filters, search) through Django's ``{% querystring %}``, so a list needs no
query-string helper of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, items: QuerySet | Sequence, per_page: int) -> Page:
    """The page of ``items`` asked for by ``?page=N`` (junk → the first, too far → the last)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
