"""Second factors clicked through in Chromium: an authenticator app whose codes the test
computes from the secret shown on the page (RFC 6238, tests/mfa_helpers.py), and a passkey made
and used by Chromium's virtual authenticator (CDP WebAuthn domain)."""

import re
import time
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator

from badgeplatform.models import AuditEntry
from tests.factories import PASSWORD, UserFactory, make_space
from tests.mfa_helpers import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(db):
    admin = UserFactory(username="alice", first_name="Alice", last_name="Admin")
    return make_space("Acme University", "acme", admin=admin), admin


def password_step(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def open_settings(page):
    page.get_by_label("Personal menu").click()
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("heading", name="Two-factor sign-in").wait_for()


def sign_out(page):
    page.get_by_role("link", name="Back to your space").click()  # Settings has no menu
    page.get_by_label("Personal menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def test_authenticator_app_set_up_from_settings_then_asked_at_sign_in(page, acme, screenshot):
    space, alice = acme
    password_step(page, alice)
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()
    open_settings(page)
    section = page.locator("#two-factor")
    section.get_by_role("link", name="Set up").click()

    # The QR code and the same key as text: the "phone" here is the test's own generator.
    page.get_by_role("heading", name="Set up an authenticator app").wait_for()
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    secret = page.locator("#authenticator_secret").inner_text().strip()
    screenshot("totp-setup")
    page.get_by_label("Authenticator code").fill("000000" if totp_code(secret) != "000000" else "1")
    page.get_by_role("button", name="Turn on").click()
    assert page.locator(".errors").first.is_visible()  # refused beside the field
    used = totp_code(secret)
    page.get_by_label("Authenticator code").fill(used)
    page.get_by_role("button", name="Turn on").click()

    # The first factor comes with recovery codes.
    page.get_by_role("heading", name="Recovery codes").wait_for()
    codes = page.get_by_role("list", name="Unused recovery codes").locator("li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"\d{8}", c.strip()) for c in codes)
    screenshot("recovery-codes")
    page.get_by_role("link", name="Done").click()
    assert "On since" in page.locator("#two-factor").inner_text()
    screenshot("settings-with-totp")
    actions = set(
        AuditEntry.objects.filter(space=space, actor=alice).values_list("action", flat=True)
    )
    assert "mfa.factor_add" in actions

    # With a factor of her own, Alice requires one of the space's administrators.
    page.get_by_role("link", name="Back to your space").click()
    page.get_by_role("complementary", name="Main menu").get_by_role("link", name="Security").click()
    page.get_by_label("Require a second factor for everyone with an administrative role").check()
    page.get_by_role("button", name="Save").click()
    assert "Administrators now need a second factor" in page.locator(".messages").inner_text()
    screenshot("security-settings")
    space.refresh_from_db()
    assert space.mfa_required_for_admins
    page.goto("/accounts/settings/")

    # Signing in again: the password, then a code.
    sign_out(page)
    password_step(page, alice)
    page.get_by_role("heading", name="One more step").wait_for()
    screenshot("code-step")
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Verify").click()
    assert "Incorrect code" in page.locator(".errors").inner_text()
    # A code is accepted once: wait for the next one if the set-up used this one.
    while (code := totp_code(secret)) == used:
        time.sleep(1)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()
    assert urlsplit(page.url).path == f"/s/{space.slug}/dashboard/"


def test_passkey_added_with_a_virtual_authenticator_then_used_to_sign_in(
    page, acme, live_server, screenshot
):
    space, alice = acme
    # WebAuthn takes a domain, not an IP address, as the relying party: use "localhost".
    port = urlsplit(live_server.url).port
    base = f"http://localhost:{port}"
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator_id = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email or username").fill(alice.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()
    open_settings(page)
    page.locator("#two-factor").get_by_role("link", name="Add").click()
    page.get_by_role("heading", name="Add a passkey or security key").wait_for()
    page.get_by_label("Name").fill("Work laptop")
    screenshot("passkey-add")
    page.get_by_role("button", name="Add passkey").click()
    page.get_by_role("heading", name="Recovery codes").wait_for()  # the first factor
    page.get_by_role("link", name="Done").click()
    assert "Work laptop" in page.locator("#two-factor").inner_text()
    screenshot("settings-with-passkey")
    assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert Authenticator.objects.filter(user=alice, type=Authenticator.Type.WEBAUTHN).count() == 1

    sign_out(page)
    page.get_by_label("Email or username").fill(alice.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="One more step").wait_for()
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()
    assert urlsplit(page.url).path == f"/s/{space.slug}/dashboard/"
    credential = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ][0]
    assert credential["signCount"] >= 1  # the authenticator signed the sign-in challenge
    passkey = Authenticator.objects.get(user=alice, type=Authenticator.Type.WEBAUTHN)
    assert passkey.last_used_at is not None
