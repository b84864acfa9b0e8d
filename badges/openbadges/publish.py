"""What the public Open Badges URLs answer, built once and cached.

Each function returns a ``Payload`` (body bytes, ETag, status) or None for "no such thing".
Public JSON must be cheap (bench.public): documents are cached in the Django cache under a key
that changes whenever the document would, so nothing needs invalidating by hand:

- an assertion's key includes its revocation (or suspension) time, which is itself cached for
  STATE_TTL seconds (``award_changed`` clears it at once): a cached assertion costs no query,
  and revoking or suspending changes the key, so the next request rebuilds it as revoked
  (410), and reinstating changes it back;
- BadgeClass versions, issuer profile versions and signing keys never change (cached by id);
- an issuer's profile (at its stable id) is keyed by its current version and its number of
  keys (editing adds a version, rotating adds a key);
- the current badge is keyed by its ``updated_at`` and its issuer's current version.

The OB 3.0 credential is signed once (in a worker after issuing, or here on first request)
and stored in ``AwardCredential``; baked images are made from the cached documents.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from cachetools import LRUCache
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import IntegrityError, connections, transaction
from django.db.models import DEFERRED, Count, Q

from badges import links
from badges.models import (
    Award,
    AwardCredential,
    Badge,
    BadgeClassVersion,
    SigningKey,
    StatusList,
    StatusListEntry,
)
from badges.openbadges import baking, ob2, ob3, status
from badges.openbadges.keys import (
    IssuerSigner,
    award_signer,
    issuer_keys,
    issuer_signer,
    key_at,
    signing_key_for,
)
from issuers.models import Issuer, IssuerVersion
from orgs.models import Space

if TYPE_CHECKING:
    from datetime import datetime

logger = logging.getLogger(__name__)

# Bump when a document's shape changes, so no cached copy of the old shape is served.
FORMAT = "1"
DAY = 24 * 3600
JSON_LD = "application/ld+json"


@dataclass(frozen=True)
class Payload:
    body: bytes
    etag: str
    status: int = 200
    content_type: str = JSON_LD

    @classmethod
    def of(cls, body: bytes, status: int = 200, content_type: str = JSON_LD) -> Payload:
        return cls(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', status, content_type)

    @classmethod
    def json(cls, document: dict, status: int = 200) -> Payload:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return cls.of(body, status)


# Every key below names one immutable document (what may change is part of the key), so a
# process may also keep small documents in memory: a hit then costs no unpickling. Images are
# not kept here (too large); the shared cache still holds them.
_local: LRUCache = LRUCache(maxsize=2048)
_local_lock = threading.Lock()


def _cached(key: str, build, timeout: int = DAY, *, local: bool = True) -> Payload | None:
    if local:
        with _local_lock:
            payload = _local.get(key)
        if payload is not None:
            return payload
    payload = cache.get(key)
    if payload is None:
        payload = build()
        if payload is None:
            return None
        cache.set(key, payload, timeout)
    if local:
        with _local_lock:
            _local[key] = payload
    return payload


def clear_local_cache() -> None:
    """Forget the in-process copies (tests clear the shared cache between cases)."""
    with _local_lock:
        _local.clear()
        _known_versions.clear()
        _public_ids.clear()
        _snapshots.clear()


def _cached_only(key: str) -> Payload | None:
    """A cached immutable document without building it (None when not cached)."""
    with _local_lock:
        payload = _local.get(key)
    if payload is None:
        payload = cache.get(key)
        if payload is not None:
            with _local_lock:
                _local[key] = payload
    return payload


LIVE = "live"


def _marker(moment: datetime | None) -> str:
    return f"{moment.timestamp():.6f}" if moment else LIVE


# ---- BadgeClass versions -------------------------------------------------------------------


def badgeclass_version_for(award: Award) -> BadgeClassVersion:
    """The BadgeClass version of the award's snapshot, made on first use. Needs
    award.badge and award.issuer_version loaded."""
    digest = ob2.snapshot_digest(award.badge_snapshot, award.issuer_version)
    version, _ = BadgeClassVersion.objects.get_or_create(
        badge_id=award.badge_id,
        digest=digest,
        defaults={
            "space_id": award.space_id,
            "snapshot": award.badge_snapshot,
            "issuer_version": award.issuer_version,
        },
    )
    version.badge = award.badge
    version.issuer_version = award.issuer_version
    return version


def _award(public_id: UUID | str) -> Award | None:
    return (
        Award.objects.select_related("badge", "issuer_version__issuer", "recipient")
        .filter(public_id=public_id)
        .first()
    )


# ---- OB 2.0 --------------------------------------------------------------------------------


# How long the revocation state of an award is taken from the cache before the database is
# asked again. ``award_changed`` (called by whatever revokes) makes it immediate; this bounds
# the delay if that call is ever missed. Public JSON says max-age=300 to HTTP caches anyway.
STATE_TTL = 30
_MISSING = "missing"
SUSPENDED_PREFIX = "suspended-"
DECLINED_PREFIX = "declined-"
# What every public URL of a declined award answers (with 410 Gone): neutral words, since the
# recipient's decision is theirs, and the same for the assertion, credential and images.
NOT_AVAILABLE = "This award is not available."


def _state_key(public_id: UUID | str) -> str:
    return f"ob:{FORMAT}:state:{public_id}"


def _state_of(
    revoked_at: datetime | None, suspended_at: datetime | None, declined_at: datetime | None
) -> str:
    if revoked_at is None and declined_at is not None:
        # Declined by the recipient: final, and hidden like nothing else.
        return DECLINED_PREFIX + _marker(declined_at)
    if revoked_at is None and suspended_at is not None:
        # Suspended: a state of its own (reinstating returns to "live").
        return SUSPENDED_PREFIX + _marker(suspended_at)
    return _marker(revoked_at)


def assertion_state(public_id: UUID | str) -> str | None:
    """ "live", the revocation time (a marker string; "suspended-…" and "declined-…" for those
    states), or None when there is no such award:
    from the cache, else one indexed query (``public_id`` → ``revoked_at``)."""
    key = _state_key(public_id)
    state = cache.get(key)
    if isinstance(state, tuple):  # (state, its assertion), stored by ``assertion_payload``
        state = state[0]
    elif state is None:
        rows = list(
            Award.objects.filter(public_id=public_id).values_list(
                "revoked_at", "suspended_at", "declined_at"
            )[:1]
        )
        state = _state_of(*rows[0]) if rows else _MISSING
        cache.set(key, state, STATE_TTL)
    return None if state == _MISSING else state


def award_changed(award: Award) -> None:
    """Call after revoking (or otherwise changing) an award, on commit: the public JSON,
    images and page follow at once instead of within STATE_TTL seconds."""
    cache.delete(_state_key(award.public_id))


def assertion_payload(public_id: UUID | str) -> Payload | None:
    """The hosted Assertion: 200 with the JSON-LD, or 410 Gone with ``revoked: true``.

    The award's state key holds (state, assertion) once the assertion was built, so a cached
    assertion is one cache GET and no query, and revoking (``award_changed`` deletes the key)
    is seen at once. Cold: one query, the award read once for its state and its document (the
    BadgeClass version it names is known to exist after its first use in this process, see
    ``_version_for_link``), and one cache SET."""
    key = _state_key(public_id)
    cached = cache.get(key)
    if isinstance(cached, tuple):
        return cached[1]
    if cached == _MISSING:
        return None
    # Cold, or only the state known (from the images or the page): build it from the award
    # rather than look anything else up (building costs less than a cache round trip).
    award = _assertion_award(public_id)
    if award is None:
        cache.set(key, _MISSING, STATE_TTL)
        return None
    state = _state_of(award.revoked_at, award.suspended_at, award.declined_at)
    payload = _assertion_of(award)
    # The document lives as long as the state: when it expires, this path rebuilds it.
    cache.set(key, (state, payload), STATE_TTL)
    return payload


# What an assertion (live or revoked) is made of, in the order of ``_assertion_award``'s
# query. tests/badges/test_public_read_queries.py pins the cold path at one query.
_ASSERTION_FIELDS = (
    "id",
    "public_id",
    "space_id",
    "badge_id",
    "issuer_version_id",
    "identity_salt",
    "recipient_email",
    "issued_at",
    "expires_at",
    "evidence",
    "badge_snapshot",
    "revoked_at",
    "suspended_at",
    "declined_at",
    "revocation_reason",
    "suspension_reason",
)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slot: int  # where the public id goes in params
    compiler: object
    converters: dict


_compiled: dict[tuple[str, str], _Compiled] = {}
_SENTINEL = UUID(int=0)


def _compile(alias: str) -> _Compiled:
    """The cold assertion's query as SQL, compiled by Django once per database: compiling it
    cost ~5× running it (profiled: 0.45 ms against 0.09 ms), most of the cold path."""
    connection = connections[alias]
    query = (
        Award.objects.using(alias)
        .filter(public_id=_SENTINEL)
        .values_list(*_ASSERTION_FIELDS)[:1]  # no ORDER BY: public_id is unique
    )
    compiler = query.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    sentinel = Award._meta.get_field("public_id").get_db_prep_value(_SENTINEL, connection)
    slot = list(params).index(sentinel)
    converters = compiler.get_converters([column[0] for column in compiler.select])
    # The snapshot comes as its JSON text and is parsed by ``_snapshot_of`` (once per text).
    converters.pop(_SNAPSHOT, None)
    return _Compiled(sql, tuple(params), slot, compiler, converters)


def _assertion_award(public_id: UUID | str) -> Award | None:
    """The award with what its assertion needs, in one query of the award table alone,
    compiled once (``_compile``). A live one's links are added by ``_with_links``."""
    connection = connections[Award.objects.db]
    compiled_key = (connection.alias, connection.vendor)
    compiled = _compiled.get(compiled_key)
    if compiled is None:
        compiled = _compiled[compiled_key] = _compile(connection.alias)
    try:
        value = public_id if isinstance(public_id, UUID) else UUID(str(public_id))
    except ValueError:
        return None
    params = list(compiled.params)
    params[compiled.slot] = Award._meta.get_field("public_id").get_db_prep_value(value, connection)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    if compiled.converters:
        rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
    row = list(rows[0])
    text = row[_SNAPSHOT]
    if isinstance(text, str):
        row[_SNAPSHOT], digests = _snapshot_of(text)
    else:  # a driver that parses JSON itself
        digests = {}
    award = _partial(Award, **dict(zip(_ASSERTION_FIELDS, row, strict=True)))
    award._snapshot_digests = digests
    return award


