"""The role × action matrix, declared once: who may open every URL of the app and call every
API operation.

How to read it:
- ACTORS: each default role (Space Administrator on the root; Organisation Administrator,
  Badge Creator, Badge Issuer, Reporter and User on the sub-organisation "Branch"; Group
  Administrator on a group inside Branch), two custom roles, a plain recipient (User on the
  sibling organisation "Elsewhere", holding an award) and an anonymous visitor. The API is
  called with no key, a key scoped to Branch, a space-wide key and a key of another space.
- TABLE: per URL name one Rule: ``public`` (anyone), ``user`` (anyone signed in), ``owner`` (the
  recipient of the award addressed), ``space(*need, ...)`` (a tenant page needing any one of
  ``need``, checked on the addressed object's organisation) or ``api(...)``. The expected answer
  of each actor is DERIVED from the rule by ``expected()``, which knows each actor's
  permissions and reach; EXCEPTIONS lists the few (URL, actor, object) answers that differ.
- Outcomes: "ok" = the view was reached and served the actor: a 2xx, a 3xx that is not a
  redirect to sign-in, or a 4xx of the view's own (400/409/410/422 from validating an empty
  POST body); 403 = refused; 404 = missing or out of reach (both alike); "login" = a redirect
  to sign-in; 401 = the API's "no valid key". A 405 (a method the view does not take) is
  neutral; a 5xx is always wrong.
- Every object URL is called with an object INSIDE Branch and one OUTSIDE it (in Elsewhere),
  by GET and by POST with an empty body (each request rolled back afterwards).
- A page an actor reaches for something inside Branch (or for no object) must show nothing of
  Elsewhere (every name there carries a marker) unless the actor's roles cover Elsewhere; an API
  list answered to a key lists nothing outside its scope (nor of another space).
- API: no key → 401; a key of another space → 404 for an object, nothing listed; a Branch key
  → its own objects, 403 for an object outside its scope (shared/API.md), nothing outside
  listed; a space-wide key → everything.

The Django admin (``admin:``) is out of the matrix: admin.site checks staff status and model
permissions itself, and no space role reaches it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from badgeplatform.permissions import DEFAULT_ROLES, SPACE_WIDE, USER_ROLE, Perm

OK, LOGIN = "ok", "login"
INSIDE, OUTSIDE, NONE = "inside", "outside", "-"

# ---- Actors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    perms: frozenset[Perm]
    # Where the role is held: "space" (root), "branch", "group" (a group inside Branch),
    # "elsewhere" (the sibling organisation), or None for the anonymous visitor.
    reach: str | None


def _default(name: str) -> frozenset[Perm]:
    return DEFAULT_ROLES[name][1]


ACTORS: tuple[Actor, ...] = (
    Actor("Space Administrator", _default("Space Administrator"), "space"),
    Actor("Organisation Administrator", _default("Organisation Administrator"), "branch"),
    Actor("Badge Creator", _default("Badge Creator"), "branch"),
    Actor("Badge Issuer", _default("Badge Issuer"), "branch"),
    Actor("Reporter", _default("Reporter"), "branch"),
    Actor("Group Administrator", _default("Group Administrator"), "group"),
    Actor("User", _default(USER_ROLE), "branch"),
    # Two custom roles.
    Actor("Roles manager", frozenset({Perm.MANAGE_ROLES}), "space"),
    Actor("Branch issuer+reports", frozenset({Perm.ISSUE_BADGES, Perm.VIEW_REPORTS}), "branch"),
    # A plain recipient: only the User role (in Elsewhere), and an award of their own.
    Actor("Recipient", frozenset(), "elsewhere"),
    Actor("Anonymous", frozenset(), None),
)
ACTOR_NAMES = tuple(a.name for a in ACTORS)
API_ACTORS = ("no key", "branch key", "space key", "other space key")


def holds(actor: Actor, perm: Perm) -> bool:
    """Holds ``perm`` somewhere (a space-wide permission only counts on the root)."""
    return perm in actor.perms and (perm not in SPACE_WIDE or actor.reach == "space")


def covers(actor: Actor, perm: Perm, place: str | None) -> bool:
    """Holds ``perm`` where an object at ``place`` lives. ``place`` is "branch",
    "branch_group" (the group inside Branch), "elsewhere", or None for a space-level object
    (graphics, roles, API keys), which any holder of the permission reaches."""
    if not holds(actor, perm):
        return False
    if place is None or actor.reach == "space":
        return True
    if actor.reach == "branch":
        return place in ("branch", "branch_group")
    if actor.reach == "group":
        return place == "branch_group"
    return actor.reach == place


# ---- Rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    kind: str  # public | user | owner | bearer | space | api | api_public
    need: tuple[Perm, ...] = ()  # any one of these; () = any member
    # API: "list" (filters out what is outside the key's scope), "object" (addressed by id),
    # "award" (addressed by AwardId: 404 outside the key's scope),
    # "events" (POST /api/ActivityEvents, one event per call), "space_list" / "space_object"
    # (the space's own settings: a key limited to an organisation gets 403; the object is
    # addressed by DELETE)
    api: str = ""


def public() -> Rule:
    return Rule("public")


def protocol() -> Rule:
    """A single sign-on protocol endpoint: public; called outside a sign-in in progress it may
    answer with the protocol's own refusal (401, 400) or send the person to sign in."""
    return Rule("protocol")


