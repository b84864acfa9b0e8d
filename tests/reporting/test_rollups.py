"""The rollups equal the raw counts: after random sequences of awards (one by one and in bulk),
revocations, declines, deletions and moves of awards to another organisation, every count a
report or the Reporting API reads over a random window is what counting the awards gives.

The oracle is plain Python over the awards as they stand (local dates in Pacific/Auckland,
far from UTC); the rollups are what the triggers kept, written in the same transactions."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.services import apikey_create
from badges.models import Award, Badge, IssueBatch
from orgs.models import Organisation
from reporting import rollups
from reporting.models import (
    DailyAwardCount,
    MonthlyAwardCount,
    OrgDailyAwardCount,
    SpaceDailyAwardCount,
)
from reporting.periods import DAY, MONTH, Period
from reporting.queries import Counted, Selection, badge_counts, issued_per_badge, org_counts, series
from tests.api.conftest import ApiClient
from tests.factories import OrganisationFactory, UserFactory, make_badge

pytestmark = pytest.mark.django_db

NZ = ZoneInfo("Pacific/Auckland")
BASE = datetime(2025, 1, 25, 0, 0, tzinfo=NZ)  # windows cross the ends of Jan, Feb, Mar
SPAN_MINUTES = 80 * 24 * 60


@pytest.fixture
def world(space_a, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    root = space_a.root_organisation
    eng = OrganisationFactory(space=space_a, parent=root, name="Engineering")
    comp = OrganisationFactory(
        space=space_a, parent=Organisation.objects.get(pk=eng.pk), name="Computing"
    )
    arts = OrganisationFactory(space=space_a, parent=root, name="Arts")
    orgs = [Organisation.objects.get(pk=o.pk) for o in (root, eng, comp, arts)]
    badges = [
        make_badge(space_a, organisation=org, name=f"Badge {i}") for i, org in enumerate(orgs)
    ]
    people = [UserFactory() for _ in range(3)]
    batch = IssueBatch.objects.create(
        space=space_a, badge=badges[0], source=IssueBatch.Source.API, status="done",
        issued_at=BASE, total=0, processed=0, issued=0,
    )  # fmt: skip
    return space_a, orgs, badges, people, batch


def new_award(space, badge, org, person, batch, when, n) -> Award:
    return Award(
        space=space, badge=badge, batch=batch, recipient=person, organisation=org,
        issuer_version=badge.issuer.current, source="api", achieved_at=when + timedelta(
            microseconds=n), issued_at=when, badge_snapshot={}, recipient_email=person.email,
        identity_salt="0" * 32,
    )  # fmt: skip


minutes = st.integers(0, SPAN_MINUTES)
operation = st.one_of(
    st.tuples(st.just("award"), st.integers(0, 3), st.integers(0, 3), minutes),
    st.tuples(
        st.just("bulk"),
        st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), minutes), max_size=6),
    ),
    st.tuples(st.just("revoke"), st.integers(0, 50), st.integers(0, 30 * 24 * 60)),
    st.tuples(st.just("decline"), st.integers(0, 50), st.integers(0, 30 * 24 * 60)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("move"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("revoke_all_of"), st.integers(0, 3), minutes),
)
window = st.tuples(st.integers(-3, 82), st.integers(0, 85))


def local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(NZ).date() if moment else None


def apply(op, world, counter: list[int]) -> None:
    space, orgs, badges, people, batch = world
    kind = op[0]
    existing = list(Award.objects.filter(space=space).order_by("pk").values_list("pk", flat=True))
    pick = (lambda i: existing[i % len(existing)]) if existing else None
    if kind == "award":
        counter[0] += 1
        _, b, o, m = op
        when = BASE + timedelta(minutes=m)
        new_award(space, badges[b], orgs[o], people[counter[0] % 3], batch, when, counter[0]).save()
    elif kind == "bulk":
        rows = []
        for b, o, m in op[1]:
            counter[0] += 1
            when = BASE + timedelta(minutes=m)
            rows.append(
                new_award(
                    space, badges[b], orgs[o], people[counter[0] % 3], batch, when, counter[0]
                )
            )
        Award.objects.bulk_create(rows)  # one INSERT: one statement-level trigger on PostgreSQL
    elif pick is None:
        return
    elif kind == "revoke":
        award = Award.objects.get(pk=pick(op[1]))
        award.revoked_at = award.issued_at + timedelta(minutes=op[2])
        award.save(update_fields=["revoked_at"])
    elif kind == "decline":
        Award.objects.filter(pk=pick(op[1]), declined_at__isnull=True).update(
            declined_at=BASE + timedelta(minutes=op[2])
        )
    elif kind == "delete":
        Award.objects.filter(pk=pick(op[1])).delete()
    elif kind == "move":  # as organisation removal moves holdings: one UPDATE
        Award.objects.filter(space=space, organisation=orgs[op[1]]).update(organisation=orgs[op[2]])
    elif kind == "revoke_all_of":
        Award.objects.filter(space=space, badge=badges[op[1]], revoked_at__isnull=True).update(
            revoked_at=BASE + timedelta(minutes=op[2])
        )


def check(world, windows) -> None:
    space, orgs, badges, people, batch = world
    awards = list(
        Award.objects.filter(space=space).values(
            "organisation_id", "badge_id", "issued_at", "revoked_at", "declined_at"
        )
    )
    # Daily rows, per key, for every event kind.
    expected = Counter()
    for a in awards:
        key = (a["organisation_id"], a["badge_id"])
        expected[(*key, local_day(a["issued_at"]), "issued")] += 1
        if a["revoked_at"]:
            expected[(*key, local_day(a["revoked_at"]), "revoked")] += 1
        if a["declined_at"]:
            expected[(*key, local_day(a["declined_at"]), "declined")] += 1
    got = Counter()
    for row in DailyAwardCount.objects.filter(space=space).values():
        for kind in rollups.COUNTS:
            if row[kind]:
                got[(row["organisation_id"], row["badge_id"], row["day"], kind)] += row[kind]
    assert +got == +expected
    # Per organisation and day, all badges together, for every event kind.
    per_org = Counter()
    for row in OrgDailyAwardCount.objects.filter(space=space).values():
        for kind in rollups.COUNTS:
            if row[kind]:
                per_org[(row["organisation_id"], row["day"], kind)] += row[kind]
    expected_per_org = Counter()
    for (o, _b, d, kind), n in expected.items():
        expected_per_org[(o, d, kind)] += n
    assert +per_org == +expected_per_org
    monthly = Counter()
    for row in MonthlyAwardCount.objects.filter(space=space).values():
        monthly[(row["organisation_id"], row["badge_id"], row["month"])] += row["issued"]
    assert +monthly == +Counter(
        {
            (o, b, d.replace(day=1)): n
            for (o, b, d, kind), n in _merge_months(expected).items()
            if kind == "issued"
        }
    )

    root, eng = orgs[0], orgs[1]
    in_eng = {o.pk for o in orgs[1:3]}
    for offset, length in windows:
        start = BASE.date() + timedelta(days=offset)
        period = Period(start, start + timedelta(days=length))
        inside = [a for a in awards if period.start <= local_day(a["issued_at"]) <= period.end]
        whole = Counted(space, Selection((root,), True), period)
        subtree = Counted(space, Selection((eng,), True), period)
        alone = Counted(space, Selection((eng,), False), period)
        for unit in (DAY, MONTH):

            def bucket(d: date, unit=unit) -> date:
                return d if unit == DAY else d.replace(day=1)

            for counted, keep in (
                (whole, lambda a: True),
                (subtree, lambda a: a["organisation_id"] in in_eng),
                (alone, lambda a: a["organisation_id"] == eng.pk),
            ):
                raw = Counter(bucket(local_day(a["issued_at"])) for a in inside if keep(a))
                assert {b: n for b, n in series(counted, period, unit) if n} == dict(raw)
        assert dict(badge_counts(whole)) == dict(Counter(a["badge_id"] for a in inside))
        assert org_counts(whole) == dict(Counter(a["organisation_id"] for a in inside))
        in_sub = [a for a in inside if a["organisation_id"] in in_eng]
        assert org_counts(subtree) == dict(Counter(a["organisation_id"] for a in in_sub))
        api = Badge.objects.filter(space=space).annotate(
            n=issued_per_badge(period.start, period.end)
        )
        raw_per_badge = Counter(a["badge_id"] for a in inside)
        assert {b.pk: b.n for b in api} == {b.pk: raw_per_badge.get(b.pk, 0) for b in badges}
    total = SpaceDailyAwardCount.objects.filter(space=space).aggregate(n=Sum("issued"))["n"]
    assert (total or 0) == len(awards)


def _merge_months(expected: Counter) -> Counter:
    out = Counter()
    for (o, b, d, kind), n in expected.items():
        out[(o, b, d.replace(day=1), kind)] += n
    return out


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=25), windows=st.lists(window, max_size=4))
def test_rollups_equal_raw_counts_after_any_sequence(world, ops, windows):
    with transaction.atomic():
        counter = [0]
        for op in ops:
            apply(op, world, counter)
        check(world, [(0, 80), *windows])
        transaction.set_rollback(True)  # the next example starts from no awards


def test_rebuild_is_the_backfill_and_gives_the_same_rows(world):
    space, orgs, badges, people, batch = world
    for i, op in enumerate(
        [("award", 0, 0, 10), ("award", 2, 2, 5000), ("bulk", [(1, 1, 90_000), (3, 3, 60)])]
    ):
        apply(op, world, [i * 10])
    Award.objects.filter(badge=badges[2]).update(revoked_at=BASE + timedelta(days=40))

    def rows():
        return sorted(
            (r["day"], r["organisation_id"], r["badge_id"], r["issued"], r["revoked"])
            for r in DailyAwardCount.objects.values()
        )

    def org_rows():
        return sorted(
            (r["day"], r["organisation_id"], r["issued"], r["revoked"])
            for r in OrgDailyAwardCount.objects.values()
        )

    kept, kept_org = rows(), org_rows()
    assert kept_org
    DailyAwardCount.objects.all().delete()
    MonthlyAwardCount.objects.all().delete()
    OrgDailyAwardCount.objects.all().delete()
    SpaceDailyAwardCount.objects.all().delete()
    rollups.rebuild()
    assert rows() == kept
    assert org_rows() == kept_org
    check(world, [(0, 80)])


def test_an_organisation_moved_in_the_tree_counts_under_its_new_parent(world):
    """Rollups hold the organisation an award was issued under; the tree is joined when
    reading, so moving a department needs no recount."""
    space, orgs, badges, people, batch = world
    root, eng, comp, arts = orgs
    apply(("award", 2, 2, 100), world, [1])
    period = Period(BASE.date(), BASE.date() + timedelta(days=10))
    arts_tree = Counted(space, Selection((arts,), True), period)
    assert org_counts(arts_tree) == {}
    comp.move_to(Organisation.objects.get(pk=arts.pk), "last-child")
    arts = Organisation.objects.get(pk=arts.pk)
    assert org_counts(Counted(space, Selection((arts,), True), period)) == {comp.pk: 1}


# ---- Query counts ----------------------------------------------------------------------------


def test_report_pages_on_part_of_the_tree_keep_their_query_counts(
    client_a, world, django_assert_num_queries
):
    """The subtree paths (day rows grouped, month rows UNION the partial months' days) cost
    what the whole-space path costs: see test_views.PAGES (shell 6; organisations offered,
    series, engagement, counts per badge, the page's badges, counts per organisation)."""
    space, orgs, badges, people, batch = world
    counter = [0]
    for m in range(0, SPAN_MINUTES, 7 * 24 * 60):
        apply(("bulk", [(1, 1, m), (2, 2, m + 60), (0, 0, m)]), world, counter)
    url = f"/s/{space.slug}/reports/"
    for show in ("day", "month"):
        params = {
            "period": "custom", "from": "2025-01-29", "to": "2025-04-10", "show": show,
            "breakdown": "1", "org": orgs[1].pk, "sub": ["0", "1"],
        }  # fmt: skip
        with django_assert_num_queries(6 + 6):
            response = client_a.get(url, params)
        assert response.status_code == 200
        assert response.context["total"] == 2 * 10  # Engineering and Computing, 1 Feb – 5 Apr


def test_api_badge_award_counts_come_from_the_rollups(
    client, world, admin_a, django_assert_num_queries
):
    space, orgs, badges, people, batch = world
    made = apikey_create(space=space, name="LMS", actor=admin_a)
    api = ApiClient(client, made.key.developer_key, made.token)
    counter = [0]
    dates = {"from": "2025-02-03", "to": "2025-04-02"}  # 59 days: two partial months, one whole

    def fetch() -> list[int]:
        return [b["Awards"] for b in api.get("/api/badges", dates).json()["Results"]]

    apply(("bulk", [(b, b, 10 * 24 * 60) for b in range(4)]), world, counter)
    fetch()
    with CaptureQueriesContext(connection) as captured:
        assert fetch() == [1] * 4
    expected = len(captured)
    for m in range(0, SPAN_MINUTES, 24 * 60):
        apply(("bulk", [(b, b, m) for b in range(4)]), world, counter)
    with django_assert_num_queries(expected):
        assert fetch() == [59 + 1] * 4
    counting = captured.captured_queries[-1]["sql"]  # the page of badges, with their counts
    assert "reporting_monthlyawardcount" in counting and "badges_award" not in counting