# Badge snapshot JSON text → (the snapshot, its BadgeClass digest per issuer version id):
# awards of one badge version carry the same text, so parsing it and hashing it for the
# version's link happen once per process, not per cold assertion. Read-only once made.
_snapshots: LRUCache = LRUCache(maxsize=1024)
_SNAPSHOT = _ASSERTION_FIELDS.index("badge_snapshot")


def _snapshot_of(text: str) -> tuple[dict, dict[int, str]]:
    with _local_lock:
        found = _snapshots.get(text)
    if found is None:
        found = (json.loads(text), {})
        with _local_lock:
            _snapshots[text] = found
    return found


# (badge id, issuer version id) → their public ids: a few per issuer, and they never change.
_public_ids: LRUCache = LRUCache(maxsize=4096)


def _with_links(award: Award) -> Award:
    """The award with its badge and issuer version enough to link them (their public ids,
    which never change): from this process's memory, else read once per pair."""
    pair = (award.badge_id, award.issuer_version_id)
    with _local_lock:
        found = _public_ids.get(pair)
    if found is None:
        found = (
            Award.objects.filter(pk=award.pk)
            .values_list("badge__public_id", "issuer_version__public_id")
            .get()
        )
        with _local_lock:
            _public_ids[pair] = found
    award.badge = _partial(Badge, id=award.badge_id, public_id=found[0])
    award.issuer_version = _partial(IssuerVersion, id=award.issuer_version_id, public_id=found[1])
    return award


