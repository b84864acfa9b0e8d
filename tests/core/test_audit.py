import pytest
from django.test import RequestFactory
from django.urls import reverse

from badgeplatform.access import Access
from badgeplatform.audit import AuditContextMiddleware, audit_log
from badgeplatform.models import AuditEntry
from badgeplatform.ratelimit import client_address

pytestmark = pytest.mark.django_db


def test_creating_a_space_is_audited(space_a, admin_a):
    entry = AuditEntry.objects.get(space=space_a, action="space.create")
    assert entry.actor == admin_a and entry.object_label == "Acme University"


def test_entries_record_the_client_address_of_the_request(space_a, admin_a):
    def view(request):
        audit_log(space=space_a, actor=admin_a, action="test.change", label="x")
        return None

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    AuditContextMiddleware(view)(request)
    assert AuditEntry.objects.get(action="test.change").ip_address == "203.0.113.9"
    # Outside a request (a task, a command) there is no address.
    assert audit_log(space=space_a, actor=None, action="test.task").ip_address is None


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(settings):
    rf = RequestFactory()
    spoofed = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(spoofed) == "198.51.100.7"
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    proxied = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.50")
    # Only the hop our proxy appended counts; the client may have forged what came before.
    assert client_address(proxied) == "192.0.2.50"


def test_admin_reads_and_filters_the_log(client_a, space_a, admin_a):
    audit_log(space=space_a, actor=admin_a, action="badge.publish", label="Python 101")
    url = reverse("audit_log", args=[space_a.slug])
    response = client_a.get(url)
    assert response.status_code == 200
    assert b"badge.publish" in response.content and b"space.create" in response.content
    response = client_a.get(url, {"action": "badge."})
    assert b"Python 101" in response.content and b"Acme University</td>" not in response.content


def test_plain_member_is_refused(client, space_a, member_a):
    client.force_login(member_a)
    assert client.get(reverse("audit_log", args=[space_a.slug])).status_code == 403


def test_the_log_is_read_only(client_a, space_a):
    assert client_a.post(reverse("audit_log", args=[space_a.slug])).status_code == 405


def test_a_refusal_says_why(client, space_a, member_a):
    client.force_login(member_a)
    response = client.get(reverse("audit_log", args=[space_a.slug]))
    assert "Manage system settings" in response.content.decode()


def test_issuing_keys_and_rules_are_audited(space_a, admin_a, member_a):
    from api.services import apikey_create, apikey_revoke
    from badges.issuing import RecipientInput, awards_issue
    from badges.rules import rule_create
    from tests.factories import make_badge

    badge = make_badge(space_a)
    awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        recipients=[RecipientInput(user=member_a)],
        actor=admin_a,
    )
    new = apikey_create(space=space_a, name="LMS", actor=admin_a)
    apikey_revoke(key=new.key, actor=admin_a)
    rule_create(
        access=Access.system(space_a),
        space=space_a,
        actor=admin_a,
        organisation=space_a.root_organisation,
        name="Attend",
        activity_id="attend",
        badge=badge,
        threshold=2,
    )
    actions = set(AuditEntry.objects.filter(space=space_a).values_list("action", flat=True))
    assert {"award.issue", "apikey.create", "apikey.revoke", "rule.create"} <= actions
    issued = AuditEntry.objects.get(action="award.issue")
    assert issued.changes["awarded"] == 1 and issued.actor == admin_a
    # The secret token is never in the log.
    assert new.token not in str(list(AuditEntry.objects.values()))
