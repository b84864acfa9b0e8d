import mimetypes
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
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
    """The space's home, one per person: only what their roles allow, and no link they could
    not follow (tests/core/test_dashboard.py opens every link as each default role).

    - everyone: their own badges from this space, and those expiring within EXPIRING_DAYS
      (an administrator sees the section only when they hold some);
    - issuers: the published badges they may issue, each with a one-click "Issue", and the
      recent batches they may see;
    - administrators (the space, its tree or its people): the figures their roles cover and
      the getting-started checklist, each item linking to the page where it is done.

    Queries: one per figure shown (a space administrator: organisations, members, issuers,
    published badges, awards with this month's in one aggregate), the root organisation for
    the checklist, the person's recent and expiring awards (2), and for issuers their badges
    and recent batches (2). Nothing grows with the space.
    """
    from badges.access import (
        applications_visible,
        awards_visible,
        badges_visible,
        batches_visible,
    )
    from badges.applications import pending_for
    from badges.models import Award, Badge
    from issuers.models import Issuer
    from users.models import Member, Membership
    from users.places import members_in_reach_q

    space, access = request.space, request.access
    can = {
        "space": access.can(Perm.MANAGE_SETTINGS),
        "branding": access.can(Perm.MANAGE_BRANDING),
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

    # The person's own badges: active ones, newest first, and those about to expire.
    now = timezone.now()
    mine = (
        Award.objects.for_space(space)
        .active()
        .filter(recipient=request.user)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("badge__graphic")
        .only("public_id", "issued_at", "expires_at", "badge__name", "badge__graphic__image")
    )
    own_awards = list(mine.order_by("-issued_at", "-pk")[:OWN_AWARDS_SHOWN])
    expiring = list(
        mine.filter(expires_at__lte=now + timedelta(days=EXPIRING_DAYS)).order_by("expires_at")[
            :OWN_AWARDS_SHOWN
        ]
    )

    issuable, batches, expiring_awards = [], [], []
    if can["issue"]:
        from badges.expiry import expiring_q

        # Awards of the badges they issue that expire soon (renewable from the awards list).
        expiring_awards = list(
            awards_visible(access, need=Perm.ISSUE_BADGES)
            .filter(expiring_q(now, EXPIRING_DAYS))
            .select_related("recipient")
            .only(
                "expires_at",
                "badge_snapshot",
                "recipient__first_name",
                "recipient__last_name",
                "recipient__username",
            )
            .order_by("expires_at", "pk")[:EXPIRING_AWARDS_SHOWN]
        )
        issuable = list(
            badges_visible(access, need=Perm.ISSUE_BADGES)
            .published()
            .select_related("graphic")
            .only("name", "organisation_id", "graphic__image")
            .order_by("name", "pk")[:ISSUABLE_SHOWN]
        )
        batches = list(
            batches_visible(access)
            .select_related("badge")
            .only("status", "source", "total", "issued", "failed", "created_at", "badge__name")
            .order_by("-created_at", "-pk")[:BATCHES_SHOWN]
        )
    # What waits for the person (claims to confirm, applications under review: one query) and,
    # for reviewers, the applications waiting for a decision (one count).
    pending = pending_for(request.user, space)
    waiting_applications = None
    if access.can_anywhere(Perm.REVIEW_APPLICATIONS):
        waiting_applications = applications_visible(access).filter(status="submitted").count()
    # The checklist is an administrator's (the space, its tree, its people); an issuer or a
    # badge creator has their own sections instead.
    is_administrator = can["space"] or can["organisations"] or can["members"]
    checklist = _checklist(request, can, stats) if is_administrator else []
    return TemplateResponse(
        request,
        "dashboard.html",
        {
            "stats": stats,
            "can": can,
            "own_awards": own_awards,
            "expiring": expiring,
            "expiring_days": EXPIRING_DAYS,
            "show_own": bool(own_awards) or not access.is_admin,
            "issuable": issuable,
            "issuable_shown": ISSUABLE_SHOWN,
            "batches": batches,
            "expiring_awards": expiring_awards,
            "expiring_awards_shown": EXPIRING_AWARDS_SHOWN,
            "checklist": checklist,
            "pending": pending,
            "waiting_applications": waiting_applications,
        },
    )


OWN_AWARDS_SHOWN = 6
EXPIRING_DAYS = 30
EXPIRING_AWARDS_SHOWN = 6
ISSUABLE_SHOWN = 8
BATCHES_SHOWN = 5


def _checklist(request: HttpRequest, can: dict[str, bool], stats: dict[str, int]) -> list[dict]:
    """The getting-started items this person can act on, each with the page where it is done
    (only pages their roles open)."""
    slug = request.space.slug
    items = []
    if can["space"]:
        # The space exists; what is left is to make it look like theirs (or to see the plans).
        url, action = (
            (reverse("branding:branding", args=[slug]), "Add your colours and logo")
            if can["branding"]
            else (reverse("branding:plan", args=[slug]), "See your plan")
        )
        root = request.space.root_organisation
        items.append(
            {
                "title": "Create your space",
                "text": f"Your organisation “{root.name}” is the root of your tree.",
                "done": True,
                "url": url,
                "action": action,
            }
        )
    if can["organisations"]:
        items.append(
            {
                "title": "Build your organisation tree",
                "text": "Add departments, teams or regions under your organisation.",
                "done": stats["organisations"] > 1,
                "url": reverse("orgs:tree", args=[slug]),
                "action": "Open the tree",
            }
        )
    if can["members"]:
        items.append(
            {
                "title": "Invite your colleagues",
                "text": "Give badge creators, issuers and reporters the roles they need.",
                "done": stats["members"] > 1,
                "url": reverse("users:create", args=[slug]),
                "action": "Create a user",
            }
        )
    if can["issuers"]:
        items.append(
            {
                "title": "Describe who issues your badges",
                "text": "An issuer profile: name, website, contact email and logo.",
                "done": bool(stats["issuers"]),
                "url": reverse("issuers:create", args=[slug]),
                "action": "Add an issuer",
            }
        )
    if can["create_badges"]:
        items.append(
            {
                "title": "Design and publish your first badge",
                "text": "Pick an issuer, a graphic and criteria, then publish.",
                "done": bool(stats.get("published_badges")),
                "url": reverse("badges:create", args=[slug]),
                "action": "Create a badge",
            }
        )
    if can["issue"]:
        items.append(
            {
                "title": "Issue it",
                "text": "Recipients get an email and keep a verifiable badge.",
                "done": bool(stats.get("awards")),
                "url": reverse("issuing:start", args=[slug]),
                "action": "Issue a badge",
            }
        )
    return items


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
        # private/: files only their own pages serve, after their own checks (application
        # evidence), however the path is spelt.
        found = (
            root in target.parents and root / "private" not in target.parents and target.is_file()
        )
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
        if (detour := admin_second_factor_detour(request)) is not None:
            return detour
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
    from django.contrib.admin.forms import AdminAuthenticationForm

    from users import signin

    form = AdminAuthenticationForm(request, data=request.POST)
    if not form.is_valid():
        return AdminSite.login(admin.site, request, extra_context)  # the form with its errors
    throttles.sign_in_succeeded(request, identifier)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    # Through the site's sign-in flow: the second factor is asked for when set up.
    return signin.sign_in(
        request, form.get_user(), redirect_url=next_url or reverse("admin:index"), via="admin"
    )


def admin_has_permission(request: HttpRequest) -> bool:
    """admin.site.has_permission: active staff, and with ADMIN_REQUIRE_MFA (on when DEBUG=0) a
    second factor given in this session (at sign-in, or confirmed since: docs/mfa.md)."""
    from django.contrib import admin
    from django.contrib.admin import AdminSite

    from users import signin

    if not AdminSite.has_permission(admin.site, request):
        return False
    return not settings.ADMIN_REQUIRE_MFA or signin.session_used_second_factor(request)


def admin_second_factor_detour(request: HttpRequest) -> HttpResponse | None:
    """Staff signed in without a second factor in this session, sent to the admin's sign-in
    by admin_has_permission: to confirm their factor, or to set one up first."""
    from django.contrib import messages
    from django.utils.http import urlencode

    from users import mfa, signin

    user = request.user
    if not (settings.ADMIN_REQUIRE_MFA and user.is_authenticated and user.is_active):
        return None
    if not user.is_staff or signin.session_used_second_factor(request):
        return None
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if mfa.has_second_factor(user):
        messages.info(request, "The admin needs your second factor: confirm it to continue.")
        return redirect(reverse("mfa_reauthenticate") + "?" + urlencode({"next": next_url}))
    messages.warning(
        request,
        "The admin needs a second factor. Set up an authenticator app or a passkey, then open "
        "the admin again.",
    )
    return redirect(reverse("accounts:settings") + "#two-factor")
