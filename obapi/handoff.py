"""Handing one of our awards to a wallet: a VC-API exchange (the protocol the DCC Learner
Credential Wallet speaks), offered as a QR code and a link.

The recipient asks for an offer on the award's page; we make an exchange at an unguessable URL
(``/wallet/exchanges/<id>``, valid ``OFFER_MINUTES``, ``MAX_USES`` deliveries) and show it as
the wallet's deep link (``https://lcw.app/request.html?request={"credentialRequestOrigin": …,
"protocols": {"vcapi": <exchange URL>}}``) in a QR code (segno). The wallet POSTs to the
exchange and receives a VerifiablePresentation holding the award's signed OB 3.0 credential.

Limits (docs/ob3-api.md): the credential is the award's own, already signed, and names the
recipient by a hashed email, not the wallet's DID, so no DID authentication is asked (it would
bind nothing); the URL itself is the capability, hence short-lived and use-limited. Revoked
and declined awards are not offered (the status list says so anyway).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from badges.models import Award
from badges.openbadges import publish
from obapi.models import WalletOffer
from users.models import User

OFFER_MINUTES = 15
MAX_USES = 3
WALLET_LINK = "https://lcw.app/request.html"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


class OfferRefused(Exception):
    pass


@dataclass(frozen=True)
class Offer:
    exchange_url: str
    wallet_link: str
    qr_svg_data_uri: str
    expires_at: object


def _hash(exchange_id: str) -> str:
    return hashlib.sha256(exchange_id.encode()).hexdigest()


def offer_create(*, user: User, award: Award) -> Offer:
    """A new exchange for ``award`` (which must be ``user``'s own, not revoked)."""
    if award.recipient_id != user.pk:
        raise OfferRefused("Only the recipient may hand their badge to a wallet.")
    if award.is_revoked or award.is_declined:
        raise OfferRefused("A revoked or declined badge cannot be added to a wallet.")
    exchange_id = secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(minutes=OFFER_MINUTES)
    WalletOffer.objects.create(
        exchange_hash=_hash(exchange_id), award=award, recipient=user, expires_at=expires
    )
    exchange_url = f"{settings.SITE_URL}{reverse('vcapi:exchange', args=[exchange_id])}"
    request = {"credentialRequestOrigin": settings.SITE_URL, "protocols": {"vcapi": exchange_url}}
    link = f"{WALLET_LINK}?request={quote(json.dumps(request, separators=(',', ':')))}"
    qr = segno.make(link, error="m")
    return Offer(exchange_url, link, qr.svg_data_uri(scale=4, border=4), expires)


def exchange(exchange_id: str) -> dict | None:
    """The wallet's POST: the presentation holding the credential, or None (unknown, expired,
    used up, or the award revoked since)."""
    with transaction.atomic():
        offer = (
            WalletOffer.objects.select_for_update()
            .select_related("award__issuer_version__issuer", "award__badge")
            .filter(exchange_hash=_hash(exchange_id), expires_at__gt=timezone.now())
            .first()
        )
        award = offer.award if offer else None
        if award is None or offer.uses >= MAX_USES or award.is_revoked or award.is_declined:
            return None
        WalletOffer.objects.filter(pk=offer.pk).update(uses=F("uses") + 1)
    credential = publish.credential_for(offer.award)
    return {
        "verifiablePresentation": {
            "@context": [VC_V2],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [credential],
        }
    }
