"""The public JSON reads' query counts, pinned: a cached document costs no query, an uncached
assertion one (the award, read once for its state and its document), the current BadgeClass
one and then none for STATE_TTL seconds (a saved badge forgets it at once), a cached issuer
profile version none (no version lookup before the cache)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from badges import links
from badges.openbadges import publish
from tests.factories import make_award

pytestmark = pytest.mark.django_db

JSON = "application/ld+json"


def get(client, url: str):
    response = client.get(urlsplit(url).path, HTTP_ACCEPT=JSON)
    assert response.status_code == 200, response.content[:300]
    return response


def forget_documents() -> None:
    """Empty the shared cache and the in-process copies of documents (not what this process
    knows to exist: the BadgeClass version rows)."""
    cache.clear()
    with publish._local_lock:
        publish._local.clear()


def test_an_assertion_costs_one_query_uncached_and_none_cached(
    client, space_a, django_assert_num_queries
):
    award = make_award(space_a)
    url = links.assertion_url(award)
    first = get(client, url).content  # the process learns that its BadgeClass version exists
    forget_documents()
    with django_assert_num_queries(1):
        assert get(client, url).content == first
    with django_assert_num_queries(0):
        assert get(client, url).content == first


def test_an_uncached_assertion_of_a_new_version_makes_the_version_once(
    client, space_a, django_assert_max_num_queries
):
    award = make_award(space_a)
    publish.clear_local_cache()
    cache.clear()
    # the award, its badge's and issuer version's public ids (once per process), then the
    # version: SELECT, and SAVEPOINT, INSERT, RELEASE to make it
    with django_assert_max_num_queries(6):
        document = json.loads(get(client, links.assertion_url(award)).content)
    # The version it links resolves.
    assert get(client, document["badge"]).status_code == 200


def test_a_revoked_assertion_is_still_one_query_cold(client, space_a, django_assert_num_queries):
    from tests.factories import revoke_award

    award = make_award(space_a)
    revoke_award(award)
    forget_documents()
    with django_assert_num_queries(1):
        response = client.get(urlsplit(links.assertion_url(award)).path, HTTP_ACCEPT=JSON)
    assert response.status_code == 410 and response.json()["revoked"] is True


def test_the_current_badgeclass_is_cached_and_forgotten_when_the_badge_is_saved(
    client, space_a, django_assert_num_queries, django_capture_on_commit_callbacks
):
    award = make_award(space_a)
    badge = award.badge
    url = links.badgeclass_url(badge)
    forget_documents()
    with django_assert_num_queries(2):  # cold: the badge, its attributes (the document)
        get(client, url)
    # Its STATE_TTL over, the badge is read again (1 query); the document itself is cached.
    cache.delete(publish._current_key(badge.public_id))
    with django_assert_num_queries(1):
        get(client, url)
    with django_assert_num_queries(0):
        assert json.loads(get(client, url).content)["name"] == badge.name
    with django_capture_on_commit_callbacks(execute=True):
        badge.name = "Renamed at once"
        badge.save()
    assert json.loads(get(client, url).content)["name"] == "Renamed at once"


def test_a_saved_issuer_forgets_its_badges_current_badgeclass(
    client, space_a, django_capture_on_commit_callbacks
):
    from badgeplatform.access import Access
    from issuers.services import issuer_update

    award = make_award(space_a)
    url = links.badgeclass_url(award.badge)
    before = json.loads(get(client, url).content)["issuer"]
    issuer = award.badge.issuer
    with django_capture_on_commit_callbacks(execute=True):
        issuer_update(
            access=Access.system(space_a),
            issuer=issuer,
            actor=None,
            name="Renamed Academy",
            website=issuer.current.website,
            email=issuer.current.email,
        )
    assert json.loads(get(client, url).content)["issuer"] != before


def test_a_cached_issuer_profile_version_costs_no_query(client, space_a, django_assert_num_queries):
    award = make_award(space_a)
    url = links.issuer_url(award.issuer_version)
    first = get(client, url).content
    with django_assert_num_queries(0):
        assert get(client, url).content == first


def test_a_cached_credential_and_baked_image_cost_no_query(
    client, space_a, django_assert_num_queries
):
    award = make_award(space_a)
    credential, image = links.credential_url(award), links.baked_image_url(award)
    get(client, credential), get(client, image)
    with django_assert_num_queries(0):
        get(client, credential)
        get(client, image)


def test_an_assertion_whose_state_alone_is_cached_is_one_query(
    client, space_a, django_assert_num_queries
):
    """The page and the images cache the award's state without its document: the JSON then
    reads the award once and stores both under the state's key."""
    award = make_award(space_a)
    url = links.assertion_url(award)
    first = get(client, url).content
    forget_documents()
    assert publish.assertion_state(award.public_id) == publish.LIVE
    with django_assert_num_queries(1):
        assert get(client, url).content == first
    with django_assert_num_queries(0):
        assert publish.assertion_state(award.public_id) == publish.LIVE
        assert get(client, url).content == first
