"""The report's numbers against the hand-counted data set in conftest.py."""

from datetime import date

import pytest
from django.urls import reverse

from tests.reporting.conftest import PERIOD

pytestmark = pytest.mark.django_db


def get_report(client, space, **params):
    response = client.get(reverse("reporting:index", args=[space.slug]), {**PERIOD, **params})
    assert response.status_code == 200, response.content[:500]
    return response.context


def monthly(ctx) -> dict[str, int]:
    return {f"{b:%Y-%m}": n for b, n, _ in ctx["series"]}


def orgs(*organisations):
    return [o.pk for o in organisations]


def test_whole_space_per_month_in_local_time(client_a, space_a, data):
    ctx = get_report(client_a, space_a, show="month")
    # a1 (00:00 on the first day) is in, a2 (a minute before) and a7 (00:00 after) are out.
    assert monthly(ctx) == {"2025-03": 4, "2025-04": 3}
    assert ctx["total"] == 7


def test_days_follow_the_configured_time_zone(client_a, space_a, data, settings):
    ctx = get_report(client_a, space_a, show="day")
    per_day = {b: n for b, n, _ in ctx["series"]}
    assert len(per_day) == 61  # every day of the period, empty ones included
    assert per_day[date(2025, 4, 1)] == 1  # a4: 00:30 on 1 April in Auckland
    assert per_day[date(2025, 3, 31)] == 0
    assert per_day[date(2025, 3, 1)] == 1 and per_day[date(2025, 4, 30)] == 1

    # The same awards seen from UTC: a4 was issued on 31 March there; a1 falls before the
    # period and a7 inside it.
    settings.TIME_ZONE = "UTC"
    ctx = get_report(client_a, space_a, show="day")
    per_day = {b: n for b, n, _ in ctx["series"]}
    assert per_day[date(2025, 3, 31)] == 1 and per_day[date(2025, 4, 1)] == 0
    assert per_day[date(2025, 3, 1)] == 0  # a1 is 28 February 11:00 UTC
    assert per_day[date(2025, 4, 30)] == 2  # a6 and a7


def test_an_organisation_with_and_without_its_sub_organisations(client_a, space_a, data):
    with_sub = get_report(client_a, space_a, show="month", org=orgs(data.eng), sub="1")
    assert monthly(with_sub) == {"2025-03": 2, "2025-04": 2}  # a1 a3 | a4 a5
    alone = get_report(client_a, space_a, show="month", org=orgs(data.eng), sub=["0"])
    assert monthly(alone) == {"2025-03": 1, "2025-04": 0}  # a1
    # Unchecking the box sends only the hidden sub=0; checking it sends sub=0 then sub=1.
    checked = get_report(client_a, space_a, show="month", org=orgs(data.eng), sub=["0", "1"])
    assert checked["total"] == 4


def test_several_organisations_are_added_up_without_counting_twice(client_a, space_a, data):
    ctx = get_report(client_a, space_a, show="month", org=orgs(data.eng, data.arts))
    assert monthly(ctx) == {"2025-03": 3, "2025-04": 3}
    # Computing is inside Engineering: choosing both counts Computing's awards once.
    ctx = get_report(client_a, space_a, show="month", org=orgs(data.eng, data.comp))
    assert ctx["total"] == 4
    ctx = get_report(
        client_a, space_a, show="month", org=orgs(data.eng, data.comp), sub="0"
    )  # exactly those two nodes
    assert ctx["total"] == 4


def test_awards_count_under_the_organisation_they_were_issued_in(client_a, space_a, data):
    # a9 is a Python badge (Computing's) issued under Arts.
    assert get_report(client_a, space_a, org=orgs(data.arts))["total"] == 2
    assert get_report(client_a, space_a, org=orgs(data.comp))["total"] == 3


def test_cumulative_line_is_the_running_total(client_a, space_a, data):
    ctx = get_report(client_a, space_a)  # cumulative is the default
    assert ctx["unit"] == "day"  # 61 days: a point per day
    running = [c for _, _, c in ctx["series"]]
    assert running[0] == 1 and running[-1] == 7
    assert running == sorted(running)
    assert ctx["chart"].kind == "line"
    assert "summaries" not in ctx and "org_rows" not in ctx  # only with "Show breakdown"


def test_revoked_awards_still_count_as_issued(client_a, space_a, data):
    data.awards["a3"].revoked_at = data.awards["a4"].issued_at
    data.awards["a3"].save()
    assert get_report(client_a, space_a, org=orgs(data.comp))["total"] == 3


def test_per_badge_summaries_count_the_period_and_the_selection(client_a, space_a, data):
    ctx = get_report(client_a, space_a, breakdown="1")
    counts = [(s["badge"].name, s["count"]) for s in ctx["summaries"]]
    assert counts[0] == ("Python", 4)  # a3 a4 a5 a9, most issued first
    assert sorted(counts[1:]) == [("Bridges", 1), ("Poetry", 1), ("Welcome", 1)]

    ctx = get_report(client_a, space_a, breakdown="1", org=orgs(data.eng))
    assert [(s["badge"].name, s["count"]) for s in ctx["summaries"]] == [
        ("Python", 3),
        ("Bridges", 1),
    ]


def test_show_breakdown_counts_per_organisation(client_a, space_a, data):
    """ "Show breakdown": each chosen organisation itself, then each organisation beneath it
    with its whole branch; the rows add up to the total."""

    def rows(ctx):
        return [(r["name"], r["count"], r["branch"]) for r in ctx["org_rows"]]

    ctx = get_report(client_a, space_a, breakdown="1")  # the whole space (the root)
    assert rows(ctx) == [
        ("Acme University", 1, False),  # a8
        ("Arts", 2, True),  # a6 a9
        ("Engineering", 4, True),  # a1, and Computing's a3 a4 a5
    ]
    assert sum(r[1] for r in rows(ctx)) == ctx["total"] == 7
    ctx = get_report(client_a, space_a, breakdown="1", org=orgs(data.eng, data.arts), sub="0")
    assert rows(ctx) == [("Arts", 2, False), ("Engineering", 1, False)]
    # The page says it and the box stays ticked; without it, no breakdown at all.
    response = client_a.get(
        reverse("reporting:index", args=[space_a.slug]), {**PERIOD, "breakdown": "1"}
    )
    html = response.content.decode()
    assert "Per organisation" in html and "Badges issued in this period" in html
    assert 'name="breakdown" value="1" aria-describedby="breakdown-help" checked' in html
    html = client_a.get(reverse("reporting:index", args=[space_a.slug]), PERIOD).content.decode()
    assert "Per organisation" not in html and "Show breakdown" in html


def test_recipients_of_a_badge_within_the_selection_newest_first(client_a, space_a, data):
    url = reverse("reporting:recipients", args=[space_a.slug])
    params = {**PERIOD, "show": "month", "org": data.eng.pk, "badge": data.badges["Python"].pk}
    response = client_a.get(url, params)
    assert response.status_code == 200
    shown = [a.pk for a in response.context["page"].object_list]
    a = data.awards
    assert shown == [a["a5"].pk, a["a4"].pk, a["a3"].pk]  # not a9 (Arts)
    assert "Revoked" in response.content.decode()  # a5 is marked
