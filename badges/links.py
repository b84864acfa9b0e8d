"""The stable public URLs of Open Badges objects, built from SITE_URL.

These are a contract with everyone who ever received a badge: ids inside signed credentials
and baked images point here, so the paths never change. The public views serve exactly these
paths (a test checks the URLconf against this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage

if TYPE_CHECKING:
    from badges.models import Award, Badge, BadgeClassVersion, SigningKey, StatusList
    from issuers.models import Issuer, IssuerVersion
    from orgs.models import Space


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def assertion_url(award: Award | UUID | str) -> str:
    """OB 2.0 hosted Assertion (JSON-LD to clients asking for JSON, the verification page to
    browsers)."""
    return _url(f"/public/assertions/{getattr(award, 'public_id', award)}")


def badgeclass_url(badge: Badge | UUID | str) -> str:
    return _url(f"/public/badges/{getattr(badge, 'public_id', badge)}")


def achievement_url(badge: Badge | UUID | str) -> str:
    """A badge's one stable id for its whole life (OB 3.0 ``achievement.id``; edits change
    the achievement's ``version``, never this): its current OB 3.0 Achievement, or the page."""
    return _url(f"/public/achievements/{getattr(badge, 'public_id', badge)}")


def issuer_url(version: IssuerVersion | UUID | str) -> str:
    """An issuer profile *version*: OB 2.0 awards point at the profile current when issued."""
    return _url(f"/public/issuers/{getattr(version, 'public_id', version)}")


def issuer_id_url(issuer: Issuer | UUID | str) -> str:
    """An issuer's one stable id for its whole life (OB 3.0 ``issuer.id``, the controller of
    its signing keys): its current profile, listing its keys. Same path shape as the versions
    (``issuer_url``); the ids never collide (both are random UUIDs)."""
    return _url(f"/public/issuers/{getattr(issuer, 'public_id', issuer)}")


def credential_url(award: Award | UUID | str) -> str:
    """OB 3.0 OpenBadgeCredential (signed JSON)."""
    return _url(f"/public/credentials/{getattr(award, 'public_id', award)}")


def baked_image_url(award: Award | UUID | str) -> str:
    return _url(f"/public/assertions/{getattr(award, 'public_id', award)}/image.png")


def certificate_url(award: Award | UUID | str) -> str:
    """The award's printable PDF certificate (A4; ``?size=letter`` for US Letter)."""
    return _url(f"/public/assertions/{getattr(award, 'public_id', award)}/certificate.pdf")


def card_url(award: Award | UUID | str) -> str:
    """The award's unfurl picture (1200×630 PNG): what Open Graph and Twitter cards show."""
    return _url(f"/public/assertions/{getattr(award, 'public_id', award)}/card.png")


def badge_card_url(badge: Badge | UUID | str) -> str:
    """The badge's unfurl picture (1200×630 PNG), for its public page."""
    return _url(f"/public/badges/{getattr(badge, 'public_id', badge)}/card.png")


def share_url(award: Award | UUID | str, target: str) -> str:
    """A share button: counts the share (no personal data) and sends the person on to
    ``target``'s own share form (badges.engagement.SHARE_TARGETS)."""
    return _url(f"/public/assertions/{getattr(award, 'public_id', award)}/share/{target}")


def credential_image_url(award: Award | UUID | str) -> str:
    """The badge graphic with the signed OB 3.0 credential baked in (iTXt openbadgecredential)."""
    return _url(f"/public/credentials/{getattr(award, 'public_id', award)}/image.png")


def credential_svg_url(award: Award | UUID | str) -> str:
    """The badge as SVG with the signed OB 3.0 credential inside (``<openbadges:credential>``)."""
    return _url(f"/public/credentials/{getattr(award, 'public_id', award)}/image.svg")


def badgeclass_version_url(version: BadgeClassVersion) -> str:
    """The BadgeClass exactly as an award carries it (badge snapshot + issuer version); never
    changes. ``badgeclass_url`` is the badge as it is now."""
    return _url(f"/public/badges/{version.badge.public_id}/v/{version.digest}")


def signing_key_url(key: SigningKey | UUID | str) -> str:
    """A proof's verificationMethod: the Multikey document of an issuer's (possibly retired)
    key, JSON whatever the Accept header, its ``controller`` the issuer's stable id."""
    return _url(f"/public/keys/{getattr(key, 'public_id', key)}")


def key_controller_url(space: Space | UUID | str) -> str:
    """The controller document of the retired per-space keys of before keys belonged to
    issuers (still served: the credentials they signed keep verifying)."""
    return _url(f"/public/signers/{getattr(space, 'public_id', space)}")


def revocation_list_url(version: IssuerVersion | UUID | str) -> str:
    """OB 3.0 credentialStatus (1EdTechRevocationList): the revoked credentials of an issuer
    profile version."""
    return _url(f"/public/issuers/{getattr(version, 'public_id', version)}/revocations")


def status_list_url(status_list: StatusList | UUID | str) -> str:
    """OB 3.0 credentialStatus (W3C Bitstring Status List): an issuer's signed
    BitstringStatusListCredential."""
    return _url(f"/public/status-lists/{getattr(status_list, 'public_id', status_list)}")


def download(url: str) -> str:
    """The same resource as an attachment (a file name instead of a page in the browser)."""
    return f"{url}?download=1"


def as_json(url: str) -> str:
    """The JSON form of a negotiated URL, for a link a person clicks in a browser."""
    return f"{url}?format=json"


def media_url(name: str) -> str:
    """An absolute URL for a stored file (graphics, logos), whatever the storage."""
    url = default_storage.url(name)
    return url if urlsplit(url).scheme else _url(url)


def linkedin_add_url(award: Award, organization_id: str = "") -> str:
    """LinkedIn's "Add licence or certification" form, pre-filled with the award.

    The issuing organisation is LinkedIn's numeric ``organizationId`` when the space set one
    (System settings → Branding: LinkedIn then shows the organisation's page and logo), else
    the issuer's name as ``organizationName``; the credential URL is the public verification
    page and the credential id the award's public id.
    """
    organisation = (
        {"organizationId": organization_id}
        if organization_id
        else {"organizationName": award.issuer_version.name}
    )
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": award.badge_snapshot.get("name", ""),
        **organisation,
        "issueYear": award.issued_at.year,
        "issueMonth": award.issued_at.month,
        "certUrl": assertion_url(award),
        "certId": str(award.public_id),
    }
    if award.expires_at:
        params["expirationYear"] = award.expires_at.year
        params["expirationMonth"] = award.expires_at.month
    return f"https://www.linkedin.com/profile/add?{urlencode(params)}"
