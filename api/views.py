from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST

from api.access import key_for, keys_visible
from api.forms import ApiKeyForm
from api.models import ApiKey
from api.services import apikey_create, apikey_revoke
from badgeplatform.access import space_view
from badgeplatform.htmx import render_form
from badgeplatform.permissions import Perm


def get_apikey_for(request: HttpRequest, key_id: int) -> ApiKey:
    return key_for(request.access, key_id, need=Perm.MANAGE_API_KEYS)


@space_view(Perm.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The space's keys (newest first, 1 query) and the form that makes a new one."""
    form = ApiKeyForm(request.POST or None, space=request.space)
    if request.method == "POST" and form.is_valid():
        made = apikey_create(
            space=request.space,
            name=form.cleaned_data["name"],
            organisation=form.cleaned_data["organisation"],
            actor=request.user,
        )
        # Rendered, not redirected: the token must never be stored, not even in the session
        # for one redirect. no-store keeps it out of the browser's cache and history.
        response = TemplateResponse(
            request,
            "api/key_created.html",
            {"key": made.key, "token": made.token, "site_url": settings.SITE_URL},
        )
        response["Cache-Control"] = "no-store"
        return response
    keys = (
        keys_visible(request.access, need=Perm.MANAGE_API_KEYS)
        .select_related("organisation", "created_by")
        .order_by("revoked_at", "-created_at", "-pk")
    )
    return render_form(request, "api/keys.html", {"keys": keys, "form": form}, form)


@space_view(Perm.MANAGE_API_KEYS)
@require_POST
def revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_apikey_for(request, key_id)
    if key.is_revoked:
        messages.info(request, f"“{key.name}” was already revoked.")
    else:
        apikey_revoke(key=key, actor=request.user)
        messages.success(
            request, f"“{key.name}” is revoked: calls with it are refused from now on."
        )
    return redirect("api_keys:index", request.space.slug)
