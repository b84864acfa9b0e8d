"""Create user: a new person with places and roles and a verification email, or — for an email
already on the platform — an offer to add that person to the space."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory, add_member, build_tree, make_space, member_of, role
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


def create_url(space):
    return reverse("users:create", args=[space.slug])


def payload(*places, **fields):
    data = {
        "email": "nina@example.test",
        "first_name": "Nina",
        "last_name": "New",
        "username": "nina",
        "external_id": "",
        "places-TOTAL_FORMS": str(len(places)),
        "places-INITIAL_FORMS": "0",
        "places-MIN_NUM_FORMS": "1",
        "places-MAX_NUM_FORMS": "1000",
    }
    for i, (place, role_obj) in enumerate(places):
        data[f"places-{i}-place"] = place
        data[f"places-{i}-role"] = role_obj.pk
    data.update(fields)
    return data


def test_create_user_into_a_group_sends_the_verification_email(client_a, space_a, tree, committed):
    group = tree["dept_group"]
    with committed():
        response = client_a.post(
            create_url(space_a),
            payload(
                (f"g:{group.pk}", role(space_a, "User")),
                (f"o:{tree['team'].pk}", role(space_a, "Reporter")),
                external_id="S-1001",
            ),
        )
    user = User.objects.get(email="nina@example.test")
    member = member_of(space_a, user)
    assert response.status_code == 302
    assert response.url == reverse("users:detail", args=[space_a.slug, member.pk])
    assert member.external_id == "S-1001"
    assert not user.has_usable_password() and not user.is_verified
    places = {(m.group_id, m.organisation_id, m.role.name) for m in user.memberships.all()}
    assert places == {(group.pk, None, "User"), (None, tree["team"].pk, "Reporter")}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nina@example.test"]
    assert "/accounts/verify/" in mail.outbox[0].body and space_a.name in mail.outbox[0].body


def test_the_form_offers_places_and_defaults_to_the_user_role(client_a, space_a, tree):
    html = client_a.get(create_url(space_a)).content.decode()
    assert "Cohort 2026" in html and "AI Lab" in html
    user_role = role(space_a, "User")
    assert f'<option value="{user_role.pk}" selected>User</option>' in html


def test_add_another_row_works_without_javascript(client_a, space_a, tree):
    response = client_a.post(
        create_url(space_a), payload((f"o:{tree['team'].pk}", role(space_a, "User")), add_row="1")
    )
    assert response.status_code == 200
    assert 'name="places-1-place"' in response.content.decode()
    assert not User.objects.filter(email="nina@example.test").exists()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"username": "alice"}, "That username is taken"),
        ({"username": "ALICE"}, "That username is taken"),
        ({"external_id": "EMP-7"}, "already has this external identifier"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"first_name": ""}, "This field is required"),
        ({"username": "bad name!"}, "Enter a valid username"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_creates_nothing(
    client_a, space_a, tree, fields, message
):
    Member.objects.filter(space=space_a, user__username="alice").update(external_id="EMP-7")
    response = client_a.post(
        create_url(space_a), payload((f"o:{tree['team'].pk}", role(space_a, "User")), **fields)
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Member.objects.filter(space=space_a).count() == 1
    assert not mail.outbox


def test_at_least_one_place_is_needed(client_a, space_a, tree):
    response = client_a.post(create_url(space_a), payload(("", role(space_a, "User"))))
    assert response.status_code == 422
    assert "Choose at least one organisation or group" in response.content.decode()
    assert not User.objects.filter(email="nina@example.test").exists()


def test_the_same_place_twice_is_refused(client_a, space_a, tree):
    place = f"o:{tree['team'].pk}"
    response = client_a.post(
        create_url(space_a),
        payload((place, role(space_a, "User")), (place, role(space_a, "Reporter"))),
    )
    assert response.status_code == 422
    assert "chosen twice" in response.content.decode()


# ---- An email already on the platform ----------------------------------------------------------


def test_existing_email_is_not_created_again_and_the_form_offers_to_add_them(
    client_a, space_a, tree
):
    elsewhere = make_space("Secret Club", "secret-club")
    other = add_member(elsewhere, UserFactory(email="Known@Example.test", first_name="Kim"))
    response = client_a.post(
        create_url(space_a),
        payload(
            (f"g:{tree['dept_group'].pk}", role(space_a, "User")),
            email="known@example.test",
            username="alice",  # taken, but irrelevant: the person keeps their own
        ),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "already uses known@example.test" in html
    assert "Add this person to Acme University" in html
    # Nothing about the person's other spaces (or even their name) is revealed.
    assert "Secret Club" not in html and "Kim" not in html
    assert not Member.objects.filter(space=space_a, user=other).exists()
    assert User.objects.filter(email__iexact="known@example.test").count() == 1


def test_adding_an_existing_person_puts_them_in_the_space_and_tells_them(
    client_a, space_a, tree, committed
):
    elsewhere = make_space("Secret Club", "secret-club")
    other = add_member(elsewhere, UserFactory(email="known@example.test"))
    group = tree["dept_group"]
    with committed():
        response = client_a.post(
            create_url(space_a),
            payload(
                (f"g:{group.pk}", role(space_a, "User")),
                email="known@example.test",
                external_id="X-9",
                add_existing="1",
            ),
        )
    member = member_of(space_a, other)
    assert response.status_code == 302
    assert member.external_id == "X-9"
    assert Membership.objects.get(space=space_a, user=other).group == group
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [other.email] and "Acme University" in email.subject
    assert "Secret Club" not in email.body
    # Their account is untouched: same password, same name.
    other.refresh_from_db()
    assert other.check_password("correct-horse-battery-staple")


def test_an_existing_person_who_never_verified_gets_the_verification_email(
    client_a, space_a, tree, committed
):
    from users.services import user_create_unverified

    ghost = user_create_unverified(email="ghost@example.test", first_name="G", last_name="H")
    with committed():
        client_a.post(
            create_url(space_a),
            payload(
                (f"o:{tree['team'].pk}", role(space_a, "User")),
                email="ghost@example.test",
                add_existing="1",
            ),
        )
    assert Member.objects.filter(space=space_a, user=ghost).exists()
    assert "/accounts/verify/" in mail.outbox[0].body


def test_someone_already_in_the_space_is_refused(client_a, space_a, member_a, tree):
    response = client_a.post(
        create_url(space_a),
        payload((f"o:{tree['team'].pk}", role(space_a, "User")), email=member_a.email),
    )
    assert response.status_code == 422
    assert "already in your space" in response.content.decode()


# ---- Who may create whom where -----------------------------------------------------------------


def test_org_admin_creates_only_inside_their_department(client, space_a, tree):
    boss = add_member(space_a, role_name="Organisation Administrator", organisation=tree["dept"])
    client.force_login(boss)
    html = client.get(create_url(space_a)).content.decode()
    assert "AI Lab" in html and "Cohort 2026" in html
    assert "Arts" not in html and "Choir" not in html
    response = client.post(
        create_url(space_a), payload((f"o:{tree['sibling'].pk}", role(space_a, "User")))
    )
    assert response.status_code == 422
    # Nor may they hand out more than they hold (Space Administrator has space-wide rights).
    response = client.post(
        create_url(space_a),
        payload((f"o:{tree['team'].pk}", role(space_a, "Space Administrator"))),
    )
    assert response.status_code == 422
    assert "carries rights you do not hold there" in response.content.decode()
    assert not User.objects.filter(email="nina@example.test").exists()
    response = client.post(
        create_url(space_a),
        payload((f"o:{tree['team'].pk}", role(space_a, "Organisation Administrator"))),
    )
    assert response.status_code == 302


def test_plain_member_gets_403(client, space_a, member_a):
    client.force_login(member_a)
    assert client.get(create_url(space_a)).status_code == 403


def test_wrong_method(client_a, space_a):
    assert client_a.put(create_url(space_a)).status_code == 405