def _partial(model, **values):
    """An instance with only these fields, the rest deferred, as the ORM makes one for
    ``.only()``: no defaults computed (``Model(**kwargs)`` computes one per field, which cost
    more than the cold assertion's query)."""
    names = [f.attname for f in model._meta.concrete_fields]
    return model.from_db(None, names, [values.get(name, DEFERRED) for name in names])


def _assertion_of(award: Award) -> Payload:
    if award.is_revoked or award.is_suspended or award.is_declined:
        # shared/API.md: a suspended award's assertion answers as revoked, "Suspended: …"; a
        # declined one as revoked too, so no OB 2.0 verifier accepts it.
        return Payload.json(ob2.revoked_assertion(award), status=410)
    return Payload.json(ob2.assertion(award, _version_for_link(_with_links(award))))


# (badge id, digest) of BadgeClass versions known to exist: they are never deleted while the
# badge lives, so once seen, an assertion needs no get_or_create to name its version.
_known_versions: LRUCache = LRUCache(maxsize=4096)


def _version_for_link(award: Award) -> BadgeClassVersion:
    """The award's BadgeClass version, enough to link it (badge and digest): from memory when
    this process has seen it exist, else made or found (one query)."""
    digests = getattr(award, "_snapshot_digests", {})
    digest = digests.get(award.issuer_version_id)
    if digest is None:
        digest = ob2.snapshot_digest(award.badge_snapshot, award.issuer_version)
        digests[award.issuer_version_id] = digest
    known = (award.badge_id, digest)
    with _local_lock:
        seen = known in _known_versions
    if seen:
        version = _partial(
            BadgeClassVersion,
            badge_id=award.badge_id,
            digest=digest,
            space_id=award.space_id,
            snapshot=award.badge_snapshot,
            issuer_version_id=award.issuer_version_id,
        )
        version.badge, version.issuer_version = award.badge, award.issuer_version
        return version
    version = badgeclass_version_for(award)
    with _local_lock:
        _known_versions[known] = True
    return version


