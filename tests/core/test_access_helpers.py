"""The fetch-and-authorize helpers of each app's access.py: one call scopes the lookup to the
actor's space and checks the permission on the object's organisation. Another space's
object, an object outside the actor's branch and a missing one all answer Http404; inside
the branch the object comes back, in a pinned number of queries."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from api.access import key_access, key_for
from badgeplatform.access import Access, load_access
from badgeplatform.permissions import Perm
from badges.access import award_for, badge_for, badges_visible, batch_for, graphic_for, rule_for
from badges.issuing import RecipientInput, awards_issue
from issuers.access import issuer_for
from orgs.access import group_for, organisation_for, organisations_visible
from tests.factories import (
    add_member,
    build_tree,
    make_api_key,
    make_award,
    make_badge,
    make_graphic,
    make_issuer,
    make_rule,
    member_of,
    role,
)
from users.access import member_for, members_visible, role_for


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


@pytest.fixture
def dept_access(space_a, tree):
    """An Organisation Administrator of the department (Computing), plus issuing there."""
    user = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    return load_access(space_a, user)


@pytest.fixture
def other_tree(space_b):
    return build_tree(space_b)


def _missing(fn, *args, **kwargs):
    with pytest.raises(Http404):
        fn(*args, **kwargs)


# ---- orgs ------------------------------------------------------------------------------------


def test_organisation_for(dept_access, tree, other_tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert organisation_for(dept_access, tree["team"].pk) == tree["team"]
    _missing(organisation_for, dept_access, tree["sibling"].pk)  # outside their branch
    _missing(organisation_for, dept_access, tree["faculty"].pk)  # above it
    _missing(organisation_for, dept_access, other_tree["team"].pk)  # another space
    _missing(organisation_for, dept_access, 999_999)
    _missing(organisation_for, dept_access, "not-a-number")
    # The need is checked, not just membership of the tree.
    _missing(organisation_for, dept_access, tree["team"].pk, need=Perm.MANAGE_ROLES)
    assert set(organisations_visible(dept_access)) == {tree["dept"], tree["team"]}


def test_group_for(space_a, dept_access, tree, other_tree):
    assert group_for(dept_access, tree["dept_group"].pk) == tree["dept_group"]
    _missing(group_for, dept_access, tree["sibling_group"].pk)
    _missing(group_for, dept_access, other_tree["dept_group"].pk)
    # A Group Administrator reaches their own group only.
    group_admin = add_member(space_a, role_name="Group Administrator", group=tree["dept_group"])
    access = load_access(space_a, group_admin)
    assert group_for(access, tree["dept_group"].pk) == tree["dept_group"]
    _missing(group_for, access, tree["sibling_group"].pk)


# ---- users -----------------------------------------------------------------------------------


def test_member_for(space_a, space_b, dept_access, tree, django_assert_num_queries):
    inside = member_of(space_a, add_member(space_a, organisation=tree["team"]))
    outside = member_of(space_a, add_member(space_a, organisation=tree["sibling"]))
    elsewhere = member_of(space_b, add_member(space_b))
    with django_assert_num_queries(2):  # the member with their user, their memberships here
        found = member_for(dept_access, inside.pk)
        assert [m.organisation for m in found.user.memberships_here] == [tree["team"]]
    _missing(member_for, dept_access, outside.pk)
    _missing(member_for, dept_access, elsewhere.pk)
    assert inside in members_visible(dept_access) and outside not in members_visible(dept_access)


def test_role_for(space_a, space_b, dept_access, admin_a):
    reporter = role(space_a, "Reporter")
    # "Manage roles" is space-wide: a department administrator does not hold it.
    _missing(role_for, dept_access, reporter.pk)
    assert role_for(dept_access, reporter.pk, need=Perm.MANAGE_USERS) == reporter
    admin = load_access(space_a, admin_a)
    assert role_for(admin, reporter.pk) == reporter
    _missing(role_for, admin, role(space_b, "Reporter").pk)


# ---- issuers ---------------------------------------------------------------------------------


def test_issuer_for(space_a, space_b, dept_access, tree):
    mine = make_issuer(space_a, tree["team"])
    theirs = make_issuer(space_a, tree["sibling"])
    elsewhere = make_issuer(space_b)
    assert issuer_for(dept_access, mine.pk) == mine
    _missing(issuer_for, dept_access, theirs.pk)
    _missing(issuer_for, dept_access, elsewhere.pk)


# ---- badges ----------------------------------------------------------------------------------


def test_badge_for(space_a, space_b, dept_access, tree, django_assert_num_queries):
    mine = make_badge(space_a, organisation=tree["team"])
    theirs = make_badge(space_a, organisation=tree["sibling"])
    elsewhere = make_badge(space_b)
    with django_assert_num_queries(1):  # with organisation, issuer profile, graphic, author
        badge = badge_for(dept_access, mine.pk, need=Perm.ISSUE_BADGES)
        assert badge.organisation == tree["team"]
        assert badge.issuer.current.name and badge.graphic.name
    with django_assert_num_queries(1):  # by public id (the API's and rules' ActivityId)
        assert badge_for(dept_access, str(mine.public_id)) == mine
    _missing(badge_for, dept_access, theirs.pk)
    _missing(badge_for, dept_access, theirs.public_id)
    _missing(badge_for, dept_access, elsewhere.pk)
    _missing(badge_for, dept_access, uuid.uuid4())
    _missing(badge_for, dept_access, "nonsense")
    # Any of several permissions ("seeing a badge").
    assert badge_for(dept_access, mine.pk, need=(Perm.MANAGE_ROLES, Perm.CREATE_BADGES)) == mine
    _missing(badge_for, dept_access, mine.pk, need=Perm.MANAGE_SETTINGS)
    assert set(badges_visible(dept_access)) == {mine}


def test_award_and_batch_for(space_a, space_b, dept_access, tree):
    mine = make_award(space_a, badge=make_badge(space_a, organisation=tree["dept"]))
    theirs = make_award(space_a, badge=make_badge(space_a, organisation=tree["sibling"]))
    elsewhere = make_award(space_b)
    assert award_for(dept_access, mine.pk, need=Perm.REVOKE_AWARDS) == mine
    _missing(award_for, dept_access, theirs.pk)
    _missing(award_for, dept_access, elsewhere.pk)
    assert batch_for(dept_access, mine.batch_id) == mine.batch
    _missing(batch_for, dept_access, theirs.batch_id)
    _missing(batch_for, dept_access, elsewhere.batch_id)


def test_graphic_and_rule_for(space_a, space_b, dept_access, tree):
    graphic = make_graphic(space_a)
    assert graphic_for(dept_access, graphic.pk) == graphic
    _missing(graphic_for, dept_access, make_graphic(space_b).pk)
    reporter = add_member(space_a, role_name="Reporter", organisation=tree["dept"])
    _missing(graphic_for, load_access(space_a, reporter), graphic.pk)  # no library right

    mine = make_rule(space_a, organisation=tree["team"])
    theirs = make_rule(space_a, organisation=tree["sibling"])
    assert rule_for(dept_access, mine.pk) == mine
    _missing(rule_for, dept_access, theirs.pk)
    _missing(rule_for, dept_access, make_rule(space_b).pk)


# ---- api keys, system access -----------------------------------------------------------------


def test_key_for(space_a, space_b, admin_a, dept_access):
    key = make_api_key(space_a)
    admin = load_access(space_a, admin_a)
    assert key_for(admin, key.pk) == key
    _missing(key_for, admin, make_api_key(space_b).pk)
    _missing(key_for, dept_access, key.pk)  # "manage API keys" is the whole space's


def test_a_scoped_keys_access_cannot_issue_outside_its_branch(space_a, tree, member_a):
    key = make_api_key(space_a, organisation=tree["dept"])
    inside = make_badge(space_a, organisation=tree["team"])
    outside = make_badge(space_a, organisation=tree["sibling"])
    access = key_access(key)
    _, (outcome,) = awards_issue(
        access=access, badge=inside, recipients=[RecipientInput(user=member_a)]
    )
    assert outcome.status == "awarded"
    with pytest.raises(PermissionDenied):
        awards_issue(access=access, badge=outside, recipients=[RecipientInput(user=member_a)])
    assert not outside.awards.exists()
    # A key without an organisation covers the whole space.
    everywhere = key_access(make_api_key(space_a, name="All"))
    assert everywhere.can(Perm.ISSUE_BADGES, organisation=tree["sibling"])
    assert not everywhere.can(Perm.MANAGE_USERS, organisation=tree["sibling"])


def test_system_access_may_do_everything_in_its_own_space_only(space_a, tree, other_tree):
    system = Access.system(space_a)
    assert system.is_system and system.user is None
    assert system.can(Perm.MANAGE_ROLES) and system.can(Perm.ISSUE_BADGES, tree["sibling"])
    assert not system.can(Perm.ISSUE_BADGES, organisation=other_tree["team"])
    assert organisation_for(system, tree["sibling"].pk) == tree["sibling"]
    _missing(organisation_for, system, other_tree["team"].pk)
