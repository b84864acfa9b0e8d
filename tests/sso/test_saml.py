"""SAML 2.0 sign-in against a real pysaml2 IdP: signed assertions, tampering, replay."""

import base64

import pytest
from django.test import Client

from badgeplatform.models import AuditEntry
from tests.sso.saml_idp import EMPLOYEE_NUMBER, GIVEN_NAME, MAIL, SURNAME, post_to_acs, start
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db

ATTRS = {
    MAIL: ["grace@acme.example"],
    GIVEN_NAME: ["Grace"],
    SURNAME: ["Hopper"],
    EMPLOYEE_NUMBER: ["E-1906"],
}


def test_signed_assertion_signs_in_a_newcomer_just_in_time(
    client, space_a, saml_provider, saml_idp
):
    answer = saml_idp.answer(
        start(client, saml_provider, "/s/acme/dashboard/"), attributes=ATTRS, name_id="u-1906"
    )
    done = post_to_acs(client, answer)
    assert done.status_code == 302 and done.url == "/s/acme/dashboard/"
    user = User.objects.get(email="grace@acme.example")
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    assert user.is_verified and not user.has_usable_password()
    member = Member.objects.get(space=space_a, user=user)
    assert member.external_id == "E-1906"
    membership = Membership.objects.get(space=space_a, user=user)
    assert membership.organisation == space_a.root_organisation
    assert membership.role.name == "User"
    assert client.get("/s/acme/dashboard/").status_code == 200
    actions = set(AuditEntry.objects.filter(space=space_a).values_list("action", flat=True))
    assert {"sso.provider_create", "sso.account_create", "sso.member_join"} <= actions


def test_a_tampered_assertion_is_refused(client, saml_provider, saml_idp):
    answer = saml_idp.answer(
        start(client, saml_provider, "/s/acme/dashboard/"), attributes=ATTRS, name_id="u-1906"
    )
    xml = base64.b64decode(answer["SAMLResponse"]).decode()
    assert "grace@acme.example" in xml
    forged = xml.replace("grace@acme.example", "mallory@acme.example")
    answer["SAMLResponse"] = base64.b64encode(forged.encode()).decode()
    done = post_to_acs(client, answer)
    assert done.status_code == 401
    assert b"could not be accepted" in done.content
    assert not User.objects.filter(email__in=["grace@acme.example", "mallory@acme.example"])
    assert "_auth_user_id" not in client.session


def test_a_replayed_assertion_is_refused(client, saml_provider, saml_idp):
    answer = saml_idp.answer(
        start(client, saml_provider, "/s/acme/dashboard/"), attributes=ATTRS, name_id="u-1906"
    )
    assert post_to_acs(client, answer).status_code == 302
    client.logout()
    # The same signed response again, in the same browser and in another one.
    assert post_to_acs(client, answer).status_code == 403
    assert "_auth_user_id" not in client.session
    other = Client()
    assert post_to_acs(other, answer).status_code == 403
    assert "_auth_user_id" not in other.session
    assert User.objects.filter(email="grace@acme.example").count() == 1


def test_the_external_id_from_the_idp_is_what_issuing_matches_on(
    client, space_a, saml_provider, saml_idp
):
    """The Events API and every issuing path resolve recipients by the member's external id:
    the one the IdP sent finds the person who signed in, no new account."""
    from badgeplatform.access import Access
    from badges.issuing import RecipientInput, awards_issue
    from tests.factories import make_badge

    answer = saml_idp.answer(
        start(client, saml_provider, "/s/acme/dashboard/"), attributes=ATTRS, name_id="u-1906"
    )
    post_to_acs(client, answer)
    grace = User.objects.get(email="grace@acme.example")
    _, outcomes = awards_issue(
        access=Access.system(space_a),
        badge=make_badge(space_a),
        recipients=[RecipientInput(external_id="E-1906")],
    )
    assert outcomes[0].status == "awarded" and not outcomes[0].new_user
    assert outcomes[0].award.recipient_id == grace.pk
