"""Sessions: a new key at sign-in (no fixation), every other session ended by a password
change, and a person removed from their last space signed out everywhere."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from badgeplatform.access import load_access
from tests.factories import PASSWORD, add_member
from users.memberships import members_remove_from_space, sessions_end_for
from users.models import Member

pytestmark = pytest.mark.django_db


def signed_in_client(user) -> Client:
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, "sign-in failed"
    return client


def is_signed_in(client: Client, space) -> bool:
    """The backpack answers anyone signed in; anyone else is sent to the sign-in page."""
    response = client.get(reverse("backpack:index"))
    return response.status_code == 200


def test_signing_in_rotates_the_session_key(client, member_a):
    # A session planted before sign-in (as a fixation attack would) ...
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    before = session.session_key
    assert client.cookies["sessionid"].value == before

    client.post(reverse("accounts:login"), {"username": "mallory", "password": PASSWORD})

    after = client.cookies["sessionid"].value
    assert after != before  # ... is not the one that becomes authenticated
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.get(session_key=after).get_decoded()["_auth_user_id"] == str(member_a.pk)


def test_a_password_change_signs_out_every_other_session(space_a, member_a):
    laptop, phone = signed_in_client(member_a), signed_in_client(member_a)
    assert is_signed_in(laptop, space_a) and is_signed_in(phone, space_a)

    response = laptop.post(
        reverse("accounts:change_password"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-brand-new-and-long-passphrase-77",
            "new_password2": "a-brand-new-and-long-passphrase-77",
        },
    )
    assert response.status_code == 302

    assert is_signed_in(laptop, space_a)  # the session that changed it stays
    assert not is_signed_in(phone, space_a)  # the other one (a thief's, maybe) is over


def test_removal_from_the_last_space_ends_every_session(space_a, member_a, admin_a, committed):
    one, two = signed_in_client(member_a), signed_in_client(member_a)
    admin_session = signed_in_client(admin_a)

    with committed():
        members_remove_from_space(
            access=load_access(space_a, admin_a), space=space_a, user_ids=[member_a.pk]
        )

    assert not is_signed_in(one, space_a) and not is_signed_in(two, space_a)
    assert is_signed_in(admin_session, space_a)  # nobody else is touched


def test_removal_from_one_of_two_spaces_keeps_the_sessions(
    space_a, space_b, member_a, admin_a, committed
):
    add_member(space_b, member_a)
    client = signed_in_client(member_a)

    with committed():
        members_remove_from_space(
            access=load_access(space_a, admin_a), space=space_a, user_ids=[member_a.pk]
        )

    assert is_signed_in(client, space_b)


def test_the_bulk_remove_page_signs_the_person_out(client_a, space_a, member_a, committed):
    """Through the Users area's bulk action, as an administrator does it."""
    victim = signed_in_client(member_a)
    member = Member.objects.get(space=space_a, user=member_a)
    with committed():
        done = client_a.post(
            reverse("users:bulk", args=[space_a.slug]),
            {"member": [member.pk], "action": "remove_from_space", "confirm": "yes"},
        )
    assert done.status_code == 302
    assert not is_signed_in(victim, space_a)
    assert sessions_end_for(user_ids=[member_a.pk]) == 0  # nothing left to end
