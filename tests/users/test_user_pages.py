"""The user summary and edit pages: places with their roles, add/transfer/remove, change roles."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory, add_member, build_tree, member_of, role
from users.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


@pytest.fixture
def carl(space_a, tree):
    user = add_member(
        space_a, UserFactory(first_name="Carl", last_name="Moss"), group=tree["dept_group"]
    )
    add_member(space_a, user, role_name="Reporter", organisation=tree["team"])
    return member_of(space_a, user)


def detail(space, member):
    return reverse("users:detail", args=[space.slug, member.pk])


def edit(space, member):
    return reverse("users:edit", args=[space.slug, member.pk])


def test_summary_lists_places_roles_and_the_awards_hook(client_a, space_a, carl):
    html = client_a.get(detail(space_a, carl)).content.decode()
    assert "Carl Moss" in html
    assert "Cohort 2026" in html and "group in Computing" in html
    assert "AI Lab" in html and "Reporter" in html
    assert 'id="recent-awards"' in html and "No badges awarded yet." in html


def test_summary_is_404_outside_ones_reach_as_for_another_space(
    client, space_a, space_b, admin_b, carl, tree
):
    arts_admin = add_member(
        space_a, role_name="Organisation Administrator", organisation=tree["sibling"]
    )
    client.force_login(arts_admin)
    # Out of reach looks exactly like missing (users.access.member_for).
    assert client.get(detail(space_a, carl)).status_code == 404
    assert client.get(edit(space_a, carl)).status_code == 404
    client.force_login(admin_b)
    assert client.get(reverse("users:detail", args=[space_b.slug, carl.pk])).status_code == 404


def test_dept_admin_sees_a_person_in_their_group(client, space_a, carl, tree):
    boss = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    client.force_login(boss)
    assert client.get(detail(space_a, carl)).status_code == 200


def test_add_a_place_with_a_role(client_a, space_a, carl, tree):
    response = client_a.post(
        edit(space_a, carl),
        {
            "action": "add_place",
            "add-place": f"o:{tree['sibling'].pk}",
            "add-role": role(space_a, "Badge Creator").pk,
        },
    )
    assert response.status_code == 302
    m = Membership.objects.get(user=carl.user, organisation=tree["sibling"])
    assert m.role.name == "Badge Creator"


def test_adding_a_place_they_already_hold_is_refused(client_a, space_a, carl, tree):
    response = client_a.post(
        edit(space_a, carl),
        {
            "action": "add_place",
            "add-place": f"o:{tree['team'].pk}",
            "add-role": role(space_a, "User").pk,
        },
    )
    assert response.status_code == 422
    assert "already in" in response.content.decode()


def test_change_role_transfer_and_remove(client_a, space_a, carl, tree):
    m = Membership.objects.get(user=carl.user, organisation=tree["team"])
    r = client_a.post(
        edit(space_a, carl),
        {
            "action": "set_role",
            "membership": m.pk,
            f"m{m.pk}-role": role(space_a, "Badge Issuer").pk,
        },
    )
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.role.name == "Badge Issuer"
    r = client_a.post(
        edit(space_a, carl),
        {
            "action": "transfer",
            "membership": m.pk,
            f"t{m.pk}-place": f"g:{tree['sibling_group'].pk}",
        },
    )
    assert r.status_code == 302
    m.refresh_from_db()
    assert (m.organisation, m.group, m.role.name) == (None, tree["sibling_group"], "Badge Issuer")
    r = client_a.post(edit(space_a, carl), {"action": "remove_place", "membership": m.pk})
    assert r.status_code == 302
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_removing_the_last_place_is_refused(client_a, space_a, carl):
    first, second = Membership.objects.filter(user=carl.user)
    client_a.post(edit(space_a, carl), {"action": "remove_place", "membership": first.pk})
    r = client_a.post(edit(space_a, carl), {"action": "remove_place", "membership": second.pk})
    assert r.status_code == 422
    assert "only organisation or group" in r.content.decode()
    assert Membership.objects.filter(pk=second.pk).exists()


def test_the_last_space_administrator_cannot_be_demoted(client_a, space_a, admin_a):
    m = Membership.objects.get(user=admin_a)
    r = client_a.post(
        edit(space_a, member_of(space_a, admin_a)),
        {"action": "set_role", "membership": m.pk, f"m{m.pk}-role": role(space_a, "User").pk},
    )
    assert r.status_code == 422
    assert "without a Space Administrator" in r.content.decode()
    m.refresh_from_db()
    assert m.role.name == "Space Administrator"


def test_external_id_is_unique_within_the_space(client_a, space_a, carl, admin_a):
    member_of(space_a, admin_a).__class__.objects.filter(pk=member_of(space_a, admin_a).pk).update(
        external_id="E-1"
    )
    r = client_a.post(edit(space_a, carl), {"action": "details", "external_id": "E-1"})
    assert r.status_code == 422
    assert "already has this external identifier" in r.content.decode()
    r = client_a.post(edit(space_a, carl), {"action": "details", "external_id": " E-2 "})
    assert r.status_code == 302
    carl.refresh_from_db()
    assert carl.external_id == "E-2"


def test_htmx_edit_answers_with_the_places_fragment(client_a, space_a, carl, tree):
    r = client_a.post(
        edit(space_a, carl),
        {
            "action": "add_place",
            "add-place": f"o:{tree['sibling'].pk}",
            "add-role": role(space_a, "User").pk,
        },
        HTTP_HX_REQUEST="true",
    )
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith('<div id="places">')
    assert "Arts" in html and "is now User" in html


def test_dept_admin_cannot_move_someone_out_of_reach_or_touch_places_outside(
    client, space_a, carl, tree
):
    boss = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    outside = Membership.objects.create(
        space=space_a, user=carl.user, organisation=tree["sibling"], role=role(space_a, "User")
    )
    client.force_login(boss)
    inside = Membership.objects.get(user=carl.user, organisation=tree["team"])
    # Transferring into the sibling faculty: not theirs.
    r = client.post(
        edit(space_a, carl),
        {
            "action": "transfer",
            "membership": inside.pk,
            f"t{inside.pk}-place": f"o:{tree['sibling'].pk}",
        },
    )
    assert r.status_code == 403
    # Removing the place in the sibling faculty: not theirs either.
    r = client.post(edit(space_a, carl), {"action": "remove_place", "membership": outside.pk})
    assert r.status_code == 403
    assert Membership.objects.filter(pk=outside.pk).exists()
    inside.refresh_from_db()
    assert inside.organisation == tree["team"]


def test_plain_member_gets_403_and_wrong_method_405(client, space_a, member_a, carl):
    client.force_login(member_a)
    assert client.get(detail(space_a, carl)).status_code == 403
    assert client.post(edit(space_a, carl), {"action": "details"}).status_code == 403
    client.force_login(space_a.members.order_by("pk").first().user)  # the admin
    assert client.post(detail(space_a, carl)).status_code == 405
