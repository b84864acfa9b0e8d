"""Badge authoring ('Preparing Badges' → 'Managing Badges'): the list, the tabbed editor,
the summary page, publishing and withdrawing.

Permissions, on the badge's organisation (and everything beneath where the role is held):
- seeing badges: "create badges", "publish badges" or "issue badges" (issuers need the id);
- creating and editing drafts (and withdrawn badges): "create badges";
- editing a published badge: "create badges" and "publish badges" (the change is live);
- publishing, withdrawing, republishing: "publish badges".
"""

from __future__ import annotations

import contextlib
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from badgeplatform.access import Access, permission_denied_message, space_view
from badgeplatform.htmx import INVALID_FORM_STATUS, render_form
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from badges import certificates, services
from badges.access import SEE_BADGES, badge_for, badges_visible
from badges.criteria import render_markdown
from badges.forms import (
    TAB_FOR_MISSING,
    TAB_KEYS,
    TABS,
    AttributeRows,
    BadgeCertificateForm,
    BadgeCriteriaForm,
    BadgeDetailsForm,
    BadgeFilterForm,
    BadgeGraphicForm,
    BadgeStandardsForm,
)
from badges.languages import language_name
from badges.models import Award, Badge, Graphic
from badges.models.badges import parse_reminder_days
from issuers.models import Issuer
from orgs.models import Organisation

PAGE_SIZE = 20


VIEW_PERMS = (Perm.CREATE_BADGES, Perm.PUBLISH_BADGES, Perm.ISSUE_BADGES)


# ---- Access helpers ----------------------------------------------------------------------


def visible_badges_q(access: Access) -> Q:
    """Badges whose organisation the user holds a badge permission on (subtree ranges)."""
    q = Q(pk__in=[])
    for perm in VIEW_PERMS:
        q |= access.organisations_q(perm, prefix="organisation__")
    return q


def require_badge_access(request: HttpRequest) -> None:
    if not any(request.access.can_anywhere(p) for p in VIEW_PERMS):
        raise PermissionDenied(permission_denied_message(Perm.CREATE_BADGES))


def get_badge_for(request: HttpRequest, badge_id: int) -> Badge:
    """The badge with this id in the request's space, with what every page shows, when the
    user holds a badge permission on its organisation (404 else, as if missing)."""
    return badge_for(request.access, badge_id, need=SEE_BADGES)


def can_edit(access: Access, badge: Badge) -> bool:
    if not access.can(Perm.CREATE_BADGES, organisation=badge.organisation):
        return False
    if badge.state == Badge.State.PUBLISHED:
        return access.can(Perm.PUBLISH_BADGES, organisation=badge.organisation)
    return True


def require_edit(request: HttpRequest, badge: Badge) -> None:
    request.access.require(Perm.CREATE_BADGES, organisation=badge.organisation)
    if badge.state == Badge.State.PUBLISHED and not request.access.can(
        Perm.PUBLISH_BADGES, organisation=badge.organisation
    ):
        raise PermissionDenied(
            "This badge is published, so changing it changes what is issued from now on: "
            "that needs “Publish and withdraw badges” as well. Ask a space administrator."
        )


def missing_items(request: HttpRequest, badge: Badge, graphics_exist: bool) -> list[dict]:
    """What publication still needs, each with a link to where it is filled in. With an empty
    library, a missing graphic links to the designer (a first badge needs a first graphic)."""
    items = []
    for label in badge.missing_for_publication():
        tab = TAB_FOR_MISSING.get(label, "details")
        url = f"{reverse('badges:edit', args=[request.space.slug, badge.pk])}?tab={tab}"
        if (
            tab == "graphic"
            and not graphics_exist
            and request.access.can_anywhere(Perm.MANAGE_GRAPHICS)
        ):
            url = f"{reverse('graphics:design', args=[request.space.slug])}?badge={badge.pk}"
            label = f"{label} — design one now"
        items.append({"label": label, "url": url})
    return items


# ---- List --------------------------------------------------------------------------------


