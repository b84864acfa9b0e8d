"""An issuer's Open Badges signing keys, on the issuer's page: the keys its profile lists and
the rotation button (issuers' page shows this section through issuers.panels)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from badgeplatform.access import space_view
from badgeplatform.permissions import Perm
from badges import links
from badges.models import SigningKey
from badges.openbadges import keys
from issuers.access import issuer_for
from issuers.models import Issuer


def signing_keys_panel(request: HttpRequest, issuer: Issuer) -> SafeString:
    """The issuer page's "Signing keys" section (one query). The issuer page has checked
    "manage issuers", which is what rotating needs."""
    rows = list(SigningKey.objects.for_issuer(issuer).order_by("-created_at", "-pk"))
    return render_to_string(
        "badges/issuer_keys_panel.html",
        {
            "issuer": issuer,
            "keys": [(key, links.signing_key_url(key)) for key in rows],
            "profile_url": links.issuer_id_url(issuer),
        },
        request=request,
    )


@space_view(Perm.MANAGE_ISSUERS)
@require_POST
def issuer_key_rotate(request: HttpRequest, issuer_id: int) -> HttpResponse:
    """Retire the issuer's signing key and make a new one (the button asks first)."""
    issuer = issuer_for(request.access, issuer_id, need=Perm.MANAGE_ISSUERS)
    key = keys.issuer_key_rotate(access=request.access, issuer=issuer, actor=request.user)
    messages.success(
        request,
        f"New signing key {key.public_key_multibase[:14]}… made. Badges issued from now on are "
        "signed with it; badges signed with earlier keys keep verifying.",
    )
    return redirect("issuers:detail", request.space.slug, issuer.pk)
