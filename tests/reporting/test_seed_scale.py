"""seed_scale at a small size (the million-award run is measured on PostgreSQL: bench/)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Min, Sum
from django.utils import timezone

from badges.models import Award, Badge, IssueBatch
from orgs.models import Organisation, Space
from reporting.models import DailyAwardCount, SpaceDailyAwardCount
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db(transaction=True)

SMALL = ["--awards", "600", "--organisations", "30", "--badges", "12", "--users", "80"]


def tree_of(space):
    return list(
        Organisation.objects.filter(space=space)
        .order_by("pk")
        .values_list("pk", "parent_id", "lft", "rght", "level", "tree_id")
    )


def test_builds_a_realistic_space_with_a_valid_tree():
    call_command("seed_scale", "--slug", "scaletest", *SMALL, stdout=io.StringIO())
    space = Space.objects.get(slug="scaletest")
    assert Organisation.objects.filter(space=space).count() == 30
    assert Organisation.objects.filter(space=space).aggregate(m=Max("level"))["m"] == 3  # 4 deep
    assert Badge.objects.filter(space=space).count() == 12
    assert Member.objects.filter(space=space).count() == 80 + 2  # + admin and reporter
    assert Membership.objects.filter(space=space, role__name="User").count() == 80
    awards = Award.objects.filter(space=space)
    assert awards.count() == 600
    # Every award is counted under its badge's organisation and sits in a batch of its badge.
    assert not awards.exclude(organisation=F("badge__organisation")).exists()
    assert not awards.exclude(batch__badge=F("badge")).exists()
    assert sum(IssueBatch.objects.filter(space=space).values_list("issued", flat=True)) == 600
    spread = awards.aggregate(first=Min("issued_at"), last=Max("issued_at"))
    assert (timezone.now() - spread["first"]).days <= 3 * 365  # over the last three years
    assert (spread["last"] - spread["first"]).days > 2 * 365
    assert awards.values("badge").annotate(n=Count("*")).count() > 1

    # The MPTT fields written directly are exactly what django-mptt would compute.
    before = tree_of(space)
    Organisation.objects.partial_rebuild(before[0][5])
    assert tree_of(space) == before

    # The ids handed out directly did not confuse the sequences: normal inserts still work.
    Organisation.objects.create(space=space, parent=space.root_organisation, name="New one")
    User.objects.create(username="after-seed", email="after@seed.test")


def test_refuses_an_existing_slug_unless_asked_to_replace():
    out = io.StringIO()
    call_command("seed_scale", "--slug", "again", *SMALL, stdout=out)
    with pytest.raises(CommandError, match="--replace"):
        call_command("seed_scale", "--slug", "again", *SMALL, stdout=out)
    call_command("seed_scale", "--slug", "again", "--replace", *SMALL, stdout=out)
    assert Space.objects.filter(slug="again").count() == 1
    assert User.objects.filter(email__endswith="@again.scale.test").count() == 80 + 2


def test_the_seeded_awards_are_counted_in_the_rollups():
    """Rows written with COPY pass the triggers too: the rollups hold every seeded award."""
    call_command("seed_scale", "--slug", "counted", *SMALL, stdout=io.StringIO())
    space = Space.objects.get(slug="counted")
    daily = DailyAwardCount.objects.filter(space=space)
    assert daily.aggregate(n=Sum("issued"))["n"] == 600
    revoked = Award.objects.filter(space=space, revoked_at__isnull=False).count()
    assert revoked and daily.aggregate(n=Sum("revoked"))["n"] == revoked
    per_space = SpaceDailyAwardCount.objects.filter(space=space).aggregate(n=Sum("issued"))
    assert per_space["n"] == 600
