"""POST /api/ActivityEvents: direct issuing, statuses, errors, bodies and idempotency."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import IdempotencyRecord
from api.services import apikey_create
from badges.models import ActivityEvent, Award, Badge, IssueBatch
from tests.api.conftest import ApiClient
from tests.factories import UserFactory, add_member, make_badge, make_rule
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db

WHEN = "2026-01-05T10:00:00+01:00"


def event(badge, user_id, **fields):
    return {"ActivityId": str(badge.public_id), "ActivityTime": WHEN, "UserId": user_id, **fields}


def new_person(badge, n: int = 1, **fields):
    return event(
        badge,
        f"EMP-{n}",
        Email=f"person{n}@new.test",
        FirstName="Pat",
        LastName=f"Person {n}",
        **fields,
    )


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["Results"]


# ---- Direct issuing and recipient resolution ------------------------------------------------


def test_one_event_awards_the_badge_with_every_result_field(api, badge, member_a, settings):
    [row] = results(api.events(event(badge, member_a.email)))
    award = Award.objects.get()
    assert row == {
        "Index": 0,
        "Status": "awarded",
        "AwardId": str(award.public_id),
        "BadgeId": str(badge.public_id),
        "RuleId": None,
        "RecipientUserId": member_a.email,
        "AssertionUrl": f"{settings.SITE_URL}/public/assertions/{award.public_id}",
        "CredentialUrl": f"{settings.SITE_URL}/public/credentials/{award.public_id}",
        # A contract addition (issue 17): the award a renewal renews, else null.
        "RenewsAwardId": None,
        "Errors": {},
    }
    assert award.recipient == member_a and award.source == IssueBatch.Source.API
    assert award.achieved_at.isoformat() == "2026-01-05T09:00:00+00:00"


def test_a_new_person_is_created_unverified_in_the_badges_organisation(
    api, badge, space_a, committed
):
    with committed():
        [row] = results(api.events(new_person(badge)))
    assert row["Status"] == "awarded" and row["RecipientUserId"] == "EMP-1"
    person = User.objects.get(email="person1@new.test")
    assert not person.is_verified and not person.has_usable_password()
    assert (person.first_name, person.last_name) == ("Pat", "Person 1")
    assert Member.objects.get(space=space_a, user=person).external_id == "EMP-1"
    membership = Membership.objects.get(space=space_a, user=person)
    assert membership.role.name == "User" and membership.organisation == badge.organisation
    # The verification email and the badge email, sent by the worker after the response.
    assert sorted(m.subject for m in mail.outbox) == [
        f"Verify your email for {space_a.name}",
        f"You have been awarded “{badge.name}”",
    ]


def test_recipients_are_found_by_external_id_then_by_email_anywhere(api, badge, space_a, member_a):
    Member.objects.filter(space=space_a, user=member_a).update(external_id="STU-7")
    elsewhere = UserFactory(email="known@elsewhere.test")  # on the platform, not in space A
    rows = results(
        api.events(
            [
                event(badge, "STU-7"),  # by external id, no email needed
                event(badge, "REF-9", Email="KNOWN@elsewhere.test"),  # by Email
                event(badge, "known@elsewhere.test", ActivityTime="2026-01-06T10:00:00Z"),
            ]
        )
    )
    assert [r["Status"] for r in rows] == ["awarded", "awarded", "awarded"]
    assert Award.objects.get(public_id=rows[0]["AwardId"]).recipient == member_a
    assert Award.objects.get(public_id=rows[1]["AwardId"]).recipient == elsewhere
    assert Award.objects.get(public_id=rows[2]["AwardId"]).recipient == elsewhere
    assert rows[0]["RecipientUserId"] == "STU-7"
    # The person from elsewhere joined the space with the reference they were sent with.
    assert Member.objects.get(space=space_a, user=elsewhere).external_id == "REF-9"
    assert User.objects.filter(email__iexact="known@elsewhere.test").count() == 1


def test_a_retried_event_is_a_duplicate_with_the_existing_award(api, badge, member_a):
    [first] = results(api.events(event(badge, member_a.email)))
    [again] = results(api.events(event(badge, member_a.email)))
    assert again["Status"] == "duplicate"
    assert again["AwardId"] == first["AwardId"] and again["AssertionUrl"] == first["AssertionUrl"]
    assert Award.objects.count() == 1
    # The same event twice in one call: one award, the second a duplicate.
    later = event(badge, member_a.email, ActivityTime="2026-01-07T08:00:00Z")
    rows = results(api.events([later, later]))
    assert [r["Status"] for r in rows] == ["awarded", "duplicate"]
    assert rows[0]["AwardId"] == rows[1]["AwardId"] and Award.objects.count() == 2


# ---- Per-event rejections --------------------------------------------------------------------

REJECTIONS = [
    ({"ActivityId": "no-such-activity"}, "ActivityId", "No badge or rule"),
    ({"ActivityTime": "yesterday"}, "ActivityTime", "ISO 8601"),
    ({"ActivityTime": "2026-01-05T10:00:00"}, "ActivityTime", "offset"),
    ({"ActivityTime": "2026-01-05"}, "ActivityTime", "offset"),
    ({"ActivityTime": "2999-01-01T00:00:00Z"}, "ActivityTime", "future"),
    ({"ActivityTime": "0001-01-01T00:00:00-01:00"}, "ActivityTime", ""),
    ({"ActivityTime": 20260105}, "ActivityTime", "string"),
    ({"UserId": ""}, "UserId", "Required"),
    ({"UserId": None}, "UserId", "Required"),
    ({"UserId": ["a"]}, "UserId", "string"),
    ({"UserId": "NOBODY-1"}, "Email", "give their email"),
    ({"UserId": "a@"}, "Email", "give their email"),
    ({"UserId": "N-1", "Email": "n@x.test"}, "FirstName", "give their name"),
    (
        {"UserId": "N-1", "Email": "n@x.test", "FirstName": "A\r\nB", "LastName": "C"},
        "FirstName",
        "single line",
    ),
    (
        {"UserId": "N-1", "Email": "n@x.test", "FirstName": "A", "LastName": "B\nC"},
        "LastName",
        "single line",
    ),
    (
        {"UserId": "N-1", "Email": "a" * 310 + "@x.test", "FirstName": "A", "LastName": "B"},
        "Email",
        "254",
    ),
    (
        {"UserId": "N-1", "Email": "not-an-email", "FirstName": "A", "LastName": "B"},
        "Email",
        "valid",
    ),
    ({"UserId": "x" * 201}, "UserId", "200"),
    ({"UserId": "N-1\x00"}, "UserId", "single line"),
    ({"UserId": "N-1", "Email": {"nested": ["garbage"]}}, "Email", "string"),
    ({"ActivityId": "x" * 201}, "ActivityId", "200"),
    ({"ActivityId": "bad\x00id"}, "ActivityId", "single line"),
    ({"ActivityId": 42}, "ActivityId", "string"),
    ({"ActivityId": "\ud800"}, "ActivityId", "Unicode"),
    ({"Emial": "typo@x.test"}, "Emial", "Unknown field"),
    ({"activityId": "x"}, "activityId", "did you mean “ActivityId”"),
]


@pytest.mark.parametrize(("change", "field", "message"), REJECTIONS)
def test_a_bad_event_is_rejected_with_a_reason_and_nothing_stored(
    api, badge, member_a, change, field, message
):
    base = event(badge, member_a.email)
    bad = {**base, **change}
    rows = results(api.events([bad, base]))
    assert rows[0]["Status"] == "rejected"
    assert message in rows[0]["Errors"][field], rows[0]["Errors"]
    assert rows[0]["AwardId"] is None and rows[0]["BadgeId"] is None
    # The good event beside it is issued; the bad one stored nothing.
    assert rows[1]["Status"] == "awarded"
    assert Award.objects.count() == 1
    assert not User.objects.filter(email__endswith="@x.test").exists()


def test_missing_required_fields_are_each_named(api):
    [row] = results(api.events({}))
    assert set(row["Errors"]) == {"ActivityId", "ActivityTime", "UserId"}


@pytest.mark.parametrize("state", [Badge.State.DRAFT, Badge.State.WITHDRAWN])
def test_a_badge_that_is_not_published_is_rejected(api, space_a, member_a, state):
    badge = make_badge(space_a, state=state, name="Unready")
    [row] = results(api.events(event(badge, member_a.email)))
    assert row["Status"] == "rejected"
    assert "cannot be issued" in row["Errors"]["ActivityId"]
    assert not Award.objects.exists()


def test_another_spaces_badge_is_unknown(api, space_b, member_a):
    badge_b = make_badge(space_b)
    [row] = results(api.events(event(badge_b, member_a.email)))
    assert row["Status"] == "rejected" and "No badge or rule" in row["Errors"]["ActivityId"]


# ---- Whole-body errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b'"a string"', "one event object, or an array"),
        (b"42", "one event object, or an array"),
        (b"null", "one event object, or an array"),
        (b"[]", "empty"),
        (b'[{"ActivityId": "x"}, 3]', "Event 1 is not a JSON object"),
        (b'[[{"ActivityId": "x"}]]', "Event 0 is not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"ActivityId": NaN}', "not valid JSON"),
    ],
)
def test_a_malformed_body_is_400_and_nothing_is_stored(api, badge, body, message):
    response = api.events(body)
    assert response.status_code == 400
    assert message in response.json()["Error"]
    assert not Award.objects.exists() and not IssueBatch.objects.exists()


def test_more_than_1000_events_is_400_and_nothing_is_stored(api, badge, member_a):
    body = [
        event(badge, member_a.email, ActivityTime=f"2026-01-01T00:00:{i % 60:02d}Z")
        for i in range(1001)
    ]
    response = api.events(body)
    assert response.status_code == 400
    assert "1,001 events" in response.json()["Error"]
    assert not Award.objects.exists()


def test_a_body_over_the_size_limit_is_413(api, badge, member_a):
    padding = "x" * (10 * 1024 * 1024)
    response = api.events(json.dumps([event(badge, member_a.email, FirstName=padding)]))
    assert response.status_code == 413
    assert "larger than" in response.json()["Error"]
    assert not Award.objects.exists()


def test_the_wrong_method_is_405(api):
    assert api.get("/api/ActivityEvents").status_code == 405


def test_every_response_names_the_call(api, badge, member_a):
    response = api.events(event(badge, member_a.email))
    assert len(response["X-Request-Id"]) == 36


# ---- Idempotency-Key -------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replays_the_first_response(api, badge, member_a):
    body = [event(badge, member_a.email), new_person(badge)]
    first = api.events(body, HTTP_IDEMPOTENCY_KEY="call-1")
    # Even what would now be "duplicate" comes back exactly as the first answer said.
    again = api.events(body, HTTP_IDEMPOTENCY_KEY="call-1")
    assert again.status_code == 200 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert [r["Status"] for r in again.json()["Results"]] == ["awarded", "awarded"]
    assert Award.objects.count() == 2 and IssueBatch.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_422(api, badge, member_a):
    api.events(event(badge, member_a.email), HTTP_IDEMPOTENCY_KEY="call-1")
    other = event(badge, member_a.email, ActivityTime="2026-01-06T10:00:00Z")
    response = api.events(other, HTTP_IDEMPOTENCY_KEY="call-1")
    assert response.status_code == 422
    assert "different request body" in response.json()["Error"]
    assert Award.objects.count() == 1


def test_idempotency_keys_belong_to_one_api_key(api, badge, member_a, space_a):
    other = apikey_create(space=space_a, name="Other system")
    other_api = ApiClient(api.client, other.key.developer_key, other.token)
    api.events(event(badge, member_a.email), HTTP_IDEMPOTENCY_KEY="k")
    response = other_api.events(new_person(badge), HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert response.json()["Results"][0]["Status"] == "awarded"


def test_an_expired_idempotency_key_is_forgotten(api, badge, member_a, settings):
    api.events(event(badge, member_a.email), HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS + 1)
    )
    response = api.events(event(badge, member_a.email), HTTP_IDEMPOTENCY_KEY="k")
    assert "Idempotent-Replayed" not in response
    assert response.json()["Results"][0]["Status"] == "duplicate"


@pytest.mark.parametrize("value", ["x" * 256, "naïve", "tab\there"])
def test_a_malformed_idempotency_key_is_400(api, badge, member_a, value):
    response = api.events(event(badge, member_a.email), HTTP_IDEMPOTENCY_KEY=value)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["Error"]
    assert not Award.objects.exists()


def test_failed_calls_are_not_kept_for_replay(api, badge, member_a):
    assert api.events(b"{oops", HTTP_IDEMPOTENCY_KEY="k").status_code == 400
    response = api.events(event(badge, member_a.email), HTTP_IDEMPOTENCY_KEY="k")
    assert response.json()["Results"][0]["Status"] == "awarded"


# ---- A batch costs a constant number of queries ---------------------------------------------


def _mixed_batch(space, badge, rule, size: int) -> list[dict]:
    members = [add_member(space) for _ in range(size)]
    body = [event(badge, m.email) for m in members]
    body += [new_person(badge, n) for n in range(size)]
    body += [
        {"ActivityId": rule.activity_id, "ActivityTime": WHEN, "UserId": m.email} for m in members
    ]
    body += [{"ActivityId": "unknown", "ActivityTime": WHEN, "UserId": "x"}]
    return body


# Sizes stay under SQLite's chunking of bulk inserts at 999 parameters (PostgreSQL has none).
@pytest.mark.parametrize("size", [3, 12])
def test_a_batch_takes_a_constant_number_of_queries(api, badge, space_a, size):
    rule = make_rule(space_a, threshold=1, activity_id="visit")
    body = _mixed_batch(space_a, badge, rule, size)
    with CaptureQueriesContext(connection) as ctx:
        rows = results(api.events(body))
    assert [r["Status"] for r in rows] == ["awarded"] * (3 * size) + ["rejected"]
    # Whatever the size: key lookup + last-use update, savepoint, rules and badges (locked);
    # one recipient resolution (members by external id, users by email, username clashes,
    # users insert, members in space, User role, members insert, memberships insert); one
    # awards_issue for the badge; one email dedupe + insert for every email of the call;
    # the rule's events (lock, events, completions, insert) with one awards_issue for the
    # rule's badge and the completions insert; one audit entry per awards_issue; savepoint
    # releases.
    assert len(ctx.captured_queries) == EXPECTED_EVENT_QUERIES, "\n".join(
        q["sql"][:100] for q in ctx.captured_queries
    )
    assert ActivityEvent.objects.count() == size


# + per awards_issue the status-list places (lock or open the list, update it, entries) and
# the space's webhook endpoints.
EXPECTED_EVENT_QUERIES = 58


def test_old_idempotency_records_are_purged(api, badge, member_a, settings):
    from api.services import idempotency_purge
    from api.tasks import purge_idempotency

    api.events(event(badge, member_a.email), HTTP_IDEMPOTENCY_KEY="old")
    api.events(new_person(badge), HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS + 1)
    )
    assert purge_idempotency.delay().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency_purge() == 0
    assert "api.tasks.purge_idempotency" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
