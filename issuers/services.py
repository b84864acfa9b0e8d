"""Issuer profiles. Every change is a new version; nothing rewrites an old one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.files.base import File
from django.db import transaction

from badgeplatform.audit import audit_log
from badgeplatform.permissions import Perm
from issuers.models import Issuer, IssuerVersion

if TYPE_CHECKING:
    from badgeplatform.access import Access
    from orgs.models import Organisation, Space
    from users.models import User

PROFILE_FIELDS = ("name", "website", "description", "email")


@transaction.atomic
def issuer_create(
    *,
    access: Access,
    space: Space,
    organisation: Organisation,
    actor: User | None,
    name: str,
    website: str,
    email: str,
    description: str = "",
    logo: File | None = None,
) -> Issuer:
    """A new issuer in ``organisation``; the actor needs "manage issuers" there."""
    if organisation.space_id != space.pk or access.space.pk != space.pk:
        raise ValueError("The organisation belongs to another space.")
    access.require(Perm.MANAGE_ISSUERS, organisation=organisation)
    issuer = Issuer.objects.create(space=space, organisation=organisation)
    version = IssuerVersion(
        space=space,
        issuer=issuer,
        number=1,
        name=name,
        website=website,
        email=email,
        description=description,
        created_by=actor,
    )
    if logo is not None:
        version.logo.save(logo.name, logo, save=False)
    version.save()
    issuer.current = version
    issuer.save(update_fields=["current"])
    audit_log(space=space, actor=actor, action="issuer.create", obj=issuer, label=name)
    return issuer


@transaction.atomic
def issuer_update(
    *,
    access: Access,
    issuer: Issuer,
    actor: User | None,
    organisation: Organisation | None = None,
    logo: File | None = None,
    remove_logo: bool = False,
    **profile: str,
) -> IssuerVersion:
    """Add a new profile version (the previous one stays, for the awards that point at it).

    Returns the current version; when nothing differs from it, no version is added."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown issuer profile fields: {sorted(unknown)}")
    # Lock the issuer so two concurrent edits cannot both take the same version number.
    issuer = (
        Issuer.objects.select_for_update(of=("self",))
        .select_related("current", "organisation")
        .get(pk=issuer.pk)
    )
    # "Manage issuers" where it is and, when it moves, where it goes.
    access.require(Perm.MANAGE_ISSUERS, organisation=issuer.organisation)
    if organisation is not None:
        if organisation.space_id != issuer.space_id:
            raise ValueError("The organisation belongs to another space.")
        access.require(Perm.MANAGE_ISSUERS, organisation=organisation)
    previous = issuer.current
    moves = organisation is not None and organisation.pk != issuer.organisation_id
    same_profile = all(
        profile.get(f, getattr(previous, f)) == getattr(previous, f) for f in PROFILE_FIELDS
    )
    if same_profile and logo is None and not (remove_logo and previous.logo):
        # An unchanged profile is not a new version (moving the issuer to another organisation
        # changes who manages it, not what awards say).
        if moves:
            issuer.organisation = organisation
            issuer.save(update_fields=["organisation"])
            audit_log(
                space=issuer.space,
                actor=actor,
                action="issuer.move",
                obj=issuer,
                label=previous.name,
                changes={"organisation": organisation.name},
            )
        return previous
    version = IssuerVersion(
        space=issuer.space,
        issuer=issuer,
        number=previous.number + 1,
        created_by=actor,
        **{f: profile.get(f, getattr(previous, f)) for f in PROFILE_FIELDS},
    )
    if logo is not None:
        version.logo.save(logo.name, logo, save=False)
    elif not remove_logo:
        version.logo = previous.logo  # same file: versions share it, files are never rewritten
    version.save()
    issuer.current = version
    fields = ["current"]
    if moves:
        issuer.organisation = organisation
        fields.append("organisation")
    issuer.save(update_fields=fields)
    changed = {
        f: getattr(version, f)
        for f in PROFILE_FIELDS
        if getattr(version, f) != getattr(previous, f)
    }
    if logo is not None or (remove_logo and previous.logo):
        changed["logo"] = "replaced" if logo is not None else "removed"
    if moves:
        changed["organisation"] = organisation.name
    audit_log(
        space=issuer.space,
        actor=actor,
        action="issuer.update",
        obj=issuer,
        label=version.name,
        changes={"version": version.number, **changed},
    )
    return version
