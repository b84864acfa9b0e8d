from django import forms

from orgs.models import Organisation, Space

INDENT = "\u2003"  # an em space per level of depth


def clean_line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise forms.ValidationError("Use a single line without line breaks.")
    return value.strip()


class OrganisationChoiceField(forms.ModelChoiceField):
    """Organisations in tree order, indented by depth."""

    def label_from_instance(self, obj: Organisation) -> str:
        return f"{INDENT * obj.level}{obj.name}"


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses this key, e.g. “LMS integration” — it helps when revoking it.",
    )
    organisation = OrganisationChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="The whole space",
        label="Limited to",
        help_text="A key limited to an organisation can issue and read only its badges and "
        "rules, and those of the organisations beneath it.",
    )

    def __init__(self, *args, space: Space, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.for_space(space).order_by(
            "tree_id", "lft"
        )

    def clean_name(self) -> str:
        name = clean_line(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError("Give the key a name.")
        return name
