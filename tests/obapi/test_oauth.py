"""Discovery, registration and the authorization code flow (with PKCE S256 only)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from obapi.models import ClientRegistration
from tests.obapi import wallet
from tests.obapi.openapi import schema_errors, spec

pytestmark = pytest.mark.django_db


# ---- Discovery --------------------------------------------------------------------------------


def test_discovery_is_the_specs_openapi_document_with_our_urls(client, settings):
    response = client.get("/ims/ob/v3p0/discovery")
    assert response.status_code == 200
    document = response.json()
    assert schema_errors("ServiceDescriptionDocument", document) == []
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    assert schema_errors("OpenApiOAuth2SecurityScheme", scheme) == []
    assert schema_errors("OpenApiInfo", document["info"]) == []
    site = settings.SITE_URL
    assert document["servers"] == [{"url": f"{site}/ims/ob/v3p0", "description": "Badge Platform"}]
    assert scheme["x-imssf-registrationUrl"] == f"{site}/oauth/register"
    assert scheme["x-imssf-revocationUrl"] == f"{site}/oauth/revoke"
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"{site}/oauth/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == f"{site}/oauth/token"
    # The spec's four scopes, exactly.
    assert set(flow["scopes"]) == set(
        spec()["components"]["securitySchemes"]["OAuth2ACG"]["flows"]["authorizationCode"]["scopes"]
    )
    # The rest is the specification's own document: its paths and schemas untouched.
    assert document["paths"] == spec()["paths"]
    assert document["components"]["schemas"] == spec()["components"]["schemas"]


def test_rfc8414_metadata_advertises_every_endpoint_and_s256_only(client, settings):
    body = client.get("/.well-known/oauth-authorization-server").json()
    site = settings.SITE_URL
    assert body["issuer"] == site
    assert body["registration_endpoint"] == f"{site}/oauth/register"
    assert body["revocation_endpoint"] == f"{site}/oauth/revoke"
    assert body["token_endpoint"] == f"{site}/oauth/token"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert wallet.READ in body["scopes_supported"]


# ---- Registration (RFC 7591) ----------------------------------------------------------------


def test_registration_returns_what_was_registered_and_a_secret_stored_hashed(client):
    request = wallet.registration_request()
    response = client.post("/oauth/register", request, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    for field in ("client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri"):
        assert body[field] == request[field]
    assert body["redirect_uris"] == [wallet.REDIRECT]
    assert body["scope"] == wallet.ALL
    assert body["client_secret_expires_at"] == 0 and body["client_id_issued_at"] > 0
    app = Application.objects.get(client_id=body["client_id"])
    assert app.client_secret != body["client_secret"]  # hashed at rest
    registration = ClientRegistration.objects.get(application=app)
    assert registration.software_version == "v4.0.30319"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"client_name": None}, "invalid_client_metadata", "client_name is required"),
        ({"logo_uri": "javascript:alert(1)"}, "invalid_client_metadata", "logo_uri must be"),
        ({"redirect_uris": []}, "invalid_redirect_uri", "redirect_uris is required"),
        ({"redirect_uris": ["ftp://x.example/cb"]}, "invalid_redirect_uri", "absolute"),
        ({"redirect_uris": ["https://w.example/cb#frag"]}, "invalid_redirect_uri", "fragment"),
        ({"scope": "admin"}, "invalid_client_metadata", "Unknown scope 'admin'"),
        ({"grant_types": ["implicit"]}, "invalid_client_metadata", "grant_types may hold"),
        (
            {"token_endpoint_auth_method": "none"},
            "invalid_client_metadata",
            "client_secret_basic",
        ),
    ],
)
def test_registration_refuses_bad_metadata_and_stores_nothing(client, changes, error, words):
    response = client.post(
        "/oauth/register", wallet.registration_request(**changes), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert words in response.json()["error_description"]
    assert not Application.objects.exists()


def test_registration_refuses_non_json(client):
    response = client.post("/oauth/register", "nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


# ---- Authorization code + PKCE ----------------------------------------------------------------


@pytest.fixture
def recipient(member_a):
    return member_a


@pytest.fixture
def signed_in(recipient):
    client = Client()
    client.force_login(recipient)
    return client


def test_consent_page_names_the_client_its_logo_and_each_scope(signed_in):
    reg = wallet.register(Client())
    _verifier, challenge = wallet.pkce_pair()
    page = signed_in.get(wallet.authorize_query(reg, challenge))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Connect Example Wallet?" in html
    assert 'src="https://wallet.example/logo.png"' in html
    assert "See every Open Badges 3.0 badge in your backpack" in html
    assert "Add badges from elsewhere to your backpack" in html
    assert "Change the name on your profile" in html
    # The logo's and the redirect's origins are allowed on this page only.
    policy = page["Content-Security-Policy"]
    assert "img-src 'self' data: https://wallet.example" in policy
    assert "form-action 'self' https://wallet.example" in policy


def test_the_whole_flow_gives_tokens_scoped_to_the_recipient(signed_in, recipient):
    reg = wallet.register(Client())
    tokens = wallet.connect(signed_in, reg)
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    assert set(tokens["scope"].split()) == set(wallet.ALL.split())
    stored = AccessToken.objects.get()
    assert stored.user == recipient
    assert stored.token == ""  # only its SHA-256 is kept (RFC 9700)


def test_cancel_sends_access_denied_and_no_code(signed_in):
    reg = wallet.register(Client())
    _verifier, challenge = wallet.pkce_pair()
    page = signed_in.get(wallet.authorize_query(reg, challenge))
    form = page.context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    answer = signed_in.post("/oauth/authorize", data)  # no "allow"
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["error"] == ["access_denied"] and "code" not in query


def test_anonymous_visitors_sign_in_first(client):
    reg = wallet.register(Client())
    _verifier, challenge = wallet.pkce_pair()
    answer = client.get(wallet.authorize_query(reg, challenge))
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


@pytest.mark.parametrize("method", [None, "plain"])
def test_pkce_without_s256_is_refused_on_our_page(signed_in, method):
    reg = wallet.register(Client())
    verifier, challenge = wallet.pkce_pair()
    query = wallet.authorize_query(reg, verifier, code_challenge_method=method)
    page = signed_in.get(query)
    assert page.status_code == 400
    assert "PKCE with code_challenge_method=S256" in page.content.decode()
    # A forged consent form saying "plain" is refused too, and no code is made.
    answer = signed_in.post(
        "/oauth/authorize",
        {
            "client_id": reg.client_id,
            "redirect_uri": wallet.REDIRECT,
            "response_type": "code",
            "scope": wallet.READ,
            "code_challenge": verifier,
            "code_challenge_method": method or "",
            "allow": "on",
        },
    )
    assert answer.status_code == 400


def test_no_pkce_at_all_is_refused(signed_in):
    reg = wallet.register(Client())
    page = signed_in.get(wallet.authorize_query(reg, None, code_challenge_method=None))
    assert page.status_code == 400


def test_a_redirect_uri_not_registered_is_refused_without_redirecting(signed_in):
    reg = wallet.register(Client())
    _verifier, challenge = wallet.pkce_pair()
    query = wallet.authorize_query(reg, challenge, redirect_uri="https://evil.example/cb")
    page = signed_in.get(query)
    assert page.status_code == 400
    assert "Location" not in page
    assert "This app cannot connect" in page.content.decode()


def test_a_scope_the_client_did_not_register_is_refused(signed_in):
    reg = wallet.register(Client(), scope=wallet.READ)
    _verifier, challenge = wallet.pkce_pair()
    answer = signed_in.get(wallet.authorize_query(reg, challenge, scope=wallet.UPSERT))
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["error"] == ["invalid_scope"]


def test_a_code_is_used_once_and_needs_the_right_verifier(signed_in):
    reg = wallet.register(Client())
    verifier, challenge = wallet.pkce_pair()
    code = wallet.consent(signed_in, reg, challenge)
    wrong = wallet.exchange(Client(), reg, code, "x" * 43)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt does not burn a good one? The code is single-use either way:
    code = wallet.consent(signed_in, reg, challenge)
    assert wallet.exchange(Client(), reg, code, verifier).status_code == 200
    again = wallet.exchange(Client(), reg, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_the_token_endpoint_needs_the_client_secret(signed_in):
    reg = wallet.register(Client())
    verifier, challenge = wallet.pkce_pair()
    code = wallet.consent(signed_in, reg, challenge)
    forged = wallet.Registered(reg.client_id, "not-the-secret")
    answer = wallet.exchange(Client(), forged, code, verifier)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_registration_is_rate_limited_per_address(client):
    for _ in range(20):
        assert wallet.register(client).client_id
    answer = client.post(
        "/oauth/register", wallet.registration_request(), content_type="application/json"
    )
    assert answer.status_code == 429 and int(answer["Retry-After"]) > 0
    assert Application.objects.count() == 20
