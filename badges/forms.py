"""Badge authoring forms: one per editor tab, the attribute rows, the list filters, and the
graphics library (upload)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.db.models import Q

from badgeplatform.images import ImagePolicy
from badgeplatform.permissions import Perm
from badges.access import graphics_visible
from badges.designer import MAX_LINE_LENGTH, SHAPES, Design
from badges.languages import LANGUAGE_CHOICES
from badges.models import Badge, Graphic
from issuers.access import issuers_offered
from issuers.forms import (
    IMAGE_ACCEPT,
    NBSP,
    OrganisationChoiceField,
    clean_line,
    clean_uploaded_image,
)
from issuers.models import Issuer
from orgs.models import Organisation

if TYPE_CHECKING:
    from badgeplatform.access import Access

# Badge images are shown at a few hundred pixels and baked into award PNGs: what passes the
# pipeline's default caps (5 MB, 4,096 px a side) is stored at most 1,200 px a side.
GRAPHIC_POLICY = ImagePolicy(output_max_side=1200)
# A designer icon fills at most half of a 600 px badge.
ICON_POLICY = ImagePolicy(max_bytes=2 * 1024 * 1024, output_max_side=600)
SHAPE_LABELS = {
    "circle": "Circle",
    "hexagon": "Hexagon",
    "shield": "Shield",
    "rounded-square": "Rounded square",
    "rosette": "Rosette",
}

# Generous but finite: an expiry past a century is a typo.
MAX_EXPIRY = {"days": 36500, "months": 1200, "years": 100}

TABS: list[tuple[str, str]] = [
    ("details", "Details"),
    ("graphic", "Graphics"),
    ("criteria", "Criteria"),
    ("attributes", "Badge attributes"),
]
TAB_KEYS = [key for key, _ in TABS]
# Which tab holds each thing publication needs (the missing list links to it).
TAB_FOR_MISSING = {
    "a name": "details",
    "a description": "details",
    "a language": "details",
    "an issuer": "details",
    "a graphic": "graphic",
    "criteria (a URL or text)": "criteria",
}


class IssuerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Issuer) -> str:
        return obj.name


class BadgeDetailsForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What earning this badge says about its holder.",
    )
    language = forms.ChoiceField(
        choices=[("", "Choose a language…"), *LANGUAGE_CHOICES], required=False
    )
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none())
    issuer = IssuerChoiceField(
        queryset=Issuer.objects.none(), required=False, empty_label="Choose an issuer…"
    )
    expiry_amount = forms.IntegerField(
        label="Expires after", min_value=1, required=False, widget=forms.NumberInput()
    )
    expiry_unit = forms.ChoiceField(
        label="Unit",
        choices=[("", "—"), *Badge.ExpiryUnit.choices],
        required=False,
    )
    status_emails = forms.BooleanField(
        label="Email recipients when an award is revoked, suspended or reinstated",
        required=False,
        initial=True,
        help_text="The email gives the reason. On by default.",
    )

    def __init__(self, *args, access: Access, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = OrganisationChoiceField(
            access=access,
            perm=Perm.CREATE_BADGES,
            help_text="Who may edit it: people with “create badges” here or above.",
        )
        # Any issuer of the space may award any of its badges (a department's badge is often
        # issued in the university's name).
        self.fields["issuer"].queryset = (
            issuers_offered(access).with_profile().order_by("current__name")
        )
        self.fields[
            "expiry_amount"
        ].help_text = "Optional. Each award expires this long after its issue date; empty: never."

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])

    def clean(self):
        data = super().clean()
        amount, unit = data.get("expiry_amount"), data.get("expiry_unit")
        if amount and not unit:
            self.add_error("expiry_unit", "Choose days, months or years.")
        elif unit and not amount and "expiry_amount" not in self.errors:
            self.add_error("expiry_amount", "Give a number, or choose “—” for no expiry.")
        elif amount and unit and amount > MAX_EXPIRY[unit]:
            self.add_error("expiry_amount", f"At most {MAX_EXPIRY[unit]} {unit}.")
        return data


class GraphicChoiceField(forms.ModelChoiceField):
    """Rendered by the template as a grid of thumbnails (radio buttons)."""

    widget = forms.RadioSelect

    def label_from_instance(self, obj: Graphic) -> str:
        return obj.name


class BadgeGraphicForm(forms.Form):
    graphic = GraphicChoiceField(queryset=Graphic.objects.none(), required=False, empty_label=None)

    def __init__(self, *args, access: Access, current: Graphic | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The library (anyone drafting badges picks from it), plus the badge's own graphic even
        # if it has since been archived.
        keep = Q(pk=current.pk) if current is not None else Q(pk__in=[])
        self.fields["graphic"].queryset = graphics_visible(
            access, need=(Perm.CREATE_BADGES, Perm.MANAGE_GRAPHICS)
        ).filter(Q(archived_at__isnull=True) | keep)


class BadgeCriteriaForm(forms.Form):
    criteria_url = forms.URLField(
        label="Criteria page",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="A page on your own site that says how to earn this badge.",
    )
    criteria_text = forms.CharField(
        label="Or write the criteria here",
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: **bold**, *italic*, lists with “- ”, links as [text](https://…).",
    )

    def clean_criteria_url(self) -> str:
        url = self.cleaned_data["criteria_url"]
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Use a web address starting with https://.")
        return url


class AttributeRowForm(forms.Form):
    key = forms.CharField(max_length=100, required=False)
    value = forms.CharField(max_length=500, required=False)

    def clean_key(self) -> str:
        return clean_line(self.cleaned_data["key"])

    def clean_value(self) -> str:
        return clean_line(self.cleaned_data["value"])

    def clean(self):
        data = super().clean()
        if data.get("value") and not data.get("key"):
            self.add_error("key", "Name this attribute, or remove the row.")
        return data


class AttributeRows:
    """Any number of key/value rows, posted as repeated ``key``/``value`` inputs.

    Rows are added and removed in place (htmx swaps the list; without JavaScript the buttons
    re-render the page), so there is no management form to keep in step.
    """

    MAX_ROWS = 50

    def __init__(self, rows: list[tuple[str, str]]):
        self.forms = [AttributeRowForm({"key": k, "value": v}) for k, v in rows]
        self.non_form_errors: list[str] = []

    @classmethod
    def from_post(cls, data) -> AttributeRows:
        keys, values = data.getlist("key"), data.getlist("value")
        rows = list(zip(keys, values + [""] * (len(keys) - len(values)), strict=False))
        return cls(rows[: cls.MAX_ROWS + 1])

    @classmethod
    def initial(cls, badge: Badge | None) -> AttributeRows:
        rows = [(a.key, a.value) for a in badge.attributes.all()] if badge else []
        return cls(rows)

    def add_row(self) -> None:
        if len(self.forms) < self.MAX_ROWS:
            self.forms.append(AttributeRowForm(initial={"key": "", "value": ""}))

    def remove_row(self, index: int) -> None:
        if 0 <= index < len(self.forms):
            del self.forms[index]

    def is_valid(self) -> bool:
        valid = all([f.is_valid() for f in self.forms])  # a list: every row gets its errors
        if len(self.forms) > self.MAX_ROWS:
            self.non_form_errors.append(f"A badge has at most {self.MAX_ROWS} attributes.")
            return False
        seen: set[str] = set()
        for f in self.forms:
            key = (f.cleaned_data.get("key") or "").casefold()
            if key and key in seen:
                f.add_error("key", "This name is used twice; each attribute needs its own.")
                valid = False
            seen.add(key)
        return valid

    @property
    def cleaned_rows(self) -> list[tuple[str, str]]:
        return [
            (f.cleaned_data["key"], f.cleaned_data["value"])
            for f in self.forms
            if f.cleaned_data.get("key")
        ]


class BadgeFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    state = forms.ChoiceField(choices=[("", "Any state"), *Badge.State.choices], required=False)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False, empty_label="Any organisation"
    )
    issuer = IssuerChoiceField(
        queryset=Issuer.objects.none(), required=False, empty_label="Any issuer"
    )

    def __init__(self, *args, access: Access, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].label_from_instance = lambda o: f"{NBSP * 4 * o.level}{o.name}"
        self.fields["issuer"].queryset = (
            issuers_offered(access).with_profile().order_by("current__name")
        )
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Name or badge id…"})


class GraphicUploadForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="How you will find it in the library.")
    image = forms.FileField(
        help_text="PNG, JPEG or GIF, at most 5 MB. It is checked, stripped of metadata and "
        "stored as PNG. SVG is not accepted. A square image of 600×600 pixels or more looks "
        "best.",
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])

    def clean_image(self):
        return clean_uploaded_image(self.cleaned_data.get("image"), GRAPHIC_POLICY)


class ColourInput(forms.TextInput):
    input_type = "color"


class DesignerForm(forms.Form):
    """The designer's choices. The icon goes through the image pipeline like any upload."""

    name = forms.CharField(
        label="Name in the library",
        max_length=200,
        required=False,
        help_text="Leave empty to name it after the text on the badge.",
    )
    shape = forms.ChoiceField(
        choices=[(s, SHAPE_LABELS.get(s, s.title())) for s in SHAPES],
        widget=forms.RadioSelect,
        initial="circle",
    )
    background = forms.RegexField(
        regex=r"^#[0-9A-Fa-f]{6}$",
        initial="#1F3A93",
        widget=ColourInput,
        label="Background colour",
        error_messages={"invalid": "Choose a colour like #1F3A93."},
    )
    border = forms.RegexField(
        regex=r"^#[0-9A-Fa-f]{6}$",
        initial="#D4AF37",
        widget=ColourInput,
        label="Border colour",
        error_messages={"invalid": "Choose a colour like #D4AF37."},
    )
    text_color = forms.RegexField(
        regex=r"^#[0-9A-Fa-f]{6}$",
        initial="#FFFFFF",
        widget=ColourInput,
        label="Text colour",
        error_messages={"invalid": "Choose a colour like #FFFFFF."},
    )
    line1 = forms.CharField(
        label="First line", max_length=MAX_LINE_LENGTH, required=False, initial="Badge title"
    )
    line2 = forms.CharField(label="Second line", max_length=MAX_LINE_LENGTH, required=False)
    icon = forms.FileField(
        label="Icon in the middle",
        required=False,
        help_text="PNG, JPEG or GIF, at most 2 MB; a transparent PNG looks best.",
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    keep_icon = forms.BooleanField(
        label="Keep the icon of the graphic I started from", required=False, initial=True
    )

    def __init__(self, *args, base_icon: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for key in ("line1", "line2"):
            self.fields[key].widget.attrs["maxlength"] = MAX_LINE_LENGTH
        if not base_icon:
            del self.fields["keep_icon"]

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])

    def clean_line1(self) -> str:
        return clean_line(self.cleaned_data["line1"])

    def clean_line2(self) -> str:
        return clean_line(self.cleaned_data["line2"])

    def clean_icon(self):
        return clean_uploaded_image(self.cleaned_data.get("icon"), ICON_POLICY)

    def design(self, icon_png: bytes | None) -> Design:
        data = self.cleaned_data
        return Design(
            shape=data["shape"],
            background=data["background"].upper(),
            border=data["border"].upper(),
            text_color=data["text_color"].upper(),
            line1=data["line1"],
            line2=data["line2"],
            icon_png=icon_png,
        )

    def graphic_name(self) -> str:
        data = self.cleaned_data
        text = " ".join(p for p in (data["line1"], data["line2"]) if p)
        return data["name"] or text or f"{SHAPE_LABELS.get(data['shape'], 'Badge')} badge"


def designer_initial(design: dict | None) -> dict:
    """Form initial values from a stored design (a graphic used as a starting point)."""
    if not design:
        return {}
    keys = ("shape", "background", "border", "text_color", "line1", "line2")
    return {k: design[k] for k in keys if isinstance(design.get(k), str)}
