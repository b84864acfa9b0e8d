"""Roles in System settings: default roles read-only, custom roles created, edited, deleted
(refused while assigned), and a role with no permissions refused."""

import pytest
from django.urls import reverse

from badgeplatform.models import AuditEntry
from tests.factories import RoleFactory, add_member, role
from users.models import Membership, Role

pytestmark = pytest.mark.django_db


def url(name, space, *args):
    return reverse(f"users:{name}", args=[space.slug, *args])


def test_roles_page_lists_default_roles_read_only_with_what_each_may_do(client_a, space_a):
    html = client_a.get(url("roles", space_a)).content.decode()
    assert "Organisation Administrator" in html and "Manage users (create, edit" in html
    assert "Read-only" in html
    for r in Role.objects.filter(space=space_a, is_default=True):
        assert url("role_edit", space_a, r.pk) not in html


def test_create_a_custom_role(client_a, space_a):
    response = client_a.post(
        url("role_create", space_a),
        {
            "name": "Cohort Lead",
            "description": "Runs cohorts",
            "permissions": ["manage_groups", "view_reports"],
        },
    )
    assert response.status_code == 302
    created = Role.objects.get(space=space_a, name="Cohort Lead")
    assert not created.is_default
    assert created.permissions == ["manage_groups", "view_reports"]
    assert AuditEntry.objects.filter(space=space_a, action="role.create").exists()


def test_a_role_with_no_permissions_is_refused(client_a, space_a):
    response = client_a.post(url("role_create", space_a), {"name": "Nothing", "permissions": []})
    assert response.status_code == 422
    assert "Choose at least one permission" in response.content.decode()
    assert not Role.objects.filter(name="Nothing").exists()


def test_a_duplicate_or_unknown_permission_is_refused(client_a, space_a):
    response = client_a.post(
        url("role_create", space_a), {"name": "reporter", "permissions": ["view_reports"]}
    )
    assert response.status_code == 422
    assert "There is already a role called" in response.content.decode()
    response = client_a.post(url("role_create", space_a), {"name": "Hax", "permissions": ["root"]})
    assert response.status_code == 422
    assert not Role.objects.filter(name="Hax").exists()


def test_edit_a_custom_role(client_a, space_a):
    custom = RoleFactory(space=space_a, name="Helper")
    response = client_a.post(
        url("role_edit", space_a, custom.pk),
        {"name": "Helper+", "description": "", "permissions": ["issue_badges"]},
    )
    assert response.status_code == 302
    custom.refresh_from_db()
    assert (custom.name, custom.permissions) == ("Helper+", ["issue_badges"])


def test_default_roles_cannot_be_edited_or_deleted(client_a, space_a):
    default = role(space_a, "Reporter")
    assert client_a.get(url("role_edit", space_a, default.pk)).status_code == 403
    response = client_a.post(
        url("role_edit", space_a, default.pk), {"name": "Mine", "permissions": ["view_reports"]}
    )
    assert response.status_code == 403
    assert client_a.post(url("role_delete", space_a, default.pk)).status_code == 403
    default.refresh_from_db()
    assert default.name == "Reporter"


def test_delete_is_refused_while_the_role_is_held(client_a, space_a):
    custom = RoleFactory(space=space_a, name="Helper")
    holder = add_member(space_a, role_name="User")
    Membership.objects.filter(user=holder).update(role=custom)
    page = client_a.get(url("role_delete", space_a, custom.pk)).content.decode()
    assert "is held 1 time" in page
    response = client_a.post(url("role_delete", space_a, custom.pk))
    assert response.status_code == 422
    assert Role.objects.filter(pk=custom.pk).exists()
    Membership.objects.filter(user=holder).update(role=role(space_a, "User"))
    response = client_a.post(url("role_delete", space_a, custom.pk))
    assert response.status_code == 302
    assert not Role.objects.filter(pk=custom.pk).exists()


def test_only_manage_roles_may_change_roles(client, space_a):
    boss = add_member(space_a, role_name="Organisation Administrator")  # on the root
    client.force_login(boss)
    assert client.get(url("roles", space_a)).status_code == 200  # reads them to assign them
    assert client.get(url("role_create", space_a)).status_code == 403
    custom = RoleFactory(space=space_a)
    assert client.post(url("role_delete", space_a, custom.pk)).status_code == 403


def test_plain_member_gets_403(client, space_a, member_a):
    client.force_login(member_a)
    assert client.get(url("roles", space_a)).status_code == 403


def test_wrong_methods(client_a, space_a):
    assert client_a.post(url("roles", space_a)).status_code == 405
    assert client_a.put(url("role_create", space_a)).status_code == 405
