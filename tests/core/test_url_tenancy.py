"""Walk every URL pattern: each view declares its access, and another space gets 404 everywhere.

New URLs fall under this test automatically. A tenant URL whose kwargs name an object needs an
entry in OBJECT_KWARGS that builds such an object in space A; the test fails until it has one.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import (
    GroupFactory,
    OrganisationFactory,
    RoleFactory,
    add_member,
    make_api_key,
    make_application,
    make_award,
    make_badge,
    make_claim_link,
    make_graphic,
    make_idp,
    make_issuer,
    make_rule,
    make_webhook,
    make_webhook_message,
    member_of,
)

pytestmark = pytest.mark.django_db


@dataclass
class Route:
    name: str  # namespaced URL name ("" when unnamed)
    namespace: str
    kwargs: tuple[str, ...]
    callback: Callable


def walk(patterns, namespace: str = "", kwargs: tuple[str, ...] = ()) -> list[Route]:
    routes = []
    for p in patterns:
        here = tuple(p.pattern.converters) if hasattr(p.pattern, "converters") else ()
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            routes += walk(p.url_patterns, ns, kwargs + here)
        elif isinstance(p, URLPattern):
            routes.append(
                Route(
                    f"{namespace}{p.name}" if p.name else "", namespace, kwargs + here, p.callback
                )
            )
    return routes


# Namespaces whose views are declared elsewhere, with the reason.
DECLARED_ELSEWHERE = {
    "admin:": "Django admin: staff-only by admin.site's own login and permission checks.",
    "api:": "The public API: every operation requires an API key (KeyAuth on the NinjaAPI "
    "object; tests/api/test_auth.py calls each one without credentials and gets 401), and the "
    "OpenAPI document and docs page are public documentation.",
}


def all_routes() -> list[Route]:
    return walk(get_resolver().url_patterns)


def declaration(route: Route):
    return getattr(route.callback, "access_declaration", None)


def test_every_url_is_named_and_declares_its_access():
    missing = []
    for route in all_routes():
        if any(route.namespace.startswith(ns) for ns in DECLARED_ELSEWHERE):
            continue
        if not route.name:
            missing.append(f"unnamed pattern → {route.callback!r}")
        elif declaration(route) is None:
            missing.append(route.name)
        elif declaration(route)[0] == "public":
            assert declaration(route)[1].strip(), f"{route.name} is public without a reason"
    assert not missing, f"views without an access declaration: {missing}"


# Tenant URLs declared public, with the reason. They are still walked below: with nothing
# published they must answer exactly like a space view (404 for another space, sign-in for
# anonymous visitors); tests/branding covers what they show when something is published.
PUBLIC_TENANT_ROUTES = {
    "space_root": "The space's front door: its landing page is public when the space has "
    "published one (white-label plan); without one it is the members-only redirect it was.",
    "sso:sign_in": "The space's sign-in page: its identity providers' buttons; a space without "
    "any (or none at all) sends you to the ordinary sign-in.",
}


def test_tenant_urls_are_exactly_the_space_views():
    for route in all_routes():
        decl = declaration(route)
        if decl is None:
            continue
        if route.name in PUBLIC_TENANT_ROUTES:
            assert decl[0] == "public" and "space_slug" in route.kwargs, route.name
            continue
        assert (decl[0] == "space") == ("space_slug" in route.kwargs), route.name


# kwarg name → builds an object in space A and returns the URL value for it.
OBJECT_KWARGS: dict[str, Callable] = {
    "org_id": lambda space: OrganisationFactory(space=space).pk,
    "group_id": lambda space: GroupFactory(space=space).pk,
    "badge_id": lambda space: make_badge(space).pk,
    "batch_id": lambda space: make_award(space).batch_id,
    "award_id": lambda space: make_award(space).pk,
    "person_id": lambda space: add_member(space).public_id,
    "member_id": lambda space: member_of(space, add_member(space)).pk,
    "role_id": lambda space: RoleFactory(space=space).pk,
    "issuer_id": lambda space: make_issuer(space).pk,
    "graphic_id": lambda space: make_graphic(space).pk,
    "key_id": lambda space: make_api_key(space).pk,
    "rule_id": lambda space: make_rule(space).pk,
    "idp_id": lambda space: make_idp(space).pk,
    "endpoint_id": lambda space: make_webhook(space).pk,
    "message_id": lambda space: make_webhook_message(space).pk,
    "link_id": lambda space: make_claim_link(space).pk,
    "application_id": lambda space: make_application(space).pk,
}


def tenant_routes() -> list[Route]:
    return [
        r
        for r in all_routes()
        if (declaration(r) or ("",))[0] == "space" or r.name in PUBLIC_TENANT_ROUTES
    ]


def test_there_are_tenant_urls_to_walk():
    assert len(tenant_routes()) >= 3


def build_kwargs(route: Route, space_slug: str, object_space) -> dict:
    kwargs = {"space_slug": space_slug}
    for name in route.kwargs:
        if name == "space_slug":
            continue
        assert name in OBJECT_KWARGS, (
            f"{route.name}: add a builder for URL kwarg {name!r} to OBJECT_KWARGS"
        )
        kwargs[name] = OBJECT_KWARGS[name](object_space)
    return kwargs


@pytest.mark.parametrize("method", ["get", "post"])
def test_member_of_another_space_gets_404_on_every_tenant_url(
    client, space_a, admin_b, space_b, method
):
    client.force_login(admin_b)
    for route in tenant_routes():
        url = reverse(route.name, kwargs=build_kwargs(route, space_a.slug, space_a))
        response = getattr(client, method)(url)
        # A POST-only view may answer a GET with 405 before looking anything up; it
        # reveals nothing. Every other answer must be a 404.
        allowed = {404} | ({405} if method == "get" else set())
        assert response.status_code in allowed, f"{method.upper()} {url} → {response.status_code}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_objects_of_another_space_are_404_through_ones_own_space(
    client, space_a, admin_b, space_b, method
):
    """Admin of B, on B's own URLs, asking for A's objects by id: still 404."""
    client.force_login(admin_b)
    for route in tenant_routes():
        if set(route.kwargs) <= {"space_slug"}:
            continue
        url = reverse(route.name, kwargs=build_kwargs(route, space_b.slug, space_a))
        response = getattr(client, method)(url)
        # Here the space check passes (B is B's), so a view answers a method it does not take
        # with 405 before looking anything up: that reveals nothing. Its own method is held to
        # 404 by the other parametrisation.
        allowed = {404, 405}
        assert response.status_code in allowed, f"{method.upper()} {url} → {response.status_code}"
    # And every object URL answers 404 to at least one method (its own).
    if method == "post":
        for route in tenant_routes():
            if set(route.kwargs) <= {"space_slug"}:
                continue
            url = reverse(route.name, kwargs=build_kwargs(route, space_b.slug, space_a))
            codes = {client.get(url).status_code, client.post(url).status_code}
            assert 404 in codes, f"{url} → {codes}"


def test_anonymous_visitors_are_sent_to_sign_in(client, space_a):
    for route in tenant_routes():
        kwargs = build_kwargs(route, space_a.slug, space_a)
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code in {302, 405}, route.name
        if response.status_code == 302:
            assert response.url.startswith(reverse("accounts:login")), route.name
