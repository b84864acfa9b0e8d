"""Hole 8: the report's recipients pages (and their CSV) took ``?badge=N`` for any badge of
the space and showed its name to a reader who may not report on its organisation. A badge
outside the reader's reach is now "not found", exactly like a missing one: no name, no numbers.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.permissions import Perm
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    add_with_perms,
    make_award_at,
    make_badge,
)

pytestmark = pytest.mark.django_db

PERIOD = {"period": "last_30"}


@pytest.fixture
def setting(space_a):
    science = OrganisationFactory(space=space_a, name="Science")
    arts = OrganisationFactory(space=space_a, name="Arts")
    secret = make_badge(space_a, organisation=science, name="Secret Science Prize")
    shared = make_badge(space_a, organisation=science, name="Shared Science Badge")
    when = timezone.now() - timedelta(days=2)
    make_award_at(secret, UserFactory(), when)
    # Issued under Arts: it counts in Arts' reports, so Arts' reporter may see its recipients.
    make_award_at(shared, UserFactory(), when, organisation=arts)
    reporter = add_with_perms(space_a, [Perm.VIEW_REPORTS], organisation=arts)
    return reporter, secret, shared


@pytest.mark.parametrize("name", ["reporting:recipients", "reporting:recipients_csv"])
def test_a_badge_outside_the_readers_reach_is_not_found_and_not_named(
    client, space_a, setting, name
):
    reporter, secret, _ = setting
    client.force_login(reporter)
    response = client.get(reverse(name, args=[space_a.slug]), {**PERIOD, "badge": secret.pk})
    assert response.status_code == 404
    assert "Secret Science Prize" not in response.content.decode()
    missing = client.get(reverse(name, args=[space_a.slug]), {**PERIOD, "badge": 987654})
    assert missing.status_code == 404  # the same answer as a badge that does not exist


@pytest.mark.parametrize("name", ["reporting:recipients", "reporting:recipients_csv"])
def test_a_badge_counted_in_the_readers_organisations_is_shown(client, space_a, setting, name):
    reporter, _, shared = setting
    client.force_login(reporter)
    response = client.get(reverse(name, args=[space_a.slug]), {**PERIOD, "badge": shared.pk})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert "Shared Science Badge" in body.decode()


def test_an_administrator_of_the_whole_space_still_sees_every_badge(client_a, space_a, setting):
    _, secret, _ = setting
    response = client_a.get(
        reverse("reporting:recipients", args=[space_a.slug]), {**PERIOD, "badge": secret.pk}
    )
    assert response.status_code == 200 and "Secret Science Prize" in response.content.decode()
