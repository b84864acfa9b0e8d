"""Throttles on sign-in (the site's and the Django admin's, one budget per account and one per
client address behind TRUSTED_PROXIES), registration, password reset and resend-verification.
A throttled request is answered 429 with a message, and sends no email."""

import pytest
from django.core import mail
from django.urls import reverse

from orgs.models import Space
from tests.factories import PASSWORD, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def staff(db):
    return UserFactory(username="root", email="root@example.test", is_staff=True, is_superuser=True)


def site_login(client, username, password="wrong", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def admin_login(client, username, password="wrong", **extra):
    return client.post(
        ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


# ---- sign-in --------------------------------------------------------------------------------


def test_the_admin_login_is_throttled(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    assert client.get(ADMIN_LOGIN).status_code == 200  # the admin's own page, as before
    for _ in range(3):
        assert admin_login(client, "root").status_code == 200  # the admin's own form error
    response = admin_login(client, "root", PASSWORD)  # even the right password now
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_and_the_site_login_share_one_budget_per_account(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 4
    site_login(client, "root")
    site_login(client, "ROOT@example.test")  # the same account, spelt as its email
    admin_login(client, "root")
    admin_login(client, "Root")
    assert admin_login(client, "root", PASSWORD).status_code == 429
    assert site_login(client, "root@example.test", PASSWORD).status_code == 429


def test_a_successful_admin_sign_in_works_and_forgives_the_failures(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    admin_login(client, "root")
    admin_login(client, "root")
    response = admin_login(client, "root", PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(staff.pk)
    client.logout()
    for _ in range(3):  # a full budget again
        assert admin_login(client, "root").status_code == 200


def test_sign_in_is_throttled_per_client_address_across_accounts(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 100
    settings.LOGIN_FAILURE_IP_LIMIT = 4
    for n in range(4):
        assert site_login(client, f"guess{n}").status_code == 422  # a form error, not yet throttled
    assert site_login(client, "guess-5").status_code == 429
    assert admin_login(client, "guess-6").status_code == 429
    # Another client is not affected.
    assert site_login(client, "guess-7", REMOTE_ADDR="192.0.2.9").status_code == 422


def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_forwarded_address(
    client, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.1", "172.18.0.0/16"]
    settings.LOGIN_FAILURE_LIMIT = 100
    settings.LOGIN_FAILURE_IP_LIMIT = 3

    def via_proxy(username, forwarded):
        return site_login(client, username, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    # The client forges a different left-most hop each time; the proxies appended the truth.
    for n in range(3):
        assert via_proxy(f"a{n}", f"203.0.113.{n}, 198.51.100.7, 172.18.0.5").status_code == 422
    assert via_proxy("a9", "203.0.113.99, 198.51.100.7, 172.18.0.5").status_code == 429
    # Another client behind the same proxy has its own budget …
    assert via_proxy("b1", "198.51.100.8").status_code == 422
    # … and from an untrusted address, X-Forwarded-For is not believed at all.
    for n in range(3):
        response = site_login(
            client, f"c{n}", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        )
        assert response.status_code == 422
    response = site_login(
        client, "c9", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR="198.51.100.200"
    )
    assert response.status_code == 429


def test_successful_sign_ins_do_not_use_up_a_shared_office_address(client, settings):
    settings.LOGIN_FAILURE_IP_LIMIT = 3
    people = [UserFactory() for _ in range(5)]
    for person in people:
        assert site_login(client, person.username, PASSWORD).status_code == 302
        client.logout()


# ---- emails: registration, password reset, resend-verification ---------------------------------

REGISTRATION = {
    "organisation_name": "Riverside College",
    "slug": "",
    "first_name": "Rita",
    "last_name": "River",
    "username": "rita",
}


def register(client, email, **extra):
    return client.post(reverse("accounts:register"), {**REGISTRATION, "email": email}, **extra)


def test_registration_is_throttled_per_target_address_and_sends_no_more_email(
    client, settings, committed
):
    settings.REGISTRATION_EMAIL_LIMIT = 2
    with committed():
        for n in range(2):  # from two different clients, to one victim
            assert (
                register(client, "victim@example.test", REMOTE_ADDR=f"192.0.2.{n}").status_code
                == 302
            )
        response = register(client, "Victim@Example.test", REMOTE_ADDR="192.0.2.77")
    assert response.status_code == 429
    assert "Too many registrations" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["victim@example.test"]] * 2
    assert User.objects.count() == 1 and Space.objects.count() == 1


def test_registration_is_throttled_per_client_address(client, settings, committed):
    settings.REGISTRATION_IP_LIMIT = 3
    with committed():
        for n in range(3):
            assert register(client, f"person{n}@example.test").status_code == 302
        response = register(client, "person9@example.test")
    assert response.status_code == 429
    assert len(mail.outbox) == 3
    assert not User.objects.filter(email="person9@example.test").exists()


def test_password_reset_is_throttled_with_429_and_no_email(client, settings, committed):
    settings.PASSWORD_RESET_LIMIT = 2
    user = UserFactory()
    url = reverse("accounts:password_reset")
    with committed():
        for _ in range(2):
            assert client.post(url, {"email": user.email}).status_code == 200
        response = client.post(url, {"email": user.email})
    assert response.status_code == 429
    assert "Too many password reset requests" in response.content.decode()
    assert len(mail.outbox) == 2


def test_password_reset_is_throttled_per_client_address(client, settings, committed):
    settings.PASSWORD_RESET_IP_LIMIT = 3
    users = [UserFactory() for _ in range(4)]
    with committed():
        for user in users[:3]:
            client.post(reverse("accounts:password_reset"), {"email": user.email})
        response = client.post(reverse("accounts:password_reset"), {"email": users[3].email})
    assert response.status_code == 429
    assert len(mail.outbox) == 3


def test_resend_verification_is_throttled_with_429_and_no_email(client, settings, committed):
    settings.RESEND_VERIFICATION_LIMIT = 2
    user = UserFactory(email_verified_at=None)
    url = reverse("accounts:resend_verification")
    with committed():
        for _ in range(2):
            assert client.post(url, {"email": user.email}).status_code == 200
        response = client.post(url, {"email": user.email})
    assert response.status_code == 429
    assert "Too many requests for verification emails" in response.content.decode()
    assert len(mail.outbox) == 2


def test_check_deploy_warns_when_the_cache_is_per_process(settings):
    from badgeplatform.ratelimit import shared_cache_check

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in shared_cache_check(None)] == ["badgeplatform.W001"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    assert shared_cache_check(None) == []
