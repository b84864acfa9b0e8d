"""A recipient's connected apps: the clients holding a live grant of theirs, listed on their
Settings page, each with "Disconnect" (every token and code of that client for that person
deleted at once, so its next call is refused)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max, Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from obapi import scopes as scope_words
from users.models import User


@dataclass(frozen=True)
class Connection:
    application: Application
    logo_uri: str
    client_uri: str
    scopes: list[tuple[str, str]]
    last_authorized: datetime


def connections_of(user: User) -> list[Connection]:
    """Clients with a live access token or an unrevoked refresh token of ``user`` (2 queries)."""
    now = timezone.now()
    live = Q(accesstoken__user=user, accesstoken__expires__gt=now) | Q(
        refreshtoken__user=user, refreshtoken__revoked__isnull=True
    )
    apps = (
        Application.objects.filter(live)
        .select_related("registration")
        .annotate(last=Max("accesstoken__created"))
        .distinct()
        .order_by("name", "pk")
    )
    tokens = AccessToken.objects.filter(user=user, application__in=apps).values_list(
        "application_id", "scope"
    )
    granted: dict[int, set[str]] = {}
    for app_id, scope in tokens:
        granted.setdefault(app_id, set()).update(scope.split())
    result = []
    for app in apps:
        registration = getattr(app, "registration", None)
        result.append(
            Connection(
                application=app,
                logo_uri=registration.logo_uri if registration else "",
                client_uri=registration.client_uri if registration else "",
                scopes=scope_words.described(sorted(granted.get(app.pk, set()))),
                last_authorized=app.last or app.created,
            )
        )
    return result


def disconnect(*, user: User, client_id: str) -> bool:
    """End every grant ``user`` gave the client; False when there was none to end."""
    with transaction.atomic():
        application = Application.objects.filter(client_id=client_id).first()
        if application is None:
            return False
        mine = {"user": user, "application": application}
        # Refresh tokens first: they point at access tokens.
        ended = RefreshToken.objects.filter(**mine).delete()[0]
        ended += AccessToken.objects.filter(**mine).delete()[0]
        ended += Grant.objects.filter(**mine).delete()[0]
    return ended > 0


def settings_panel(request: HttpRequest) -> SafeString:
    return render_to_string(
        "obapi/_connected_apps.html",
        {"connections": connections_of(request.user)},
        request=request,
    )
