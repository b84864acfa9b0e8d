"""OpenID Connect sign-in against a real provider (django-oauth-toolkit, its own process): the
discovery on save, the authorization code flow with PKCE, and OIDC's ``email_verified``."""

import re
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from badgeplatform.access import Access
from badgeplatform.models import AuditEntry
from sso import services
from sso.models import IdentityProvider
from tests.factories import UserFactory
from tests.sso.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider
from users.models import Member, Membership, Role, User

pytestmark = pytest.mark.django_db

PEOPLE = [
    {
        "username": "ada",
        "password": "campus-pw",
        "email": "ada@campus.example",
        "first_name": "Ada",
        "last_name": "Lovelace",
    },
    {
        "username": "una",
        "password": "campus-pw",
        "email": "una@campus.example",
        "first_name": "Una",
        "last_name": "Known (unverified)",
    },
]


PUBLIC_ID = uuid.uuid4()


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    callback = f"http://testserver/sso/oidc/idp-{PUBLIC_ID.hex}/login/callback/"
    provider = OidcProvider(
        tmp_path_factory.mktemp("oidc"), redirect_uris=[callback], people=PEOPLE
    )
    yield provider
    provider.stop()


@pytest.fixture
def provider_and_idp(space_a, provider):
    idp = IdentityProvider(
        public_id=PUBLIC_ID,
        space=space_a,
        kind=IdentityProvider.OIDC,
        name="Campus",
        issuer_url=provider.issuer,
        client_id=CLIENT_ID,
        attr_external_id="employee_number",
        jit_organisation=space_a.root_organisation,
        jit_role=Role.objects.get(space=space_a, name="User"),
    )
    idp = services.provider_save(
        access=Access.system(space_a), idp=idp, client_secret=CLIENT_SECRET
    )
    return provider, idp


def oidc_sign_in(client, idp, username, next_url="/s/acme/dashboard/"):
    """Our button, the provider's login form (a second browser, ``requests``), our callback."""
    start = client.post(
        f"/sso/oidc/{idp.provider_id}/login/", {"next": next_url, "process": "login"}
    )
    assert start.status_code == 302, start.content
    assert "code_challenge=" in start.url  # PKCE
    browser = requests.Session()
    page = browser.get(start.url, timeout=10)  # → the provider's sign-in form
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    answer = browser.post(
        page.url,
        data={
            "csrfmiddlewaretoken": csrf,
            "username": username,
            "password": "campus-pw",
            "next": re.search(r'name="next" value="([^"]*)"', page.text)[1].replace("&amp;", "&"),
        },
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=10,
    )
    while answer.status_code == 302 and not answer.headers["Location"].startswith(
        "http://testserver"
    ):
        answer = browser.get(
            urljoin(answer.url, answer.headers["Location"]), allow_redirects=False, timeout=10
        )
    back = urlsplit(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_discovery_then_a_newcomer_signs_in_just_in_time(client, space_a, provider_and_idp):
    provider, idp = provider_and_idp
    assert idp.discovery["issuer"] == provider.issuer
    assert idp.client_secret_encrypted and CLIENT_SECRET not in idp.client_secret_encrypted
    done = oidc_sign_in(client, idp, "ada")
    assert done.status_code == 302 and done.url == "/s/acme/dashboard/", done.content[:500]
    ada = User.objects.get(email="ada@campus.example")
    assert (ada.first_name, ada.last_name, ada.is_verified) == ("Ada", "Lovelace", True)
    assert Member.objects.get(space=space_a, user=ada).external_id == "EMP-ada"
    assert Membership.objects.get(space=space_a, user=ada).role.name == "User"
    assert client.get("/s/acme/dashboard/").status_code == 200
    assert AuditEntry.objects.filter(space=space_a, action="sso.account_create").exists()


def test_an_address_the_provider_marks_unverified_is_not_linked(client, space_a, provider_and_idp):
    _, idp = provider_and_idp
    una = UserFactory(email="una@campus.example")  # verified here
    done = oidc_sign_in(client, idp, "una")
    assert done.status_code == 403
    assert b"does not vouch that this address is verified" in done.content
    assert "_auth_user_id" not in client.session
    assert not una.socialaccount_set.exists()


def test_sign_in_fetches_only_what_the_address_rule_allows(client, provider_and_idp, settings):
    """allauth's own requests at sign-in go through the same check as saving did: with private
    addresses not allowed (production), a provider on loopback is not contacted."""
    _, idp = provider_and_idp
    settings.SSO_ALLOW_PRIVATE_URLS = False
    refused = client.post(f"/sso/oidc/{idp.provider_id}/login/", {"process": "login"})
    assert refused.status_code == 401
    settings.SSO_ALLOW_PRIVATE_URLS = True
    allowed = client.post(f"/sso/oidc/{idp.provider_id}/login/", {"process": "login"})
    assert allowed.status_code == 302 and allowed.url.startswith(idp.issuer_url)


def test_editing_keeps_the_secret_unless_replaced_and_audits_what_changed(
    client, space_a, admin_a, provider_and_idp
):
    from sso.secrets import unseal

    provider, idp = provider_and_idp
    client.force_login(admin_a)
    form = {
        "name": "Campus staff",
        "enabled": "on",
        "issuer_url": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": "",
        "attr_external_id": "employee_number",
        "jit_enabled": "on",
        "jit_organisation": space_a.root_organisation.pk,
        "jit_role": Role.objects.get(space=space_a, name="User").pk,
    }
    assert client.post(f"/s/acme/settings/sso/{idp.pk}/", form).status_code == 302
    idp.refresh_from_db()
    assert idp.name == "Campus staff"
    assert unseal(idp.client_secret_encrypted, idp.provider_id) == CLIENT_SECRET
    entry = AuditEntry.objects.get(space=space_a, action="sso.provider_update")
    assert entry.changes == {"name": ["Campus", "Campus staff"]}
    client.post(f"/s/acme/settings/sso/{idp.pk}/", {**form, "client_secret": "rotated"})
    idp.refresh_from_db()
    assert unseal(idp.client_secret_encrypted, idp.provider_id) == "rotated"
    last = AuditEntry.objects.filter(action="sso.provider_update").latest("pk")
    assert last.changes == {"client_secret": "replaced"}
    assert "rotated" not in str(last.changes)
