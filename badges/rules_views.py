"""Issuing → Rules: list, create, edit, switch on/off, and see a rule's completions.

A rule is managed by whoever may issue badges on its organisation (and beneath).
"""

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badgeplatform.access import space_view
from badgeplatform.htmx import render_form
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from badges.access import rule_for, rules_visible
from badges.models import Rule, RuleCompletion
from badges.rules import rule_create, rule_update
from badges.rules_forms import RuleForm

PAGE_SIZE = 50


def get_rule_for(request: HttpRequest, rule_id: int) -> Rule:
    """The rule, inside the space and on an organisation the user may issue for (else 404,
    as if missing)."""
    return rule_for(request.access, rule_id, need=Perm.ISSUE_BADGES)


@space_view(Perm.ISSUE_BADGES)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Rules of the organisations the user may issue for, by name (count + page: 2 queries)."""
    rules = (
        rules_visible(request.access, need=Perm.ISSUE_BADGES)
        .select_related("organisation", "badge__organisation")
        .annotate(completion_count=Count("completions"))
        .order_by("name", "pk")
    )
    page = paginate(request, rules, PAGE_SIZE)
    return TemplateResponse(request, "rules/index.html", {"page": page})


@space_view(Perm.ISSUE_BADGES)
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, access=request.access)
    if request.method == "POST" and form.is_valid():
        rule = rule_create(
            access=request.access, space=request.space, actor=request.user, **form.cleaned_data
        )
        messages.success(request, f"Rule “{rule}” created.")
        return redirect("rules:detail", request.space.slug, rule.pk)
    return render_form(request, "rules/form.html", {"form": form, "rule": None}, form)


@space_view(Perm.ISSUE_BADGES)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_rule_for(request, rule_id)
    form = RuleForm(request.POST or None, access=request.access, rule=rule)
    if request.method == "POST" and form.is_valid():
        rule_update(access=request.access, rule=rule, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Rule “{rule}” saved.")
        return redirect("rules:detail", request.space.slug, rule.pk)
    return render_form(request, "rules/form.html", {"form": form, "rule": rule}, form)


@space_view(Perm.ISSUE_BADGES)
def detail(request: HttpRequest, rule_id: int) -> HttpResponse:
    """The rule and who completed it, newest first (rule, count, page: 3 queries)."""
    rule = get_rule_for(request, rule_id)
    # The method is checked after the lookup: another space's rule is a 404 whatever the
    # method, so a 405 never confirms that an id exists.
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    completions = (
        RuleCompletion.objects.filter(rule=rule)
        .select_related("recipient", "award")
        .order_by("-completed_at", "-pk")
    )
    page = paginate(request, completions, PAGE_SIZE)
    return TemplateResponse(
        request,
        "rules/detail.html",
        {"rule": rule, "page": page, "event_count": rule.events.count()},
    )


@space_view(Perm.ISSUE_BADGES)
@require_POST
def set_active(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Switch a rule on or off (the button says which: name="active" value="1"/"0")."""
    rule = get_rule_for(request, rule_id)
    active = request.POST.get("active") == "1"
    rule_update(access=request.access, rule=rule, actor=request.user, active=active)
    state = "active: its events count again" if active else "inactive: its events are refused"
    messages.success(request, f"Rule “{rule}” is {state}.")
    return redirect("rules:detail", request.space.slug, rule.pk)
