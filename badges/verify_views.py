"""/verify/: anyone pastes or uploads a badge (ours or anyone's) and sees every check.

Public (no sign-in), rate limited per client address (``VERIFY_RATE_LIMIT`` a minute: each
request may canonicalise and fetch keys), and capped at ``VERIFY_MAX_BYTES`` before the body is
parsed (413). The checks themselves are ``badges.openbadges.verify.verify_credential``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from badgeplatform import ratelimit
from badgeplatform.access import public_view
from badgeplatform.htmx import render_form
from badges.openbadges.verify import UnreadableInput, verify_credential

TEMPLATE = "badges/verify.html"
WINDOW = 60


class VerifyForm(forms.Form):
    text = forms.CharField(
        label="Paste the badge",
        required=False,
        strip=True,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "spellcheck": "false",
                "placeholder": '{"@context": [...], "type": [...], ...}  or  https://…  or  eyJ…',
            }
        ),
        help_text=(
            "The credential's JSON, a JWT, or the web address of an Open Badges 2.0 assertion."
        ),
    )
    file = forms.FileField(
        label="Or upload a badge image or file",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": ".png,.svg,.json,.jwt,image/png,image/svg+xml,application/json"}
        ),
        help_text=(
            "A baked PNG or SVG badge image, or a .json file. Drag it onto the box or choose it."
        ),
    )
    email = forms.EmailField(
        label="Earner's email address",
        required=False,
        help_text="To check that the badge was awarded to this address (badges keep it hashed).",
    )

    def clean(self):
        data = super().clean()
        if not data.get("text") and not data.get("file"):
            raise forms.ValidationError("Paste a badge or choose a file to check.")
        if data.get("text") and data.get("file"):
            raise forms.ValidationError("Paste a badge or choose a file, not both.")
        return data


def _too_large() -> HttpResponse:
    cap = settings.VERIFY_MAX_BYTES // 1024
    message = (
        f"The verifier accepts badges of up to {cap:,} KB; a baked badge image is far smaller. "
        "Check that you chose the right file."
    )
    return HttpResponse(render_to_string("413.html", {"message": message}), status=413)


@public_view("Anyone may verify a badge (ours or anyone's) without an account.")
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return TemplateResponse(request, TEMPLATE, {"form": VerifyForm()})
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # The form's own fields and boundaries add a little; the credential itself is checked below.
    if declared > settings.VERIFY_MAX_BYTES + 16 * 1024:
        return _too_large()
    if ratelimit.hit(f"verify:{ratelimit.client_ip(request)}", WINDOW) > settings.VERIFY_RATE_LIMIT:
        response = TemplateResponse(
            request,
            "badges/verify_throttled.html",
            {"wait": ratelimit.wait_text(ratelimit.retry_after(WINDOW))},
            status=429,
        )
        response["Retry-After"] = str(ratelimit.retry_after(WINDOW))
        return response
    form = VerifyForm(request.POST, request.FILES)
    verdict = None
    if form.is_valid():
        upload = form.cleaned_data.get("file")
        if upload is not None and upload.size > settings.VERIFY_MAX_BYTES:
            return _too_large()
        data: bytes | str = upload.read() if upload is not None else form.cleaned_data["text"]
        if isinstance(data, str) and len(data.encode()) > settings.VERIFY_MAX_BYTES:
            return _too_large()
        try:
            verdict = verify_credential(data, email=form.cleaned_data.get("email") or "")
        except UnreadableInput as exc:
            form.add_error("file" if upload is not None else "text", str(exc))
        else:
            form = VerifyForm()  # the verdict is shown; the form is ready for the next badge
    return render_form(request, TEMPLATE, {"form": form, "verdict": verdict}, form)
