"""Who a single sign-on is: linking by verified email only, one account across spaces."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from badgeplatform.models import AuditEntry
from tests.factories import PASSWORD, UserFactory, add_member, make_space
from tests.sso.saml_idp import MAIL, SamlIdp, provider_for_space, sign_in
from users.models import Member, User

pytestmark = pytest.mark.django_db

VERIFIED_FLAG = "urn:test:email_verified"


def attrs(email, **extra):
    return {MAIL: [email], **{k: [v] for k, v in extra.items()}}


def signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def test_an_existing_verified_account_is_linked_not_duplicated(
    client, space_a, saml_provider, saml_idp
):
    ada = UserFactory(email="ada@acme.example")  # verified (the factory's default)
    done = sign_in(
        client, saml_provider, saml_idp, attributes=attrs("ADA@acme.example"), name_id="n-1"
    )
    assert done.status_code == 302
    assert signed_in_as(client) == ada.pk
    assert User.objects.filter(email__iexact="ada@acme.example").count() == 1
    assert SocialAccount.objects.get(user=ada).provider == saml_provider.provider_id
    assert Member.objects.filter(space=space_a, user=ada).exists()
    assert AuditEntry.objects.filter(space=space_a, action="sso.link", object_id=ada.public_id)
    # The next sign-in finds the link by the provider's id, whatever the address says now.
    client.logout()
    sign_in(client, saml_provider, saml_idp, attributes=attrs("ada.l@acme.example"), name_id="n-1")
    assert signed_in_as(client) == ada.pk


def test_an_account_unverified_here_is_never_linked(client, space_a, saml_provider, saml_idp):
    UserFactory(email="bob@acme.example", email_verified_at=None)
    done = sign_in(
        client, saml_provider, saml_idp, attributes=attrs("bob@acme.example"), name_id="n-2"
    )
    assert done.status_code == 403
    assert b"never verified here" in done.content
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()
    assert User.objects.filter(email="bob@acme.example").count() == 1


def test_an_address_the_provider_says_is_unverified_is_never_linked(client, space_a, saml_idp):
    provider = provider_for_space(
        space_a, saml_idp, client, attr_email_verified=VERIFIED_FLAG, emails_verified_by_idp=True
    )
    UserFactory(email="eve@acme.example")  # verified here
    done = sign_in(
        client,
        provider,
        saml_idp,
        attributes=attrs("eve@acme.example", **{VERIFIED_FLAG: "false"}),
        name_id="n-3",
    )
    assert done.status_code == 403
    assert b"does not vouch that this address is verified" in done.content
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()


def test_a_newcomer_with_an_unverified_address_gets_an_unverified_account(
    client, space_a, saml_idp
):
    provider = provider_for_space(space_a, saml_idp, client, emails_verified_by_idp=False)
    sign_in(client, provider, saml_idp, attributes=attrs("new@acme.example"), name_id="n-4")
    user = User.objects.get(email="new@acme.example")
    assert signed_in_as(client) == user.pk
    assert not user.is_verified  # so it is never a target for linking either


def test_one_person_in_two_spaces_with_two_providers_keeps_one_account(
    client, space_a, saml_provider, saml_idp, tmp_path
):
    space_b = make_space("Beta Corp", "beta")
    idp_b = SamlIdp(tmp_path)
    provider_b = provider_for_space(space_b, idp_b, Client())
    sign_in(client, saml_provider, saml_idp, attributes=attrs("kim@acme.example"), name_id="a-kim")
    kim = User.objects.get(email="kim@acme.example")
    assert client.get("/s/acme/dashboard/").status_code == 200
    # Space B's provider vouches for nobody in A, and A's for nobody in B.
    to_b = client.get("/s/beta/dashboard/")
    assert to_b.status_code == 404  # not a member of B yet
    sign_in(client, provider_b, idp_b, attributes=attrs("kim@acme.example"), name_id="b-kim")
    assert signed_in_as(client) == kim.pk
    assert User.objects.filter(email__iexact="kim@acme.example").count() == 1
    assert SocialAccount.objects.filter(user=kim).count() == 2
    assert {m.space.slug for m in Member.objects.filter(user=kim)} == {"acme", "beta"}
    # Both spaces open in this session: each was signed in through its own provider.
    assert client.get("/s/acme/dashboard/").status_code == 200
    assert client.get("/s/beta/dashboard/").status_code == 200


def test_another_spaces_provider_does_not_open_this_space(client, space_a, saml_idp, tmp_path):
    """A member of A who signs in through B's provider is asked to sign in to A again: B's
    administrator controls B's provider and could assert anybody's address."""
    space_b = make_space("Beta Corp", "beta")
    idp_b = SamlIdp(tmp_path)
    provider_b = provider_for_space(space_b, idp_b, Client())
    lee = add_member(space_a, UserFactory(email="lee@acme.example"))
    sign_in(client, provider_b, idp_b, attributes=attrs("lee@acme.example"), name_id="b-lee")
    assert signed_in_as(client) == lee.pk
    assert client.get("/s/beta/dashboard/").status_code == 200
    to_a = client.get("/s/acme/dashboard/")
    assert to_a.status_code == 302
    assert to_a.url.startswith("/s/acme/sign-in/")
    # A password proves the account itself: then A opens.
    client.post("/accounts/login/", {"username": "lee@acme.example", "password": PASSWORD})
    assert client.get("/s/acme/dashboard/").status_code == 200


def test_a_second_factor_is_still_asked_after_the_provider_and_the_session_stays_scoped(
    client, space_a, saml_provider, saml_idp, tmp_path
):
    """allauth's login stages run for single sign-on too; the session the code step finishes
    still opens only the provider's space."""
    from django.urls import reverse

    from tests.mfa_helpers import enable_totp, totp_code

    space_b = make_space("Beta Corp", "beta")
    sam = add_member(space_a, UserFactory(email="sam@acme.example"))
    add_member(space_b, sam)
    secret = enable_totp(sam)
    done = sign_in(client, saml_provider, saml_idp, attributes=attrs(sam.email), name_id="sam")
    assert done.status_code == 302 and done.url == reverse("mfa_authenticate")
    assert signed_in_as(client) is None
    finish = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert finish.status_code == 302
    assert signed_in_as(client) == sam.pk
    assert client.get("/s/acme/dashboard/").status_code == 200
    to_b = client.get("/s/beta/dashboard/")
    assert to_b.status_code == 302 and to_b.url.startswith("/s/beta/sign-in/")
