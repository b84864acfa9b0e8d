"""Issuer profiles ('Preparing Badges' → 'Issuers').

Issuers belong to an organisation; "manage issuers" held there or above lets a person create and
edit them. Editing adds a profile version (see issuers.services) so earlier awards keep the
profile they were issued under.
"""

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from badgeplatform.access import space_view
from badgeplatform.htmx import render_form
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from issuers import panels, services
from issuers.access import issuer_for, issuers_visible
from issuers.forms import IssuerForm
from issuers.models import Issuer

PAGE_SIZE = 25


def get_issuer_for(request: HttpRequest, issuer_id: int) -> Issuer:
    """The issuer with this id in the request's space whose organisation the user manages
    issuers on (anything else is a 404, as if missing)."""
    return issuer_for(request.access, issuer_id, need=Perm.MANAGE_ISSUERS)


@space_view(Perm.MANAGE_ISSUERS)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The issuers of the organisations the user manages issuers for.

    Queries: the count and one page of issuers with their current profile, organisation and
    badge count (a join + GROUP BY), whatever the page holds.
    """
    issuers = (
        issuers_visible(request.access, need=Perm.MANAGE_ISSUERS)
        .with_profile()
        .annotate(badge_count=Count("badges"))
        .order_by("current__name", "pk")
    )
    page = paginate(request, issuers, PAGE_SIZE)
    return TemplateResponse(request, "issuers/list.html", {"page": page})


@space_view(Perm.MANAGE_ISSUERS)
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    form = IssuerForm(request.POST or None, request.FILES or None, access=request.access)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The organisation field only offers nodes the user may manage issuers on.
        issuer = services.issuer_create(
            access=request.access,
            space=request.space,
            organisation=data["organisation"],
            actor=request.user,
            name=data["name"],
            website=data["website"],
            email=data["email"],
            description=data["description"],
            logo=data["logo"],
        )
        messages.success(request, f"Issuer “{issuer.name}” created.")
        return redirect("issuers:detail", request.space.slug, issuer.pk)
    return render_form(request, "issuers/form.html", {"form": form, "issuer": None}, form)


@space_view(Perm.MANAGE_ISSUERS)
@require_GET
def detail(request: HttpRequest, issuer_id: int) -> HttpResponse:
    """The current profile, every earlier version, the badges that name this issuer and the
    sections other apps add (its signing keys: see issuers.panels)."""
    issuer = get_issuer_for(request, issuer_id)
    versions = issuer.versions.select_related("created_by")
    badges = issuer.badges.select_related("organisation").order_by("name")[:50]
    return TemplateResponse(
        request,
        "issuers/detail.html",
        {
            "issuer": issuer,
            "versions": versions,
            "badges": badges,
            "panels": panels.render(request, issuer),
        },
    )


@space_view(Perm.MANAGE_ISSUERS)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, issuer_id: int) -> HttpResponse:
    issuer = get_issuer_for(request, issuer_id)
    current = issuer.current
    initial = {
        "name": current.name,
        "organisation": issuer.organisation_id,
        "website": current.website,
        "description": current.description,
        "email": current.email,
    }
    form = IssuerForm(
        request.POST or None,
        request.FILES or None,
        access=request.access,
        initial=initial,
        has_logo=bool(current.logo),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = services.issuer_update(
            access=request.access,
            issuer=issuer,
            actor=request.user,
            organisation=data["organisation"],
            logo=data["logo"],
            remove_logo=data.get("remove_logo", False),
            name=data["name"],
            website=data["website"],
            email=data["email"],
            description=data["description"],
        )
        if version.pk == current.pk:
            messages.info(request, "Nothing changed.")
        else:
            messages.success(
                request,
                f"Saved as profile version {version.number}. Awards made from now on carry it; "
                "earlier awards keep the profile they were issued with.",
            )
        return redirect("issuers:detail", request.space.slug, issuer.pk)
    return render_form(request, "issuers/form.html", {"form": form, "issuer": issuer}, form)
