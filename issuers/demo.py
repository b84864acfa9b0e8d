"""Demo data: the university's own issuer and one for its continuing-education arm."""

from issuers.models import Issuer
from issuers.services import issuer_create

ISSUERS = [
    {
        "organisation": None,  # the root
        "name": "Northwind University",
        "website": "https://www.northwind.example",
        "email": "credentials@northwind.example",
        "description": "Awards Northwind University's digital badges.",
    },
    {
        "organisation": "Continuing Education",
        "name": "Northwind Continuing Education",
        "website": "https://learn.northwind.example",
        "email": "learn@northwind.example",
        "description": "Short courses and professional development.",
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
        issuer_create(space=space, organisation=organisation, actor=admin, **spec)
    stdout.write(f"  issuers: {Issuer.objects.filter(space=space).count()}")
