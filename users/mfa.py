"""Second factors (django-allauth's MFA) in the platform: what the Settings page shows, the
audit entries of every change, and the spaces' policy (docs/mfa.md)."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from badgeplatform.audit import audit_log
from badgeplatform.permissions import ADMINISTRATIVE, Perm
from users.models import Member, User

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

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
    return is_mfa_enabled(user, list(SECOND_FACTORS))


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


CHANGE_WORDS = {
    "mfa.factor_add": "{factor} was added",
    "mfa.factor_remove": "{factor} was removed",
    "mfa.recovery_codes_regenerate": "new recovery codes were made (the old ones stopped working)",
}


def audit_factor_change(*, user: User, action: str, authenticator: Authenticator) -> None:
    """The audit entries of one change, and an email to the person (so a change they did not
    make does not go unnoticed). Recovery codes made along with a first factor
    (and removed with the last one) are audited but not emailed separately."""
    from django.conf import settings

    from badgeplatform.mail import queue_email
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
        # Recovery codes come and go with the first and last factor: one email says it.
        automatic = (
            authenticator.type == Authenticator.Type.RECOVERY_CODES
            and action != "mfa.recovery_codes_regenerate"
        )
        if user.email and not automatic:
            factor = _factor_label(authenticator)
            article = "an" if factor[0] in "aeiou" else "a"
            queue_email(
                to=user.email,
                template="mfa_changed",
                context={
                    "user": user,
                    "change": CHANGE_WORDS[action].format(factor=f"{article} {factor}"),
                    "settings_url": settings.SITE_URL + reverse("accounts:settings"),
                },
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


# ---- The space's policy: a second factor for administrative roles ---------------------------


def holds_administrative_role(access) -> bool:
    """Does this member hold any administrative permission anywhere in the space?"""
    return any(ADMINISTRATIVE & frozenset(grant.perms) for grant in access.grants)


def policy_refusal(request: HttpRequest, access) -> HttpResponse | None:
    """space_view's entry check (badgeplatform.access.register_entry_check): a member with an
    administrative role in a space that requires a second factor, and none set up, is sent to
    set one up (their Settings page), with the page they wanted kept as ``next``. No query
    unless the space has the policy on and the member an administrative role."""
    space = access.space
    if not getattr(space, "mfa_required_for_admins", False) or access.is_system:
        return None
    if not holds_administrative_role(access) or has_second_factor(request.user):
        return None
    messages.warning(
        request,
        f"{space.name} requires a second factor for your role. Set up an authenticator app "
        "or a passkey below; then you can continue.",
    )
    request.session[SESSION_NEXT] = request.get_full_path()
    return HttpResponseRedirect(reverse("accounts:settings") + "#two-factor")


SESSION_NEXT = "_mfa_enrol_next"


def pop_enrol_next(request: HttpRequest) -> str:
    """Where the person was going when the policy sent them to enrol, once they have a
    factor ("" before, and when the policy sent them nowhere)."""
    if SESSION_NEXT not in request.session or not has_second_factor(request.user):
        return ""
    return request.session.pop(SESSION_NEXT)


def removal_refusal(authenticator: Authenticator) -> str | None:
    """Why ``authenticator`` may not be removed, or None: it is the person's last second factor
    and a space they hold an administrative role in requires one."""
    from users.models import Membership

    if authenticator.type not in SECOND_FACTORS:
        return None
    others = Authenticator.objects.filter(user_id=authenticator.user_id, type__in=SECOND_FACTORS)
    if others.exclude(pk=authenticator.pk).exists():
        return None
    for membership in Membership.objects.filter(
        user_id=authenticator.user_id, space__mfa_required_for_admins=True
    ).select_related("role", "space"):
        if membership.role.permission_set & ADMINISTRATIVE:
            return (
                f"{membership.space.name} requires a second factor for your role: add another "
                "one (an authenticator app or a passkey) before removing this one."
            )
    return None


class PolicyRefused(ValidationError):
    pass


def admins_without_factor(space, *, limit: int = 20) -> tuple[int, list[User]]:
    """How many people hold an administrative role in ``space`` and no second factor, and the
    first ``limit`` of them by name (3 queries)."""
    from users.models import Membership, Role

    admin_roles = [
        role.pk
        for role in Role.objects.filter(space=space).only("pk", "permissions")
        if role.permission_set & ADMINISTRATIVE
    ]
    user_ids = (
        Membership.objects.filter(space=space, role_id__in=admin_roles)
        .exclude(user__in=Authenticator.objects.filter(type__in=SECOND_FACTORS).values("user_id"))
        .values("user_id")
    )
    people = User.objects.filter(pk__in=user_ids)
    return people.count(), list(people.order_by("last_name", "first_name", "pk")[:limit])


def mfa_policy_set(*, access, space, required: bool) -> bool:
    """Turn the space's "second factor for administrators" on or off; audited. The actor needs
    "manage system settings" and, to turn it on, a second factor of their own (so that saving
    never sends them straight to enrolment). Returns whether anything changed."""
    from orgs.models import Space

    access.require(Perm.MANAGE_SETTINGS)
    if required and access.user is not None and not has_second_factor(access.user):
        raise PolicyRefused(
            "Set up your own second factor first (Settings → Two-factor sign-in): this "
            "policy applies to you too."
        )
    with transaction.atomic():
        locked = Space.objects.select_for_update().get(pk=space.pk)
        if locked.mfa_required_for_admins == required:
            return False
        locked.mfa_required_for_admins = required
        locked.save(update_fields=["mfa_required_for_admins"])
        space.mfa_required_for_admins = required
        audit_log(
            space=locked,
            actor=access.user,
            action="security.mfa_policy",
            obj=locked,
            label="Second factor required for administrative roles"
            if required
            else "Second factor no longer required for administrative roles",
            changes={"mfa_required_for_admins": [not required, required]},
        )
    return True
