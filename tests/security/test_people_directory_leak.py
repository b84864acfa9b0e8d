"""Hole 4: the page of a person's awards was addressed by a sequential user id and showed any
member's name and email to anyone who could open it, including people outside the viewer's
organisations. People are now addressed by an opaque id and shown only to those whose roles
cover one of their places (or who may see one of their awards); anyone else gets 404, exactly
as for an unknown id. The people pages (users:detail, users:edit) answer the same way.
"""

import uuid

import pytest
from django.urls import NoReverseMatch, reverse

from tests.factories import (
    GroupFactory,
    OrganisationFactory,
    UserFactory,
    add_member,
    make_award,
    make_badge,
    member_of,
)
from users.models import Member, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def orgs(space_a):
    science = OrganisationFactory(space=space_a, name="Science")
    arts = OrganisationFactory(space=space_a, name="Arts")
    science.refresh_from_db()
    arts.refresh_from_db()
    return science, arts


@pytest.fixture
def artist(space_a, orgs):
    return add_member(
        space_a,
        UserFactory(first_name="Frida", last_name="Kahlo", email="frida@arts.test"),
        organisation=orgs[1],
    )


@pytest.fixture
def science_issuer(space_a, orgs):
    return add_member(space_a, role_name="Badge Issuer", organisation=orgs[0])


def person_url(space, user) -> str:
    return reverse("issuing:person_awards", args=[space.slug, user.public_id])


def test_a_person_is_addressed_by_an_opaque_id_not_a_sequential_one(client_a, space_a, artist):
    with pytest.raises(NoReverseMatch):
        reverse("issuing:person_awards", args=[space_a.slug, artist.pk])
    assert client_a.get(f"/s/{space_a.slug}/issuing/people/{artist.pk}/awards/").status_code == 404
    assert client_a.get(person_url(space_a, artist)).status_code == 200
    # The links to it carry the opaque id.
    award = make_award(space_a, recipient=artist)
    html = client_a.get(reverse("issuing:award", args=[space_a.slug, award.pk])).content.decode()
    assert person_url(space_a, artist) in html


def test_a_person_outside_the_viewers_organisations_is_not_found(
    client, space_a, artist, science_issuer
):
    client.force_login(science_issuer)
    response = client.get(person_url(space_a, artist))
    assert response.status_code == 404
    html = response.content.decode()
    assert "Frida" not in html and "frida@arts.test" not in html
    unknown = reverse("issuing:person_awards", args=[space_a.slug, uuid.uuid4()])
    assert client.get(unknown).status_code == 404  # the same answer


def test_a_person_with_a_place_the_viewer_covers_is_shown(client, space_a, orgs, science_issuer):
    chemist = add_member(space_a, UserFactory(first_name="Marie"), organisation=orgs[0])
    in_group = add_member(
        space_a,
        UserFactory(first_name="Rosalind"),
        group=GroupFactory(space=space_a, organisation=orgs[0]),
    )
    client.force_login(science_issuer)
    for person, name in ((chemist, "Marie"), (in_group, "Rosalind")):
        response = client.get(person_url(space_a, person))
        assert response.status_code == 200 and name in response.content.decode()


def test_someone_who_left_is_shown_only_to_those_who_may_see_one_of_their_awards(
    client, space_a, orgs, science_issuer, artist
):
    science, arts = orgs
    science_award = make_award(space_a, badge=make_badge(space_a, organisation=science))
    arts_award = make_award(space_a, badge=make_badge(space_a, organisation=arts))
    for award in (science_award, arts_award):
        Membership.objects.filter(user=award.recipient).delete()
        Member.objects.filter(user=award.recipient).delete()
    client.force_login(science_issuer)
    assert client.get(person_url(space_a, science_award.recipient)).status_code == 200
    assert client.get(person_url(space_a, arts_award.recipient)).status_code == 404


def test_the_people_pages_answer_404_outside_the_viewers_reach(client, space_a, orgs, artist):
    science_admin = add_member(
        space_a, role_name="Organisation Administrator", organisation=orgs[0]
    )
    client.force_login(science_admin)
    member = member_of(space_a, artist)
    for name in ("users:detail", "users:edit"):
        response = client.get(reverse(name, args=[space_a.slug, member.pk]))
        assert response.status_code == 404, name
        assert "Frida" not in response.content.decode()
        missing = client.get(reverse(name, args=[space_a.slug, 987654]))
        assert missing.status_code == 404