def assertion_document(award: Award) -> dict:
    """The assertion as a dict (for baking and the verification page), from the cache."""
    payload = assertion_payload(award.public_id)
    return json.loads(payload.body)


def badgeclass_version_payload(badge_id: UUID | str, digest: str) -> Payload | None:
    def build():
        version = (
            BadgeClassVersion.objects.select_related("badge", "issuer_version")
            .filter(badge__public_id=badge_id, digest=digest)
            .first()
        )
        return Payload.json(ob2.badgeclass_version(version)) if version else None

    return _cached(f"ob:{FORMAT}:badgeclass:{badge_id}:{digest}", build)


def current_badge(badge_id: UUID | str) -> Badge | None:
    """A badge as it is now, once it has been published (drafts are private)."""
    return (
        Badge.objects.select_related("issuer__current", "graphic", "organisation")
        .exclude(state=Badge.State.DRAFT)
        .filter(public_id=badge_id, issuer__current__isnull=False)
        .first()
    )


def _current_key(badge_id: UUID | str) -> str:
    return f"ob:{FORMAT}:badge-now:{badge_id}"


def current_badge_payload(badge_id: UUID | str) -> tuple[Payload, bool] | None:
    """(the current BadgeClass, withdrawn?) of a published badge, None for none: from the
    cache (no query) for up to STATE_TTL seconds, else one query. Saving the badge or its
    issuer forgets it at once (``badge_changed``, from the models' post_save), so the TTL only
    bounds a change made without save() (a queryset update)."""
    key = _current_key(badge_id)
    found = cache.get(key)
    if found is None:
        badge = current_badge(badge_id)
        found = (badge_payload(badge), badge.state == Badge.State.WITHDRAWN) if badge else _MISSING
        cache.set(key, found, STATE_TTL)
    return None if found == _MISSING else found


