"""The user list: order, filters (role, organisation with MPTT ranges, group), search, pages,
and a query count that does not grow with the people listed."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, add_member, build_tree, member_of
from users.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


@pytest.fixture
def people(space_a, tree):
    """Four people placed around the tree, created on different days."""
    cast = {
        "zoe": add_member(
            space_a, UserFactory(first_name="Zoe", last_name="Adams"), organisation=tree["team"]
        ),
        "bea": add_member(
            space_a,
            UserFactory(first_name="Bea", last_name="Young", email="bea@corp.test"),
            role_name="Reporter",
            organisation=tree["dept"],
        ),
        "carl": add_member(
            space_a, UserFactory(first_name="Carl", last_name="Moss"), group=tree["dept_group"]
        ),
        "dina": add_member(
            space_a, UserFactory(first_name="Dina", last_name="Berg"), organisation=tree["sibling"]
        ),
    }
    now = timezone.now()
    for i, key in enumerate(["zoe", "bea", "carl", "dina"]):
        Member.objects.filter(space=space_a, user=cast[key]).update(
            created_at=now - timedelta(days=10 - i)
        )
    Member.objects.filter(space=space_a, user=cast["carl"]).update(external_id="STU-42")
    return cast


def names(response) -> list[str]:
    return [m.user.first_name for m in response.context["page"].object_list]


def list_url(space):
    return reverse("users:list", args=[space.slug])


def test_ordered_by_last_name_by_default_and_descending(client_a, space_a, people):
    # Last names: Adams, Admin (Alice), Berg, Moss, Young.
    ascending = ["Zoe", "Alice", "Dina", "Carl", "Bea"]
    assert names(client_a.get(list_url(space_a))) == ascending
    assert names(client_a.get(list_url(space_a), {"order": "-name"})) == ascending[::-1]


def test_ordered_by_creation_date(client_a, space_a, people, admin_a):
    Member.objects.filter(user=admin_a).update(created_at=timezone.now() - timedelta(days=30))
    assert names(client_a.get(list_url(space_a), {"order": "created"})) == [
        "Alice",
        "Zoe",
        "Bea",
        "Carl",
        "Dina",
    ]
    assert names(client_a.get(list_url(space_a), {"order": "-created"}))[0] == "Dina"


def test_filter_by_role(client_a, space_a, people):
    from tests.factories import role

    response = client_a.get(list_url(space_a), {"role": role(space_a, "Reporter").pk})
    assert names(response) == ["Bea"]


def test_filter_by_organisation_and_below_uses_the_subtree(client_a, space_a, people, tree):
    below = client_a.get(list_url(space_a), {"organisation": tree["dept"].pk})
    # Bea in the department, Zoe in its team, Carl in its group; not Dina (Arts).
    assert names(below) == ["Zoe", "Carl", "Bea"]
    only = client_a.get(list_url(space_a), {"organisation": tree["dept"].pk, "scope": "only"})
    assert names(only) == ["Carl", "Bea"]  # the department itself and its groups
    faculty = client_a.get(list_url(space_a), {"organisation": tree["faculty"].pk})
    assert names(faculty) == ["Zoe", "Carl", "Bea"]


def test_filter_by_group(client_a, space_a, people, tree):
    assert names(client_a.get(list_url(space_a), {"group": tree["dept_group"].pk})) == ["Carl"]


@pytest.mark.parametrize(
    "q, expected",
    [("zoe", ["Zoe"]), ("corp.test", ["Bea"]), ("STU-42", ["Carl"]), ("dina berg", ["Dina"])],
)
def test_search_by_name_email_or_external_id(client_a, space_a, people, q, expected):
    assert names(client_a.get(list_url(space_a), {"q": q})) == expected


def test_an_unknown_filter_value_is_ignored_with_a_message(client_a, space_a, people):
    response = client_a.get(list_url(space_a), {"organisation": "999999"})
    assert response.status_code == 422
    assert len(names(response)) == 5
    assert "Select a valid choice" in response.content.decode()


def test_paginated(client_a, space_a, tree, monkeypatch):
    from users import views

    monkeypatch.setattr(views, "USERS_PER_PAGE", 2)
    for _ in range(4):
        add_member(space_a, organisation=tree["team"])
    first = client_a.get(list_url(space_a))
    assert len(names(first)) == 2 and first.context["page"].paginator.num_pages == 3
    last = client_a.get(list_url(space_a), {"page": 3})
    assert len(names(last)) == 1


def test_select_all_on_page_without_javascript(client_a, space_a, people):
    html = client_a.get(list_url(space_a), {"select": "all"}).content.decode()
    boxes = re.findall(r'<input type="checkbox" name="member"[^>]*>', html)
    assert len(boxes) == 5 and all(b.endswith(" checked>") for b in boxes)
    plain = client_a.get(list_url(space_a)).content.decode()
    assert not any(
        b.endswith(" checked>") for b in re.findall(r'<input type="checkbox"[^>]*>', plain)
    )


@pytest.mark.parametrize("size", [3, 30])
def test_query_count_does_not_grow_with_the_people(
    client_a, space_a, tree, size, django_assert_num_queries
):
    for i in range(size):
        place = {"group": tree["dept_group"]} if i % 2 else {"organisation": tree["team"]}
        user = add_member(space_a, **place)
        add_member(space_a, user, role_name="Reporter", organisation=tree["sibling"])
    # session, user, space, member, grants, organisations and groups (the
    # filter and bulk selects), roles, page count, page of members with their users, their
    # memberships with places and roles (one prefetch), and the shell's space switcher.
    with django_assert_num_queries(12):
        response = client_a.get(list_url(space_a), {"organisation": tree["dept"].pk})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(size, 25)


def test_htmx_filter_answers_with_the_results_fragment(client_a, space_a, people):
    response = client_a.get(list_url(space_a), {"q": "zoe"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html
    assert "Zoe" in html and "Dina" not in html
    assert "HX-Request" in response["Vary"]
    # Going Back to a pushed URL asks for the whole page again.
    restore = client_a.get(
        list_url(space_a),
        {"q": "zoe"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in restore.content.decode()


def test_org_admin_lists_only_the_people_of_their_subtree(client, space_a, people, tree):
    boss = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    client.force_login(boss)
    response = client.get(list_url(space_a))
    assert sorted(names(response)) == sorted(["Zoe", "Bea", "Carl", boss.first_name])
    # Asking for the sibling's people through the filter shows nobody (it is not offered).
    assert names(client.get(list_url(space_a), {"organisation": tree["sibling"].pk})) != ["Dina"]


def test_plain_member_and_group_admin_get_403(client, space_a, member_a, tree):
    client.force_login(member_a)
    assert client.get(list_url(space_a)).status_code == 403
    gadmin = add_member(space_a, role_name="Group Administrator", group=tree["dept_group"])
    client.force_login(gadmin)
    assert client.get(list_url(space_a)).status_code == 403


def test_wrong_method(client_a, space_a):
    assert client_a.post(list_url(space_a)).status_code == 405


def test_member_of_helper(space_a, admin_a):
    assert member_of(space_a, admin_a).user == admin_a
