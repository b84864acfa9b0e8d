"""Badge authoring forms: one per editor tab, the attribute rows, the list filters, and the
graphics library (upload)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.db.models import Q

from badgeplatform.images import ImagePolicy
from badgeplatform.permissions import Perm
from badges import achievements
from badges.access import graphics_visible
from badges.designer import MAX_LINE_LENGTH, SHAPES, Design
from badges.evidence import is_web_url
from badges.languages import LANGUAGE_CHOICES
from badges.models import Badge, Graphic
from badges.models.badges import MAX_REMINDER_DAY, MAX_REMINDERS, parse_reminder_days
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
    ("attributes", "Badge attribute"),
    ("standards", "Standards"),
    ("certificate", "Certificate"),
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
    expiry_emails = forms.BooleanField(
        label="Email recipients before their award expires, and when it has expired",
        required=False,
        initial=True,
    )
    expiry_reminder_days = forms.CharField(
        label="Remind them this many days before",
        required=False,
        initial="30, 7",
        max_length=40,
        help_text="Up to 5 numbers from 1 to 365, separated by commas. Empty: only the "
        "“expired” email. People can turn these emails off in their own settings.",
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

    def clean_expiry_reminder_days(self) -> str:
        """ "30, 7" → "30,7": whole numbers of days, 1 to 365, at most 5, stored largest first."""
        text = self.cleaned_data["expiry_reminder_days"].strip()
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        bad = [p for p in parts if not p.isdigit() or not 1 <= int(p) <= MAX_REMINDER_DAY]
        if bad:
            raise forms.ValidationError(
                f"“{bad[0][:20]}” is not a number of days from 1 to {MAX_REMINDER_DAY}. "
                "Write whole numbers separated by commas, such as 30, 7."
            )
        days = parse_reminder_days(text)
        if len(set(parts)) > MAX_REMINDERS:
            raise forms.ValidationError(f"At most {MAX_REMINDERS} reminders.")
        return ",".join(str(d) for d in days)

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


class BadgeCertificateForm(forms.Form):
    """The Certificate tab: which of the designs its awards' certificates print in."""

    certificate_design = forms.ChoiceField(
        label="Certificate design",
        choices=Badge.CertificateDesign.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the designs shown."},
    )


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


