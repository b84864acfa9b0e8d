"""Two identical calls at once award once — on PostgreSQL, with real transactions.

Each call runs in its own thread with its own database connection and its own transaction,
released together by a barrier. Runs when DATABASE_URL points at PostgreSQL (CI's second run);
with REQUIRE_SERVICES=1 a missing PostgreSQL is a failure, not a skip.
"""

import os
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from api.services import apikey_create
from badges.models import ActivityEvent, Award, RuleCompletion
from tests.api.conftest import ApiClient
from tests.factories import add_member, make_badge, make_rule
from users.models import Member, User

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WHEN = "2026-01-05T10:00:00+01:00"


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL: DATABASE_URL=postgres://…")


def at_once(calls: list) -> list:
    """Run the callables in threads released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def setting(space_a, admin_a):
    made = apikey_create(space=space_a, name="LMS", actor=admin_a)
    badge = make_badge(space_a)
    members = [add_member(space_a) for _ in range(20)]
    body = [
        {"ActivityId": str(badge.public_id), "ActivityTime": WHEN, "UserId": m.email}
        for m in members
    ]
    body += [
        {
            "ActivityId": str(badge.public_id),
            "ActivityTime": WHEN,
            "UserId": f"NEW-{n}",
            "Email": f"new{n}@race.test",
            "FirstName": "Ra",
            "LastName": f"Ce {n}",
        }
        for n in range(80)
    ]
    return made, badge, body


def client_for(made) -> ApiClient:
    return ApiClient(Client(), made.key.developer_key, made.token)


def test_two_identical_calls_at_once_award_once(setting):
    made, badge, body = setting
    first, second = at_once([lambda: client_for(made).events(body) for _ in range(2)])
    assert first.status_code == second.status_code == 200
    statuses = [
        {a["Status"], b["Status"]}
        for a, b in zip(first.json()["Results"], second.json()["Results"], strict=True)
    ]
    # Each event: awarded by one call, a duplicate (the same award) for the other.
    assert statuses == [{"awarded", "duplicate"}] * len(body)
    assert Award.objects.filter(badge=badge).count() == len(body)
    assert User.objects.filter(email__endswith="@race.test").count() == 80
    assert Member.objects.filter(user__email__endswith="@race.test").count() == 80
    ids = [
        {a["AwardId"], b["AwardId"]}
        for a, b in zip(first.json()["Results"], second.json()["Results"], strict=True)
    ]
    assert all(len(pair) == 1 for pair in ids)


def test_two_calls_with_one_idempotency_key_answer_the_same(setting):
    made, badge, body = setting
    first, second = at_once(
        [lambda: client_for(made).events(body, HTTP_IDEMPOTENCY_KEY="same-call") for _ in range(2)]
    )
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert {r["Status"] for r in first.json()["Results"]} == {"awarded"}
    assert Award.objects.filter(badge=badge).count() == len(body)


def test_two_calls_completing_a_rule_at_once_complete_it_once(space_a, admin_a, member_a):
    made = apikey_create(space=space_a, name="LMS", actor=admin_a)
    rule = make_rule(space_a, threshold=2, activity_id="lab")
    body = [
        {"ActivityId": "lab", "ActivityTime": f"2026-01-0{d}T10:00:00Z", "UserId": member_a.email}
        for d in (1, 2)
    ]
    # Different calls, each completing the rule on its own: one must wait for the other.
    first, second = at_once(
        [lambda: client_for(made).events(body), lambda: client_for(made).events(body[::-1])]
    )
    statuses = sorted(r["Status"] for resp in (first, second) for r in resp.json()["Results"])
    assert statuses.count("awarded") == 1
    assert RuleCompletion.objects.filter(rule=rule).count() == 1
    assert Award.objects.filter(badge=rule.badge).count() == 1
    assert ActivityEvent.objects.filter(rule=rule).count() == 2
