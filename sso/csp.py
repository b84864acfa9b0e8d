"""A page that shows identity providers' buttons lets its forms lead to them.

The buttons POST to our allauth endpoint, which redirects to the provider; Chromium applies
the Content-Security-Policy's ``form-action 'self'`` to that redirect too. So the page that drew
the buttons widens ``form-action`` by exactly those providers' origins (``ProviderFormAction``
middleware, read by django-csp as ``response._csp_update``)."""

from __future__ import annotations

from urllib.parse import urlsplit

ATTRIBUTE = "_sso_form_action"


def origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def page_of(context):
    """The HTTP request a template context is rendering for (None outside one)."""
    return getattr(context, "request", None)


def allow(http_request, origins) -> None:
    if http_request is None:
        return
    allowed = getattr(http_request, ATTRIBUTE, set())
    allowed.update(o for o in origins if o)
    setattr(http_request, ATTRIBUTE, allowed)


class ProviderFormAction:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, http_request):
        response = self.get_response(http_request)
        allowed = getattr(http_request, ATTRIBUTE, None)
        if allowed:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), *sorted(allowed)]
            response._csp_update = update
        return response
