from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods

from badgeplatform.access import public_view, space_view
from badgeplatform.htmx import INVALID_FORM_STATUS
from badgeplatform.permissions import Perm
from branding import images, services
from branding.colours import contrast_checks
from branding.emails import (
    PLACEHOLDER_LABELS,
    authored_content,
    render_authored,
    sample_values,
    spec_for,
    token,
)
from branding.forms import (
    ColoursForm,
    EmailTemplateForm,
    ImageUploadForm,
    LandingPageForm,
    SharingForm,
)
from branding.landing import render_landing_text
from branding.models import HEX_COLOUR, EmailKind, EmailTemplate, get_branding_for
from branding.plans import (
    FEATURE_DETAILS,
    FEATURE_LABELS,
    PLANS,
    TRIAL_DAYS,
    Feature,
    FeatureNotInPlan,
    cheapest_plan_with,
    require_feature,
    space_plan,
)
from orgs.models import Plan, Space


def plan_refusals_explained(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A plan-only action on a plan without it: 403 with a page that says why and what to do."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except FeatureNotInPlan as refusal:
            return TemplateResponse(
                request,
                "branding/plan_required.html",
                {
                    "refusal": refusal,
                    "feature_label": FEATURE_LABELS[refusal.feature],
                    "needed": refusal.needed,
                    "plan": refusal.plan,
                    "upgrade": _upgrade(request, refusal.feature),
                },
                status=403,
            )

    return wrapper


def _upgrade(request: HttpRequest, feature: Feature) -> dict[str, Any]:
    """Template data for a locked feature: what it does, the plan that has it, and the way to
    it — the Plans page with its trial for those who manage the settings, else who to ask."""
    space = request.space
    needed = cheapest_plan_with(feature)
    can_settings = request.access.can(Perm.MANAGE_SETTINGS)
    return {
        "label": FEATURE_LABELS[feature],
        "detail": FEATURE_DETAILS[feature],
        "needed": needed,
        "plan_name": space_plan(space).name,
        "trial_name": space_plan(space).trial_name,
        "plans_url": reverse("branding:plan", args=[space.slug]) if can_settings else "",
        "can_try": space.trial_started_at is None and needed.position > space_plan(space).position,
    }


# ---- System settings → Branding ------------------------------------------------------------

BRANDING_ACTIONS = {
    "save_colours",
    "reset_colours",
    "upload_logo",
    "remove_logo",
    "upload_icon",
    "remove_icon",
    "save_sharing",
}


@space_view(Perm.MANAGE_BRANDING)
@require_http_methods(["GET", "POST"])
@plan_refusals_explained
def branding(request: HttpRequest) -> HttpResponse:
    """Colours (with contrast warnings and reset), logo and icon."""
    space = request.space
    plan = space_plan(space)
    current = get_branding_for(space)
    colours_form = ColoursForm(initial=current.colours)
    logo_form = ImageUploadForm(prefix="logo", **images.LOGO_FORM)
    icon_form = ImageUploadForm(prefix="icon", **images.ICON_FORM)
    sharing_form = SharingForm(
        initial={"linkedin_organization_id": current.linkedin_organization_id}
    )
    status = 200
    if request.method == "POST" and request.POST.get("action") == "save_sharing":  # every plan
        sharing_form = SharingForm(request.POST)
        if sharing_form.is_valid():
            services.branding_set_linkedin(
                actor=request.user,
                space=space,
                organization_id=sharing_form.cleaned_data["linkedin_organization_id"],
            )
            messages.success(request, "Sharing settings saved.")
            return redirect("branding:branding", space.slug)
        status = INVALID_FORM_STATUS
    elif request.method == "POST":
        action = request.POST.get("action", "")
        if action not in BRANDING_ACTIONS:
            return HttpResponseBadRequest("Unknown action")
        if action.endswith("colours"):
            require_feature(space, Feature.CUSTOM_COLOURS)
        else:
            require_feature(space, Feature.CUSTOM_LOGO)
        if action == "save_colours":
            colours_form = ColoursForm(request.POST)
            if colours_form.is_valid():
                saved = services.branding_set_colours(
                    actor=request.user, space=space, **colours_form.cleaned_data
                )
                messages.success(request, "Colours saved. Every page of the space now uses them.")
                for check in contrast_checks(**saved.colours):
                    if not check.passes:
                        messages.warning(request, check.message)
                return redirect("branding:branding", space.slug)
            status = INVALID_FORM_STATUS
        elif action == "reset_colours":
            services.branding_reset_colours(actor=request.user, space=space)
            messages.success(request, "Colours are back to the platform defaults.")
            return redirect("branding:branding", space.slug)
        elif action.startswith("upload_"):
            which = action.removeprefix("upload_")
            form = ImageUploadForm(
                request.POST,
                request.FILES,
                prefix=which,
                **(images.LOGO_FORM if which == "logo" else images.ICON_FORM),
            )
            if form.is_valid():
                services.branding_set_image(
                    actor=request.user, space=space, which=which, image=form.cleaned_data["image"]
                )
                messages.success(request, f"The new {which} is in place.")
                return redirect("branding:branding", space.slug)
            logo_form, icon_form = (form, icon_form) if which == "logo" else (logo_form, form)
            status = INVALID_FORM_STATUS
        else:  # remove_logo / remove_icon
            which = action.removeprefix("remove_")
            services.branding_set_image(actor=request.user, space=space, which=which, image=None)
            messages.success(request, f"The {which} was removed.")
            return redirect("branding:branding", space.slug)

    # The warnings shown next to the colours: for what was typed when it is valid, else saved.
    shown = current.colours
    if colours_form.is_bound and colours_form.is_valid():
        shown = {k: v or shown[k] for k, v in colours_form.cleaned_data.items()}
    context = {
        "plan": plan,
        "can_colours": plan.has(Feature.CUSTOM_COLOURS),
        "can_logo": plan.has(Feature.CUSTOM_LOGO),
        "colours_upgrade": _upgrade(request, Feature.CUSTOM_COLOURS),
        "logo_upgrade": _upgrade(request, Feature.CUSTOM_LOGO),
        "current": current,
        "shown": shown,
        "colours_form": colours_form,
        "logo_form": logo_form,
        "icon_form": icon_form,
        "sharing_form": sharing_form,
        "checks": contrast_checks(**shown),
        "pickers": _picker_values(colours_form, shown),
    }
    return TemplateResponse(request, "branding/branding.html", context, status=status)


def _picker_values(form: ColoursForm, fallback: dict[str, str]) -> dict[str, str]:
    """The native pickers start at what was typed when it is a colour, else at the saved one."""
    values = {}
    for name, saved in fallback.items():
        typed = str(form[name].value() or "").strip()
        values[name] = typed.lower() if HEX_COLOUR.match(typed) else saved
    return values


# ---- System settings → Emails --------------------------------------------------------------


@space_view(Perm.MANAGE_BRANDING)
@require_GET
def emails(request: HttpRequest) -> HttpResponse:
    """The space's emails: which are its own and which the defaults. Two queries for the
    rows whatever their number (plan, templates)."""
    space = request.space
    plan = space_plan(space)
    can_edit = plan.has(Feature.CUSTOM_EMAILS)
    custom = {}
    if can_edit:
        custom = {t.kind: t for t in EmailTemplate.objects.filter(space=space)}
    rows = []
    for kind in EmailKind:
        spec = spec_for(kind)
        row = custom.get(kind)
        rows.append(
            {
                "spec": spec,
                "subject": row.subject if row else spec.default_subject,
                "custom": row is not None,
                "updated_at": row.updated_at if row else None,
                "url": reverse(
                    "branding:email_edit", kwargs={"space_slug": space.slug, "kind": kind}
                ),
            }
        )
    return TemplateResponse(
        request,
        "branding/emails.html",
        {
            "rows": rows,
            "can_edit": can_edit,
            "plan_name": plan.name,
            "upgrade": _upgrade(request, Feature.CUSTOM_EMAILS),
        },
    )


EMAIL_ACTIONS = {"save", "test", "reset"}


@space_view(Perm.MANAGE_BRANDING)
@require_http_methods(["GET", "POST"])
@plan_refusals_explained
@csp_replace({"frame-src": ["'self'"]})  # the live preview is a same-origin (sandboxed) frame
def email_edit(request: HttpRequest, kind: str) -> HttpResponse:
    """Author one email: subject and body with placeholder buttons, a live preview, "send me a
    test" and "restore the default". Without the plan feature: the default, read-only."""
    space = request.space
    spec = spec_for(kind)
    plan = space_plan(space)
    can_edit = plan.has(Feature.CUSTOM_EMAILS)
    subject, body, is_custom = authored_content(space, kind)
    form = EmailTemplateForm(initial={"subject": subject, "body": body}, spec=spec)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in EMAIL_ACTIONS:
            return HttpResponseBadRequest("Unknown action")
        require_feature(space, Feature.CUSTOM_EMAILS)
        here = reverse("branding:email_edit", kwargs={"space_slug": space.slug, "kind": kind})
        if action == "reset":
            services.email_template_reset(actor=request.user, space=space, kind=kind)
            messages.success(request, f"The {spec.label.lower()} is back to the default text.")
            return HttpResponseRedirect(here)
        form = EmailTemplateForm(request.POST, spec=spec)
        if form.is_valid():
            data = form.cleaned_data
            if action == "save":
                services.email_template_save(actor=request.user, space=space, kind=kind, **data)
                messages.success(request, f"The {spec.label.lower()} is saved.")
                return HttpResponseRedirect(here)
            services.email_test_send(actor=request.user, space=space, kind=kind, **data)
            messages.success(
                request,
                f"A test email is on its way to {request.user.email}, with sample values "
                "filled in. (What you typed is not saved until you press Save.)",
            )
            # Keep the unsaved text on the page: render, don't redirect.
            form = EmailTemplateForm(initial=data, spec=spec)
        else:
            status = INVALID_FORM_STATUS
    placeholders = [
        {"name": p, "token": token(p), "label": PLACEHOLDER_LABELS[p]} for p in spec.placeholders
    ]
    return TemplateResponse(
        request,
        "branding/email_edit.html",
        {
            "spec": spec,
            "form": form,
            "can_edit": can_edit,
            "plan_name": plan.name,
            "is_custom": is_custom,
            "placeholders": placeholders,
            "sample": sample_values(space, kind, user=request.user),
            "upgrade": _upgrade(request, Feature.CUSTOM_EMAILS),
            "preview_url": reverse(
                "branding:email_preview", kwargs={"space_slug": space.slug, "kind": kind}
            ),
        },
        status=status,
    )


# The preview is its own document in a sandboxed frame: the email's inline styles stay out of
# the admin pages' (future) CSP, and nothing in it can run or reach the parent page.
# Only this response may be framed, and only by our own pages (the email editor); the
# middleware's default policy leaves a header that is already set alone.
PREVIEW_CSP = (
    "default-src 'none'; img-src 'self' https: http: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


@space_view(Perm.MANAGE_BRANDING)
@require_http_methods(["GET", "POST"])
@plan_refusals_explained
@xframe_options_sameorigin
def email_preview(request: HttpRequest, kind: str) -> HttpResponse:
    """The email as a recipient would see it, with sample values: GET shows the saved (or
    default) text, POST the text being edited (the edit form's Preview button targets the frame)."""
    space = request.space
    spec = spec_for(kind)
    subject, body, _ = authored_content(space, kind)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        require_feature(space, Feature.CUSTOM_EMAILS)
        form = EmailTemplateForm(request.POST, spec=spec)
        if form.is_valid():
            subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
        else:
            status = INVALID_FORM_STATUS
            errors = [
                f"{form.fields[f].label or f}: {e}" for f, es in form.errors.items() for e in es
            ]
    if errors:
        html = render_to_string("branding/emails/preview_errors.html", {"errors": errors})
    else:
        _, _, html = render_authored(
            space=space,
            kind=kind,
            subject=subject,
            body=body,
            values=sample_values(space, kind, user=request.user),
            html_template="branding/emails/preview.html",
        )
    response = HttpResponse(html, status=status)
    response["Content-Security-Policy"] = PREVIEW_CSP
    response["Cache-Control"] = "no-store"
    return response


# ---- System settings → Landing page --------------------------------------------------------


@space_view(Perm.MANAGE_BRANDING)
@require_http_methods(["GET", "POST"])
@plan_refusals_explained
def landing(request: HttpRequest) -> HttpResponse:
    """Edit the space's landing page (white-label); other plans see what it would give them."""
    space = request.space
    plan = space_plan(space)
    page = services.get_landing_page_for(space)
    form = LandingPageForm(
        initial={"enabled": page.enabled, "heading": page.heading, "text": page.text},
        policy=images.HERO_POLICY,
    )
    status = 200
    if request.method == "POST":
        # Before anything else (the upload is not even opened on a plan without the feature).
        require_feature(space, Feature.LANDING_PAGE)
        form = LandingPageForm(request.POST, request.FILES, policy=images.HERO_POLICY)
        if form.is_valid():
            data = form.cleaned_data
            services.landing_page_save(
                actor=request.user,
                space=space,
                enabled=data["enabled"],
                heading=data["heading"],
                text=data["text"],
                hero=data["hero"],
                remove_hero=data["remove_hero"],
            )
            messages.success(
                request,
                "The landing page is saved and public."
                if data["enabled"]
                else "The landing page is saved; it is not shown until you enable it.",
            )
            return redirect("branding:landing", space.slug)
        status = INVALID_FORM_STATUS
    return TemplateResponse(
        request,
        "branding/landing_edit.html",
        {
            "plan": plan,
            "can_edit": plan.has(Feature.LANDING_PAGE),
            "upgrade": _upgrade(request, Feature.LANDING_PAGE),
            "page": page,
            "form": form,
            "public_url": settings.SITE_URL + reverse("space_root", args=[space.slug]),
        },
        status=status,
    )


# ---- System settings → Plans ---------------------------------------------------------------


@space_view(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest) -> HttpResponse:
    """What each plan includes, the space's plan and trial, and "Start a 30-day trial" of a
    higher plan (once per space). Two queries for the page (the plan, the plans)."""
    space = request.space
    if request.method == "POST":
        if request.POST.get("action") != "start_trial":
            return HttpResponseBadRequest("Unknown action")
        try:
            services.trial_start(
                access=request.access, space=space, plan_code=request.POST.get("plan", "")
            )
        except services.TrialRefused as refusal:
            messages.error(request, str(refusal))
        else:
            tried = space_plan(space)
            messages.success(
                request,
                f"Your {TRIAL_DAYS}-day trial of the {tried.trial_name} plan has started: its "
                f"features are unlocked until {date_format(tried.trial_ends_at, 'j F Y')}.",
            )
        return redirect("branding:plan", space.slug)
    current = space_plan(space)
    plans = list(Plan.objects.all()) or [
        Plan(
            code=p.code,
            name=p.name,
            description=p.description,
            features=sorted(p.features),
            position=p.position,
        )
        for p in PLANS
    ]
    trial_open = space.trial_started_at is None
    columns = [
        {
            "plan": p,
            "yours": p.code == current.code,
            "trying": p.code == current.trial_code,
            "can_try": trial_open and p.position > current.position,
        }
        for p in plans
    ]
    features = [
        {
            "label": FEATURE_LABELS[f],
            "detail": FEATURE_DETAILS[f],
            "included": current.has(f),
            "by_plan": [f in (p.features or ()) for p in plans],
        }
        for f in Feature
    ]
    return TemplateResponse(
        request,
        "branding/plan.html",
        {
            "current": current,
            "columns": columns,
            "features": features,
            "trial_open": trial_open,
            "trial_days": TRIAL_DAYS,
            "trial_used": space.trial_plan if not trial_open and not current.on_trial else None,
        },
    )


# ---- The space's front door ----------------------------------------------------------------


@space_view()
@require_GET
def _members_to_dashboard(request: HttpRequest) -> HttpResponse:
    # Exactly what /s/<slug>/ did before landing pages: members → dashboard, anonymous → sign
    # in, signed-in non-members → 404.
    return redirect("dashboard", request.space.slug)


@public_view(
    "A space's front door. With a landing page enabled on a white-label plan, that page is "
    "public (it shows only what the space chose to publish); otherwise it behaves exactly "
    "like a tenant page: members go to the dashboard, others to sign-in or a 404."
)
def space_root(request: HttpRequest, space_slug: str) -> HttpResponse:
    # No @require_GET up front: without a landing page, a POST must get the same answer as on
    # any tenant URL (404 for strangers), so the method is checked only once there is a page.
    space = Space.objects.select_related("plan").filter(slug=space_slug).first()
    page = None
    if space is not None and space_plan(space).has(Feature.LANDING_PAGE):
        page = services.get_landing_page_for(space)
    if page is None or not page.enabled:
        return _members_to_dashboard(request, space_slug)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    is_member = request.user.is_authenticated and space.members.filter(user=request.user).exists()
    dashboard = reverse("dashboard", args=[space.slug])
    return TemplateResponse(
        request,
        "branding/landing.html",
        {
            "space": space,
            "page": page,
            "text_html": render_landing_text(page.text),
            "branding": get_branding_for(space),
            "show_logo": space_plan(space).has(Feature.CUSTOM_LOGO),
            "is_member": is_member,
            "dashboard_url": dashboard,
            "login_url": reverse("accounts:login") + "?" + urlencode({"next": dashboard}),
        },
    )


# ---- The space's stylesheet and icon (for its admin pages and its landing page) ---------------

# A media path as our storage writes it: nothing that could close the CSS url("…").
SAFE_MEDIA_URL = re.compile(r"^[A-Za-z0-9/_.\-]+$")


def _space_by_public_id(space_id: UUID) -> Space:
    space = Space.objects.select_related("plan").filter(public_id=space_id).first()
    if space is None:
        raise Http404("No such space")
    return space


def _image_url(space: Space, field_name: str) -> str:
    if not space_plan(space).has(Feature.CUSTOM_LOGO):
        return ""
    field = getattr(get_branding_for(space), field_name)
    url = field.url if field else ""
    return url if SAFE_MEDIA_URL.match(url) else ""


def brand_css_for(space: Space) -> str:
    """The space's CSS: custom properties for its colours, and its logo and icon in the menu.

    Every value is re-checked here (colours against #RRGGBB, URLs against SAFE_MEDIA_URL), so
    nothing but those can ever reach the stylesheet, whatever the database holds.
    """
    branding = get_branding_for(space)
    lines = ["/* The space's branding (generated; see branding.views.brand_css_for). */"]
    if space_plan(space).has(Feature.CUSTOM_COLOURS):
        props = [
            (name, value)
            for name, value in (
                ("--brand-nav-bg", branding.nav_bg),
                ("--brand-nav-text", branding.nav_text),
                ("--brand-accent", branding.accent),
            )
            if value and HEX_COLOUR.match(value)
        ]
        if props:
            lines.append(":root { " + " ".join(f"{n}: {v};" for n, v in props) + " }")
    logo, icon = _image_url(space, "logo"), _image_url(space, "icon")
    brand, collapsed = ".sidebar .brand", ".shell.collapsed .sidebar .brand"
    if logo:
        # Expanded menu: the logo replaces the letter mark and the name (kept for screen
        # readers, which read the link's text; the logo itself is decoration here).
        lines += [
            f'{brand} .brand-logo {{ display: block; background-image: url("{logo}"); }}',
            f"{brand} .mark {{ display: none; }}",
            f"{brand} .name {{ position: absolute; width: 1px; height: 1px; overflow: hidden; "
            "clip: rect(0 0 0 0); white-space: nowrap; }",
            f"{collapsed} .brand-logo {{ display: none; }}",
        ]
        if not icon:
            lines.append(f"{collapsed} .mark {{ display: grid; }}")
    if icon:
        lines.append(f'{brand} .brand-icon {{ background-image: url("{icon}"); }}')
        if not logo:  # expanded, no logo: the icon stands in for the letter mark
            lines += [
                f"{brand} .brand-icon {{ display: block; }}",
                f"{brand} .mark {{ display: none; }}",
            ]
        lines += [
            f"{collapsed} .brand-icon {{ display: block; }}",
            f"{collapsed} .mark {{ display: none; }}",
        ]
    return "\n".join(line for line in lines if line) + "\n"


@public_view(
    "A space's colours and logo as CSS, for its admin pages and its public landing page. "
    "Addressed by the space's unguessable public id; it holds only colours and public image URLs."
)
@require_GET
def brand_css(request: HttpRequest, space_id: UUID) -> HttpResponse:
    css = brand_css_for(_space_by_public_id(space_id))
    etag = '"' + hashlib.sha256(css.encode()).hexdigest()[:20] + '"'
    # no-cache = revalidate every time: a saved change shows on the very next page, while an
    # unchanged stylesheet costs a 304 and no bytes.
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "public, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@public_view("A space's browser-tab icon (the platform's when it has none); public like its CSS.")
@require_GET
def brand_icon(request: HttpRequest, space_id: UUID) -> HttpResponse:
    url = _image_url(_space_by_public_id(space_id), "icon") or static("img/favicon.svg")
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "public, no-cache"
    return response
