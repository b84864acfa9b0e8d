"""Single sign-on in Chromium against a real OpenID provider (django-oauth-toolkit in its own
process): an administrator configures it, then a newcomer clicks the space's provider on the
sign-in page, signs in at the provider and comes back signed in, placed just in time."""

import sqlite3

import pytest

from sso.models import IdentityProvider
from tests.browser.test_api_keys_and_rules import sign_in
from tests.sso.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider
from users.models import Member, Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_configure_an_oidc_provider_and_sign_in_through_it(
    page, screenshot, settings, admin_a, space_a, tmp_path, live_server
):
    settings.SSO_ALLOW_PRIVATE_URLS = True  # the provider listens on loopback
    provider = OidcProvider(
        tmp_path,
        redirect_uris=["http://localhost/placeholder"],
        people=[
            {
                "username": "grace",
                "password": "campus-pw",
                "email": "grace@campus.example",
                "first_name": "Grace",
                "last_name": "Hopper",
            }
        ],
    )
    try:
        sign_in(page, admin_a)
        menu = page.get_by_role("complementary", name="Main menu")
        menu.get_by_role("link", name="Single sign-on").click()
        page.get_by_role("heading", name="Single sign-on", exact=True).wait_for()
        page.get_by_role("link", name="Add OpenID Connect provider").click()
        page.get_by_label("Name on the sign-in button").fill("Campus")
        page.get_by_label("Issuer URL").fill(provider.issuer)
        page.get_by_label("Client ID").fill(CLIENT_ID)
        page.get_by_label("Client secret").fill(CLIENT_SECRET)
        page.get_by_label("External id (the id the Events API matches on)").fill("employee_number")
        screenshot("1-new-provider")
        page.get_by_role("button", name="Save provider").click()
        page.get_by_text("“Campus” saved.").wait_for()
        idp = IdentityProvider.objects.get(space=space_a)
        redirect_uri = f"{live_server.url}/sso/oidc/{idp.provider_id}/login/callback/"
        assert page.get_by_text(redirect_uri).is_visible()
        screenshot("2-saved-with-redirect-uri")
        page.get_by_role("link", name="Single sign-on").first.click()
        page.get_by_role("cell", name="Campus").wait_for()
        screenshot("2b-providers-and-policy")

        # The IdP's administrator registers our redirect URI (in the provider's own database).
        with sqlite3.connect(tmp_path / "oidc-provider.sqlite3") as db:
            db.execute("UPDATE oauth2_provider_application SET redirect_uris = ?", [redirect_uri])

        # A newcomer opens the space's address: its sign-in offers the space's provider.
        page.context.clear_cookies()
        page.goto("/s/acme/")
        page.get_by_role("button", name="Sign in with Campus").wait_for()
        screenshot("3-sign-in-offers-the-provider")
        page.get_by_role("button", name="Sign in with Campus").click()
        page.get_by_role("heading", name="Campus login").wait_for()
        page.get_by_label("Username").fill("grace")
        page.get_by_label("Password").fill("campus-pw")
        page.get_by_role("button", name="Sign in to Campus").click()
        page.wait_for_url(f"{live_server.url}/s/acme/dashboard/")
        page.get_by_role("complementary", name="Main menu").wait_for()
        screenshot("4-signed-in")
    finally:
        provider.stop()
    member = Member.objects.get(space=space_a, user__email="grace@campus.example")
    assert member.external_id == "EMP-grace"
    membership = Membership.objects.get(space=space_a, user=member.user)
    assert (membership.organisation, membership.role.name) == (space_a.root_organisation, "User")
