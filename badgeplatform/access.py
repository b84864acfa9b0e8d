"""Tenancy and permissions: the one place that answers "may this user do this here?".

Every view carries exactly one access declaration:
- ``@space_view(perm)`` resolves the space from the URL's ``space_slug``, proves the user is a
  member (anything else is a 404, so another space's URLs look exactly like missing ones), loads
  the user's grants once, and sets ``request.space`` and ``request.access``;
- ``@user_view`` for signed-in pages outside any space (the backpack, personal settings);
- ``@public_view(reason)`` for pages anyone may open, with the reason stated;
- the API authenticates with keys (see the API package).

A role held on an organisation applies to it and to everything beneath it. Grants are loaded
with one query per request and checked against MPTT ranges in memory, so a check never loops
over the tree or queries again.

One layer decides who may do what. Views, forms (their choice querysets), bulk actions, API
endpoints, exports and tasks reach tenant objects only through the fetch-and-authorize helpers
of each app's ``access.py`` (``orgs.access.organisation_for``, ``users.access.member_for``,
``badges.access.badge_for``, ``api.access.key_for``, …): one call scopes the lookup to the
space *and* checks ``need`` on the object's organisation, and a missing object and a forbidden
one answer alike (Http404), so a URL never tells which it was. List pages use the helpers'
``*_visible(access, need=…)`` querysets. Services that change things take the actor's
``access`` and re-check the permission they need (role and membership limits included), so a
new entry point inherits the rule; tasks and commands pass ``Access.system(space)``, an
explicit, clearly named access that may do everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse

from badgeplatform.permissions import PERMISSION_LABELS, SPACE_WIDE, Perm

if TYPE_CHECKING:
    from orgs.models import Group, Organisation, Space
    from users.models import Member, User

ViewFunc = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Grant:
    """One membership, flattened: a role's permissions on an organisation or a group."""

    perms: frozenset[str]
    role_name: str
    organisation_id: int | None
    tree_id: int | None
    lft: int | None
    rght: int | None
    group_id: int | None
    on_root: bool = False  # held on the space's root organisation: covers the whole space

    def covers_organisation(self, org: Organisation) -> bool:
        if self.on_root:  # the root covers its whole space (Access.can checks the space)
            return True
        return (
            self.organisation_id is not None
            and self.tree_id == org.tree_id
            and self.lft <= org.lft
            and self.rght >= org.rght
        )


class Access:
    """What one user may do in one space; built once per request by ``load_access``."""

    def __init__(self, space: Space, user: User, member: Member, grants: list[Grant]):
        self.space = space
        self.user = user
        self.member = member
        self.grants = grants

    @classmethod
    def system(cls, space: Space) -> Access:
        """The platform itself acting in ``space`` (tasks, commands, seeding): may do everything.

        Only code that no person or API key drives directly may use it; its ``user`` is None,
        so audit entries record no actor."""
        return SystemAccess(space)

    @property
    def is_system(self) -> bool:
        return False

    def can(
        self,
        perm: Perm | str,
        organisation: Organisation | None = None,
        group: Group | None = None,
    ) -> bool:
        """May the user do ``perm`` on this organisation (or group)?

        With neither given, the question is asked of the space's root, i.e. the whole space.
        A group is covered by a grant on the group itself or on an organisation above it.
        """
        if group is not None:
            if any(g.group_id == group.pk and perm in g.perms for g in self.grants):
                return True
            organisation = group.organisation
        if organisation is None or perm in SPACE_WIDE:
            # The whole space: only a grant on the root covers it (no query for the root).
            return any(perm in g.perms and g.on_root for g in self.grants)
        if organisation.space_id != self.space.pk:
            return False
        return any(perm in g.perms and g.covers_organisation(organisation) for g in self.grants)

    def can_anywhere(self, perm: Perm | str) -> bool:
        """Does the user hold ``perm`` on at least one node (used for menus and list pages)?"""
        if perm in SPACE_WIDE:
            return self.can(perm)
        return any(perm in g.perms for g in self.grants)

    def require(
        self,
        perm: Perm | str,
        organisation: Organisation | None = None,
        group: Group | None = None,
    ) -> None:
        if not self.can(perm, organisation=organisation, group=group):
            raise PermissionDenied(permission_denied_message(perm, organisation or group))

    def organisations_q(self, perm: Perm | str, prefix: str = "") -> Q:
        """A filter for rows whose organisation the user holds ``perm`` on (subtrees as ranges).

        ``prefix`` names the path to the organisation, e.g. ``"organisation__"``; with no prefix
        the filter applies to Organisation itself. An empty grant list matches nothing.
        """
        q = Q(pk__in=[])
        for g in self.grants:
            if g.on_root and g.tree_id is None and perm in g.perms:
                # A root grant without node bounds (an API key for the whole space).
                q |= Q(**{f"{prefix}space_id": self.space.pk})
            elif g.organisation_id is not None and perm in g.perms:
                q |= Q(
                    **{
                        f"{prefix}tree_id": g.tree_id,
                        f"{prefix}lft__gte": g.lft,
                        f"{prefix}rght__lte": g.rght,
                    }
                )
        return q

    def group_ids_with(self, perm: Perm | str) -> set[int]:
        return {g.group_id for g in self.grants if g.group_id is not None and perm in g.perms}

    @property
    def is_admin(self) -> bool:
        """Holds any administrative permission at all (i.e. is not just a recipient)."""
        return any(g.perms for g in self.grants)


