"""Second factors (django-allauth's MFA) in the platform: what the Settings page shows, the
audit entries of every change, and the spaces' policy (docs/mfa.md)."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.db import transaction

from badgeplatform.audit import audit_log
from users.models import Member, User

FACTOR_LABELS = {
    Authenticator.Type.TOTP: "authenticator app",
    Authenticator.Type.WEBAUTHN: "passkey",
    Authenticator.Type.RECOVERY_CODES: "recovery codes",
}


def settings_context(user: User) -> dict:
    """The person's factors, for the Two-factor section of their Settings page (1 query)."""
    totp, passkeys, codes = None, [], None
    for auth in Authenticator.objects.filter(user_id=user.pk).order_by("created_at"):
        if auth.type == Authenticator.Type.TOTP:
            totp = auth
        elif auth.type == Authenticator.Type.WEBAUTHN:
            passkeys.append(auth.wrap())
        elif auth.type == Authenticator.Type.RECOVERY_CODES:
            codes = auth.wrap()
    return {
        "mfa_totp": totp,
        "mfa_passkeys": passkeys,
        "mfa_codes_left": len(codes.get_unused_codes()) if codes else None,
        "mfa_enabled": bool(totp or passkeys),
    }


def has_second_factor(user: User) -> bool:
    return is_mfa_enabled(user, [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])


# ---- The audit log ---------------------------------------------------------------------------
# A person's factors are theirs, not a space's: each change is recorded in every space they
# belong to, where their administrators read the audit log.


def _factor_label(authenticator: Authenticator) -> str:
    label = FACTOR_LABELS.get(authenticator.type, authenticator.type)
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        name = authenticator.wrap().name
        if name:
            label = f"{label} “{name}”"
    return label


def audit_factor_change(*, user: User, action: str, authenticator: Authenticator) -> None:
    from orgs.models import Space

    spaces = Space.objects.filter(
        pk__in=Member.objects.filter(user_id=user.pk).values("space_id")
    ).order_by("pk")
    label = f"{user.get_full_name() or user.username}: {_factor_label(authenticator)}"
    with transaction.atomic():
        for space in spaces:
            audit_log(
                space=space,
                actor=user,
                action=action,
                obj=user,
                label=label,
                changes={"factor": str(authenticator.type)},
            )


def _on_added(sender, request, user, authenticator, **kwargs) -> None:
    audit_factor_change(user=user, action="mfa.factor_add", authenticator=authenticator)


def _on_removed(sender, request, user, authenticator, **kwargs) -> None:
    audit_factor_change(user=user, action="mfa.factor_remove", authenticator=authenticator)


def _on_reset(sender, request, user, authenticator, **kwargs) -> None:
    audit_factor_change(
        user=user, action="mfa.recovery_codes_regenerate", authenticator=authenticator
    )


def connect_signals() -> None:
    from allauth.mfa import signals

    signals.authenticator_added.connect(_on_added, dispatch_uid="users.mfa.added")
    signals.authenticator_removed.connect(_on_removed, dispatch_uid="users.mfa.removed")
    signals.authenticator_reset.connect(_on_reset, dispatch_uid="users.mfa.reset")
