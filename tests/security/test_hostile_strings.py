"""Hostile text in every name and authored field stays inert wherever it is shown.

Each payload goes into an organisation's name, a badge's name and description, an issuer's name
and a recipient's first name; then the badge list, the badge page, the public verification page,
the user list, the recipients CSV and the badge issue email are rendered and searched.
"""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from badgeplatform.access import Access
from badges import links
from badges.issuing import RecipientInput, awards_issue
from tests.factories import OrganisationFactory, UserFactory, add_member, make_badge, make_issuer

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ settings.SECRET_KEY }}"
PLACEHOLDER = "{{first_name}}"  # an email placeholder: must not be substituted a second time
FORMULA = "=cmd|' /C calc'!A0"
CRLF = "Line one\r\nBcc: victim@example.test"

PAYLOADS = [SCRIPT, ATTRIBUTE, TEMPLATE, PLACEHOLDER, FORMULA, CRLF]
# What must never be found in an HTML page or email once a payload went in.
LIVE_MARKUP = ["<script>alert(1)", "<img src=x onerror", "onerror=alert(1)>"]


@pytest.fixture
def hostile_world(request, space_a, admin_a, committed):
    payload = request.param
    organisation = OrganisationFactory(space=space_a, name=f"Org {payload}")
    issuer = make_issuer(space_a, organisation, name=f"Issuer {payload}")
    badge = make_badge(
        space_a,
        organisation=organisation,
        issuer=issuer,
        name=f"Badge {payload}",
        description=f"Description {payload}",
    )
    recipient = add_member(
        space_a,
        UserFactory(first_name=f"Ada {payload}", last_name="Lovelace"),
        organisation=organisation,
    )
    with committed():
        _, outcomes = awards_issue(
            access=Access.system(badge.space),
            badge=badge,
            recipients=[RecipientInput(user=recipient)],
            actor=admin_a,
        )
    award = outcomes[0].award
    assert award is not None, outcomes[0].errors
    award.is_public = True
    award.save()
    return payload, badge, award


def assert_inert_html(html: str, payload: str) -> None:
    for markup in LIVE_MARKUP:
        assert markup not in html
    assert settings.SECRET_KEY not in html
    # Shown, as text: the angle brackets arrive as entities (a bare quote in text is harmless).
    if payload == SCRIPT:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    if payload == ATTRIBUTE:
        assert "&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def get_html(client, url: str, **extra) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("hostile_world", PAYLOADS, indirect=True)
def test_admin_pages_show_hostile_text_as_text(client_a, space_a, hostile_world):
    payload, badge, _ = hostile_world
    slug = space_a.slug
    for url in (
        reverse("badges:index", args=[slug]),
        reverse("badges:detail", args=[slug, badge.pk]),
        reverse("users:list", args=[slug]),
    ):
        assert_inert_html(get_html(client_a, url), payload)

    listing = get_html(client_a, reverse("badges:index", args=[slug]))
    if payload == SCRIPT:
        assert "Badge &lt;script&gt;alert(1)&lt;/script&gt;" in listing
    if payload == TEMPLATE:
        assert "Badge {{ settings.SECRET_KEY }}" in listing  # shown as typed, not evaluated


@pytest.mark.parametrize("hostile_world", PAYLOADS, indirect=True)
def test_public_verification_page_shows_hostile_text_as_text(client, hostile_world):
    payload, _, award = hostile_world
    html = get_html(client, links.assertion_url(award), HTTP_ACCEPT="text/html")
    assert_inert_html(html, payload)
    if payload == SCRIPT:
        assert "&lt;script&gt;" in html


@pytest.mark.parametrize("hostile_world", PAYLOADS, indirect=True)
def test_recipients_csv_neutralises_formulas(client_a, space_a, hostile_world):
    import csv
    import io

    payload, badge, _ = hostile_world
    response = client_a.get(
        reverse("reporting:recipients_csv", args=[space_a.slug]), {"badge": badge.pk}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert f"Ada {payload}" in cells  # the first name, whole (CR/LF kept inside one quoted cell)
    assert f"Org {payload}" in cells
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_a_first_name_that_is_a_formula_gets_a_quote(client_a, space_a, admin_a, committed):
    badge = make_badge(space_a)
    recipient = add_member(space_a, UserFactory(first_name=FORMULA))
    with committed():
        awards_issue(
            access=Access.system(badge.space),
            badge=badge,
            recipients=[RecipientInput(user=recipient)],
            actor=admin_a,
        )
    response = client_a.get(
        reverse("reporting:recipients_csv", args=[space_a.slug]), {"badge": badge.pk}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'" + FORMULA in text and "\n" + FORMULA not in text and "," + FORMULA not in text


@pytest.mark.parametrize("hostile_world", PAYLOADS, indirect=True)
def test_badge_issue_email_is_inert(hostile_world):
    payload, _, _ = hostile_world
    [message] = mail.outbox  # the badge issue email to the recipient
    assert "\r" not in message.subject and "\n" not in message.subject  # no header injection
    headers = message.message()
    assert headers["Bcc"] is None and "victim@example.test" not in str(headers["To"])
    bodies = [message.body] + [content for content, _ in getattr(message, "alternatives", [])]
    for body in bodies:
        assert settings.SECRET_KEY not in body
    html = "\n".join(content for content, _ in getattr(message, "alternatives", []))
    if html:
        assert_inert_html(html, payload)
    if payload == PLACEHOLDER:
        # The badge's name, quoted verbatim: "{{first_name}}" is not replaced by "Ada …".
        assert "Badge {{first_name}}" in message.body
    if payload == TEMPLATE:
        assert "Badge {{ settings.SECRET_KEY }}" in message.body
