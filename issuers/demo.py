"""Demo data: the university's own issuer and one for its continuing-education arm."""

import secrets

from django.core.files.base import ContentFile

from badgeplatform.access import Access
from issuers.models import Issuer
from issuers.services import issuer_create


def _logo(initials: str, colour: str) -> ContentFile:
    """A simple round logo drawn by the badge designer (our own pixels: no upload to check)."""
    from badges.designer import Design, render_badge

    png = render_badge(Design("circle", colour, "#FFFFFF", "#FFFFFF", initials), size=256)
    return ContentFile(png, name=f"{secrets.token_hex(16)}.png")


ISSUERS = [
    {
        "organisation": None,  # the root
        "name": "Northwind University",
        "website": "https://www.northwind.example",
        "email": "credentials@northwind.example",
        "description": "Awards Northwind University's digital badges.",
        "logo": ("NU", "#1F3A93"),
    },
    {
        "organisation": "Continuing Education",
        "name": "Northwind Continuing Education",
        "website": "https://learn.northwind.example",
        "email": "learn@northwind.example",
        "description": "Short courses and professional development.",
        "logo": ("CE", "#0E7C66"),
    },
]


def seed(*, space, admin, stdout) -> None:
    from orgs.models import Organisation

    for spec in ISSUERS:
        spec = dict(spec)
        org_name = spec.pop("organisation")
        organisation = (
            Organisation.objects.filter(space=space, name=org_name).first()
            if org_name
            else space.root_organisation
        ) or space.root_organisation
        if Issuer.objects.filter(space=space, versions__name=spec["name"]).exists():
            continue
        logo = _logo(*spec.pop("logo"))
        issuer_create(
            access=Access.system(space),
            space=space,
            organisation=organisation,
            actor=admin,
            logo=logo,
            **spec,
        )
    stdout.write(f"  issuers: {Issuer.objects.filter(space=space).count()}")
