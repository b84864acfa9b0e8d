"""The stable public URLs of Open Badges objects, built from SITE_URL.

These are a contract with everyone who ever received a badge: ids inside signed credentials
and baked images point here, so the paths never change. The public views serve exactly these
paths (a test checks the URLconf against this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings

if TYPE_CHECKING:
    from badges.models import Award, Badge
    from issuers.models import IssuerVersion


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def assertion_url(award: Award | UUID | str) -> str:
    """OB 2.0 hosted Assertion (JSON-LD to clients asking for JSON, the verification page to
    browsers)."""
    return _url(f"/public/assertions/{getattr(award, 'public_id', award)}")


def badgeclass_url(badge: Badge | UUID | str) -> str:
    return _url(f"/public/badges/{getattr(badge, 'public_id', badge)}")


def issuer_url(version: IssuerVersion | UUID | str) -> str:
    """An issuer profile *version*: awards point at the profile current when issued."""
    return _url(f"/public/issuers/{getattr(version, 'public_id', version)}")


def credential_url(award: Award | UUID | str) -> str:
    """OB 3.0 OpenBadgeCredential (signed JSON)."""
    return _url(f"/public/credentials/{getattr(award, 'public_id', award)}")


def baked_image_url(award: Award | UUID | str) -> str:
    return _url(f"/public/assertions/{getattr(award, 'public_id', award)}/image.png")