def user() -> Rule:
    return Rule("user")


def owner() -> Rule:
    return Rule("owner")


def bearer() -> Rule:
    """A resource of the Open Badges 3.0 API: only an OAuth bearer token opens it."""
    return Rule("bearer")


def space(*need: Perm) -> Rule:
    return Rule("space", tuple(need))


def api(kind: str) -> Rule:
    return Rule("api", api=kind)


SEE_BADGES = (Perm.CREATE_BADGES, Perm.PUBLISH_BADGES, Perm.ISSUE_BADGES)
SEE_AWARDS = (Perm.ISSUE_BADGES, Perm.REVOKE_AWARDS)
P = Perm

TABLE: dict[str, Rule] = {
    # The site's own pages and accounts.
    "home": public(),
    "healthz": public(),
    "accounts:register": public(),
    "accounts:register_done": public(),
    "accounts:login": public(),
    "accounts:logout": public(),
    "accounts:verify": public(),
    "accounts:resend_verification": public(),
    "accounts:password_reset": public(),
    "accounts:password_reset_confirm": public(),
    "accounts:change_password": user(),
    "accounts:settings": user(),
    # allauth's names for the site's own sign-in pages (users/mfa_urls.py).
    "users:security": space(P.MANAGE_SETTINGS),
    "account_login": public(),
    "account_logout": public(),
    "account_reset_password": public(),
    # Second factors (allauth.mfa behind users/mfa_views.py). The sign-in step is public: it
    # serves only the session holding a pending login, and sends everyone else to sign in.
    "mfa_authenticate": public(),
    "account_reauthenticate": user(),
    "mfa_reauthenticate": user(),
    "mfa_reauthenticate_webauthn": user(),
    "mfa_index": user(),
    "mfa_activate_totp": user(),
    "mfa_deactivate_totp": user(),
    "mfa_view_recovery_codes": user(),
    "mfa_generate_recovery_codes": user(),
    "mfa_download_recovery_codes": user(),
    "mfa_list_webauthn": user(),
    "mfa_add_webauthn": user(),
    "mfa_remove_passkey": user(),
    "backpack:index": user(),
    "backpack:award": owner(),
    "backpack:visibility": owner(),
    "backpack:accept": owner(),
    "backpack:decline": owner(),
    "backpack:applications": user(),
    "backpack:download_all": user(),
    "media": public(),
    "branding_assets:css": public(),
    "branding_assets:icon": public(),
    "public:assertion": public(),
    "public:assertion_image": public(),
    "public:certificate": public(),
    "public:assertion_card": public(),
    "public:badge_card": public(),
    "public:share": public(),
    "public:credential": public(),
    "public:credential_image": public(),
    "public:credential_svg": public(),
    "public:badge": public(),
    "public:badge_version": public(),
    "public:achievement": public(),
    "public:issuer": public(),
    "public:revocation_list": public(),
    "public:status_list": public(),
    "public:signing_key": public(),
    "public:key_controller": public(),
    "verify": public(),
    # Claim links and applications (issue 17): the visitor's pages are public.
    "claim:page": public(),
    "claim:confirm": public(),
    "apply:badge": public(),
    "apply:confirm": public(),
    "public:evidence_file": public(),
    # The Open Badges 3.0 API (docs/ob3-api.md): discovery, metadata, registration, token and
    # revocation are public (the last two authenticate the client itself); the consent page and
    # disconnecting are the signed-in person's; the resources need a bearer token of one
    # recipient, so a session (any actor here) gets 401.
    "obapi:discovery": public(),
    "oauth_metadata": public(),
    "oauth:register": public(),
    "oauth:token": public(),
    "oauth:revoke": public(),
    "oauth:authorize": user(),
    "oauth:disconnect": user(),
    "obapi:credentials": bearer(),
    "obapi:profile": bearer(),
    # "Add to wallet": the recipient's own award; the exchange is public (its URL is the
    # capability: the world makes a real one).
    "wallet:offer": owner(),
    "vcapi:exchange": public(),
    # Tenant pages: the space's front door and dashboard are for every member.
    "space_root": space(),
    "dashboard": space(),
    "audit_log": space(P.MANAGE_SETTINGS),
    "orgs:tree": space(P.MANAGE_ORGANISATIONS),
    "orgs:detail": space(P.MANAGE_ORGANISATIONS),
    "orgs:add_child": space(P.MANAGE_ORGANISATIONS),
    "orgs:edit": space(P.MANAGE_ORGANISATIONS),
    "orgs:move": space(P.MANAGE_ORGANISATIONS),
    "orgs:remove": space(P.MANAGE_ORGANISATIONS),
    "orgs:group_create": space(P.MANAGE_GROUPS),
    "orgs:groups": space(P.MANAGE_GROUPS),
    "users:group_members": space(P.MANAGE_GROUPS),
    "orgs:group_edit": space(P.MANAGE_GROUPS),
    "orgs:group_delete": space(P.MANAGE_GROUPS),
    "users:list": space(P.MANAGE_USERS),
    "users:create": space(P.MANAGE_USERS),
    "users:bulk": space(P.MANAGE_USERS),
    "users:detail": space(P.MANAGE_USERS),
    "users:edit": space(P.MANAGE_USERS),
    # Who hands roles out reads them; who manages roles keeps the custom ones.
    "users:roles": space(P.MANAGE_ROLES, P.MANAGE_USERS),
    "users:role_create": space(P.MANAGE_ROLES),
    "users:role_edit": space(P.MANAGE_ROLES),
    "users:role_delete": space(P.MANAGE_ROLES),
    "issuers:index": space(P.MANAGE_ISSUERS),
    "issuers:create": space(P.MANAGE_ISSUERS),
    "issuers:detail": space(P.MANAGE_ISSUERS),
    "issuers:edit": space(P.MANAGE_ISSUERS),
    "badges:issuer_key_rotate": space(P.MANAGE_ISSUERS),
    "badges:index": space(*SEE_BADGES),
    "badges:create": space(P.CREATE_BADGES),
    "badges:detail": space(*SEE_BADGES),
    "badges:edit": space(P.CREATE_BADGES),
    "badges:certificate_preview": space(*SEE_BADGES),
    "badges:publish": space(P.PUBLISH_BADGES),
    "badges:withdraw": space(P.PUBLISH_BADGES),
    "graphics:index": space(P.MANAGE_GRAPHICS),
    "graphics:create": space(P.MANAGE_GRAPHICS),
    "graphics:upload": space(P.MANAGE_GRAPHICS),
    "graphics:design": space(P.MANAGE_GRAPHICS),
    "graphics:archive": space(P.MANAGE_GRAPHICS),
    "branding:branding": space(P.MANAGE_BRANDING),
    "branding:emails": space(P.MANAGE_BRANDING),
    "branding:landing": space(P.MANAGE_BRANDING),
    "branding:plan": space(P.MANAGE_SETTINGS),
    "branding:email_edit": space(P.MANAGE_BRANDING),
    "branding:email_preview": space(P.MANAGE_BRANDING),
    "issuing:start": space(P.ISSUE_BADGES),
    "issuing:issue": space(P.ISSUE_BADGES),
    "issuing:badge_awards": space(*SEE_AWARDS),
    "issuing:example_csv": space(P.ISSUE_BADGES),
    "issuing:history": space(P.ISSUE_BADGES),
    "issuing:batch": space(P.ISSUE_BADGES),
    "issuing:awards": space(*SEE_AWARDS),
    "issuing:award": space(*SEE_AWARDS),
    "issuing:revoke": space(P.REVOKE_AWARDS),
    "issuing:suspend": space(P.REVOKE_AWARDS),
    "issuing:reinstate": space(P.REVOKE_AWARDS),
    "issuing:awards_bulk": space(P.REVOKE_AWARDS),
    # Renewal issues a new award: "issue badges" on the award's badge's organisation.
    "issuing:renew": space(P.ISSUE_BADGES),
    "issuing:awards_renew": space(P.ISSUE_BADGES),
    # A person's awards: only people one may see (hole 4: a person out of reach is a 404).
    "issuing:person_awards": space(*SEE_AWARDS),
    "reporting:index": space(P.VIEW_REPORTS),
    "reporting:export": space(P.VIEW_REPORTS),
    # ?badge= outside the reader's organisations: 404, its name never shown (hole 8).
    "reporting:recipients": space(P.VIEW_REPORTS),
    "reporting:recipients_csv": space(P.VIEW_REPORTS),
    "api_keys:index": space(P.MANAGE_API_KEYS),
    "api_keys:revoke": space(P.MANAGE_API_KEYS),
    "rules:index": space(P.ISSUE_BADGES),
    "rules:create": space(P.ISSUE_BADGES),
    "rules:detail": space(P.ISSUE_BADGES),
    "rules:edit": space(P.ISSUE_BADGES),
    "rules:set_active": space(P.ISSUE_BADGES),
    # System settings → Webhooks: endpoints belong to the whole space.
    "webhooks:index": space(P.MANAGE_SETTINGS),
    "webhooks:detail": space(P.MANAGE_SETTINGS),
    "webhooks:rotate": space(P.MANAGE_SETTINGS),
    "webhooks:delete": space(P.MANAGE_SETTINGS),
    "webhooks:enable": space(P.MANAGE_SETTINGS),
    "webhooks:test": space(P.MANAGE_SETTINGS),
    "webhooks:replay": space(P.MANAGE_SETTINGS),
    # System settings → Single sign-on (the space's identity providers and sign-in policy).
    "sso:index": space(P.MANAGE_SETTINGS),
    "sso:create_oidc": space(P.MANAGE_SETTINGS),
    "sso:create_saml": space(P.MANAGE_SETTINGS),
    "sso:edit": space(P.MANAGE_SETTINGS),
    "sso:delete": space(P.MANAGE_SETTINGS),
    "sso:sp_metadata": space(P.MANAGE_SETTINGS),
    # The space's sign-in page: with no provider configured it is the members' redirect.
    "sso:sign_in": space(),
    # allauth's protocol endpoints (one space's provider by its id in the path).
    "openid_connect_login": protocol(),
    "openid_connect_callback": protocol(),
    "saml_acs": protocol(),
    "saml_finish_acs": protocol(),
    "saml_sls": protocol(),
    "saml_metadata": protocol(),
    "saml_login": protocol(),
    "socialaccount_login_cancelled": protocol(),
    "socialaccount_login_error": protocol(),
    # Claim links: who may issue the badge; applications: who reviews them there.
    "claims:badge": space(P.ISSUE_BADGES),
    "claims:link": space(P.ISSUE_BADGES),
    "claims:poster": space(P.ISSUE_BADGES),
    "claims:qr": space(P.ISSUE_BADGES),
    "claims:close": space(P.ISSUE_BADGES),
    "applications:queue": space(P.REVIEW_APPLICATIONS),
    "applications:detail": space(P.REVIEW_APPLICATIONS),
    "applications:file": space(P.REVIEW_APPLICATIONS),
    # The public API (shared/API.md): a key of the space, limited to its organisation.
    "api:activity_events": api("events"),
    "api:badges": api("list"),
    "api:rules": api("list"),
    "api:rule_completions": api("object"),
    "api:recipients": api("list"),
    "api:badge_recipients": api("object"),
    # The Awards API: an award outside the key's scope is a 404 (shared/API.md → Awards).
    "api:award_get": api("award"),
    "api:award_revoke_op": api("award"),
    "api:award_suspend_op": api("award"),
    "api:award_reinstate_op": api("award"),
    # Webhooks (GET/POST /api/webhooks, DELETE /api/webhooks/{Id}): whole-space keys only.
    "api:webhooks": api("space_list"),
    "api:webhooks_create": api("space_list"),  # the same path (POST): walked by its GET
    "api:webhook": api("space_object"),
    "api:openapi-json": Rule("api_public"),
    "api:openapi-view": Rule("api_public"),
    # Django-ninja's mount point: no operation lives at /api/ itself (404 to everyone).
    "api:api-root": Rule("api_public", api="nothing"),
}

