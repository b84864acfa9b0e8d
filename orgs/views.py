"""The Organisations area: the tree, organisation pages, and groups (create, edit, delete).

A group's members are the people layer's page (``users:group_members``); who sits on a node is
asked of ``orgs.occupants``, so nothing here imports users.

Every view checks the permission on the organisation (or group) it touches through
``request.access``: an Organisation Administrator of a department manages that department and
below; adding, renaming and removing nodes needs "manage organisations", groups need "manage
groups" (a Group Administrator, whose role sits on the group itself, manages its members only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from badgeplatform.access import Access, space_view
from badgeplatform.htmx import INVALID_FORM_STATUS, render_form
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from orgs import occupants, services
from orgs.access import group_for, organisation_for, organisations_visible
from orgs.forms import GroupForm, MoveForm, MoveHoldingsForm, OrganisationForm
from orgs.models import Group, Organisation


def get_organisation_for(
    request: HttpRequest, org_id: int | str, need: Perm = Perm.MANAGE_ORGANISATIONS
) -> Organisation:
    return organisation_for(request.access, org_id, need=need)


def get_group_for(
    request: HttpRequest, group_id: int | str, need: Perm = Perm.MANAGE_GROUPS
) -> Group:
    return group_for(request.access, group_id, need=need)


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError beside the fields it names (or above the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200):
    return TemplateResponse(request, template, context, status=status)


# ---- The tree --------------------------------------------------------------------------------


@dataclass
class TreeNode:
    org: Organisation
    kids: list[TreeNode] = field(default_factory=list)
    can_manage: bool = False
    can_remove: bool = False


def build_forest(orgs: list[Organisation], access: Access) -> list[TreeNode]:
    """Nest nodes given in tree order; a node whose parent is not in the list starts a tree
    (an Organisation Administrator sees the subtrees they manage, not the whole space)."""
    by_id: dict[int, TreeNode] = {}
    roots: list[TreeNode] = []
    for org in orgs:
        parent = by_id.get(org.parent_id)
        node = TreeNode(
            org,
            can_manage=access.can(Perm.MANAGE_ORGANISATIONS, organisation=org),
            # Removing or moving a node changes its parent: the parent must be yours too.
            can_remove=parent is not None and parent.can_manage,
        )
        by_id[org.pk] = node
        (parent.kids if parent else roots).append(node)
    return roots


def _count_of(qs, by: str) -> Coalesce:
    """COUNT(*) of ``qs`` as a correlated subquery (grouped by the column it is filtered on)."""
    counted = qs.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1]), 0)


@space_view(Perm.MANAGE_ORGANISATIONS)
@require_GET
def tree(request: HttpRequest) -> HttpResponse:
    """The organisations the user manages, as a collapsible tree, in one query."""
    access = request.access
    # Two correlated counts rather than two joins: joining groups and memberships together
    # would count their product. Who sits on a node is the people layer's to count.
    nodes = (
        Organisation.objects.for_space(request.space)
        .annotate(
            group_count=_count_of(
                Group.objects.filter(organisation=OuterRef("pk")), "organisation"
            ),
            member_count=occupants.get().count_on_organisation(),
        )
        .order_by("tree_id", "lft")
    )
    if not access.can(Perm.MANAGE_ORGANISATIONS):
        nodes = nodes.filter(access.organisations_q(Perm.MANAGE_ORGANISATIONS))
    return _render(request, "orgs/tree.html", {"forest": build_forest(list(nodes), access)})


@space_view(Perm.MANAGE_ORGANISATIONS)
@require_GET
def detail(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_organisation_for(request, org_id)
    access = request.access
    page = paginate(request, occupants.get().on_organisation(org), 25)
    groups = org.groups.annotate(member_count=occupants.get().count_in_group()).order_by("name")
    parent_managed = org.parent is not None and access.can(
        Perm.MANAGE_ORGANISATIONS, organisation=org.parent
    )
    return _render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "ancestors": org.get_ancestors(),
            "children": org.get_children(),
            "groups": groups,
            "page": page,
            "can_remove": parent_managed,
            "can_add_group": access.can(Perm.MANAGE_GROUPS, organisation=org),
            "can_manage_users": access.can(Perm.MANAGE_USERS, organisation=org),
        },
    )


@space_view(Perm.MANAGE_ORGANISATIONS)
@require_http_methods(["GET", "POST"])
def add_child(request: HttpRequest, org_id: int) -> HttpResponse:
    """ "Add organisation": a child under the organisation you are at."""
    parent = get_organisation_for(request, org_id)
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(
                space=request.space,
                parent=parent,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"“{org.name}” was added under “{parent.name}”.")
            return redirect("orgs:detail", request.space.slug, org.pk)
    return render_form(request, "orgs/form.html", {"form": form, "parent": parent}, form)


@space_view(Perm.MANAGE_ORGANISATIONS)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_organisation_for(request, org_id)
    form = OrganisationForm(
        request.POST or None, initial={"name": org.name, "description": org.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(
                organisation=org,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "The organisation was saved.")
            return redirect("orgs:detail", request.space.slug, org.pk)
    return render_form(request, "orgs/form.html", {"form": form, "org": org}, form)


def _managed_orgs(request: HttpRequest, perm: Perm) -> list[Organisation]:
    """Nodes of the space the user holds ``perm`` on, in tree order (one query)."""
    return list(organisations_visible(request.access, need=perm).order_by("tree_id", "lft"))


def _org_choices(orgs: list[Organisation], exclude_subtree_of: Organisation | None = None):
    def inside(o: Organisation) -> bool:
        x = exclude_subtree_of
        return x is not None and o.tree_id == x.tree_id and x.lft <= o.lft <= x.rght

    return [(str(o.pk), "\u2003" * o.level + o.name) for o in orgs if not inside(o)]


@space_view(Perm.MANAGE_ORGANISATIONS)
@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, org_id: int) -> HttpResponse:
    """Re-parent a node within the space (never under itself or its own sub-organisations)."""
    org = get_organisation_for(request, org_id)
    access = request.access
    if org.is_root:
        access.require(Perm.MANAGE_ORGANISATIONS, organisation=org)
    else:
        access.require(Perm.MANAGE_ORGANISATIONS, organisation=org.parent)
    choices = _org_choices(_managed_orgs(request, Perm.MANAGE_ORGANISATIONS), org)
    form = MoveForm(
        request.POST or None, choices=choices, initial={"parent": str(org.parent_id or "")}
    )
    if request.method == "POST" and org.is_root:
        form.is_valid()
        form.add_error(None, "The root organisation is your space itself; it cannot be moved.")
    elif request.method == "POST" and form.is_valid():
        new_parent = get_organisation_for(request, form.cleaned_data["parent"])
        try:
            services.organisation_move(organisation=org, new_parent=new_parent, actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"“{org.name}” now sits under “{new_parent.name}”.")
            return redirect("orgs:detail", request.space.slug, org.pk)
    return render_form(request, "orgs/move.html", {"form": form, "org": org}, form)


@space_view(Perm.MANAGE_ORGANISATIONS)
@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest, org_id: int) -> HttpResponse:
    """Says what the node holds and what happens to each; refuses the root and nodes that still
    hold issuers or badges, offering to move those first."""
    org = get_organisation_for(request, org_id)
    access = request.access
    access.require(Perm.MANAGE_ORGANISATIONS, organisation=org.parent or org)
    plan = services.organisation_removal_plan(organisation=org, access=access)
    targets = _org_choices(_managed_orgs(request, Perm.MANAGE_ORGANISATIONS), org)
    move_form = MoveHoldingsForm(
        request.POST if request.POST.get("action") == "move_holdings" else None,
        choices=targets,
        initial={"target": str(org.parent_id or "")},
    )
    status = 200
    if request.method == "POST" and request.POST.get("action") == "move_holdings":
        if move_form.is_valid():
            target = get_organisation_for(request, move_form.cleaned_data["target"])
            try:
                moved = services.organisation_move_holdings(
                    organisation=org, target=target, actor=request.user
                )
            except ValidationError as exc:
                _apply_errors(move_form, exc)
            else:
                what = ", ".join(f"{n} {label.lower()}" for label, n in moved.items() if n)
                messages.success(request, f"Moved {what or 'nothing'} to “{target.name}”.")
                return redirect("orgs:remove", request.space.slug, org.pk)
        status = INVALID_FORM_STATUS
    elif request.method == "POST":
        try:
            result = services.organisation_remove(organisation=org, access=access)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = INVALID_FORM_STATUS
        else:
            parts = [f"“{result.name}” was removed"]
            if result.organisations > 1:
                parts.append(f"with {result.organisations - 1} sub-organisation(s)")
            if result.groups:
                parts.append(f"and {result.groups} group(s)")
            text = " ".join(parts) + "."
            if result.rehomed:
                text += (
                    f" {result.rehomed} person/people with no other place now sit in "
                    f"“{result.parent.name}” as User."
                )
            messages.success(request, text)
            return redirect("orgs:detail", request.space.slug, result.parent.pk)
    return _render(
        request,
        "orgs/remove.html",
        {"org": org, "plan": plan, "move_form": move_form},
        status,
    )


# ---- Groups ----------------------------------------------------------------------------------


def _groups_q(access: Access) -> Q | None:
    """Groups whose members the user manages: by an organisation grant above, or on the group."""
    if access.can(Perm.MANAGE_GROUPS):
        return None
    return access.organisations_q(Perm.MANAGE_GROUPS, "organisation__") | Q(
        pk__in=access.group_ids_with(Perm.MANAGE_GROUPS)
    )


@space_view(Perm.MANAGE_GROUPS)
@require_GET
def groups(request: HttpRequest) -> HttpResponse:
    access = request.access
    qs = (
        Group.objects.for_space(request.space)
        .select_related("organisation")
        .annotate(member_count=occupants.get().count_in_group())
        .order_by("organisation__lft", "name")
    )
    if (q := _groups_q(access)) is not None:
        qs = qs.filter(q)
    page = paginate(request, qs, 50)
    creatable = _managed_orgs(request, Perm.MANAGE_GROUPS)
    return _render(
        request,
        "orgs/groups.html",
        {"page": page, "new_group_org": creatable[0] if creatable else None},
    )


def _organisation_choices_for_groups(request: HttpRequest):
    return _org_choices(_managed_orgs(request, Perm.MANAGE_GROUPS))


@space_view(Perm.MANAGE_GROUPS)
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_organisation_for(request, org_id, need=Perm.MANAGE_GROUPS)
    form = GroupForm(
        request.POST or None,
        organisation_choices=_organisation_choices_for_groups(request),
        initial={"organisation": str(org.pk)},
    )
    if request.method == "POST" and form.is_valid():
        target = get_organisation_for(
            request, form.cleaned_data["organisation"], need=Perm.MANAGE_GROUPS
        )
        try:
            group = services.group_create(
                space=request.space,
                organisation=target,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"The group “{group.name}” was created in “{target.name}”.")
            return redirect("users:group_members", request.space.slug, group.pk)
    return render_form(request, "orgs/group_form.html", {"form": form, "org": org}, form)


@space_view(Perm.MANAGE_GROUPS)
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    """Rename a group or move it to another organisation (an organisation-level right: a Group
    Administrator manages the members, not the group itself)."""
    group = get_group_for(request, group_id)
    access = request.access
    # Renaming or moving the group is an organisation-level right (a Group Administrator
    # manages the members, not the group itself).
    access.require(Perm.MANAGE_GROUPS, organisation=group.organisation)
    form = GroupForm(
        request.POST or None,
        organisation_choices=_organisation_choices_for_groups(request),
        initial={
            "name": group.name,
            "description": group.description,
            "organisation": str(group.organisation_id),
        },
    )
    if request.method == "POST" and form.is_valid():
        target = get_organisation_for(
            request, form.cleaned_data["organisation"], need=Perm.MANAGE_GROUPS
        )
        try:
            services.group_update(
                group=group,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                organisation=target,
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "The group was saved.")
            return redirect("users:group_members", request.space.slug, group.pk)
    return render_form(request, "orgs/group_form.html", {"form": form, "group": group}, form)


@space_view(Perm.MANAGE_GROUPS)
@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_group_for(request, group_id)
    request.access.require(Perm.MANAGE_GROUPS, organisation=group.organisation)
    if request.method == "POST":
        ended, rehomed = services.group_delete(group=group, access=request.access)
        text = f"The group “{group.name}” was deleted; {ended} membership(s) ended."
        if rehomed:
            text += f" {rehomed} person/people now sit in “{group.organisation.name}” as User."
        messages.success(request, text)
        return redirect("orgs:groups", request.space.slug)
    member_count = (
        Group.objects.filter(pk=group.pk)
        .annotate(n=occupants.get().count_in_group())
        .values_list("n", flat=True)
        .get()
    )
    # Said before the button is pressed; the service refuses it either way.
    refusal = occupants.get().refusal_for_group(access=request.access, group=group)
    context = {"group": group, "member_count": member_count, "refusal": refusal}
    return _render(request, "orgs/group_delete.html", context)