def badge_changed(badge_ids) -> None:
    """Forget the cached current BadgeClass of these badges (public ids)."""
    cache.delete_many([_current_key(b) for b in badge_ids])


def connect_change_signals() -> None:
    """From badges' AppConfig.ready(): a saved or deleted badge, or a saved issuer (a new
    current profile), forgets the cached current BadgeClass at once."""
    from django.db.models.signals import post_delete, post_save

    def on_badge(sender, instance, **kwargs):
        transaction.on_commit(lambda: badge_changed([instance.public_id]))

    def on_issuer(sender, instance, **kwargs):
        ids = list(Badge.objects.filter(issuer=instance).values_list("public_id", flat=True))
        transaction.on_commit(lambda: badge_changed(ids))

    post_save.connect(on_badge, sender=Badge, dispatch_uid="publish.badge_saved")
    post_delete.connect(on_badge, sender=Badge, dispatch_uid="publish.badge_deleted")
    post_save.connect(on_issuer, sender=Issuer, dispatch_uid="publish.issuer_saved")


def badge_payload(badge: Badge) -> Payload:
    key = (
        f"ob:{FORMAT}:badge:{badge.public_id}:{_marker(badge.updated_at)}:{badge.issuer.current_id}"
    )
    return _cached(key, lambda: Payload.json(ob2.badgeclass_current(badge, badge.snapshot())))


def achievement_payload(badge: Badge) -> Payload:
    """The badge's stable OB 3.0 achievement id: its current Achievement (JSON-LD), keyed
    like the current BadgeClass (every edit changes ``updated_at``)."""
    key = f"ob:{FORMAT}:achievement:{badge.public_id}:{_marker(badge.updated_at)}"
    return _cached(
        key, lambda: Payload.json(ob3.achievement_profile(badge.snapshot(), badge.public_id))
    )


def issuer_version(public_id: UUID | str) -> IssuerVersion | None:
    return IssuerVersion.objects.select_related("issuer").filter(public_id=public_id).first()


def _issuer_key(public_id: UUID | str) -> str:
    return f"ob:{FORMAT}:issuer:{public_id}"


def issuer_payload(version: IssuerVersion) -> Payload:
    return _cached(
        _issuer_key(version.public_id), lambda: Payload.json(ob2.issuer_profile(version))
    )


def cached_issuer_payload(public_id: UUID | str) -> Payload | None:
    """An issuer profile version's document if cached (no query): versions never change."""
    return _cached_only(_issuer_key(public_id))


# ---- OB 3.0 --------------------------------------------------------------------------------


def credential_for(award: Award) -> dict:
    """The award's signed OpenBadgeCredential: the stored one, or signed now and stored.
    Needs award.badge and award.issuer_version loaded."""
    stored = AwardCredential.objects.filter(award=award).values_list("credential", flat=True)
    for credential in stored:
        return credential
    return sign_award(award)


def _sign(
    award: Award, version: BadgeClassVersion, entry: StatusListEntry, signer: IssuerSigner
) -> dict:
    """Awards' credentials and status lists both sign through their issuer's signer. Every
    input is fixed when the award is made: the award's own fields and snapshot, its status
    entry (allocated by issuing), its issue time as the proof's ``created`` and the key that
    was active then (``keys.key_at``); Ed25519 is deterministic, so an award's credential has
    the same bytes whenever, and however often, it is signed."""
    return signer.sign(
        ob3.credential(award, version, status_entry=entry), created=ob2.iso(award.issued_at)
    )


