"""PreparedEmail.render_many (the worker's batch path) renders exactly what render does."""

from __future__ import annotations

import pytest

from branding.emails import PreparedEmail, prepared_space_email
from branding.models import EmailTemplate

pytestmark = pytest.mark.django_db

NASTY = "<script>alert('x')</script> & \"quotes\" {{first_name}} ü"


@pytest.mark.parametrize("kind", ["badge_issued", "verification"])
@pytest.mark.parametrize(
    "values, notes",
    [
        ({"first_name": "Pat", "link": "https://x.test/a?b=1&c=2", "expiry_date": ""}, []),
        ({"first_name": "Pat", "link": "https://x.test/", "expiry_date": "1 May 2027"}, ["n"]),
        ({"first_name": NASTY, "last_name": NASTY, "link": 'https://x.test/"><b>'}, [NASTY]),
        ({"first_name": "", "link": "", "organisation": "Org & Co"}, ["one", "two"]),
    ],
)
def test_render_many_equals_render(space_a, kind, values, notes):
    values = {k: v for k, v in values.items() if k in _placeholders(kind)}
    if kind == "badge_issued":
        values |= {"badge_name": NASTY, "issuer_name": "Acme <Academy>"}
    else:
        values |= {"username": NASTY}
    prepared = prepared_space_email(space_a, kind)
    first = prepared.render_many(values, notes)
    assert first == prepared.render(values, notes)
    assert prepared.render_many(values, notes) == first  # from the frame rendered once


def test_an_authored_email_and_a_value_with_a_marker(space_a):
    EmailTemplate.objects.create(
        space=space_a,
        kind="badge_issued",
        subject="{{badge_name}} for {{first_name}}",
        body="**Hi** {{first_name}}, see <a href='{{link}}'>it</a>.",
    )
    prepared = PreparedEmail(
        space=space_a,
        kind="badge_issued",
        subject="{{badge_name}} for {{first_name}}",
        body="**Hi** {{first_name}}, see <a href='{{link}}'>it</a>.",
    )
    for first_name in ("Pat", "Pat\x01values.link\x01", NASTY):
        values = {"first_name": first_name, "badge_name": "B", "link": "https://x.test/"}
        assert prepared.render_many(values, ["note"]) == prepared.render(values, ["note"])


def _placeholders(kind):
    from branding.emails import spec_for

    return spec_for(kind).placeholders
