"""Suspending, reinstating and revoking in the browser (one award, and several at once), and
what the public page, the backpack and the baked images say meanwhile."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import AuditEntry
from badgeplatform.models import OutboundEmail
from badges import links
from badges.awards import (
    InvalidReason,
    TransitionRefused,
    award_reinstate,
    award_suspend,
)
from badges.models import Award
from tests.factories import OrganisationFactory, add_member, make_award, make_badge

pytestmark = pytest.mark.django_db


def url(name, space, *args):
    return reverse(f"issuing:{name}", args=[space.slug, *args])


def public(client, award, **extra):
    extra.setdefault("HTTP_ACCEPT", "text/html")
    return client.get(links.assertion_url(award).removeprefix(links._url("")), **extra)


@pytest.fixture
def badge(space_a):
    return make_badge(space_a, name="Python Fundamentals")


def test_suspend_and_reinstate_from_the_award_page(client_a, space_a, badge, admin_a, committed):
    award = make_award(space_a, badge=badge)
    response = client_a.post(url("suspend", space_a, award.pk), {"reason": "   "})
    assert response.status_code == 422 and "Give a reason" in response.content.decode()
    assert Award.objects.get(pk=award.pk).suspended_at is None

    with committed():
        response = client_a.post(url("suspend", space_a, award.pk), {"reason": "Under review"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.status == "suspended" and award.suspended_by == admin_a
    page = client_a.get(url("award", space_a, award.pk)).content.decode()
    assert "Reason: Under review" in page and "Reinstate award" in page
    assert "Suspend award" not in page and 'data-state="suspended"' in page

    # The public verification page and the backpack say suspended; the baked images are gone.
    anyone = client_a.__class__()
    verification = public(anyone, award).content.decode()
    assert "Suspended since" in verification and "Reason: Under review" in verification
    assert "baked in" not in verification
    image = anyone.get(links.baked_image_url(award).removeprefix(links._url("")))
    assert image.status_code == 410 and b"suspended" in image.content
    anyone.force_login(award.recipient)
    backpack = anyone.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "This award is suspended" in backpack and "Under review" in backpack

    with committed():
        response = client_a.post(url("reinstate", space_a, award.pk))
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.status == "active" and award.suspension_reason == ""
    verification = public(client_a.__class__(), award).content.decode()
    assert "Suspended" not in verification and "Valid" in verification
    # Reinstating an active award is refused with a message, nothing changes.
    response = client_a.post(url("reinstate", space_a, award.pk), follow=True)
    assert "nothing to reinstate" in response.content.decode()
    actions = list(
        AuditEntry.objects.filter(object_id=str(award.public_id))
        .exclude(action="award.issue")
        .order_by("pk")
        .values_list("action", "actor")
    )
    assert actions == [("award.suspend", admin_a.pk), ("award.reinstate", admin_a.pk)]
    assert OutboundEmail.objects.filter(kind="award_status").count() == 2


def test_a_suspended_award_is_revoked_from_its_page(client_a, space_a, badge, committed):
    award = make_award(space_a, badge=badge)
    client_a.post(url("suspend", space_a, award.pk), {"reason": "Checking"})
    with committed():
        client_a.post(url("revoke", space_a, award.pk), {"reason": "Confirmed"})
    award.refresh_from_db()
    assert award.status == "revoked" and award.revocation_reason == "Confirmed"
    page = client_a.get(url("award", space_a, award.pk)).content.decode()
    assert "Reinstate award" not in page and "Revoke award" not in page


def test_suspending_needs_the_revoke_permission(client, space_a, badge):
    award = make_award(space_a, badge=badge)
    creator = add_member(space_a, role_name="Badge Creator")
    client.force_login(creator)
    for name in ("suspend", "reinstate"):
        assert client.post(url(name, space_a, award.pk), {"reason": "x"}).status_code == 403
    assert client.post(url("awards_bulk", space_a), {"action": "revoke"}).status_code == 403
    # A revoker elsewhere in the tree: the award is out of reach (404), the list offers nothing.
    branch = OrganisationFactory(space=space_a, name="Branch")
    revoker = add_member(space_a, role_name="Badge Issuer", organisation=branch)
    client.force_login(revoker)
    assert client.post(url("suspend", space_a, award.pk), {"reason": "x"}).status_code == 404
    response = client.post(
        url("awards_bulk", space_a),
        {"action": "suspend", "reason": "x", "award": [award.pk]},
        follow=True,
    )
    assert "1 selected award(s) were not found" in response.content.decode()
    assert Award.objects.get(pk=award.pk).status == "active"


def test_bulk_suspend_reinstate_and_revoke(client_a, space_a, badge, committed):
    awards = [make_award(space_a, badge=badge) for _ in range(3)]
    ids = [a.pk for a in awards]
    listing = client_a.get(url("awards", space_a)).content.decode()
    assert listing.count('name="award"') == 3 and 'id="bulk-action"' in listing

    # A reason is needed to suspend or revoke.
    response = client_a.post(
        url("awards_bulk", space_a), {"action": "suspend", "reason": " ", "award": ids}, follow=True
    )
    assert "Give a reason" in response.content.decode()
    assert not Award.objects.filter(suspended_at__isnull=False).exists()

    with committed():
        response = client_a.post(
            url("awards_bulk", space_a),
            {"action": "suspend", "reason": "Audit", "award": ids[:2]},
            follow=True,
        )
    assert "2 awards suspended." in response.content.decode()
    assert Award.objects.with_status("suspended").count() == 2
    suspended_view = client_a.get(url("awards", space_a), {"state": "suspended"}).content.decode()
    assert suspended_view.count('name="award"') == 2

    # Reinstating all three: two are reinstated, the active one is reported, not changed.
    with committed():
        response = client_a.post(
            url("awards_bulk", space_a), {"action": "reinstate", "award": ids}, follow=True
        )
    text = response.content.decode()
    assert "2 awards reinstated." in text and "nothing to reinstate" in text
    assert Award.objects.with_status("active").count() == 3

    with committed():
        client_a.post(
            url("awards_bulk", space_a), {"action": "revoke", "reason": "Withdrawn", "award": ids}
        )
    assert Award.objects.with_status("revoked").count() == 3
    assert AuditEntry.objects.filter(action="award.revoke").count() == 3
    statuses = OutboundEmail.objects.filter(kind="award_status")
    assert statuses.count() == 2 + 2 + 3  # one per change, none for refusals


def test_bulk_refuses_no_selection_unknown_action_and_an_outside_next(client_a, space_a):
    award = make_award(space_a)
    response = client_a.post(url("awards_bulk", space_a), {"action": "revoke", "reason": "x"})
    assert response.status_code == 302 and response["Location"] == url("awards", space_a)
    response = client_a.post(
        url("awards_bulk", space_a),
        {"action": "delete", "award": [award.pk], "next": "https://evil.example/"},
    )
    assert response["Location"] == url("awards", space_a)
    assert Award.objects.get(pk=award.pk).status == "active"


def test_bulk_takes_a_bounded_number_of_queries_per_award(
    client_a, space_a, badge, django_assert_max_num_queries
):
    ids = [make_award(space_a, badge=badge).pk for _ in range(5)]
    # session, user, space, member, grants, the awards, then per award: the UPDATE, the
    # status-list entry lookup, the audit entry, the email check and INSERT, savepoints.
    with django_assert_max_num_queries(8 + 5 * 10):
        client_a.post(
            url("awards_bulk", space_a), {"action": "suspend", "reason": "r", "award": ids}
        )
    assert Award.objects.with_status("suspended").count() == 5


def test_services_reject_bad_reasons_and_wrong_states(space_a, admin_a):
    award = make_award(space_a)
    system = Access.system(space_a)
    for reason in ("", "   ", "z" * 501):
        with pytest.raises(InvalidReason):
            award_suspend(access=system, award=award, actor=admin_a, reason=reason)
    with pytest.raises(TransitionRefused, match="not suspended"):
        award_reinstate(access=system, award=award, actor=admin_a)
    Award.objects.filter(pk=award.pk).update(expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(TransitionRefused, match="expired"):
        award_suspend(access=system, award=award, actor=admin_a, reason="late")


def test_reinstating_a_suspension_that_outlived_the_expiry_leaves_it_expired(space_a, admin_a):
    award = make_award(space_a)
    system = Access.system(space_a)
    award_suspend(access=system, award=award, actor=admin_a, reason="Hold")
    Award.objects.filter(pk=award.pk).update(expires_at=timezone.now() - timedelta(days=1))
    award.refresh_from_db()
    assert award.status == "suspended"
    award_reinstate(access=system, award=award, actor=admin_a)
    award.refresh_from_db()
    assert award.status == "expired"


def test_a_suspended_assertion_costs_no_query_once_cached(
    client, space_a, django_assert_num_queries
):
    award = make_award(space_a)
    award_suspend(access=Access.system(space_a), award=award, actor=None, reason="Hold")
    accept = {"HTTP_ACCEPT": "application/ld+json"}
    assert public(client, award, **accept).status_code == 410
    with django_assert_num_queries(0):
        assert public(client, award, **accept).status_code == 410


def test_the_status_emails_setting_is_edited_with_the_badge(client_a, space_a, badge, committed):
    """Per badge, on by default: unticked in the editor, a revocation sends no email."""
    edit = reverse("badges:edit", args=[space_a.slug, badge.pk])
    page = client_a.get(edit).content.decode()
    [checkbox] = re.findall(r"<input type=\"checkbox\" name=\"status_emails\"[^>]*>", page)
    assert "checked" in checkbox
    data = {
        "name": badge.name,
        "description": badge.description,
        "language": badge.language,
        "organisation": badge.organisation_id,
        "issuer": badge.issuer_id,
        "expiry_amount": "",
        "expiry_unit": "",
    }  # status_emails left unticked
    response = client_a.post(edit + "?tab=details", data)
    assert response.status_code in (200, 302), response.content[:300]
    badge.refresh_from_db()
    assert badge.status_emails is False
    award = make_award(space_a, badge=badge)
    with committed():
        client_a.post(url("revoke", space_a, award.pk), {"reason": "Quiet"})
    assert Award.objects.get(pk=award.pk).status == "revoked"
    assert not OutboundEmail.objects.filter(kind="award_status").exists()
