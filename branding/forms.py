from __future__ import annotations

from django import forms

from badgeplatform.images import ImagePolicy, process_image
from branding.emails import EmailSpec, token, unknown_placeholders
from branding.models import HEX_COLOUR
from branding.plans import FEATURE_LABELS, Feature
from orgs.models import Plan

COLOUR_HELP = "Six hexadecimal digits after #, for example #1f2a44."


class ColourField(forms.CharField):
    """``#RRGGBB`` and nothing else: the value is written into the space's stylesheet."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", COLOUR_HELP)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "class": "colour-hex",
                "spellcheck": "false",
                "autocomplete": "off",
                "data-colour": "",
            }
        )

    def clean(self, value):
        value = super().clean(value)
        if value and not HEX_COLOUR.match(value):
            raise forms.ValidationError(
                "Enter a colour as # followed by six hexadecimal digits, for example #1f2a44.",
                code="invalid_colour",
            )
        return value.lower()


class ColoursForm(forms.Form):
    nav_bg = ColourField(label="Menu background")
    nav_text = ColourField(label="Menu text")
    accent = ColourField(label="Highlight (selected items and buttons)")


class SharingForm(forms.Form):
    linkedin_organization_id = forms.RegexField(
        label="LinkedIn organisation id",
        regex=r"^[0-9]{1,20}$",
        required=False,
        max_length=20,
        strip=True,
        error_messages={
            "invalid": "Enter the digits of the id only, for example 1337 (it is in the "
            "address of your organisation's LinkedIn admin page: /company/1337/admin)."
        },
        help_text='When set, recipients\' "Add to LinkedIn profile" links name your '
        "organisation's LinkedIn page, so it shows with its logo. Leave empty to name the "
        "issuer instead.",
    )


class ImageUploadForm(forms.Form):
    """One image through the platform's safe pipeline (badgeplatform.images)."""

    image = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif"})
    )

    def __init__(self, *args, policy: ImagePolicy, label: str, help_text: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.fields["image"].label = label
        self.fields["image"].help_text = help_text

    def clean_image(self):
        # ImageRejected is a ValidationError with a message a person can act on.
        return process_image(self.cleaned_data["image"], policy=self.policy)


def clean_single_line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise forms.ValidationError(
            "A subject is a single line: remove the line breaks.", code="line_break"
        )
    return value.strip()


class EmailTemplateForm(forms.Form):
    # strip=False: a subject with a trailing CR/LF must be refused, not silently trimmed.
    subject = forms.CharField(max_length=200, strip=False)
    body = forms.CharField(
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "true"}),
        help_text="Blank lines separate paragraphs; **bold**, *italic*, [a link](https://…) "
        "and lists work. Scripts, styles, images and forms are removed.",
    )

    def __init__(self, *args, spec: EmailSpec, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        for name in ("subject", "body"):
            self.fields[name].widget.attrs["data-placeholder-target"] = ""

    def _check_placeholders(self, value: str) -> str:
        bad = unknown_placeholders(value, self.spec)
        if bad:
            allowed = ", ".join(token(p) for p in self.spec.placeholders)
            raise forms.ValidationError(
                "Not a placeholder of this email: %(bad)s. Use the buttons to insert one of "
                "%(allowed)s; nothing else in double braces is allowed.",
                code="unknown_placeholder",
                params={"bad": ", ".join(dict.fromkeys(bad)), "allowed": allowed},
            )
        return value

    def clean_subject(self):
        return self._check_placeholders(clean_single_line(self.cleaned_data["subject"]))

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if not body:
            raise forms.ValidationError("Write the body of the email.", code="required")
        return self._check_placeholders(body)


class LandingPageForm(forms.Form):
    enabled = forms.BooleanField(
        label="Show this landing page at the space's address", required=False
    )
    heading = forms.CharField(max_length=150, required=False)
    text = forms.CharField(
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Blank lines separate paragraphs; **bold**, *italic*, [links](https://…) "
        "and lists work.",
    )
    hero = forms.FileField(
        label="Hero image",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif"}),
        help_text="JPEG, GIF or PNG; a wide picture works best (about 1600×600).",
    )
    remove_hero = forms.BooleanField(label="Remove the hero image", required=False)

    def __init__(self, *args, policy: ImagePolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy

    def clean_heading(self):
        heading = self.cleaned_data["heading"]
        if any(c in heading for c in "\r\n\x00"):
            raise forms.ValidationError("Use a single line without line breaks.")
        return heading.strip()

    def clean_hero(self):
        upload = self.cleaned_data.get("hero")
        if not upload:
            return None
        return process_image(upload, policy=self.policy)

    def clean(self):
        data = super().clean()
        if data.get("enabled") and not data.get("heading"):
            self.add_error("heading", "A published landing page needs a heading.")
        return data


class PlanAdminForm(forms.ModelForm):
    """The operator's plan form: features as checkboxes of the known codes, not raw JSON."""

    features = forms.MultipleChoiceField(
        choices=[(f.value, label) for f, label in FEATURE_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Plan
        fields = ["code", "name", "description", "features", "position"]

    def clean_features(self):
        # Stored in catalogue order, so the list reads the same wherever it is shown.
        chosen = set(self.cleaned_data["features"])
        return [f.value for f in Feature if f.value in chosen]
