"""Each default role, held where it usually is, against every page of this area: what it may
do answers 200, what it may not answers 403 (404 for a person outside one's reach). The tree:
root › Engineering › Computing › AI Lab, and Arts beside Engineering; the group "Cohort 2026" is
in Computing, "Choir" in Arts."""

import pytest
from django.urls import reverse

from tests.factories import add_member, build_tree, member_of

pytestmark = pytest.mark.django_db

# page key → (url name, how to build its args from the tree, the people and the space)
PAGES = {
    "tree": ("orgs:tree", lambda t, p: []),
    "org_dept": ("orgs:detail", lambda t, p: [t["dept"].pk]),
    "add_under_dept": ("orgs:add_child", lambda t, p: [t["dept"].pk]),
    "add_under_team": ("orgs:add_child", lambda t, p: [t["team"].pk]),
    "add_under_faculty": ("orgs:add_child", lambda t, p: [t["faculty"].pk]),
    "add_under_sibling": ("orgs:add_child", lambda t, p: [t["sibling"].pk]),
    "remove_team": ("orgs:remove", lambda t, p: [t["team"].pk]),
    "remove_dept": ("orgs:remove", lambda t, p: [t["dept"].pk]),
    "groups": ("orgs:groups", lambda t, p: []),
    "group_dept": ("users:group_members", lambda t, p: [t["dept_group"].pk]),
    "group_dept_edit": ("orgs:group_edit", lambda t, p: [t["dept_group"].pk]),
    "group_sibling": ("users:group_members", lambda t, p: [t["sibling_group"].pk]),
    "new_group_in_dept": ("orgs:group_create", lambda t, p: [t["dept"].pk]),
    "users": ("users:list", lambda t, p: []),
    "create_user": ("users:create", lambda t, p: []),
    "person_in_team": ("users:detail", lambda t, p: [p["in_team"].pk]),
    "edit_person_in_team": ("users:edit", lambda t, p: [p["in_team"].pk]),
    "person_in_arts": ("users:detail", lambda t, p: [p["in_arts"].pk]),
    "roles": ("users:roles", lambda t, p: []),
    "new_role": ("users:role_create", lambda t, p: []),
}

ALL = set(PAGES)
ORG_ADMIN_OF_DEPT = {
    "tree",
    "org_dept",
    "add_under_dept",
    "add_under_team",
    "remove_team",
    "groups",
    "group_dept",
    "group_dept_edit",
    "new_group_in_dept",
    "users",
    "create_user",
    "person_in_team",
    "edit_person_in_team",
    "roles",
}
GROUP_ADMIN = {"groups", "group_dept"}

# Pages addressing an object the role cannot reach answer 404, exactly as a missing object
# would (the <app>/access.py helpers); the others a role may not open answer 403.
HIDDEN = {
    "Organisation Administrator": {
        "add_under_faculty",
        "add_under_sibling",
        "group_sibling",
        "person_in_arts",
    },
    "Group Administrator": {"group_sibling", "new_group_in_dept"},
}

# role → (where it is held, the pages it may open); every other page is a 403 (or a 404, HIDDEN).
MATRIX = {
    "Space Administrator": ("root", ALL),
    "Organisation Administrator": ("dept", ORG_ADMIN_OF_DEPT),
    "Group Administrator": ("dept_group", GROUP_ADMIN),
    "Badge Creator": ("dept", set()),
    "Badge Issuer": ("dept", set()),
    "Reporter": ("dept", set()),
    "User": ("dept", set()),
}


@pytest.fixture
def world(space_a):
    tree = build_tree(space_a)
    people = {
        "in_team": member_of(space_a, add_member(space_a, organisation=tree["team"])),
        "in_arts": member_of(space_a, add_member(space_a, organisation=tree["sibling"])),
    }
    return tree, people


@pytest.mark.parametrize("role_name", list(MATRIX))
def test_default_role_pages(client, space_a, world, role_name):
    tree, people = world
    where, allowed = MATRIX[role_name]
    node = tree[where]
    place = {"group": node} if where.endswith("group") else {"organisation": node}
    client.force_login(add_member(space_a, role_name=role_name, **place))
    wrong = []
    for key, (name, args) in PAGES.items():
        status = client.get(reverse(name, args=[space_a.slug, *args(tree, people)])).status_code
        expected = 200 if key in allowed else 404 if key in HIDDEN.get(role_name, ()) else 403
        if status != expected:
            wrong.append(f"{key}: {status} (expected {expected})")
    assert not wrong, f"{role_name} on {where}: {wrong}"
