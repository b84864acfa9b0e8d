"""Registration answers identically whatever already exists (an account with that email, a
space at that address, an account with that username), so it cannot be used to find out
which do. The owner of an existing address is told by email; a newcomer whose address or
username was taken still gets a space, at a free variant they are shown behind their link."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from orgs.models import Space
from tests.factories import UserFactory, make_space
from users.models import User

pytestmark = pytest.mark.django_db

FORM = {
    "organisation_name": "Riverside College",
    "slug": "riverside",
    "first_name": "Rita",
    "last_name": "River",
    "email": "rita@riverside.test",
    "username": "rita",
}


def answer(client, committed, **overrides) -> tuple:
    """Everything a visitor sees: the status, where it leads, and the page it leads to (with
    the address they typed, which they know anyway, blanked out)."""
    with committed():
        response = client.post(reverse("accounts:register"), {**FORM, **overrides})
    page = client.get(response.get("Location", "")) if response.status_code == 302 else response
    text = page.content.decode().replace(overrides.get("email", FORM["email"]), "EMAIL")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return response.status_code, response.get("Location"), page.status_code, text


@pytest.mark.parametrize(
    "exists",
    ["an account with that email", "a space at that address", "an account with that username"],
)
def test_registration_answers_identically_whatever_exists(client, committed, exists):
    fresh = answer(
        client, committed, email="nobody-yet@riverside.test", slug="fresh-slug", username="new"
    )
    UserFactory(username="rita-owner", email="rita@riverside.test")
    make_space("Riverside", "riverside")
    UserFactory(username="rita")
    overrides = {
        "an account with that email": {"email": "rita@riverside.test", "slug": "new-slug"},
        "a space at that address": {"email": "new1@riverside.test", "slug": "riverside"},
        "an account with that username": {"email": "new2@riverside.test", "username": "RITA"},
    }[exists]
    assert answer(client, committed, **overrides) == fresh


def test_the_owner_of_an_existing_address_is_told_by_email_and_nothing_is_created(
    client, committed
):
    owner = UserFactory(email="rita@riverside.test")
    make_space("Riverside", "riverside")  # the address is taken too: still no form error
    with committed():
        response = client.post(reverse("accounts:register"), FORM)
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "already has an account" in mail.outbox[0].body
    assert Space.objects.count() == 1 and User.objects.count() == 2  # the space's admin + owner


def test_a_taken_address_still_gives_the_newcomer_a_space_shown_behind_their_link(
    client, committed
):
    make_space("Riverside", "riverside")
    UserFactory(username="rita")
    with committed():
        client.post(reverse("accounts:register"), FORM)
    user = User.objects.get(email="rita@riverside.test")
    space = Space.objects.get(members__user=user)
    assert space.slug == "riverside-2" and user.username == "rita2"

    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/verify/\S+?/\S+?/)", message.body).group(1)
    page = client.get(client.get(link).url).content.decode()
    assert "/s/riverside-2/" in page and "rita2" in page
    response = client.post(
        client.get(link).url,
        {"new_password1": "a-long-passphrase-9q", "new_password2": "a-long-passphrase-9q"},
        follow=True,
    )
    assert "/s/riverside-2/" in response.content.decode()
