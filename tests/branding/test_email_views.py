"""System settings → Emails: author, preview, send a test, restore; and the emails that use it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.models import AuditEntry
from badges.issuing import RecipientInput, awards_issue
from branding.models import EmailTemplate
from tests.factories import make_badge, put_on_plan
from users.services import user_create_unverified, verification_send

pytestmark = pytest.mark.django_db

BODY = "Dear {{first_name}}, **{{issuer_name}}** awarded you {{badge_name}}. {{link}}"


def edit_url(space, kind="badge_issued"):
    return reverse("branding:email_edit", kwargs={"space_slug": space.slug, "kind": kind})


def preview_url(space, kind="badge_issued"):
    return reverse("branding:email_preview", kwargs={"space_slug": space.slug, "kind": kind})


@pytest.fixture
def standard(space_a):
    return put_on_plan(space_a, "standard")


def post(client, space, action, kind="badge_issued", **data):
    data = {"subject": "Your {{badge_name}}", "body": BODY, **data}
    return client.post(edit_url(space, kind), {"action": action, **data})


# ---- The list -----------------------------------------------------------------------------


def test_list_shows_both_emails_default_or_own(client_a, standard, django_assert_num_queries):
    EmailTemplate.objects.create(space=standard, kind="verification", subject="Hi", body="x")
    response = client_a.get(reverse("branding:emails", args=[standard.slug]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Welcome and verification email" in content and "Badge issue email" in content
    assert "Your own" in content and "Default" in content
    assert edit_url(standard, "verification") in content and edit_url(standard) in content


@pytest.mark.parametrize("kinds", [0, 2])
def test_list_query_count_is_fixed(client_a, standard, django_assert_num_queries, kinds):
    for kind in ["verification", "badge_issued"][:kinds]:
        EmailTemplate.objects.create(space=standard, kind=kind, subject="s", body="b")
    # session, user, space, member, grants (a space-wide permission needs no further query);
    # the plan; the space's templates; my spaces (personal menu).
    with django_assert_num_queries(8):
        client_a.get(reverse("branding:emails", args=[standard.slug]))


def test_list_on_free_explains_the_plan(client_a, space_a):
    content = client_a.get(reverse("branding:emails", args=[space_a.slug])).content.decode()
    assert "part of the Standard plan" in content and ">View<" in content


# ---- Access -------------------------------------------------------------------------------


def test_member_gets_403_other_space_404_anonymous_sign_in(
    client, space_a, member_a, admin_b, space_b
):
    for target in (edit_url(space_a), preview_url(space_a)):
        client.force_login(member_a)
        assert client.get(target).status_code == 403
        client.force_login(admin_b)
        assert client.get(target).status_code == 404
        client.logout()
        assert client.get(target).url.startswith(reverse("accounts:login"))
    client.force_login(member_a)
    assert post(client, space_a, "save").status_code == 403
    assert not EmailTemplate.objects.exists()


def test_wrong_method_and_unknown_action(client_a, standard):
    assert client_a.put(edit_url(standard)).status_code == 405
    assert client_a.delete(preview_url(standard)).status_code == 405
    assert post(client_a, standard, "evaluate").status_code == 400


# ---- Authoring ----------------------------------------------------------------------------


def test_edit_page_offers_placeholders_as_buttons(client_a, standard):
    content = client_a.get(edit_url(standard)).content.decode()
    for token in ["{{first_name}}", "{{badge_name}}", "{{issuer_name}}", "{{expiry_date}}"]:
        assert f'data-insert="{token}"' in content
    assert "{{username}}" not in content  # a verification-only placeholder
    assert 'formtarget="email-preview"' in content and "Send me a test" in content


def test_save_then_the_email_uses_it(client_a, standard, admin_a):
    response = post(client_a, standard, "save")
    assert response.status_code == 302
    template = EmailTemplate.objects.get(space=standard, kind="badge_issued")
    assert template.subject == "Your {{badge_name}}" and template.updated_by == admin_a
    assert AuditEntry.objects.filter(action="email_template.save").exists()
    content = client_a.get(edit_url(standard)).content.decode()
    assert "Your own" in content and "Restore the default" in content


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "Hello\r\nBcc: victim@example.test", "single line"),
        ("subject", "Hello\n", "single line"),
        ("body", "Key: {{ settings.SECRET_KEY }}", "Not a placeholder of this email"),
        ("body", "{% load static %}{{first_name}}", "Not a placeholder of this email"),
        ("body", "{{username}}", "Not a placeholder of this email"),  # not for badge emails
        ("subject", "{{ first_name|upper }}", "Not a placeholder of this email"),
        ("body", "   ", "This field is required"),
        ("subject", "x" * 201, "at most 200 characters"),
    ],
)
def test_bad_input_is_refused_beside_the_field(client_a, standard, field, value, message):
    response = post(client_a, standard, "save", **{field: value})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not EmailTemplate.objects.exists()


def test_script_in_the_body_is_saved_as_typed_but_never_sent(client_a, standard):
    post(client_a, standard, "save", body="Hi {{first_name}} <script>alert(1)</script>")
    preview = client_a.get(preview_url(standard)).content.decode()
    assert "<script" not in preview and "alert(1)" not in preview and "Hi Alice" in preview


def test_reset_restores_the_default(client_a, standard):
    post(client_a, standard, "save")
    response = client_a.post(edit_url(standard), {"action": "reset"})
    assert response.status_code == 302
    assert not EmailTemplate.objects.exists()
    assert "Congratulations!" in client_a.get(edit_url(standard)).content.decode()


def test_send_me_a_test_sends_the_unsaved_text_filled_with_samples(
    client_a, standard, admin_a, committed
):
    with committed():
        response = post(client_a, standard, "test")
    assert response.status_code == 200
    assert "A test email is on its way" in response.content.decode()
    assert not EmailTemplate.objects.exists()  # a test does not save
    (message,) = mail.outbox
    assert message.to == [admin_a.email]
    assert message.subject == "[Test] Your Sample Badge: Teamwork"
    assert "Dear Alice, **Sample Issuer** awarded you Sample Badge: Teamwork." in message.body
    html = message.alternatives[0][0]
    assert "<strong>Sample Issuer</strong>" in html


def test_free_plan_shows_the_default_read_only_and_refuses_changes(client_a, space_a):
    content = client_a.get(edit_url(space_a)).content.decode()
    assert "part of the Standard plan" in content and 'name="body"' not in content
    assert preview_url(space_a) in content  # the default can still be previewed
    for action in ("save", "test", "reset"):
        response = post(client_a, space_a, action)
        assert response.status_code == 403
        assert "Authored email content" in response.content.decode()
    assert client_a.post(preview_url(space_a), {"subject": "s", "body": "b"}).status_code == 403
    assert not EmailTemplate.objects.exists() and not mail.outbox


# ---- Preview ------------------------------------------------------------------------------


def test_preview_is_an_isolated_document_with_sample_values(client_a, standard):
    response = client_a.get(preview_url(standard))
    assert response.status_code == 200
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    content = response.content.decode()
    assert "Subject:" in content and "You have been awarded “Sample Badge: Teamwork”" in content
    assert "Hello Alice," in content and "Sample Issuer" in content


def test_preview_of_unsaved_text_and_of_invalid_text(client_a, standard):
    response = client_a.post(preview_url(standard), {"subject": "S {{first_name}}", "body": BODY})
    assert response.status_code == 200 and "S Alice" in response.content.decode()
    bad = client_a.post(preview_url(standard), {"subject": "S", "body": "{{ nope }}"})
    assert bad.status_code == 422 and "Not a placeholder" in bad.content.decode()
    assert not EmailTemplate.objects.exists()


# ---- The emails other code sends ----------------------------------------------------------


def test_verification_email_is_the_spaces_authored_one(standard, committed):
    EmailTemplate.objects.create(
        space=standard,
        kind="verification",
        subject="Welcome to {{organisation}}, {{first_name}}",
        body="Your username is {{username}}. Click: {{link}}",
    )
    user = user_create_unverified(email="new@x.test", first_name="Nia", last_name="New")
    with committed():
        verification_send(user=user, space=standard)
    (message,) = mail.outbox
    assert message.subject == "Welcome to Acme University, Nia"
    assert (
        "Your username is new. Click: http" in message.body and "/accounts/verify/" in message.body
    )
    assert "Verify email and create password" in message.alternatives[0][0]


def test_verification_outside_a_space_keeps_the_platform_email(committed, db):
    user = user_create_unverified(email="solo@x.test", first_name="So", last_name="Lo")
    with committed():
        verification_send(user=user)
    assert mail.outbox[0].subject == "Verify your email address"


def test_the_badge_issue_email_is_the_authored_one(standard, member_a, committed):
    EmailTemplate.objects.create(
        space=standard,
        kind="badge_issued",
        subject="{{first_name}}, you earned {{badge_name}}",
        body="From {{issuer_name}} at {{organisation}}, valid until {{expiry_date}}: {{link}}",
    )
    badge = make_badge(standard, expiry_amount=1, expiry_unit="years")
    with committed():
        _, (outcome,) = awards_issue(
            access=Access.system(badge.space),
            badge=badge,
            achieved_at=timezone.now() - timedelta(days=1),
            recipients=[RecipientInput(user=member_a)],
        )
    (message,) = mail.outbox
    assert message.subject == f"Mal, you earned {badge.name}"
    expiry = outcome.award.expires_at
    assert f"valid until {expiry:%-d %B %Y}" in message.body
    assert f"/public/assertions/{outcome.award.public_id}" in message.body
    assert "From Acme Learning at Acme University" in message.body
