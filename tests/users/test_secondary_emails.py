"""Secondary email addresses (issue 17): added in Settings, confirmed by an emailed signed
link, then awards issued to the address land in the same backpack (and those issued before
are attached); another account's address is never revealed nor merged."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badges.issuing import RecipientInput, awards_issue
from tests.factories import UserFactory, add_member, make_badge
from users.models import EmailAddress, User
from users.secondary_emails import MAX_ADDRESSES

pytestmark = pytest.mark.django_db

SETTINGS = "/accounts/settings/"


@pytest.fixture
def rita(space_a):
    return add_member(space_a, UserFactory(first_name="Rita", last_name="Recipient"))


def add(client, email):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("accounts:email_addresses"), {"email": email}, follow=True)


def link_in(message) -> str:
    found = re.search(r"https?://\S+/accounts/settings/emails/verify/\S+/", message.body)
    assert found, message.body
    return found.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def issue(space, badge, email, **names):
    _, outcomes = awards_issue(
        access=Access.system(space),
        badge=badge,
        recipients=[RecipientInput(email=email, **names)],
        achieved_at=timezone.now().replace(microsecond=0) - timedelta(days=1),
        notify=False,
    )
    return outcomes[0]


def test_add_confirm_and_receive_awards_at_the_address(client, space_a, rita):
    badge = make_badge(space_a, name="Data Stewardship")
    # Issued before the address was added: a new (placeholder) account holds it.
    before = issue(space_a, badge, "rita@old-job.example", first_name="R", last_name="R")
    assert before.award.recipient.email == "rita@old-job.example"
    placeholder = before.award.recipient

    client.force_login(rita)
    page = add(client, "rita@old-job.example").content.decode()
    assert "We sent a confirmation link to rita@old-job.example" in page
    assert "Waiting for confirmation" in page
    assert [m.to for m in mail.outbox] == [["rita@old-job.example"]]
    link = link_in(mail.outbox[0])

    page = client.get(link, follow=True).content.decode()
    assert "rita@old-job.example is confirmed" in page and "Confirmed" in page
    address = EmailAddress.objects.get(user=rita)
    assert address.is_verified
    # The award issued before now sits in Rita's backpack; the unused account is retired.
    before.award.refresh_from_db()
    assert before.award.recipient_id == rita.pk
    assert before.award.recipient_email == "rita@old-job.example"  # its credential's identity
    placeholder.refresh_from_db()
    assert not placeholder.is_active and placeholder.email.endswith("@invalid.invalid")
    assert "Data Stewardship" in client.get(reverse("backpack:index")).content.decode()

    # Issued after (any case): found by the confirmed address, no new account.
    other = make_badge(space_a, name="Open Science")
    users_before = User.objects.count()
    after = issue(space_a, other, "Rita@OLD-job.example")
    assert after.status == "awarded" and after.award.recipient_id == rita.pk
    assert after.award.recipient_email == "rita@old-job.example"
    assert User.objects.count() == users_before
    # The main address still resolves to Rita as before.
    third = issue(space_a, make_badge(space_a), rita.email)
    assert third.award.recipient_id == rita.pk and third.award.recipient_email == rita.email


def test_a_pending_address_receives_nothing(client, space_a, rita):
    client.force_login(rita)
    add(client, "pending@example.test")
    outcome = issue(
        space_a, make_badge(space_a), "pending@example.test", first_name="P", last_name="Q"
    )
    assert outcome.award.recipient_id != rita.pk


def test_another_accounts_address_is_neither_revealed_nor_merged(client, space_a, rita):
    taken = add_member(space_a, UserFactory(email="owner@example.test"))
    taken.email_verified_at = timezone.now()
    taken.save()
    client.force_login(rita)
    free = add(client, "free@example.test").content.decode()
    mail.outbox.clear()
    page = add(client, "owner@example.test").content.decode()
    # The same words as for a free address, and no email to the owner's mailbox.
    assert "We sent a confirmation link to owner@example.test" in page
    assert "another account" not in page and "already" not in page
    assert mail.outbox == []
    assert free.count("Waiting for confirmation") == 1
    # A link forged for it cannot be made either (signed), and a real one is refused.
    from users import secondary_emails

    row = EmailAddress.objects.get(user=rita, email="owner@example.test")
    page = client.get(
        secondary_emails.verify_url(row).split("/", 3)[3].join(["/", ""]), follow=True
    ).content.decode()
    assert "belongs to another account" in page
    row.refresh_from_db()
    assert not row.is_verified
    outcome = issue(space_a, make_badge(space_a), "owner@example.test")
    assert outcome.award.recipient_id == taken.pk


def test_links_are_for_their_account_only_and_signed(client, space_a, rita):
    client.force_login(rita)
    add(client, "mine@example.test")
    link = link_in(mail.outbox[0])
    mallory = add_member(space_a)
    client.force_login(mallory)
    page = client.get(link, follow=True).content.decode()
    assert "This link is for another account" in page
    assert not EmailAddress.objects.get(email="mine@example.test").is_verified
    client.force_login(rita)
    bad = client.get(link[:-3] + "xx/", follow=True).content.decode()
    assert "This link is not valid" in bad


def test_bad_input_is_refused_clearly(client, rita):
    client.force_login(rita)
    assert "Enter a valid email address." in add(client, "not-an-email").content.decode()
    assert "already your account" in add(client, rita.email.upper()).content.decode()
    add(client, "one@example.test")
    assert "You already added this address." in add(client, "ONE@example.test").content.decode()
    for n in range(MAX_ADDRESSES - 1):
        add(client, f"more{n}@example.test")
    assert f"at most {MAX_ADDRESSES}" in add(client, "toomany@example.test").content.decode()
    assert EmailAddress.objects.filter(user=rita).count() == MAX_ADDRESSES


def test_a_refused_address_is_shown_beside_the_field_and_kept(client, rita):
    """The settings page again (422), the problem under the field, what was typed still in it."""
    client.force_login(rita)
    response = add(client, "rita@@typo.example")
    assert response.status_code == 422 and not response.redirect_chain
    page = response.content.decode()
    field = re.search(r'<input type="email" id="new-email"[^>]*>', page).group(0)
    assert 'value="rita@@typo.example"' in field
    assert 'aria-invalid="true"' in field and 'aria-describedby="new-email-error"' in field
    error = re.search(r'<ul class="field-errors" id="new-email-error">(.*?)</ul>', page).group(1)
    assert "Enter a valid email address." in error
    assert not EmailAddress.objects.filter(user=rita).exists()


def test_remove_an_address(client, space_a, rita):
    client.force_login(rita)
    add(client, "gone@example.test")
    row = EmailAddress.objects.get(user=rita)
    other = add_member(space_a)
    client.force_login(other)
    response = client.post(reverse("accounts:email_addresses"), {"remove": row.pk}, follow=True)
    assert "not on your account" in response.content.decode()
    client.force_login(rita)
    response = client.post(reverse("accounts:email_addresses"), {"remove": row.pk}, follow=True)
    assert "was removed" in response.content.decode()
    assert not EmailAddress.objects.filter(pk=row.pk).exists()
    response = client.post(reverse("accounts:email_addresses"), {"remove": "x"}, follow=True)
    assert response.status_code == 200 and "not on your account" in response.content.decode()


def test_settings_page_shows_the_section(client, rita):
    client.force_login(rita)
    page = client.get(SETTINGS).content.decode()
    assert 'id="emails"' in page and "No other addresses yet" in page


def test_sign_in_with_a_confirmed_address_only(client, rita):
    rita.set_password("a long passphrase 1")
    rita.save()
    client.force_login(rita)
    add(client, "alias@example.test")
    link = link_in(mail.outbox[0])
    client.logout()
    login = {"username": "alias@example.test", "password": "a long passphrase 1"}
    assert client.post(reverse("accounts:login"), login).wsgi_request.user.is_anonymous
    client.force_login(rita)
    client.get(link)
    client.logout()
    response = client.post(reverse("accounts:login"), login)
    assert response.status_code == 302 and response.wsgi_request.user.pk == rita.pk
    assert User.objects.get_by_email("ALIAS@example.test") == rita
