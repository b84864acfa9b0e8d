"""An administrator reads the Reports page: two departments, a period, the cumulative chart,
then per month with per-badge summaries, a badge's recipients, and the CSV download."""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orgs.models import Organisation
from tests.browser.conftest import ARTIFACTS
from tests.factories import (
    PASSWORD,
    OrganisationFactory,
    UserFactory,
    make_award_at,
    make_badge,
    make_space,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Awards per month, January to June 2025, for each badge.
PLAN = {
    ("Engineering", "Bridge Design"): [3, 5, 4, 8, 6, 9],
    ("Computing", "Python Programming"): [2, 4, 7, 5, 10, 12],
    ("Arts", "Creative Writing"): [4, 3, 6, 2, 5, 7],
    ("Business", "Negotiation"): [6, 6, 6, 6, 6, 6],  # not chosen: must not be counted
}


@pytest.fixture
def admin_and_space():
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    space = make_space("Northwind University", "northwind", admin=admin)
    root = space.root_organisation
    eng = OrganisationFactory(space=space, parent=root, name="Engineering")
    OrganisationFactory(space=space, parent=Organisation.objects.get(pk=eng.pk), name="Computing")
    OrganisationFactory(space=space, parent=root, name="Arts")
    OrganisationFactory(space=space, parent=root, name="Business")
    n = 0
    for (org_name, badge_name), per_month in PLAN.items():
        org = Organisation.objects.get(space=space, name=org_name)
        badge = make_badge(space, organisation=org, name=badge_name)
        for month, count in enumerate(per_month, start=1):
            for i in range(count):
                n += 1
                person = UserFactory(first_name=f"Learner{n}", last_name="Smith")
                make_award_at(badge, person, datetime(2025, month, 1 + i * 2, 10, tzinfo=UTC))
    return admin, space


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Ada").wait_for()


def test_admin_reads_a_report_for_two_departments(page, admin_and_space, screenshot):
    admin, space = admin_and_space
    sign_in(page, "ada")
    page.get_by_role("complementary", name="Main menu").get_by_role("link", name="Reports").click()
    page.get_by_role("heading", name="Reports", exact=True).wait_for()

    # Two departments instead of the whole university; Engineering brings Computing with it.
    picker = page.get_by_role("group", name="Organisations")
    picker.get_by_label("Northwind University").uncheck()
    picker.get_by_label("Engineering").check()
    picker.get_by_label("Arts").check()
    # Typing a date switches the period to custom dates (reporting.js) and updates in place
    # once the person leaves the field or presses Enter.
    page.get_by_label("From", exact=True).fill("2025-01-01")
    page.get_by_label("To", exact=True).fill("2025-06-30")
    page.get_by_label("To", exact=True).press("Enter")
    results = page.locator("#report-results")
    total = results.locator(".chart-total .value")
    chosen = sum(sum(v) for (org, _), v in PLAN.items() if org != "Business")  # 102
    total.filter(has_text=f"{chosen:,}").wait_for()
    assert page.get_by_label("Period").input_value() == "custom"
    assert results.get_by_role("heading", name="Badges issued, cumulative").is_visible()
    assert (
        results.locator(".chart-head")
        .get_by_text("Arts, Engineering (with sub-organisations)")
        .is_visible()
    )
    assert results.get_by_role("img", name="Badges issued, cumulative").is_visible()
    assert "period=custom" in page.url and "from=2025-01-01" in page.url  # pushed: shareable
    screenshot("1-cumulative")

    page.get_by_label("Per month").check()
    results.get_by_role("heading", name="Badges issued per month").wait_for()
    assert results.locator(".bars rect").count() == 6
    summaries = results.locator(".badge-summary")
    assert summaries.count() == 3  # Negotiation (Business) is not there
    first = summaries.first
    assert first.get_by_role("heading", name="Python Programming").is_visible()
    assert first.locator(".summary-count").inner_text().startswith("40")
    page.get_by_text("Show the numbers as a table").click()
    table = results.get_by_role("table")
    assert table.get_by_role("row", name="March 2025 17 38").is_visible()
    screenshot("2-monthly-with-badges")

    # A badge's recipients open in place (loaded when the summary is expanded).
    first.get_by_text("Recipients", exact=True).click()
    recipients = first.locator(".recipients-table")
    recipients.wait_for()
    assert recipients.locator("tbody tr").count() == 25  # the first page, newest first
    assert first.get_by_text("1–25 of 40").is_visible()
    first.get_by_role("link", name="Older →").click()
    first.get_by_text("26–40 of 40").wait_for()
    screenshot("3-recipients")

    with page.expect_download() as download_info:
        results.locator(".chart-foot").get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "badges-issued-2025-01-01-to-2025-06-30-per-month.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Month", "Badges issued", "Cumulative total"]
    assert rows[1:] == [
        ["2025-01", "9", "9"],
        ["2025-02", "12", "21"],
        ["2025-03", "17", "38"],
        ["2025-04", "15", "53"],
        ["2025-05", "21", "74"],
        ["2025-06", "28", "102"],
    ]

    with page.expect_download() as download_info:
        first.get_by_role("link", name="Download these recipients as CSV").click()
    lines = Path(download_info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 40 and lines[1].startswith("Python Programming,Learner")


def test_the_report_works_without_javascript(browser, live_server, admin_and_space):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "ada")
        page.goto("/s/northwind/reports/")
        page.get_by_label("Period").select_option("custom")
        page.get_by_label("From", exact=True).fill("2025-01-01")
        page.get_by_label("To", exact=True).fill("2025-06-30")
        page.get_by_label("Per month").check()
        page.get_by_role("button", name="Update report").click()
        page.get_by_role("heading", name="Badges issued per month").wait_for()
        everything = sum(sum(v) for v in PLAN.values())  # the whole tree by default: 138
        assert page.locator(".chart-total .value").inner_text() == f"{everything}"
        # Without htmx the recipients summary holds a link to the full list instead.
        page.get_by_text("Recipients", exact=True).first.click()
        page.get_by_role("link", name="Open the list of recipients").first.click()
        page.get_by_role("heading", name="Recipients of “Python Programming”").wait_for()
        assert page.locator(".recipients-table tbody tr").count() == 25
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "reports-without-js-recipients.png"), full_page=True)
    finally:
        context.close()


def test_a_date_being_typed_is_not_judged_until_the_field_is_left(page, admin_and_space):
    """Chromium fires "change" on each keystroke of a year (0002, 0020, 0202…): the report
    must not answer "out of range" while the person is still typing."""
    sign_in(page, "ada")
    page.goto("/s/northwind/reports/")
    results = page.locator("#report-results")
    results.locator(".chart-total .value").wait_for()
    requests: list[str] = []
    page.on("request", lambda r: "/reports/" in r.url and requests.append(r.url))
    start = page.get_by_label("From", exact=True)
    start.click()
    start.press_sequentially("01012025", delay=50)  # Chromium: month, day, year
    page.wait_for_timeout(500)
    assert requests == []
    assert page.locator("#err-from li").count() == 0
    page.get_by_label("To", exact=True).click()  # leaving "From" sends the form once
    page.get_by_label("Period").filter(has=page.locator("option[value=custom]:checked")).wait_for()
    page.wait_for_function("() => !document.querySelector('#report-results.htmx-request')")
    assert len(requests) == 1 and "from=2025-01-01" in requests[0]
    assert page.locator("#err-from li").count() == 0
