import mimetypes
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from badgeplatform.access import public_view, space_view
from orgs.models import Organisation
from users.access import spaces_administered


@public_view("The front page: a landing page for visitors, a redirect for members.")
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        spaces = spaces_administered(request.user)
        if spaces:
            return redirect("dashboard", spaces[0].slug)
        return redirect("backpack:index")
    return TemplateResponse(request, "home.html", {})


@space_view()
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    from badges.models import Award, Badge, Graphic
    from issuers.models import Issuer
    from users.models import Member

    space = request.space
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    stats = {
        "organisations": Organisation.objects.for_space(space).count(),
        "members": Member.objects.for_space(space).count(),
        "issuers": Issuer.objects.for_space(space).count(),
        "graphics": Graphic.objects.for_space(space).in_library().count(),
        "published_badges": Badge.objects.for_space(space).published().count(),
        "awards": Award.objects.for_space(space).count(),
        "awards_this_month": Award.objects.for_space(space)
        .filter(issued_at__gte=month_start)
        .count(),
    }
    return TemplateResponse(request, "dashboard.html", {"stats": stats})


@public_view("Load balancer health check; says nothing about tenants.")
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


MEDIA_INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@public_view("Uploaded images under random names (badge graphics and logos are public).")
@require_GET
def media(request: HttpRequest, path: str) -> HttpResponse:
    root = Path(settings.MEDIA_ROOT).resolve()
    # A NUL byte or a name too long for the filesystem is no file of ours, not a server error.
    if "\x00" in path:
        raise Http404("No such file")
    try:
        target = (root / path).resolve()
        found = root in target.parents and target.is_file()
    except (ValueError, OSError):
        found = False
    if not found:
        raise Http404("No such file")
    # The image pipeline only ever writes these; anything else that found its way in (an old
    # file, a hand-copied .html or .svg) is a download, never a document of our origin.
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if content_type not in MEDIA_INLINE_TYPES:
        content_type = "application/octet-stream"
    response = FileResponse(
        target.open("rb"),
        content_type=content_type,
        as_attachment=content_type == "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, an upload can load and run nothing, and is a unique origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400"
    return response


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The Django admin's sign-in (/admin/login/), throttled exactly like the site's: the same
    counters (users/throttles.py), so an account has one budget whichever form is used."""
    from django.contrib import admin
    from django.contrib.admin import AdminSite

    from users import throttles

    if request.method != "POST":
        return AdminSite.login(admin.site, request, extra_context)
    identifier = request.POST.get("username", "")
    if wait := throttles.sign_in_attempt(request, identifier):
        message = throttles.message("failed sign-in attempts", wait) + (
            " You can also reset your password."
        )
        page = TemplateResponse(
            request, "throttled.html", {"message": message, "retry_url": request.path}
        )
        return throttles.throttled(page, wait)
    response = AdminSite.login(admin.site, request, extra_context)
    if response.status_code == 302 and request.user.is_authenticated:
        throttles.sign_in_succeeded(request, identifier)
    return response
