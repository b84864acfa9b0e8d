"""Bulk actions on a cherry-picked set: a confirmation stating how many people are affected,
then the action and a result message."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from badgeplatform.models import AuditEntry
from orgs.models import Organisation
from tests.factories import UserFactory, add_member, build_tree, make_space, member_of, role
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


@pytest.fixture
def crew(space_a, tree):
    """Three people in the department's group (one also in the team), one in the team only."""
    g = tree["dept_group"]
    a = add_member(space_a, UserFactory(first_name="Ann"), group=g)
    b = add_member(space_a, UserFactory(first_name="Ben"), group=g)
    add_member(space_a, b, organisation=tree["team"])
    c = add_member(space_a, UserFactory(first_name="Cy"), group=g, role_name="Group Administrator")
    d = add_member(space_a, UserFactory(first_name="Dee"), organisation=tree["team"])
    return [member_of(space_a, u) for u in (a, b, c, d)]


def bulk(client, space, members, confirm=False, **fields):
    data = {
        "member": [m.pk for m in members],
        "next": reverse("users:list", args=[space.slug]) + "?q=x",
    }
    data.update(fields)
    if confirm:
        data["confirm"] = "yes"
    return client.post(reverse("users:bulk", args=[space.slug]), data)


def message(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_remove_from_space_confirms_then_removes_and_keeps_the_accounts(client_a, space_a, crew):
    picked = crew[:2]
    review = bulk(client_a, space_a, picked, action="remove_from_space")
    html = review.content.decode()
    assert review.status_code == 200
    assert '<span class="big-number">2</span> people are affected' in html
    assert "every badge they were awarded, stay theirs" in html
    assert Member.objects.filter(pk__in=[m.pk for m in picked]).count() == 2  # not yet

    done = bulk(client_a, space_a, picked, confirm=True, action="remove_from_space")
    assert done.status_code == 302 and done.url.endswith("?q=x")
    assert message(done) == [
        "2 people removed from Acme University. Their awarded badges are untouched."
    ]
    assert not Member.objects.filter(pk__in=[m.pk for m in picked]).exists()
    assert not Membership.objects.filter(space=space_a, user__in=[m.user for m in picked]).exists()
    # The people themselves (whom awards point at) are still on the platform.
    assert User.objects.filter(pk__in=[m.user_id for m in picked]).count() == 2
    entry = AuditEntry.objects.get(space=space_a, action="member.remove_from_space")
    assert entry.actor.username == "alice"
    assert sorted(entry.changes["people"]) == sorted(m.user.email for m in picked)


def test_remove_from_space_leaves_their_other_spaces_alone(client_a, space_a, crew):
    other = make_space("Other", "other")
    add_member(other, crew[0].user)
    bulk(client_a, space_a, crew[:1], confirm=True, action="remove_from_space")
    assert Member.objects.filter(space=other, user=crew[0].user).exists()


def test_add_into_a_group_skips_those_already_in_it(client_a, space_a, crew, tree):
    target = tree["dept_group"]
    review = bulk(
        client_a,
        space_a,
        crew,
        action="add_to_group",
        group=target.pk,
        role=role(space_a, "User").pk,
    )
    html = review.content.decode()
    assert '<span class="big-number">1</span> person is affected' in html
    assert "3 people of those selected are already in it" in html
    done = bulk(
        client_a,
        space_a,
        crew,
        confirm=True,
        action="add_to_group",
        group=target.pk,
        role=role(space_a, "User").pk,
    )
    assert message(done) == ["1 person added into “Cohort 2026” as User."]
    assert target.memberships.count() == 4
    # Cy keeps the Group Administrator role they had there.
    assert target.memberships.get(user=crew[2].user).role.name == "Group Administrator"


def test_remove_from_a_group_rehomes_those_left_with_no_place(client_a, space_a, crew, tree):
    g = tree["dept_group"]
    done = bulk(
        client_a, space_a, crew[:2] + crew[3:], confirm=True, action="remove_from_group", group=g.pk
    )
    assert message(done) == ["2 people taken out of “Cohort 2026”."]
    assert set(g.memberships.values_list("user_id", flat=True)) == {crew[2].user_id}
    ann = Membership.objects.get(space=space_a, user=crew[0].user)
    assert (ann.organisation, ann.role.name) == (tree["dept"], "User")
    assert Membership.objects.filter(user=crew[1].user).count() == 1  # Ben keeps the team


def test_transfer_between_groups_keeps_each_role(client_a, space_a, crew, tree):
    source, target = tree["dept_group"], tree["sibling_group"]
    review = bulk(
        client_a, space_a, crew, action="transfer", from_group=source.pk, to_group=target.pk
    )
    assert '<span class="big-number">3</span> people are affected' in review.content.decode()
    done = bulk(
        client_a,
        space_a,
        crew,
        confirm=True,
        action="transfer",
        from_group=source.pk,
        to_group=target.pk,
    )
    assert message(done) == ["3 people transferred from “Cohort 2026” into “Choir”."]
    assert not source.memberships.exists()
    roles = dict(target.memberships.values_list("user__first_name", "role__name"))
    assert roles == {"Ann": "User", "Ben": "User", "Cy": "Group Administrator"}


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"action": ""}, "This field is required"),
        ({"action": "add_to_group"}, "Choose one for this action"),
        (
            {"action": "transfer", "from_group": "SAME", "to_group": "SAME"},
            "Choose a different group",
        ),
        ({"action": "explode"}, "Select a valid choice"),
    ],
)
def test_bad_bulk_input_says_why_and_changes_nothing(client_a, space_a, crew, tree, fields, text):
    fields = {k: (tree["dept_group"].pk if v == "SAME" else v) for k, v in fields.items()}
    response = bulk(client_a, space_a, crew, confirm=True, **fields)
    assert response.status_code == 422
    assert text in response.content.decode()
    assert Member.objects.filter(space=space_a).count() == 5


