"""The dashboard as three people see it: an issuer issues from it in one click, a recipient
sees their badges and what expires soon, an administrator follows the checklist."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badgeplatform.access import Access
from badges.issuing import RecipientInput, awards_issue
from tests.factories import (
    PASSWORD,
    OrganisationFactory,
    UserFactory,
    add_member,
    make_award_at,
    make_badge,
    make_space,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def space_with_people():
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    space = make_space("Northwind University", "northwind", admin=admin)
    eng = OrganisationFactory(space=space, name="Engineering")
    eng.refresh_from_db()
    issuer = add_member(
        space,
        UserFactory(username="ian", first_name="Ian"),
        role_name="Badge Issuer",
        organisation=eng,
    )
    learner = add_member(space, UserFactory(username="lea", first_name="Lea"), organisation=eng)
    first_aid = make_badge(space, organisation=eng, name="First Aid")
    make_badge(space, organisation=eng, name="Bridge Design")
    awards_issue(
        access=Access.system(space), badge=first_aid, recipients=[RecipientInput(user=learner)]
    )
    refresher = make_badge(space, organisation=eng, name="Safety Refresher")
    award = make_award_at(refresher, learner, timezone.now() - timedelta(days=340))
    award.expires_at = timezone.now() + timedelta(days=12)
    award.save(update_fields=["expires_at"])
    return {"space": space, "admin": admin, "issuer": issuer, "learner": learner}


def sign_in(page, username, first_name):
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/s/northwind/dashboard/")
    page.get_by_role("heading", name=f"Welcome, {first_name}").wait_for()


def test_an_issuer_issues_from_the_dashboard(page, space_with_people, screenshot):
    sign_in(page, "ian", "Ian")
    assert page.get_by_role("heading", name="Badges you can issue").is_visible()
    assert page.get_by_role("heading", name="Recent batches").is_visible()
    assert page.get_by_role("heading", name="Getting started").count() == 0
    screenshot("issuer")
    page.get_by_role("link", name="Issue First Aid").click()
    page.get_by_role("heading", name="First Aid").first.wait_for()
    assert page.url.endswith("/issue/") or "/issuing/badges/" in page.url


def test_a_recipient_sees_their_badges_and_what_expires(page, space_with_people, screenshot):
    sign_in(page, "lea", "Lea")
    own = page.locator("section", has=page.get_by_role("heading", name="Your badges"))
    assert own.get_by_role("link", name="First Aid").is_visible()
    soon = page.locator("section", has=page.get_by_role("heading", name="Expiring soon"))
    assert soon.get_by_role("link", name="Safety Refresher").is_visible()
    assert page.get_by_role("heading", name="Getting started").count() == 0
    assert page.get_by_role("heading", name="Badges you can issue").count() == 0
    screenshot("recipient")
    soon.get_by_role("link", name="Safety Refresher").click()
    page.get_by_role("heading", name="Safety Refresher").first.wait_for()


def test_an_administrator_follows_the_checklist(page, space_with_people, screenshot):
    sign_in(page, "ada", "Ada")
    checklist = page.locator(".checklist")
    assert checklist.locator("li").count() == 6
    assert checklist.get_by_role("link").count() == 6
    screenshot("administrator")
    checklist.get_by_role("link", name="Open the tree").click()
    page.get_by_role("heading", name="Organisation tree").wait_for()
