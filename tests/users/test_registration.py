import re

import pytest
from django.core import mail
from django.urls import reverse

from badgeplatform.models import OutboundEmail
from orgs.models import Organisation, Space
from tests.factories import UserFactory
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db

GOOD = {
    "organisation_name": "Riverside College",
    "slug": "",
    "first_name": "Rita",
    "last_name": "River",
    "email": "rita@riverside.test",
    "username": "rita",
}
STRONG = "a-long-and-unusual-passphrase-42"


@pytest.fixture
def register(client, committed):
    def post(**overrides):
        with committed():
            return client.post(reverse("accounts:register"), {**GOOD, **overrides})

    return post


def link_from(message) -> str:
    match = re.search(r"https?://\S+/accounts/(?:verify|password/reset)/\S+/\S+/", message.body)
    assert match, message.body
    return match.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_registration_creates_space_root_admin_and_sends_verification(register, client):
    response = register()
    assert response.status_code == 302
    assert response.url == reverse("accounts:register_done")

    space = Space.objects.get()
    assert space.slug == "riverside-college"
    root = Organisation.objects.get(space=space)
    assert root.name == "Riverside College" and root.is_root
    user = User.objects.get(email="rita@riverside.test")
    assert not user.has_usable_password() and not user.is_verified
    assert Member.objects.filter(space=space, user=user).exists()
    membership = Membership.objects.get(space=space, user=user)
    assert membership.role.name == "Space Administrator" and membership.organisation == root

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rita@riverside.test"]
    assert "Riverside College" in message.subject
    html = dict((mime, body) for body, mime in message.alternatives)["text/html"]
    assert "Verify email and create password" in html
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT


def test_verification_link_sets_password_lands_on_dashboard_and_is_single_use(register, client):
    register()
    link = link_from(mail.outbox[0])
    response = client.get(link)
    assert response.status_code == 302  # token moved into the session
    form_url = response.url
    assert "set-password" in form_url
    response = client.post(form_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    response = client.get(response.url, follow=True)
    assert response.request["PATH_INFO"] == reverse("dashboard", args=["riverside-college"])
    assert b"Riverside College" in response.content
    user = User.objects.get(email="rita@riverside.test")
    assert user.is_verified and user.check_password(STRONG)

    # Used once: the same link is refused with a way forward.
    client.logout()
    response = client.get(client.get(link).url)
    assert response.status_code == 400
    assert b"Send a new verification email" in response.content


def test_tampered_and_expired_links_are_refused(register, client, settings):
    register()
    link = link_from(mail.outbox[0])
    tampered = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    response = client.get(client.get(tampered).url)
    assert response.status_code == 400

    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is already expired
    response = client.get(client.get(link).url)
    assert response.status_code == 400
    assert b"expired" in response.content


def test_weak_password_is_refused_with_a_message(register, client):
    register()
    form_url = client.get(link_from(mail.outbox[0])).url
    response = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 422
    assert b"too common" in response.content or b"entirely numeric" in response.content
    assert not User.objects.get(email="rita@riverside.test").has_usable_password()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, b"Enter a valid email address"),
        ({"username": "has space"}, b"Enter a valid username"),
        ({"organisation_name": ""}, b"This field is required"),
        ({"slug": "Bad Slug!"}, b"Enter a valid"),
        ({"slug": "admin"}, b"is reserved"),
        ({"first_name": "Evil\r\nBcc: x@y"}, b"single line"),
    ],
)
def test_bad_registration_input_shows_a_message_and_creates_nothing(
    register, client, overrides, message
):
    response = register(**overrides)
    assert response.status_code == 422
    assert message in response.content
    assert not Space.objects.exists() and not User.objects.exists()
    assert not mail.outbox


def test_taken_username_and_slug_get_a_free_variant(register, client, space_a):
    UserFactory(username="rita2")
    response = register(username="RITA2", slug=space_a.slug)
    assert response.status_code == 302 and response.url == reverse("accounts:register_done")
    user = User.objects.get(email="rita@riverside.test")
    assert user.username == "RITA22"
    assert Space.objects.filter(slug=f"{space_a.slug}-2", members__user=user).exists()


def test_taken_email_reveals_nothing_and_creates_nothing(register, client):
    existing = UserFactory(email="rita@riverside.test")
    response = register(email="Rita@Riverside.TEST")
    # The same answer as a fresh registration …
    assert response.status_code == 302 and response.url == reverse("accounts:register_done")
    # … but nothing was created, and the owner of the address is told instead.
    assert not Space.objects.exists()
    assert User.objects.count() == 1
    assert mail.outbox[0].to == [existing.email]
    assert "already has an account" in mail.outbox[0].body


def test_derived_slug_avoids_collisions(register, client, space_a):
    register(organisation_name="Acme")
    assert Space.objects.filter(slug="acme-2").exists()
