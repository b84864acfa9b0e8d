"""Groups: create, rename, move, delete, and their members (Group Administrators included)."""

import pytest
from django.urls import reverse

from orgs.models import Group
from tests.factories import GroupFactory, UserFactory, add_member, build_tree, role
from users.models import Member, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


def url(name, space, *args):
    # A group's members page is the people layer's (users:group_members); the rest is orgs'.
    full = "users:group_members" if name == "group" else f"orgs:{name}"
    return reverse(full, args=[space.slug, *args])


def test_create_a_group_inside_an_organisation(client_a, space_a, tree):
    response = client_a.post(
        url("group_create", space_a, tree["team"].pk),
        {"name": "Reading Group", "description": "", "organisation": tree["team"].pk},
    )
    group = Group.objects.get(name="Reading Group")
    assert response.status_code == 302 and response.url == url("group", space_a, group.pk)
    assert group.organisation == tree["team"] and group.space == space_a


def test_a_duplicate_group_name_in_the_same_organisation_is_refused(client_a, space_a, tree):
    response = client_a.post(
        url("group_create", space_a, tree["dept"].pk),
        {"name": "cohort 2026", "organisation": tree["dept"].pk},
    )
    assert response.status_code == 422
    assert "already has a group called" in response.content.decode()
    assert Group.objects.filter(space=space_a).count() == 2


def test_rename_and_move_a_group(client_a, space_a, tree):
    g = tree["dept_group"]
    response = client_a.post(
        url("group_edit", space_a, g.pk),
        {"name": "Cohort 2027", "description": "d", "organisation": tree["sibling"].pk},
    )
    assert response.status_code == 302
    g.refresh_from_db()
    assert (g.name, g.organisation) == ("Cohort 2027", tree["sibling"])


def test_delete_a_group_keeps_its_people_in_the_space(client_a, space_a, tree):
    g = tree["dept_group"]
    only_here = add_member(space_a, group=g)
    also_elsewhere = add_member(space_a, group=g)
    add_member(space_a, also_elsewhere, organisation=tree["sibling"])
    page = client_a.get(url("group_delete", space_a, g.pk))
    assert "2 members" in page.content.decode()
    response = client_a.post(url("group_delete", space_a, g.pk))
    assert response.status_code == 302
    assert not Group.objects.filter(pk=g.pk).exists()
    assert Member.objects.filter(space=space_a, user__in=[only_here, also_elsewhere]).count() == 2
    rehomed = Membership.objects.get(user=only_here)
    assert rehomed.organisation == tree["dept"] and rehomed.role.name == "User"
    assert Membership.objects.filter(user=also_elsewhere).count() == 1


def test_groups_list_counts_members_in_constant_queries(
    client_a, space_a, tree, django_assert_num_queries
):
    for size in (2, 10):
        for _ in range(size):
            g = GroupFactory(space=space_a, organisation=tree["team"])
            add_member(space_a, group=g)
        # session, user, space, member, grants, page count, page rows (members counted in
        # SQL), the organisations offered for "New group", switcher
        with django_assert_num_queries(9):
            response = client_a.get(url("groups", space_a))
        assert response.status_code == 200


# ---- Members of a group ----------------------------------------------------------------------


def test_add_member_by_email_set_role_and_take_out(client_a, space_a, tree):
    g = tree["dept_group"]
    person = add_member(space_a, organisation=tree["dept"])
    response = client_a.post(
        url("group", space_a, g.pk),
        {"action": "add", "person": person.email.upper(), "role": role(space_a, "User").pk},
    )
    assert response.status_code == 302
    m = Membership.objects.get(user=person, group=g)
    gadmin = role(space_a, "Group Administrator")
    response = client_a.post(
        url("group", space_a, g.pk),
        {"action": "set_role", "membership": m.pk, f"m{m.pk}-role": gadmin.pk},
    )
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.role == gadmin
    response = client_a.post(url("group", space_a, g.pk), {"action": "remove", "membership": m.pk})
    assert response.status_code == 302
    assert not Membership.objects.filter(user=person, group=g).exists()


