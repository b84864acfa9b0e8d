"""Authentication, scope and rate limits of the public API."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from api.http import UNAUTHORIZED
from api.http import api as ninja_api
from api.models import ApiKey
from api.services import apikey_create, apikey_revoke, apikey_touch
from badges.models import Award
from tests.api.conftest import ApiClient
from tests.factories import OrganisationFactory, make_badge, make_rule

pytestmark = pytest.mark.django_db

WHEN = "2026-01-05T10:00:00+01:00"


def operations() -> list[tuple[str, str]]:
    """(method, path) of every operation the API serves, read from its OpenAPI document."""
    schema = ninja_api.get_openapi_schema()
    found = []
    for path, methods in schema["paths"].items():
        for method in methods:
            # A fixed id: test ids must be the same in every xdist worker.
            found.append((method, path.replace("{id}", str(uuid.UUID(int=1)))))
    return found


def test_the_api_has_the_contracts_operations():
    paths = {path for _, path in operations()}
    assert {"/api/ActivityEvents", "/api/badges", "/api/rules", "/api/recipients"} <= paths
    assert any(p.endswith("/completions") for p in paths)
    assert sum(p.startswith("/api/badges/") and p.endswith("/recipients") for p in paths) == 1


@pytest.mark.parametrize(("method", "path"), operations())
def test_every_operation_requires_the_key(client, method, path):
    response = getattr(client, method)(path, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"Error": UNAUTHORIZED}
    assert response["WWW-Authenticate"].startswith("Bearer")


def _call(client: Client, developer_key: str | None, authorization: str | None):
    headers = {}
    if developer_key is not None:
        headers["HTTP_X_API_KEY"] = developer_key
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    return client.get("/api/badges", **headers)


def test_every_credential_failure_gets_the_same_401(client, key_a, space_b):
    other = apikey_create(space=space_b, name="B")
    revoked = apikey_create(space=key_a.key.space, name="Old")
    apikey_revoke(key=revoked.key)
    good_dk, good_token = key_a.key.developer_key, key_a.token
    attempts = {
        "nothing": (None, None),
        "no token": (good_dk, None),
        "no developer key": (None, f"Bearer {good_token}"),
        "unknown developer key": ("bpk_" + "0" * 24, f"Bearer {good_token}"),
        "wrong token": (good_dk, "Bearer bpt_wrong"),
        "token of another space's key": (good_dk, f"Bearer {other.token}"),
        "another space's key with this token": (other.key.developer_key, f"Bearer {good_token}"),
        "revoked": (revoked.key.developer_key, f"Bearer {revoked.token}"),
        "basic instead of bearer": (good_dk, f"Basic {good_token}"),
        "garbage developer key": ("x\x01" * 300, f"Bearer {good_token}"),
    }
    bodies = set()
    for name, (dk, auth) in attempts.items():
        response = _call(client, dk, auth)
        assert response.status_code == 401, name
        bodies.add(response.content)
    assert len(bodies) == 1
    assert _call(client, good_dk, f"Bearer {good_token}").status_code == 200


def test_revoking_a_key_refuses_its_next_call(api, key_a):
    assert api.get("/api/badges").status_code == 200
    apikey_revoke(key=key_a.key)
    assert api.get("/api/badges").status_code == 401


def test_the_token_is_stored_only_as_its_hash(key_a):
    stored = ApiKey.objects.get(pk=key_a.key.pk)
    assert key_a.token not in {stored.token_hash, stored.developer_key, stored.name}
    assert len(stored.token_hash) == 64
    # ≥ 128 bits of randomness: 32 bytes, url-safe base64 after the prefix.
    assert len(key_a.token) >= 4 + 43


def test_last_use_is_recorded_at_most_once_a_minute(api, key_a, django_assert_num_queries):
    assert api.get("/api/badges").status_code == 200
    first = ApiKey.objects.get(pk=key_a.key.pk).last_used_at
    assert first is not None
    api.get("/api/badges")
    assert ApiKey.objects.get(pk=key_a.key.pk).last_used_at == first
    key = ApiKey.objects.get(pk=key_a.key.pk)
    with django_assert_num_queries(0):
        apikey_touch(key)  # used a moment ago: nothing written
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/api/badges")
    assert ApiKey.objects.get(pk=key_a.key.pk).last_used_at > first


# ---- Organisation scope ---------------------------------------------------------------------


@pytest.fixture
def departments(space_a):
    science = OrganisationFactory(space=space_a, name="Science")
    physics = OrganisationFactory(space=space_a, parent=science, name="Physics")
    arts = OrganisationFactory(space=space_a, name="Arts")
    return science, physics, arts


@pytest.fixture
def science_api(space_a, departments) -> ApiClient:
    made = apikey_create(space=space_a, name="Science LMS", organisation=departments[0])
    return ApiClient(Client(), made.key.developer_key, made.token)


def test_a_limited_key_issues_in_its_subtree(science_api, space_a, departments, member_a):
    badge = make_badge(space_a, organisation=departments[1])  # Physics, beneath Science
    response = science_api.events(
        {"ActivityId": str(badge.public_id), "ActivityTime": WHEN, "UserId": member_a.email}
    )
    assert response.status_code == 200
    assert response.json()["Results"][0]["Status"] == "awarded"


def test_a_limited_key_gets_403_outside_its_organisation_and_nothing_is_stored(
    science_api, space_a, departments, member_a
):
    inside = make_badge(space_a, organisation=departments[1])
    outside = make_badge(space_a, organisation=departments[2], name="Drawing")
    body = [
        {"ActivityId": str(inside.public_id), "ActivityTime": WHEN, "UserId": member_a.email},
        {"ActivityId": str(outside.public_id), "ActivityTime": WHEN, "UserId": member_a.email},
    ]
    response = science_api.events(body)
    assert response.status_code == 403
    assert "Event 1" in response.json()["Error"] and "Science" in response.json()["Error"]
    assert not Award.objects.exists()
    # A rule of another organisation: the same.
    rule = make_rule(space_a, organisation=departments[2], activity_id="drawing-class")
    response = science_api.events(
        {"ActivityId": rule.activity_id, "ActivityTime": WHEN, "UserId": member_a.email}
    )
    assert response.status_code == 403


def test_a_limited_key_reads_only_its_subtree_and_gets_403_beyond(
    science_api, space_a, departments
):
    science, physics, arts = departments
    in_scope = make_badge(space_a, organisation=physics, name="Optics")
    out_of_scope = make_badge(space_a, organisation=arts, name="Drawing")
    rule = make_rule(space_a, organisation=arts, badge=out_of_scope)
    names = [b["Name"] for b in science_api.get("/api/badges").json()["Results"]]
    assert names == ["Optics"]
    assert science_api.get("/api/rules").json()["Count"] == 0
    assert science_api.get(f"/api/badges/{in_scope.public_id}/recipients").status_code == 200
    for path in (
        f"/api/badges/{out_of_scope.public_id}/recipients",
        f"/api/rules/{rule.public_id}/completions",
    ):
        response = science_api.get(path)
        assert response.status_code == 403, path
        assert "Science" in response.json()["Error"]
    response = science_api.get("/api/badges", {"organisation": str(arts.public_id)})
    assert response.status_code == 403


def test_another_spaces_objects_are_404_not_403(api, space_b):
    badge_b = make_badge(space_b)
    rule_b = make_rule(space_b, badge=badge_b)
    assert api.get(f"/api/badges/{badge_b.public_id}/recipients").status_code == 404
    assert api.get(f"/api/rules/{rule_b.public_id}/completions").status_code == 404
    org_b = space_b.root_organisation
    assert api.get("/api/badges", {"organisation": str(org_b.public_id)}).status_code == 404


# ---- Rate limits ----------------------------------------------------------------------------


def test_too_many_calls_get_429_with_retry_after(api, settings, space_a):
    settings.API_RATE_LIMIT = 3
    settings.API_RATE_WINDOW = 60
    codes = [api.get("/api/badges").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/badges")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "at most 3 per 60 seconds" in response.json()["Error"]
    # Per key: another key of the same space is not affected.
    other = apikey_create(space=space_a, name="Other")
    assert (
        ApiClient(Client(), other.key.developer_key, other.token).get("/api/badges").status_code
        == 200
    )


def test_a_cache_outage_does_not_refuse_calls(api, badge, member_a):
    """Redis (the cache) down: the rate limit cannot count, the API still serves."""
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        }
    }
    with override_settings(CACHES=down):  # restored before the fixtures clear the cache
        response = api.events(
            {"ActivityId": str(badge.public_id), "ActivityTime": WHEN, "UserId": member_a.email}
        )
    assert response.status_code == 200
    assert response.json()["Results"][0]["Status"] == "awarded"


def test_documentation_is_public(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert document["openapi"].startswith("3.")
    events = document["paths"]["/api/ActivityEvents"]["post"]
    assert events["security"] == [{"DeveloperKey": [], "AuthToken": []}]
    assert {"DeveloperKey", "AuthToken"} <= set(document["components"]["securitySchemes"])
    assert "oneOf" in events["requestBody"]["content"]["application/json"]["schema"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_the_time_of_revocation_is_kept(key_a):
    apikey_revoke(key=key_a.key)
    first = key_a.key.revoked_at
    apikey_revoke(key=key_a.key)
    assert ApiKey.objects.get(pk=key_a.key.pk).revoked_at == first <= timezone.now()
