import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from badgeplatform.permissions import DEFAULT_ROLES, Perm
from tests.factories import GroupFactory, OrganisationFactory, UserFactory, add_member, make_space
from users.access import load_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    """root → faculty → department → team, and a sibling faculty."""
    faculty = OrganisationFactory(space=space_a, name="Engineering")
    department = OrganisationFactory(space=space_a, parent=faculty, name="Computing")
    team = OrganisationFactory(space=space_a, parent=department, name="AI Lab")
    sibling = OrganisationFactory(space=space_a, name="Arts")
    nodes = {
        "root": space_a.root_organisation,
        "faculty": faculty,
        "dept": department,
        "team": team,
        "sibling": sibling,
    }
    # MPTT shifts lft/rght in the database as nodes are added: reload what we hold in memory.
    for node in nodes.values():
        node.refresh_from_db()
    return nodes


def test_space_admin_holds_every_permission_everywhere(space_a, admin_a, tree):
    access = load_access(space_a, admin_a)
    for perm in Perm:
        for org in tree.values():
            assert access.can(perm, organisation=org), (perm, org)


def test_role_on_an_organisation_applies_beneath_it_but_not_above_or_beside(space_a, tree):
    user = add_member(space_a, role_name="Organisation Administrator", organisation=tree["faculty"])
    access = load_access(space_a, user)
    assert access.can(Perm.MANAGE_USERS, organisation=tree["faculty"])
    assert access.can(Perm.MANAGE_USERS, organisation=tree["dept"])
    assert access.can(Perm.MANAGE_USERS, organisation=tree["team"])  # three levels down
    assert not access.can(Perm.MANAGE_USERS, organisation=tree["root"])
    assert not access.can(Perm.MANAGE_USERS, organisation=tree["sibling"])
    # Space-wide permissions are never granted by a role below the root.
    assert not access.can(Perm.MANAGE_BRANDING, organisation=tree["faculty"])
    with pytest.raises(PermissionDenied, match="Manage users"):
        access.require(Perm.MANAGE_USERS, organisation=tree["sibling"])


def test_user_role_grants_nothing(space_a, member_a, tree):
    access = load_access(space_a, member_a)
    assert not access.is_admin
    assert not any(access.can(p, organisation=tree["team"]) for p in Perm)


def test_group_role_applies_to_that_group_only(space_a, tree):
    group = GroupFactory(space=space_a, organisation=tree["dept"])
    other = GroupFactory(space=space_a, organisation=tree["dept"])
    user = add_member(space_a, role_name="Group Administrator", group=group)
    access = load_access(space_a, user)
    assert access.can(Perm.MANAGE_GROUPS, group=group)
    assert not access.can(Perm.MANAGE_GROUPS, group=other)
    assert not access.can(Perm.MANAGE_GROUPS, organisation=tree["dept"])
    # An organisation administrator above the group covers it too.
    org_admin = add_member(
        space_a, role_name="Organisation Administrator", organisation=tree["faculty"]
    )
    assert load_access(space_a, org_admin).can(Perm.MANAGE_GROUPS, group=other)


def test_grants_from_another_space_never_apply(space_a, space_b, admin_b, tree):
    assert load_access(space_a, admin_b) is None
    # Even a member of both spaces gets only what each space gave them.
    add_member(space_a, admin_b)  # plain User role in A
    access = load_access(space_a, admin_b)
    assert not access.can(Perm.MANAGE_USERS, organisation=tree["root"])
    assert not access.can(Perm.MANAGE_USERS, organisation=space_b.root_organisation)


def test_organisations_q_selects_exactly_the_subtree(space_a, tree):
    from orgs.models import Organisation

    user = add_member(space_a, role_name="Reporter", organisation=tree["dept"])
    access = load_access(space_a, user)
    visible = set(Organisation.objects.filter(access.organisations_q(Perm.VIEW_REPORTS)))
    assert visible == {tree["dept"], tree["team"]}
    assert not Organisation.objects.filter(access.organisations_q(Perm.MANAGE_USERS)).exists()


@pytest.mark.parametrize("depth", [2, 8])
def test_access_loads_in_constant_queries_whatever_the_tree_depth(space_a, depth):
    parent = space_a.root_organisation
    user = UserFactory()
    for i in range(depth):
        parent = OrganisationFactory(space=space_a, parent=parent, name=f"Level {i}")
        add_member(space_a, user, role_name="Reporter", organisation=parent)
    with CaptureQueriesContext(connection) as ctx:
        access = load_access(space_a, user)
        # Checks after loading are in memory: no further queries, however many.
        for _ in range(20):
            access.can(Perm.VIEW_REPORTS, organisation=parent)
    # 1: the Member row; 2: the memberships with role and node bounds.
    assert len(ctx.captured_queries) == 2


def test_default_roles_are_seeded_per_space(space_a, space_b):
    from users.models import Role

    for space in (space_a, space_b):
        names = set(
            Role.objects.filter(space=space, is_default=True).values_list("name", flat=True)
        )
        assert names == set(DEFAULT_ROLES)


def test_make_space_creates_root_named_as_typed():
    space = make_space("Faculté d'Été", "ete")
    assert space.root_organisation.name == "Faculté d'Été"
