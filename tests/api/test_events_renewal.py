"""Automatic renewal through the Events API: a new qualifying event (or a rule completion) for
a recipient whose award of the badge is expired or expiring makes a new award linked to it,
answered ``awarded`` with ``RenewsAwardId`` — never a silent duplicate; an active award far
from expiry keeps the existing handling."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badgeplatform.audit import AuditEntry
from badges.models import Award, RuleCompletion
from tests.factories import add_member, make_award, make_badge, make_rule

pytestmark = pytest.mark.django_db


def at(days_ago: float) -> str:
    return (timezone.now() - timedelta(days=days_ago)).replace(microsecond=0).isoformat()


def event(activity_id, user, when):
    return {"ActivityId": str(activity_id), "ActivityTime": when, "UserId": user.email}


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["Results"]


def expiring(award: Award, in_days: float) -> Award:
    Award.objects.filter(pk=award.pk).update(
        expires_at=timezone.now() + timedelta(days=in_days),
        issued_at=timezone.now() - timedelta(days=300),
        achieved_at=timezone.now() - timedelta(days=300),
    )
    award.refresh_from_db()
    return award


@pytest.fixture
def yearly(space_a):
    return make_badge(space_a, name="Forklift licence", expiry_amount=1, expiry_unit="years")


@pytest.mark.parametrize("in_days", [-10, 5])  # expired, and expiring within the 30-day window
def test_an_event_renews_an_expired_or_expiring_award(api, space_a, yearly, in_days):
    old = expiring(make_award(space_a, badge=yearly), in_days)
    [row] = results(api.events(event(yearly.public_id, old.recipient, at(0))))
    assert row["Status"] == "awarded"
    new = Award.objects.get(public_id=row["AwardId"])
    assert row["RenewsAwardId"] == str(old.public_id) and new.renews == old
    assert new.expires_at > timezone.now() + timedelta(days=360)
    entry = AuditEntry.objects.get(action="award.renew")
    assert entry.changes["renewals"] == [
        {"award": str(new.public_id), "renews": str(old.public_id)}
    ]
    # The same event again: the existing duplicate answer, with the link.
    [again] = results(
        api.events(event(yearly.public_id, old.recipient, row and new.achieved_at.isoformat()))
    )
    assert again["Status"] == "duplicate" and again["AwardId"] == str(new.public_id)
    assert again["RenewsAwardId"] == str(old.public_id)
    # A further event: the renewal is active and far from expiry, so no second renewal.
    [later] = results(api.events(event(yearly.public_id, old.recipient, at(-0.001))))
    assert later["RenewsAwardId"] is None
    assert Award.objects.filter(renews=old).count() == 1


def test_an_active_award_far_from_expiry_keeps_the_existing_handling(api, space_a, yearly):
    old = expiring(make_award(space_a, badge=yearly), 200)
    never = make_badge(space_a, name="Forever")
    forever = make_award(space_a, badge=never, recipient=old.recipient)
    rows = results(
        api.events(
            [
                event(yearly.public_id, old.recipient, at(0)),
                event(never.public_id, old.recipient, at(0)),
                # The achievement already awarded: a duplicate, as before.
                event(never.public_id, old.recipient, forever.achieved_at.isoformat()),
            ]
        )
    )
    assert [r["Status"] for r in rows] == ["awarded", "awarded", "duplicate"]
    assert [r["RenewsAwardId"] for r in rows] == [None, None, None]
    assert not Award.objects.filter(renews__isnull=False).exists()


def test_revoked_suspended_or_older_events_do_not_renew(api, space_a, yearly):
    revoked = expiring(make_award(space_a, badge=yearly), 3)
    Award.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    suspended = expiring(make_award(space_a, badge=yearly), 3)
    Award.objects.filter(pk=suspended.pk).update(suspended_at=timezone.now())
    old = expiring(make_award(space_a, badge=yearly), 3)
    rows = results(
        api.events(
            [
                event(yearly.public_id, revoked.recipient, at(0)),
                event(yearly.public_id, suspended.recipient, at(0)),
                # An event older than the expiring award's own achievement is not a new one.
                event(yearly.public_id, old.recipient, at(400)),
            ]
        )
    )
    assert [r["Status"] for r in rows] == ["awarded", "awarded", "awarded"]
    assert [r["RenewsAwardId"] for r in rows] == [None, None, None]


def test_renewal_lookup_adds_no_query_per_event(api, space_a, yearly):
    """The expiring-award lookup is part of the duplicate query: the same number of queries
    for 2 and for 8 renewing events, and as many as a call renewing nothing."""

    def queries_for(n: int, renewing: bool) -> int:
        people = [add_member(space_a) for _ in range(n)]
        for person in people:
            award = make_award(space_a, badge=yearly, recipient=person)
            if renewing:
                expiring(award, 5)
        body = [event(yearly.public_id, p, at(0)) for p in people]
        with CaptureQueriesContext(connection) as ctx:
            rows = results(api.events(body))
        assert all(r["Status"] == "awarded" for r in rows)
        assert all((r["RenewsAwardId"] is not None) == renewing for r in rows)
        return len(ctx.captured_queries)

    queries_for(1, False)  # the first call of the key does more (its last use, the status list)
    small, large = queries_for(2, True), queries_for(8, True)
    assert small == large
    # Renewing costs one audit entry (award.renew), nothing per event.
    assert queries_for(8, False) == large - 1


def test_a_rule_completion_renews_the_expiring_award(api, space_a, yearly):
    rule = make_rule(space_a, badge=yearly, threshold=2, activity_id="safety-course")
    person = add_member(space_a)
    first = results(
        api.events(
            [event("safety-course", person, at(400)), event("safety-course", person, at(399))]
        )
    )
    assert [r["Status"] for r in first] == ["recorded", "awarded"]
    old = expiring(Award.objects.get(public_id=first[1]["AwardId"]), 10)
    # One new event is not enough: the events before the completion do not count again.
    [one] = results(api.events(event("safety-course", person, at(1))))
    assert one["Status"] == "recorded"
    [two] = results(api.events(event("safety-course", person, at(0))))
    assert two["Status"] == "awarded" and two["RenewsAwardId"] == str(old.public_id)
    new = Award.objects.get(public_id=two["AwardId"])
    assert new.renews == old
    completion = RuleCompletion.objects.get(rule=rule, recipient=person)
    assert completion.award == new  # the completion names the current award
    # The renewal is valid for a year: more events only record.
    [three] = results(api.events(event("safety-course", person, at(-0.001))))
    assert three["Status"] == "recorded"


def test_the_openapi_document_has_the_link_field(client):
    schema = client.get("/api/openapi.json").json()
    result = schema["components"]["schemas"]["EventResult"]["properties"]
    assert "RenewsAwardId" in result
    assert "contract addition" in result["RenewsAwardId"]["description"]
