"""The recipient's control over an award (issue 17): accept, decline (final, hidden publicly,
kept as declined in the API and reports), and the public toggle for their name."""

import io
import json

import pypdf
import pytest
from django.test import Client, TestCase
from django.urls import reverse

from api.services import apikey_create
from badgeplatform.models import AuditEntry
from badges import links
from badges.awards import TransitionRefused, award_accept, award_decline
from badges.models import StatusListEntry
from badges.openbadges import publish, status
from badges.openbadges.verify import verify_credential
from tests.api.conftest import ApiClient
from tests.factories import UserFactory, add_member, make_award, revoke_award

pytestmark = pytest.mark.django_db


def local(url: str) -> str:
    return url.removeprefix(links._url(""))


@pytest.fixture
def recipient(space_a):
    return add_member(space_a, UserFactory(first_name="Rita", last_name="Recipient"))


@pytest.fixture
def award(space_a, recipient):
    return make_award(space_a, recipient=recipient)


def decline(client, award):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("backpack:decline", args=[award.public_id]))


def test_accepting_is_recorded_once_and_stops_the_prompt(client, award, recipient):
    client.force_login(recipient)
    page = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "Keep this award?" in page
    listing = client.get(reverse("backpack:index")).content.decode()
    assert "New: accept or decline" in listing

    response = client.post(reverse("backpack:accept", args=[award.public_id]))
    assert response.status_code == 302
    award.refresh_from_db()
    first = award.accepted_at
    assert first is not None and award.status == "active"
    client.post(reverse("backpack:accept", args=[award.public_id]))  # again: a no-op
    award.refresh_from_db()
    assert award.accepted_at == first
    assert AuditEntry.objects.filter(action="award.accept", object_id=award.public_id).count() == 1
    page = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "Keep this award?" not in page and "You accepted this award" in page
    assert "New: accept or decline" not in client.get(reverse("backpack:index")).content.decode()


def test_only_the_recipient_answers(client, award, space_a):
    stranger = add_member(space_a)
    client.force_login(stranger)
    for name in ("backpack:accept", "backpack:decline"):
        assert client.post(reverse(name, args=[award.public_id])).status_code == 404
    award.refresh_from_db()
    assert award.accepted_at is None and award.declined_at is None
    with pytest.raises(PermissionError):
        award_decline(award=award, actor=stranger)


def test_decline_asks_first_then_hides_the_award_everywhere_public(client, award, recipient):
    credential = publish.credential_for(award)  # a copy the recipient kept before declining
    assertion_before = publish.assertion_document(award)
    assert verify_credential(json.dumps(credential)).status == "valid"
    client.force_login(recipient)
    confirm = client.get(reverse("backpack:decline", args=[award.public_id]))
    assert confirm.status_code == 200 and "Declining is <strong>final</strong>" in (
        confirm.content.decode()
    )
    award.refresh_from_db()
    assert award.declined_at is None  # GET changes nothing

    response = decline(client, award)
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.declined_at is not None and award.status == "declined"
    entry = AuditEntry.objects.get(action="award.decline", object_id=award.public_id)
    assert entry.actor == recipient

    visitor = Client()
    # The page: 410 Gone, saying nothing about the award or its recipient.
    page = visitor.get(local(links.assertion_url(award)), HTTP_ACCEPT="text/html")
    assert page.status_code == 410
    html = page.content.decode()
    assert "This award is not available" in html
    assert award.badge_snapshot["name"] not in html and "Rita" not in html
    # OB 2.0: the hosted assertion answers as revoked, so no verifier accepts it.
    hosted = visitor.get(local(links.assertion_url(award)), HTTP_ACCEPT="application/ld+json")
    assert hosted.status_code == 410
    assert json.loads(hosted.content)["revoked"] is True
    assert verify_credential(assertion_before).status == "invalid"
    # OB 3.0: the credential, the baked images and the certificate are gone too…
    for url in (
        links.credential_url(award),
        links.credential_image_url(award),
        links.credential_svg_url(award),
        links.baked_image_url(award),
        links.certificate_url(award),
    ):
        gone = visitor.get(local(url))
        assert gone.status_code == 410, url
        assert gone.content == b"This award is not available.", url
    # …and the status list bit is set: the copy kept elsewhere no longer verifies.
    entry = StatusListEntry.objects.select_related("status_list").get(award=award)
    listed = visitor.get(local(links.status_list_url(entry.status_list.public_id)))
    bits = status.decode_list(json.loads(listed.content)["credentialSubject"]["encodedList"])
    assert status.bit_is_set(bits, entry.index)
    verdict = verify_credential(json.dumps(credential))
    assert verdict.status == "invalid"
    assert verdict.check("status").message.startswith("This badge is not available")

    # The backpack keeps it, marked declined, without downloads or sharing.
    page = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "You declined this award" in page and 'data-state="declined"' in page
    assert "Download OB 3.0" not in page and "Add to LinkedIn" not in page


