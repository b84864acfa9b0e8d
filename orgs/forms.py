from django import forms


def clean_line(value: str) -> str:
    """Names are one line: CR/LF would reach email headers and CSV exports."""
    if any(c in value for c in "\r\n\x00"):
        raise forms.ValidationError("Use a single line without line breaks.")
    return value.strip()


class OrganisationForm(forms.Form):
    name = forms.CharField(
        max_length=200, help_text="A team, department, faculty, office or region."
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])


class MoveForm(forms.Form):
    parent = forms.ChoiceField(label="New place in the tree")

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "Choose an organisation…"), *choices]


class MoveHoldingsForm(forms.Form):
    target = forms.ChoiceField(label="Move them to")

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = choices


class GroupForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="A class, cohort or project team.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    organisation = forms.ChoiceField(help_text="The organisation the group belongs to.")

    def __init__(self, *args, organisation_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = organisation_choices

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])
