"""Organisation removal with real issuers, badges and awards: refused until they are moved;
after the move the removal goes through and every award is still there, unchanged."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.models import AuditEntry
from badges.issuing import RecipientInput, awards_issue
from badges.models import Award, Badge
from issuers.models import Issuer
from orgs.models import Organisation
from tests.factories import add_member, build_tree, make_badge, member_of
from users.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(space_a):
    return build_tree(space_a)


def test_badges_issuers_and_awards_block_removal_until_moved(client_a, space_a, tree, admin_a):
    badge = make_badge(space_a, organisation=tree["team"])
    learner = add_member(space_a, organisation=tree["team"])
    awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=timezone.now() - timedelta(days=1),
        recipients=[RecipientInput(user=learner)],
    )
    award = Award.objects.get(recipient=learner)
    remove = reverse("orgs:remove", args=[space_a.slug, tree["dept"].pk])

    html = client_a.get(remove).content.decode()
    assert "still holds 1 issuer, 1 badge and 1 award" in html
    assert client_a.post(remove, {"action": "remove"}).status_code == 422
    assert Organisation.objects.filter(pk=tree["dept"].pk).exists()

    moved = client_a.post(remove, {"action": "move_holdings", "target": tree["sibling"].pk})
    assert moved.status_code == 302
    assert Issuer.objects.get(pk=badge.issuer_id).organisation == tree["sibling"]
    assert Badge.objects.get(pk=badge.pk).organisation == tree["sibling"]

    assert client_a.post(remove, {"action": "remove"}).status_code == 302
    assert not Organisation.objects.filter(pk=tree["dept"].pk).exists()
    kept = Award.objects.get(pk=award.pk)
    assert (kept.recipient, kept.badge_snapshot, kept.organisation) == (
        learner,
        award.badge_snapshot,
        tree["sibling"],
    )
    actions = list(AuditEntry.objects.filter(space=space_a).values_list("action", flat=True))
    assert {"organisation.move_holdings", "organisation.remove"} <= set(actions)


def test_removing_people_from_the_space_keeps_their_awards_and_the_summary_shows_them(
    client_a, space_a, tree
):
    badge = make_badge(space_a, organisation=tree["team"], name="Rust Basics")
    learner = add_member(space_a, organisation=tree["team"])
    awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=timezone.now() - timedelta(days=1),
        recipients=[RecipientInput(user=learner)],
    )
    member = member_of(space_a, learner)
    html = client_a.get(reverse("users:detail", args=[space_a.slug, member.pk])).content.decode()
    assert "Rust Basics" in html and "No badges awarded yet" not in html

    response = client_a.post(
        reverse("users:bulk", args=[space_a.slug]),
        {"member": [member.pk], "action": "remove_from_space", "confirm": "yes"},
    )
    assert response.status_code == 302
    assert not Member.objects.filter(pk=member.pk).exists()
    assert Award.objects.filter(recipient=learner, badge=badge).count() == 1
