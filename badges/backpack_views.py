"""The backpack: a recipient's own awards from every space, in the platform's look.

Outside any space (``user_view``): an award is found by its public id *and* the signed-in
recipient in one query, so another person's award is a 404, exactly like a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badgeplatform.access import user_view
from badgeplatform.pagination import paginate
from badges import backpack_export, backpack_panels, engagement, links
from badges.awards import TransitionRefused, award_accept, award_decline, award_set_public
from badges.expiry import expiring_q
from badges.issuing_forms import VisibilityForm
from badges.models import Award
from users.access import spaces_administered

PAGE_SIZE = 24
EXPIRING_DAYS = 30  # "expires soon" in the backpack


def image_url(award: Award) -> str:
    """The badge graphic as issued (the snapshot's path; graphics are never rewritten)."""
    path = award.badge_snapshot.get("image") or ""
    return default_storage.url(path) if path else ""


def get_own_award(request: HttpRequest, public_id) -> Award:
    award = (
        Award.objects.filter(public_id=public_id, recipient=request.user)
        .select_related("issuer_version", "space", "revoked_by")
        .first()
    )
    if award is None:
        raise Http404("No such award in your backpack")
    return award


def embed_snippet(award: Award) -> str:
    """The HTML a recipient pastes into their own site: the badge image (the baked PNG, so
    it carries the award) linking to the public verification page. Every value is escaped."""
    name = award.badge_snapshot.get("name", "Badge")
    # A plain str (not SafeString): the page shows the code as text, escaped once more.
    return "".join(
        [
            format_html(
                '<a href="{}" target="_blank" rel="noopener">'
                '<img src="{}" alt="{}" width="120" height="120"></a>',
                links.assertion_url(award),
                links.baked_image_url(award),
                f"{name}: a verified Open Badge from {award.issuer_version.name}",
            )
        ]
    )


@user_view
@require_GET
def my_badges(request: HttpRequest) -> HttpResponse:
    """Every award to the signed-in person, newest first, and above them those that expire
    within EXPIRING_DAYS (not renewed yet).
    Queries: count and one page (with issuer profile and space, and whether each was renewed),
    and the expiring ones."""
    now = timezone.now()
    awards = (
        Award.objects.filter(recipient=request.user)
        .select_related("issuer_version", "space")
        .annotate(is_renewed=Exists(Award.objects.filter(renews=OuterRef("pk"))))
        .order_by("-issued_at", "-pk")
    )
    page = paginate(request, awards, PAGE_SIZE)
    cards = [
        {
            "award": a,
            "image_url": image_url(a),
            "expires_soon": a.state == "valid"
            and not a.is_renewed
            and a.expires_within(EXPIRING_DAYS, now),
        }
        for a in page.object_list
    ]
    expiring = list(
        Award.objects.filter(recipient=request.user)
        .filter(expiring_q(now, EXPIRING_DAYS))
        .select_related("issuer_version")
        .only("public_id", "expires_at", "badge_snapshot", "issuer_version__name")
        .order_by("expires_at", "pk")[:10]
    )
    return TemplateResponse(
        request,
        "backpack/list.html",
        {
            "page": page,
            "cards": cards,
            "expiring": expiring,
            "expiring_days": EXPIRING_DAYS,
            "admin_spaces": spaces_administered(request.user),
            # Badges added from elsewhere (the Open Badges 3.0 API), beside ours.
            "sections": backpack_panels.render_list(request),
        },
    )


@user_view
@require_GET
def download_all(request: HttpRequest) -> StreamingHttpResponse:
    """Every award of mine as a zip (badges.backpack_export), streamed: the list is read
    here (one query), each award's credential and baked image while the zip is sent."""
    entries, declined = backpack_export.entries_for(request.user)
    response = StreamingHttpResponse(
        backpack_export.zip_stream(entries, declined), content_type="application/zip"
    )
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="my-badges-{stamp}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@user_view
@require_GET
def award_detail(request: HttpRequest, award_id) -> HttpResponse:
    award = get_own_award(request, award_id)
    snapshot = award.badge_snapshot
    return TemplateResponse(
        request,
        "backpack/award.html",
        {
            "award": award,
            "snapshot": snapshot,
            "attributes": snapshot.get("attributes", []),
            "image_url": image_url(award),
            "public_url": links.assertion_url(award),
            "baked_url": links.baked_image_url(award),
            # Open Badges 3.0: the signed credential, alone and baked into PNG and SVG.
            "ob3_png_url": links.download(links.credential_image_url(award)),
            "ob3_svg_url": links.download(links.credential_svg_url(award)),
            "ob3_json_url": links.download(links.credential_url(award)),
            "certificate_url": links.certificate_url(award),
            # Through the share counter, which sends the person on to LinkedIn's form.
            "linkedin_url": links.share_url(award, "linkedin_profile"),
            "share_buttons": [
                (target, label, links.share_url(award, target))
                for target, label in engagement.SHARE_TARGETS.items()
                if target != "linkedin_profile"
            ],
            "embed_snippet": embed_snippet(award),
            "admin_spaces": spaces_administered(request.user),
            # "Add to wallet" (the Open Badges 3.0 API's hand-off).
            "sections": backpack_panels.render_award(request, award),
        },
    )


@user_view
@require_POST
def accept(request: HttpRequest, award_id) -> HttpResponse:
    """The recipient keeps the award (the backpack stops asking)."""
    award = get_own_award(request, award_id)
    try:
        award_accept(award=award, actor=request.user)
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "You accepted this award.")
    return redirect("backpack:award", award.public_id)


@user_view
@require_http_methods(["GET", "POST"])
def decline(request: HttpRequest, award_id) -> HttpResponse:
    """GET: what declining means, and the button; POST: decline (final)."""
    award = get_own_award(request, award_id)
    if request.method == "POST":
        try:
            award_decline(award=award, actor=request.user)
        except TransitionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                "You declined this award. It is no longer shown or verifiable publicly.",
            )
        return redirect("backpack:award", award.public_id)
    if award.is_declined or award.is_revoked:
        return redirect("backpack:award", award.public_id)
    return TemplateResponse(
        request,
        "backpack/decline.html",
        {"award": award, "snapshot": award.badge_snapshot, "image_url": image_url(award)},
    )


@user_view
@require_POST
def visibility(request: HttpRequest, award_id) -> HttpResponse:
    """The recipient shows (or hides) their name on the award's public page."""
    award = get_own_award(request, award_id)
    form = VisibilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose public or private.")
        return redirect("backpack:award", award.public_id)
    award_set_public(award=award, actor=request.user, is_public=form.cleaned_data["is_public"])
    if award.is_public:
        messages.success(request, "Your name now shows on this award's public page.")
    else:
        messages.success(request, "Your name is hidden on this award's public page.")
    return redirect("backpack:award", award.public_id)
