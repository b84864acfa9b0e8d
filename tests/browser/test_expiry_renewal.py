"""Expiry and renewal, as the people who do it: the issuer sets a badge's reminder days, sees
what expires soon on the dashboard, renews one award (with the confirmation) and two more from
the awards list at once; the recipient sees the expiring badge in the backpack, then the
renewed one."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from badges.models import Award, Badge
from tests.browser.test_issuing_flow import sign_in
from tests.factories import UserFactory, add_member, make_award, make_badge, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expiring(award: Award, in_days: float) -> Award:
    Award.objects.filter(pk=award.pk).update(
        expires_at=timezone.now() + timedelta(days=in_days),
        issued_at=timezone.now() - timedelta(days=300),
    )
    award.refresh_from_db()
    return award


def top(page) -> None:
    """Back to the top before a full-page screenshot (the sticky bars stay where they belong)."""
    page.evaluate("window.scrollTo(0, 0)")


@pytest.fixture
def world():
    admin = UserFactory(username="irene", first_name="Irene", last_name="Issuer")
    space = make_space("Lakeside Academy", "lakeside", admin=admin)
    badge = make_badge(space, name="First Aid at Work", expiry_amount=1, expiry_unit="years")
    people = [
        add_member(space, UserFactory(username=f"p{i}", first_name=name, last_name="Learner"))
        for i, name in enumerate(["Ana", "Ben", "Cleo"])
    ]
    awards = [make_award(space, badge=badge, recipient=p) for p in people]
    expiring(awards[0], 9)
    expiring(awards[1], 20)
    expiring(awards[2], -3)  # expired
    return {"space": space, "badge": badge, "awards": awards, "people": people}


def test_issuer_sets_reminders_and_renews(page, world, screenshot):
    space, badge = world["space"], world["badge"]
    ana, ben, cleo = world["awards"]
    page.on("dialog", lambda dialog: dialog.accept())  # the bulk confirm step
    sign_in(page, "irene")

    # The badge editor's expiry section: a wrong value is explained beside the field.
    page.goto(f"/s/{space.slug}/badges/{badge.pk}/edit/")
    days = page.get_by_label("Remind them this many days before")
    days.wait_for()
    assert days.input_value() == "30, 7"
    days.fill("30, next week")
    days.press("Enter")
    page.get_by_text("is not a number of days").wait_for()
    top(page)
    screenshot("1-editor-error")
    page.get_by_label("Remind them this many days before").fill("60, 14, 3")
    page.get_by_label("Remind them this many days before").press("Enter")
    page.wait_for_function("() => !document.body.textContent.includes('is not a number of days')")
    badge.refresh_from_db()
    assert badge.expiry_reminder_days == "60,14,3" and badge.expiry_emails
    top(page)
    screenshot("2-editor-expiry")

    # The dashboard: the awards of their badges that expire soon (not the expired one).
    page.goto(f"/s/{space.slug}/")
    panel = page.locator("#expiring-awards")
    panel.get_by_text("Ana Learner").wait_for()
    assert panel.get_by_text("Ben Learner").is_visible()
    assert panel.get_by_text("Cleo Learner").count() == 0
    screenshot("3-dashboard-expiring")

    # Renew Ana's from the panel: the confirmation says what will happen.
    panel.get_by_role("link", name="Renew First Aid at Work for Ana Learner").click()
    page.get_by_role("heading", name="Renew this award").wait_for()
    next_year = timezone.localtime() + timedelta(days=365)
    assert page.get_by_text(re.compile(f"valid until {next_year.year}|{next_year.year}")).count()
    screenshot("4-renew-confirm")
    page.get_by_role("button", name="Renew award").click()
    page.get_by_text("Renewed: Ana Learner has a new award").wait_for()
    screenshot("5-renewed")
    renewal = Award.objects.get(renews=ana)
    assert renewal.expires_at > timezone.now() + timedelta(days=360)

    # Bulk: Ben's (expiring) and Cleo's (expired) from the awards list.
    page.goto(f"/s/{space.slug}/issuing/awards/")
    page.get_by_label("Select the award to Ben Learner").check()
    page.get_by_label("Select the award to Cleo Learner").check()
    screenshot("6-bulk-selected")
    page.get_by_role("button", name="Renew selected").click()
    page.get_by_text("2 awards renewed.").wait_for()
    screenshot("7-bulk-renewed")
    assert set(Award.objects.filter(renews__isnull=False).values_list("renews", flat=True)) == {
        ana.pk,
        ben.pk,
        cleo.pk,
    }
    assert Badge.objects.get(pk=badge.pk).expiry_reminder_days == "60,14,3"

    # Everything renewed: the panel's empty state.
    page.goto(f"/s/{space.slug}/")
    page.get_by_text("No award of the badges you issue expires in the next 30 days.").wait_for()
    screenshot("8-dashboard-nothing-expiring")


def test_recipient_sees_expiring_then_renewed(page, world, screenshot):
    from badgeplatform.access import Access
    from badges.renewal import awards_renew

    ana = world["awards"][0]
    sign_in(page, "p0")
    page.goto("/backpack/")
    section = page.locator("#expiring-soon")
    section.get_by_text("First Aid at Work").wait_for()
    assert page.get_by_text("Expires soon").first.is_visible()
    screenshot("1-backpack-expiring")

    awards_renew(access=Access.system(world["space"]), awards=[ana], actor=None)
    page.goto("/backpack/")
    page.get_by_text("Renewal", exact=True).wait_for()
    assert page.locator("#expiring-soon").count() == 0
    assert page.get_by_text("Renewed", exact=True).is_visible()
    screenshot("2-backpack-renewed")
