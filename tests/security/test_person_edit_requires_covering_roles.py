"""Hole 6: a user manager could change a space administrator's external id (the id the API
matches on), so API events then landed on the administrator. Editing a person, any field,
needs covering every role they hold (the actor could give each of them at its place); the
service checks it, whoever calls it."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from badgeplatform.access import load_access
from badgeplatform.permissions import Perm
from tests.factories import add_member, add_with_perms, build_tree, member_of
from users import memberships
from users.models import Member


@pytest.fixture
def admin_member(space_a, admin_a):
    member = member_of(space_a, admin_a)
    member.external_id = "ADMIN-1"
    member.save()
    return member


@pytest.fixture
def user_manager(space_a):
    """ "Manage users" on the whole space, but not the Space Administrator's other rights."""
    return add_with_perms(space_a, {Perm.MANAGE_USERS}, username="uma")


def test_user_manager_cannot_change_an_administrators_external_id_on_the_web(
    client, space_a, admin_member, user_manager
):
    client.force_login(user_manager)
    edit = reverse("users:edit", args=[space_a.slug, admin_member.pk])
    page = client.get(edit)
    assert page.status_code == 200
    assert 'name="external_id"' not in page.content.decode()  # no form offered
    response = client.post(edit, {"action": "details", "external_id": "STUDENT-42"})
    assert response.status_code == 403
    assert Member.objects.get(pk=admin_member.pk).external_id == "ADMIN-1"


def test_user_manager_cannot_change_an_administrators_external_id_through_the_service(
    space_a, admin_member, user_manager
):
    with pytest.raises(PermissionDenied):
        memberships.member_update(
            access=load_access(space_a, user_manager),
            member=admin_member,
            external_id="STUDENT-42",
        )
    assert Member.objects.get(pk=admin_member.pk).external_id == "ADMIN-1"


def test_a_person_with_one_place_out_of_reach_cannot_be_edited(space_a):
    """Covering one of someone's places is not enough: every role they hold must be covered."""
    tree = build_tree(space_a)
    dept_admin = add_member(
        space_a, role_name="Organisation Administrator", organisation=tree["dept"]
    )
    person = add_member(space_a, organisation=tree["team"])
    add_member(space_a, person, role_name="Reporter", organisation=tree["sibling"])
    with pytest.raises(PermissionDenied):
        memberships.member_update(
            access=load_access(space_a, dept_admin),
            member=member_of(space_a, person),
            external_id="X-1",
        )
    assert member_of(space_a, person).external_id is None


def test_a_person_fully_covered_can_be_edited(client, space_a, user_manager):
    person = add_member(space_a)
    member = member_of(space_a, person)
    client.force_login(user_manager)
    edit = reverse("users:edit", args=[space_a.slug, member.pk])
    response = client.post(edit, {"action": "details", "external_id": "STUDENT-42"})
    assert response.status_code == 302
    assert Member.objects.get(pk=member.pk).external_id == "STUDENT-42"
