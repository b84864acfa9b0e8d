"""Claim links: the issuer's pages (a badge's links, one link with its QR code, the printable
poster) and the public pages a visitor claims through (``/c/<token>``, the emailed
confirmation). The rules live in ``badges.claims``; these views only ask and show."""

from __future__ import annotations

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badgeplatform import ratelimit
from badgeplatform.access import public_view, space_view
from badgeplatform.htmx import render_form, render_invalid
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from badgeplatform.ratelimit import Throttle
from badges import claims, engagement
from badges.access import badge_for, claim_link_for
from badges.applications import ApplicationSettingsForm, apply_url
from badges.issuing import BadgeNotIssuable
from badges.models import Badge, ClaimLink

WINDOW = 60
LINKS_PAGE = 25
# Confirmation emails to one address: a few an hour, whoever asks (no mail bombing).
EMAIL_THROTTLE = Throttle("claim-email", 5, 3600)
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _when(label: str, help_text: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        help_text=help_text,
    )


class ClaimLinkForm(forms.Form):
    name = forms.CharField(
        label="Label",
        max_length=120,
        required=False,
        help_text="For you, e.g. “Open day 2026”. Visitors do not see it.",
    )
    code = forms.CharField(
        label="Code",
        max_length=40,
        required=False,
        help_text="Visitors type it to claim, e.g. a word said in the session.",
    )
    limit = forms.IntegerField(
        label="Limit of claims",
        min_value=1,
        max_value=1_000_000,
        required=False,
        help_text="Leave empty for no limit.",
    )
    opens_at = _when("Opens", f"Leave empty to open now. Times in {settings.TIME_ZONE}.")
    closes_at = _when("Closes", "Leave empty to keep it open until you close it.")
    allowed_domains = forms.CharField(
        label="Email domains allowed",
        required=False,
        max_length=2000,
        help_text="E.g. “example.edu”, separated by commas; subdomains count. Empty: anyone.",
    )

    def clean_allowed_domains(self) -> list[str]:
        return claims.domains_clean(self.cleaned_data.get("allowed_domains") or "")

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The link must close after it opens.")
        return data


def _qr_svg(url: str) -> str:
    """The QR code as inline SVG (no script, no style: fits the CSP), sized by the page's CSS
    through its viewBox, with the standard four-module quiet zone."""
    svg = segno.make(url, error="m").svg_inline(
        scale=4, border=4, dark="#111", title="QR code to claim the badge", omitsize=True
    )
    return mark_safe(svg)  # noqa: S308 - segno's own markup; the URL is ours and escaped by it


def _links_page(request, badge: Badge, form: ClaimLinkForm, settings_form) -> HttpResponse:
    page = paginate(request, claims.claim_links_for(badge), LINKS_PAGE)
    links = list(page.object_list)
    for link in links:
        link.url = claims.claim_url(link)
        link.state_problem = link.problem()
    context = {
        "badge": badge,
        "links": links,
        "page": page,
        "form": form,
        "settings_form": settings_form,
        "apply_url": apply_url(badge),
        "may_review": request.access.can(Perm.REVIEW_APPLICATIONS, organisation=badge.organisation),
    }
    return render_form(request, "claims/badge.html", context, form, settings_form)


@space_view(Perm.ISSUE_BADGES)
@require_http_methods(["GET", "POST"])
def badge_links(request: HttpRequest, badge_id: int) -> HttpResponse:
    """A badge's claim links (with their figures), a form for a new one, and whether the badge
    accepts applications."""
    badge = badge_for(request.access, badge_id, need=Perm.ISSUE_BADGES)
    form = ClaimLinkForm()
    settings_form = ApplicationSettingsForm(
        initial={
            "accepts_applications": badge.accepts_applications,
            "application_instructions": badge.application_instructions,
        }
    )
    if request.method == "POST":
        if request.POST.get("action") == "applications":
            from badges.applications import badge_applications_set

            settings_form = ApplicationSettingsForm(request.POST)
            if settings_form.is_valid():
                badge_applications_set(
                    access=request.access,
                    badge=badge,
                    actor=request.user,
                    accepts=settings_form.cleaned_data["accepts_applications"],
                    instructions=settings_form.cleaned_data["application_instructions"],
                )
                messages.success(request, "Saved.")
                return redirect("claims:badge", request.space.slug, badge.pk)
            return _links_page(request, badge, form, settings_form)
        form = ClaimLinkForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                link = claims.claim_link_create(
                    access=request.access,
                    badge=badge,
                    actor=request.user,
                    name=data["name"],
                    code=data["code"],
                    limit=data["limit"],
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                    allowed_domains=data["allowed_domains"],
                )
            except (BadgeNotIssuable, ValidationError) as exc:
                form.add_error(None, exc.messages[0] if hasattr(exc, "messages") else str(exc))
            else:
                messages.success(request, "The claim link is ready: share it or print the poster.")
                return redirect("claims:link", request.space.slug, link.pk)
    return _links_page(request, badge, form, settings_form)


@space_view(Perm.ISSUE_BADGES)
@require_GET
def link_detail(request: HttpRequest, link_id: int) -> HttpResponse:
    link = claim_link_for(request.access, link_id)
    url = claims.claim_url(link)
    return TemplateResponse(
        request,
        "claims/link.html",
        {
            "link": link,
            "badge": link.badge,
            "url": url,
            "qr": _qr_svg(url),
            "problem": link.problem(),
        },
    )


