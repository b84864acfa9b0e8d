"""Per-space look and feel: colours, logo and icon, authored emails, the landing page.

Each is optional: a space without a row (or with an empty field) shows the platform default.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models

from orgs.models import Space

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

# The platform look (static/css/app.css :root); a space's empty colour falls back to these.
DEFAULT_NAV_BG = "#1f2a44"
DEFAULT_NAV_TEXT = "#e8ecf5"
DEFAULT_ACCENT = "#2f6fde"


def validate_hex_colour(value: str) -> None:
    """Exactly ``#RRGGBB``: these values are written into CSS, so nothing else may pass."""
    if value and not HEX_COLOUR.match(value):
        raise ValidationError(
            "Enter a colour as # followed by six hexadecimal digits, for example #1f2a44.",
            code="invalid_colour",
        )


class SpaceBranding(models.Model):
    """A space's colours, logo and icon. ``version`` changes on every save (the CSS ETag)."""

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="branding")
    nav_bg = models.CharField(max_length=7, blank=True, validators=[validate_hex_colour])
    nav_text = models.CharField(max_length=7, blank=True, validators=[validate_hex_colour])
    accent = models.CharField(max_length=7, blank=True, validators=[validate_hex_colour])
    logo = models.ImageField(upload_to="branding/", blank=True)
    icon = models.ImageField(upload_to="branding/", blank=True)
    # LinkedIn's numeric id of the organisation's page: "Add to profile" links name it, so
    # LinkedIn shows the organisation's logo and links the certification to its page.
    linkedin_organization_id = models.CharField(max_length=20, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "space brandings"

    def __str__(self) -> str:
        return f"Branding of {self.space_id}"

    @property
    def colours(self) -> dict[str, str]:
        """The three colours in effect, defaults filled in."""
        return {
            "nav_bg": self.nav_bg or DEFAULT_NAV_BG,
            "nav_text": self.nav_text or DEFAULT_NAV_TEXT,
            "accent": self.accent or DEFAULT_ACCENT,
        }

    @property
    def has_custom_colours(self) -> bool:
        return bool(self.nav_bg or self.nav_text or self.accent)


def get_branding_for(space: Space) -> SpaceBranding:
    """The space's branding row, or an unsaved default one. One query, cached on the space."""
    cached = getattr(space, "_branding", None)
    if cached is None:
        cached = SpaceBranding.objects.filter(space=space).first() or SpaceBranding(space=space)
        space._branding = cached
    return cached


class EmailKind(models.TextChoices):
    VERIFICATION = "verification", "Welcome and verification email"
    BADGE_ISSUED = "badge_issued", "Badge issue email"


class EmailTemplate(models.Model):
    """A space's authored subject and body for one kind of email (the default when absent).

    The body is Markdown (simple HTML allowed) with ``{{placeholder}}`` tokens; it is never
    given to the template engine, and its HTML is sanitised when it is rendered.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="email_templates")
    kind = models.CharField(max_length=30, choices=EmailKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=20000)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "users.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint("space", "kind", name="email_template_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.space_id}"


class LandingPage(models.Model):
    """The space's own front page at /s/<slug>/ (white-label plan), public when enabled."""

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="landing_page")
    enabled = models.BooleanField(default=False)
    heading = models.CharField(max_length=150, blank=True)
    # Markdown; sanitised when rendered.
    text = models.TextField(max_length=10000, blank=True)
    hero = models.ImageField(upload_to="branding/", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Landing page of {self.space_id}"


def linkedin_organization_id_for(space_id: int) -> str:
    """The space's LinkedIn organisation id ("" when unset): one query, for public pages that
    have the space's id but not its row."""
    found = (
        SpaceBranding.objects.filter(space_id=space_id)
        .values_list("linkedin_organization_id", flat=True)
        .first()
    )
    return found or ""
