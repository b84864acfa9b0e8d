"""getProfile / putProfile, and "Add to wallet" (the VC-API exchange)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from badges.openbadges import publish
from obapi.models import WalletOffer
from tests.factories import UserFactory, add_member, make_award, revoke_award
from tests.obapi import wallet
from tests.obapi.openapi import assert_valid_response, schema_errors

pytestmark = pytest.mark.django_db

PROFILE = "/ims/ob/v3p0/profile"


@pytest.fixture
def recipient(space_a):
    return add_member(
        space_a, UserFactory(email="learner@example.org", first_name="Lee", last_name="Learner")
    )


def token_for(user, scope=wallet.ALL) -> str:
    signed_in = Client()
    signed_in.force_login(user)
    return wallet.connect(signed_in, wallet.register(Client()), scope=scope)["access_token"]


def test_get_and_put_profile(client, recipient):
    token = token_for(recipient)
    got = client.get(PROFILE, **wallet.bearer(token))
    assert got.status_code == 200
    assert_valid_response("/profile", "GET", got)
    profile = got.json()
    assert schema_errors("Profile", profile) == []
    assert profile["email"] == "learner@example.org"
    assert profile["givenName"] == "Lee" and profile["familyName"] == "Learner"

    changed = {**profile, "givenName": "Leigh"}
    put = client.put(PROFILE, changed, content_type="application/json", **wallet.bearer(token))
    assert put.status_code == 200
    assert_valid_response("/profile", "PUT", put)
    recipient.refresh_from_db()
    assert recipient.first_name == "Leigh" and put.json()["givenName"] == "Leigh"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"email": "else@example.org"}, "email address changes only"),
        ({"id": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "cannot change"),
        ({"givenName": ""}, "givenName must be text"),
    ],
)
def test_put_profile_refuses_what_it_cannot_change(client, recipient, change, words):
    token = token_for(recipient)
    profile = client.get(PROFILE, **wallet.bearer(token)).json()
    put = client.put(
        PROFILE, {**profile, **change}, content_type="application/json", **wallet.bearer(token)
    )
    assert put.status_code == 400
    assert_valid_response("/profile", "PUT", put)
    assert words in put.json()["imsx_description"]
    recipient.refresh_from_db()
    assert recipient.first_name == "Lee" and recipient.email == "learner@example.org"


def test_profile_scopes_are_separate(client, recipient):
    read_only = token_for(recipient, scope=wallet.PROFILE_READ)
    assert client.get(PROFILE, **wallet.bearer(read_only)).status_code == 200
    put = client.put(
        PROFILE, {"givenName": "X"}, content_type="application/json", **wallet.bearer(read_only)
    )
    assert put.status_code == 403
    credentials_only = token_for(recipient, scope=wallet.READ)
    assert client.get(PROFILE, **wallet.bearer(credentials_only)).status_code == 403
    assert client.delete(PROFILE, **wallet.bearer(read_only)).status_code == 405


# ---- Add to wallet ----------------------------------------------------------------------------


def _offer(browser, award):
    page = browser.post(f"/wallet/awards/{award.public_id}/offer")
    assert page.status_code == 200, page.content
    return page


def test_add_to_wallet_offers_a_vc_api_exchange_as_a_qr_code(recipient, space_a):
    award = make_award(space_a, recipient=recipient)
    browser = Client()
    browser.force_login(recipient)
    award_page = browser.get(f"/backpack/{award.public_id}/").content.decode()
    assert "Add to wallet" in award_page
    page = _offer(browser, award)
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code (segno), no third-party image
    link = page.context["offer"].wallet_link
    assert link.startswith("https://lcw.app/request.html?request=")
    request = json.loads(unquote(parse_qs(urlsplit(link).query)["request"][0]))
    exchange = request["protocols"]["vcapi"]
    assert request["credentialRequestOrigin"] == settings.SITE_URL
    # The wallet posts to the exchange and receives the signed credential in a presentation.
    path = urlsplit(exchange).path
    answer = Client().post(path, {}, content_type="application/json")
    assert answer.status_code == 200
    presentation = answer.json()["verifiablePresentation"]
    assert presentation["type"] == ["VerifiablePresentation"]
    assert presentation["verifiableCredential"] == [publish.credential_for(award)]
    assert WalletOffer.objects.get().exchange_hash not in exchange  # only the hash is stored


def test_an_exchange_expires_is_use_limited_and_ends_with_revocation(recipient, space_a):
    award = make_award(space_a, recipient=recipient)
    browser = Client()
    browser.force_login(recipient)
    path = urlsplit(_offer(browser, award).context["offer"].exchange_url).path
    for _ in range(3):
        assert Client().post(path).status_code == 200
    assert Client().post(path).status_code == 404  # used up
    path = urlsplit(_offer(browser, award).context["offer"].exchange_url).path
    WalletOffer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().post(path).status_code == 404  # expired
    path = urlsplit(_offer(browser, award).context["offer"].exchange_url).path
    revoke_award(award)
    assert Client().post(path).status_code == 404  # revoked since
    assert Client().post("/wallet/exchanges/guess").status_code == 404


def test_only_the_recipient_makes_an_offer(recipient, space_a):
    award = make_award(space_a, recipient=recipient)
    other = Client()
    other.force_login(add_member(space_a))
    assert other.post(f"/wallet/awards/{award.public_id}/offer").status_code == 404
    revoke_award(award)
    browser = Client()
    browser.force_login(recipient)
    assert browser.post(f"/wallet/awards/{award.public_id}/offer").status_code == 409
    assert not WalletOffer.objects.exists()
