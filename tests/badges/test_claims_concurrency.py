"""A claim link's limit holds when many people confirm at once — on PostgreSQL, with real
transactions: each confirmation in its own thread, connection and transaction, released
together by a barrier. Runs when DATABASE_URL points at PostgreSQL (CI's second run); with
REQUIRE_SERVICES=1 a missing PostgreSQL is a failure, not a skip."""

import os

import pytest
from django.db import connection

from badges import claims
from badges.models import Award, Claim, ClaimLink
from tests.api.test_concurrency import at_once
from tests.factories import make_badge, make_claim_link

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL: DATABASE_URL=postgres://…")


def confirm(claim):
    def call():
        try:
            return claims.claim_confirm(claim=claim).status
        except claims.ClaimRefused as exc:
            return exc.message

    return call


def test_twelve_confirmations_at_once_never_pass_a_limit_of_five(space_a):
    badge = make_badge(space_a)
    link = make_claim_link(space_a, badge=badge, limit=5)
    pending = [
        claims.claim_start(link=link, email=f"p{n}@race.test", first_name="P", last_name=f"{n}")
        for n in range(12)
    ]
    results = at_once([confirm(c) for c in pending])
    assert results.count("claimed") == 5
    assert results.count("All the badges of this link have been claimed.") == 7
    assert Award.objects.filter(badge=badge).count() == 5
    assert ClaimLink.objects.get(pk=link.pk).claimed == 5
    assert Claim.objects.filter(status=Claim.Status.CLAIMED).count() == 5


def test_one_claim_confirmed_twice_at_once_awards_once(space_a):
    link = make_claim_link(space_a, badge=make_badge(space_a))
    claim = claims.claim_start(link=link, email="twice@race.test", first_name="T", last_name="W")
    results = at_once([confirm(claim), confirm(claim)])
    assert results == ["claimed", "claimed"]
    assert Award.objects.count() == 1
    assert ClaimLink.objects.get(pk=link.pk).claimed == 1
