"""The demo awards seed: works on the demo badges, twice without doubling anything."""

import io

import pytest

from badges.issuing_demo import STUDENT_EMAIL, STUDENT_PASSWORD, seed_awards
from badges.models import Award
from tests.factories import make_badge
from users.models import User

pytestmark = pytest.mark.django_db


def test_seed_awards_is_idempotent_and_leaves_a_recipient_who_can_sign_in(space_a, admin_a):
    out = io.StringIO()
    seed_awards(space_a, admin_a, out)
    assert "no published badge" in out.getvalue() and not Award.objects.exists()

    make_badge(space_a, name="A")
    make_badge(space_a, name="B")
    seed_awards(space_a, admin_a, out)
    count = Award.objects.count()
    assert count == (5 + 2) + (4 + 2)
    assert Award.objects.filter(revoked_at__isnull=False).count() == 1
    assert Award.objects.filter(recipient=admin_a).count() == 2
    student = User.objects.get(email=STUDENT_EMAIL)
    assert student.check_password(STUDENT_PASSWORD) and student.is_verified

    seed_awards(space_a, admin_a, io.StringIO())
    assert Award.objects.count() == count
    assert Award.objects.filter(revoked_at__isnull=False).count() == 1
