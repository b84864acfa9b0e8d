"""Applications: the public page where a person applies for a badge, the emailed confirmation,
the reviewers' queue and decision page, the evidence file (to reviewers; once approved, at the
award's evidence link), and the applicant's own list in their backpack."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from badgeplatform import ratelimit
from badgeplatform.access import public_view, space_view, user_view
from badgeplatform.htmx import render_form, render_invalid
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from badgeplatform.ratelimit import Throttle
from badges import applications as service
from badges.access import application_for, applications_visible
from badges.claims import pending_claims_for
from badges.models import Application, Badge

WINDOW = 60
QUEUE_PAGE = 25
# Confirmation emails to one address: a few an hour, whoever asks (no mail bombing).
EMAIL_THROTTLE = Throttle("apply-email", 5, 3600)


class ApplyForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    statement = forms.CharField(
        label="What you did",
        required=False,
        max_length=service.MAX_NARRATIVE,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    url = forms.CharField(
        label="A link to your work",
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    file = forms.FileField(
        label="A file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf"}),
        help_text="A PDF, PNG or JPEG of at most 5 MB. If your application is approved, the "
        "file is linked from your badge as its evidence.",
    )

    def __init__(self, *args, signed_in: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if signed_in:
            for name in ("email", "first_name", "last_name"):
                del self.fields[name]


def _badge(badge_id) -> Badge:
    return get_object_or_404(
        Badge.objects.select_related("graphic", "issuer__current", "space"), public_id=badge_id
    )


@public_view("A badge's application page: anyone may apply for a badge that takes applications.")
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, badge_id) -> HttpResponse:
    badge = _badge(badge_id)
    open_ = badge.is_issuable and badge.accepts_applications
    signed_in = request.user.is_authenticated and request.user.is_verified
    context = {"badge": badge, "open": open_, "signed_in": signed_in}
    if request.method == "GET" or not open_:
        context["form"] = ApplyForm(signed_in=signed_in)
        return TemplateResponse(request, "applications/apply.html", context)
    if ratelimit.hit(f"apply:{ratelimit.client_ip(request)}", WINDOW) > settings.CLAIM_RATE_LIMIT:
        wait = ratelimit.retry_after(WINDOW)
        context["form"] = ApplyForm(signed_in=signed_in)
        context["throttled"] = ratelimit.wait_text(wait)
        response = TemplateResponse(request, "applications/apply.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    form = ApplyForm(request.POST, request.FILES, signed_in=signed_in)
    context["form"] = form
    if not form.is_valid():
        return render_form(request, "applications/apply.html", context, form)
    data = form.cleaned_data
    if not signed_in and (wait := ratelimit.spend([(EMAIL_THROTTLE, data["email"])])):
        context["throttled"] = ratelimit.wait_text(wait)
        response = TemplateResponse(request, "applications/apply.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        application = service.application_submit(
            badge=badge,
            user=request.user if signed_in else None,
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            statement=data["statement"],
            url=data["url"],
            upload=data.get("file"),
        )
    except service.ApplicationRefused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return render_invalid(request, "applications/apply.html", context)
    return TemplateResponse(
        request, "applications/sent.html", {**context, "application": application}
    )


@public_view("The confirmation link emailed to an applicant: the signed token is the credential.")
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    application = service.application_from_token(token)
    if application is None:
        return TemplateResponse(request, "claims/link_invalid.html", {}, status=400)
    if request.method == "POST":
        application = service.application_confirm(application)
    context = {"application": application, "badge": application.badge}
    return TemplateResponse(request, "applications/confirm.html", context)


# ---- Reviewers ---------------------------------------------------------------------------------


@space_view(Perm.REVIEW_APPLICATIONS)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The applications waiting for a decision (oldest first), or the decided ones."""
    status = request.GET.get("status", "submitted")
    if status not in ("submitted", "approved", "declined"):
        status = "submitted"
    qs = (
        applications_visible(request.access)
        .filter(status=status)
        .select_related("badge__graphic", "reviewed_by")
        .order_by("submitted_at" if status == "submitted" else "-reviewed_at", "pk")
    )
    page = paginate(request, qs, QUEUE_PAGE)
    waiting = applications_visible(request.access).filter(status="submitted").count()
    return TemplateResponse(
        request,
        "applications/queue.html",
        {"page": page, "status": status, "waiting": waiting},
    )


class DecisionForm(forms.Form):
    message = forms.CharField(
        label="Reason for declining",
        required=False,
        max_length=service.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed only to decline: it is emailed to the applicant, so say what would "
        "make their application pass.",
    )


@space_view(Perm.REVIEW_APPLICATIONS)
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_for(request.access, application_id)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    context = {"application": application, "badge": application.badge, "form": form}
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("approve", "decline"):
            form.is_valid()
            form.add_error(None, "Choose Approve or Decline.")
            return render_invalid(request, "applications/detail.html", context)
        if form.is_valid():
            try:
                if action == "approve":
                    service.application_approve(
                        access=request.access, application=application, actor=request.user
                    )
                    messages.success(request, f"Approved: {application.email} has the badge.")
                else:
                    service.application_decline(
                        access=request.access,
                        application=application,
                        actor=request.user,
                        message=form.cleaned_data["message"],
                    )
                    messages.success(request, f"Declined: {application.email} has been told why.")
            except service.ApplicationRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return redirect("applications:queue", request.space.slug)
        return render_invalid(request, "applications/detail.html", context)
    return TemplateResponse(request, "applications/detail.html", context)


def _file_response(application: Application) -> HttpResponse:
    if not application.evidence_file:
        raise Http404("No file")
    try:
        handle = application.evidence_file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("No file") from None
    response = FileResponse(
        handle,
        content_type=application.evidence_file_type or "application/octet-stream",
        as_attachment=application.evidence_file_type != "image/png",
        filename=application.evidence_file_name or "evidence",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@space_view(Perm.REVIEW_APPLICATIONS)
@require_GET
def evidence_file(request: HttpRequest, application_id: int) -> HttpResponse:
    return _file_response(application_for(request.access, application_id))


@public_view("An approved application's file is its award's evidence, public like the award.")
@require_GET
def public_evidence_file(request: HttpRequest, application_id) -> HttpResponse:
    application = (
        Application.objects.filter(
            public_id=application_id,
            status=Application.Status.APPROVED,
            award__revoked_at__isnull=True,
            award__declined_at__isnull=True,
        )
        .exclude(evidence_file="")
        .first()
    )
    if application is None:
        raise Http404("No such file")
    return _file_response(application)


# ---- The applicant -----------------------------------------------------------------------------


@user_view
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The person's applications and the claims waiting for their confirmation."""
    return TemplateResponse(
        request,
        "backpack/applications.html",
        {
            "applications": list(service.applications_of(request.user)[:100]),
            "claims": list(pending_claims_for(request.user)[:50]),
            "open_badges": list(service.badges_open_to(request.user)[:50]),
        },
    )
