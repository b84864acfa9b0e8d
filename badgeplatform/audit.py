"""The audit log: services call ``audit_log`` inside the transaction of the change."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from badgeplatform.models import AuditEntry

if TYPE_CHECKING:
    from django.db.models import Model

    from orgs.models import Space
    from users.models import User

# The client address of the request being served, set by AuditContextMiddleware, so services
# need no request argument to record it.
_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def audit_log(
    *,
    space: Space,
    actor: User | None,
    action: str,
    obj: Model | None = None,
    label: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        space=space,
        actor=actor,
        actor_label=(f"{actor.get_full_name()} <{actor.email}>".strip() if actor else "system")[
            :300
        ],
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(getattr(obj, "public_id", None) or getattr(obj, "pk", "") or "")[:64],
        object_label=(label or (str(obj) if obj is not None else ""))[:300],
        changes=changes or {},
        ip_address=_client_ip.get(),
    )


class AuditContextMiddleware:
    """Remembers the client address for the audit log while a request is served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from badgeplatform.ratelimit import client_address

        token = _client_ip.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