# (URL name, actor, object) → the answer where it differs from the rule's.
EXCEPTIONS: dict[tuple[str, str, str], object] = {
    # A group administrator reaches their own group, but editing or deleting it needs
    # "manage groups" on the organisation it is in.
    ("orgs:group_edit", "Group Administrator", INSIDE): 403,
    ("orgs:group_delete", "Group Administrator", INSIDE): 403,
    # Nobody edits or deletes a role carrying permissions they do not hold (hole 1): the
    # "outside" role holds "view reports", which the roles manager lacks.
    ("users:role_edit", "Roles manager", OUTSIDE): 403,
    ("users:role_delete", "Roles manager", OUTSIDE): 403,
    # A rule in Branch that awards a badge of Elsewhere (made before hole 2 was closed): a
    # key scoped to Branch neither reads its completions nor fires it.
    ("api:rule_completions", "branch key", "escape"): 403,
    ("api:activity_events", "branch key", "escape"): "rejected",
    # Such a rule awards nothing whoever sends its activity (it is checked when it fires).
    ("api:activity_events", "space key", "escape"): "rejected",
    # A space with identity providers shows anyone its sign-in page (their buttons).
    ("sso:sign_in", "Anonymous", NONE): OK,
}


def expected(
    url: str, actor: Actor, which: str, place: str | None, table: dict[str, Rule] = TABLE
) -> object:
    """The answer ``actor`` should get from ``url`` addressing the ``which`` object (at
    ``place``), derived from the table and the exceptions."""
    if (url, actor.name, which) in EXCEPTIONS:
        return EXCEPTIONS[(url, actor.name, which)]
    rule = table[url]
    if rule.kind in ("public", "protocol"):
        return OK  # (a public page sending someone to sign-in counts as ok: see check_route)
    if rule.kind == "bearer":
        return 401  # a session never opens the API: no actor here holds a bearer token
    if actor.reach is None:
        return LOGIN
    if rule.kind == "user":
        return OK
    if rule.kind == "owner":
        return OK if actor.name == "Recipient" and which == INSIDE else 404
    # space
    if rule.need and not any(holds(actor, p) for p in rule.need):
        return 403
    if which == NONE or not rule.need:
        return OK
    return OK if any(covers(actor, p, place) for p in rule.need) else 404


