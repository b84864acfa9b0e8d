"""System settings → Webhooks: endpoints, their secret (shown once), the delivery log."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST

from badgeplatform.access import space_view
from badgeplatform.htmx import render_form
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from webhooks.access import endpoint_for, endpoints_visible, message_for
from webhooks.delivery import BACKOFF, MAX_ATTEMPTS
from webhooks.forms import EVENT_LABELS, EndpointForm
from webhooks.models import Attempt, Message
from webhooks.services import (
    ROTATION_WINDOW,
    InvalidEndpoint,
    endpoint_create,
    endpoint_delete,
    endpoint_enable,
    endpoint_rotate,
    endpoint_test,
    message_replay,
)


def _secret_page(request: HttpRequest, endpoint, secret: str, rotated: bool) -> HttpResponse:
    # Rendered, not redirected: the secret is never stored in clear, not even in the session.
    response = TemplateResponse(
        request,
        "webhooks/secret.html",
        {
            "endpoint": endpoint,
            "secret": secret,
            "rotated": rotated,
            "window_hours": int(ROTATION_WINDOW.total_seconds() // 3600),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@space_view(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = endpoint_create(
                access=request.access,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
            )
        except InvalidEndpoint as exc:
            form.add_error("url", str(exc))
        else:
            return _secret_page(request, made.endpoint, made.secret, rotated=False)
    endpoints = endpoints_visible(request.access).order_by("-created_at", "-pk")
    return render_form(
        request,
        "webhooks/index.html",
        {"endpoints": endpoints, "form": form, "labels": EVENT_LABELS},
        form,
    )


@space_view(Perm.MANAGE_SETTINGS)
def detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_for(request.access, endpoint_id)
    log = Message.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("attempt_log", queryset=Attempt.objects.order_by("-at", "-pk"))
    )
    page = paginate(request, log, 20)
    return TemplateResponse(
        request,
        "webhooks/detail.html",
        {
            "endpoint": endpoint,
            "page": page,
            "labels": EVENT_LABELS,
            "max_attempts": MAX_ATTEMPTS,
            "first_retry": int(BACKOFF[0].total_seconds()),
        },
    )


@space_view(Perm.MANAGE_SETTINGS)
@require_POST
def rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_for(request.access, endpoint_id)
    made = endpoint_rotate(access=request.access, endpoint=endpoint)
    return _secret_page(request, made.endpoint, made.secret, rotated=True)


@space_view(Perm.MANAGE_SETTINGS)
@require_POST
def delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_for(request.access, endpoint_id)
    endpoint_delete(access=request.access, endpoint=endpoint)
    messages.success(request, f"{endpoint.url} is deleted: nothing more is sent to it.")
    return redirect("webhooks:index", request.space.slug)


@space_view(Perm.MANAGE_SETTINGS)
@require_POST
def enable(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_for(request.access, endpoint_id)
    try:
        endpoint_enable(access=request.access, endpoint=endpoint)
    except InvalidEndpoint as exc:
        messages.error(request, f"Not enabled: {exc}")
    else:
        messages.success(request, "Enabled: pending events are being sent again.")
    return redirect("webhooks:detail", request.space.slug, endpoint.pk)


@space_view(Perm.MANAGE_SETTINGS)
@require_POST
def test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_for(request.access, endpoint_id)
    endpoint_test(access=request.access, endpoint=endpoint)
    messages.success(request, "A webhook.test event is on its way; its attempts show below.")
    return redirect("webhooks:detail", request.space.slug, endpoint.pk)


@space_view(Perm.MANAGE_SETTINGS)
@require_POST
def replay(request: HttpRequest, message_id: int) -> HttpResponse:
    message = message_for(request.access, message_id)
    message_replay(access=request.access, message=message)
    messages.success(request, f"{message.type} {message.event_id} is being sent again.")
    return redirect("webhooks:detail", request.space.slug, message.endpoint_id)
