import pytest
from django.urls import reverse

from badgeplatform.access import Access
from badges.issuing import RecipientInput, awards_issue
from tests.factories import add_member, make_badge

pytestmark = pytest.mark.django_db


def test_dashboard_counts_and_checklist_follow_the_space(client_a, space_a, member_a):
    url = reverse("dashboard", args=[space_a.slug])
    response = client_a.get(url)
    assert response.context["stats"]["awards"] == 0
    badge = make_badge(space_a)
    awards_issue(
        access=Access.system(badge.space), badge=badge, recipients=[RecipientInput(user=member_a)]
    )
    response = client_a.get(url)
    stats = response.context["stats"]
    assert (stats["published_badges"], stats["awards"], stats["awards_this_month"]) == (1, 1, 1)
    assert stats["members"] == 2


@pytest.mark.parametrize("extra", [1, 12])
def test_dashboard_query_count_does_not_grow(client_a, space_a, extra, django_assert_num_queries):
    for _ in range(extra):
        add_member(space_a)
    # session, user, space, member, memberships, 5 counts (organisations, members, issuers,
    # published badges, awards with this month's), the root organisation (checklist), the
    # user's spaces (space switcher)
    with django_assert_num_queries(12):
        client_a.get(reverse("dashboard", args=[space_a.slug]))
