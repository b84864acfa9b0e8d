"""The Graphics Library ('Preparing Badges' → 'Graphics Library'): upload, design, archive.

Graphics belong to the space, not to an organisation (one library that every badge of the
space picks from), so "manage graphics" held on any organisation is enough to manage the
library. Choosing a graphic for a badge needs only "create badges" (see badges.views).
"""

from __future__ import annotations

import base64

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badgeplatform.access import space_view
from badgeplatform.htmx import render_form
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from badges import services
from badges.access import badge_for, graphic_for, graphics_visible
from badges.designer import render_badge
from badges.forms import DesignerForm, GraphicUploadForm, designer_initial
from badges.models import Badge, Graphic
from badges.views import can_edit

PAGE_SIZE = 24
PREVIEW_SIZE = 300  # half the saved size: cheap enough to redraw on every change


def get_graphic_for(request: HttpRequest, graphic_id: int | str | None) -> Graphic:
    """A graphic of the request's space (archived ones too: they can still be a starting
    point); anything else is a 404."""
    if graphic_id is None:
        raise Http404("No such graphic")
    return graphic_for(request.access, graphic_id, need=Perm.MANAGE_GRAPHICS)


def _target_badge(request: HttpRequest) -> Badge | None:
    """The badge the designer was opened for (?badge=id), if the user may edit it; the new
    graphic is put on it when saved. Anything else is silently ignored."""
    raw = request.POST.get("badge") or request.GET.get("badge") or ""
    if not raw.isdigit():
        return None
    try:
        badge = badge_for(request.access, raw, need=Perm.CREATE_BADGES)
    except Http404:
        return None
    return badge if can_edit(request.access, badge) else None


@space_view(Perm.MANAGE_GRAPHICS)
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    """The library, newest first, with how many badges use each graphic.

    Queries: the count and one page of graphics with a badge count (a join + GROUP BY).
    """
    graphics = (
        graphics_visible(request.access, need=Perm.MANAGE_GRAPHICS)
        .in_library()
        .annotate(badge_count=Count("badges"))
        .order_by("-created_at", "-pk")
    )
    page = paginate(request, graphics, PAGE_SIZE)
    return TemplateResponse(request, "badges/graphics/library.html", {"page": page})


@space_view(Perm.MANAGE_GRAPHICS)
@require_GET
def create(request: HttpRequest) -> HttpResponse:
    """'Create graphic': design one here or upload an image."""
    return TemplateResponse(request, "badges/graphics/create.html", {})


@space_view(Perm.MANAGE_GRAPHICS)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = GraphicUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        graphic = services.graphic_upload(
            space=request.space,
            actor=request.user,
            name=form.cleaned_data["name"],
            image=form.cleaned_data["image"],
        )
        messages.success(request, f"“{graphic.name}” is in the library.")
        return redirect("graphics:index", request.space.slug)
    return render_form(request, "badges/graphics/upload.html", {"form": form}, form)


def _preview_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@space_view(Perm.MANAGE_GRAPHICS)
@require_http_methods(["GET", "POST"])
def design(request: HttpRequest) -> HttpResponse:
    """The designer. Every change redraws a preview (htmx posts the form, the preview region
    is swapped); "Save graphic" draws it at full size and keeps the choices.

    ``?from=<graphic id>`` starts from a saved design; ``?badge=<badge id>`` puts the new
    graphic on that badge and goes back to it.
    """
    raw_base = request.POST.get("base") or request.GET.get("from")
    base = get_graphic_for(request, raw_base) if raw_base else None
    base_design = base.design if base is not None and base.design else None
    base_icon = services.design_icon_bytes(base_design)
    target = _target_badge(request)

    if request.method == "GET":
        form = DesignerForm(initial=designer_initial(base_design), base_icon=bool(base_icon))
        if base is not None:
            form.initial.setdefault("name", f"{base.name} (copy)")
        design_obj = form_design_from_initial(form, base_icon)
    else:
        form = DesignerForm(request.POST, request.FILES, base_icon=bool(base_icon))
        design_obj, kept = None, False
        if form.is_valid():
            icon = form.cleaned_data.get("icon")
            icon_bytes = icon.read() if icon else None
            kept = icon_bytes is None and form.cleaned_data.get("keep_icon") and base_icon
            design_obj = form.design(icon_bytes or (base_icon if kept else None))
            try:
                design_obj.validate()
            except ValueError as exc:
                form.add_error(None, str(exc))
                design_obj = None

        if design_obj is not None and request.POST.get("action") == "save":
            graphic = services.graphic_design(
                space=request.space,
                actor=request.user,
                name=form.graphic_name(),
                design=design_obj,
                icon_path=(base_design or {}).get("icon") if kept else None,
                based_on=base,
            )
            if target is not None:
                services.badge_update(
                    access=request.access, badge=target, actor=request.user, graphic=graphic
                )
                messages.success(
                    request,
                    f"“{graphic.name}” is saved in the library and is now this badge's graphic.",
                )
                url = reverse("badges:edit", args=[request.space.slug, target.pk])
                return redirect(f"{url}?tab=graphic")
            messages.success(request, f"“{graphic.name}” is saved in the library.")
            return redirect("graphics:index", request.space.slug)

    preview = _preview_data_url(render_badge(design_obj, size=PREVIEW_SIZE)) if design_obj else ""
    context = {
        "form": form,
        "preview": preview,
        "base": base,
        "target": target,
    }
    if request.htmx and request.POST.get("action") == "preview":
        return render_form(request, "badges/graphics/design.html#preview", context, form)
    return render_form(request, "badges/graphics/design.html", context, form)


def form_design_from_initial(form: DesignerForm, icon: bytes | None):
    """The design an unbound designer form shows (its initial values), for the first preview."""
    values = {name: form.initial.get(name, field.initial) for name, field in form.fields.items()}
    bound = DesignerForm(values, base_icon=bool(icon))
    if not bound.is_valid():
        return None
    design_obj = bound.design(icon)
    try:
        design_obj.validate()
    except ValueError:
        return None
    return design_obj


@space_view(Perm.MANAGE_GRAPHICS)
@require_POST
def archive(request: HttpRequest, graphic_id: int) -> HttpResponse:
    """Remove a graphic from the library (refused while a badge uses it; the file stays)."""
    graphic = get_graphic_for(request, graphic_id)
    try:
        services.graphic_archive(graphic=graphic, actor=request.user)
    except services.GraphicInUse as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"“{graphic.name}” was removed from the library.")
    return redirect("graphics:index", request.space.slug)