def sign_award(award: Award) -> dict:
    """Sign one award's credential now, with its issuer's key of the award's time, and store
    it (the first-request path)."""
    signer = award_signer(issuer_keys(award.issuer_version.issuer), award.issued_at)
    entry = status.entry_for(award)
    signed = _sign(award, badgeclass_version_for(award), entry, signer)
    try:
        with transaction.atomic():
            AwardCredential.objects.create(
                award=award, space_id=award.space_id, credential=signed, signing_key=signer.key
            )
    except IntegrityError:
        # Signed concurrently (the worker and a first visitor): keep the stored one.
        return AwardCredential.objects.get(award=award).credential
    return signed


def _entries_of(awards: list[Award]) -> dict[int, StatusListEntry]:
    """Each award's status entry (1 query), made in bulk for awards that have none."""
    entries = {
        e.award_id: e
        for e in StatusListEntry.objects.select_related("status_list").filter(
            award__in=[a.pk for a in awards]
        )
    }
    missing: dict[int, list[Award]] = {}
    for award in awards:
        if award.pk not in entries:
            missing.setdefault(award.issuer_version.issuer_id, []).append(award)
    for group in missing.values():
        with transaction.atomic():
            made = status.entries_create(
                space=group[0].space, issuer=group[0].issuer_version.issuer, awards=group
            )
        entries.update((e.award_id, e) for e in made)
    return entries


def sign_awards(awards: list[Award]) -> int:
    """Sign many awards' credentials and store them in one INSERT (the worker's path): each
    issuer's keys, their decryption and each BadgeClass version are looked up once per batch,
    not once per award. Awards signed meanwhile by a first visitor keep their credential. Needs
    award.issuer_version.issuer loaded."""
    keys: dict[int, list[SigningKey]] = {}
    signers: dict[int, IssuerSigner] = {}
    versions: dict[tuple[int, str], BadgeClassVersion] = {}
    entries = _entries_of(awards)
    rows = []
    for award in awards:
        issuer = award.issuer_version.issuer
        if issuer.pk not in keys:
            keys[issuer.pk] = issuer_keys(issuer)
        key = key_at(keys[issuer.pk], award.issued_at)
        if key.pk not in signers:
            signers[key.pk] = award_signer([key], award.issued_at)
        signer = signers[key.pk]
        digest = ob2.snapshot_digest(award.badge_snapshot, award.issuer_version)
        version = versions.get((award.badge_id, digest))
        if version is None:
            version = versions[award.badge_id, digest] = badgeclass_version_for(award)
        rows.append(
            AwardCredential(
                award=award,
                space_id=award.space_id,
                credential=_sign(award, version, entries[award.pk], signer),
                signing_key=signer.key,
            )
        )
    AwardCredential.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def credential_payload(public_id: UUID | str) -> Payload | None:
    """The signed credential as served publicly; a declined award's answers 410 (see
    ``signed_credential_payload`` for the document itself)."""
    state = assertion_state(public_id)
    if state is None:
        return None
    if state.startswith(DECLINED_PREFIX):
        return Payload.of(NOT_AVAILABLE.encode(), 410, "text/plain; charset=utf-8")
    return signed_credential_payload(public_id)


def signed_credential_payload(public_id: UUID | str) -> Payload | None:
    def build():
        award = _award(public_id)
        return Payload.json(credential_for(award)) if award else None

    # A signed credential never changes (revocation is published in the status list).
    return _cached(f"ob:{FORMAT}:credential:{public_id}", build)


