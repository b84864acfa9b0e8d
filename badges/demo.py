"""Demo data: issuers and a few graphics drawn with the designer, badges in every state.

The issuers are seeded here, not by issuers/, because their logos are drawn by the badge
designer, which issuers (below badges) may not import.
"""

import secrets

from django.core.files.base import ContentFile

from badgeplatform.access import Access
from badges import services
from badges.designer import Design, render_badge
from badges.models import Badge, Graphic
from issuers.models import Issuer
from issuers.services import issuer_create

# The university's own issuer and one for its continuing-education arm.
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

GRAPHICS = {
    "Python Fundamentals": Design(
        "circle", "#1F3A93", "#D4AF37", "#FFFFFF", "Python", "Fundamentals"
    ),
    "Lab Safety": Design("shield", "#B42318", "#F3F4F6", "#FFFFFF", "Lab Safety", "Certified"),
    "Peer Mentor": Design("hexagon", "#157347", "#A7F3D0", "#FFFFFF", "Peer Mentor", "2026"),
    "Dean's List": Design("rosette", "#6D28D9", "#FBBF24", "#FFFFFF", "Dean's List", ""),
}

BADGES = [
    {
        "name": "Python Fundamentals",
        "graphic": "Python Fundamentals",
        "organisation": "Computer Science",
        "description": "Can write, test and debug small Python programs.",
        "criteria_text": (
            "- Complete the six weekly exercises\n- Pass the **final assessment** (70%+)"
        ),
        "attributes": [("Credits", "5"), ("Level", "Introductory")],
        "expiry": (None, ""),
        "state": "published",
    },
    {
        "name": "Lab Safety",
        "graphic": "Lab Safety",
        "organisation": "Faculty of Engineering",
        "description": "Completed the laboratory safety induction.",
        "criteria_url": "https://www.northwind.example/labs/safety",
        "attributes": [],
        "expiry": (1, "years"),
        "state": "published",
    },
    {
        "name": "Peer Mentor",
        "graphic": "Peer Mentor",
        "organisation": "Computer Science",
        "description": "Mentored first-year students for a full semester.",
        "criteria_text": "Mentor at least three students for twelve weeks.",
        "attributes": [("Hours", "36")],
        "expiry": (None, ""),
        "state": "withdrawn",
    },
    {
        "name": "Dean's List",
        "graphic": None,  # a draft that still needs its graphic
        "organisation": None,
        "description": "",
        "attributes": [],
        "expiry": (None, ""),
        "state": "draft",
    },
]


def _issuer_logo(initials: str, colour: str) -> ContentFile:
    """A simple round logo drawn by the badge designer (our own pixels: no upload to check)."""
    png = render_badge(Design("circle", colour, "#FFFFFF", "#FFFFFF", initials), size=256)
    return ContentFile(png, name=f"{secrets.token_hex(16)}.png")


def seed_issuers(*, space, admin, stdout) -> None:
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
        logo = _issuer_logo(*spec.pop("logo"))
        issuer_create(
            access=Access.system(space),
            space=space,
            organisation=organisation,
            actor=admin,
            logo=logo,
            **spec,
        )
    stdout.write(f"  issuers: {Issuer.objects.filter(space=space).count()}")


def seed(*, space, admin, stdout) -> None:
    from orgs.models import Organisation

    seed_issuers(space=space, admin=admin, stdout=stdout)
    graphics = {}
    for name, design in GRAPHICS.items():
        graphic = Graphic.objects.filter(space=space, name=name).first()
        if graphic is None:
            graphic = services.graphic_design(space=space, actor=admin, name=name, design=design)
        graphics[name] = graphic

    issuer = Issuer.objects.filter(space=space).order_by("pk").first()
    for spec in BADGES:
        if Badge.objects.filter(space=space, name=spec["name"]).exists():
            continue
        organisation = (
            Organisation.objects.filter(space=space, name=spec["organisation"]).first()
            if spec["organisation"]
            else None
        ) or space.root_organisation
        amount, unit = spec["expiry"]
        badge = services.badge_create(
            access=Access.system(space),
            space=space,
            organisation=organisation,
            actor=admin,
            name=spec["name"],
            description=spec["description"],
            language="en",
            issuer=issuer,
            graphic=graphics[spec["graphic"]] if spec["graphic"] else None,
            criteria_url=spec.get("criteria_url", ""),
            criteria_text=spec.get("criteria_text", ""),
            expiry_amount=amount,
            expiry_unit=unit,
            attributes=spec["attributes"],
        )
        if spec["state"] in ("published", "withdrawn"):
            services.badge_publish(access=Access.system(badge.space), badge=badge, actor=admin)
        if spec["state"] == "withdrawn":
            services.badge_withdraw(
                access=Access.system(badge.space),
                badge=badge,
                actor=admin,
                note="Replaced by a new programme.",
            )
    stdout.write(
        f"  graphics: {Graphic.objects.filter(space=space).count()}, "
        f"badges: {Badge.objects.filter(space=space).count()}"
    )
    # Awards come last: they need the published badges above.
    from badges.issuing_demo import seed_awards

    seed_awards(space, admin, stdout)
