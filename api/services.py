"""API keys: create, revoke, authenticate; the organisation scope of a key."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from api.models import ApiKey, IdempotencyRecord
from badgeplatform.audit import audit_log

if TYPE_CHECKING:
    from orgs.models import Organisation, Space
    from users.models import User

DEVELOPER_KEY_PREFIX = "bpk_"
TOKEN_PREFIX = "bpt_"  # noqa: S105 - a prefix that makes leaked tokens recognisable, not a secret
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_\-]{1,40}")
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-]{1,100}")
# Compared against when the developer key is unknown, so both failures take the same time.
_NO_SUCH_HASH = hashlib.sha256(b"no such key").hexdigest()
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewApiKey:
    """A key just made; ``token`` exists only here and is never stored."""

    key: ApiKey
    token: str


def apikey_create(
    *,
    space: Space,
    name: str,
    organisation: Organisation | None = None,
    actor: User | None = None,
) -> NewApiKey:
    if organisation is not None and organisation.space_id != space.pk:
        raise ValueError("The organisation belongs to another space")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    key = ApiKey.objects.create(
        space=space,
        organisation=organisation,
        name=name.strip(),
        developer_key=DEVELOPER_KEY_PREFIX + secrets.token_hex(12),
        token_hash=token_hash(token),
        created_by=actor,
    )
    # The developer key is public; the token never reaches the log.
    audit_log(
        space=space,
        actor=actor,
        action="apikey.create",
        obj=key,
        label=f"{key.name} ({key.developer_key})",
        changes={"organisation": organisation.name if organisation else "whole space"},
    )
    return NewApiKey(key=key, token=token)


def apikey_revoke(*, key: ApiKey, actor: User | None = None) -> ApiKey:
    """Revoke at once; the next call with it gets 401. Revoking twice keeps the first time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by"])
        audit_log(
            space=key.space,
            actor=actor,
            action="apikey.revoke",
            obj=key,
            label=f"{key.name} ({key.developer_key})",
        )
    return key


def apikey_authenticate(developer_key: str, token: str) -> ApiKey | None:
    """The active key these credentials name, or None (one query).

    Unknown, revoked and mismatched credentials are all just None, and the token is
    compared in constant time whether or not the developer key exists.
    """
    key = None
    if _KEY_SHAPE.fullmatch(developer_key or "") and _TOKEN_SHAPE.fullmatch(token or ""):
        key = (
            ApiKey.objects.select_related("space", "organisation")
            .filter(developer_key=developer_key)
            .first()
        )
    matches = hmac.compare_digest(
        token_hash(token or ""), key.token_hash if key is not None else _NO_SUCH_HASH
    )
    if key is None or not matches or key.revoked_at is not None:
        return None
    return key


def apikey_touch(key: ApiKey) -> None:
    """Record the use, at most once a minute: one conditional UPDATE, skipped in between."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def organisations_in_scope_q(key: ApiKey, prefix: str = "organisation__") -> Q:
    """Rows whose organisation the key may see: all of its space, or one subtree (a range)."""
    if key.organisation is None:
        return Q()
    org = key.organisation
    return Q(
        **{
            f"{prefix}tree_id": org.tree_id,
            f"{prefix}lft__gte": org.lft,
            f"{prefix}rght__lte": org.rght,
        }
    )


def in_scope(key: ApiKey, organisation: Organisation) -> bool:
    if organisation.space_id != key.space_id:
        return False
    scope = key.organisation
    return scope is None or (
        scope.tree_id == organisation.tree_id
        and scope.lft <= organisation.lft
        and scope.rght >= organisation.rght
    )


def idempotency_purge() -> int:
    """Forget stored responses older than API_IDEMPOTENCY_TTL_HOURS (the beat runs this)."""
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
