"""Renewal by the issuer (one award from its page, several from the awards list), the expiry
settings in the badge editor and in a person's Settings, and where expiring awards show."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import AuditEntry
from badgeplatform.models import OutboundEmail
from badges.models import Award
from badges.renewal import RenewalRefused, award_renew, awards_renew
from tests.factories import (
    OrganisationFactory,
    add_member,
    add_with_perms,
    make_award,
    make_badge,
    revoke_award,
)

pytestmark = pytest.mark.django_db


def url(name, space, *args):
    return reverse(f"issuing:{name}", args=[space.slug, *args])


def expiring(award: Award, in_days: float) -> Award:
    Award.objects.filter(pk=award.pk).update(
        expires_at=timezone.now() + timedelta(days=in_days),
        issued_at=timezone.now() - timedelta(days=300),
    )
    award.refresh_from_db()
    return award


@pytest.fixture
def yearly(space_a):
    return make_badge(space_a, name="First Aid", expiry_amount=1, expiry_unit="years")


def test_renew_one_award_from_its_page(client_a, space_a, yearly, admin_a, committed):
    old = expiring(make_award(space_a, badge=yearly), -3)
    page = client_a.get(url("award", space_a, old.pk)).content.decode()
    assert url("renew", space_a, old.pk) in page and "Renew this award" in page

    confirm = client_a.get(url("renew", space_a, old.pk)).content.decode()
    assert "Expired on" in confirm and "Renew award" in confirm
    next_year = timezone.localtime() + timedelta(days=365)
    assert str(next_year.year) in confirm
    assert not Award.objects.filter(renews=old).exists()  # GET changes nothing

    with committed():
        response = client_a.post(url("renew", space_a, old.pk))
    new = Award.objects.get(renews=old)
    assert response.status_code == 302 and response["Location"] == url("award", space_a, new.pk)
    assert new.recipient == old.recipient and new.expires_at > timezone.now() + timedelta(days=360)
    page = client_a.get(url("award", space_a, new.pk)).content.decode()
    assert "Renewed:" in page and "The earlier award" in page
    assert "Renew this award" not in client_a.get(url("award", space_a, old.pk)).content.decode()
    # The recipient is told of the new award; the renewal is in the audit log.
    assert OutboundEmail.objects.filter(kind="badge_issued", context__award=new.pk).exists()
    entry = AuditEntry.objects.get(action="award.renew")
    assert entry.actor == admin_a and entry.changes["renewals"][0]["renews"] == str(old.public_id)

    # A second renewal of the same award is refused with the reason, nothing made.
    again = client_a.post(url("renew", space_a, old.pk))
    assert again.status_code == 422 and "already renewed" in again.content.decode()
    assert Award.objects.filter(renews=old).count() == 1


def test_what_cannot_be_renewed(space_a, yearly):
    access = Access.system(space_a)
    never = make_award(space_a)  # a badge without expiry
    revoked = expiring(make_award(space_a, badge=yearly), 3)
    revoke_award(revoked)
    for award, why in [(never, "never expires"), (revoked, "revoked")]:
        with pytest.raises(RenewalRefused, match=why):
            award_renew(access=access, award=award, actor=None)
    assert not Award.objects.filter(renews__isnull=False).exists()


def test_bulk_renewal_from_the_awards_list(client_a, space_a, yearly, committed):
    first = expiring(make_award(space_a, badge=yearly), 5)
    second = expiring(make_award(space_a, badge=yearly), -2)
    never = make_award(space_a)
    listing = client_a.get(url("awards", space_a) + "?state=expiring").content.decode()
    assert "Renew selected" in listing and first.recipient_email in listing
    assert second.recipient_email not in listing  # expired: not "expiring"
    with committed():
        response = client_a.post(
            url("awards_renew", space_a),
            {"award": [first.pk, second.pk, never.pk, 999999], "next": url("awards", space_a)},
            follow=True,
        )
    text = response.content.decode()
    assert "2 awards renewed." in text and "never expires" in text and "1 selected award" in text
    assert set(Award.objects.filter(renews__isnull=False).values_list("renews", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert AuditEntry.objects.filter(action="award.renew").count() == 1  # one per badge
    empty = client_a.post(url("awards_renew", space_a), {}, follow=True).content.decode()
    assert "Select at least one award to renew." in empty


def test_renewal_needs_issue_rights_on_the_badge(client, space_a):
    branch = OrganisationFactory(space=space_a, name="Branch")
    in_branch = make_badge(space_a, organisation=branch, expiry_amount=1, expiry_unit="years")
    at_root = make_badge(space_a, name="Root badge", expiry_amount=1, expiry_unit="years")
    mine = expiring(make_award(space_a, badge=in_branch), 3)
    theirs = expiring(make_award(space_a, badge=at_root), 3)
    revoker = add_with_perms(space_a, ["revoke_awards"], organisation=branch)
    client.force_login(revoker)
    assert client.get(url("renew", space_a, mine.pk)).status_code == 403
    assert client.post(url("awards_renew", space_a), {"award": [mine.pk]}).status_code == 403
    issuer = add_with_perms(space_a, ["issue_badges"], organisation=branch)
    client.force_login(issuer)
    assert client.get(url("renew", space_a, mine.pk)).status_code == 200
    assert client.get(url("renew", space_a, theirs.pk)).status_code == 404
    response = client.post(
        url("awards_renew", space_a), {"award": [mine.pk, theirs.pk]}, follow=True
    )
    assert "1 selected award(s) were not found." in response.content.decode()
    assert Award.objects.filter(renews=mine).exists()
    assert not Award.objects.filter(renews=theirs).exists()


def test_badge_editor_sets_the_reminders(client_a, space_a, yearly):
    edit = reverse("badges:edit", args=[space_a.slug, yearly.pk])
    page = client_a.get(edit).content.decode()
    assert 'value="30, 7"' in page
    [checkbox] = re.findall(r"<input type=\"checkbox\" name=\"expiry_emails\"[^>]*>", page)
    assert "checked" in checkbox
    data = {
        "name": yearly.name,
        "description": yearly.description,
        "language": yearly.language,
        "organisation": yearly.organisation_id,
        "issuer": yearly.issuer_id,
        "expiry_amount": "1",
        "expiry_unit": "years",
        "status_emails": "on",
        "expiry_emails": "on",
        "expiry_reminder_days": "14; 60, 1",
    }
    bad = client_a.post(edit + "?tab=details", {**data, "expiry_reminder_days": "30, soon"})
    assert "is not a number of days" in bad.content.decode()
    yearly.refresh_from_db()
    assert yearly.expiry_reminder_days == "30,7"
    revision = yearly.revision
    client_a.post(edit + "?tab=details", data)
    yearly.refresh_from_db()
    assert yearly.expiry_reminder_days == "60,14,1" and yearly.reminder_days == [60, 14, 1]
    assert yearly.revision == revision  # not part of the achievement
    client_a.post(edit + "?tab=details", {**data, "expiry_emails": ""})
    yearly.refresh_from_db()
    assert yearly.expiry_emails is False and yearly.reminder_days == []


def test_a_person_turns_expiry_reminders_off_in_settings(client, space_a):
    person = add_member(space_a)
    client.force_login(person)
    settings_url = reverse("accounts:settings")
    page = client.get(settings_url).content.decode()
    [checkbox] = re.findall(r"<input type=\"checkbox\" name=\"expiry_reminders\"[^>]*>", page)
    assert "checked" in checkbox
    client.post(
        settings_url,
        {"first_name": "Pat", "last_name": "Person", "username": person.username},
    )
    person.refresh_from_db()
    assert person.expiry_reminders is False


def test_expiring_awards_on_the_dashboard_and_in_the_backpack(client, client_a, space_a, yearly):
    soon = expiring(make_award(space_a, badge=yearly), 10)
    later = expiring(make_award(space_a, badge=yearly), 100)
    dashboard = client_a.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    panel = dashboard.split('id="expiring-awards"')[1].split("</section>")[0]
    assert soon.recipient.display_name in panel and later.recipient.display_name not in panel
    assert url("renew", space_a, soon.pk) in panel

    client.force_login(soon.recipient)
    backpack = client.get(reverse("backpack:index")).content.decode()
    assert 'id="expiring-soon"' in backpack and "Expires soon" in backpack
    awards_renew(access=Access.system(space_a), awards=[soon], actor=None)
    backpack = client.get(reverse("backpack:index")).content.decode()
    assert 'id="expiring-soon"' not in backpack  # renewed: nothing to worry about
    assert "Renewed" in backpack and "Renewal" in backpack
