"""Rules: thresholds, windows, once per person, retries — through the service and the API."""

from datetime import UTC, datetime, timedelta

import pytest

from badges.models import ActivityEvent, Award, IssueBatch, RuleCompletion
from badges.rules import RuleEvent, rule_events_record, threshold_reached_at
from tests.api.conftest import api, key_a  # noqa: F401 - the API client fixtures
from tests.factories import add_member, make_badge, make_rule

pytestmark = pytest.mark.django_db


def day(n: int, hour: int = 9) -> datetime:
    return datetime(2026, 2, 1, hour, tzinfo=UTC) + timedelta(days=n - 1)


def record(space, rule, person, *days, start: int = 0):
    events = [RuleEvent(start + i, rule, person, day(d)) for i, d in enumerate(days)]
    return [o.status for o in rule_events_record(space=space, events=events)]


def test_threshold_reached_at():
    times = [day(1), day(3), day(10), day(11)]
    assert threshold_reached_at(times, 3, None) == day(10)
    assert threshold_reached_at(times, 5, None) is None
    assert threshold_reached_at(times, 2, 2) == day(3)  # 1 → 3 is within 2 days
    assert threshold_reached_at(times, 3, 2) is None
    assert threshold_reached_at(times, 3, 8) == day(11)  # 3 → 11 is within 8 days
    assert threshold_reached_at(times, 1, 1) == day(1)


def test_the_nth_event_awards_the_badge_once(space_a, member_a):
    rule = make_rule(space_a, threshold=3)
    assert record(space_a, rule, member_a, 1, 2) == ["recorded", "recorded"]
    assert not Award.objects.exists()
    assert record(space_a, rule, member_a, 3) == ["awarded"]
    completion = RuleCompletion.objects.get()
    assert completion.recipient == member_a and completion.completed_at == day(3)
    award = completion.award
    assert award.badge == rule.badge and award.source == IssueBatch.Source.RULE
    assert award.achieved_at == day(3)
    # Later events are kept, and award nothing more.
    assert record(space_a, rule, member_a, 4, 5, 6) == ["recorded"] * 3
    assert Award.objects.count() == 1 and RuleCompletion.objects.count() == 1
    assert ActivityEvent.objects.filter(rule=rule).count() == 6


def test_several_events_in_one_call_complete_at_the_right_one(space_a, member_a):
    rule = make_rule(space_a, threshold=2)
    other = add_member(space_a)
    events = [
        RuleEvent(0, rule, member_a, day(1)),
        RuleEvent(1, rule, other, day(1)),
        RuleEvent(2, rule, member_a, day(2)),
        RuleEvent(3, rule, member_a, day(3)),
    ]
    outcomes = rule_events_record(space=space_a, events=events)
    assert [o.status for o in outcomes] == ["recorded", "recorded", "awarded", "recorded"]
    assert outcomes[2].award.recipient == member_a


def test_events_outside_the_window_do_not_add_up(space_a, member_a):
    rule = make_rule(space_a, threshold=3, window_days=7)
    assert record(space_a, rule, member_a, 1, 5, 12, 19) == ["recorded"] * 4
    assert not RuleCompletion.objects.exists()
    # 12, 19 and now 18: three within 7 days.
    assert record(space_a, rule, member_a, 18, start=4) == ["awarded"]
    assert RuleCompletion.objects.get().completed_at == day(19)


def test_a_late_event_that_fills_a_window_completes_the_rule(space_a, member_a):
    rule = make_rule(space_a, threshold=2, window_days=3)
    assert record(space_a, rule, member_a, 10) == ["recorded"]
    assert record(space_a, rule, member_a, 8) == ["awarded"]  # sent late, 2 days earlier
    assert RuleCompletion.objects.get().completed_at == day(10)


def test_retried_events_are_not_counted_twice(space_a, member_a):
    rule = make_rule(space_a, threshold=3)
    assert record(space_a, rule, member_a, 1, 2) == ["recorded", "recorded"]
    assert record(space_a, rule, member_a, 1, 2) == ["recorded", "recorded"]  # a retry
    assert not RuleCompletion.objects.exists() and ActivityEvent.objects.count() == 2
    # The same event twice in one call counts once.
    assert record(space_a, rule, member_a, 1, 1) == ["recorded", "recorded"]
    assert record(space_a, rule, member_a, 3) == ["awarded"]
    # The event that completed the rule, sent again: the existing award.
    outcomes = rule_events_record(space=space_a, events=[RuleEvent(0, rule, member_a, day(3))])
    assert outcomes[0].status == "duplicate"
    assert outcomes[0].award == RuleCompletion.objects.get().award
    assert Award.objects.count() == 1


def test_each_person_completes_for_themselves(space_a, member_a):
    rule = make_rule(space_a, threshold=2)
    other = add_member(space_a)
    record(space_a, rule, member_a, 1)
    assert record(space_a, rule, other, 2) == ["recorded"]
    assert not RuleCompletion.objects.exists()


