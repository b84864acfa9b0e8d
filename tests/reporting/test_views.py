"""The report pages: access, htmx fragments, bad input, CSV, constant query counts."""

import csv
import io

import pytest
from django.urls import reverse

from badgeplatform.nav import build_menu
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    add_member,
    make_award_at,
    make_badge,
)
from tests.reporting.conftest import PERIOD, nz

pytestmark = pytest.mark.django_db


def url(space, name="index"):
    return reverse(f"reporting:{name}", args=[space.slug])


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


# ---- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["index", "export"])
def test_admin_sees_reports_and_the_menu_entry(client_a, space_a, name):
    response = client_a.get(url(space_a, name))
    assert response.status_code == 200
    if name == "index":
        assert response.context["choices"].period.preset == "last_30"
        menu = build_menu(response.wsgi_request)
        items = [i["label"] for s in menu if s.key == "reporting" for i in s.items]
        assert items == ["Reports"]


@pytest.mark.parametrize("name", ["index", "export", "recipients", "recipients_csv"])
def test_a_member_without_view_reports_gets_403(client, space_a, member_a, name, data):
    client.force_login(member_a)
    response = client.get(url(space_a, name), {"badge": data.badges["Python"].pk})
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["index", "export", "recipients", "recipients_csv"])
def test_another_space_and_anonymous(client, space_a, admin_b, space_b, name):
    response = client.get(url(space_a, name))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    client.force_login(admin_b)
    assert client.get(url(space_a, name)).status_code == 404


@pytest.mark.parametrize("name", ["index", "export", "recipients", "recipients_csv"])
def test_reports_are_read_only(client_a, space_a, name):
    assert client_a.post(url(space_a, name)).status_code == 405


def test_a_badge_of_another_space_is_404(client, space_a, admin_b, space_b):
    other = make_badge(space_a)
    client.force_login(admin_b)
    for name in ("recipients", "recipients_csv"):
        assert client.get(url(space_b, name), {"badge": other.pk}).status_code == 404
        assert client.get(url(space_b, name), {"badge": "x"}).status_code == 404


@pytest.fixture
def reporter(space_a, data):
    """A reporter whose role is held on Engineering only."""
    return add_member(
        space_a,
        UserFactory(username="rita", first_name="Rita"),
        role_name="Reporter",
        organisation=data.eng,
    )


def test_a_reporter_sees_only_their_department(client, space_a, data, reporter):
    client.force_login(reporter)
    response = client.get(url(space_a), {**PERIOD, "show": "month", "breakdown": "1"})
    assert response.status_code == 200
    offered = [o.name for o in response.context["report"].offered]
    assert offered == ["Engineering", "Computing"]
    assert "Arts" not in response.content.decode()
    # By default: everything they may see, and nothing more (a1 a3 a4 a5 of the 7).
    assert response.context["total"] == 4
    assert {s["badge"].name for s in response.context["summaries"]} == {"Python", "Bridges"}


@pytest.mark.parametrize("name", ["index", "export", "recipients", "recipients_csv"])
def test_a_reporter_asking_for_other_organisations_is_refused(
    client, space_a, data, reporter, name
):
    client.force_login(reporter)
    for crafted in (data.arts.pk, data.root.pk, 99999):
        # A badge of their own department: the crafted organisation is what is refused.
        response = client.get(
            url(space_a, name), {**PERIOD, "org": crafted, "badge": data.badges["Python"].pk}
        )
        assert response.status_code == 403, crafted
        assert "Poetry" not in response.content.decode()


def test_a_reporter_gets_no_recipients_outside_their_department(client, space_a, data, reporter):
    """A badge outside their organisations is not found at all: not even its name shows
    (badges.access.badge_for with "view reports")."""
    client.force_login(reporter)
    # Another department's badge, never issued in theirs, is not found (see
    # tests/security/test_report_badge_outside_reach.py).
    params = {**PERIOD, "badge": data.badges["Poetry"].pk}
    for name in ("recipients", "recipients_csv"):
        response = client.get(url(space_a, name), params)
        assert response.status_code == 404
        assert "Poetry" not in response.content.decode()


# ---- The page --------------------------------------------------------------------------------


