"""Hole 7: issuing's recipient preview mapped an external id to a person's email and said
whether an address had an account — to anyone who may issue anywhere. The preview now shows
only what the issuer could see on the people pages: someone outside their reach appears only
as typed ("by email", names needed as for someone new), and an external id of such a person
resolves no one (a per-row message that is the same as for an unknown id).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from badges.models import Award, IssueBatch
from tests.factories import OrganisationFactory, UserFactory, add_member, batch_rows, make_badge
from users.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(space_a):
    science = OrganisationFactory(space=space_a, name="Science")
    arts = OrganisationFactory(space=space_a, name="Arts")
    badge = make_badge(space_a, organisation=science, name="Lab Safety")
    issuer = add_member(space_a, role_name="Badge Issuer", organisation=science)
    frida = add_member(
        space_a, UserFactory(email="frida@arts.test", first_name="Frida"), organisation=arts
    )
    Member.objects.filter(space=space_a, user=frida).update(external_id="ART-1")
    marie = add_member(
        space_a, UserFactory(email="marie@sci.test", first_name="Marie"), organisation=science
    )
    Member.objects.filter(space=space_a, user=marie).update(external_id="SCI-1")
    UserFactory(email="known@elsewhere.test")  # an account, in no space of ours
    return {"badge": badge, "issuer": issuer, "frida": frida, "marie": marie}


def issue_url(space, badge) -> str:
    return reverse("issuing:issue", args=[space.slug, badge.pk])


def upload(client, space, badge, text: str):
    file = SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")
    response = client.post(
        issue_url(space, badge), {"action": "upload_csv", "file": file, "tz": "UTC"}
    )
    assert response.status_code == 302, response.content[:500]


def rows(badge) -> list[dict]:
    batch = IssueBatch.objects.get(badge=badge, status=IssueBatch.Status.PENDING)
    return batch_rows(batch)


def test_an_external_id_outside_the_issuers_reach_resolves_no_one(client, space_a, setting):
    badge = setting["badge"]
    client.force_login(setting["issuer"])
    upload(
        client,
        space_a,
        badge,
        "Email,First name,Last name,External id\n"
        ",,,ART-1\n"  # Frida's, in Arts: not the issuer's to see
        ",,,NOPE-9\n"  # nobody's
        ",,,SCI-1\n",  # Marie's, in Science: the issuer's
    )
    art, nope, sci = rows(badge)
    assert art["who"] == nope["who"] == "" and art["errors"] and nope["errors"]
    # The same message as for an id nobody has, but for the id itself.
    assert art["errors"]["email"] == nope["errors"]["email"].replace("NOPE-9", "ART-1")
    assert sci["who"] == "member" and not sci["errors"]
    page = client.get(issue_url(space_a, badge)).content.decode()
    assert "frida@arts.test" not in page and "Frida" not in page


def test_an_external_id_outside_reach_never_reveals_its_owners_email(client, space_a, setting):
    badge = setting["badge"]
    client.force_login(setting["issuer"])
    response = client.post(
        issue_url(space_a, badge),
        {
            "action": "add_person",
            "email": "someone@else.test",
            "first_name": "Some",
            "last_name": "One",
            "external_id": "ART-1",
        },
    )
    assert response.status_code == 302
    [row] = rows(badge)
    assert "external_id" in row["errors"]
    page = client.get(issue_url(space_a, badge)).content.decode()
    assert "frida@arts.test" not in page
    # Issuing the list awards no one through that id.
    client.post(issue_url(space_a, badge), {"action": "issue", "tz": "UTC"})
    assert not Award.objects.filter(recipient=setting["frida"]).exists()


def test_the_preview_does_not_say_who_has_an_account(client, space_a, setting):
    badge = setting["badge"]
    client.force_login(setting["issuer"])
    upload(
        client,
        space_a,
        badge,
        "Email,First name,Last name\n"
        "known@elsewhere.test,,\n"  # an account elsewhere on the platform
        "brand-new@new.test,,\n"  # no account at all
        "frida@arts.test,,\n"  # a member of the space, outside the issuer's reach
        "marie@sci.test,,\n",  # one of the issuer's people
    )
    known, new, frida, marie = rows(badge)
    # The three the issuer may not see look exactly alike: as typed, names needed.
    for row in (known, frida):
        assert row["who"] == new["who"] == "email"
        assert row["errors"].keys() == new["errors"].keys() == {"first_name", "last_name"}
    assert marie["who"] == "member" and not marie["errors"]
    page = client.get(issue_url(space_a, badge)).content.decode()
    assert "Has an account" not in page and "In your space" not in page


def test_a_space_administrator_still_sees_everyone_in_the_space(client_a, space_a, setting):
    badge = setting["badge"]
    upload(client_a, space_a, badge, "Email,First name,Last name,External id\n,,,ART-1\n")
    [row] = rows(badge)
    assert row["who"] == "member" and not row["errors"]