class SystemAccess(Access):
    """See ``Access.system``: every check passes, every filter matches the whole space."""

    def __init__(self, space: Space):
        super().__init__(space, None, None, [])

    @property
    def is_system(self) -> bool:
        return True

    def can(self, perm, organisation=None, group=None) -> bool:
        if organisation is not None and organisation.space_id != self.space.pk:
            return False
        return group is None or group.space_id == self.space.pk

    def can_anywhere(self, perm: Perm | str) -> bool:
        return True

    def organisations_q(self, perm: Perm | str, prefix: str = "") -> Q:
        return Q(**{f"{prefix}space_id": self.space.pk})

    def group_ids_with(self, perm: Perm | str) -> set[int]:
        from django.apps import apps  # a string reference: the core imports no app

        group_model = apps.get_model("orgs", "Group")
        return set(group_model.objects.filter(space=self.space).values_list("pk", flat=True))

    @property
    def is_admin(self) -> bool:
        return True


def permission_denied_message(perm: Perm | str, target: Any = None) -> str:
    label = PERMISSION_LABELS.get(Perm(perm), str(perm)) if perm in Perm else str(perm)
    where = f" on “{target}”" if target is not None else ""
    return f"You need the permission “{label}”{where}. Ask a space administrator to grant it."


# The grants come from the memberships, which live in a layer above this one (users): that
# layer registers how to find a space by its slug and a member's grants at start-up, so the core
# imports no app.
_space_loader: Callable[[str], Space | None] | None = None
_access_loader: Callable[[Space, User], Access | None] | None = None


# Checks a signed-in member must pass to enter a space's pages (e.g. the space's second-factor
# policy, users.mfa): each answers a response (a redirect to where the person can fix it) or
# None. Registered by the layers above from AppConfig.ready().
_entry_checks: list[Callable[[HttpRequest, Access], HttpResponse | None]] = []


def register_entry_check(check: Callable[[HttpRequest, Access], HttpResponse | None]) -> None:
    if check not in _entry_checks:
        _entry_checks.append(check)


def entry_refusal(request: HttpRequest, access: Access) -> HttpResponse | None:
    for check in _entry_checks:
        if (response := check(request, access)) is not None:
            return response
    return None


def register_loaders(
    *,
    space: Callable[[str], Space | None],
    access: Callable[[Space, User], Access | None],
) -> None:
    global _space_loader, _access_loader
    _space_loader, _access_loader = space, access


def load_access(space: Space, user: User) -> Access | None:
    """The user's grants in ``space``, or None when they are not a member (2 queries)."""
    if _access_loader is None:
        raise RuntimeError("No access loader registered (is the users app installed?)")
    return _access_loader(space, user)


def resolve_space(request: HttpRequest, space_slug: str) -> Access:
    """Sets request.space and request.access, or raises Http404 for non-members."""
    if _space_loader is None:
        raise RuntimeError("No space loader registered (is the users app installed?)")
    space = _space_loader(space_slug)
    access = load_access(space, request.user) if space is not None else None
    if access is None:
        raise Http404("No such space")
    request.space = space
    request.access = access
    return access


def space_view(perm: Perm | str | None = None) -> Callable[[ViewFunc], ViewFunc]:
    """Declare a tenant view. ``perm`` (optional) must be held somewhere in the space;
    object-level checks happen in the view through ``request.access.require``."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, space_slug: str, *args: Any, **kwargs: Any):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            access = resolve_space(request, space_slug)
            if (refusal := entry_refusal(request, access)) is not None:
                return refusal
            if perm is not None and not access.can_anywhere(perm):
                raise PermissionDenied(permission_denied_message(perm))
            return view(request, *args, **kwargs)

        wrapper.access_declaration = ("space", perm)
        return wrapper

    return decorator


def user_view(view: ViewFunc) -> ViewFunc:
    """Declare a page for any signed-in person, outside any space."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.access_declaration = ("user", None)
    return wrapper


def public_view(reason: str) -> Callable[[ViewFunc], ViewFunc]:
    """Declare a page anyone may open; the reason is read by the URL-walk test and reviewers."""
    if not reason.strip():
        raise ValueError("A public view needs a stated reason")

    def decorator(view: ViewFunc) -> ViewFunc:
        view.access_declaration = ("public", reason)
        return view

    return decorator