def expected_api(url: str, key: str, which: str) -> object:
    if (url, key, which) in EXCEPTIONS:
        return EXCEPTIONS[(url, key, which)]
    rule = TABLE[url]
    if rule.kind == "api_public":
        return 404 if rule.api == "nothing" else OK
    if key == "no key":
        return 401
    if rule.api in ("space_list", "space_object"):
        if key == "branch key":
            return 403
        if rule.api == "space_object":
            # "other": the other space's own endpoint, which only its own key may delete.
            mine = (key == "other space key") == (which == "other")
            return OK if mine else 404
        return OK
    if rule.api == "events":
        # One event per call: its Status (awarded/recorded) or "rejected" (unknown ActivityId).
        if key == "branch key" and which == OUTSIDE:
            return 403  # shared/API.md: a key used outside its organisation scope
        return OK if key in ("space key", "branch key") else "rejected"
    if rule.api == "list":
        return OK  # plus: nothing outside the key's scope listed (checked separately)
    if key == "other space key":
        return 404
    if key == "branch key" and which != INSIDE:
        # shared/API.md: a key used outside its organisation scope (for awards: 404)
        return 404 if rule.api == "award" else 403
    return OK


# ---- Routes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    namespace: str
    kwargs: tuple[str, ...]
    defaults: tuple[tuple[str, object], ...]
    callback: Callable


