"""System settings → API keys, and the createapikey command."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from api.models import ApiKey
from api.services import token_hash
from tests.api.conftest import ApiClient
from tests.factories import OrganisationFactory, add_member, make_api_key

pytestmark = pytest.mark.django_db


def url(name: str, space, *args) -> str:
    return reverse(f"api_keys:{name}", args=[space.slug, *args])


def test_creating_a_key_shows_the_token_once_and_stores_its_hash(client_a, space_a, admin_a):
    science = OrganisationFactory(space=space_a, name="Science")
    response = client_a.post(url("index", space_a), {"name": "LMS", "organisation": science.pk})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    token = response.context["token"]
    html = response.content.decode()
    assert token in html and key.developer_key in html and "shown only this once" in html
    assert key.token_hash == token_hash(token) and token not in str(key.__dict__)
    assert (key.name, key.organisation, key.created_by) == ("LMS", science, admin_a)
    # The token works at once, and the list never shows it again.
    api = ApiClient(Client(), key.developer_key, token)
    assert api.get("/api/badges").status_code == 200
    listing = client_a.get(url("index", space_a)).content.decode()
    assert key.developer_key in listing and token not in listing and "Science" in listing


def test_the_list_shows_last_use_and_revoked_keys(client_a, space_a):
    make_api_key(space_a, name="Unused")
    revoked = make_api_key(space_a, name="Old")
    client_a.post(url("revoke", space_a, revoked.pk))
    html = client_a.get(url("index", space_a)).content.decode()
    assert "Never" in html and "Revoked" in html and "Unused" in html


def test_an_invalid_key_name_is_refused_beside_the_field(client_a, space_a, space_b):
    response = client_a.post(url("index", space_a), {"name": "a\nb"})
    assert "single line" in " ".join(response.context["form"].errors["name"])
    response = client_a.post(
        url("index", space_a), {"name": "x", "organisation": space_b.root_organisation.pk}
    )
    assert "organisation" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_revoking_a_key(client_a, space_a, admin_a):
    made_key = make_api_key(space_a)
    response = client_a.post(url("revoke", space_a, made_key.pk))
    assert response.status_code == 302
    made_key.refresh_from_db()
    assert made_key.is_revoked and made_key.revoked_by == admin_a
    again = client_a.post(url("revoke", space_a, made_key.pk), follow=True)
    assert "already revoked" in again.content.decode()


def test_a_member_without_the_permission_gets_403(client, space_a, member_a):
    key = make_api_key(space_a)
    client.force_login(member_a)
    assert client.get(url("index", space_a)).status_code == 403
    assert client.post(url("revoke", space_a, key.pk)).status_code == 403
    # Organisation administrators run their subtree, not the space's keys.
    org_admin = add_member(space_a, role_name="Organisation Administrator")
    client.force_login(org_admin)
    assert client.get(url("index", space_a)).status_code == 403
    assert not ApiKey.objects.get().is_revoked


def test_another_spaces_key_is_404(client, space_a, admin_b, space_b):
    key = make_api_key(space_a)
    client.force_login(admin_b)
    assert client.post(url("revoke", space_b, key.pk)).status_code == 404
    assert not ApiKey.objects.get().is_revoked


def test_anonymous_and_wrong_methods(client, client_a, space_a):
    key = make_api_key(space_a)
    anonymous = Client().get(url("index", space_a))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
    assert client_a.get(url("revoke", space_a, key.pk)).status_code == 405
    assert client_a.put(url("index", space_a)).status_code == 405


@pytest.mark.parametrize("size", [2, 7])
def test_the_list_takes_a_constant_number_of_queries(
    client_a, space_a, admin_a, size, django_assert_num_queries
):
    for n in range(size):
        OrganisationFactory(space=space_a, name=f"Dept {n}")
        make_api_key(space_a, organisation=None if n % 2 else space_a.root_organisation)
    ApiKey.objects.update(created_by=admin_a)
    # session, user, space, member, grants (a space-wide permission needs no more), keys
    # (with organisation and creator joined), the form's organisations, the menu's spaces
    with django_assert_num_queries(8):
        assert client_a.get(url("index", space_a)).status_code == 200


def test_the_menu_offers_api_keys_to_those_who_may(client_a, client, space_a, member_a):
    assert (
        url("index", space_a)
        in client_a.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    )
    client.force_login(member_a)
    assert (
        url("index", space_a)
        not in client.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    )


# ---- createapikey ---------------------------------------------------------------------------


def test_createapikey_prints_the_two_lines(space_a):
    out = io.StringIO()
    call_command("createapikey", "--space", space_a.slug, "--name", "Script", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"developer_key: bpk_[0-9a-f]{24}", lines[0])
    assert re.fullmatch(r"auth_token: bpt_[A-Za-z0-9_\-]{43}", lines[1])
    key = ApiKey.objects.get()
    assert key.name == "Script" and key.organisation is None
    api = ApiClient(Client(), lines[0].split(": ")[1], lines[1].split(": ")[1])
    assert api.get("/api/badges").status_code == 200


def test_createapikey_limits_a_key_to_an_organisation(space_a):
    science = OrganisationFactory(space=space_a, name="Science")
    call_command(
        "createapikey",
        "--space",
        space_a.slug,
        "--organisation",
        str(science.pk),
        stdout=io.StringIO(),
    )
    call_command(
        "createapikey",
        "--space",
        space_a.slug,
        "--organisation",
        str(science.public_id),
        stdout=io.StringIO(),
    )
    assert [k.organisation for k in ApiKey.objects.all()] == [science, science]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--space", "nope"], "No space"),
        (["--space", "acme", "--organisation", "999999"], "No organisation"),
        (["--space", "acme", "--organisation", "not-an-id"], "not an organisation id"),
        (["--space", "acme", "--name", ""], "--name"),
    ],
)
def test_createapikey_refuses_bad_arguments(space_a, space_b, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("createapikey", *args, stdout=io.StringIO())
    # Another space's organisation is not one of this space's.
    with pytest.raises(CommandError, match="No organisation"):
        call_command(
            "createapikey",
            "--space",
            "acme",
            "--organisation",
            str(space_b.root_organisation.pk),
            stdout=io.StringIO(),
        )
    assert not ApiKey.objects.exists()