def revocation_list_payload(version: IssuerVersion) -> Payload:
    """1EdTech Revocation List: the revoked (or declined) credentials of an issuer profile
    version. Not cached: it changes on every revocation, and it is one indexed query."""
    revoked = (
        Award.objects.filter(issuer_version=version)
        .filter(Q(revoked_at__isnull=False) | Q(declined_at__isnull=False))
        .order_by("revoked_at", "pk")
        .values_list("public_id", "revocation_reason")
    )
    entries = []
    for public_id, reason in revoked:
        entry = {"id": links.credential_url(public_id)}
        if reason:
            entry["revocationReason"] = reason
        entries.append(entry)
    return Payload.json(
        {
            "id": links.revocation_list_url(version),
            # The credentials' issuer: the issuer's stable id (needs version.issuer).
            "issuer": links.issuer_id_url(version.issuer),
            "revokedCredentials": entries,
        }
    )


def status_list_payload(public_id: UUID | str) -> Payload | None:
    """The signed BitstringStatusListCredential. Cached per revision (the revision itself is
    cached for ``status.STATE_TTL`` and cleared when a bit flips): a cached list costs no
    query. A list changed since it was last signed is signed again here, once."""
    revision = status.current_revision(public_id)
    if revision is None:
        return None
    return _cached(
        f"ob:{FORMAT}:status-list:{public_id}:{revision}", lambda: _build_status_list(public_id)
    )


def _build_status_list(public_id: UUID | str) -> Payload | None:
    status_list = (
        StatusList.objects.select_related("space", "issuer__current")
        .defer("used")
        .filter(public_id=public_id)
        .first()
    )
    if status_list is None:
        return None
    if status_list.signed is not None and status_list.signed_revision == status_list.revision:
        return Payload.json(status_list.signed)
    # Its issuer is the credentials' issuer, and its key that issuer's (as a verifier checks).
    issuer_id = links.issuer_id_url(status_list.issuer)
    signed = issuer_signer(status_list.issuer).sign(
        status.list_credential(status_list, issuer_id=issuer_id)
    )
    # Kept unless a bit flipped meanwhile (then the next request signs the newer list).
    StatusList.objects.filter(pk=status_list.pk, revision=status_list.revision).update(
        signed=signed, signed_revision=status_list.revision
    )
    return Payload.json(signed)


CID_CONTEXT = "https://www.w3.org/ns/cid/v1"


def signing_key_payload(public_id: UUID | str) -> Payload | None:
    """A key's Multikey document: its own URL, so a verifier that dereferences a proof's
    verificationMethod gets JSON with a top-level ``controller`` whatever it asks for."""

    def build():
        key = (
            SigningKey.objects.select_related("space", "issuer").filter(public_id=public_id).first()
        )
        if key is None:
            return None
        if key.issuer_id:
            controller = links.issuer_id_url(key.issuer)
        else:  # a space's key from before keys were issuers'
            controller = links.key_controller_url(key.space)
        return Payload.json({"@context": [ob3.MULTIKEY_CONTEXT], **ob3.multikey(key, controller)})

    return _cached(f"ob:{FORMAT}:key:{public_id}", build)


def controller_payload(space_public_id: UUID | str) -> Payload | None:
    """The controller document of a space's keys from before keys belonged to issuers: they
    all are retired and may still have made assertions (old credentials keep verifying)."""
    space = Space.objects.filter(public_id=space_public_id).first()
    if space is None:
        return None
    keys = list(
        SigningKey.objects.for_space(space).filter(issuer__isnull=True).order_by("created_at", "pk")
    )
    controller = links.key_controller_url(space)
    return Payload.json(
        {
            "@context": [CID_CONTEXT, ob3.MULTIKEY_CONTEXT],
            "id": controller,
            "name": space.name,
            "verificationMethod": [ob3.multikey(k, controller) for k in keys],
            "assertionMethod": [links.signing_key_url(k) for k in keys],
        }
    )


# ---- Issuer profiles at their stable id ----------------------------------------------------


def issuer_by_id(public_id: UUID | str) -> Issuer | None:
    """An issuer by its stable public id, with its current profile and its number of keys
    (one query)."""
    return (
        Issuer.objects.select_related("current")
        .filter(public_id=public_id, current__isnull=False)
        .annotate(key_count=Count("signing_keys"))
        .first()
    )


