"""The Organisations area: tree, add, edit, move, remove (with the holdings registry)."""

import pytest
from django.urls import reverse

from orgs import holdings
from orgs.models import Group, Organisation
from tests.factories import (
    GroupFactory,
    OrganisationFactory,
    UserFactory,
    add_member,
    build_tree,
)
from users.models import Member, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


def url(name, space, *args):
    return reverse(f"orgs:{name}", args=[space.slug, *args])


def assert_tree_is_sound(space):
    """Every node's (lft, rght) brackets exactly its descendants; the root spans them all."""
    nodes = list(Organisation.objects.filter(space=space).order_by("lft"))
    root = nodes[0]
    assert root.parent_id is None and root.lft == 1 and root.rght == 2 * len(nodes)
    for node in nodes:
        inside = [n for n in nodes if node.lft < n.lft < node.rght]
        assert node.rght - node.lft - 1 == 2 * len(inside), node
        for n in inside:
            assert n.rght < node.rght and n.tree_id == node.tree_id


# ---- The tree ----------------------------------------------------------------------------------


def test_tree_shows_nested_nodes_with_actions(client_a, space_a, tree):
    response = client_a.get(url("tree", space_a))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Engineering", "Computing", "AI Lab", "Arts"):
        assert name in html
    # Tree order, siblings by name: Arts, then Engineering › Computing › AI Lab.
    assert html.index("Arts") < html.index("Engineering") < html.index("Computing")
    assert html.index("Computing") < html.index("AI Lab")
    assert url("add_child", space_a, tree["team"].pk) in html
    assert (
        "1 person" in html and "0 people · 1 group" in html
    )  # root; Computing    # The root cannot be removed or moved: no such links for it.
    assert url("remove", space_a, tree["root"].pk) not in html


@pytest.mark.parametrize("size", [3, 12])
def test_tree_query_count_does_not_grow_with_the_tree(
    client_a, space_a, size, django_assert_num_queries
):
    parent = space_a.root_organisation
    for i in range(size):
        parent = OrganisationFactory(
            space=space_a, parent=parent if i % 2 else space_a.root_organisation, name=f"N{i}"
        )
        GroupFactory(space=space_a, organisation=parent)
    # session, user, space, member, grants, the annotated tree, and the shell's space switcher.
    with django_assert_num_queries(7):
        assert client_a.get(url("tree", space_a)).status_code == 200


def test_org_admin_sees_only_their_subtree(client, space_a, tree):
    boss = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    client.force_login(boss)
    html = client.get(url("tree", space_a)).content.decode()
    assert "Computing" in html and "AI Lab" in html
    assert "Arts" not in html and "Engineering" not in html


def test_plain_member_gets_403_on_the_tree(client, space_a, member_a):
    client.force_login(member_a)
    assert client.get(url("tree", space_a)).status_code == 403


# ---- Add, edit ---------------------------------------------------------------------------------


def test_add_child_creates_a_node_under_the_one_you_are_at(client_a, space_a, tree):
    response = client_a.post(
        url("add_child", space_a, tree["team"].pk), {"name": "Vision", "description": "Eyes"}
    )
    org = Organisation.objects.get(name="Vision")
    assert response.status_code == 302
    assert response.url == url("detail", space_a, org.pk)
    assert org.parent == tree["team"] and org.level == 4 and org.space == space_a
    assert_tree_is_sound(space_a)


def test_add_child_refuses_a_sibling_with_the_same_name(client_a, space_a, tree):
    response = client_a.post(url("add_child", space_a, tree["faculty"].pk), {"name": "computing"})
    assert response.status_code == 422
    assert "already has a sub-organisation called" in response.content.decode()
    assert Organisation.objects.filter(space=space_a).count() == 5


def test_add_child_refuses_a_blank_or_multiline_name(client_a, space_a, tree):
    response = client_a.post(url("add_child", space_a, tree["team"].pk), {"name": "A\nB"})
    assert response.status_code == 422
    assert "single line" in response.content.decode()


def test_edit_renames_and_describes(client_a, space_a, tree):
    response = client_a.post(
        url("edit", space_a, tree["dept"].pk), {"name": "Informatics", "description": "New"}
    )
    assert response.status_code == 302
    tree["dept"].refresh_from_db()
    assert (tree["dept"].name, tree["dept"].description) == ("Informatics", "New")
    assert_tree_is_sound(space_a)


def test_org_views_refuse_wrong_methods(client_a, space_a, tree):
    assert client_a.post(url("tree", space_a)).status_code == 405
    assert client_a.put(url("add_child", space_a, tree["dept"].pk)).status_code == 405
    assert client_a.delete(url("remove", space_a, tree["dept"].pk)).status_code == 405