def test_two_rules_of_one_badge_award_it_once_per_achievement(space_a, member_a):
    badge = make_badge(space_a)
    workshops = make_rule(space_a, badge=badge, threshold=1, activity_id="workshop")
    talks = make_rule(space_a, badge=badge, threshold=1, activity_id="talk")
    outcomes = rule_events_record(
        space=space_a,
        events=[
            RuleEvent(0, workshops, member_a, day(1)),
            RuleEvent(1, talks, member_a, day(2)),
        ],
    )
    assert [o.status for o in outcomes] == ["awarded", "awarded"]
    assert Award.objects.filter(badge=badge).count() == 2
    assert IssueBatch.objects.filter(source="rule").count() == 1  # one batch for the badge


def test_an_inactive_rule_records_but_does_not_complete(space_a, member_a):
    rule = make_rule(space_a, threshold=1, active=False)
    assert record(space_a, rule, member_a, 1) == ["recorded"]
    assert not RuleCompletion.objects.exists()


def test_a_lowered_threshold_completes_with_the_next_event(space_a, member_a):
    rule = make_rule(space_a, threshold=5)
    record(space_a, rule, member_a, 1, 2, 3)
    rule.threshold = 2
    rule.save()
    assert record(space_a, rule, member_a, 4) == ["awarded"]
    assert RuleCompletion.objects.get().completed_at == day(2)


# ---- Through the Events API ----------------------------------------------------------------


def _event(rule, user_id, when: datetime, **fields):
    return {
        "ActivityId": rule.activity_id,
        "ActivityTime": when.isoformat(),
        "UserId": user_id,
        **fields,
    }


def test_rule_events_through_the_api(api, space_a, member_a, settings):
    rule = make_rule(space_a, threshold=2, activity_id="workshop-attended")
    rows = api.events([_event(rule, member_a.email, day(1)), _event(rule, member_a.email, day(2))])
    first, second = rows.json()["Results"]
    assert first["Status"] == "recorded" and first["AwardId"] is None
    assert first["RuleId"] == str(rule.public_id) and first["BadgeId"] == str(rule.badge.public_id)
    assert first["RecipientUserId"] == member_a.email
    award = Award.objects.get()
    assert second["Status"] == "awarded" and second["AwardId"] == str(award.public_id)
    assert second["AssertionUrl"] == f"{settings.SITE_URL}/public/assertions/{award.public_id}"
    # Retrying the whole call changes nothing.
    again = api.events([_event(rule, member_a.email, day(1)), _event(rule, member_a.email, day(2))])
    assert [r["Status"] for r in again.json()["Results"]] == ["recorded", "duplicate"]
    assert again.json()["Results"][1]["AwardId"] == str(award.public_id)
    assert Award.objects.count() == 1 and ActivityEvent.objects.count() == 2


def test_a_new_person_can_start_on_a_rule(api, space_a):
    rule = make_rule(space_a, threshold=3)
    body = _event(rule, "EMP-9", day(1), Email="new@rule.test", FirstName="Ri", LastName="Le")
    [row] = api.events(body).json()["Results"]
    assert row["Status"] == "recorded" and row["RecipientUserId"] == "EMP-9"
    assert ActivityEvent.objects.get().recipient.email == "new@rule.test"


@pytest.mark.parametrize(
    ("rule_kwargs", "badge_state", "message"),
    [({"active": False}, "published", "inactive"), ({}, "draft", "cannot be issued")],
)
def test_events_for_an_unusable_rule_are_rejected(
    api, space_a, member_a, rule_kwargs, badge_state, message
):
    badge = make_badge(space_a, state=badge_state)
    rule = make_rule(space_a, badge=badge, threshold=1, **rule_kwargs)
    [row] = api.events(_event(rule, member_a.email, day(1))).json()["Results"]
    assert row["Status"] == "rejected" and message in row["Errors"]["ActivityId"]
    assert not ActivityEvent.objects.exists()


def test_a_badge_id_wins_over_a_rule_with_the_same_activity_id(api, space_a, member_a):
    badge = make_badge(space_a)
    make_rule(space_a, activity_id=str(badge.public_id), threshold=5)
    body = {
        "ActivityId": str(badge.public_id),
        "ActivityTime": day(1).isoformat(),
        "UserId": member_a.email,
    }
    [row] = api.events(body).json()["Results"]
    assert row["Status"] == "awarded" and row["RuleId"] is None


def test_the_demo_rule_is_seeded_once(space_a, admin_a):
    import io

    from api import demo

    demo.seed(space=space_a, admin=admin_a, stdout=io.StringIO())
    assert not RuleCompletion.objects.exists() and not space_a.rules.exists()  # no badge yet
    make_badge(space_a)
    for _ in range(2):
        demo.seed(space=space_a, admin=admin_a, stdout=io.StringIO())
    rule = space_a.rules.get()
    assert (rule.activity_id, rule.threshold, rule.window_days) == ("workshop-attended", 3, 30)