def walk(patterns, namespace: str = "", kwargs: tuple[str, ...] = ()) -> list[Route]:
    """Every URL pattern with its namespaced name, URL kwargs and default kwargs."""
    routes = []
    for p in patterns:
        here = tuple(p.pattern.converters) if hasattr(p.pattern, "converters") else ()
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            routes += walk(p.url_patterns, ns, kwargs + here)
        elif isinstance(p, URLPattern):
            name = f"{namespace}{p.name}" if p.name else ""
            defaults = tuple(sorted((p.default_args or {}).items()))
            routes.append(Route(name, namespace, kwargs + here, defaults, p.callback))
    return routes


OUT_OF_SCOPE_NAMESPACES = ("admin:",)


def app_routes() -> list[Route]:
    return [
        r
        for r in walk(get_resolver().url_patterns)
        if not r.namespace.startswith(OUT_OF_SCOPE_NAMESPACES)
    ]


def missing_entries(routes: Iterable[Route], table: dict[str, Rule] = TABLE) -> list[str]:
    """What a developer must add: routes with no name, or a name with no entry in the table."""
    missing = []
    for r in routes:
        if not r.name:
            missing.append(f"an unnamed URL pattern ({r.callback!r}): give it a name")
        elif r.name not in table:
            missing.append(
                f"{r.name!r}: add it to TABLE in tests/core/role_matrix.py "
                "(public(), user(), owner(), space(*perms) or api(...))"
            )
    return missing