class AlignmentRowForm(forms.Form):
    """One alignment: a competency, skill or standard this badge is aligned to (ESCO, CASE…)."""

    name = forms.CharField(max_length=200, required=False)
    url = forms.CharField(max_length=2000, required=False)
    framework = forms.CharField(max_length=200, required=False)
    code = forms.CharField(max_length=100, required=False)

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])

    def clean_framework(self) -> str:
        return clean_line(self.cleaned_data["framework"])

    def clean_code(self) -> str:
        return clean_line(self.cleaned_data["code"])

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if url and not is_web_url(url):
            raise forms.ValidationError(
                "Give the full address of the competency, starting with https://."
            )
        return url

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if any(data.get(k) for k in ("url", "framework", "code")) and not data.get("name"):
            self.add_error("name", "Name what this badge is aligned to, or remove the row.")
        elif data.get("name") and not data.get("url"):
            self.add_error("url", "Give the address where this competency is described.")
        return data

    def stored(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        row = {k: data[k] for k in ("name", "url", "framework", "code") if data.get(k)}
        return row


class ResultDescriptionRowForm(forms.Form):
    """One kind of result recipients of this badge get: a grade, a score, a level…"""

    id = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=200, required=False)
    result_type = forms.ChoiceField(
        choices=achievements.RESULT_TYPE_CHOICES, required=False, initial="Result"
    )
    allowed_values = forms.CharField(max_length=5000, required=False)
    value_min = forms.CharField(max_length=50, required=False)
    value_max = forms.CharField(max_length=50, required=False)

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])

    def clean_id(self) -> str:
        value = self.cleaned_data["id"].strip()
        return value if achievements.URN_UUID.match(value) else ""

    def clean_allowed_values(self) -> list[str]:
        values = [clean_line(v) for v in self.cleaned_data["allowed_values"].split(",")]
        values = list(dict.fromkeys(v for v in values if v))
        if len(values) > achievements.MAX_ALLOWED_VALUES:
            raise forms.ValidationError(f"At most {achievements.MAX_ALLOWED_VALUES} values.")
        if any(len(v) > 200 for v in values):
            raise forms.ValidationError("Each value has at most 200 characters.")
        return values

    def clean(self):
        data = super().clean()
        filled = data.get("allowed_values") or data.get("value_min") or data.get("value_max")
        if filled and not data.get("name") and "name" not in self.errors:
            self.add_error("name", "Name this result (e.g. “Final grade”), or remove the row.")
        return data

    def stored(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        row = {
            "id": data["id"] or achievements.new_result_description_id(),
            "name": data["name"],
            "result_type": data.get("result_type") or "Result",
        }
        for key in ("allowed_values", "value_min", "value_max"):
            if data.get(key):
                row[key] = data[key]
        return row


class BadgeStandardsForm(forms.Form):
    """The Standards tab: the Open Badges 3.0 Achievement fields, with two lists of rows
    (alignments, result descriptions) posted as repeated inputs and added or removed in place
    like the attributes."""

    achievement_type = forms.ChoiceField(
        label="Kind of achievement",
        choices=[("", "Badge (the default)"), *achievements.ACHIEVEMENT_TYPE_CHOICES],
        required=False,
        help_text="What a wallet or a registry shows this as: a badge, a certificate, a course…",
    )
    human_code = forms.CharField(
        label="Code",
        max_length=100,
        required=False,
        help_text="Your own short code for it, e.g. a course code like “CS-101”.",
    )
    field_of_study = forms.CharField(label="Field of study", max_length=200, required=False)
    credits_available = forms.DecimalField(
        label="Credits",
        min_value=0,
        max_value=achievements.MAX_CREDITS,
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text="Credits earned with it (e.g. ECTS), if any.",
    )
    tags = forms.CharField(
        label="Tags",
        max_length=2000,
        required=False,
        help_text=f"Words to find it by, separated by commas (at most {achievements.MAX_TAGS}).",
    )

    def __init__(
        self,
        data=None,
        *,
        initial: dict | None = None,
        alignments: list[dict] | None = None,
        result_descriptions: list[dict] | None = None,
    ):
        super().__init__(data, initial=initial)
        if data is not None:
            self.alignment_rows = [
                AlignmentRowForm(row) for row in _rows(data, "align_", AlignmentRowForm)
            ][: achievements.MAX_ALIGNMENTS + 1]
            self.result_rows = [
                ResultDescriptionRowForm(row)
                for row in _rows(data, "rd_", ResultDescriptionRowForm)
            ][: achievements.MAX_RESULT_DESCRIPTIONS + 1]
        else:
            self.alignment_rows = [AlignmentRowForm(initial=a) for a in alignments or []]
            self.result_rows = [
                ResultDescriptionRowForm(
                    initial={**r, "allowed_values": ", ".join(r.get("allowed_values", []))}
                )
                for r in result_descriptions or []
            ]

    def add_row(self, which: str) -> None:
        if which == "alignment" and len(self.alignment_rows) < achievements.MAX_ALIGNMENTS:
            self.alignment_rows.append(AlignmentRowForm())
        elif which == "result" and len(self.result_rows) < achievements.MAX_RESULT_DESCRIPTIONS:
            self.result_rows.append(ResultDescriptionRowForm(initial={"result_type": "Result"}))

    def remove_row(self, which: str, index: int) -> None:
        rows = self.alignment_rows if which == "alignment" else self.result_rows
        if 0 <= index < len(rows):
            del rows[index]

    def clean_field_of_study(self) -> str:
        return clean_line(self.cleaned_data["field_of_study"])

    def clean_human_code(self) -> str:
        return clean_line(self.cleaned_data["human_code"])

    def clean_tags(self) -> list[str]:
        tags = [clean_line(t) for t in self.cleaned_data["tags"].split(",")]
        tags = list(dict.fromkeys(t for t in tags if t))
        if len(tags) > achievements.MAX_TAGS:
            raise forms.ValidationError(f"At most {achievements.MAX_TAGS} tags.")
        long = next((t for t in tags if len(t) > achievements.MAX_TAG), None)
        if long:
            raise forms.ValidationError(
                f"“{long[:20]}…” is too long for a tag: at most {achievements.MAX_TAG} characters."
            )
        return tags

    def is_valid(self) -> bool:
        valid = super().is_valid()
        rows_valid = all([f.is_valid() for f in (*self.alignment_rows, *self.result_rows)])
        if len(self.alignment_rows) > achievements.MAX_ALIGNMENTS:
            self.add_error(None, f"A badge has at most {achievements.MAX_ALIGNMENTS} alignments.")
            valid = False
        if len(self.result_rows) > achievements.MAX_RESULT_DESCRIPTIONS:
            self.add_error(
                None, f"A badge has at most {achievements.MAX_RESULT_DESCRIPTIONS} result kinds."
            )
            valid = False
        seen: set[str] = set()
        for f in self.result_rows:
            name = (f.cleaned_data.get("name") or "").casefold() if f.is_valid() else ""
            if name and name in seen:
                f.add_error("name", "Two results have this name; results are found by name.")
                rows_valid = False
            seen.add(name)
        if valid and rows_valid:
            self.cleaned_data["alignments"] = [
                r for r in (f.stored() for f in self.alignment_rows) if r
            ]
            self.cleaned_data["result_descriptions"] = [
                r for r in (f.stored() for f in self.result_rows) if r
            ]
        return valid and rows_valid

    @property
    def has_row_errors(self) -> bool:
        return any(f.errors for f in (*self.alignment_rows, *self.result_rows))


def _rows(data, prefix: str, form_class) -> list[dict]:
    """Repeated inputs ``<prefix><field>`` → one dict per row (shorter lists padded)."""
    columns = {name: data.getlist(prefix + name) for name in form_class.base_fields}
    count = max((len(v) for v in columns.values()), default=0)
    return [
        {name: (values[i] if i < len(values) else "") for name, values in columns.items()}
        for i in range(count)
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
