"""Hole 5: deleting a group (or removing an organisation, or a bulk action) ended roles the
actor could not have ended one by one. One rule now, whatever the path (single, bulk,
cascade): ending a role needs every permission of that role where it is held; otherwise the
whole operation is refused, naming what blocks it, and nothing is written."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from badgeplatform.access import load_access
from badgeplatform.permissions import Perm
from orgs.models import Group, Organisation
from tests.factories import UserFactory, add_member, add_with_perms, build_tree
from users import memberships
from users.models import Member, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


@pytest.fixture
def cohort(space_a, tree):
    """The department's group: Ivy issues badges there, Lou is a plain member."""
    group = tree["dept_group"]
    ivy = add_member(
        space_a, UserFactory(first_name="Ivy", last_name="Issuer"), group=group,
        role_name="Badge Issuer",
    )  # fmt: skip
    lou = add_member(space_a, UserFactory(first_name="Lou", last_name="Learner"), group=group)
    return group, ivy, lou


@pytest.fixture
def group_admin(client, space_a, tree):
    """Manages groups in the department, and nothing else (a Group Administrator there)."""
    greta = add_member(space_a, role_name="Group Administrator", organisation=tree["dept"])
    client.force_login(greta)
    return client, greta


def held(group):
    return set(Membership.objects.filter(group=group).values_list("user_id", "role__name"))


def test_group_admin_could_not_take_the_issuer_out_one_by_one(group_admin, space_a, cohort):
    """The single path, as it always was: the baseline the other paths must match."""
    client, _ = group_admin
    group, ivy, _ = cohort
    ivy_here = Membership.objects.get(group=group, user=ivy)
    response = client.post(
        reverse("users:group_members", args=[space_a.slug, group.pk]),
        {"action": "remove", "membership": ivy_here.pk},
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=ivy_here.pk).exists()


def test_group_delete_refuses_to_end_a_role_the_actor_could_not_end(group_admin, space_a, cohort):
    client, _ = group_admin
    group, ivy, lou = cohort
    before = held(group)

    response = client.post(reverse("orgs:group_delete", args=[space_a.slug, group.pk]))

    assert response.status_code == 403
    text = response.content.decode()
    assert "Ivy Issuer" in text and "Badge Issuer" in text and "Cohort 2026" in text
    assert "Lou" not in text  # only what blocks it is named
    # Nothing half-written: the group, both roles, and nobody re-placed.
    assert Group.objects.filter(pk=group.pk).exists()
    assert held(group) == before
    assert not Membership.objects.filter(user__in=[ivy, lou], organisation__isnull=False).exists()


def test_group_delete_by_someone_holding_those_rights_still_works(client, space_a, tree, cohort):
    group, ivy, lou = cohort
    olga = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    client.force_login(olga)

    response = client.post(reverse("orgs:group_delete", args=[space_a.slug, group.pk]))

    assert response.status_code == 302
    assert not Group.objects.filter(pk=group.pk).exists()
    # The group was their only place: both now sit in its organisation as User.
    for person in (ivy, lou):
        assert Membership.objects.get(user=person).organisation == tree["dept"]


def test_a_group_of_plain_members_is_still_deleted_by_its_group_admin(group_admin, space_a, tree):
    client, _ = group_admin
    group = Group.objects.create(space=space_a, organisation=tree["dept"], name="Open Day")
    add_member(space_a, group=group)

    response = client.post(reverse("orgs:group_delete", args=[space_a.slug, group.pk]))

    assert response.status_code == 302 and not Group.objects.filter(pk=group.pk).exists()


def test_organisation_removal_applies_the_same_rule(client, space_a, tree):
    """The cascade: removing a node ends the roles on it and below. Someone who may reshape
    the faculty and manage its people, but not issue, cannot end an issuer's role by removal."""
    keeper = add_with_perms(
        space_a,
        {Perm.MANAGE_ORGANISATIONS, Perm.MANAGE_USERS, Perm.MANAGE_GROUPS},
        organisation=tree["faculty"],
    )
    ivy = add_member(
        space_a, UserFactory(first_name="Ivy", last_name="Issuer"), organisation=tree["team"],
        role_name="Badge Issuer",
    )  # fmt: skip
    client.force_login(keeper)

    response = client.post(reverse("orgs:remove", args=[space_a.slug, tree["dept"].pk]))

    assert response.status_code == 403
    assert "Ivy Issuer" in response.content.decode()
    assert Organisation.objects.filter(pk__in=[tree["dept"].pk, tree["team"].pk]).count() == 2
    assert Membership.objects.filter(user=ivy, organisation=tree["team"]).exists()
    assert Group.objects.filter(pk=tree["dept_group"].pk).exists()


