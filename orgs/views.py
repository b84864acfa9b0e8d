"""The Organisations area: the tree, organisation pages, and groups with their members.

Every view checks the permission on the organisation (or group) it touches through
``request.access``: an Organisation Administrator of a department manages that department and
below; adding, renaming and removing nodes needs "manage organisations", groups need "manage
groups" (a Group Administrator, whose role sits on the group itself, manages its members only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from badgeplatform.access import Access, space_view
from badgeplatform.htmx import INVALID_FORM_STATUS, render_form
from badgeplatform.pagination import paginate
from badgeplatform.permissions import USER_ROLE, Perm
from orgs import services
from orgs.access import group_for, organisation_for, organisations_visible
from orgs.forms import (
    GroupForm,
    GroupMemberAddForm,
    MoveForm,
    MoveHoldingsForm,
    OrganisationForm,
    RoleChoiceForm,
)
from orgs.models import Group, Organisation
from users.models import Member, Membership, Role
from users.places import Place, can_assign_role


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
    # would count their product.
    nodes = (
        Organisation.objects.for_space(request.space)
        .annotate(
            group_count=_count_of(
                Group.objects.filter(organisation=OuterRef("pk")), "organisation"
            ),
            member_count=_count_of(
                Membership.objects.filter(organisation=OuterRef("pk")), "organisation"
            ),
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
    memberships = (
        Membership.objects.filter(space=request.space, organisation=org)
        .select_related("user", "role")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    page = paginate(request, memberships, 25)
    groups = org.groups.annotate(member_count=Count("memberships")).order_by("name")
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
    plan = services.organisation_removal_plan(organisation=org)
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
            result = services.organisation_remove(organisation=org, actor=request.user)
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
        .annotate(member_count=Count("memberships"))
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
            return redirect("orgs:group", request.space.slug, group.pk)
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
            return redirect("orgs:group", request.space.slug, group.pk)
    return render_form(request, "orgs/group_form.html", {"form": form, "group": group}, form)


@space_view(Perm.MANAGE_GROUPS)
@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_group_for(request, group_id)
    request.access.require(Perm.MANAGE_GROUPS, organisation=group.organisation)
    if request.method == "POST":
        ended, rehomed = services.group_delete(group=group, actor=request.user)
        text = f"The group “{group.name}” was deleted; {ended} membership(s) ended."
        if rehomed:
            text += f" {rehomed} person/people now sit in “{group.organisation.name}” as User."
        messages.success(request, text)
        return redirect("orgs:groups", request.space.slug)
    member_count = group.memberships.count()
    context = {"group": group, "member_count": member_count}
    return _render(request, "orgs/group_delete.html", context)


def _assignable_roles(request: HttpRequest, place: Place) -> list[tuple[str, str]]:
    return [
        (str(r.pk), r.name)
        for r in Role.objects.for_space(request.space)
        if can_assign_role(request.access, r, place)
    ]


@space_view(Perm.MANAGE_GROUPS)
@require_http_methods(["GET", "POST"])
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """A group and its members; its administrators add people, change roles, take people out.

    Several actions on one page, told apart by the submit button's ``action``.
    """
    group = get_group_for(request, group_id)
    access = request.access
    place = Place(group=group)
    role_choices = _assignable_roles(request, place)
    user_role = next((pk for pk, name in role_choices if name == USER_ROLE), None)
    add_form = GroupMemberAddForm(
        request.POST if request.POST.get("action") == "add" else None,
        role_choices=role_choices,
        initial={"role": user_role},
    )
    status = 200
    action = request.POST.get("action")
    if request.method == "POST":
        status = _group_member_action(request, group, place, action, add_form, role_choices)
        if status == 302:
            if request.htmx:
                status = 200
            else:
                return redirect("orgs:group", request.space.slug, group.pk)
            add_form = GroupMemberAddForm(role_choices=role_choices, initial={"role": user_role})
    memberships = group.memberships.select_related("user", "role").order_by(
        "user__last_name", "user__first_name", "user__username"
    )
    page = paginate(request, memberships, 50)
    rows = [
        {
            "membership": m,
            "role_form": RoleChoiceForm(
                role_choices=role_choices, initial={"role": str(m.role_id)}, prefix=f"m{m.pk}"
            ),
            "can_change": can_assign_role(access, m.role, place),
        }
        for m in page
    ]
    context = {
        "group": group,
        "page": page,
        "rows": rows,
        "add_form": add_form,
        "can_edit_group": access.can(Perm.MANAGE_GROUPS, organisation=group.organisation),
    }
    template = "orgs/group_detail.html#members" if request.htmx else "orgs/group_detail.html"
    return _render(request, template, context, status)


def _group_member_action(request, group, place, action, add_form, role_choices) -> int:
    """Do one member action; 302 on success (a message is queued), 422 (errors shown) if not."""
    access = request.access
    space = request.space
    from users import services as user_services
    from users.access import role_for

    if action == "add":
        if not add_form.is_valid():
            return INVALID_FORM_STATUS
        person = add_form.cleaned_data["person"]
        member = (
            Member.objects.filter(space=space)
            .filter(Q(user__email__iexact=person) | Q(user__username__iexact=person))
            .select_related("user")
            .first()
        )
        if member is None:
            add_form.add_error(
                "person",
                "Nobody in this space has that email or username. To bring in someone new, "
                "use Users → Create user.",
            )
            return INVALID_FORM_STATUS
        role = role_for(access, add_form.cleaned_data["role"], need=Perm.MANAGE_GROUPS)
        try:
            user_services.membership_add(
                access=access,
                space=space,
                user=member.user,
                place=place,
                role=role,
                actor=request.user,
            )
        except ValidationError as exc:
            add_form.add_error("person", exc)
            return INVALID_FORM_STATUS
        messages.success(request, f"{member.user.display_name} was added to “{group.name}”.")
        return 302
    membership = (
        group.memberships.select_related("user", "role")
        .filter(pk=request.POST.get("membership") or 0)
        .first()
    )
    if membership is None:
        messages.error(request, "That person is no longer in this group.")
        return INVALID_FORM_STATUS
    if not can_assign_role(access, membership.role, place):
        raise PermissionDenied(
            f"{membership.user.display_name} holds “{membership.role.name}” here, a role with "
            "more rights than yours; only someone holding them may change it."
        )
    try:
        if action == "set_role":
            form = RoleChoiceForm(
                request.POST, role_choices=role_choices, prefix=f"m{membership.pk}"
            )
            if not form.is_valid():
                messages.error(request, "Choose a role you may give.")
                return INVALID_FORM_STATUS
            role = role_for(access, form.cleaned_data["role"], need=Perm.MANAGE_GROUPS)
            user_services.membership_set_role(
                access=access, membership=membership, role=role, actor=request.user
            )
            messages.success(
                request, f"{membership.user.display_name} is now {role.name} in “{group.name}”."
            )
        elif action == "remove":
            user_services.group_members_remove(
                group=group, user_ids=[membership.user_id], actor=request.user
            )
            messages.success(
                request, f"{membership.user.display_name} was taken out of “{group.name}”."
            )
        else:
            messages.error(request, "Unknown action.")
            return 400
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return INVALID_FORM_STATUS
    return 302
