"""Open Badges 2.0 hosted verification: the JSON-LD shapes, content negotiation, caching
headers, BadgeClass/issuer versions, and revocation (410 Gone)."""

import hashlib
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badges import links
from badges.models import Award, BadgeAttribute
from badges.openbadges import publish
from issuers.services import issuer_update
from tests.factories import make_award, make_badge, revoke_award

pytestmark = pytest.mark.django_db

LD = "application/ld+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def get_json(client, url, accept=LD, **headers):
    response = client.get(url, HTTP_ACCEPT=accept, **headers)
    return response, json.loads(response.content) if response.content else None


@pytest.fixture
def award(space_a, member_a):
    badge = make_badge(space_a, expiry_amount=1, expiry_unit="years")
    BadgeAttribute.objects.create(space=space_a, badge=badge, key="Credits", value="5 ECTS")
    return make_award(space_a, badge=badge, recipient=member_a)


def test_assertion_shape(client, award, member_a):
    response, doc = get_json(client, links.assertion_url(award))
    assert response.status_code == 200
    assert response["Content-Type"] == LD
    assert doc["@context"] == "https://w3id.org/openbadges/v2"
    assert doc["type"] == "Assertion"
    assert doc["id"] == links.assertion_url(award)
    assert doc["verification"] == {"type": "HostedBadge"}
    assert doc["issuedOn"].endswith("Z") and doc["expires"].startswith(str(award.expires_at.year))
    assert doc["image"] == links.baked_image_url(award)
    # The recipient is the salted hash of their address, never the address itself.
    recipient = doc["recipient"]
    assert recipient["type"] == "email" and recipient["hashed"] is True
    assert recipient["salt"] == award.identity_salt
    expected = hashlib.sha256((member_a.email.lower() + award.identity_salt).encode()).hexdigest()
    assert recipient["identity"] == f"sha256${expected}"
    assert member_a.email not in response.content.decode()


def test_badgeclass_and_issuer_shapes(client, award, settings):
    _, assertion = get_json(client, links.assertion_url(award))
    response, badge = get_json(client, assertion["badge"])
    assert response.status_code == 200
    assert badge["type"] == "BadgeClass" and badge["id"] == assertion["badge"]
    assert badge["name"] == award.badge_snapshot["name"]
    assert badge["description"] == award.badge_snapshot["description"]
    assert badge["criteria"] == {"narrative": award.badge_snapshot["criteria_text"]}
    assert badge["image"].endswith(award.badge_snapshot["image"])
    assert badge["@language"] == "en"
    assert badge["schema:additionalProperty"] == [
        {"type": "schema:PropertyValue", "schema:name": "Credits", "schema:value": "5 ECTS"}
    ]
    assert badge["issuer"] == links.issuer_url(award.issuer_version)
    response, issuer = get_json(client, badge["issuer"])
    assert response.status_code == 200
    assert issuer == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": links.issuer_url(award.issuer_version),
        "name": "Acme Learning",
        "url": "https://acme.example",
        "email": "badges@acme.example",
        "description": "Issues Acme's badges.",
    }
    # The image the BadgeClass names is served.
    assert client.get(badge["image"].removeprefix(settings.SITE_URL)).status_code == 200


def test_edits_after_issue_change_only_later_awards(client, award, space_a, member_a):
    """An award keeps the BadgeClass and issuer profile it was issued with; the badge's own
    URL shows the badge as it is now."""
    _, before = get_json(client, links.assertion_url(award))
    badge = award.badge
    badge.name = "Python Fundamentals (2027 edition)"
    badge.save()
    issuer_update(
        access=Access.system(badge.issuer.space),
        issuer=badge.issuer,
        actor=None,
        name="Acme Academy",
    )

    _, old_class = get_json(client, before["badge"])
    assert old_class["name"] == "Python Fundamentals"
    _, old_issuer = get_json(client, old_class["issuer"])
    assert old_issuer["name"] == "Acme Learning"

    _, current = get_json(client, links.badgeclass_url(badge))
    assert current["id"] == links.badgeclass_url(badge)
    assert current["name"] == "Python Fundamentals (2027 edition)"
    _, current_issuer = get_json(client, current["issuer"])
    assert current_issuer["name"] == "Acme Academy"

    later = make_award(space_a, badge=badge)
    _, later_doc = get_json(client, links.assertion_url(later))
    assert later_doc["badge"] != before["badge"]
    _, later_class = get_json(client, later_doc["badge"])
    assert later_class["name"] == "Python Fundamentals (2027 edition)"


