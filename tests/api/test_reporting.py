"""The Reporting API: fields, scope, pagination and date filters."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badgeplatform.access import Access
from badges.issuing import RecipientInput, awards_issue
from badges.models import Award
from badges.rules import RuleEvent, rule_events_record
from tests.factories import add_member, make_badge, make_rule
from users.models import Member

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def issue(badge, people, issued: datetime):
    _, outcomes = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=issued - timedelta(hours=1),
        recipients=[RecipientInput(user=p) for p in people],
    )
    Award.objects.filter(pk__in=[o.award.pk for o in outcomes]).update(issued_at=issued)
    return [o.award for o in outcomes]


def test_badges_list_the_contract_fields(api, space_a, member_a):
    badge = make_badge(space_a, name="Python")
    make_badge(space_a, name="Draft one", state="draft", issuer=None)
    issue(badge, [member_a], at(1))
    body = api.get("/api/badges").json()
    assert body["Count"] == 2 and body["Next"] is None and body["Previous"] is None
    first, second = body["Results"]
    assert first == {
        "Id": str(badge.public_id),
        "Name": "Python",
        "State": "published",
        "OrganisationId": str(space_a.root_organisation.public_id),
        "IssuerName": "Acme Learning",
        "Awards": 1,
    }
    assert second["State"] == "draft" and second["IssuerName"] is None and second["Awards"] == 0


def test_badge_award_counts_follow_the_date_range(api, space_a, member_a):
    badge = make_badge(space_a)
    issue(badge, [member_a], at(1))
    issue(badge, [add_member(space_a)], at(10))
    issue(badge, [add_member(space_a)], at(20, 23))

    def awards(**dates):
        return api.get("/api/badges", dates).json()["Results"][0]["Awards"]

    assert awards() == 3
    assert awards(**{"from": "2026-03-10"}) == 2
    assert awards(to="2026-03-10") == 2  # inclusive
    assert awards(**{"from": "2026-03-02", "to": "2026-03-20"}) == 2  # 20th 23:00 counts


def test_rules_and_their_completions(api, space_a, member_a):
    badge = make_badge(space_a)
    rule = make_rule(space_a, badge=badge, threshold=2, window_days=30, activity_id="class")
    Member.objects.filter(space=space_a, user=member_a).update(external_id="STU-1")
    outcomes = rule_events_record(
        space=space_a,
        events=[RuleEvent(i, rule, member_a, at(1 + i)) for i in range(2)],
    )
    award = outcomes[1].award
    [row] = api.get("/api/rules").json()["Results"]
    assert row == {
        "Id": str(rule.public_id),
        "Name": rule.name,
        "ActivityId": "class",
        "BadgeId": str(badge.public_id),
        "Threshold": 2,
        "WindowDays": 30,
        "OrganisationId": str(space_a.root_organisation.public_id),
        "Active": True,
        "Completions": 1,
    }
    body = api.get(f"/api/rules/{rule.public_id}/completions").json()
    assert body["Results"] == [
        {
            "UserId": "STU-1",
            "Email": member_a.email,
            "FirstName": "Mal",
            "LastName": "Member",
            "CompletedAt": "2026-03-02T12:00:00Z",
            "AwardId": str(award.public_id),
        }
    ]
    # Completion dates filter the list and the count.
    assert (
        api.get(f"/api/rules/{rule.public_id}/completions", {"to": "2026-03-01"}).json()["Count"]
        == 0
    )
    assert api.get("/api/rules", {"from": "2026-03-03"}).json()["Results"][0]["Completions"] == 0


def test_recipients_list_every_award_with_the_contract_fields(api, space_a, member_a):
    badge = make_badge(space_a, name="Python", expiry_amount=30, expiry_unit="days")
    other = make_badge(space_a, name="SQL")
    Member.objects.filter(space=space_a, user=member_a).update(external_id="STU-1")
    stranger = add_member(space_a)
    [award] = issue(badge, [member_a], at(1))
    [revoked] = issue(other, [stranger], at(2))
    Award.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    award.refresh_from_db()
    rows = api.get("/api/recipients").json()["Results"]
    assert rows[0] == {
        "UserId": "STU-1",
        "Email": member_a.email,
        "FirstName": "Mal",
        "LastName": "Member",
        "BadgeId": str(badge.public_id),
        "BadgeName": "Python",
        "AwardId": str(award.public_id),
        "IssuedOn": "2026-03-01T12:00:00Z",
        "ExpiresOn": rows[0]["ExpiresOn"],
        "Revoked": False,
        # Our addition to the contract's fields: the recipient declined it (issue 17).
        "Declined": False,
    }
    assert rows[0]["ExpiresOn"].startswith(award.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))
    # Without an external id, the UserId is the email the award was made to.
    assert rows[1]["UserId"] == stranger.email and rows[1]["Revoked"] is True
    assert rows[1]["Declined"] is False
    Award.objects.filter(pk=award.pk).update(declined_at=timezone.now())
    declined = api.get("/api/recipients").json()["Results"][0]
    assert declined["AwardId"] == str(award.public_id)  # kept, marked declined
    assert declined["Declined"] is True and declined["Revoked"] is False
    one = api.get(f"/api/badges/{other.public_id}/recipients").json()
    assert [r["AwardId"] for r in one["Results"]] == [str(revoked.public_id)]
    dated = api.get("/api/recipients", {"from": "2026-03-02", "to": "2026-03-02"}).json()
    assert [r["AwardId"] for r in dated["Results"]] == [str(revoked.public_id)]


def test_pages_link_to_each_other(api, space_a, settings):
    badge = make_badge(space_a)
    issue(badge, [add_member(space_a) for _ in range(5)], at(1))
    first = api.get("/api/recipients", {"page_size": 2}).json()
    assert first["Count"] == 5 and len(first["Results"]) == 2 and first["Previous"] is None
    assert first["Next"].startswith(f"{settings.SITE_URL}/api/recipients?")
    assert "page=2" in first["Next"] and "page_size=2" in first["Next"]
    path = first["Next"].removeprefix(settings.SITE_URL)
    second = api.get(path).json()
    assert "page=1" in second["Previous"] and "page=3" in second["Next"]
    last = api.get("/api/recipients", {"page_size": 2, "page": 3}).json()
    assert len(last["Results"]) == 1 and last["Next"] is None
    seen = first["Results"] + second["Results"] + last["Results"]
    assert len({r["AwardId"] for r in seen}) == 5
    beyond = api.get("/api/recipients", {"page_size": 2, "page": 9}).json()
    assert beyond["Results"] == [] and "page=3" in beyond["Previous"]


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": 1001},
        {"page_size": 0},
        {"page": 0},
        {"page": "two"},
        {"page": 10**30},
        {"from": "01/03/2026"},
        {"to": "2026-02-30"},
        {"from": "2026-03-05", "to": "2026-03-01"},
        {"organisation": "not-a-uuid"},
    ],
)
def test_bad_list_parameters_are_400(api, query):
    for path in ("/api/badges", "/api/recipients", "/api/rules"):
        response = api.get(path, query)
        assert response.status_code == 400, (path, query)
        assert response.json()["Error"]


def test_unknown_ids_are_404(api):
    for path in (
        "/api/badges/not-a-uuid/recipients",
        "/api/badges/6f1c4e63-5a6b-4f55-9d5e-2c2f8f1b7a10/recipients",
        "/api/rules/6f1c4e63-5a6b-4f55-9d5e-2c2f8f1b7a10/completions",
    ):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["Error"]


@pytest.mark.parametrize("size", [2, 8])
def test_lists_take_a_constant_number_of_queries(api, space_a, size):
    for n in range(size):
        badge = make_badge(space_a, name=f"Badge {n}")
        people = [add_member(space_a) for _ in range(2)]
        issue(badge, people, at(1 + n))
        rule = make_rule(space_a, badge=badge, threshold=1, activity_id=f"a-{n}")
        rule_events_record(space=space_a, events=[RuleEvent(0, rule, people[0], at(1 + n))])
    # Each list: key lookup (+ last-use update on the first call), count, page.
    for path in ("/api/badges", "/api/rules", "/api/recipients"):
        api.get(path)  # the last-use update happens once a minute; take it out of the count
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(path, {"page_size": 1000}).status_code == 200
        assert len(ctx.captured_queries) == 3, (path, [q["sql"] for q in ctx.captured_queries])
    rule_path = f"/api/rules/{rule.public_id}/completions"
    badge_path = f"/api/badges/{badge.public_id}/recipients"
    for path in (rule_path, badge_path):
        # key lookup, the rule or badge, count, page
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(path).status_code == 200
        assert len(ctx.captured_queries) == 4, path
