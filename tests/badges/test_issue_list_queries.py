"""The recipient list's queries, pinned: adding rows costs a fixed number per chunk of
ROW_CHUNK rows (never per row), and the preview a fixed number whatever the list's size."""

import io
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from badgeplatform.access import load_access
from badges import batches
from tests.factories import make_badge, space_admin

pytestmark = pytest.mark.django_db
# Session, user, space, member, grants, the badge, the list; the list's counts (one
# aggregate); the page of rows: its count and its rows; the member search (one query) and
# which of its people are listed (one); the spaces in the personal menu.
QUERIES = 13
UTC = ZoneInfo("UTC")


class Upload(io.BytesIO):
    def __init__(self, rows: int, start: int = 0):
        data = "".join(
            f"p{i}@list.test,P{i},Person,EXT-{i}\n" for i in range(start, start + rows)
        ).encode()
        super().__init__(data)
        self.size, self.name = len(data), "people.csv"


@pytest.fixture
def setting(space_a):
    badge = make_badge(space_a)
    admin = space_admin(space_a)
    access = load_access(space_a, admin)
    # A list already holding rows: the change appends to it.
    batches.draft_add_csv(
        badge=badge, actor=admin, upload=Upload(10, 10_000), tz=UTC, access=access
    )
    return badge, admin, access


@pytest.mark.parametrize("chunks", [1, 3])
def test_adding_rows_costs_three_queries_a_chunk(setting, django_assert_num_queries, chunks):
    badge, admin, access = setting
    rows = batches.ROW_CHUNK * chunks
    # Before: the list locked (1), its size and last position (1). Per chunk: the external ids
    # (1), the email addresses (1) — nobody found, so no third look-up — and one INSERT (1).
    # After, the checks across the list: two UPDATEs clearing earlier clashes, two GROUP BY
    # probes finding no repeated external id or person (4); the new rows' problems (1). And
    # the service's savepoint and its release (2).
    with django_assert_num_queries(2 + 3 * chunks + 5 + 2):
        change = batches.draft_add_csv(
            badge=badge, actor=admin, upload=Upload(rows), tz=UTC, access=access
        )
    assert (change.added, change.with_problems) == (rows, 0)


@pytest.mark.parametrize("size", [30, 300])
def test_the_preview_takes_a_constant_number_of_queries(client, setting, size):
    badge, admin, access = setting
    batches.draft_add_csv(badge=badge, actor=admin, upload=Upload(size), tz=UTC, access=access)
    client.force_login(admin)
    url = reverse("issuing:issue", args=[badge.space.slug, badge.pk]) + "?step=review"
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert page.count('name="remove"') == 25  # one page of rows
    # The same queries at 40 and 310 rows (QUERIES, above).
    assert len(queries) == QUERIES