def test_declining_is_final_and_refused_on_a_revoked_award(award, recipient, space_a):
    award_decline(award=award, actor=recipient)
    with pytest.raises(TransitionRefused, match="already declined"):
        award_decline(award=award, actor=recipient)
    with pytest.raises(TransitionRefused, match="final"):
        award_accept(award=award, actor=recipient)
    other = revoke_award(make_award(space_a, recipient=recipient))
    with pytest.raises(TransitionRefused, match="revoked"):
        award_decline(award=other, actor=recipient)
    other.refresh_from_db()
    assert other.declined_at is None


def test_the_api_and_reports_keep_a_declined_award_as_declined(
    client_a, space_a, admin_a, award, recipient
):
    award_decline(award=award, actor=recipient)
    key = apikey_create(space=space_a, name="LMS", actor=admin_a)
    api = ApiClient(Client(), key.key.developer_key, key.token)
    body = api.get(f"/api/awards/{award.public_id}").json()
    assert body["Status"] == "declined" and body["Reason"] is None
    # The issuer cannot revoke or suspend what was declined (409).
    assert api.post(f"/api/awards/{award.public_id}/revoke", {"Reason": "x"}).status_code == 409
    rows = api.get("/api/recipients").json()["Results"]
    assert [r["Declined"] for r in rows if r["AwardId"] == str(award.public_id)] == [True]
    # The issuer's award list filters on it, and its page says so.
    listing = client_a.get(
        reverse("issuing:awards", args=[space_a.slug]), {"state": "declined"}
    ).content.decode()
    assert 'data-state="declined"' in listing
    page = client_a.get(reverse("issuing:award", args=[space_a.slug, award.pk])).content.decode()
    assert "Declined by the recipient" in page


def test_the_name_shows_publicly_only_when_the_recipient_says_so(client, award, recipient):
    assert award.is_public is False  # private by default
    visitor = Client()
    url = local(links.assertion_url(award))
    page = visitor.get(url, HTTP_ACCEPT="text/html").content.decode()
    assert "Rita Recipient" not in page and "keeps their name private" in page
    client.force_login(recipient)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("backpack:visibility", args=[award.public_id]), {"is_public": "1"})
    assert "Rita Recipient" in visitor.get(url, HTTP_ACCEPT="text/html").content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("backpack:visibility", args=[award.public_id]), {"is_public": "0"})
    assert "Rita Recipient" not in visitor.get(url, HTTP_ACCEPT="text/html").content.decode()


@pytest.mark.parametrize("size", [2, 8])
def test_the_backpack_list_with_answers_takes_constant_queries(
    client, space_a, recipient, django_assert_max_num_queries, size
):
    for n in range(size):
        award = make_award(space_a, recipient=recipient)
        if n % 2:
            award_decline(award=award, actor=recipient)
        else:
            award_accept(award=award, actor=recipient)
    client.force_login(recipient)
    # (+1: the badges added from elsewhere, the Open Badges 3.0 API's section; +1: those
    # expiring soon, badges.expiry)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("backpack:index"))
    assert response.content.decode().count('data-state="declined"') == size // 2


def test_no_public_artefact_of_a_private_award_names_its_recipient(
    client, award, recipient, monkeypatch
):
    """Private (the default): the page, its card, the share and LinkedIn redirects, the
    JSON documents and the baked images say nothing of who the recipient is — neither name
    nor address (the documents carry the salted hash only)."""
    from badges import engagement, public_views, social

    drawn = []
    real_card = social.card_png
    monkeypatch.setattr(
        public_views.social, "card_png", lambda card: drawn.append(card) or real_card(card)
    )
    visitor = Client()
    secrets = (b"Rita", b"Recipient", recipient.email.encode())
    urls = [
        links.assertion_url(award),
        links.as_json(links.assertion_url(award)),
        links.credential_url(award),
        links.baked_image_url(award),
        links.credential_image_url(award),
        links.credential_svg_url(award),
        links.card_url(award),
        links.certificate_url(award),
    ]
    for url in urls:
        response = visitor.get(local(url), HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        body = b"".join(response) if response.streaming else response.content
        if url.endswith(".pdf"):  # compressed: its text, as a reader sees it
            reader = pypdf.PdfReader(io.BytesIO(body))
            body = (reader.pages[0].extract_text() + str(reader.metadata)).encode()
        for secret in secrets:
            assert secret not in body, (url, secret)
    assert [card.recipient for card in drawn] == [""]
    for target in engagement.SHARE_TARGETS:
        response = visitor.get(local(links.share_url(award, target)))
        assert response.status_code == 302
        for secret in ("Rita", "Recipient", recipient.email):
            assert secret not in response["Location"]
    # Once public, the name shows where the recipient meant it to.
    award.is_public = True
    award.save(update_fields=["is_public"])
    visitor.get(local(links.card_url(award)))
    assert drawn[-1].recipient == "Rita Recipient"
