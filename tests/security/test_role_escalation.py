"""Hole 1: role self-escalation.

A custom role whose only permission is "manage roles" could edit its own role, or create a new
one, with every permission and then hold it. Nobody grants (in a role they create or edit, or
by assigning a role) a permission they do not hold there; nobody widens the role they hold;
default roles stay read-only. Each limit is checked through the web views and through the
service directly (the policy lives in users.access + users.services, not in the views).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from badgeplatform.access import load_access
from badgeplatform.permissions import SPACE_ADMINISTRATOR, Perm
from tests.factories import GroupFactory, add_member, add_with_perms, make_role, member_of, role
from users import memberships, services
from users.models import Membership, Role
from users.places import Place

ALL = [p.value for p in Perm]


@pytest.fixture
def role_manager(space_a):
    """Holds a custom role whose only permission is "manage roles", on the root."""
    return add_with_perms(space_a, {Perm.MANAGE_ROLES}, username="rolf")


@pytest.fixture
def own_role(space_a, role_manager):
    return Membership.objects.get(space=space_a, user=role_manager).role


def _access(space, user):
    return load_access(space, user)


def _post_role(client, space, name, perms, role_obj=None):
    if role_obj is None:
        url = reverse("users:role_create", args=[space.slug])
    else:
        url = reverse("users:role_edit", args=[space.slug, role_obj.pk])
    return client.post(url, {"name": name, "description": "", "permissions": perms})


# ---- Create a role with more than you hold ---------------------------------------------------


def test_create_a_role_with_more_is_refused_on_the_web(client, space_a, role_manager):
    client.force_login(role_manager)
    response = _post_role(client, space_a, "Everything", ALL)
    assert response.status_code == 422
    assert not Role.objects.filter(space=space_a, name="Everything").exists()
    # The form offers only what the actor holds, and names what it leaves out.
    page = client.get(reverse("users:role_create", args=[space_a.slug])).content.decode()
    assert 'value="manage_roles"' in page
    assert 'value="manage_users"' not in page
    assert "Not offered" in page


def test_create_a_role_with_more_is_refused_by_the_service(space_a, role_manager):
    with pytest.raises(PermissionDenied):
        services.role_create(
            access=_access(space_a, role_manager),
            space=space_a,
            name="Everything",
            description="",
            permissions=ALL,
            actor=role_manager,
        )
    assert not Role.objects.filter(space=space_a, name="Everything").exists()


def test_create_a_role_within_what_you_hold_is_allowed(client, space_a, role_manager):
    client.force_login(role_manager)
    response = _post_role(client, space_a, "Role keepers", [Perm.MANAGE_ROLES.value])
    assert response.status_code == 302
    assert Role.objects.get(space=space_a, name="Role keepers").permissions == ["manage_roles"]


# ---- Edit your own role to widen it ----------------------------------------------------------


def test_edit_own_role_to_widen_is_refused_on_the_web(client, space_a, role_manager, own_role):
    client.force_login(role_manager)
    response = _post_role(client, space_a, own_role.name, ALL, own_role)
    assert response.status_code == 422
    own_role.refresh_from_db()
    assert own_role.permissions == ["manage_roles"]


def test_edit_own_role_to_widen_is_refused_by_the_service(space_a, role_manager, own_role):
    with pytest.raises(PermissionDenied):
        services.role_update(
            access=_access(space_a, role_manager),
            role=own_role,
            name=own_role.name,
            description="",
            permissions=ALL,
            actor=role_manager,
        )
    own_role.refresh_from_db()
    assert own_role.permissions == ["manage_roles"]


def test_a_held_role_never_widens_even_with_rights_held_elsewhere(space_a):
    """Someone holding "manage roles" + "view reports" on the root through one role, and a
    narrower role R as well, still cannot widen R (even with what they hold)."""
    narrow = make_role(space_a, "Narrow", {Perm.MANAGE_ROLES})
    actor = add_with_perms(space_a, {Perm.MANAGE_ROLES, Perm.VIEW_REPORTS})
    # One role per place: they hold R in a group.
    group = GroupFactory(space=space_a, organisation=space_a.root_organisation)
    Membership.objects.create(space=space_a, user=actor, group=group, role=narrow)
    with pytest.raises(PermissionDenied, match="cannot widen"):
        services.role_update(
            access=_access(space_a, actor),
            role=narrow,
            name="Narrow",
            description="",
            permissions=[Perm.MANAGE_ROLES, Perm.VIEW_REPORTS],
            actor=actor,
        )
    narrow.refresh_from_db()
    assert narrow.permissions == ["manage_roles"]


# ---- Edit another role to more than you hold -------------------------------------------------


@pytest.fixture
def other_role(space_a):
    return make_role(space_a, "Reporters plus", {Perm.MANAGE_ROLES})


def test_edit_another_role_beyond_you_is_refused_on_the_web(
    client, space_a, role_manager, other_role
):
    client.force_login(role_manager)
    response = _post_role(
        client, space_a, other_role.name, [Perm.MANAGE_ROLES, Perm.MANAGE_USERS], other_role
    )
    assert response.status_code == 422
    other_role.refresh_from_db()
    assert other_role.permissions == ["manage_roles"]


def test_edit_another_role_beyond_you_is_refused_by_the_service(space_a, role_manager, other_role):
    with pytest.raises(PermissionDenied):
        services.role_update(
            access=_access(space_a, role_manager),
            role=other_role,
            name=other_role.name,
            description="",
            permissions=[Perm.MANAGE_ROLES, Perm.MANAGE_USERS],
            actor=role_manager,
        )
    other_role.refresh_from_db()
    assert other_role.permissions == ["manage_roles"]


def test_a_role_carrying_rights_you_lack_is_not_yours_to_change(client, space_a, role_manager):
    strong = make_role(space_a, "Strong", {Perm.MANAGE_ROLES, Perm.MANAGE_USERS})
    client.force_login(role_manager)
    assert client.get(reverse("users:role_edit", args=[space_a.slug, strong.pk])).status_code == 403
    # Narrowing it would take rights from others that the actor never held: refused too.
    response = _post_role(client, space_a, "Strong", [Perm.MANAGE_ROLES], strong)
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.role_delete(access=_access(space_a, role_manager), role=strong, actor=None)
    strong.refresh_from_db()
    assert sorted(strong.permissions) == ["manage_roles", "manage_users"]


# ---- Assign a role with more than you hold ---------------------------------------------------


@pytest.fixture
def user_manager(space_a):
    """Manages users (and nothing else) across the space."""
    return add_with_perms(space_a, {Perm.MANAGE_USERS}, username="uma")


def test_assign_a_role_with_more_is_refused_on_the_web(client, space_a, user_manager):
    person = add_member(space_a)
    member = member_of(space_a, person)
    membership = Membership.objects.get(space=space_a, user=person)
    admin_role = role(space_a, SPACE_ADMINISTRATOR)
    client.force_login(user_manager)
    edit = reverse("users:edit", args=[space_a.slug, member.pk])
    response = client.post(
        edit,
        {
            "action": "set_role",
            "membership": membership.pk,
            f"m{membership.pk}-role": admin_role.pk,
        },
    )
    assert response.status_code == 422
    membership.refresh_from_db()
    assert membership.role.name == "User"


def test_assign_a_role_with_more_is_refused_by_the_service(space_a, user_manager):
    person = add_member(space_a)
    membership = Membership.objects.get(space=space_a, user=person)
    access = _access(space_a, user_manager)
    admin_role = role(space_a, SPACE_ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        memberships.membership_set_role(access=access, membership=membership, role=admin_role)
    group_place = Place(organisation=space_a.root_organisation)
    with pytest.raises(PermissionDenied):
        memberships.membership_add(
            access=access,
            space=space_a,
            user=user_manager,  # not even to themselves
            place=group_place,
            role=admin_role,
        )
    membership.refresh_from_db()
    assert membership.role.name == "User"
    assert not Membership.objects.filter(user=user_manager, role=admin_role).exists()


def test_a_role_manager_cannot_hand_themselves_a_role_they_made(space_a, role_manager):
    """The whole attack: make a wider role (refused) — and even an existing wider role cannot be
    handed to oneself without "manage users" covering its rights."""
    wide = make_role(space_a, "Wide", set(Perm))
    with pytest.raises(PermissionDenied):
        memberships.membership_add(
            access=_access(space_a, role_manager),
            space=space_a,
            user=role_manager,
            place=Place(organisation=space_a.root_organisation),
            role=wide,
        )
    assert not Membership.objects.filter(user=role_manager, role=wide).exists()


# ---- Default roles stay read-only ------------------------------------------------------------


def test_default_role_edit_is_refused_on_the_web(client, space_a, admin_a):
    default = role(space_a, "Reporter")
    client.force_login(admin_a)  # even a Space Administrator
    url = reverse("users:role_edit", args=[space_a.slug, default.pk])
    assert client.get(url).status_code == 403
    response = _post_role(client, space_a, "Reporter", ALL, default)
    assert response.status_code == 403
    default.refresh_from_db()
    assert default.permissions == ["view_reports"]


def test_default_role_edit_is_refused_by_the_service(space_a, admin_a):
    default = role(space_a, "Reporter")
    with pytest.raises((PermissionDenied, ValidationError)):
        services.role_update(
            access=_access(space_a, admin_a),
            role=default,
            name="Reporter",
            description="",
            permissions=ALL,
            actor=admin_a,
        )
    default.refresh_from_db()
    assert default.permissions == ["view_reports"]


def test_a_space_administrator_may_still_make_and_edit_any_custom_role(client, space_a, admin_a):
    client.force_login(admin_a)
    assert _post_role(client, space_a, "All of it", ALL).status_code == 302
    made = Role.objects.get(space=space_a, name="All of it")
    assert sorted(made.permissions) == sorted(ALL)
    assert _post_role(client, space_a, "All of it", ["view_reports"], made).status_code == 302
    made.refresh_from_db()
    assert made.permissions == ["view_reports"]