def bulk(client, space, people, **fields):
    members = Member.objects.filter(space=space, user__in=people)
    data = {"member": [m.pk for m in members], "confirm": "yes", **fields}
    return client.post(reverse("users:bulk", args=[space.slug]), data)


def test_bulk_remove_from_space_applies_the_same_rule(client, space_a, tree):
    """A user manager cannot take someone out of the whole space when one of their roles
    carries rights the manager lacks there (they could not end that role one by one)."""
    manager = add_with_perms(space_a, {Perm.MANAGE_USERS}, organisation=tree["faculty"])
    ivy = add_member(
        space_a, UserFactory(first_name="Ivy", last_name="Issuer"), organisation=tree["dept"],
        role_name="Badge Issuer",
    )  # fmt: skip
    client.force_login(manager)

    response = bulk(client, space_a, [ivy], action="remove_from_space")

    assert response.status_code == 403
    assert "Ivy Issuer" in response.content.decode()
    assert Member.objects.filter(space=space_a, user=ivy).exists()
    assert Membership.objects.filter(user=ivy, organisation=tree["dept"]).exists()


def test_bulk_remove_from_space_of_plain_members_still_works(client, space_a, tree):
    manager = add_with_perms(space_a, {Perm.MANAGE_USERS}, organisation=tree["faculty"])
    lou = add_member(space_a, organisation=tree["dept"])
    client.force_login(manager)

    response = bulk(client, space_a, [lou], action="remove_from_space")

    assert response.status_code == 302
    assert not Member.objects.filter(space=space_a, user=lou).exists()


def test_the_bulk_group_service_refuses_whatever_the_view_checked(space_a, tree, cohort):
    """The rule lives in the service: a new entry point calling it inherits the refusal."""
    group, ivy, lou = cohort
    greta = add_member(space_a, role_name="Group Administrator", organisation=tree["dept"])
    access = load_access(space_a, greta)

    with pytest.raises(PermissionDenied, match="Ivy Issuer"):
        memberships.group_members_remove(access=access, group=group, user_ids=[ivy.pk, lou.pk])
    with pytest.raises(PermissionDenied, match="Ivy Issuer"):
        memberships.memberships_end_for_group(access=access, group=group)

    assert Membership.objects.filter(group=group).count() == 2  # all or nothing
    assert memberships.group_members_remove(access=access, group=group, user_ids=[lou.pk]) == 1


def test_the_pages_say_so_before_the_button_is_pressed(client, space_a, tree, cohort):
    """The delete and removal pages name what blocks them and offer no button to press."""
    keeper = add_with_perms(
        space_a,
        {Perm.MANAGE_ORGANISATIONS, Perm.MANAGE_USERS, Perm.MANAGE_GROUPS},
        organisation=tree["faculty"],
    )
    client.force_login(keeper)
    group, _, _ = cohort

    delete_page = client.get(reverse("orgs:group_delete", args=[space_a.slug, group.pk]))
    remove_page = client.get(reverse("orgs:remove", args=[space_a.slug, tree["dept"].pk]))

    for page in (delete_page, remove_page):
        text = page.content.decode()
        assert page.status_code == 200
        assert "Ivy Issuer (Badge Issuer in “Cohort 2026 (group in Computing)”)" in text
    assert 'type="submit">Delete Cohort 2026' not in delete_page.content.decode()
    assert 'value="remove"' not in remove_page.content.decode()


def test_removing_from_the_space_is_not_offered_nor_reviewed(client, space_a, tree):
    """The person's page offers no "Remove from space" and the bulk review step refuses,
    naming the role, before anything is confirmed."""
    manager = add_with_perms(space_a, {Perm.MANAGE_USERS}, organisation=tree["faculty"])
    ivy = add_member(
        space_a, UserFactory(first_name="Ivy", last_name="Issuer"), organisation=tree["dept"],
        role_name="Badge Issuer",
    )  # fmt: skip
    client.force_login(manager)
    ivy_member = Member.objects.get(space=space_a, user=ivy)

    detail = client.get(reverse("users:detail", args=[space_a.slug, ivy_member.pk]))
    review = client.post(
        reverse("users:bulk", args=[space_a.slug]),
        {"member": [ivy_member.pk], "action": "remove_from_space"},
    )

    assert detail.status_code == 200 and "Remove from space" not in detail.content.decode()
    assert review.status_code == 403 and "Badge Issuer" in review.content.decode()
