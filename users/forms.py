from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import validate_slug
from django.utils.text import slugify

from orgs.services import RESERVED_SLUGS, slug_is_available, suggest_slug
from users.services import normalise_email, username_available


def clean_line(value: str) -> str:
    """Names are one line: CR/LF would reach email headers and CSV exports."""
    if any(c in value for c in "\r\n\x00"):
        raise forms.ValidationError("Use a single line without line breaks.")
    return value.strip()


class RegistrationForm(forms.Form):
    organisation_name = forms.CharField(
        max_length=200, help_text="Your organisation, as your recipients know it."
    )
    slug = forms.CharField(
        label="Space address",
        max_length=60,
        required=False,
        help_text="Letters, digits and hyphens; used in your space's web address. "
        "Leave empty to derive it from the organisation name.",
    )
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(max_length=254)
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only.",
    )

    def clean_organisation_name(self):
        return clean_line(self.cleaned_data["organisation_name"])

    def clean_first_name(self):
        return clean_line(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return clean_line(self.cleaned_data["last_name"])

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username_available(username):
            raise forms.ValidationError("That username is taken. Please choose another.")
        return username

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip().lower()
        if not slug:
            return ""
        validate_slug(slug)
        if slug in RESERVED_SLUGS or not slug_is_available(slug):
            raise forms.ValidationError(
                f"The address “{slug}” is taken. Try “{suggest_slug(slug)}” or another."
            )
        return slug

    def clean(self):
        data = super().clean()
        if not data.get("slug") and data.get("organisation_name"):
            data["slug"] = suggest_slug(slugify(data["organisation_name"]))
        return data


class LoginForm(forms.Form):
    username = forms.CharField(label="Email or username", max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)


class EmailForm(forms.Form):
    email = forms.EmailField(max_length=254)


class SetPasswordForm(forms.Form):
    new_password1 = forms.CharField(
        label="New password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(
        label="Confirm the password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("new_password1"), data.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", "The two passwords do not match.")
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("new_password1", exc)
        return data
