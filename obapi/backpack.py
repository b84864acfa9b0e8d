"""The backpack's sections that the Open Badges 3.0 API adds (registered with
``badges.backpack_panels``): the badges added from elsewhere, beside ours, each with its issuer
and what verified; and "Add to wallet" on an award's page.

An imported badge's status is re-read when the backpack shows it and its last check is older
than a day (at most ``RECHECK_PER_VIEW`` per page view, the oldest first); the periodic task
``obapi.tasks.recheck_imported_credentials`` keeps the rest fresh.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from badges.models import Award
from obapi import imports
from obapi.models import ImportedCredential

RECHECK_PER_VIEW = 3
SHOWN = 100


def imported_section(request: HttpRequest) -> SafeString:
    items = list(
        ImportedCredential.objects.filter(recipient=request.user).order_by("-created_at", "-pk")[
            :SHOWN
        ]
    )
    stale_before = timezone.now() - imports.RECHECK_AFTER
    stale = sorted((i for i in items if i.checked_at < stale_before), key=lambda i: i.checked_at)
    for item in stale[:RECHECK_PER_VIEW]:
        imports.recheck(item)
    if not items:
        return SafeString("")
    return render_to_string("obapi/_imported.html", {"items": items}, request=request)


def wallet_section(request: HttpRequest, award: Award) -> SafeString:
    return render_to_string("obapi/_add_to_wallet.html", {"award": award}, request=request)
