"""Deliveries to a real receiver on loopback: signed (verified with the standardwebhooks
library), retried with growing back-off, deduplicated by the receiver on webhook-id, stopped by
deletion, the endpoint disabled (and the administrators told, once) after a day of failures,
and secrets rotated without a missed event."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.models import AuditEntry, OutboundEmail
from badges.issuing import RecipientInput, awards_issue
from tests.factories import add_member, make_award, make_badge, revoke_award
from webhooks import delivery
from webhooks.delivery import BACKOFF, MAX_ATTEMPTS
from webhooks.models import Attempt, Endpoint, Message
from webhooks.services import endpoint_create, endpoint_delete, endpoint_rotate

pytestmark = pytest.mark.django_db


def register(access, receiver, events=("award.issued", "award.revoked")):
    made = endpoint_create(access=access, url=receiver.url, events=list(events))
    receiver.secrets = [made.secret]
    return made


def _due_now(message: Message) -> None:
    """Time passes: the scheduled retry falls due."""
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def test_an_issued_award_reaches_the_receiver_signed_with_the_award_object(
    admin_access, receiver, space_a
):
    made = register(admin_access, receiver)
    assert made.secret.startswith("whsec_")
    award = make_award(space_a)

    assert delivery.drain() == 1
    [request] = receiver.requests
    assert request["valid"], "the standardwebhooks library must verify our signature"
    headers = request["headers"]
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert headers["webhook-signature"].startswith("v1,")
    event = json.loads(request["body"])
    assert event["type"] == "award.issued"
    assert event["timestamp"].endswith("Z")
    data = event["data"]
    assert data["AwardId"] == str(award.public_id)
    assert data["BadgeId"] == str(award.badge.public_id)
    assert data["Email"] == award.recipient_email
    assert data["Status"] == "active" and data["Reason"] is None
    assert data["AssertionUrl"].endswith(str(award.public_id))
    assert set(data) >= {
        "AwardId", "BadgeId", "UserId", "Email", "FirstName", "LastName", "IssuedOn",
        "ExpiresOn", "Status", "Reason", "AssertionUrl", "CredentialUrl",
    }  # fmt: skip
    message = Message.objects.get()
    assert message.status == Message.Status.DELIVERED
    attempt = Attempt.objects.get()
    assert attempt.ok and attempt.status_code == 200 and attempt.response_excerpt == "ok"
    # Not subscribed to badge events, so publishing nothing reaches it; revoking does.
    revoke_award(award, reason="Issued to the wrong person.")
    assert delivery.drain() == 1
    revoked = json.loads(receiver.requests[-1]["body"])
    assert revoked["type"] == "award.revoked"
    assert revoked["data"]["Status"] == "revoked"
    assert revoked["data"]["Reason"] == "Issued to the wrong person."


def test_a_receiver_failing_twice_then_succeeding_processes_the_event_exactly_once(
    admin_access, receiver, space_a
):
    register(admin_access, receiver)
    receiver.fail_first = 2
    make_award(space_a)
    message = Message.objects.get()

    assert delivery.drain() == 0  # 500
    assert delivery.drain() == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    _due_now(message)
    assert delivery.drain() == 0  # 500 again
    _due_now(message)
    assert delivery.drain() == 1  # 200
    _due_now(message)
    assert delivery.drain() == 0  # delivered: never sent again

    assert len(receiver.requests) == 3
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {message.event_id}, "webhook-id is stable across retries"
    assert all(r["valid"] for r in receiver.requests), "each retry is signed afresh"
    assert len(receiver.processed) == 1
    codes = list(Attempt.objects.order_by("at", "pk").values_list("status_code", flat=True))
    assert codes == [500, 500, 200]
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED and message.attempts == 3
    # A replay (from the page) sends the same webhook-id again: the receiver ignores it.
    from webhooks.services import message_replay

    message_replay(access=admin_access, message=message)
    assert delivery.drain() == 1
    assert len(receiver.requests) == 4 and len(receiver.processed) == 1


def test_the_back_off_grows_from_seconds_to_hours_for_over_a_day(admin_access, receiver, space_a):
    assert BACKOFF[0] <= timedelta(seconds=10), "first retry within 10 s"
    assert all(a < b or a == b == BACKOFF[-1] for a, b in zip(BACKOFF, BACKOFF[1:], strict=False))
    assert sum(BACKOFF, timedelta()) >= timedelta(hours=24)
    register(admin_access, receiver)
    receiver.fail_first = 100
    make_award(space_a)
    message = Message.objects.get()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        _due_now(message)
        before = timezone.now()
        assert delivery.deliver(message.pk) is False
        message.refresh_from_db()
        if message.next_attempt_at:
            waits.append(message.next_attempt_at - before)
    assert message.status == Message.Status.FAILED
    assert message.attempts == MAX_ATTEMPTS == len(receiver.requests)
    for wait, planned in zip(waits, BACKOFF, strict=True):
        assert planned <= wait < planned + timedelta(seconds=5)
    # Given up: nothing more is sent, whatever the time.
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert delivery.drain() == 0 and len(receiver.requests) == MAX_ATTEMPTS


def test_deleting_an_endpoint_stops_everything_pending_retries_included(
    admin_access, receiver, space_a
):
    made = register(admin_access, receiver)
    receiver.fail_first = 1
    make_award(space_a)
    make_award(space_a)
    message = Message.objects.first()
    Message.objects.exclude(pk=message.pk).update(next_attempt_at=timezone.now() + BACKOFF[0])
    assert delivery.deliver(message.pk) is False  # one retry pending, one never tried
    endpoint_delete(access=admin_access, endpoint=made.endpoint)

    Message.objects.update(next_attempt_at=timezone.now())  # (nothing left to update)
    assert delivery.drain() == 0
    assert len(receiver.requests) == 1
    assert not Message.objects.exists() and not Endpoint.objects.exists()
    # A worker holding a message id from before the deletion sends nothing either.
    assert delivery.deliver(message.pk) is None
    assert AuditEntry.objects.filter(action="webhook.delete").count() == 1


def test_a_day_of_failures_disables_the_endpoint_and_emails_the_admins_once(
    admin_access, receiver, space_a, admin_a
):
    made = register(admin_access, receiver)
    receiver.fail_first = 100
    make_award(space_a)
    message = Message.objects.get()
    assert delivery.drain() == 0
    endpoint = Endpoint.objects.get()
    assert endpoint.active and endpoint.failing_since is not None
    # A success in between resets the clock; 24 h of nothing but failures ends it.
    Endpoint.objects.update(failing_since=timezone.now() - timedelta(hours=23))
    _due_now(message)
    delivery.drain()
    assert Endpoint.objects.get().active
    Endpoint.objects.update(failing_since=timezone.now() - timedelta(hours=24, minutes=1))
    _due_now(message)
    delivery.drain()

    endpoint = Endpoint.objects.get()
    assert not endpoint.active and endpoint.disabled_at and "failed" in endpoint.disabled_reason
    emails = OutboundEmail.objects.filter(kind="webhook_disabled")
    assert [e.to for e in emails] == [admin_a.email]
    assert made.endpoint.url in emails[0].body_text
    assert AuditEntry.objects.filter(action="webhook.disable").count() == 1
    # Disabled: nothing is sent (the pending message waits), and no second email.
    _due_now(message)
    sent_before = len(receiver.requests)
    assert delivery.drain() == 0 and len(receiver.requests) == sent_before
    now = timezone.now()
    assert delivery.endpoint_disable(endpoint, since=now, now=now) is False
    assert OutboundEmail.objects.filter(kind="webhook_disabled").count() == 1
    assert Message.objects.get().status == Message.Status.PENDING


def test_after_a_rotation_both_secrets_verify_until_the_window_ends(
    admin_access, receiver, space_a
):
    made = register(admin_access, receiver)
    old = made.secret
    rotated = endpoint_rotate(access=admin_access, endpoint=made.endpoint)
    new = rotated.secret
    assert new != old and new.startswith("whsec_")
    receiver.secrets = [new]
    make_award(space_a)
    delivery.drain()
    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    assert receiver.verified_by(old, request), "a receiver still on the old secret accepts"
    assert receiver.verified_by(new, request), "a receiver already on the new one accepts"
    # The window over: only the new secret signs.
    Endpoint.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    make_award(space_a)
    delivery.drain()
    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 1
    assert receiver.verified_by(new, request) and not receiver.verified_by(old, request)
    assert AuditEntry.objects.filter(action="webhook.rotate").count() == 1
    # Secrets are stored encrypted: neither appears in the row.
    row = Endpoint.objects.values().get()
    assert old not in str(row) and new not in str(row)


def test_a_bulk_issue_queues_one_message_per_award_in_constant_queries(
    admin_access, receiver, space_a
):
    register(admin_access, receiver)
    badge = make_badge(space_a)
    make_award(space_a, badge=badge)  # the issuer's status list opens on its first award
    counts = []
    for size in (2, 12):
        people = [add_member(space_a) for _ in range(size)]
        with CaptureQueriesContext(connection) as ctx:
            awards_issue(
                access=Access.system(space_a),
                badge=badge,
                recipients=[RecipientInput(user=p) for p in people],
                notify=False,
            )
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert Message.objects.filter(type="award.issued").count() == 15
    assert len(set(Message.objects.values_list("event_id", flat=True))) == 15


def test_events_reach_only_subscribers_and_only_when_the_change_commits(
    admin_access, receiver, space_a, space_b
):
    from django.db import transaction

    from badges.services import badge_publish, badge_withdraw

    register(admin_access, receiver, events=("badge.published", "badge.withdrawn"))
    badge = make_badge(space_a, state="draft")
    badge_publish(access=admin_access, badge=badge, actor=None)
    badge_withdraw(access=admin_access, badge=badge, actor=None)
    make_award(space_a)  # not subscribed
    make_award(space_b)  # another space's
    assert list(Message.objects.order_by("pk").values_list("type", flat=True)) == [
        "badge.published",
        "badge.withdrawn",
    ]
    delivery.drain()
    data = json.loads(receiver.requests[0]["body"])["data"]
    assert data["Id"] == str(badge.public_id) and data["State"] == "published"
    # A change rolled back leaves no event behind.
    with pytest.raises(RuntimeError), transaction.atomic():
        badge_publish(access=admin_access, badge=badge, actor=None)
        raise RuntimeError
    assert Message.objects.count() == 2


def test_a_failing_endpoint_costs_one_attempt_per_pass_not_one_per_message(
    admin_access, receiver, space_a, settings
):
    """A down receiver is tried once per drain; its other messages wait, and another
    endpoint's messages go out meanwhile."""
    register(admin_access, receiver)
    receiver.fail_first = 100
    badge = make_badge(space_a)
    for _ in range(4):
        make_award(space_a, badge=badge)
    assert delivery.drain() == 0
    assert len(receiver.requests) == 1
    assert Attempt.objects.count() == 1
    assert Message.objects.filter(attempts=0).count() == 3


