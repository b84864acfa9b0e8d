"""Signing in with a second factor (allauth.mfa through users.signin): the password alone is
not enough once a factor is set up; codes are real TOTP codes computed from the secret."""

import time

import pytest
from django.urls import reverse

from tests.factories import PASSWORD
from tests.mfa_helpers import enable_totp, recovery_codes, totp_code

pytestmark = pytest.mark.django_db


def password_step(client, username="alice", **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": PASSWORD, **extra}
    )


def test_without_a_factor_the_password_signs_in_as_before(client, admin_a, space_a):
    response = password_step(client)
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(admin_a.pk)


def test_with_totp_the_password_leads_to_the_code_step(client, admin_a, space_a):
    secret = enable_totp(admin_a)
    inside = reverse("orgs:tree", args=[space_a.slug])
    response = password_step(client, next=inside)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not signed in yet
    assert client.get(inside).status_code == 302  # still sent to sign in
    page = client.get(response.url)
    assert page.status_code == 200 and b"One more step" in page.content

    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done.status_code == 302 and done.url == inside  # next= survives the second step
    assert client.session["_auth_user_id"] == str(admin_a.pk)


def test_a_wrong_code_is_refused_with_a_message(client, admin_a, space_a):
    secret = enable_totp(admin_a)
    password_step(client)
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 422
    assert b"Incorrect code" in response.content
    assert "_auth_user_id" not in client.session


def test_an_old_code_is_refused(client, admin_a, space_a):
    secret = enable_totp(admin_a)
    password_step(client)
    current = {totp_code(secret, at=time.time() + d) for d in (-30, 0, 30)}
    stale = next(
        code
        for minutes in range(5, 60)
        if (code := totp_code(secret, at=time.time() - 60 * minutes)) not in current
    )
    assert client.post(reverse("mfa_authenticate"), {"code": stale}).status_code == 422


def test_wrong_codes_are_throttled(client, admin_a, space_a, settings):
    settings.MFA_FAILURE_LIMIT = 3
    secret = enable_totp(admin_a)
    password_step(client)
    for _ in range(3):
        assert client.post(reverse("mfa_authenticate"), {"code": "000000"}).status_code == 422
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 429  # even the right code waits now
    assert int(response["Retry-After"]) > 0
    assert b"Too many wrong codes" in response.content
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_works_once(client, admin_a, space_a):
    enable_totp(admin_a)
    code = recovery_codes(admin_a)[0]
    password_step(client)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(admin_a.pk)
    assert code not in recovery_codes(admin_a)

    client.post(reverse("accounts:logout"))
    password_step(client)
    again = client.post(reverse("mfa_authenticate"), {"code": code})
    assert again.status_code == 422
    assert "_auth_user_id" not in client.session


def test_the_code_step_without_a_password_step_sends_to_sign_in(client, admin_a):
    enable_totp(admin_a)
    response = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
