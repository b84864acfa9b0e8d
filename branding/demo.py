"""Demo data: the demo space on the White-label plan, with a logo, an icon and a landing page.

Idempotent and polite: it fills in only what is still empty, so changes made in the demo's
settings pages survive another `seed_demo`.
"""

import io

from PIL import Image, ImageDraw, ImageFont

from badgeplatform.images import process_image
from branding import services
from branding.images import HERO_POLICY, ICON_POLICY, LOGO_POLICY
from branding.models import get_branding_for
from branding.plans import WHITE_LABEL
from orgs.models import Plan

NAVY, GOLD, TEXT = "#14213d", "#b45309", "#f1f5f9"


def _png(size, text, font_size, background=NAVY, stripe=GOLD) -> bytes:
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, size[1] - max(3, size[1] // 12), size[0], size[1]), fill=stripe)
    font = ImageFont.load_default(size=font_size)
    draw.text((max(4, size[1] // 5), (size[1] - font_size) // 2 - 2), text, fill=TEXT, font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed(*, space, admin, stdout) -> None:
    if space.plan_id is None:
        space.plan = Plan.objects.filter(code=WHITE_LABEL.code).first()
        space.save(update_fields=["plan"])
        space.__dict__.pop("_space_plan", None)
    branding = get_branding_for(space)
    if not branding.has_custom_colours:
        services.branding_set_colours(
            actor=admin, space=space, nav_bg=NAVY, nav_text=TEXT, accent=GOLD
        )
    if not branding.logo:
        logo = process_image(_png((280, 60), "Northwind University", 24), policy=LOGO_POLICY)
        services.branding_set_image(actor=admin, space=space, which="logo", image=logo)
    if not get_branding_for(space).icon:
        icon = process_image(_png((70, 70), "N", 44), policy=ICON_POLICY)
        services.branding_set_image(actor=admin, space=space, which="icon", image=icon)
    page = services.get_landing_page_for(space)
    if page.pk is None:
        hero = process_image(
            _png((1600, 500), "Learning that counts, recognised", 64, background="#1e3a8a"),
            policy=HERO_POLICY,
        )
        services.landing_page_save(
            actor=admin,
            space=space,
            enabled=True,
            heading="Northwind University digital badges",
            text=(
                "Every course, club and placement at Northwind can award a **verifiable "
                "digital badge**.\n\nShare yours with employers and friends: anyone can "
                "check it is genuine, without an account."
            ),
            hero=hero,
        )
    stdout.write(f"  branding: {space.plan} plan, logo, icon, landing page at /s/{space.slug}/")
