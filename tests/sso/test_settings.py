"""System settings → Single sign-on: configuring providers, SP metadata, the audit trail."""

import pytest

from badgeplatform.models import AuditEntry
from sso.models import IdentityProvider
from users.models import Role

pytestmark = pytest.mark.django_db


def saml_form(space, metadata_xml, **extra):
    return {
        "name": "Acme SAML",
        "enabled": "on",
        "metadata_xml": metadata_xml,
        "jit_enabled": "on",
        "jit_organisation": space.root_organisation.pk,
        "jit_role": Role.objects.get(space=space, name="User").pk,
        **extra,
    }


def test_an_administrator_adds_a_saml_provider_and_downloads_our_sp_metadata(
    client, space_a, admin_a, saml_idp
):
    client.force_login(admin_a)
    page = client.get("/s/acme/settings/sso/new/saml/")
    assert page.status_code == 200
    response = client.post(
        "/s/acme/settings/sso/new/saml/", saml_form(space_a, saml_idp.metadata())
    )
    assert response.status_code == 302, response.content.decode()
    idp = IdentityProvider.objects.get(space=space_a)
    assert idp.idp_entity_id == "https://idp.test.example/saml/metadata"
    assert idp.idp_sso_url == "https://idp.test.example/saml/sso"
    entry = AuditEntry.objects.get(space=space_a, action="sso.provider_create")
    assert entry.actor == admin_a and entry.changes["name"] == ["", "Acme SAML"]
    edit = client.get(response.url)
    assert f"/sso/saml/{idp.provider_id}/acs/".encode() in edit.content
    metadata = client.get(f"/s/acme/settings/sso/{idp.pk}/metadata.xml")
    assert metadata["Content-Disposition"].startswith("attachment")
    assert b"AssertionConsumerService" in metadata.content
    assert f"/sso/saml/{idp.provider_id}/metadata/".encode() in metadata.content


def test_newcomers_get_an_administrative_role_only_when_confirmed(
    client, space_a, admin_a, saml_idp
):
    client.force_login(admin_a)
    admin_role = Role.objects.get(space=space_a, name="Space Administrator")
    form = saml_form(space_a, saml_idp.metadata(), jit_role=admin_role.pk)
    refused = client.post("/s/acme/settings/sso/new/saml/", form)
    assert refused.status_code == 422
    assert "carries administrative permissions" in refused.content.decode()
    assert not IdentityProvider.objects.exists()
    # The service refuses it too, whoever calls.
    from badgeplatform.access import Access
    from sso import services

    unconfirmed = IdentityProvider(
        space=space_a,
        kind="saml",
        name="Direct",
        metadata_xml=saml_idp.metadata(),
        jit_organisation=space_a.root_organisation,
        jit_role=admin_role,
    )
    with pytest.raises(services.ConfigError, match="administrative permissions"):
        services.provider_save(access=Access.system(space_a), idp=unconfirmed)
    accepted = client.post("/s/acme/settings/sso/new/saml/", {**form, "confirm_admin_role": "on"})
    assert accepted.status_code == 302
    assert IdentityProvider.objects.get().jit_role == admin_role


def test_the_default_newcomer_role_is_the_plain_user(client, space_a, admin_a):
    client.force_login(admin_a)
    page = client.get("/s/acme/settings/sso/new/oidc/")
    user_role = Role.objects.get(space=space_a, name="User")
    assert page.context["form"]["jit_role"].value() == user_role.pk


def test_bad_metadata_and_unreachable_issuers_say_why_and_save_nothing(
    client, space_a, admin_a, settings
):
    client.force_login(admin_a)
    bad = client.post("/s/acme/settings/sso/new/saml/", saml_form(space_a, "<not-metadata/>"))
    assert bad.status_code == 422
    assert "names no IdP entity id" in bad.content.decode() or "not SAML" in bad.content.decode()
    oidc = {
        "name": "Acme OIDC",
        "enabled": "on",
        "issuer_url": "http://127.0.0.1:9",
        "client_id": "badges",
        "client_secret": "s3cret",
        "jit_enabled": "on",
        "jit_organisation": space_a.root_organisation.pk,
        "jit_role": Role.objects.get(space=space_a, name="User").pk,
    }
    down = client.post("/s/acme/settings/sso/new/oidc/", oidc)
    assert down.status_code == 422
    assert "could not be read" in down.content.decode()
    settings.SSO_ALLOW_PRIVATE_URLS = False
    private = client.post("/s/acme/settings/sso/new/oidc/", oidc)
    assert private.status_code == 422 and "Use an https:// address" in private.content.decode()
    private = client.post(
        "/s/acme/settings/sso/new/oidc/", {**oidc, "issuer_url": "https://127.0.0.1"}
    )
    assert private.status_code == 422 and "not a public address" in private.content.decode()
    assert not IdentityProvider.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="sso.").exists()


def test_removing_a_provider_is_audited_and_the_last_one_stays_while_required(
    client, space_a, admin_a, saml_provider
):
    client.force_login(admin_a)
    client.post(
        "/s/acme/settings/sso/",
        {"sso_required": "on", "break_glass": [admin_a.pk]},
    )
    space_a.refresh_from_db()
    assert space_a.sso_required
    kept = client.post(f"/s/acme/settings/sso/{saml_provider.pk}/delete/", follow=True)
    assert "last provider" in kept.content.decode()
    assert IdentityProvider.objects.filter(pk=saml_provider.pk).exists()
    client.post("/s/acme/settings/sso/", {"break_glass": [admin_a.pk]})
    client.post(f"/s/acme/settings/sso/{saml_provider.pk}/delete/")
    assert not IdentityProvider.objects.exists()
    assert AuditEntry.objects.filter(space=space_a, action="sso.provider_delete").exists()


def test_an_edit_that_cannot_be_checked_changes_nothing(client, space_a, admin_a):
    from sso.secrets import unseal
    from tests.factories import make_idp

    client.force_login(admin_a)
    idp = make_idp(space_a, name="Campus")  # an OIDC provider, secret "s3cret"
    form = {
        "name": "Campus staff",
        "enabled": "on",
        "issuer_url": "http://127.0.0.1:9",
        "client_id": "badges",
        "client_secret": "",
        "jit_enabled": "on",
        "jit_organisation": space_a.root_organisation.pk,
        "jit_role": Role.objects.get(space=space_a, name="User").pk,
    }
    # The issuer cannot be read: nothing changes.
    assert client.post(f"/s/acme/settings/sso/{idp.pk}/", form).status_code == 422
    idp.refresh_from_db()
    assert idp.name == "Campus"
    assert unseal(idp.client_secret_encrypted, idp.provider_id) == "s3cret"
    assert not AuditEntry.objects.filter(action="sso.provider_update").exists()