def test_awards_with_the_same_snapshot_share_one_badgeclass(client, award, space_a):
    other = make_award(space_a, badge=award.badge)
    _, one = get_json(client, links.assertion_url(award))
    _, two = get_json(client, links.assertion_url(other))
    assert one["badge"] == two["badge"]


def test_content_negotiation(client, award):
    url = links.assertion_url(award)
    html = client.get(url, HTTP_ACCEPT=BROWSER)
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert award.badge_snapshot["name"] in html.content.decode()
    assert "Accept" in html["Vary"]

    plain = client.get(url, HTTP_ACCEPT="application/json")
    assert plain["Content-Type"] == "application/json"
    assert json.loads(plain.content)["type"] == "Assertion"
    # No Accept at all, or */*: JSON-LD, the OB 2.0 default.
    for accept in ("*/*", None):
        response = client.get(url, **({"HTTP_ACCEPT": accept} if accept else {}))
        assert response["Content-Type"] == LD, accept
        assert "Accept" in response["Vary"]
    # A link a person clicks can ask for JSON explicitly.
    forced = client.get(links.as_json(url), HTTP_ACCEPT=BROWSER)
    assert forced["Content-Type"] == LD


def test_etag_cache_control_and_304(client, award):
    url = links.assertion_url(award)
    first = client.get(url, HTTP_ACCEPT=LD)
    assert first["ETag"].startswith('"') and "max-age" in first["Cache-Control"]
    again = client.get(url, HTTP_ACCEPT=LD, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert client.get(url, HTTP_ACCEPT=LD, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_revoked_assertion_answers_410_with_revoked_true(client, award):
    url = links.assertion_url(award)
    response, _ = get_json(client, url)  # cached while live
    etag = response["ETag"]
    revoke_award(award, reason="Exam result withdrawn.")
    response, doc = get_json(client, url)
    assert response.status_code == 410
    assert doc == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": url,
        "revoked": True,
        "revocationReason": "Exam result withdrawn.",
    }
    # The old ETag no longer matches: a cache revalidating gets the 410, not a 304.
    assert client.get(url, HTTP_ACCEPT=LD, HTTP_IF_NONE_MATCH=etag).status_code == 410


def test_cached_assertion_costs_no_query(client, award, django_assert_num_queries):
    url = links.assertion_url(award)
    client.get(url, HTTP_ACCEPT=LD)
    # The revocation state and the document both come from the cache.
    with django_assert_num_queries(0):
        assert client.get(url, HTTP_ACCEPT=LD).status_code == 200
    # Once the state has expired (STATE_TTL): one indexed query, the document still cached.
    cache.delete(publish._state_key(award.public_id))
    with django_assert_num_queries(1):
        assert client.get(url, HTTP_ACCEPT=LD).status_code == 200


def test_award_changed_makes_revocation_immediate(client, award):
    """A revocation written without award_changed shows within STATE_TTL; with it, at once."""
    url = links.assertion_url(award)
    assert client.get(url, HTTP_ACCEPT=LD).status_code == 200
    Award.objects.filter(pk=award.pk).update(revoked_at=timezone.now())
    assert client.get(url, HTTP_ACCEPT=LD).status_code == 200  # the cached state
    publish.award_changed(award)
    assert client.get(url, HTTP_ACCEPT=LD).status_code == 410
    # The page reads the award itself, so it never lags.
    assert "Revoked on" in client.get(url, HTTP_ACCEPT=BROWSER).content.decode()


def test_unknown_draft_and_wrong_method(client, space_a, award):
    import uuid

    for name in ("public:assertion", "public:badge", "public:issuer", "public:credential"):
        kwarg = {"public:badge": "badge_id", "public:issuer": "profile_id"}.get(name, "award_id")
        assert client.get(reverse(name, kwargs={kwarg: uuid.uuid4()})).status_code == 404
    draft = make_badge(space_a, state="draft", name="Secret draft")
    assert client.get(links.badgeclass_url(draft), HTTP_ACCEPT=LD).status_code == 404
    bad = links.badgeclass_url(award.badge) + "/v/0123456789abcdef0123456789abcdef"
    assert client.get(bad, HTTP_ACCEPT=LD).status_code == 404
    assert client.post(links.assertion_url(award)).status_code == 405


def test_withdrawn_badge_stays_public(client, award):
    badge = award.badge
    badge.state = "withdrawn"
    badge.save()
    response, doc = get_json(client, links.badgeclass_url(badge))
    assert response.status_code == 200 and doc["name"] == badge.name
    page = client.get(links.badgeclass_url(badge), HTTP_ACCEPT=BROWSER)
    assert "No longer issued" in page.content.decode()