# ---- Calling the URLs ------------------------------------------------------------------------


@dataclass
class World:
    space: object
    other_space: object
    users: dict[str, object]  # actor name → user
    # URL kwarg → {INSIDE: (value, place), OUTSIDE: (value, place)}; by namespace where the
    # same kwarg names different things (e.g. award_id: a pk in issuing, a public id in public:)
    objects: dict[str, dict[str, tuple[object, str | None]]]
    public_objects: dict[str, object]
    # ?badge= for the report pages that take it
    query_objects: dict[str, dict[str, tuple[str, str | None]]]
    api_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    api_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → which → id
    outside_marker: str = "ZZOUTSIDE"
    media_root: object = None  # where the world's uploaded images are


OWNER_KWARG_NAMESPACES = ("backpack:", "wallet:")
QUERY_OBJECT_URLS = {"reporting:recipients": "badge", "reporting:recipients_csv": "badge"}


def object_cases(route: Route, world: World) -> list[tuple[str, dict, str, str | None]]:
    """(which, kwargs, query string, place) for each way the route is called."""
    base = {"space_slug": world.space.slug} if "space_slug" in route.kwargs else {}
    base.update(dict(route.defaults))
    names = [k for k in route.kwargs if k != "space_slug"]
    tenant = "space_slug" in route.kwargs
    if route.name in QUERY_OBJECT_URLS:
        return [
            (which, base, f"?{QUERY_OBJECT_URLS[route.name]}={value}", place)
            for which, (value, place) in world.query_objects["badge"].items()
        ]
    if not names:
        return [(NONE, base, "", None)]
    if not tenant and not route.namespace.startswith(OWNER_KWARG_NAMESPACES):
        # Public documents: one real object each.
        kwargs = dict(base)
        for k in names:
            key = f"{route.name}.{k}" if f"{route.name}.{k}" in world.public_objects else k
            assert key in world.public_objects, (
                f"{route.name}: add a value for URL kwarg {k!r} to World.public_objects"
            )
            kwargs[k] = world.public_objects[key]
        return [(NONE, kwargs, "", None)]
    assert len(names) == 1, f"{route.name}: more than one object kwarg; extend object_cases"
    k = names[0]
    key = f"{route.namespace}{k}" if f"{route.namespace}{k}" in world.objects else k
    assert key in world.objects, (
        f"{route.name}: add inside/outside objects for URL kwarg {k!r} to the matrix world"
    )
    return [
        (which, {**base, k: value}, "", place)
        for which, (value, place) in world.objects[key].items()
    ]