def test_the_page_works_as_a_plain_form_and_as_htmx(client_a, space_a, data):
    full = client_a.get(url(space_a), {**PERIOD, "show": "month"}).content.decode()
    assert "<form" in full and 'hx-trigger="change, report-dates, submit"' in full
    assert 'role="img"' in full and '<title id="chart-title">' in full
    assert "Show the numbers as a table" in full
    part = client_a.get(url(space_a), {**PERIOD, "show": "month"}, HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert part.status_code == 200 and "<form" not in html and "<html" not in html
    assert "Badges issued per month" in html and 'hx-swap-oob="true"' in html
    assert part["Vary"] and "HX-Request" in part["Vary"]
    # Back/forward: htmx asks for the whole page to restore.
    restore = client_a.get(
        url(space_a), PERIOD, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<form" in restore.content.decode()


def test_a_preset_fills_in_its_dates(client_a, space_a, data):
    response = client_a.get(url(space_a), {"period": "last_month"}, HTTP_HX_REQUEST="true")
    period = response.context_data["choices"].period
    assert f'value="{period.start.isoformat()}"' in response.content.decode()
    assert period.start.day == 1 and (period.end.month - period.start.month) % 12 == 0


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "custom", "from": "2025-02-30", "to": "2025-03-01"}, "from", "real date"),
        ({"period": "custom", "from": "2025-03-02", "to": "2025-03-01"}, "to", "before"),
        ({"period": "custom", "to": "2025-03-01"}, "from", "first day"),
        ({"period": "whenever"}, "period", "valid choice"),
        ({"period": "custom", "from": "1990-01-01", "to": "2025-01-01", "show": "month"},
         "from", "20 years"),
        ({"period": "custom", "from": "2019-01-01", "to": "2025-01-01", "show": "day"},
         "show", "per month"),
        ({"org": "abc"}, "__all__", "Choose organisations"),
    ],
)  # fmt: skip
def test_bad_choices_are_explained_beside_the_field(client_a, space_a, params, field, message):
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client_a.get(url(space_a), params, **headers)
        assert response.status_code == 422
        errors = response.context_data["form"].errors
        assert message in " ".join(errors[field])
        assert f'id="err-{"form" if field == "__all__" else field}"' in response.content.decode()
        assert "chart" not in response.context_data
    assert client_a.get(url(space_a, "export"), params).status_code == 422
    assert client_a.get(url(space_a, "recipients"), {**params, "badge": 1}).status_code in {
        422,
        404,
    }


def test_dates_without_a_period_mean_custom_dates(client_a, space_a, data):
    response = client_a.get(url(space_a), {"from": "2025-03-01", "to": "2025-04-30"})
    assert response.context["choices"].period.preset == "custom"
    assert response.context["total"] == 7


# ---- CSV ---------------------------------------------------------------------------------------


def test_series_csv(client_a, space_a, data):
    response = client_a.get(url(space_a, "export"), {**PERIOD, "show": "month"})
    assert response["Content-Type"].startswith("text/csv")
    assert "badges-issued-2025-03-01-to-2025-04-30-per-month.csv" in response["Content-Disposition"]
    assert csv_rows(response) == [
        ["Month", "Badges issued", "Cumulative total"],
        ["2025-03", "4", "4"],
        ["2025-04", "3", "7"],
    ]


def test_recipients_csv_escapes_formulas(client_a, space_a, data):
    victim = data.awards["a3"].recipient
    victim.first_name, victim.last_name = '=HYPERLINK("http://x")', "+SUM(A1)"
    victim.save()
    data.badges["Python"].name = "@Python"
    data.badges["Python"].save()
    response = client_a.get(
        url(space_a, "recipients_csv"), {**PERIOD, "badge": data.badges["Python"].pk}
    )
    rows = csv_rows(response)
    assert rows[0] == ["Badge", "First name", "Last name", "Email", "Issued", "Organisation",
                       "Revoked", "Declined"]  # fmt: skip
    assert len(rows) == 5  # a3 a4 a5 a9
    escaped = next(r for r in rows if r[3] == victim.email)
    assert escaped[:3] == ["'@Python", '\'=HYPERLINK("http://x")', "'+SUM(A1)"]
    assert escaped[4] == "2025-03-15 12:00"  # local time
    revoked = next(r for r in rows if r[3] == data.awards["a5"].recipient_email)
    assert revoked[6] == "2025-04-12 00:00"


# ---- Query counts --------------------------------------------------------------------------------


def grow(space_a, data):
    """Ten times the data: more organisations, badges, people and awards."""
    extra_orgs = [OrganisationFactory(space=space_a, parent=data.arts) for _ in range(3)]
    for i, org in enumerate(extra_orgs * 2):
        badge = make_badge(space_a, organisation=org, name=f"Extra {i}")
        for day in range(1, 11):
            make_award_at(badge, UserFactory(), nz(2025, 3, day, 9, i))


# Every report page: session, user, space, member, memberships (access), and the shell's
# list of the user's spaces; then the page's own queries.
SHELL = 6
PAGES = [
    # offered organisations, series by month, engagement per badge (none counted here: see
    # test_engagement.py), counts per badge, the page's badges, counts per organisation
    # ("Show breakdown")
    ("index", {"show": "month", "breakdown": "1"}, SHELL + 6),
    # the badge, offered organisations, count, the page of awards (with recipient, org)
    ("recipients", {"badge": "Python"}, SHELL + 4),
    # offered organisations, series (no shell: a CSV)
    ("export", {}, SHELL - 1 + 2),
    # the badge, offered organisations, the awards (streamed)
    ("recipients_csv", {"badge": "Python"}, SHELL - 1 + 3),
]


@pytest.mark.parametrize(("name", "extra", "expected"), PAGES)
def test_query_counts_do_not_grow_with_the_data(
    client_a, space_a, data, django_assert_num_queries, name, extra, expected
):
    params = {**PERIOD, **{k: data.badges[v].pk if k == "badge" else v for k, v in extra.items()}}

    def fetch():
        response = client_a.get(url(space_a, name), params)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)

    with django_assert_num_queries(expected):
        fetch()
    grow(space_a, data)
    with django_assert_num_queries(expected):
        fetch()


def test_organisation_names_are_escaped_in_the_picker(client_a, space_a):
    OrganisationFactory(space=space_a, name="<script>alert(1)</script>")
    html = client_a.get(url(space_a)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