def test_old_delivered_messages_are_purged(admin_access, receiver, space_a):
    register(admin_access, receiver)
    make_award(space_a)
    delivery.drain()
    assert delivery.purge() == 0
    assert delivery.purge(timezone.now() + delivery.KEEP + timedelta(minutes=1)) >= 1
    assert not Message.objects.exists() and not Attempt.objects.exists()


def test_award_event_data_is_exactly_what_get_api_awards_answers(
    admin_access, receiver, space_a, admin_a
):
    """shared/API.md: `data` for award events is the award object of GET /api/awards/{AwardId}
    right after the change — compared as JSON, field by field and format by format."""
    from django.test import Client

    from api.services import apikey_create
    from badges.awards import award_reinstate, award_suspend
    from tests.api.conftest import ApiClient

    register(admin_access, receiver, events=("award.issued", "award.suspended", "award.reinstated"))
    made = apikey_create(space=space_a, name="Reader")
    api = ApiClient(Client(), made.key.developer_key, made.token)
    award = make_award(space_a)

    def last_data(type_):
        return json.loads(Message.objects.filter(type=type_).latest("pk").body)["data"]

    def api_now():
        response = api.get(f"/api/awards/{award.public_id}")
        assert response.status_code == 200
        return response.json()

    assert last_data("award.issued") == api_now()
    award_suspend(access=admin_access, award=award, actor=admin_a, reason="Under review.")
    suspended = last_data("award.suspended")
    assert suspended == api_now()
    assert suspended["Status"] == "suspended" and suspended["Reason"] == "Under review."
    award_reinstate(access=admin_access, award=award, actor=admin_a)
    reinstated = last_data("award.reinstated")
    assert reinstated == api_now() and reinstated["Status"] == "active"
    delivery.drain()
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == [
        "award.issued",
        "award.suspended",
        "award.reinstated",
    ]
    assert all(r["valid"] for r in receiver.requests)