def classify(response) -> object:
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        return LOGIN if reverse("accounts:login") in response.get("Location", "") else OK
    if code in (401, 403, 404, 405) or code >= 500:
        return code
    if code == 429:
        return "throttled"
    return OK  # 2xx, 304, and a view's own 400/409/410/413/422


def _call(client: Client, method: str, url: str, **extra):
    """One request whose writes are undone afterwards (each case sees the same world)."""
    with transaction.atomic():
        response = getattr(client, method)(url, **extra)
        transaction.set_rollback(True)
    return response


def check_route(route: Route, world: World, table: dict[str, Rule] = TABLE) -> list[str]:
    """Every actor × object × method of one URL against the table; the mismatches, all of them."""
    if route.name not in table:
        return missing_entries([route], table)
    rule = table[route.name]
    if rule.kind in ("api", "api_public"):
        return check_api_route(route, world)
    wrong = []
    cases = object_cases(route, world)
    for actor in ACTORS:
        client = Client()
        for which, kwargs, query, place in cases:
            url = reverse(route.name, kwargs=kwargs) + query
            want = expected(route.name, actor, which, place, table)
            seen = []
            for method in ("get", "post"):
                if actor.reach is not None:
                    client.force_login(world.users[actor.name])
                response = _call(client, method, url)
                got = classify(response)
                if got == OK and method == "get" and which != OUTSIDE:
                    wrong += _shown_outside(route.name, actor, url, response, world)
                if got == LOGIN and rule.kind == "public":
                    got = OK  # e.g. signing out, or a reset link asking to sign in first
                if rule.kind == "protocol" and got in (LOGIN, 400, 401):
                    got = OK  # no sign-in in progress: the protocol's own refusal
                if got == 405:
                    continue
                seen.append(got)
                if got != want:
                    wrong.append(
                        f"{route.name} [{actor.name}, {which}] {method.upper()} {url} → {got} "
                        f"(expected {want})"
                    )
            if not seen:
                wrong.append(f"{route.name} [{actor.name}, {which}] {url}: 405 to GET and POST")
    return wrong


# Who may see what lies in Elsewhere: the space administrator, and the recipient who is in it.
SEES_ELSEWHERE = ("Space Administrator", "Recipient")


def _shown_outside(url: str, actor: Actor, path: str, response, world: World) -> list[str]:
    """A page reached for something inside Branch (or for no object) shows nothing of
    Elsewhere to those whose roles do not cover it: the names of Elsewhere's organisation,
    group, people, badges and rules all carry ``world.outside_marker``."""
    if actor.name in SEES_ELSEWHERE or getattr(response, "streaming", False):
        return []
    if world.outside_marker.encode() in response.content:
        return [f"{url} [{actor.name}] GET {path} shows something of Elsewhere"]
    return []