def issuer_profile_payload(issuer: Issuer) -> Payload:
    """The profile at the issuer's stable id, listing every key it signs or signed with. An
    issuer that never signed gets its key now, so its profile always names the key that will
    sign its first credential. Needs ``issuer_by_id``'s issuer."""
    count = issuer.key_count
    if not count:
        signing_key_for(issuer)
        count = 1

    def build():
        keys = list(SigningKey.objects.for_issuer(issuer).order_by("created_at", "pk"))
        return Payload.json(ob3.issuer_profile_document(issuer, keys))

    return _cached(f"ob:{FORMAT}:profile:{issuer.public_id}:{issuer.current_id}:{count}", build)


# ---- Baked images --------------------------------------------------------------------------


def _graphic_bytes(award: Award) -> bytes | None:
    name = award.badge_snapshot.get("image")
    if not name or not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as f:
        return f.read()


def _not_bakeable(state: str) -> Payload | None:
    """The 410 answer for a baked image of a suspended, revoked or declined award, None when
    live."""
    if state.startswith(DECLINED_PREFIX):
        return Payload.of(NOT_AVAILABLE.encode(), 410, "text/plain; charset=utf-8")
    if state.startswith(SUSPENDED_PREFIX):
        return Payload.of(b"This badge is suspended.", 410, "text/plain; charset=utf-8")
    if state != LIVE:
        return Payload.of(b"This badge has been revoked.", 410, "text/plain; charset=utf-8")
    return None


def _baked_png(public_id: UUID | str, keyword: str, payload, tag: str) -> Payload | None:
    """The badge graphic with ``payload(public_id)``'s text baked in an iTXt ``keyword`` chunk.
    None for no award or no graphic; a 410 payload for a suspended or revoked award."""
    state = assertion_state(public_id)
    if state is None:
        return None
    if refusal := _not_bakeable(state):
        return refusal

    def build():
        graphic = _graphic_bytes(_award(public_id))
        if graphic is None:
            return None
        text = payload(public_id).body.decode()
        return Payload.of(baking.bake(graphic, keyword, text), 200, "image/png")

    return _cached(f"ob:{FORMAT}:{tag}:{public_id}", build, local=False)


def baked_assertion_png(public_id: UUID | str) -> Payload | None:
    """The badge graphic with the hosted assertion JSON in an ``openbadges`` iTXt chunk."""
    return _baked_png(public_id, baking.OB2_KEYWORD, assertion_payload, "png2")


def baked_credential_png(public_id: UUID | str) -> Payload | None:
    """The badge graphic with the signed credential in an ``openbadgecredential`` chunk."""
    return _baked_png(public_id, baking.OB3_KEYWORD, signed_credential_payload, "png3")


SVG = "image/svg+xml"


def baked_credential_svg(public_id: UUID | str) -> Payload | None:
    """The badge as SVG with the signed credential in ``<openbadges:credential>``: the credential
    payload's very bytes, so what a reader extracts is the served credential. An SVG graphic
    is baked as it is; a PNG (every graphic of ours) is shown by an ``<image>`` data URI.
    None for no award or no graphic; a 410 payload for a suspended or revoked award, like the
    PNG."""
    state = assertion_state(public_id)
    if state is None:
        return None
    if refusal := _not_bakeable(state):
        return refusal

    def build():
        award = _award(public_id)
        graphic = _graphic_bytes(award)
        if graphic is None:
            return None
        text = signed_credential_payload(public_id).body.decode()
        if graphic.startswith(baking.PNG_SIGNATURE):
            width, height = baking.png_size(graphic)
            name = award.badge_snapshot.get("name", "")
            svg = baking.svg_with_png(graphic, text, width=width, height=height, title=name)
        else:
            svg = baking.bake_svg(graphic, text)
        return Payload.of(svg, 200, SVG)

    return _cached(f"ob:{FORMAT}:svg3:{public_id}", build, local=False)