def test_add_someone_not_in_the_space_is_refused(client_a, space_a, space_b, admin_b, tree):
    g = tree["dept_group"]
    response = client_a.post(
        url("group", space_a, g.pk),
        {"action": "add", "person": admin_b.email, "role": role(space_a, "User").pk},
    )
    assert response.status_code == 422
    assert "Nobody in this space has that email" in response.content.decode()
    assert not g.memberships.exists()


def test_htmx_member_actions_answer_with_the_members_fragment(client_a, space_a, tree):
    g = tree["dept_group"]
    person = add_member(space_a, organisation=tree["dept"])
    response = client_a.post(
        url("group", space_a, g.pk),
        {"action": "add", "person": person.username, "role": role(space_a, "User").pk},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="members"') and "<html" not in html
    assert person.email in html and "was added to" in html


@pytest.fixture
def group_admin(client, space_a, tree):
    user = add_member(space_a, role_name="Group Administrator", group=tree["dept_group"])
    client.force_login(user)
    return client


def test_group_admin_manages_their_groups_members_only(group_admin, space_a, tree):
    c = group_admin
    g, other = tree["dept_group"], tree["sibling_group"]
    person = add_member(space_a, organisation=tree["team"])
    assert c.get(url("group", space_a, g.pk)).status_code == 200
    assert c.get(url("groups", space_a)).content.decode().count("Choir") == 0
    response = c.post(
        url("group", space_a, g.pk),
        {"action": "add", "person": person.email, "role": role(space_a, "User").pk},
    )
    assert response.status_code == 302
    # Another group (out of reach: 404, as if missing), and the group itself (rename, move,
    # delete), are not theirs.
    assert c.get(url("group", space_a, other.pk)).status_code == 404
    assert (
        c.post(
            url("group", space_a, other.pk),
            {"action": "add", "person": person.email, "role": role(space_a, "User").pk},
        ).status_code
        == 404
    )
    assert c.get(url("group_edit", space_a, g.pk)).status_code == 403
    assert c.post(url("group_delete", space_a, g.pk)).status_code == 403
    assert c.get(url("group_create", space_a, tree["dept"].pk)).status_code == 404
    assert Group.objects.filter(pk=g.pk).exists()


def test_group_admin_cannot_hand_out_more_than_they_hold(group_admin, space_a, tree):
    g = tree["dept_group"]
    person = add_member(space_a, organisation=tree["team"])
    response = group_admin.post(
        url("group", space_a, g.pk),
        {
            "action": "add",
            "person": person.email,
            "role": role(space_a, "Organisation Administrator").pk,
        },
    )
    assert response.status_code == 422  # not among the roles offered
    assert not g.memberships.filter(user=person).exists()


def test_group_admin_cannot_change_an_org_admins_role_in_the_group(group_admin, space_a, tree):
    g = tree["dept_group"]
    boss = add_member(space_a, UserFactory(), role_name="Organisation Administrator", group=g)
    m = Membership.objects.get(user=boss, group=g)
    response = group_admin.post(
        url("group", space_a, g.pk), {"action": "remove", "membership": m.pk}
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=m.pk).exists()


def test_plain_member_gets_403_on_groups(client, space_a, member_a, tree):
    client.force_login(member_a)
    assert client.get(url("groups", space_a)).status_code == 403
    assert client.get(url("group", space_a, tree["dept_group"].pk)).status_code == 403


def test_group_views_refuse_wrong_methods(client_a, space_a, tree):
    assert client_a.post(url("groups", space_a)).status_code == 405
    assert client_a.put(url("group", space_a, tree["dept_group"].pk)).status_code == 405
    assert client_a.put(url("group_delete", space_a, tree["dept_group"].pk)).status_code == 405