def _api_headers(world: World, key: str) -> dict:
    if key == "no key":
        return {}
    developer_key, token = world.api_tokens[key]
    return {"HTTP_X_API_KEY": developer_key, "HTTP_AUTHORIZATION": f"Bearer {token}"}


def check_api_route(route: Route, world: World) -> list[str]:
    rule = TABLE[route.name]
    wrong = []
    client = Client()
    for key in API_ACTORS:
        headers = _api_headers(world, key)
        if rule.kind == "api_public":
            got = classify(_call(client, "get", reverse(route.name)))
            want = expected_api(route.name, key, NONE)
            if got != want:
                wrong.append(f"{route.name} [{key}] → {got} (expected {want})")
            continue
        if rule.api == "space_object":
            for which, value in world.api_ids["webhook"].items():
                url = reverse(route.name, kwargs={"Id": value})
                got = classify(_call(client, "delete", url, **headers))
                want = expected_api(route.name, key, which)
                if got != want:
                    wrong.append(
                        f"{route.name} [{key}, {which}] DELETE {url} → {got} (want {want})"
                    )
            continue
        if rule.api in ("list", "space_list"):
            response = _call(client, "get", reverse(route.name), **headers)
            got = classify(response)
            want = expected_api(route.name, key, NONE)
            if got != want:
                wrong.append(f"{route.name} [{key}] → {got} (expected {want})")
            elif got == OK:
                wrong += _leaks(route.name, key, response.content.decode(), world)
            continue
        kind = "rule" if "rule" in route.name else "badge"
        if rule.api == "events":
            for which, activity in world.api_ids["activity"].items():
                body = json.dumps(
                    {
                        "ActivityId": activity,
                        "ActivityTime": "2026-01-05T10:00:00+00:00",
                        "UserId": "matrix-person@example.test",
                        "Email": "matrix-person@example.test",
                        "FirstName": "Matrix",
                        "LastName": "Person",
                    }
                )
                response = _call(
                    client,
                    "post",
                    reverse(route.name),
                    data=body,
                    content_type="application/json",
                    **headers,
                )
                got = classify(response)
                if got == OK:
                    status = response.json()["Results"][0]["Status"]
                    got = "rejected" if status == "rejected" else OK
                want = expected_api(route.name, key, which)
                if got != want:
                    wrong.append(f"{route.name} [{key}, {which}] → {got} (expected {want})")
            continue
        if rule.api == "award":
            for which, value in world.api_ids["award"].items():
                url = reverse(route.name, kwargs={"AwardId": value})
                method = "get" if route.name == "api:award_get" else "post"
                extra = (
                    {"data": "{}", "content_type": "application/json"} if method == "post" else {}
                )
                got = classify(_call(client, method, url, **extra, **headers))
                want = expected_api(route.name, key, which)
                if got != want:
                    wrong.append(f"{route.name} [{key}, {which}] {url} → {got} (expected {want})")
            continue
        for which, value in world.api_ids[kind].items():
            url = reverse(route.name, kwargs={"id": value})
            got = classify(_call(client, "get", url, **headers))
            want = expected_api(route.name, key, which)
            if got != want:
                wrong.append(f"{route.name} [{key}, {which}] GET {url} → {got} (expected {want})")
    return wrong


def _leaks(url: str, key: str, body: str, world: World) -> list[str]:
    """A list answered to a key shows nothing outside its scope (nor another space's)."""
    wrong = []
    must_not = {
        "branch key": (OUTSIDE, "escape"),
        "other space key": (INSIDE, OUTSIDE, "escape"),
    }.get(key, ())
    for kind in ("badge", "rule", "webhook"):
        for which, value in world.api_ids.get(kind, {}).items():
            if which in must_not and value in body:
                wrong.append(f"{url} [{key}] lists the {which} {kind} ({value})")
    return wrong
