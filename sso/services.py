"""Configuring single sign-on: providers and the space's sign-in policy, each change audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.permissions import Perm
from orgs.models import Space
from sso import fetching
from sso.models import IdentityProvider, SignInPolicy
from sso.secrets import seal
from users.memberships import require_may_assign
from users.models import Membership, User
from users.places import Place

if TYPE_CHECKING:
    from django.db.models import QuerySet

AUDITED = [
    "name",
    "enabled",
    "issuer_url",
    "client_id",
    "metadata_url",
    "idp_entity_id",
    "idp_sso_url",
    "attr_email",
    "attr_email_verified",
    "attr_first_name",
    "attr_last_name",
    "attr_external_id",
    "emails_verified_by_idp",
    "jit_enabled",
    "jit_organisation",
    "jit_role",
]


class ConfigError(ValidationError):
    """A provider could not be saved; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _snapshot(idp: IdentityProvider) -> dict:
    return {f: str(getattr(idp, f) or "") for f in AUDITED}


def provider_save(
    *,
    access: Access,
    idp: IdentityProvider,
    client_secret: str = "",
    before: dict | None = None,
    confirm_admin_role: bool = False,
) -> IdentityProvider:
    """Check and save ``idp`` (a new one or an edited one from the form): the OIDC discovery
    document or the SAML metadata is read now, so a mistake shows on the settings page and not
    on someone's sign-in."""
    access.require(Perm.MANAGE_SETTINGS)
    space = access.space
    if idp.space_id != space.pk:
        raise ValidationError("Not this space's provider.")
    role, organisation = idp.jit_role, idp.jit_organisation
    if (organisation is not None and organisation.space_id != space.pk) or (
        role is not None and role.space_id != space.pk
    ):
        raise ValidationError("Not this space's organisation or role.")
    if role is not None and role.permissions and not confirm_admin_role:
        raise ConfigError(
            f"“{role.name}” carries administrative permissions: newcomers get it only when "
            "that is confirmed.",
            "jit_role",
        )
    if role is not None:
        # Nobody configures newcomers into a role they could not give there themselves.
        place = Place(organisation=organisation or space.root_organisation)
        require_may_assign(access, role, place)
    try:
        if idp.kind == IdentityProvider.OIDC:
            idp.discovery = fetching.discover_oidc(idp.issuer_url)
            idp.metadata_url = idp.metadata_xml = ""
        else:
            xml = idp.metadata_xml.strip() or fetching.fetch(idp.metadata_url, what="metadata")
            parsed = fetching.parse_saml_metadata(xml)
            idp.idp_entity_id = parsed["entity_id"]
            idp.idp_sso_url = parsed["sso_url"]
            idp.idp_x509cert = parsed["x509cert"]
            idp.issuer_url = idp.client_id = ""
    except fetching.FetchError as exc:
        field = (
            "issuer_url"
            if idp.kind == IdentityProvider.OIDC
            else ("metadata_url" if idp.metadata_url else "metadata_xml")
        )
        raise ConfigError(str(exc), field) from exc
    created = idp.pk is None
    with transaction.atomic():
        idp.save()
        if client_secret:
            idp.client_secret_encrypted = seal(client_secret, idp.provider_id)
            idp.save(update_fields=["client_secret_encrypted"])
        after = _snapshot(idp)
        changes = {
            k: [(before or {}).get(k, ""), v]
            for k, v in after.items()
            if (before or {}).get(k, "") != v
        }
        if client_secret:
            changes["client_secret"] = "set" if created else "replaced"
        audit_log(
            space=space,
            actor=access.user,
            action="sso.provider_create" if created else "sso.provider_update",
            obj=idp,
            label=f"{idp.name} ({idp.get_kind_display()})",
            changes=changes,
        )
    return idp


def snapshot(idp: IdentityProvider) -> dict:
    return _snapshot(idp)


@transaction.atomic
def provider_delete(*, access: Access, idp: IdentityProvider) -> None:
    access.require(Perm.MANAGE_SETTINGS)
    space = Space.objects.select_for_update().get(pk=access.space.pk)
    others = IdentityProvider.objects.for_space(space).filter(enabled=True).exclude(pk=idp.pk)
    if space.sso_required and not others.exists():
        raise ValidationError(
            "Your space requires single sign-on and this is its last provider. Turn the "
            "requirement off first."
        )
    audit_log(
        space=space,
        actor=access.user,
        action="sso.provider_delete",
        obj=idp,
        label=f"{idp.name} ({idp.get_kind_display()})",
    )
    idp.delete()


def administrators(space: Space) -> QuerySet[User]:
    """The people who may be break-glass: they manage system settings on the root."""
    holders = [
        m.user_id
        for m in Membership.objects.filter(
            space=space, organisation=space.root_organisation
        ).select_related("role")
        if Perm.MANAGE_SETTINGS.value in (m.role.permissions or [])
    ]
    return User.objects.filter(pk__in=holders, is_active=True).order_by("email")


def policy_of(space: Space) -> SignInPolicy:
    return SignInPolicy.objects.get_or_create(space=space)[0]


@transaction.atomic
def policy_save(*, access: Access, sso_required: bool, break_glass: list[User]) -> SignInPolicy:
    """Require single sign-on (or not) and name the break-glass administrators."""
    access.require(Perm.MANAGE_SETTINGS)
    space = Space.objects.select_for_update().get(pk=access.space.pk)
    admins = set(administrators(space).values_list("pk", flat=True))
    chosen = [u for u in break_glass if u.pk in admins]
    if len(chosen) != len(break_glass):
        raise ValidationError("Only space administrators can be break-glass administrators.")
    if sso_required:
        if not IdentityProvider.objects.for_space(space).filter(enabled=True).exists():
            raise ValidationError("Add and enable an identity provider before requiring it.")
        if not chosen:
            raise ValidationError(
                "Keep at least one break-glass administrator who can sign in with a password, "
                "in case the identity provider is unavailable."
            )
    policy = policy_of(space)
    old_people = sorted(policy.break_glass.values_list("email", flat=True))
    new_people = sorted(u.email for u in chosen)
    policy.break_glass.set(chosen)
    changes = {}
    if space.sso_required != sso_required:
        changes["sso_required"] = [space.sso_required, sso_required]
        space.sso_required = sso_required
        space.save(update_fields=["sso_required"])
        access.space.sso_required = sso_required
    if old_people != new_people:
        changes["break_glass"] = [old_people, new_people]
    if changes:
        audit_log(
            space=space, actor=access.user, action="sso.policy_update", obj=space, changes=changes
        )
    return policy
