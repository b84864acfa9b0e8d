"""``{% sso_buttons next %}``: on the ordinary sign-in page, the identity providers of the space
that ``next`` points into (/s/<slug>/…), so a space's address brings its providers along."""

from __future__ import annotations

import re

from django import template

from orgs.models import Space
from sso import csp

register = template.Library()

SPACE_PATH = re.compile(r"^/s/(?P<slug>[-a-zA-Z0-9_]+)/")


@register.inclusion_tag("sso/_login_choice.html", takes_context=True)
def sso_buttons(context, next_url: str = "") -> dict:
    from sso.views import providers_offered

    match = SPACE_PATH.match(next_url or "")
    space = Space.objects.filter(slug=match["slug"]).first() if match else None
    return {
        "providers": providers_offered(space, csp.page_of(context)),
        "next": next_url,
        "space": space,
        "csrf_token": context.get("csrf_token"),
    }
