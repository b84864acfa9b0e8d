import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password, **extra}
    )


def test_login_with_username_or_email_redirects_to_the_space(client, admin_a, space_a):
    response = login(client, "ALICE")
    assert response.status_code == 302
    assert client.get(response.url).url == reverse("dashboard", args=[space_a.slug])
    client.post(reverse("accounts:logout"))
    assert login(client, admin_a.email.upper()).status_code == 302


def test_wrong_password_gives_one_message_for_every_case(client, admin_a):
    a = login(client, "alice", "wrong")
    b = login(client, "nobody-at-all", "wrong")
    assert a.status_code == b.status_code == 422
    assert b"do not match" in a.content and b"do not match" in b.content


def test_next_is_followed_only_inside_the_site(client, admin_a, space_a):
    inside = reverse("orgs:tree", args=[space_a.slug])
    assert login(client, "alice", next=inside).url == inside
    client.post(reverse("accounts:logout"))
    for evil in ["https://evil.test/", "//evil.test/x", "javascript:alert(1)"]:
        assert login(client, "alice", next=evil).url == reverse("home")
        client.post(reverse("accounts:logout"))


def test_login_is_throttled_after_repeated_failures(client, admin_a, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, "alice", "wrong")
    response = login(client, "alice")  # even the right password is refused now
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(client, admin_a):
    client.force_login(admin_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_resend_verification_is_rate_limited_and_reveals_nothing(client, settings, committed):
    settings.RESEND_VERIFICATION_LIMIT = 2
    user = UserFactory(email_verified_at=None)
    url = reverse("accounts:resend_verification")
    with committed():
        known = client.post(url, {"email": user.email})
        unknown = client.post(url, {"email": "stranger@example.test"})
    assert known.status_code == unknown.status_code == 200
    assert b"Check your inbox" in known.content and b"Check your inbox" in unknown.content
    assert [m.to for m in mail.outbox] == [[user.email]]
    with committed():
        client.post(url, {"email": user.email})
        response = client.post(url, {"email": user.email})
    assert b"Too many requests" in response.content
    assert len(mail.outbox) == 2


def test_password_reset_round_trip_and_no_disclosure(client, committed):
    user = UserFactory()
    url = reverse("accounts:password_reset")
    assert b"Check your inbox" in client.post(url, {"email": "nobody@example.test"}).content
    assert not mail.outbox
    with committed():
        client.post(url, {"email": user.email})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/\S+/)", mail.outbox[0].body)[1]
    form_url = client.get(link).url
    new = "another-long-passphrase-77"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    # The link is single-use.
    client.logout()
    assert client.get(client.get(link).url).status_code == 400


def test_unverified_user_can_use_password_reset_to_get_in(client, committed):
    user = UserFactory(email_verified_at=None, password=None)
    user.set_unusable_password()
    user.save()
    with committed():
        client.post(reverse("accounts:password_reset"), {"email": user.email})
    assert len(mail.outbox) == 1
