import mimetypes
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from badgeplatform.access import public_view, space_view
from badgeplatform.health import health_response
from badgeplatform.permissions import Perm
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
    """The space's home, truthful for each person: every figure counts only the organisations
    the person's roles cover for it, and every checklist item and link appears only with the
    permission its page needs. A plain recipient sees their own awards and the backpack.

    Queries: one count per figure shown (a space administrator: organisations, members,
    issuers, published badges, awards with this month's in one aggregate), plus the root
    organisation for the "Create your space" item; a recipient: their own awards (1).
    """
    from badges.models import Award, Badge
    from issuers.models import Issuer
    from users.models import Member, Membership
    from users.places import members_in_reach_q

    space, access = request.space, request.access
    can = {
        "space": access.can(Perm.MANAGE_SETTINGS),
        "organisations": access.can_anywhere(Perm.MANAGE_ORGANISATIONS),
        "members": access.can_anywhere(Perm.MANAGE_USERS),
        "issuers": access.can_anywhere(Perm.MANAGE_ISSUERS),
        "badges": any(access.can_anywhere(p) for p in BADGE_PERMS),
        "create_badges": access.can_anywhere(Perm.CREATE_BADGES),
        "issue": access.can_anywhere(Perm.ISSUE_BADGES),
        "awards": any(access.can_anywhere(p) for p in AWARD_PERMS),
    }
    stats: dict[str, int] = {}
    if can["organisations"]:
        stats["organisations"] = (
            Organisation.objects.for_space(space)
            .filter(access.organisations_q(Perm.MANAGE_ORGANISATIONS))
            .count()
        )
    if can["members"]:
        members = Member.objects.for_space(space)
        reach = members_in_reach_q(access)
        if reach is not None:
            members = members.filter(
                Exists(
                    Membership.objects.filter(space=space, user=OuterRef("user_id")).filter(reach)
                )
            )
        stats["members"] = members.count()
    if can["issuers"]:
        stats["issuers"] = (
            Issuer.objects.for_space(space)
            .filter(access.organisations_q(Perm.MANAGE_ISSUERS, "organisation__"))
            .count()
        )
    if can["badges"]:
        stats["published_badges"] = (
            Badge.objects.for_space(space)
            .published()
            .filter(_any_of(access, BADGE_PERMS, "organisation__"))
            .count()
        )
    if can["awards"]:
        # Awards as the reports count them (the organisation issued in) or as the awards list
        # shows them (the badge's organisation, for those who issue or revoke).
        month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        seen = access.organisations_q(Perm.VIEW_REPORTS, "organisation__") | _any_of(
            access, (Perm.ISSUE_BADGES, Perm.REVOKE_AWARDS), "badge__organisation__"
        )
        stats.update(
            Award.objects.for_space(space)
            .filter(seen)
            .aggregate(
                awards=Count("pk"),
                awards_this_month=Count("pk", filter=Q(issued_at__gte=month_start)),
            )
        )
    own_awards = None
    if not access.is_admin:
        own_awards = Award.objects.for_space(space).filter(recipient=request.user).count()
    return TemplateResponse(
        request, "dashboard.html", {"stats": stats, "can": can, "own_awards": own_awards}
    )


BADGE_PERMS = (Perm.CREATE_BADGES, Perm.PUBLISH_BADGES, Perm.ISSUE_BADGES)
AWARD_PERMS = (Perm.VIEW_REPORTS, Perm.ISSUE_BADGES, Perm.REVOKE_AWARDS)


def _any_of(access, perms, prefix: str) -> Q:
    q = Q(pk__in=[])
    for perm in perms:
        q |= access.organisations_q(perm, prefix)
    return q


@public_view("Load balancer health check; says nothing about tenants.")
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    # Answered by badgeplatform.health.HealthCheckMiddleware before this view is reached; the
    # URL stays so that it is named, reversible and in the role matrix.
    return health_response()


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