@space_view()
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Badges the user may see, filtered by state, organisation (with its subtree), issuer and
    a search on the name (or an exact badge id).

    Queries, whatever the page holds: the filter's organisations and issuers (2), the count
    and one page of badges joined to organisation, issuer profile and graphic (2).
    """
    require_badge_access(request)
    access = request.access
    organisations = (
        Organisation.objects.for_space(request.space)
        .filter(
            Q(pk__in=[])
            | access.organisations_q(Perm.CREATE_BADGES)
            | access.organisations_q(Perm.PUBLISH_BADGES)
            | access.organisations_q(Perm.ISSUE_BADGES)
        )
        .order_by("tree_id", "lft")
    )
    form = BadgeFilterForm(request.GET or None, access=request.access, organisations=organisations)
    badges = (
        badges_visible(access, need=SEE_BADGES)
        .select_related("organisation", "issuer__current", "graphic")
        .order_by("-updated_at", "-pk")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["state"]:
            badges = badges.filter(state=data["state"])
        if data["organisation"]:
            org = data["organisation"]
            badges = badges.filter(
                organisation__tree_id=org.tree_id,
                organisation__lft__gte=org.lft,
                organisation__rght__lte=org.rght,
            )
        if data["issuer"]:
            badges = badges.filter(issuer=data["issuer"])
        if data["q"]:
            query = data["q"].strip()
            condition = Q(name__icontains=query)
            with contextlib.suppress(ValueError):  # a badge id (ActivityId) finds its badge
                condition |= Q(public_id=uuid.UUID(query))
            badges = badges.filter(condition)
    page = paginate(request, badges, PAGE_SIZE)
    filtered = form.is_bound and any(
        form.data.get(k) for k in ("q", "state", "organisation", "issuer")
    )
    context = {
        "form": form,
        "page": page,
        "filtered": filtered,
        "may_create": access.can_anywhere(Perm.CREATE_BADGES),
    }
    template = "badges/list.html#results" if request.htmx else "badges/list.html"
    return render_form(request, template, context, form)


# ---- Summary -----------------------------------------------------------------------------


@space_view()
@require_GET
def detail(request: HttpRequest, badge_id: int) -> HttpResponse:
    """Everything about one badge: its content, state and history, and its id (the Events
    API's ActivityId)."""
    require_badge_access(request)
    badge = get_badge_for(request, badge_id)
    access = request.access
    may_publish = access.can(Perm.PUBLISH_BADGES, organisation=badge.organisation)
    graphics_exist = Graphic.objects.for_space(request.space).in_library().exists()
    context = {
        "badge": badge,
        "language": language_name(badge.language) if badge.language else "",
        "criteria_html": render_markdown(badge.criteria_text) if badge.criteria_text else "",
        "attributes": list(badge.attributes.all()),
        "events": list(badge.events.select_related("actor")[:100]),
        "award_count": Award.objects.filter(badge=badge).count(),
        "missing": missing_items(request, badge, graphics_exist),
        "may_edit": can_edit(access, badge),
        "may_publish": may_publish and badge.state != Badge.State.PUBLISHED,
        "may_withdraw": may_publish and badge.state == Badge.State.PUBLISHED,
    }
    return TemplateResponse(request, "badges/detail.html", context)


# ---- Editor ------------------------------------------------------------------------------


def _tab_form(request: HttpRequest, tab: str, badge: Badge | None, data=None):
    access = request.access
    if tab == "details":
        initial = {}
        if badge is not None:
            initial = {
                "name": badge.name,
                "description": badge.description,
                "language": badge.language,
                "organisation": badge.organisation_id,
                "issuer": badge.issuer_id,
                "expiry_amount": badge.expiry_amount,
                "expiry_unit": badge.expiry_unit,
                "status_emails": badge.status_emails,
                "expiry_emails": badge.expiry_emails,
                "expiry_reminder_days": ", ".join(
                    str(d) for d in parse_reminder_days(badge.expiry_reminder_days)
                ),
            }
        return BadgeDetailsForm(data, access=access, initial=initial)
    if tab == "graphic":
        current = badge.graphic if badge is not None else None
        initial = {"graphic": badge.graphic_id} if badge is not None else {}
        if data is None and request.GET.get("graphic", "").isdigit():
            initial = {"graphic": int(request.GET["graphic"])}
        return BadgeGraphicForm(data, access=access, current=current, initial=initial)
    if tab == "standards":
        if data is not None:
            return BadgeStandardsForm(data)
        if badge is None:
            return BadgeStandardsForm(initial={})
        return BadgeStandardsForm(
            initial={
                "achievement_type": badge.achievement_type,
                "human_code": badge.human_code,
                "field_of_study": badge.field_of_study,
                "credits_available": badge.credits_available,
                "tags": ", ".join(badge.tags),
            },
            alignments=badge.alignments,
            result_descriptions=badge.result_descriptions,
        )
    if tab == "certificate":
        initial = {"certificate_design": badge.certificate_design if badge else "classic"}
        return BadgeCertificateForm(data, initial=initial)
    if tab == "criteria":
        initial = {}
        if badge is not None:
            initial = {"criteria_url": badge.criteria_url, "criteria_text": badge.criteria_text}
        return BadgeCriteriaForm(data, initial=initial)
    # attributes
    return AttributeRows.from_post(data) if data is not None else AttributeRows.initial(badge)


def _changes(tab: str, form) -> dict:
    if tab == "attributes":
        return {"attributes": form.cleaned_rows}
    return dict(form.cleaned_data)


def _editor_response(
    request: HttpRequest, badge: Badge | None, tab: str, form, status: int = 200
) -> HttpResponse:
    access = request.access
    graphics_exist = Graphic.objects.for_space(request.space).in_library().exists()
    context = {
        "badge": badge,
        "tab": tab,
        "tabs": TABS,
        "next_tab": next((k for k, _ in TABS[TAB_KEYS.index(tab) + 1 :]), None),
        "form": form,
        "missing": missing_items(request, badge, graphics_exist) if badge else [],
        "graphics_exist": graphics_exist,
        "issuers_exist": Issuer.objects.for_space(request.space).exists(),
        "may_make_graphics": access.can_anywhere(Perm.MANAGE_GRAPHICS),
        "may_make_issuers": access.can_anywhere(Perm.MANAGE_ISSUERS),
        "may_publish": badge is not None
        and badge.state != Badge.State.PUBLISHED
        and access.can(Perm.PUBLISH_BADGES, organisation=badge.organisation),
        "action_url": (
            reverse("badges:edit", args=[request.space.slug, badge.pk])
            if badge
            else reverse("badges:create", args=[request.space.slug])
        ),
    }
    if tab == "graphic":
        context["graphic_choices"] = list(form.fields["graphic"].queryset[:60])
    if tab == "certificate":
        chosen = form["certificate_design"].value() or "classic"
        context["designs"] = [
            {
                "value": value,
                "label": label,
                "checked": value == chosen,
                "preview": (
                    reverse("badges:certificate_preview", args=[request.space.slug, badge.pk])
                    + f"?design={value}"
                    if badge
                    else ""
                ),
            }
            for value, label in Badge.CertificateDesign.choices
        ]
    template = "badges/edit.html#editor" if request.htmx else "badges/edit.html"
    return TemplateResponse(request, template, context, status=status)


def _editor(request: HttpRequest, badge: Badge | None) -> HttpResponse:
    tab = request.POST.get("tab") or request.GET.get("tab") or "details"
    if tab not in dict(TABS) or (badge is None and request.method == "GET"):
        tab = "details"
    if request.method == "GET":
        return _editor_response(request, badge, tab, _tab_form(request, tab, badge))

    form = _tab_form(request, tab, badge, data=request.POST)
    if tab == "attributes" and ("add_row" in request.POST or "remove_row" in request.POST):
        # Rows added or removed in place; saved with the next save.
        if "add_row" in request.POST:
            form.add_row()
        else:
            index = request.POST.get("remove_row", "")
            form.remove_row(int(index) if index.isdigit() else -1)
        return _editor_response(request, badge, tab, form)
    if tab == "standards" and ("add_row" in request.POST or "remove_row" in request.POST):
        # "alignment" / "result" to add; "alignment:2" / "result:0" to remove.
        if "add_row" in request.POST:
            form.add_row(request.POST["add_row"])
        else:
            which, _, index = request.POST["remove_row"].partition(":")
            form.remove_row(which, int(index) if index.isdigit() else -1)
        return _editor_response(request, badge, tab, form)
    if not form.is_valid():
        return _editor_response(request, badge, tab, form, status=INVALID_FORM_STATUS)

    changes = _changes(tab, form)
    goto = request.POST.get("goto", tab)
    # Refuse before writing anything: a 403 must not leave half of the action done.
    if badge is not None and badge.state == Badge.State.PUBLISHED and changes.get("organisation"):
        request.access.require(Perm.PUBLISH_BADGES, organisation=changes["organisation"])
    if goto == "publish":
        organisation = changes.get("organisation") or (badge.organisation if badge else None)
        request.access.require(Perm.PUBLISH_BADGES, organisation=organisation)
    try:
        if badge is None:
            attributes = changes.pop("attributes", ())
            badge = services.badge_create(
                access=request.access,
                space=request.space,
                actor=request.user,
                attributes=attributes,
                **changes,
            )
        else:
            badge = services.badge_update(
                access=request.access, badge=badge, actor=request.user, **changes
            )
    except services.BadgeIncomplete as exc:
        errors = getattr(form, "add_error", None)
        if errors is not None:
            form.add_error(None, exc.messages[0])
        else:
            form.non_form_errors.append(exc.messages[0])
        return _editor_response(request, badge, tab, form, status=INVALID_FORM_STATUS)

    slug = request.space.slug
    if goto == "publish":
        return _publish_from_editor(request, badge)
    if goto == "summary":
        messages.success(request, "Saved. You can come back to it at any time.")
        url = reverse("badges:detail", args=[slug, badge.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if goto == "designer" and request.access.can_anywhere(Perm.MANAGE_GRAPHICS):
        url = f"{reverse('graphics:design', args=[slug])}?badge={badge.pk}"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if goto not in dict(TABS):
        goto = tab
    if goto == tab:
        messages.success(request, "Draft saved." if badge.state != "published" else "Saved.")
    url = f"{reverse('badges:edit', args=[slug, badge.pk])}?tab={goto}"
    if not request.htmx:
        return redirect(url)
    badge = get_badge_for(request, badge.pk)
    response = _editor_response(request, badge, goto, _tab_form(request, goto, badge))
    response["HX-Push-Url"] = url
    return response


def _publish_from_editor(request: HttpRequest, badge: Badge) -> HttpResponse:
    request.access.require(Perm.PUBLISH_BADGES, organisation=badge.organisation)
    url = reverse("badges:detail", args=[request.space.slug, badge.pk])
    try:
        services.badge_publish(access=request.access, badge=badge, actor=request.user)
    except services.BadgeIncomplete as exc:
        messages.error(request, exc.messages[0])
        url = reverse("badges:edit", args=[request.space.slug, badge.pk])
    except services.BadgeStateError as exc:
        messages.info(request, exc.messages[0])
    else:
        messages.success(request, f"“{badge}” is published: it can be issued now.")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@space_view(Perm.CREATE_BADGES)
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """A new badge: the editor's first save creates the draft (any tab switch saves)."""
    return _editor(request, None)


@space_view(Perm.CREATE_BADGES)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, badge_id: int) -> HttpResponse:
    badge = get_badge_for(request, badge_id)
    require_edit(request, badge)
    return _editor(request, badge)


@space_view()
@require_GET
def certificate_preview(request: HttpRequest, badge_id: int) -> HttpResponse:
    """A sample award's certificate in ``?design=`` (the editor's Certificate tab), as PNG."""
    require_badge_access(request)
    badge = get_badge_for(request, badge_id)
    design = request.GET.get("design", "")
    if design not in certificates.DESIGNS:
        return HttpResponse("Unknown design.", status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(certificates.preview_png(badge, design), content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


# ---- State changes -----------------------------------------------------------------------


@space_view(Perm.PUBLISH_BADGES)
@require_POST
def publish(request: HttpRequest, badge_id: int) -> HttpResponse:
    """Publish a draft, or publish a withdrawn badge again."""
    # Out of sight is a 404; in sight but not theirs to publish, a 403 that says why.
    badge = get_badge_for(request, badge_id)
    request.access.require(Perm.PUBLISH_BADGES, organisation=badge.organisation)
    was_withdrawn = badge.state == Badge.State.WITHDRAWN
    try:
        services.badge_publish(access=request.access, badge=badge, actor=request.user)
    except services.BadgeIncomplete as exc:
        messages.error(request, exc.messages[0])
    except services.BadgeStateError as exc:
        messages.info(request, exc.messages[0])
    else:
        messages.success(
            request,
            f"“{badge}” is published again." if was_withdrawn else f"“{badge}” is published.",
        )
    return redirect("badges:detail", request.space.slug, badge.pk)


@space_view(Perm.PUBLISH_BADGES)
@require_POST
def withdraw(request: HttpRequest, badge_id: int) -> HttpResponse:
    """Stop issuing a published badge; awards already made stay valid."""
    # Out of sight is a 404; in sight but not theirs to publish, a 403 that says why.
    badge = get_badge_for(request, badge_id)
    request.access.require(Perm.PUBLISH_BADGES, organisation=badge.organisation)
    note = request.POST.get("note", "").replace("\r", " ").replace("\n", " ").strip()[:300]
    try:
        services.badge_withdraw(access=request.access, badge=badge, actor=request.user, note=note)
    except services.BadgeStateError as exc:
        messages.info(request, exc.messages[0])
    else:
        messages.success(
            request,
            f"“{badge}” is withdrawn: it can no longer be issued. Awards already made stay "
            "valid. Publish it again whenever you like.",
        )
    return redirect("badges:detail", request.space.slug, badge.pk)
