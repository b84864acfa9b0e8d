"""The Awards API (shared/API.md → Awards): GET, revoke, suspend, reinstate — every allowed
and refused transition, the Reason rules, scope, the hosted OB 2.0 assertion, the status list
bit, audit entries, emails, the OpenAPI document and query counts."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.services import apikey_create
from badgeplatform.audit import AuditEntry
from badgeplatform.models import OutboundEmail
from badges import links
from badges.models import Award, StatusListEntry
from badges.openbadges import status
from tests.api.conftest import ApiClient
from tests.factories import OrganisationFactory, add_member, make_award, make_badge
from users.models import Member

pytestmark = pytest.mark.django_db


def path(award, action: str = "") -> str:
    return f"/api/awards/{award.public_id}" + (f"/{action}" if action else "")


def call(api: ApiClient, award, action: str, body=None, *, committed=None):
    """POST an action; its on-commit work (emails, cache refresh) runs as on a real commit."""
    if committed is None:
        return api.post(path(award, action), body if body is not None else {})
    with committed():
        return api.post(path(award, action), body if body is not None else {})


def assertion(client, award):
    response = client.get(
        links.assertion_url(award).removeprefix(links._url("")),
        HTTP_ACCEPT="application/ld+json",
    )
    return response.status_code, json.loads(response.content)


def status_bit(award) -> bool:
    entry = StatusListEntry.objects.select_related("status_list").get(award=award)
    return status.bit_is_set(bytes(entry.status_list.bits), entry.index)


@pytest.fixture
def award(space_a):
    recipient = add_member(space_a)
    recipient.first_name, recipient.last_name = "Ada", "Lovelace"
    recipient.save()
    return make_award(space_a, recipient=recipient)


# ---- GET ------------------------------------------------------------------------------------


def test_get_answers_every_field_of_the_contract(api, award, settings):
    response = api.get(path(award))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "AwardId": str(award.public_id),
        "BadgeId": str(award.badge.public_id),
        "UserId": award.recipient.email,  # no external id: the email
        "Email": award.recipient_email,
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "IssuedOn": body["IssuedOn"],
        "ExpiresOn": None,
        "Status": "active",
        "Reason": None,
        "AssertionUrl": f"{settings.SITE_URL}/public/assertions/{award.public_id}",
        "CredentialUrl": f"{settings.SITE_URL}/public/credentials/{award.public_id}",
        "CertificateUrl": (
            f"{settings.SITE_URL}/public/assertions/{award.public_id}/certificate.pdf"
        ),
        "Evidence": [],
        "Results": [],
    }
    # ISO 8601 with an offset
    assert timezone.datetime.fromisoformat(body["IssuedOn"]).utcoffset() is not None


def test_userid_is_the_external_id_and_expireson_has_an_offset(api, space_a):
    badge = make_badge(space_a, expiry_amount=1, expiry_unit="years")
    recipient = add_member(space_a)
    Member.objects.filter(space=space_a, user=recipient).update(external_id="EMP-7")
    award = make_award(space_a, badge=badge, recipient=recipient)
    body = api.get(path(award)).json()
    assert body["UserId"] == "EMP-7"
    assert timezone.datetime.fromisoformat(body["ExpiresOn"]).utcoffset() is not None


def test_get_costs_a_constant_number_of_queries(api, award, django_assert_max_num_queries):
    api.get(path(award))  # warm the key's last-use stamp
    # key auth (1) + touch (≤1) + the award with its relations (1) + the external id (1)
    with django_assert_max_num_queries(4):
        assert api.get(path(award)).status_code == 200


def test_statuses_expired_and_declined(api, award):
    Award.objects.filter(pk=award.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert api.get(path(award)).json()["Status"] == "expired"
    Award.objects.filter(pk=award.pk).update(declined_at=timezone.now())
    assert api.get(path(award)).json()["Status"] == "declined"


# ---- Scope: unknown, another space's, outside the key's organisation → 404 -------------------


def test_unknown_other_space_and_out_of_scope_awards_are_404(api, award, space_a, space_b):
    other = make_award(space_b)
    for target in (path(other), "/api/awards/not-a-uuid", "/api/awards/" + "0" * 32):
        for action in ("", "/revoke", "/suspend", "/reinstate"):
            response = api.post(target + action, {"Reason": "x"}) if action else api.get(target)
            assert response.status_code == 404, (target, action)
            assert "Error" in response.json()
    # A key scoped to a branch: the root's award is outside it.
    branch = OrganisationFactory(space=space_a, parent=space_a.root_organisation, name="Branch")
    scoped = apikey_create(space=space_a, name="Branch", organisation=branch)
    scoped_api = ApiClient(Client(), scoped.key.developer_key, scoped.token)
    assert scoped_api.get(path(award)).status_code == 404
    assert scoped_api.post(path(award, "revoke"), {"Reason": "no"}).status_code == 404
    award.refresh_from_db()
    assert award.status == "active"
    inside = make_award(space_a, badge=make_badge(space_a, organisation=branch))
    assert scoped_api.get(path(inside)).status_code == 200
    assert Client().get(path(inside)).status_code == 401


# ---- Transitions ----------------------------------------------------------------------------


def test_suspend_then_reinstate_then_revoke(api, award, client, committed):
    response = call(api, award, "suspend", {"Reason": "  Under   review "}, committed=committed)
    assert response.status_code == 200, response.content
    assert response.json()["Status"] == "suspended"
    assert response.json()["Reason"] == "Under review"
    code, doc = assertion(client, award)
    assert code == 410 and doc["revoked"] is True
    assert doc["revocationReason"] == "Suspended: Under review"
    assert not status_bit(award)  # the status list carries revocation only

    response = call(api, award, "reinstate", committed=committed)
    assert response.status_code == 200
    assert response.json()["Status"] == "active" and response.json()["Reason"] is None
    code, doc = assertion(client, award)
    assert code == 200 and "revoked" not in doc and doc["type"] == "Assertion"

    response = call(api, award, "revoke", {"Reason": "Cheated."}, committed=committed)
    assert response.status_code == 200
    assert response.json()["Status"] == "revoked" and response.json()["Reason"] == "Cheated."
    code, doc = assertion(client, award)
    assert code == 410 and doc["revocationReason"] == "Cheated."
    assert status_bit(award)


def test_a_suspended_award_can_be_revoked(api, award, client, committed):
    call(api, award, "suspend", {"Reason": "Checking"}, committed=committed)
    response = call(api, award, "revoke", {"Reason": "Confirmed fraud"}, committed=committed)
    assert response.status_code == 200 and response.json()["Status"] == "revoked"
    assert status_bit(award)
    code, doc = assertion(client, award)
    assert code == 410 and doc["revocationReason"] == "Confirmed fraud"
    award.refresh_from_db()
    assert not award.is_suspended and award.is_revoked


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        ("revoked", "revoke", {"Reason": "again"}),
        ("revoked", "suspend", {"Reason": "x"}),
        ("revoked", "reinstate", {}),
        ("active", "reinstate", {}),
        ("suspended", "suspend", {"Reason": "x"}),
        ("expired", "suspend", {"Reason": "x"}),
        ("expired", "revoke", {"Reason": "x"}),
        ("expired", "reinstate", {}),
        ("declined", "revoke", {"Reason": "x"}),
        ("declined", "suspend", {"Reason": "x"}),
    ],
)
def test_anything_else_is_409_and_changes_nothing(api, award, setup, action, body, committed):
    if setup == "revoked":
        call(api, award, "revoke", {"Reason": "first"}, committed=committed)
    elif setup == "suspended":
        call(api, award, "suspend", {"Reason": "first"}, committed=committed)
    elif setup == "expired":
        Award.objects.filter(pk=award.pk).update(expires_at=timezone.now() - timedelta(days=1))
    elif setup == "declined":
        Award.objects.filter(pk=award.pk).update(declined_at=timezone.now())
    before = Award.objects.values().get(pk=award.pk)
    audits = AuditEntry.objects.count()
    emails = OutboundEmail.objects.count()
    response = call(api, award, action, body, committed=committed)
    assert response.status_code == 409, response.content
    assert response.json()["Error"]
    assert Award.objects.values().get(pk=award.pk) == before
    assert AuditEntry.objects.count() == audits
    assert OutboundEmail.objects.count() == emails


@pytest.mark.parametrize("action", ["revoke", "suspend"])
@pytest.mark.parametrize(
    "body",
    [{}, {"Reason": ""}, {"Reason": "   \n\t "}, {"Reason": "x" * 501}, {"Reason": None}],
)
def test_reason_rules_are_400_and_nothing_changes(api, award, action, body):
    response = api.post(path(award, action), body)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"Error"}
    award.refresh_from_db()
    assert award.status == "active"
    assert (
        not AuditEntry.objects.filter(action__startswith="award.")
        .exclude(action="award.issue")
        .exists()
    )


def test_a_reason_of_500_characters_after_trimming_is_accepted(api, award):
    response = api.post(path(award, "suspend"), {"Reason": "  " + "y" * 500 + "  "})
    assert response.status_code == 200
    assert response.json()["Reason"] == "y" * 500


def test_malformed_json_is_400(api, award):
    response = api.post(path(award, "revoke"), "{not json")
    assert response.status_code == 400 and "Error" in response.json()


# ---- Audit and emails -----------------------------------------------------------------------


def test_each_change_is_audited_and_emailed_exactly_once(api, award, committed, mailoutbox):
    call(api, award, "suspend", {"Reason": "Paused"}, committed=committed)
    call(api, award, "suspend", {"Reason": "Paused again"}, committed=committed)  # 409
    call(api, award, "reinstate", committed=committed)
    call(api, award, "reinstate", committed=committed)  # 409
    call(api, award, "revoke", {"Reason": "Gone"}, committed=committed)
    call(api, award, "revoke", {"Reason": "Gone twice"}, committed=committed)  # 409
    entries = list(
        AuditEntry.objects.filter(object_id=str(award.public_id))
        .exclude(action="award.issue")
        .order_by("pk")
        .values_list("action", "changes")
    )
    assert entries == [
        ("award.suspend", {"reason": "Paused", "via": "API key “LMS”"}),
        ("award.reinstate", {"via": "API key “LMS”"}),
        ("award.revoke", {"reason": "Gone", "via": "API key “LMS”"}),
    ]
    rows = OutboundEmail.objects.filter(kind="award_status").order_by("pk")
    assert [r.context["event"] for r in rows] == ["suspended", "reinstated", "revoked"]
    assert all(r.to == award.recipient_email for r in rows)
    assert all(r.status == OutboundEmail.Status.SENT for r in rows)
    sent = [m for m in mailoutbox if "has been" in m.subject]
    assert [m.subject for m in sent] == [
        f"Your badge “{award.badge_snapshot['name']}” has been suspended",
        f"Your badge “{award.badge_snapshot['name']}” has been reinstated",
        f"Your badge “{award.badge_snapshot['name']}” has been revoked",
    ]
    assert "Reason: Paused" in sent[0].body and "Reason: Gone" in sent[2].body
    assert "Reason" not in sent[1].body
    assert sent[0].to == [award.recipient_email]


def test_no_email_when_the_badge_has_status_emails_off(api, space_a, committed):
    award = make_award(space_a, badge=make_badge(space_a, status_emails=False))
    call(api, award, "revoke", {"Reason": "Quietly"}, committed=committed)
    assert not OutboundEmail.objects.filter(kind="award_status").exists()
    assert AuditEntry.objects.filter(action="award.revoke").count() == 1


# ---- Webhooks and another space's key --------------------------------------------------------


def test_each_change_emits_its_webhook_event_once(api, award, committed, monkeypatch):
    from badges import awards as services

    heard = []
    monkeypatch.setattr(
        services, "webhooks_emit", lambda space, type, objs: heard.append((type, objs[0].pk))
    )
    call(api, award, "suspend", {"Reason": "r"}, committed=committed)
    call(api, award, "suspend", {"Reason": "r"}, committed=committed)  # 409: nothing
    call(api, award, "reinstate", committed=committed)
    call(api, award, "revoke", {"Reason": "r"}, committed=committed)
    assert heard == [
        ("award.suspended", award.pk),
        ("award.reinstated", award.pk),
        ("award.revoked", award.pk),
    ]


def test_the_key_needs_no_person_and_other_space_key_cannot_touch(award, space_b):
    other = apikey_create(space=space_b, name="B")
    other_api = ApiClient(Client(), other.key.developer_key, other.token)
    assert other_api.post(path(award, "revoke"), {"Reason": "x"}).status_code == 404
    award.refresh_from_db()
    assert award.status == "active"


def test_the_operations_are_in_the_openapi_document(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/awards/{AwardId}"]) == {"get"}
    for action in ("revoke", "suspend", "reinstate"):
        operation = paths[f"/api/awards/{{AwardId}}/{action}"]["post"]
        assert {"200", "400", "404", "409"} <= set(operation["responses"])
    award_schema = schema["components"]["schemas"]["AwardOut"]["properties"]
    assert set(award_schema) == {
        "AwardId",
        "BadgeId",
        "UserId",
        "Email",
        "FirstName",
        "LastName",
        "IssuedOn",
        "ExpiresOn",
        "Status",
        "Reason",
        "AssertionUrl",
        "CredentialUrl",
        "CertificateUrl",
        "Evidence",
        "Results",
    }


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_a_change_takes_a_bounded_number_of_queries(
    api, award, action, django_assert_max_num_queries
):
    api.get(path(award))  # warm the key's last-use stamp
    # key (1-2), the award (1), savepoint, UPDATE, the status-list bit (revoke: 3), audit,
    # the email (dedupe check + INSERT), the answer's external id
    with django_assert_max_num_queries(14):
        assert api.post(path(award, action), {"Reason": "Bounded"}).status_code == 200


def test_the_webhook_data_is_what_get_answers(api, award):
    """shared/API.md: a webhook's `data` for award events is the GET /api/awards object."""
    from webhooks.payloads import award_objects

    award = Award.objects.select_related("badge", "recipient").get(pk=award.pk)
    [data] = award_objects(award.space_id, [award])
    answer = api.get(path(award)).json()
    assert set(data) == set(answer)
    for field in set(answer) - {"IssuedOn", "ExpiresOn"}:
        assert data[field] == answer[field], field
    sent = timezone.datetime.fromisoformat(data["IssuedOn"])
    got = timezone.datetime.fromisoformat(answer["IssuedOn"].replace("Z", "+00:00"))
    assert abs(sent - got) < timedelta(milliseconds=1)  # the API's JSON keeps milliseconds