# ---- Move --------------------------------------------------------------------------------------


def test_move_reparents_the_whole_subtree(client_a, space_a, tree):
    response = client_a.post(url("move", space_a, tree["dept"].pk), {"parent": tree["sibling"].pk})
    assert response.status_code == 302
    tree["dept"].refresh_from_db()
    tree["team"].refresh_from_db()
    assert tree["dept"].parent_id == tree["sibling"].pk
    assert tree["team"].parent_id == tree["dept"].pk and tree["team"].level == 3
    assert_tree_is_sound(space_a)


def test_move_under_its_own_descendant_is_refused(client_a, space_a, tree):
    # The descendant is not even offered; posting it anyway is refused with a message.
    response = client_a.post(url("move", space_a, tree["faculty"].pk), {"parent": tree["team"].pk})
    assert response.status_code == 422
    tree["faculty"].refresh_from_db()
    assert tree["faculty"].parent_id == tree["root"].pk
    assert_tree_is_sound(space_a)


def test_the_root_cannot_be_moved(client_a, space_a, tree):
    response = client_a.post(url("move", space_a, tree["root"].pk), {"parent": tree["team"].pk})
    assert response.status_code == 422
    assert "cannot be moved" in response.content.decode()
    assert_tree_is_sound(space_a)


def test_move_into_another_space_is_404(client_a, space_a, space_b, tree):
    response = client_a.post(
        url("move", space_a, tree["dept"].pk), {"parent": space_b.root_organisation.pk}
    )
    assert response.status_code == 422  # not a choice: nothing of space B is offered or used
    tree["dept"].refresh_from_db()
    assert tree["dept"].parent_id == tree["faculty"].pk


# ---- Remove ------------------------------------------------------------------------------------


def test_removing_the_root_is_refused_and_changes_nothing(client_a, space_a, tree):
    page = client_a.get(url("remove", space_a, tree["root"].pk))
    assert page.status_code == 200
    assert "is the root organisation" in page.content.decode()
    assert 'value="remove"' not in page.content.decode()
    response = client_a.post(url("remove", space_a, tree["root"].pk), {"action": "remove"})
    assert response.status_code == 422
    assert Organisation.objects.filter(space=space_a).count() == 5


def test_remove_page_says_what_the_node_holds(client_a, space_a, tree):
    add_member(space_a, organisation=tree["team"])
    add_member(space_a, group=tree["dept_group"])
    html = client_a.get(url("remove", space_a, tree["dept"].pk)).content.decode()
    assert "Sub-organisations" in html and "AI Lab" in html
    assert "Groups" in html and "Cohort 2026" in html
    assert "People" in html and "nobody is removed from the space" in html


def test_remove_takes_the_subtree_and_its_groups_keeps_the_people(client_a, space_a, tree):
    only_in_team = add_member(space_a, organisation=tree["team"])
    in_group_and_arts = add_member(space_a, group=tree["dept_group"])
    add_member(space_a, in_group_and_arts, organisation=tree["sibling"])
    response = client_a.post(url("remove", space_a, tree["dept"].pk), {"action": "remove"})
    assert response.status_code == 302
    assert not Organisation.objects.filter(name__in=["Computing", "AI Lab"]).exists()
    assert not Group.objects.filter(pk=tree["dept_group"].pk).exists()
    # Everybody stays in the space; the one left with no place sits in the parent as User.
    assert Member.objects.filter(space=space_a, user=only_in_team).exists()
    rehomed = Membership.objects.get(space=space_a, user=only_in_team)
    assert rehomed.organisation == tree["faculty"] and rehomed.role.name == "User"
    assert list(
        Membership.objects.filter(user=in_group_and_arts).values_list("organisation", flat=True)
    ) == [tree["sibling"].pk]
    assert_tree_is_sound(space_a)


@pytest.fixture
def badges_holding():
    """Stands in for the badges app: a blocking, movable holding kept in a dict."""
    held = {}

    def count(space, orgs):
        return sum(n for pk, n in held.items() if orgs.filter(pk=pk).exists())

    def move(space, orgs, target):
        moved = 0
        for pk in list(held):
            if orgs.filter(pk=pk).exists():
                moved += held.pop(pk)
                held[target.pk] = held.get(target.pk, 0) + moved
        return moved

    holdings.register("test-badges", "Badges", count, blocks_removal=True, move=move)
    yield held
    holdings.unregister("test-badges")


