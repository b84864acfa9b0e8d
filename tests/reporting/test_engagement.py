"""The Engagement section of the Reports page: page views, shares by target, certificate
downloads and claims per badge over the report's period and organisations, within the
reader's reach, in a constant number of queries."""

from datetime import date

import pytest
from django.urls import reverse

from badges.models import EngagementCount
from tests.factories import UserFactory, add_member, make_badge
from tests.reporting.conftest import PERIOD

pytestmark = pytest.mark.django_db


def url(space):
    return reverse("reporting:index", args=[space.slug])


def counter(award_or_badge, kind, day, hits, target=""):
    award = award_or_badge if hasattr(award_or_badge, "badge_id") else None
    badge = award.badge if award else award_or_badge
    return EngagementCount.objects.create(
        space=badge.space,
        organisation_id=award.organisation_id if award else badge.organisation_id,
        badge=badge,
        award=award,
        day=day,
        kind=kind,
        target=target,
        hits=hits,
    )


@pytest.fixture
def counted(data):
    a = data.awards
    counter(a["a3"], "view", date(2025, 3, 1), 5)  # first day: in
    counter(a["a3"], "view", date(2025, 2, 28), 100)  # the day before: out
    counter(a["a4"], "view", date(2025, 4, 30), 7)  # last day: in
    counter(a["a4"], "view", date(2025, 5, 1), 100)  # the day after: out
    counter(a["a4"], "share", date(2025, 4, 2), 2, "linkedin_profile")
    counter(a["a4"], "share", date(2025, 4, 3), 1, "x")
    counter(a["a3"], "certificate", date(2025, 3, 20), 3)
    counter(data.badges["Python"], "view", date(2025, 3, 5), 4)  # the badge's own page
    counter(data.badges["Python"], "claim_view", date(2025, 3, 5), 10)
    counter(data.badges["Python"], "claim", date(2025, 3, 6), 4)
    counter(a["a6"], "view", date(2025, 4, 10), 9)  # Poetry, Arts
    counter(a["a1"], "certificate", date(2025, 3, 2), 1)  # Bridges, Engineering
    return data


def figures(engagement) -> dict[str, list[int]]:
    return {row.badge.name: row.cells for row in engagement.rows}


def test_the_administrator_sees_each_badges_figures_over_the_period(client_a, space_a, counted):
    response = client_a.get(url(space_a), PERIOD)
    assert response.status_code == 200
    engagement = response.context["engagement"]
    # views, shares, certificate downloads, claim page views, claims
    assert figures(engagement) == {
        "Python": [16, 3, 3, 10, 4],
        "Poetry": [9, 0, 0, 0, 0],
        "Bridges": [0, 0, 1, 0, 0],
    }
    assert [r.badge.name for r in engagement.rows] == ["Python", "Poetry", "Bridges"]
    assert engagement.total_cells == [25, 3, 4, 10, 4]
    assert engagement.shares == [("LinkedIn profile", 2), ("X", 1)]
    assert engagement.claim_rate == "40%"
    html = response.content.decode()
    assert "Engagement" in html and "Certificate downloads" in html
    assert "LinkedIn profile 2 · X 1" in html and "Claim conversion: 40%" in html


def test_the_organisation_filter_applies(client_a, space_a, counted):
    response = client_a.get(url(space_a), {**PERIOD, "org": counted.arts.pk})
    assert figures(response.context["engagement"]) == {"Poetry": [9, 0, 0, 0, 0]}
    response = client_a.get(url(space_a), {**PERIOD, "org": counted.eng.pk, "sub": "0"})
    assert figures(response.context["engagement"]) == {"Bridges": [0, 0, 1, 0, 0]}


def test_a_reporter_sees_only_their_departments_figures(client, space_a, counted):
    reporter = add_member(
        space_a, UserFactory(username="rita"), role_name="Reporter", organisation=counted.eng
    )
    client.force_login(reporter)
    response = client.get(url(space_a), PERIOD)
    assert set(figures(response.context["engagement"])) == {"Python", "Bridges"}
    assert "Poetry" not in response.content.decode()


def test_no_figures_says_so(client_a, space_a, data):
    response = client_a.get(url(space_a), PERIOD)
    assert response.context["engagement"].empty
    assert "No views, shares, downloads or claims in this period" in response.content.decode()


def test_the_section_costs_three_queries_however_many_badges(
    client_a, space_a, counted, django_assert_num_queries
):
    def fetch():
        assert client_a.get(url(space_a), PERIOD).status_code == 200

    shell_and_chart = 6 + 2  # see test_views.PAGES: the shell; organisations and series
    with django_assert_num_queries(shell_and_chart + 3):
        fetch()
    for i in range(30):
        badge = make_badge(space_a, organisation=counted.arts, name=f"Extra {i}")
        counter(badge, "view", date(2025, 3, 10), i + 1)
    with django_assert_num_queries(shell_and_chart + 3):
        fetch()
    assert len(client_a.get(url(space_a), PERIOD).context["engagement"].rows) == 20
