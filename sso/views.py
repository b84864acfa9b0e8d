"""System settings → Single sign-on, and the space's sign-in page that offers its providers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from badgeplatform.access import public_view, space_view
from badgeplatform.htmx import render_form
from badgeplatform.permissions import Perm
from orgs.models import Space
from sso import csp, services
from sso.access import provider_for
from sso.forms import IdentityProviderForm, PolicyForm
from sso.models import IdentityProvider
from sso.sp import login_url, sp_metadata_xml, sp_urls

KINDS = dict(IdentityProvider.KINDS)


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def providers_offered(space: Space | None, http_request: HttpRequest | None = None) -> list[dict]:
    """The space's enabled providers as buttons; the page may then lead to their origins."""
    if space is None:
        return []
    providers = [
        {
            "name": idp.name,
            "kind": idp.get_kind_display(),
            "url": login_url(idp),
            "origin": csp.origin(
                idp.discovery.get("authorization_endpoint") or idp.issuer_url
                if idp.kind == IdentityProvider.OIDC
                else idp.idp_sso_url
            ),
        }
        for idp in IdentityProvider.objects.for_space(space).filter(enabled=True)
    ]
    csp.allow(http_request, [p["origin"] for p in providers])
    return providers


@public_view(
    "A space's sign-in page: the buttons of its own identity providers (anyone may see whom "
    "the space signs in with); a space without any sends you to the ordinary sign-in."
)
def sign_in(request: HttpRequest, space_slug: str) -> HttpResponse:
    space = Space.objects.filter(slug=space_slug).first()
    dashboard = reverse("dashboard", args=[space_slug])
    next_url = _next(request, dashboard)
    password_url = reverse("accounts:login") + "?" + urlencode({"next": next_url})
    providers = providers_offered(space, request)
    if not providers:
        # Without providers this is any tenant URL: strangers signed in get 404 (so unknown
        # spaces and spaces without single sign-on look alike), everyone else the sign-in.
        if request.user.is_authenticated and (
            space is None or not space.members.filter(user=request.user).exists()
        ):
            raise Http404("No such space")
        return redirect(password_url)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return TemplateResponse(
        request,
        "sso/sign_in.html",
        {
            "space": space,
            "providers": providers,
            "next": next_url,
            "password_url": password_url,
        },
    )


def _index_context(request: HttpRequest, policy_form: PolicyForm | None = None) -> dict:
    space = request.space
    policy = services.policy_of(space)
    if policy_form is None:
        policy_form = PolicyForm(
            initial={
                "sso_required": space.sso_required,
                "break_glass": list(policy.break_glass.values_list("pk", flat=True)),
            },
            administrators=services.administrators(space),
        )
    providers = list(IdentityProvider.objects.for_space(space))
    return {
        "providers": [(idp, sp_urls(request, idp)) for idp in providers],
        "policy_form": policy_form,
        "sign_in_url": request.build_absolute_uri(reverse("sso:sign_in", args=[space.slug])),
    }


@space_view(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    request.access.require(Perm.MANAGE_SETTINGS)
    form = None
    if request.method == "POST":
        form = PolicyForm(request.POST, administrators=services.administrators(request.space))
        if form.is_valid():
            try:
                services.policy_save(
                    access=request.access,
                    sso_required=form.cleaned_data["sso_required"],
                    break_glass=list(form.cleaned_data["break_glass"]),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Sign-in policy saved.")
                return redirect("sso:index", request.space.slug)
    return render_form(request, "sso/index.html", _index_context(request, form), form)


def _provider_form(request: HttpRequest, form: IdentityProviderForm, idp, before) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.provider_save(
                access=request.access,
                idp=form.save(commit=False),
                client_secret=form.cleaned_data.get("client_secret", ""),
                before=before,
                confirm_admin_role=form.cleaned_data.get("confirm_admin_role", False),
            )
        except services.ConfigError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.messages[0])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"“{saved.name}” saved.")
            return redirect("sso:edit", request.space.slug, saved.pk)
    context = {
        "form": form,
        "idp": idp,
        "kind": form.kind,
        "kind_label": KINDS[form.kind],
        "sp": sp_urls(request, idp) if idp is not None else None,
        "callback_hint": request.build_absolute_uri("/sso/oidc/") + "…/login/callback/",
    }
    return render_form(request, "sso/provider_form.html", context, form)


@space_view(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def provider_create(request: HttpRequest, kind: str) -> HttpResponse:
    request.access.require(Perm.MANAGE_SETTINGS)
    if kind not in KINDS:
        raise Http404("No such kind of provider")
    form = IdentityProviderForm(request.POST or None, space=request.space, kind=kind)
    return _provider_form(request, form, None, None)


@space_view(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, idp_id: int) -> HttpResponse:
    idp = provider_for(request.access, idp_id)
    before = services.snapshot(idp)
    form = IdentityProviderForm(
        request.POST or None, instance=idp, space=request.space, kind=idp.kind
    )
    return _provider_form(request, form, idp, before)


@space_view(Perm.MANAGE_SETTINGS)
@require_POST
def provider_delete(request: HttpRequest, idp_id: int) -> HttpResponse:
    idp = provider_for(request.access, idp_id)
    try:
        services.provider_delete(access=request.access, idp=idp)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("sso:edit", request.space.slug, idp.pk)
    messages.success(request, f"“{idp.name}” removed.")
    return redirect("sso:index", request.space.slug)


@space_view(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "HEAD"])
def sp_metadata(request: HttpRequest, idp_id: int) -> HttpResponse:
    idp = provider_for(request.access, idp_id)
    if idp.kind != IdentityProvider.SAML:
        raise Http404("Only SAML providers have SP metadata")
    response = HttpResponse(sp_metadata_xml(request, idp), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{request.space.slug}-sp-metadata.xml"'
    return response
