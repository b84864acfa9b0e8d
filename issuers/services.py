"""Issuer profiles. Every change is a new version; nothing rewrites an old one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.files.base import File
from django.db import transaction

from issuers.models import Issuer, IssuerVersion

if TYPE_CHECKING:
    from orgs.models import Organisation, Space
    from users.models import User

PROFILE_FIELDS = ("name", "website", "description", "email")


@transaction.atomic
def issuer_create(
    *,
    space: Space,
    organisation: Organisation,
    actor: User | None,
    name: str,
    website: str,
    email: str,
    description: str = "",
    logo: File | None = None,
) -> Issuer:
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
    return issuer


@transaction.atomic
def issuer_update(
    *,
    issuer: Issuer,
    actor: User | None,
    organisation: Organisation | None = None,
    logo: File | None = None,
    remove_logo: bool = False,
    **profile: str,
) -> IssuerVersion:
    """Add a new profile version (the previous one stays, for the awards that point at it)."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown issuer profile fields: {sorted(unknown)}")
    # Lock the issuer so two concurrent edits cannot both take the same version number.
    issuer = (
        Issuer.objects.select_for_update(of=("self",)).select_related("current").get(pk=issuer.pk)
    )
    previous = issuer.current
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
    if organisation is not None and organisation.pk != issuer.organisation_id:
        issuer.organisation = organisation
        fields.append("organisation")
    issuer.save(update_fields=fields)
    return version
