from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

from badgeplatform.images import ImagePolicy, ImageRejected, process_image
from badgeplatform.permissions import Perm
from orgs.access import organisations_visible
from orgs.models import Organisation

if TYPE_CHECKING:
    from badgeplatform.access import Access

# Issuer logos appear small (profiles, emails, Open Badges issuer images): 2 MB is generous,
# and what passes is re-encoded to a clean PNG of at most 1,024 px a side.
LOGO_POLICY = ImagePolicy(max_bytes=2 * 1024 * 1024, output_max_side=1024)
IMAGE_ACCEPT = "image/png,image/jpeg,image/gif"
NBSP = "\u00a0"


def clean_line(value: str) -> str:
    """Names are one line: CR/LF would reach email headers, CSV exports and JSON-LD."""
    if any(c in value for c in "\r\n\x00"):
        raise forms.ValidationError("Use a single line without line breaks.")
    return value.strip()


class OrganisationChoiceField(forms.ModelChoiceField):
    """The organisations the user holds ``perm`` on, in tree order, indented by depth."""

    def __init__(self, *, access: Access, perm: Perm, **kwargs):
        queryset = organisations_visible(access, need=perm).order_by("tree_id", "lft")
        kwargs.setdefault("empty_label", None)
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj: Organisation) -> str:
        # Non-breaking spaces: browsers collapse ordinary leading spaces in an <option>.
        return f"{NBSP * 4 * obj.level}{obj.name}"


def clean_uploaded_image(upload, policy: ImagePolicy):
    """Run an upload through the safe image pipeline; its refusal becomes the field error."""
    if not upload:
        return None
    try:
        return process_image(upload, policy=policy)
    except ImageRejected as exc:
        raise forms.ValidationError(exc.messages) from exc


class IssuerForm(forms.Form):
    name = forms.CharField(
        label="Issuer name", max_length=200, help_text="As recipients will see it on badges."
    )
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none())
    website = forms.URLField(
        label="Website address", max_length=500, assume_scheme="https", help_text="https://…"
    )
    description = forms.CharField(
        label="Brief description",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    email = forms.EmailField(label="Contact email", max_length=254)
    logo = forms.FileField(
        required=False,
        help_text="PNG, JPEG or GIF, at most 2 MB. It is checked and re-encoded as PNG.",
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)

    def __init__(self, *args, access: Access, has_logo: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = OrganisationChoiceField(
            access=access,
            perm=Perm.MANAGE_ISSUERS,
            help_text="Who may manage this issuer: people with “manage issuers” here or above.",
        )
        if not has_logo:
            del self.fields["remove_logo"]

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"])

    def clean_logo(self):
        return clean_uploaded_image(self.cleaned_data.get("logo"), LOGO_POLICY)
