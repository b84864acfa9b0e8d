"""Issuer profiles: pages, permissions, versions, and awards keeping the profile they had."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from badges.issuing import RecipientInput, awards_issue
from badges.models import Award
from issuers.models import Issuer, IssuerVersion
from issuers.services import issuer_update
from tests.factories import (
    OrganisationFactory,
    add_with_perms,
    make_badge,
    make_issuer,
    png_bytes,
)
from tests.security import hostile_images as hostile

pytestmark = pytest.mark.django_db

WHEN = timezone.now().replace(microsecond=0) - timedelta(days=1)


def url(name: str, space, *args) -> str:
    return reverse(f"issuers:{name}", args=[space.slug, *args])


def form_data(**changes):
    data = {
        "name": "Acme Learning",
        "website": "https://acme.example",
        "email": "badges@acme.example",
        "description": "Issues Acme's badges.",
    }
    return {**data, **changes}


def logo(colour: str = "#ff0000") -> SimpleUploadedFile:
    return SimpleUploadedFile("logo.png", png_bytes(80, colour), content_type="image/png")


# ---- Pages ------------------------------------------------------------------------------


def test_create_issuer_with_a_logo(client_a, space_a, admin_a):
    data = form_data(organisation=space_a.root_organisation.pk, logo=logo())
    response = client_a.post(url("create", space_a), data)
    issuer = Issuer.objects.get(space=space_a)
    assert response.status_code == 302
    assert response.url == url("detail", space_a, issuer.pk)
    version = issuer.current
    assert (version.number, version.name, version.created_by) == (1, "Acme Learning", admin_a)
    # Stored re-encoded under a random name, never the uploaded one.
    assert version.logo.name.startswith("issuers/") and "logo" not in version.logo.name
    page = client_a.get(url("detail", space_a, issuer.pk))
    assert "Acme Learning" in page.content.decode() and version.logo.url in page.content.decode()


def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(client_a, space_a):
    data = form_data(
        organisation=space_a.root_organisation.pk,
        name="Two\nlines",
        website="not a url",
        email="nope",
    )
    response = client_a.post(url("create", space_a), data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"name", "website", "email"}
    assert not Issuer.objects.exists()


@pytest.mark.parametrize(
    "case", ["png_header_then_html", "svg_named_png", "truncated_jpeg", "gif_with_frames"]
)
def test_a_hostile_logo_is_refused_with_a_clear_message(client_a, space_a, case):
    build, message, _ = hostile.REFUSED[case]
    upload = SimpleUploadedFile("logo.png", build(), content_type="image/png")
    data = form_data(organisation=space_a.root_organisation.pk, logo=upload)
    response = client_a.post(url("create", space_a), data)
    assert response.status_code == 422
    assert response.context["form"].errors["logo"] == [message]
    assert message in response.content.decode()
    assert not Issuer.objects.exists() and not IssuerVersion.objects.exists()


def test_edit_adds_a_version_and_keeps_the_old_one(client_a, space_a):
    issuer = make_issuer(space_a)
    data = form_data(organisation=space_a.root_organisation.pk, name="Acme Academy")
    response = client_a.post(url("edit", space_a, issuer.pk), data)
    assert response.status_code == 302
    issuer.refresh_from_db()
    assert issuer.current.number == 2 and issuer.name == "Acme Academy"
    assert list(issuer.versions.values_list("number", "name")) == [
        (2, "Acme Academy"),
        (1, "Acme Learning"),
    ]
    page = client_a.get(url("detail", space_a, issuer.pk)).content.decode()
    assert "Profile history" in page and "v1" in page and "v2" in page


def test_saving_an_unchanged_profile_adds_no_version(client_a, space_a):
    issuer = make_issuer(space_a)
    client_a.post(url("edit", space_a, issuer.pk), form_data(organisation=issuer.organisation_id))
    assert issuer.versions.count() == 1


def test_moving_an_issuer_changes_who_manages_it_not_its_profile(client_a, space_a):
    issuer = make_issuer(space_a)
    department = OrganisationFactory(space=space_a)
    client_a.post(url("edit", space_a, issuer.pk), form_data(organisation=department.pk))
    issuer.refresh_from_db()
    assert issuer.organisation == department and issuer.versions.count() == 1


def test_remove_the_logo(client_a, space_a):
    issuer = make_issuer(space_a)
    issuer_update(access=Access.system(issuer.space), issuer=issuer, actor=None, logo=logo())
    data = form_data(organisation=issuer.organisation_id, remove_logo="on")
    client_a.post(url("edit", space_a, issuer.pk), data)
    issuer.refresh_from_db()
    assert issuer.current.number == 3 and not issuer.current.logo
    assert issuer.versions.get(number=2).logo  # the earlier version keeps its file


def test_list_is_scoped_to_the_organisations_one_manages_issuers_on(client, space_a):
    department = OrganisationFactory(space=space_a, name="Chemistry")
    mine = make_issuer(space_a, department, name="Chemistry Badges")
    make_issuer(space_a, name="University Badges")
    manager = add_with_perms(space_a, [Perm.MANAGE_ISSUERS], organisation=department)
    client.force_login(manager)
    page = client.get(url("index", space_a)).content.decode()
    assert "Chemistry Badges" in page and "University Badges" not in page
    # ...and the root's issuer is out of reach by URL too: 404, exactly as a missing one.
    other = Issuer.objects.exclude(pk=mine.pk).get()
    assert client.get(url("detail", space_a, other.pk)).status_code == 404
    assert client.get(url("edit", space_a, other.pk)).status_code == 404
    # The organisation field offers only the subtree they manage.
    form = client.get(url("edit", space_a, mine.pk)).context["form"]
    assert list(form.fields["organisation"].queryset) == [department]


def test_list_query_count_does_not_grow(client_a, space_a, django_assert_num_queries):
    # session, user, space, member, grants; the count and one page of issuers (with current
    # profile, organisation and a badge count); the shell's space switcher: 8.
    make_issuer(space_a)
    with django_assert_num_queries(8):
        client_a.get(url("index", space_a))
    for n in range(8):
        make_issuer(space_a, name=f"Issuer {n}")
    with django_assert_num_queries(8):
        response = client_a.get(url("index", space_a))
    assert len(response.context["page"].object_list) == 9


# ---- Permissions ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["index", "create"])
def test_a_member_without_manage_issuers_gets_403(client, space_a, member_a, name):
    client.force_login(member_a)
    response = client.get(url(name, space_a))
    assert response.status_code == 403


def test_a_member_gets_403_on_an_issuer(client, space_a, member_a):
    issuer = make_issuer(space_a)
    client.force_login(member_a)
    assert client.get(url("detail", space_a, issuer.pk)).status_code == 403
    assert client.post(url("edit", space_a, issuer.pk), form_data()).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, space_a):
    issuer = make_issuer(space_a)
    for target in (url("index", space_a), url("edit", space_a, issuer.pk)):
        response = client.get(target)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_another_spaces_issuer_is_404(client, space_a, admin_b, space_b):
    issuer = make_issuer(space_a)
    client.force_login(admin_b)
    assert client.get(url("detail", space_b, issuer.pk)).status_code == 404
    assert client.get(url("edit", space_a, issuer.pk)).status_code == 404


def test_wrong_method(client_a, space_a):
    issuer = make_issuer(space_a)
    assert client_a.post(url("index", space_a)).status_code == 405
    assert client_a.post(url("detail", space_a, issuer.pk)).status_code == 405
    assert client_a.delete(url("edit", space_a, issuer.pk)).status_code == 405


# ---- Versions and awards ----------------------------------------------------------------


def test_an_old_award_keeps_the_old_name_and_logo(client_a, space_a, member_a, admin_a):
    badge = make_badge(space_a)
    issuer = badge.issuer
    issuer_update(
        access=Access.system(issuer.space), issuer=issuer, actor=None, logo=logo("#ff0000")
    )
    issuer.refresh_from_db()
    old_logo = issuer.current.logo.name
    _, before = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[RecipientInput(user=member_a)],
    )

    # Edited in the browser: a new name and a new logo.
    data = form_data(organisation=issuer.organisation_id, name="Acme Academy", logo=logo("#00ff00"))
    assert client_a.post(url("edit", space_a, issuer.pk), data).status_code == 302
    issuer.refresh_from_db()
    assert issuer.current.name == "Acme Academy" and issuer.current.logo.name != old_logo

    badge.refresh_from_db()
    _, after = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN + timedelta(minutes=1),
        recipients=[RecipientInput(user=member_a)],
    )
    old = Award.objects.select_related("issuer_version").get(pk=before[0].award.pk)
    new = Award.objects.select_related("issuer_version").get(pk=after[0].award.pk)
    assert (old.issuer_version.name, old.issuer_version.logo.name) == ("Acme Learning", old_logo)
    assert new.issuer_version.name == "Acme Academy"
    assert new.issuer_version.logo.name == issuer.current.logo.name
    # The old version's file is still there to serve.
    assert old.issuer_version.logo.storage.exists(old_logo)
