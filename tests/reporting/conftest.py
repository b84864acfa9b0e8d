"""A small, hand-counted data set for report tests, in a time zone far from UTC.

TIME_ZONE is Pacific/Auckland (UTC+13 in March, +12 from 6 April 2025), so local midnight is
late morning UTC the day before: bucketing or filtering in UTC would give other numbers.

    Acme University (root)          badge "Welcome"
    ├── Arts                        badge "Poetry"
    └── Engineering                 badge "Bridges"
        └── Computing               badge "Python"

Awards (local times), the report period being 1 March – 30 April 2025:
    a1  Bridges  Engineering  1 Mar 00:00      first instant of the period: in (March)
    a2  Bridges  Engineering  28 Feb 23:59     just before: out
    a3  Python   Computing    15 Mar 12:00     March
    a4  Python   Computing    1 Apr 00:30      April (31 March in UTC)
    a5  Python   Computing    10 Apr 09:00     April, revoked since: still counts
    a6  Poetry   Arts         30 Apr 23:59     last minute of the period: in (April)
    a7  Poetry   Arts         1 May 00:00      just after: out (30 April in UTC)
    a8  Welcome  root         20 Mar 10:00     March
    a9  Python   Arts         21 Mar 10:00     counted under Arts (the organisation at issue)

So: whole space March 4 (a1 a3 a8 a9), April 3 (a4 a5 a6) = 7; Engineering with its
sub-organisations 4 (March a1 a3, April a4 a5); Engineering alone 1 (a1); Computing 3; Arts 2.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from orgs.models import Organisation
from tests.factories import OrganisationFactory, UserFactory, make_award_at, make_badge

NZ = ZoneInfo("Pacific/Auckland")
PERIOD = {"period": "custom", "from": "2025-03-01", "to": "2025-04-30"}


def nz(*args) -> datetime:
    return datetime(*args, tzinfo=NZ)


@dataclass
class Data:
    root: Organisation
    eng: Organisation
    comp: Organisation
    arts: Organisation
    badges: dict
    awards: dict
    people: list


@pytest.fixture
def nz_time(settings):
    settings.TIME_ZONE = "Pacific/Auckland"


@pytest.fixture
def data(space_a, nz_time) -> Data:
    root = space_a.root_organisation
    eng = OrganisationFactory(space=space_a, parent=root, name="Engineering")
    arts = OrganisationFactory(space=space_a, parent=root, name="Arts")
    comp = OrganisationFactory(space=space_a, parent=Organisation.objects.get(pk=eng.pk),
                               name="Computing")  # fmt: skip
    root, eng, comp, arts = (Organisation.objects.get(pk=o.pk) for o in (root, eng, comp, arts))
    space_a._root_org = root
    badges = {
        "Welcome": make_badge(space_a, organisation=root, name="Welcome"),
        "Bridges": make_badge(space_a, organisation=eng, name="Bridges"),
        "Python": make_badge(space_a, organisation=comp, name="Python"),
        "Poetry": make_badge(space_a, organisation=arts, name="Poetry"),
    }
    people = [
        UserFactory(first_name=f"Person{i}", last_name="Test", email=f"p{i}@example.test")
        for i in range(1, 10)
    ]
    plan = {
        "a1": ("Bridges", eng, nz(2025, 3, 1, 0, 0)),
        "a2": ("Bridges", eng, nz(2025, 2, 28, 23, 59)),
        "a3": ("Python", comp, nz(2025, 3, 15, 12, 0)),
        "a4": ("Python", comp, nz(2025, 4, 1, 0, 30)),
        "a5": ("Python", comp, nz(2025, 4, 10, 9, 0)),
        "a6": ("Poetry", arts, nz(2025, 4, 30, 23, 59)),
        "a7": ("Poetry", arts, nz(2025, 5, 1, 0, 0)),
        "a8": ("Welcome", root, nz(2025, 3, 20, 10, 0)),
        "a9": ("Python", arts, nz(2025, 3, 21, 10, 0)),
    }
    awards = {}
    for i, (key, (badge, org, when)) in enumerate(plan.items()):
        awards[key] = make_award_at(
            badges[badge],
            people[i],
            when,
            organisation=org,
            revoked_at=nz(2025, 4, 12) if key == "a5" else None,
        )
    return Data(root, eng, comp, arts, badges, awards, people)
