"""Requiring single sign-on, break-glass administrators, and the sign-in pages."""

import pytest
from django.core.exceptions import ValidationError

from badgeplatform.access import Access
from badgeplatform.models import AuditEntry
from sso import services
from tests.factories import PASSWORD, UserFactory, add_member, make_idp, make_space
from tests.sso.saml_idp import MAIL, sign_in

pytestmark = pytest.mark.django_db


def password_sign_in(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content


def require_sso(space, admin, break_glass):
    access = Access.system(space)
    access.user = admin
    services.policy_save(access=access, sso_required=True, break_glass=break_glass)


def test_requiring_sso_needs_a_provider_and_a_break_glass_administrator(space_a, admin_a):
    access = Access.system(space_a)
    with pytest.raises(ValidationError, match="Add and enable an identity provider"):
        services.policy_save(access=access, sso_required=True, break_glass=[admin_a])
    make_idp(space_a)
    with pytest.raises(ValidationError, match="at least one break-glass"):
        services.policy_save(access=access, sso_required=True, break_glass=[])
    member = add_member(space_a)
    with pytest.raises(ValidationError, match="Only space administrators"):
        services.policy_save(access=access, sso_required=True, break_glass=[member])
    services.policy_save(access=access, sso_required=True, break_glass=[admin_a])
    space_a.refresh_from_db()
    assert space_a.sso_required
    entry = AuditEntry.objects.get(space=space_a, action="sso.policy_update")
    assert entry.changes["sso_required"] == [False, True]
    assert entry.changes["break_glass"] == [[], [admin_a.email]]


def test_required_sso_turns_password_sessions_to_the_providers_sign_in(
    client, space_a, admin_a, saml_provider, saml_idp
):
    member = add_member(space_a, UserFactory(email="pat@acme.example"))
    require_sso(space_a, admin_a, [admin_a])
    password_sign_in(client, member)
    refused = client.get("/s/acme/dashboard/")
    assert refused.status_code == 302 and refused.url.startswith("/s/acme/sign-in/")
    page = client.get(refused.url)
    assert page.status_code == 200
    assert b"Sign in with Acme University SAML" in page.content
    assert b"requires single sign-on" in page.content
    # Through the provider, the same person gets in.
    sign_in(client, saml_provider, saml_idp, attributes={MAIL: [member.email]}, name_id="pat")
    assert client.get("/s/acme/dashboard/").status_code == 200


def test_break_glass_administrators_still_sign_in_with_a_password(client, space_a, admin_a):
    make_idp(space_a)
    require_sso(space_a, admin_a, [admin_a])
    password_sign_in(client, admin_a)
    assert client.get("/s/acme/dashboard/").status_code == 200
    assert client.get("/s/acme/settings/sso/").status_code == 200


def test_the_sign_in_page_offers_only_this_spaces_providers(client, space_a):
    make_idp(space_a, name="Acme Campus Login")
    make_idp(space_a, name="Switched off", enabled=False)
    make_idp(make_space("Beta Corp", "beta"), name="Beta Login")
    page = client.get("/s/acme/sign-in/")
    assert b"Acme Campus Login" in page.content
    assert b"Switched off" not in page.content and b"Beta Login" not in page.content
    # The ordinary sign-in, sent there from one of the space's pages, offers them too.
    login = client.get("/accounts/login/?next=/s/acme/dashboard/")
    assert b"Acme Campus Login" in login.content and b"Beta Login" not in login.content
    assert b"Acme Campus Login" not in client.get("/accounts/login/").content
    beta = client.get("/s/beta/sign-in/")
    assert b"Beta Login" in beta.content and b"Acme Campus Login" not in beta.content


def test_another_spaces_provider_is_not_usable_through_this_spaces_urls(client, space_a):
    """Providers are found by their own id only; a disabled one is gone."""
    off = make_idp(space_a, kind="saml", enabled=False)
    assert client.post(f"/sso/saml/{off.provider_id}/login/").status_code == 404
    assert client.get(f"/sso/saml/{off.provider_id}/metadata/").status_code == 404
    assert client.post("/sso/saml/idp-00000000000000000000000000000000/login/").status_code == 404
    assert client.post("/sso/oidc/openid_connect/login/").status_code == 404


def test_a_space_without_providers_sends_its_sign_in_to_the_ordinary_one(client, space_a):
    response = client.get("/s/acme/sign-in/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_pages_with_provider_buttons_let_their_forms_reach_those_providers_only(client, space_a):
    """The button POSTs to us and we redirect to the provider: Chromium applies form-action to
    that redirect, so the page allows exactly its providers' origins (and no other page does)."""
    make_idp(space_a, name="Acme Campus Login", issuer_url="https://login.acme.example/realms/x")
    make_idp(make_space("Beta Corp", "beta"), kind="saml", idp_sso_url="https://beta.example/sso")

    def form_action(response) -> str:
        policy = response["Content-Security-Policy"]
        return next(p for p in policy.split(";") if p.strip().startswith("form-action"))

    page = client.get("/s/acme/sign-in/")
    assert "https://login.acme.example" in form_action(page)
    assert "beta.example" not in form_action(page)
    login = client.get("/accounts/login/?next=/s/acme/dashboard/")
    assert "https://login.acme.example" in form_action(login)
    plain = client.get("/accounts/login/")
    assert form_action(plain).split() == ["form-action", "'self'"]
