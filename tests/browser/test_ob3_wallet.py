"""The Open Badges 3.0 API end to end, the test playing a wallet over real HTTP (Playwright's
request context) and the recipient in Chromium: discovery, registration, authorization code +
PKCE through the consent page, credentials with paging, an upsert of a credential signed by a
did:key made here (201, then 304), a refresh, the recipient disconnecting it in Settings, and
the wallet refused. Every API response validates against 1EdTech's OpenAPI document."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from obapi.models import ImportedCredential
from tests.browser.test_api_keys_and_rules import sign_in
from tests.factories import UserFactory, add_member, make_award, png_bytes
from tests.obapi import wallet
from tests.obapi.foreign import ForeignIssuer
from tests.obapi.openapi import assert_valid_response, schema_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Answer:
    """A Playwright APIResponse, seen as the OpenAPI checks expect a response."""

    def __init__(self, response):
        self.status_code = response.status
        self.content = response.body()
        self._headers = {k.lower(): v for k, v in response.headers.items()}

    def json(self):
        return json.loads(self.content)

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]


def test_a_wallet_connects_reads_adds_refreshes_and_is_disconnected(
    page, screenshot, space_a, space_b, settings
):
    settings.VERIFY_FETCH_FOREIGN = False
    recipient = add_member(space_a, UserFactory(first_name="Wanda", last_name="Wallet"))
    add_member(space_b, recipient)
    ours = make_award(space_a, recipient=recipient)
    make_award(space_b, recipient=recipient)
    api = page.context.request

    # 1. Discovery: the spec's document, with our URLs.
    discovery = api.get("/ims/ob/v3p0/discovery")
    assert discovery.status == 200
    document = discovery.json()
    assert_valid_response("/discovery", "GET", Answer(discovery))
    assert schema_errors("ServiceDescriptionDocument", document) == []
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    flow = scheme["flows"]["authorizationCode"]

    # 2. Registration at the advertised URL.
    registered = api.post(scheme["x-imssf-registrationUrl"], data=wallet.registration_request())
    assert registered.status == 201, registered.text()
    client = registered.json()
    basic = (
        "Basic "
        + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    )

    # 3. The recipient signs in and allows the wallet; the wallet's own site is played here.
    codes = []

    def wallet_site(route):
        url = route.request.url
        if url.endswith("/logo.png"):
            route.fulfill(status=200, content_type="image/png", body=png_bytes(96, "#0f766e"))
        else:
            codes.append(url)
            route.fulfill(
                status=200,
                content_type="text/html",
                body='<!doctype html><html lang="en"><title>Example Wallet</title>'
                "<main><h1>Connected</h1></main></html>",
            )

    page.route("https://wallet.example/**", wallet_site)
    sign_in(page, recipient)
    verifier, challenge = wallet.pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": wallet.REDIRECT,
        "scope": wallet.ALL,
        "state": "wallet-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(f"{flow['authorizationUrl']}?{urlencode(query)}")
    page.get_by_role("heading", name="Connect Example Wallet?").wait_for()
    assert page.get_by_role("img", name="Example Wallet logo").evaluate("i => i.naturalWidth") > 0
    assert page.get_by_text("Add badges from elsewhere to your backpack").is_visible()
    screenshot("1-consent")
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="Connected").wait_for()
    returned = parse_qs(urlsplit(codes[-1]).query)
    assert returned["state"] == ["wallet-state"]

    tokens = api.post(
        flow["tokenUrl"],
        headers={"Authorization": basic},
        form={
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": wallet.REDIRECT,
            "code_verifier": verifier,
        },
    ).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    credentials_url = f"{document['servers'][0]['url']}/credentials"

    # 4. Credentials from both spaces, one per page, following the Link header.
    first = api.get(f"{credentials_url}?limit=1", headers=headers)
    assert_valid_response("/credentials", "GET", Answer(first))
    assert first.headers["x-total-count"] == "2"
    next_url = first.headers["link"].split(", ")[1].split(">")[0].lstrip("<")
    second = api.get(next_url, headers=headers)
    assert_valid_response("/credentials", "GET", Answer(second))
    ids = [first.json()["credential"][0]["id"], second.json()["credential"][0]["id"]]
    assert len(set(ids)) == 2

    # 5. A badge from elsewhere (a did:key issuer made here): created, then unchanged.
    foreign = ForeignIssuer("Harbour Welding School").credential(valid_from="2026-03-01T10:00:00Z")
    created = api.post(credentials_url, headers=headers, data=foreign)
    assert created.status == 201, created.text()
    assert_valid_response("/credentials", "POST", Answer(created))
    unchanged = api.post(credentials_url, headers=headers, data=foreign)
    assert unchanged.status == 304
    assert_valid_response("/credentials", "POST", Answer(unchanged))
    assert ImportedCredential.objects.filter(recipient=recipient).count() == 1
    profile = api.get(f"{document['servers'][0]['url']}/profile", headers=headers)
    assert_valid_response("/profile", "GET", Answer(profile))

    # The backpack shows it beside ours.
    page.goto("/backpack/")
    page.get_by_role("heading", name="Badges from elsewhere").wait_for()
    assert page.get_by_text("from Harbour Welding School").is_visible()
    screenshot("2-backpack")

    # 6. The wallet refreshes its token.
    refreshed = api.post(
        flow["refreshUrl"],
        headers={"Authorization": basic},
        form={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status == 200
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert api.get(credentials_url, headers=headers).status == 200

    # The other way: one of our badges handed to a wallet (a VC-API exchange, as a QR code).
    page.goto(f"/backpack/{ours.public_id}/")
    page.get_by_role("button", name="Add to wallet").click()
    page.get_by_role("img", name="QR code for your wallet").wait_for()
    screenshot("3-add-to-wallet")
    link = page.get_by_role("link", name="Open in the wallet").get_attribute("href")
    request = json.loads(parse_qs(urlsplit(link).query)["request"][0])
    delivered = api.post(request["protocols"]["vcapi"], data={})
    assert delivered.status == 200
    held = delivered.json()["verifiablePresentation"]["verifiableCredential"][0]
    assert schema_errors("AchievementCredential", held) == []
    assert held["id"] in ids

    # 7. The recipient disconnects it in Settings; the wallet is refused.
    page.goto("/accounts/settings/")
    apps = page.get_by_role("region", name="Connected apps")
    assert apps.get_by_text("Example Wallet").is_visible()
    screenshot("4-settings")
    apps.get_by_role("button", name="Disconnect Example Wallet").click()
    page.get_by_text("No apps are connected").wait_for()
    refused = api.get(credentials_url, headers=headers)
    assert refused.status == 401
    assert_valid_response("/credentials", "GET", Answer(refused))
