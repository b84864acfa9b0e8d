"""Hole 13: the dashboard showed space-wide figures, the administrators' checklist and an
"Open the tree" link (a 403) to every member. Now each figure counts only the organisations the
person's roles cover for it, each checklist item and link appears only with the permission its
page needs, and a plain recipient sees their own awards and a way to their backpack.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.permissions import Perm
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    add_member,
    add_with_perms,
    make_award_at,
    make_badge,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(space_a, member_a):
    """Science (with Physics beneath) and Arts; awards and people in each."""
    science = OrganisationFactory(space=space_a, name="Science")
    physics = OrganisationFactory(space=space_a, parent=science, name="Physics")
    arts = OrganisationFactory(space=space_a, name="Arts")
    for org in (science, physics, arts):
        org.refresh_from_db()
    lab = make_badge(space_a, organisation=physics, name="Lab Safety")
    studio = make_badge(space_a, organisation=arts, name="Studio Safety")
    recent = timezone.now() - timedelta(hours=1)
    make_award_at(lab, member_a, recent)
    for _ in range(3):
        make_award_at(studio, add_member(space_a, organisation=arts), recent)
    add_member(space_a, organisation=physics)
    return {"science": science, "physics": physics, "arts": arts}


def dashboard(client, space, person):
    client.force_login(person)
    response = client.get(reverse("dashboard", args=[space.slug]))
    assert response.status_code == 200
    return response


def links_in(response, space) -> set[str]:
    return set(re.findall(rf'href="(/s/{space.slug}/[^"?#]*)', response.content.decode()))


def test_a_plain_recipient_sees_only_their_own_awards(client, space_a, member_a, world):
    response = dashboard(client, space_a, member_a)
    html = response.content.decode()
    assert response.context["stats"] == {}
    assert [a.badge.name for a in response.context["own_awards"]] == ["Lab Safety"]
    assert "Getting started" not in html
    assert reverse("orgs:tree", args=[space_a.slug]) not in html
    assert reverse("backpack:index") in html


def test_a_reporter_of_one_organisation_counts_only_its_awards(client, space_a, world):
    reporter = add_with_perms(space_a, [Perm.VIEW_REPORTS], organisation=world["arts"])
    stats = dashboard(client, space_a, reporter).context["stats"]
    assert stats == {"awards": 3, "awards_this_month": 3}


def test_an_organisation_administrator_counts_only_their_branch(client, space_a, world):
    admin = add_member(
        space_a, role_name="Organisation Administrator", organisation=world["science"]
    )
    response = dashboard(client, space_a, admin)
    stats = response.context["stats"]
    assert stats["organisations"] == 2  # Science and Physics, not Arts nor the root
    assert stats["members"] == 2  # themselves and the Physics member, not the Arts people
    assert stats["published_badges"] == 1 and stats["awards"] == 1
    html = response.content.decode()
    assert "Create your space" not in html  # a space administrator's item
    assert reverse("orgs:tree", args=[space_a.slug]) in html  # they may open it


@pytest.mark.parametrize("persona", ["recipient", "reporter", "badge issuer", "org admin", "admin"])
def test_every_link_on_the_dashboard_opens(client, space_a, member_a, admin_a, world, persona):
    person = {
        "recipient": lambda: member_a,
        "reporter": lambda: add_with_perms(
            space_a, [Perm.VIEW_REPORTS], organisation=world["arts"]
        ),
        "badge issuer": lambda: add_member(
            space_a, role_name="Badge Issuer", organisation=world["physics"]
        ),
        "org admin": lambda: add_member(
            space_a, role_name="Organisation Administrator", organisation=world["science"]
        ),
        "admin": lambda: admin_a,
    }[persona]()
    for link in links_in(dashboard(client, space_a, person), space_a):
        if link.endswith("/logout/"):
            continue
        assert client.get(link).status_code not in (403, 404), link


@pytest.mark.parametrize(
    ("persona", "queries"),
    [
        # session, user, space, member, memberships, own recent and expiring awards, the
        # user's spaces (menu), what waits for them (claims and applications, one query)
        ("recipient", 9),
        # ... and the awards aggregate
        ("reporter", 10),
        # ... organisations, members, issuers, published badges, awards: 5 counts; the badges
        # they can issue, recent batches, the awards they issue that expire soon; the
        # applications waiting for them as a reviewer
        ("org admin", 18),
    ],
)
def test_the_dashboard_costs_one_query_per_figure(
    client, space_a, member_a, world, persona, queries, django_assert_num_queries
):
    person = {
        "recipient": lambda: member_a,
        "reporter": lambda: add_with_perms(
            space_a, [Perm.VIEW_REPORTS], organisation=world["arts"]
        ),
        "org admin": lambda: add_member(
            space_a,
            UserFactory(),
            role_name="Organisation Administrator",
            organisation=world["science"],
        ),
    }[persona]()
    client.force_login(person)
    with django_assert_num_queries(queries):
        assert client.get(reverse("dashboard", args=[space_a.slug])).status_code == 200
