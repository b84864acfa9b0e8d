"""A badge creator fills in the Standards tab in a browser: kind of achievement, an ESCO
alignment and a CASE one (rows added in place), tags, credits, a result description; a
mistake comes back beside its field; the saved badge's OB 3.0 achievement carries it all."""

import json

import pytest

from badges import links
from badges.models import Badge
from tests.factories import PASSWORD, UserFactory, add_member, make_badge, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def creator(db):
    owner = UserFactory(username="owner")
    space = make_space("Lakeside Academy", "lakeside", admin=owner)
    user = UserFactory(username="cara", first_name="Cara", last_name="Creator")
    add_member(space, user, role_name="Badge Creator")
    badge = make_badge(space, name="Data Wrangling", state="draft")
    return space, user, badge


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome").wait_for()


def test_standards_tab(page, creator, screenshot, client):
    space, user, badge = creator
    sign_in(page, user.username)
    page.goto(f"/s/{space.slug}/badges/{badge.pk}/edit/?tab=details")
    page.get_by_role("button", name="Standards").click()
    page.locator(".tabs .tab.active", has_text="Standards").wait_for()
    screenshot("1-empty")

    page.get_by_label("Kind of achievement").select_option("Certification")
    page.get_by_label("Code").fill("DW-200")
    page.get_by_label("Field of study").fill("Data science")
    page.get_by_label("Credits").fill("5")
    page.get_by_label("Tags").fill("data, python")
    page.get_by_role("button", name="+ Add alignment").click()
    page.locator("#align-name-0").fill("Manage data")
    page.locator("#align-url-0").fill("not a web address")
    page.locator("#align-framework-0").fill("ESCO")
    page.get_by_role("button", name="+ Add alignment").click()
    page.locator("#align-name-1").fill("Clean a data set")
    page.locator("#align-url-1").fill("https://case.example/items/7")
    page.locator("#align-framework-1").fill("District CASE framework")
    page.locator("#align-code-1").fill("DS.2")
    page.get_by_role("button", name="+ Add result").click()
    page.locator("#rd-name-0").fill("Final grade")
    page.locator("#rd-type-0").select_option("LetterGrade")
    page.locator("#rd-values-0").fill("A, B, C")
    page.get_by_role("button", name="Save draft").click()

    error = page.get_by_text("Give the full address of the competency, starting with https://.")
    error.wait_for()
    screenshot("2-mistake-beside-the-field")
    assert Badge.objects.get(pk=badge.pk).alignments == []  # nothing saved

    page.locator("#align-url-0").fill("http://data.europa.eu/esco/skill/abc")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    screenshot("3-saved")

    badge.refresh_from_db()
    assert badge.achievement_type == "Certification" and badge.tags == ["data", "python"]
    assert [a["name"] for a in badge.alignments] == ["Manage data", "Clean a data set"]
    assert badge.result_descriptions[0]["allowed_values"] == ["A", "B", "C"]

    Badge.objects.filter(pk=badge.pk).update(state="published")
    response = client.get(
        links.achievement_url(badge).removeprefix(links._url("")),
        HTTP_ACCEPT="application/ld+json",
    )
    achievement = json.loads(response.content)
    assert achievement["achievementType"] == "Certification"
    assert achievement["alignment"][1]["targetFramework"] == "District CASE framework"
    assert achievement["resultDescription"][0]["resultType"] == "LetterGrade"
