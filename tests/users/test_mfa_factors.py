"""Managing factors: passkeys removed only by their owner, secrets encrypted at rest, a reset
link that does not skip the second factor, and re-authentication before changes."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from badgeplatform.models import AuditEntry
from tests.factories import PASSWORD, UserFactory
from tests.mfa_helpers import enable_totp, totp_code

pytestmark = pytest.mark.django_db


def passkey(user, name="Work laptop"):
    """A stored WebAuthn authenticator (what allauth keeps after a registration)."""
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": name, "credential": {}}
    )


def fresh_check(client):
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})


def test_the_totp_secret_is_stored_encrypted(admin_a):
    secret = enable_totp(admin_a)
    stored = Authenticator.objects.get(user=admin_a, type=Authenticator.Type.TOTP).data["secret"]
    assert stored.startswith("aesgcm:") and secret not in stored
    codes = Authenticator.objects.get(user=admin_a, type=Authenticator.Type.RECOVERY_CODES)
    assert codes.data["seed"].startswith("aesgcm:")


def test_a_person_removes_their_own_passkey_and_only_theirs(
    client, admin_a, space_a, member_a, django_capture_on_commit_callbacks
):
    enable_totp(admin_a)
    mine, other = passkey(admin_a), passkey(member_a, "Mal's key")
    client.force_login(admin_a)
    fresh_check(client)
    url = reverse("mfa_remove_passkey")
    assert client.post(url, {"id": other.pk}).status_code == 404
    assert client.post(url, {"id": "x"}).status_code == 400
    assert Authenticator.objects.filter(pk=other.pk).exists()

    page = client.get(reverse("accounts:settings"))
    assert b"Work laptop" in page.content and b"Mal&#x27;s key" not in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"id": mine.pk})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(pk=mine.pk).exists()
    entry = AuditEntry.objects.get(space=space_a, action="mfa.factor_remove")
    assert entry.object_label == "Alice Admin: passkey “Work laptop”"


def test_removing_a_passkey_asks_for_the_password_when_the_last_check_is_old(
    client, admin_a, settings
):
    key = passkey(admin_a)
    client.force_login(admin_a)  # no recent check in this session
    response = client.post(reverse("mfa_remove_passkey"), {"id": key.pk})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert Authenticator.objects.filter(pk=key.pk).exists()

    wrong = client.post(response.url, {"password": "not-it"})
    assert wrong.status_code == 422
    assert Authenticator.objects.filter(pk=key.pk).exists()
    # The right password replays the removal it interrupted.
    client.post(response.url, {"password": PASSWORD})
    assert not Authenticator.objects.filter(pk=key.pk).exists()


def test_the_last_passkey_stays_while_a_space_requires_a_factor(client, admin_a, space_a):
    key = passkey(admin_a)
    space_a.mfa_required_for_admins = True
    space_a.save()
    client.force_login(admin_a)
    fresh_check(client)
    response = client.post(reverse("mfa_remove_passkey"), {"id": key.pk}, follow=True)
    assert b"requires a second factor for your role" in response.content
    assert Authenticator.objects.filter(pk=key.pk).exists()


def test_a_password_reset_link_still_asks_for_the_second_factor(client, committed):
    user = UserFactory()
    secret = enable_totp(user)
    with committed():
        client.post(reverse("accounts:password_reset"), {"email": user.email})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/\S+/)", mail.outbox[0].body)[1]
    form_url = client.get(link).url
    new = "another-long-passphrase-77"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # the link proved the address, not the factor
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_setting_up_right_after_signing_in_does_not_ask_for_the_password_again(
    client, admin_a, settings
):
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200 and b"Set up an authenticator app" in page.content

    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 1
    time.sleep(1.1)
    later = client.get(reverse("mfa_activate_totp"))
    assert later.status_code == 302
    assert later.url.startswith(reverse("account_reauthenticate"))


def test_recovery_codes_download_is_the_persons_own(client, admin_a, member_a):
    enable_totp(admin_a)
    client.force_login(member_a)  # no codes of their own
    assert client.get(reverse("mfa_download_recovery_codes")).status_code == 302
    client.force_login(admin_a)
    fresh_check(client)
    download = client.get(reverse("mfa_download_recovery_codes"))
    assert download.status_code == 200
    assert len(re.findall(rb"\b\d{8}\b", download.content)) == 10