def test_removal_is_refused_while_it_holds_badges_and_offers_the_move(
    client_a, space_a, tree, badges_holding
):
    badges_holding[tree["team"].pk] = 3  # three badges deep in the subtree
    page = client_a.get(url("remove", space_a, tree["dept"].pk)).content.decode()
    assert "still holds 3 badges" in page and "Move them first" in page
    response = client_a.post(url("remove", space_a, tree["dept"].pk), {"action": "remove"})
    assert response.status_code == 422
    assert Organisation.objects.filter(pk=tree["dept"].pk).exists()

    # A target inside the subtree is refused.
    response = client_a.post(
        url("remove", space_a, tree["dept"].pk),
        {"action": "move_holdings", "target": tree["team"].pk},
    )
    assert response.status_code == 422
    assert badges_holding == {tree["team"].pk: 3}

    response = client_a.post(
        url("remove", space_a, tree["dept"].pk),
        {"action": "move_holdings", "target": tree["sibling"].pk},
    )
    assert response.status_code == 302
    assert badges_holding == {tree["sibling"].pk: 3}
    response = client_a.post(url("remove", space_a, tree["dept"].pk), {"action": "remove"})
    assert response.status_code == 302
    assert not Organisation.objects.filter(pk=tree["dept"].pk).exists()


def test_non_blocking_holdings_are_shown_with_their_consequence(client_a, space_a, tree):
    holdings.register(
        "test-awards",
        "Awards",
        lambda space, orgs: 7,
        blocks_removal=False,
        consequence="They stay with their badges; recipients keep every award.",
    )
    try:
        html = client_a.get(url("remove", space_a, tree["dept"].pk)).content.decode()
    finally:
        holdings.unregister("test-awards")
    assert "recipients keep every award" in html


def test_a_holding_must_say_what_happens_to_it():
    with pytest.raises(ValueError):
        holdings.register("x", "X", lambda s, o: 0, blocks_removal=False)


# ---- Who may do what ---------------------------------------------------------------------------


@pytest.fixture
def dept_admin(client, space_a, tree):
    user = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    client.force_login(user)
    return client


def test_org_admin_manages_their_department_and_below(dept_admin, space_a, tree):
    c = dept_admin
    assert c.get(url("detail", space_a, tree["dept"].pk)).status_code == 200
    assert (
        c.post(url("add_child", space_a, tree["dept"].pk), {"name": "Robotics"}).status_code == 302
    )
    assert c.post(url("edit", space_a, tree["team"].pk), {"name": "ML Lab"}).status_code == 302
    robotics = Organisation.objects.get(name="Robotics")
    # Moving and removing inside their subtree is theirs.
    assert c.post(url("move", space_a, robotics.pk), {"parent": tree["team"].pk}).status_code == 302
    assert c.post(url("remove", space_a, robotics.pk), {"action": "remove"}).status_code == 302


def test_org_admin_never_touches_parent_or_siblings(dept_admin, space_a, tree):
    c = dept_admin
    # Nodes out of reach answer exactly as missing ones (orgs.access.organisation_for).
    for node in ("faculty", "root", "sibling"):
        assert c.get(url("detail", space_a, tree[node].pk)).status_code == 404
        assert c.post(url("add_child", space_a, tree[node].pk), {"name": "X"}).status_code == 404
        assert c.post(url("edit", space_a, tree[node].pk), {"name": "X"}).status_code == 404
    # Removing or moving the department itself changes its parent, which is not theirs.
    assert c.post(url("remove", space_a, tree["dept"].pk), {"action": "remove"}).status_code == 403
    assert c.get(url("move", space_a, tree["dept"].pk)).status_code == 403
    # Nor may they move something of theirs under a node that is not.
    response = c.post(url("move", space_a, tree["team"].pk), {"parent": tree["sibling"].pk})
    assert response.status_code == 422  # the sibling is not among their choices
    assert Organisation.objects.filter(name="X").count() == 0
    assert Organisation.objects.get(pk=tree["faculty"].pk).name == "Engineering"


@pytest.mark.parametrize(
    "role_name", ["Group Administrator", "Badge Creator", "Badge Issuer", "Reporter", "User"]
)
def test_roles_without_manage_organisations_get_403(client, space_a, tree, role_name):
    user = add_member(space_a, UserFactory(), role_name=role_name, organisation=tree["root"])
    client.force_login(user)
    assert client.get(url("tree", space_a)).status_code == 403
    assert client.get(url("detail", space_a, tree["dept"].pk)).status_code == 403
    assert client.post(url("add_child", space_a, tree["dept"].pk), {"name": "X"}).status_code == 403
    assert (
        client.post(url("remove", space_a, tree["team"].pk), {"action": "remove"}).status_code
        == 403
    )
