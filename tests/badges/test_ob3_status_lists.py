"""W3C Bitstring Status List 1.0: the encoding against the spec's own example, the list
credential (signed by the issuer's key, verified independently), revocation flipping the bit,
random indexes never reused, allocation in bulk, HTTP caching and query counts."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badgeplatform.access import Access
from badges import links
from badges.issuing import RecipientInput, awards_issue
from badges.models import StatusList, StatusListEntry
from badges.openbadges import status
from tests.badges.test_ob3_credentials import fetch, key_over_http
from tests.factories import add_member, make_award, make_badge, revoke_award
from tests.openbadges_reference import (
    ACHIEVEMENT_SCHEMA,
    HAVE_CONFORMANCE,
    SKIP_REASON,
    ref_schema_errors,
    ref_verify,
)

pytestmark = pytest.mark.django_db

# Bitstring Status List v1.0 (W3C Recommendation, 2025-05-15), Example 3: "an example
# BitstringStatusListCredential"; section 7.1: a 131,072-bit (16KB) list runs from index 0 to
# 131,071, and the spec's lists in examples 3 and 5 have no bit set.
SPEC_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
conformance = pytest.mark.skipif(not HAVE_CONFORMANCE, reason=SKIP_REASON)


def test_the_spec_example_decodes_as_the_spec_says():
    bits = status.decode_list(SPEC_ENCODED_LIST)
    assert len(bits) * 8 == 131_072
    assert not any(bits)
    assert not status.bit_is_set(bits, 0) and not status.bit_is_set(bits, 131_071)
    with pytest.raises(IndexError):
        status.bit_is_set(bits, 131_072)
    # And an empty list of ours decodes to the same bitstring.
    assert status.decode_list(status.encode_list(status.empty_bits())) == bits


def test_bits_round_trip_left_most_bit_first():
    # Example 1's indexes (94567, 23452) plus both ends of the list set; nothing else.
    buffer = bytearray(status.empty_bits())
    for index in (0, 23452, 94567, 131_071):
        status._set(buffer, index)
    encoded = status.encode_list(bytes(buffer))
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded
    decoded = status.decode_list(encoded)
    assert decoded == bytes(buffer)
    assert decoded[0] == 0x80  # index 0 is the most significant bit of the first byte
    assert decoded[-1] == 0x01  # the last index the least significant bit of the last byte
    assert {i for i in range(131_072) if status.bit_is_set(decoded, i)} == {
        0,
        23452,
        94567,
        131_071,
    }


@pytest.mark.parametrize("bad", ["zabc", "u!!!", "u" + "QUJD", 7])
def test_malformed_lists_are_refused(bad):
    with pytest.raises(status.MalformedStatusList):
        status.decode_list(bad)


@conformance
def test_a_new_credential_carries_one_entry_and_passes_the_schema(client, space_a):
    award = make_award(space_a)
    credential = fetch(client, links.credential_url(award))
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict) and entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "revocation"
    assert entry["id"] != entry["statusListCredential"]
    assert entry["statusListIndex"] == str(int(entry["statusListIndex"]))
    assert ref_schema_errors(credential, ACHIEVEMENT_SCHEMA) == []


@conformance
def test_the_list_credential_is_signed_by_the_issuers_key_and_flips_on_revocation(client, space_a):
    award = make_award(space_a)
    credential = fetch(client, links.credential_url(award))
    entry = credential["credentialStatus"]
    index = int(entry["statusListIndex"])
    listed = fetch(client, entry["statusListCredential"])
    assert listed["id"] == entry["statusListCredential"]
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    subject = listed["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert len(status.decode_list(subject["encodedList"])) * 8 >= 131_072
    assert listed["issuer"] == credential["issuer"]["id"]
    method = listed["proof"][0]["verificationMethod"]
    assert method == credential["proof"][0]["verificationMethod"]
    assert ref_verify(listed, key_over_http(client, listed))
    assert not status.bit_is_set(status.decode_list(subject["encodedList"]), index)

    revoke_award(award)
    after = fetch(client, entry["statusListCredential"])
    assert status.bit_is_set(status.decode_list(after["credentialSubject"]["encodedList"]), index)
    assert ref_verify(after, key_over_http(client, after))


def test_json_whatever_the_accept_header_with_etag_and_max_age(client, space_a):
    award = make_award(space_a)
    entry = StatusListEntry.objects.get(award=award)
    path = links.status_list_url(entry.status_list).removeprefix(links._url(""))
    for accept in ("text/html", "*/*", "application/json", ""):
        response = client.get(path, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] in ("application/ld+json", "application/json")
        assert json.loads(response.content)["type"][1] == "BitstringStatusListCredential"
        assert response["Cache-Control"] == "public, max-age=300"
    etag = response["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    revoke_award(award)
    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert (
        client.get("/public/status-lists/00000000-0000-0000-0000-000000000000").status_code == 404
    )


def test_a_cached_list_costs_no_query(client, space_a, django_assert_num_queries):
    award = make_award(space_a)
    path = links.status_list_url(StatusListEntry.objects.get(award=award).status_list)
    path = path.removeprefix(links._url(""))
    client.get(path)  # signs and caches
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200


def test_the_list_is_re_signed_only_after_a_change(client, space_a):
    award = make_award(space_a)
    status_list = StatusListEntry.objects.get(award=award).status_list
    path = links.status_list_url(status_list).removeprefix(links._url(""))
    client.get(path)
    status_list.refresh_from_db()
    assert status_list.signed_revision == status_list.revision == 0
    revoke_award(award)
    status_list.refresh_from_db()
    assert status_list.revision == 1 and status_list.signed_revision == 0
    client.get(path)
    status_list.refresh_from_db()
    assert status_list.signed_revision == 1


def test_indexes_are_unique_random_and_allocated_in_bulk(space_a):
    badge = make_badge(space_a)
    achieved = timezone.now() - timedelta(days=1)
    with CaptureQueriesContext(connection) as first:
        awards_issue(
            access=Access.system(space_a),
            badge=badge,
            achieved_at=achieved,
            recipients=[RecipientInput(user=add_member(space_a))],
            notify=False,
        )
    members = [add_member(space_a) for _ in range(300)]
    with CaptureQueriesContext(connection) as bulk:
        awards_issue(
            access=Access.system(space_a),
            badge=badge,
            achieved_at=achieved,
            recipients=[RecipientInput(user=m) for m in members],
            notify=False,
        )
    touching = [q for q in bulk.captured_queries if "badges_statuslist" in q["sql"]]
    # The open list locked, its map updated, the entries inserted: 3 whatever the size.
    assert len(touching) == 3, [q["sql"][:80] for q in touching]
    assert len([q for q in first.captured_queries if "badges_statuslist" in q["sql"]]) == 4

    indexes = list(StatusListEntry.objects.values_list("index", flat=True))
    assert len(indexes) == 301 and len(set(indexes)) == 301
    assert StatusList.objects.count() == 1
    # Random, not sequential: spread over the whole list, neighbours far apart.
    ordered = [e.index for e in StatusListEntry.objects.order_by("award_id").only("index")]
    gaps = [abs(b - a) for a, b in zip(ordered, ordered[1:], strict=False)]
    assert sum(1 for g in gaps if g == 1) <= 2
    assert max(indexes) - min(indexes) > 100_000
    mean = sum(indexes) / len(indexes)
    assert 131_072 * 0.4 < mean < 131_072 * 0.6


def test_many_allocations_never_repeat(space_a):
    from django.db import transaction

    issuer = make_badge(space_a).issuer
    with transaction.atomic():
        places = status.allocate(space=space_a, issuer=issuer, count=1000)
    assert len({index for _, index in places}) == 1000
    status_list = StatusList.objects.get()
    assert status_list.allocated == 1000
    used = bytes(status_list.used)
    assert sum(bin(b).count("1") for b in used) == 1000
    assert all(status.bit_is_set(used, index) for _, index in places)


def test_a_full_list_opens_the_next(space_a):
    from django.db import transaction

    issuer = make_badge(space_a).issuer
    size = 131_072
    used = bytearray(b"\xff" * (size // 8))
    used[10] = 0b1111_0110  # indexes 85 and 88 are the only free ones
    StatusList.objects.create(
        space=space_a,
        issuer=issuer,
        used=bytes(used),
        bits=status.empty_bits(),
        allocated=size - 2,
    )
    with transaction.atomic():
        places = status.allocate(space=space_a, issuer=issuer, count=5)
    first, second = StatusList.objects.order_by("pk")
    assert sorted(i for sl, i in places if sl.pk == first.pk) == [84, 87]
    assert len([1 for sl, _ in places if sl.pk == second.pk]) == 3
    assert first.full and first.allocated == size
    assert not second.full and second.allocated == 3


def test_revoking_an_unsigned_legacy_award_sets_its_bit_when_first_signed(client, space_a):
    award = make_award(space_a)
    StatusListEntry.objects.filter(award=award).delete()  # as if issued before status lists
    revoke_award(award)
    credential = fetch(client, links.credential_url(award))
    entry = credential["credentialStatus"]
    listed = fetch(client, entry["statusListCredential"])
    bits = status.decode_list(listed["credentialSubject"]["encodedList"])
    assert status.bit_is_set(bits, int(entry["statusListIndex"]))
