"""The htmx contract, kept in one place (core: imports no app).

1. **One status for an invalid form: 422 Unprocessable Content.** The request was well formed
   and understood, but what the person typed cannot be accepted; the page comes back with the
   errors beside the fields. 400 stays for requests no person could correct from the page (an
   unknown action, a broken link), so the two are never confused, and 422 is the one 4xx the
   client swaps in (``responseHandling`` in templates/base.html); every other error shows a
   message (static/js/app.js). Views answer an invalid form through :func:`render_invalid`
   or :func:`render_form`, never with a status of their own.
2. **A partial response varies on the request headers that chose it.** :class:`HtmxMiddleware`
   notes whether the view (or its template) asked ``request.htmx``; if it did, the response
   gets ``Vary: HX-Request, HX-History-Restore-Request`` so no cache hands a fragment to a page
   load or the other way round.
3. **History restore never shows a fragment as a page.** On a history-cache miss htmx 2 asks
   the server again with ``HX-History-Restore-Request: true`` and puts the answer in place of
   the whole body, so such a request is *not* an htmx request here: ``request.htmx`` is false
   and every view renders its full page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

INVALID_FORM_STATUS = 422

# The request headers a partial response depends on.
VARY_HEADERS = ("HX-Request", "HX-History-Restore-Request")


def render_invalid(request: HttpRequest, template: str, context: dict) -> TemplateResponse:
    """Re-render a form the person must correct (its errors are in ``context``): 422."""
    return TemplateResponse(request, template, context, status=INVALID_FORM_STATUS)


def has_errors(*forms: BaseForm | BaseFormSet | None) -> bool:
    """Whether any of the bound forms (or formsets) carries an error; unbound ones never do."""
    for form in forms:
        if form is None or not form.is_bound:
            continue
        if isinstance(form, BaseFormSet):
            if form.total_error_count():
                return True
        elif form.errors:
            return True
    return False


def render_form(
    request: HttpRequest, template: str, context: dict, *forms: BaseForm | BaseFormSet | None
) -> TemplateResponse:
    """Render a page holding ``forms``: 422 when one of them carries errors, else 200."""
    if has_errors(*forms):
        return render_invalid(request, template, context)
    return TemplateResponse(request, template, context)


class PageAwareHtmxDetails(HtmxDetails):
    """``request.htmx`` that is false for a history restore and remembers being asked."""

    consulted = False

    def __bool__(self) -> bool:
        self.consulted = True
        return super().__bool__() and not self.history_restore_request


class HtmxMiddleware:
    """django-htmx's middleware with the contract's two rules (history restore, Vary)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        details = PageAwareHtmxDetails(request)
        request.htmx = details  # type: ignore[attr-defined]
        # TemplateResponses are rendered by the time they reach a middleware, so a template's
        # own {% if request.htmx %} counts as well.
        response = self.get_response(request)
        if details.consulted:
            patch_vary_headers(response, VARY_HEADERS)
        return response
