"""render_space_email: placeholders are data, authored HTML is sanitised, the space frames it."""

import pytest
from django.core.files.base import ContentFile

from branding.emails import render_authored, render_space_email
from branding.models import EmailTemplate, SpaceBranding
from tests.factories import png_bytes, put_on_plan

pytestmark = pytest.mark.django_db

VALUES = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "badge_name": "Analytical Engines",
    "issuer_name": "Acme Learning",
    "link": "https://badges.example/public/assertions/abc",
    "expiry_date": "1 January 2030",
}


def author(space, body, subject="Hi {{first_name}}", kind="badge_issued"):
    return EmailTemplate.objects.create(space=space, kind=kind, subject=subject, body=body)


def test_a_new_space_gets_good_defaults(space_a):
    subject, text, html = render_space_email(space=space_a, kind="badge_issued", values=VALUES)
    assert subject == "You have been awarded “Analytical Engines”"
    assert "Hello Ada," in text and "Acme Learning" in text and VALUES["link"] in text
    assert "This badge expires on 1 January 2030." in text
    assert "<strong>Analytical Engines</strong>" in html
    assert f'href="{VALUES["link"]}"' in html and "View your badge" in html
    assert "Acme University" in html  # the frame names the space


def test_the_authored_email_is_used_when_the_plan_allows_it(space_a):
    author(space_a, "Well done {{first_name}} {{last_name}} on **{{badge_name}}**!")
    # Free: the space's own text is kept but the default is sent.
    subject, _, _ = render_space_email(space=space_a, kind="badge_issued", values=VALUES)
    assert subject.startswith("You have been awarded")
    put_on_plan(space_a, "standard")
    subject, text, html = render_space_email(space=space_a, kind="badge_issued", values=VALUES)
    assert subject == "Hi Ada"
    assert "Well done Ada Lovelace on **Analytical Engines**!" in text
    assert "Well done Ada Lovelace on <strong>Analytical Engines</strong>!" in html


@pytest.mark.parametrize(
    "body",
    [
        "{{ settings.SECRET_KEY }} {% debug %} {{ first_name|upper }}",
        "{{request.user.password}}",
    ],
)
def test_template_code_is_never_evaluated(space_a, settings, body):
    subject, text, html = render_authored(
        space=space_a, kind="badge_issued", subject=body, body=body, values=VALUES
    )
    for part in (subject, text, html):
        assert settings.SECRET_KEY not in part
        assert "{{" in part  # shown literally, as typed
    assert body in text


def test_authored_html_is_sanitised(space_a):
    body = (
        'Hi <script>alert("x")</script><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">j</a> <a href="https://ok.example">ok</a>'
        "<style>body{display:none}</style><iframe src=https://evil.example></iframe>"
        '<p onclick="steal()">para</p>'
    )
    _, text, html = render_authored(
        space=space_a, kind="badge_issued", subject="s", body=body, values=VALUES
    )
    body_html = html.split('<td style="padding:24px', 1)[1]
    for bad in (
        "<script",
        "alert(",
        "<img",
        "onerror",
        "javascript:",
        "<style",
        "<iframe",
        "onclick",
    ):
        assert bad not in body_html, bad
    assert 'href="https://ok.example"' in body_html and "para" in body_html
    assert "<script" not in text and "alert" not in text


def test_values_are_shown_literally_and_substituted_once(space_a):
    values = {**VALUES, "first_name": "<b>Eve</b> {{last_name}}", "badge_name": "A & B"}
    subject, text, html = render_authored(
        space=space_a,
        kind="badge_issued",
        subject="{{first_name}}",
        body="Dear {{first_name}}: {{badge_name}}",
        values=values,
    )
    assert "&lt;b&gt;Eve&lt;/b&gt; {{last_name}}" in html and "<b>Eve</b>" not in html
    assert "A &amp; B" in html
    assert "Dear <b>Eve</b> {{last_name}}: A & B" in text  # the text part is plain text
    assert subject == "<b>Eve</b> {{last_name}}"


def test_line_breaks_in_values_never_reach_the_subject(space_a):
    values = {**VALUES, "badge_name": "Evil\r\nBcc: victim@example.test"}
    subject, _, _ = render_authored(
        space=space_a, kind="badge_issued", subject="Award: {{badge_name}}", body="b", values=values
    )
    assert "\n" not in subject and "\r" not in subject
    assert subject == "Award: Evil Bcc: victim@example.test"


def test_bad_calls_fail_loudly(space_a):
    with pytest.raises(ValueError, match="Unknown email kind"):
        render_space_email(space=space_a, kind="nope", values={})
    with pytest.raises(ValueError, match="unknown placeholders"):
        render_space_email(space=space_a, kind="badge_issued", values={"firstname": "typo"})


def test_missing_values_become_empty_and_organisation_defaults_to_the_space(space_a):
    _, text, _ = render_authored(
        space=space_a,
        kind="badge_issued",
        subject="s",
        body="[{{expiry_date}}] from {{organisation}}",
        values={},
    )
    assert "[] from Acme University" in text


def test_the_frame_wears_the_spaces_logo_and_colours(space_a, settings):
    put_on_plan(space_a, "standard")
    branding = SpaceBranding.objects.create(
        space=space_a, nav_bg="#112233", nav_text="#fafafa", accent="#aa0044"
    )
    branding.logo.save("logo.png", ContentFile(png_bytes()), save=True)
    space_a.__dict__.pop("_branding", None)
    _, _, html = render_space_email(space=space_a, kind="badge_issued", values=VALUES)
    assert "background:#112233" in html and "color:#fafafa" in html
    assert "background:#aa0044" in html  # the button
    assert f'<img src="{settings.SITE_URL}{branding.logo.url}" alt="Acme University"' in html
    assert "Sent by Badge Platform on behalf of Acme University" in html


def test_a_downgraded_space_loses_the_logo_but_keeps_colours(space_a):
    branding = SpaceBranding.objects.create(space=space_a, nav_bg="#112233")
    branding.logo.save("logo.png", ContentFile(png_bytes()), save=True)
    _, _, html = render_space_email(space=space_a, kind="badge_issued", values=VALUES)
    assert "background:#112233" in html and "<img" not in html


def test_white_label_emails_do_not_mention_the_platform(space_a):
    put_on_plan(space_a, "white-label")
    _, _, html = render_space_email(space=space_a, kind="badge_issued", values=VALUES)
    assert "Badge Platform" not in html
    assert "Sent by Acme University." in html


def test_notes_are_escaped_small_print(space_a):
    _, text, html = render_space_email(
        space=space_a, kind="badge_issued", values=VALUES, notes=["Verify <soon>"]
    )
    assert "Verify &lt;soon&gt;" in html and "Verify <soon>" in text


def test_platform_emails_sent_for_a_space_wear_its_colours(space_a, committed):
    from unittest import mock

    from django.core import mail

    from badgeplatform.mail import queue_email

    SpaceBranding.objects.create(space=space_a, nav_bg="#123456", nav_text="#fedcba")
    context = {"user": mock.Mock(first_name="Rae"), "reset_url": "https://x/y", "expires_days": 3}
    with committed():
        queue_email(to="r@example.test", template="password_reset", context=context, space=space_a)
    html = mail.outbox[0].alternatives[0][0]
    assert "background:#123456" in html and "color:#fedcba" in html