@space_view(Perm.ISSUE_BADGES)
@require_GET
def poster(request: HttpRequest, link_id: int) -> HttpResponse:
    """A printable A4 poster: the badge, the QR code, the short address and the code."""
    link = claim_link_for(request.access, link_id)
    url = claims.claim_url(link)
    return TemplateResponse(
        request,
        "claims/poster.html",
        {
            "link": link,
            "badge": link.badge,
            "url": url,
            "short": url.split("://", 1)[-1],
            "qr": _qr_svg(url),
        },
    )


@space_view(Perm.ISSUE_BADGES)
@require_GET
def qr_png(request: HttpRequest, link_id: int) -> HttpResponse:
    """The QR code as a PNG file, for slides and print layouts of one's own."""
    link = claim_link_for(request.access, link_id)
    import io

    buffer = io.BytesIO()
    segno.make(claims.claim_url(link), error="m").save(buffer, kind="png", scale=12, border=4)
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="claim-{link.token}.png"'
    return response


@space_view(Perm.ISSUE_BADGES)
@require_POST
def close(request: HttpRequest, link_id: int) -> HttpResponse:
    link = claim_link_for(request.access, link_id)
    claims.claim_link_close(access=request.access, link=link, actor=request.user)
    messages.success(request, "The link is closed: nobody can claim through it any more.")
    return redirect("claims:link", request.space.slug, link.pk)


# ---- Public: the claim page and the confirmation ----------------------------------------------


class ClaimForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    code = forms.CharField(label="Code", max_length=40)

    def __init__(self, *args, link: ClaimLink, signed_in: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not link.code:
            del self.fields["code"]
        else:
            self.fields["code"].help_text = "The code on the poster or in the message you got."
        if signed_in:
            for name in ("email", "first_name", "last_name"):
                del self.fields[name]
        else:
            self.fields["email"].widget.attrs["autocomplete"] = "email"
            self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
            self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"


def _public_link(token: str) -> ClaimLink:
    return get_object_or_404(
        ClaimLink.objects.select_related("badge__graphic", "badge__issuer__current", "space"),
        token=token.lower(),
    )


def _throttled(request, context: dict, wait: int) -> HttpResponse:
    response = TemplateResponse(
        request, "claims/claim.html", {**context, "throttled": ratelimit.wait_text(wait)}
    )
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


def _done(request, outcome: claims.ClaimOutcome, link: ClaimLink) -> HttpResponse:
    """What the person sees once the award is made (or found): the badge and where it is. A
    person who has no password yet is sent on to set one (their address is proven: they came
    from the link emailed to it), then to their backpack."""
    user = outcome.user
    context = {"outcome": outcome, "badge": link.badge, "link": link}
    if not request.user.is_authenticated and not user.has_usable_password():
        from users.services import verification_url

        context["setup_url"] = verification_url(user)
    return TemplateResponse(request, "claims/done.html", context)


@public_view("A claim link's page: anyone with the link (or the poster's QR code) may claim.")
@require_http_methods(["GET", "POST"])
def claim_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _public_link(token)
    signed_in = request.user.is_authenticated and request.user.is_verified
    problem = link.problem()
    if not problem and not link.badge.is_issuable:
        problem = "This badge is not available at the moment."
    context = {"link": link, "badge": link.badge, "signed_in": signed_in, "problem": problem}
    if request.method == "GET":
        if engagement.countable(request):  # people, not prefetchers or link unfurlers
            claims.link_viewed(link)
        context["form"] = ClaimForm(link=link, signed_in=signed_in)
        return TemplateResponse(request, "claims/claim.html", context)
    limit = settings.CLAIM_RATE_LIMIT
    if ratelimit.hit(f"claim:{ratelimit.client_ip(request)}", WINDOW) > limit:
        context["form"] = ClaimForm(link=link, signed_in=signed_in)
        return _throttled(request, context, ratelimit.retry_after(WINDOW))
    form = ClaimForm(request.POST, link=link, signed_in=signed_in)
    context["form"] = form
    if not form.is_valid():
        return render_form(request, "claims/claim.html", context, form)
    data = form.cleaned_data
    try:
        if signed_in:
            outcome = claims.claim_for_user(link=link, user=request.user, code=data.get("code", ""))
            return _done(request, outcome, link)
        email = data["email"]
        if wait := ratelimit.spend([(EMAIL_THROTTLE, email)]):
            return _throttled(request, context, wait)
        claims.claim_start(
            link=link,
            email=email,
            first_name=data["first_name"],
            last_name=data["last_name"],
            code=data.get("code", ""),
        )
    except claims.ClaimRefused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return render_invalid(request, "claims/claim.html", context)
    return TemplateResponse(request, "claims/sent.html", {**context, "email": email})


@public_view("The confirmation link emailed to a claimant: the signed token is the credential.")
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the badge and a button (mail scanners that open links claim nothing); POST
    makes the award."""
    claim = claims.claim_from_token(token)
    if claim is None:
        return TemplateResponse(request, "claims/link_invalid.html", {}, status=400)
    link = claim.link
    context = {"claim": claim, "link": link, "badge": link.badge}
    if request.method == "POST":
        try:
            outcome = claims.claim_confirm(claim=claim)
        except claims.ClaimRefused as exc:
            context["error"] = exc.message
            return TemplateResponse(request, "claims/confirm.html", context, status=409)
        return _done(request, outcome, link)
    if claim.status != claim.Status.PENDING and claim.award_id:
        context["done_url"] = reverse("backpack:index")
    return TemplateResponse(request, "claims/confirm.html", context)
