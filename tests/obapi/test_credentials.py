"""getCredentials: the recipient's credentials from every space, paged; tokens of one
recipient read only theirs; a disconnected app is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from badges.models import Award
from badges.openbadges import publish
from tests.factories import UserFactory, add_member, make_award, revoke_award
from tests.obapi import wallet
from tests.obapi.openapi import assert_valid_response

pytestmark = pytest.mark.django_db

URL = "/ims/ob/v3p0/credentials"


def token_for(user, *, scope: str = wallet.ALL) -> str:
    signed_in = Client()
    signed_in.force_login(user)
    return wallet.connect(signed_in, wallet.register(Client()), scope=scope)["access_token"]


@pytest.fixture
def recipient(space_a, space_b):
    person = add_member(space_a, UserFactory(email="learner@example.org"))
    add_member(space_b, person)
    return person


def award_to(space, person, days_ago: int) -> Award:
    award = make_award(space, recipient=person)
    when = timezone.now() - timedelta(days=days_ago)
    Award.objects.filter(pk=award.pk).update(issued_at=when)
    award.refresh_from_db()
    return award


def test_credentials_from_every_space_paged_with_headers(
    client, recipient, space_a, space_b, django_assert_max_num_queries
):
    awards = [award_to(space_a, recipient, 5), award_to(space_b, recipient, 4)]
    awards += [award_to(space_a, recipient, d) for d in (3, 2, 1)]
    revoke_award(award_to(space_b, recipient, 6))  # revoked: not listed
    award_to(space_a, UserFactory(), 1)  # someone else's
    for award in Award.objects.filter(recipient=recipient).select_related("issuer_version__issuer"):
        publish.credential_for(award)
    token = token_for(recipient)

    with django_assert_max_num_queries(8):
        first = client.get(URL, {"limit": 2}, **wallet.bearer(token))
    assert first.status_code == 200
    assert_valid_response("/credentials", "GET", first)
    assert first["X-Total-Count"] == "5"
    body = first.json()
    assert body["compactJwsString"] == []
    ids = [c["id"] for c in body["credential"]]
    assert ids == [publish.credential_for(a)["id"] for a in awards[:2]]
    link = first["Link"]
    assert 'offset=2>; rel="next"' in link and 'offset=4>; rel="last"' in link
    assert 'rel="prev"' not in link

    last = client.get(URL, {"limit": 2, "offset": 4}, **wallet.bearer(token))
    assert [c["id"] for c in last.json()["credential"]] == [publish.credential_for(awards[4])["id"]]
    assert 'rel="next"' not in last["Link"] and 'offset=2>; rel="prev"' in last["Link"]

    since = (timezone.now() - timedelta(days=2, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = client.get(URL, {"since": since}, **wallet.bearer(token))
    assert recent["X-Total-Count"] == "2"


def test_unsigned_awards_are_signed_on_the_way(client, recipient, space_a):
    award = award_to(space_a, recipient, 1)
    token = token_for(recipient)
    body = client.get(URL, **wallet.bearer(token)).json()
    assert body["credential"][0]["proof"][0]["type"] == "DataIntegrityProof"
    assert body["credential"][0]["id"] == publish.credential_for(award)["id"]


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": "ten"}, {"offset": -1}, {"since": "yesterday"}]
)
def test_bad_paging_is_a_400_with_the_specs_error_body(client, recipient, query):
    response = client.get(URL, query, **wallet.bearer(token_for(recipient)))
    assert response.status_code == 400
    assert_valid_response("/credentials", "GET", response)
    body = response.json()
    assert body["imsx_codeMajor"] == "failure"
    field = body["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldValue"] == "invalid_query_parameter"


def test_a_token_reads_only_its_own_recipients_credentials(client, recipient, space_a):
    mine = award_to(space_a, recipient, 1)
    other = add_member(space_a, UserFactory(email="other@example.org"))
    theirs = award_to(space_a, other, 1)
    my_token, their_token = token_for(recipient), token_for(other)
    # A session of someone else does not change whose credentials a token reads.
    signed_in_as_other = Client()
    signed_in_as_other.force_login(other)
    got = signed_in_as_other.get(URL, **wallet.bearer(my_token)).json()["credential"]
    assert [c["id"] for c in got] == [publish.credential_for(mine)["id"]]
    got = client.get(URL, **wallet.bearer(their_token)).json()["credential"]
    assert [c["id"] for c in got] == [publish.credential_for(theirs)["id"]]


def test_no_token_a_session_a_bad_token_or_a_missing_scope_are_refused(client, recipient):
    response = client.get(URL)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert_valid_response("/credentials", "GET", response)
    client.force_login(recipient)
    assert client.get(URL).status_code == 401  # a session cookie is not a token
    assert client.get(URL, **wallet.bearer("nope")).status_code == 401
    profile_only = token_for(recipient, scope=wallet.PROFILE_READ)
    response = Client().get(URL, **wallet.bearer(profile_only))
    assert response.status_code == 403
    assert_valid_response("/credentials", "GET", response)
    # A token in the query string is not accepted (RFC 9700).
    assert Client().get(URL, {"access_token": profile_only}).status_code == 401


def test_refresh_then_disconnect_then_refused(client, recipient, space_a):
    award_to(space_a, recipient, 1)
    signed_in = Client()
    signed_in.force_login(recipient)
    reg = wallet.register(Client())
    tokens = wallet.connect(signed_in, reg)
    refreshed = Client().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=reg.basic,
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["access_token"] != tokens["access_token"]
    assert client.get(URL, **wallet.bearer(new["access_token"])).status_code == 200
    # The old access token went with the rotation.
    assert client.get(URL, **wallet.bearer(tokens["access_token"])).status_code == 401

    settings_page = signed_in.get("/accounts/settings/")
    html = settings_page.content.decode()
    assert "Connected apps" in html and "Example Wallet" in html
    assert "See every Open Badges 3.0 badge in your backpack" in html
    answer = signed_in.post("/oauth/disconnect", {"client_id": reg.client_id})
    assert answer.status_code == 302
    assert client.get(URL, **wallet.bearer(new["access_token"])).status_code == 401
    again = Client().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
        HTTP_AUTHORIZATION=reg.basic,
    )
    assert again.status_code == 400
    html = signed_in.get("/accounts/settings/").content.decode()
    assert "No apps are connected" in html


def test_disconnecting_someone_elses_app_ends_nothing_of_theirs(client, recipient, space_a):
    other = add_member(space_a, UserFactory())
    signed_in = Client()
    signed_in.force_login(other)
    reg = wallet.register(Client())
    tokens = wallet.connect(signed_in, reg)
    me = Client()
    me.force_login(recipient)
    me.post("/oauth/disconnect", {"client_id": reg.client_id})
    assert client.get(URL, **wallet.bearer(tokens["access_token"])).status_code == 200
    assert me.post("/oauth/disconnect", {}).status_code == 400


def test_revocation_endpoint_ends_a_token(client, recipient):
    signed_in = Client()
    signed_in.force_login(recipient)
    reg = wallet.register(Client())
    tokens = wallet.connect(signed_in, reg)
    answer = Client().post(
        "/oauth/revoke", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=reg.basic
    )
    assert answer.status_code == 200
    assert client.get(URL, **wallet.bearer(tokens["access_token"])).status_code == 401


def test_a_reused_refresh_token_is_refused_and_ends_its_family(client, recipient):
    signed_in = Client()
    signed_in.force_login(recipient)
    reg = wallet.register(Client())
    tokens = wallet.connect(signed_in, reg)

    def refresh(token):
        return Client().post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": token},
            HTTP_AUTHORIZATION=reg.basic,
        )

    new = refresh(tokens["refresh_token"]).json()
    stolen = refresh(tokens["refresh_token"])  # the old one, played again
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert client.get(URL, **wallet.bearer(new["access_token"])).status_code == 401
    assert refresh(new["refresh_token"]).status_code == 400
