"""W3C Bitstring Status List 1.0: where an OB 3.0 credential's revocation is published.

Every credential signed carries one ``BitstringStatusListEntry`` naming an index in one of its
issuer's lists (``StatusList``, at least 131,072 entries). Indexes are drawn at random and never
given twice, so an index says nothing about when a badge was issued or how many were. Issuing
allocates them in bulk (``entries_create``: a constant number of queries per batch, the issuer's
open list locked meanwhile); revoking sets the bit in the revocation's own transaction
(``mark_revoked``); ``badges.openbadges.publish`` signs the list credential when it is next asked
for. Credentials signed before this module kept their ``1EdTechRevocationList`` status, which
``publish.revocation_list_payload`` still serves from the awards table.

Bit order (spec section 2.2 / 7.1): index 0 is the left-most bit, i.e. the most significant bit
of the first byte.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import secrets
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F

from badgeplatform.bulk import insert_many
from badges import links
from badges.models import Award, StatusList, StatusListEntry
from badges.models.status import STATUS_LIST_SIZE
from badges.openbadges.ob2 import iso

if TYPE_CHECKING:
    from issuers.models import Issuer
    from orgs.models import Space

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
REVOCATION = StatusList.Purpose.REVOCATION.value
# Seconds a verifier (and an HTTP cache: the view's max-age) may keep a list: the list's
# ``ttl`` says the same in milliseconds, as the spec asks.
TTL_SECONDS = 300
# Seconds the current revision of a list is taken from the cache; ``mark_revoked`` clears it
# on commit, so this only bounds the delay should that ever be missed.
STATE_TTL = 30

_rng = secrets.SystemRandom()
# For each byte value, the positions (0 = most significant bit) of its zero bits.
_FREE_BITS = tuple(tuple(j for j in range(8) if not value & (0x80 >> j)) for value in range(256))


class MalformedStatusList(ValueError):
    """An encodedList that is not a multibase base64url GZIP bitstring (MALFORMED_VALUE_ERROR)."""


# ---- The bitstring --------------------------------------------------------------------------


def empty_bits(size: int = STATUS_LIST_SIZE) -> bytes:
    if size % 8:
        raise ValueError("a status list holds a whole number of bytes")
    return bytes(size // 8)


def bit_is_set(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"index {index} is outside a list of {len(bits) * 8} entries")
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))


def _set(buffer: bytearray, index: int) -> None:
    buffer[index >> 3] |= 0x80 >> (index & 7)


def encode_list(bits: bytes) -> str:
    """The ``encodedList``: multibase base64url, no padding ("u…"), of the GZIP-compressed
    bitstring (3.3 Bitstring Generation). ``mtime=0`` makes equal lists encode equally."""
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (3.4 Bitstring Expansion)."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise MalformedStatusList("encodedList must be multibase base64url (start with 'u')")
    body = encoded[1:]
    try:
        compressed = base64.b64decode(body + "=" * (-len(body) % 4), b"-_", validate=True)
        bits = gzip.decompress(compressed)
    except (binascii.Error, OSError, EOFError, zlib.error) as exc:
        raise MalformedStatusList(f"encodedList does not decode: {exc}") from exc
    if not bits:
        raise MalformedStatusList("encodedList holds an empty bitstring")
    return bits


# ---- Allocating indexes ---------------------------------------------------------------------


def _draw(used: bytearray, size: int, allocated: int, take: int) -> list[int]:
    """``take`` random indexes not yet marked in ``used``, marked now."""
    if (allocated + take) * 2 <= size:
        # At most half the list taken: a random index is free with odds of at least one in
        # two, so redrawing on a collision costs under two draws per index.
        picked: list[int] = []
        while len(picked) < take:
            index = _rng.randrange(size)
            if not used[index >> 3] & (0x80 >> (index & 7)):
                _set(used, index)
                picked.append(index)
        return picked
    # Fuller: list the free indexes once (one pass over 16 KB for the whole batch, not per
    # award) and sample from them.
    free = [
        (position << 3) + bit
        for position, value in enumerate(used)
        if value != 0xFF
        for bit in _FREE_BITS[value]
    ]
    picked = _rng.sample(free, take)
    for index in picked:
        _set(used, index)
    return picked


def _open_list(space: Space, issuer: Issuer) -> StatusList:
    """The issuer's list that takes new entries, locked until the transaction ends (so two
    batches never draw from the same ``used`` at once); opened when there is none."""
    lists = (
        StatusList.objects.select_for_update()
        .filter(issuer=issuer, purpose=REVOCATION, full=False)
        .defer("bits", "signed")
    )
    found = lists.first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return StatusList.objects.create(
                space=space, issuer=issuer, used=empty_bits(), bits=empty_bits()
            )
    except IntegrityError:  # opened concurrently (the one-open-list constraint)
        return lists.get()


def allocate(*, space: Space, issuer: Issuer, count: int) -> list[tuple[StatusList, int]]:
    """``count`` fresh (list, index) places in the issuer's lists, in random order. Two
    queries per list touched (lock, update), plus the opening of a new one when one fills.
    Must run inside a transaction."""
    places: list[tuple[StatusList, int]] = []
    while count > 0:
        status_list = _open_list(space, issuer)
        take = min(count, status_list.size - status_list.allocated)
        used = bytearray(status_list.used)
        indexes = _draw(used, status_list.size, status_list.allocated, take)
        status_list.allocated += take
        status_list.full = status_list.allocated >= status_list.size
        StatusList.objects.filter(pk=status_list.pk).update(
            used=bytes(used), allocated=status_list.allocated, full=status_list.full
        )
        places += [(status_list, index) for index in indexes]
        count -= take
    return places


def entries_create(*, space: Space, issuer: Issuer, awards: Sequence[Award]) -> list:
    """Give each award (saved, without an entry) its place in a status list: bulk, a
    constant number of queries whatever the number of awards. Awards already revoked or
    declined (made before status lists existed) get their bit set at once."""
    if not awards:
        return []
    places = allocate(space=space, issuer=issuer, count=len(awards))
    entries = [
        StatusListEntry(award=award, status_list=status_list, index=index)
        for award, (status_list, index) in zip(awards, places, strict=True)
    ]
    insert_many(entries)
    revoked: dict[int, list[int]] = {}
    for award, entry in zip(awards, entries, strict=True):
        if award.revoked_at is not None or award.declined_at is not None:
            revoked.setdefault(entry.status_list_id, []).append(entry.index)
    for list_id, indexes in revoked.items():
        _set_bits(list_id, indexes)
    return entries


def entry_for(award: Award) -> StatusListEntry:
    """The award's status entry, made now if it has none (an award issued before status
    lists, signed for the first time). Needs award.issuer_version loaded."""
    entry = StatusListEntry.objects.select_related("status_list").filter(award=award).first()
    if entry is not None:
        return entry
    try:
        with transaction.atomic():
            (entry,) = entries_create(
                space=award.space, issuer=award.issuer_version.issuer, awards=[award]
            )
    except IntegrityError:  # given one concurrently
        return StatusListEntry.objects.select_related("status_list").get(award=award)
    return entry


# ---- Changing a status ----------------------------------------------------------------------


def state_key(public_id) -> str:
    return f"ob:status-list:revision:{public_id}"


def _set_bits(list_id: int, indexes: list[int]) -> None:
    status_list = StatusList.objects.select_for_update().only("public_id", "bits").get(pk=list_id)
    bits = bytearray(status_list.bits)
    for index in indexes:
        _set(bits, index)
    StatusList.objects.filter(pk=list_id).update(bits=bytes(bits), revision=F("revision") + 1)
    key = state_key(status_list.public_id)
    # The list is published anew from the next request after the commit.
    transaction.on_commit(lambda: cache.delete(key))


def mark_revoked(award: Award) -> bool:
    """Set the award's bit, in the caller's (the revocation's) transaction. False when the
    award has no entry: its credential was never signed (it will be given an entry, bit set,
    when it is) or carries the legacy 1EdTechRevocationList, which reads the awards table."""
    found = (
        StatusListEntry.objects.filter(award_id=award.pk)
        .values_list("status_list_id", "index")
        .first()
    )
    if found is None:
        return False
    _set_bits(found[0], [found[1]])
    return True


def current_revision(public_id) -> int | None:
    """The list's revision (None: no such list), from the cache or one indexed query."""
    key = state_key(public_id)
    revision = cache.get(key)
    if revision is None:
        rows = list(StatusList.objects.filter(public_id=public_id).values_list("revision")[:1])
        revision = rows[0][0] if rows else -1
        cache.set(key, revision, STATE_TTL)
    return None if revision == -1 else revision


# ---- Documents ------------------------------------------------------------------------------


def credential_status(entry: StatusListEntry) -> dict:
    """The credential's ``credentialStatus``: its id is the entry's own (the spec forbids the
    list's URL there), ``statusListIndex`` a base-10 string."""
    url = links.status_list_url(entry.status_list.public_id)
    return {
        "id": f"{url}#{entry.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": entry.status_list.purpose,
        "statusListIndex": str(entry.index),
        "statusListCredential": url,
    }


def list_credential(status_list: StatusList, *, issuer_id: str) -> dict:
    """The unsigned BitstringStatusListCredential (spec 2.2, example 3)."""
    url = links.status_list_url(status_list)
    return {
        "@context": [VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": iso(status_list.created_at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": encode_list(status_list.bits),
            "ttl": TTL_SECONDS * 1000,
        },
    }