def test_nobody_selected_is_refused(client_a, space_a, crew):
    response = bulk(client_a, space_a, [], confirm=True, action="remove_from_space")
    assert response.status_code == 422
    assert "Select at least one person" in response.content.decode()


def test_nobody_affected_has_nothing_to_confirm(client_a, space_a, crew, tree):
    response = bulk(
        client_a,
        space_a,
        crew[3:],
        confirm=True,
        action="remove_from_group",
        group=tree["dept_group"].pk,
    )
    assert response.status_code == 422
    assert "None of the 1 selected person is affected" in response.content.decode()


def test_you_cannot_remove_yourself(client_a, space_a, admin_a):
    response = bulk(
        client_a, space_a, [member_of(space_a, admin_a)], confirm=True, action="remove_from_space"
    )
    assert response.status_code == 422
    assert Member.objects.filter(space=space_a, user=admin_a).exists()


def test_people_of_another_space_are_404(client_a, space_a, space_b, admin_b, crew):
    response = bulk(
        client_a, space_a, [member_of(space_b, admin_b)], confirm=True, action="remove_from_space"
    )
    assert response.status_code == 404
    assert Member.objects.filter(space=space_b, user=admin_b).exists()


# ---- Limits by role --------------------------------------------------------------------------


@pytest.fixture
def dept_admin(client, space_a, tree):
    user = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    client.force_login(user)
    return client


def test_dept_admin_cannot_act_on_people_outside_their_reach(dept_admin, space_a, tree, crew):
    outsider = member_of(space_a, add_member(space_a, organisation=tree["sibling"]))
    response = bulk(
        dept_admin, space_a, [crew[0], outsider], confirm=True, action="remove_from_space"
    )
    assert response.status_code == 404  # out of reach answers exactly as missing
    assert Member.objects.filter(pk__in=[crew[0].pk, outsider.pk]).count() == 2


def test_dept_admin_cannot_remove_from_space_someone_who_also_belongs_elsewhere(
    dept_admin, space_a, tree, crew
):
    add_member(space_a, crew[0].user, organisation=tree["sibling"])
    response = bulk(dept_admin, space_a, [crew[0]], confirm=True, action="remove_from_space")
    assert response.status_code == 403
    assert "also belong to organisations you do not manage" in response.content.decode()


def test_dept_admin_cannot_add_into_a_group_outside(dept_admin, space_a, tree, crew):
    response = bulk(
        dept_admin,
        space_a,
        crew[:1],
        confirm=True,
        action="add_to_group",
        group=tree["sibling_group"].pk,
        role=role(space_a, "User").pk,
    )
    assert response.status_code == 422  # the group is not among their choices
    assert not tree["sibling_group"].memberships.exists()


def test_dept_admin_runs_bulk_actions_inside_their_reach(dept_admin, space_a, tree, crew):
    response = bulk(dept_admin, space_a, crew[3:], confirm=True, action="remove_from_space")
    assert response.status_code == 302
    assert not Member.objects.filter(pk=crew[3].pk).exists()
    assert Organisation.objects.filter(pk=tree["dept"].pk).exists()


def test_plain_member_gets_403_and_get_is_405(client, client_a, space_a, member_a, crew):
    assert client_a.get(reverse("users:bulk", args=[space_a.slug])).status_code == 405
    client.force_login(member_a)
    assert bulk(client, space_a, crew, confirm=True, action="remove_from_space").status_code == 403
