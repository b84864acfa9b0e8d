"""One pagination: badgeplatform.pagination.paginate in views, components/pagination.html in
templates, Django's {% querystring %} for the links (no query-string helper of our own)."""

import re
from pathlib import Path

from django.conf import settings
from django.template import RequestContext, Template
from django.urls import reverse

from badgeplatform.pagination import paginate
from tests.factories import make_badge, make_graphic, make_issuer

ROOT = Path(settings.BASE_DIR)
APPS = ["badgeplatform", "orgs", "users", "issuers", "branding", "badges", "reporting", "api"]
COMPONENT = '{% include "components/pagination.html" with page=page URL_AND_HX only %}'


def render(request, page, extra: str = "") -> str:
    text = COMPONENT.replace("URL_AND_HX", extra)
    return Template(text).render(RequestContext(request, {"page": page}))


def test_paginate_reads_page_and_forgives_junk(rf):
    items = list(range(45))
    assert paginate(rf.get("/", {"page": "2"}), items, 20).object_list == list(range(20, 40))
    assert paginate(rf.get("/", {"page": "junk"}), items, 20).number == 1
    assert paginate(rf.get("/", {"page": "99"}), items, 20).number == 3


def test_links_keep_the_filters_and_drop_the_selection(rf):
    request = rf.get("/s/x/users/", {"q": "ann lee", "role": "3", "page": "2", "select": "all"})
    html = render(request, paginate(request, list(range(60)), 20))
    assert 'href="?q=ann+lee&amp;role=3&amp;page=1"' in html
    assert 'href="?q=ann+lee&amp;role=3&amp;page=3"' in html
    assert "select" not in html
    assert "Page 2 of 3" in html and "21–40 of 60" in html
    assert "hx-get" not in html


def test_links_into_another_address_with_htmx(rf):
    request = rf.get("/s/x/reports/recipients/", {"badge": "7", "page": "1"})
    page = paginate(request, list(range(30)), 25)
    html = render(request, page, 'url="/s/x/reports/recipients/" hx_target="#r" hx_push=True')
    link = "/s/x/reports/recipients/?badge=7&amp;page=2"
    assert f'href="{link}" hx-get="{link}" hx-target="#r" hx-push-url="true"' in html


def test_one_page_shows_no_pagination(rf):
    request = rf.get("/")
    assert "pagination" not in render(request, paginate(request, [1, 2], 20))


def test_a_filtered_list_pages_with_its_filter(client_a, space_a):
    issuer, graphic = make_issuer(space_a), make_graphic(space_a)
    for n in range(25):
        make_badge(space_a, name=f"Python {n:02}", issuer=issuer, graphic=graphic)
    make_badge(space_a, name="Other", issuer=issuer, graphic=graphic)
    response = client_a.get(reverse("badges:index", args=[space_a.slug]), {"q": "python"})
    assert 'href="?q=python&amp;page=2"' in response.content.decode()
    second = client_a.get(reverse("badges:index", args=[space_a.slug]), {"q": "python", "page": 2})
    assert len(second.context["page"].object_list) == 5


def _sources(pattern: str):
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts and re.search(pattern, path.read_text()):
                yield path.relative_to(ROOT).as_posix()


def test_one_helper_pages_every_list():
    assert sorted(_sources(r"\bPaginator\(")) == ["badgeplatform/pagination.py"]
    # No other page parameter than "page" (the component's links set only that one).
    assert not list(_sources(r"""GET\.get\(["']\w+page["']\)"""))


def test_one_component_draws_every_pagination():
    drawing = sorted(
        p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*.html")
        if "next_page_number" in p.read_text()
    )
    assert drawing == ["components/pagination.html"]


def test_no_query_string_helper_of_our_own():
    """Django's {% querystring %} keeps a list's parameters; no tag or view rebuilds them."""
    # (The JSON API builds its "Next" links itself, api/endpoints.py; pages use the tag.)
    assert not [p for p in _sources(r"GET\.copy\(\)") if "views" in p]
    for tags in ROOT.glob("*/templatetags/*.py"):
        assert "request" not in tags.read_text(), tags
