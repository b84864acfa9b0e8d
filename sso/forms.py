from __future__ import annotations

from django import forms

from badgeplatform.permissions import PERMISSION_LABELS, Perm
from orgs.models import Organisation
from sso.mapping import OIDC_DEFAULTS, SAML_DEFAULTS
from sso.models import IdentityProvider
from users.models import Role

COMMON = [
    "name",
    "enabled",
    "attr_email",
    "attr_email_verified",
    "attr_first_name",
    "attr_last_name",
    "attr_external_id",
    "emails_verified_by_idp",
    "jit_enabled",
    "jit_organisation",
    "jit_role",
]


class IdentityProviderForm(forms.ModelForm):
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave blank to keep the saved one.",
    )
    confirm_admin_role = forms.BooleanField(
        required=False,
        label="Yes, give this administrative role to everyone who signs in for the first time",
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "name",
            "enabled",
            "issuer_url",
            "client_id",
            "metadata_url",
            "metadata_xml",
            *COMMON[2:],
        ]
        labels = {
            "name": "Name on the sign-in button",
            "enabled": "Offer this provider on the sign-in page",
            "issuer_url": "Issuer URL",
            "client_id": "Client ID",
            "metadata_url": "IdP metadata URL",
            "metadata_xml": "…or the IdP metadata XML, pasted",
            "attr_email": "Email",
            "attr_email_verified": "Email verified",
            "attr_first_name": "First name",
            "attr_last_name": "Last name",
            "attr_external_id": "External id (the id the Events API matches on)",
            "emails_verified_by_idp": "The provider verifies every address it sends "
            "(used when it does not say; an explicit “not verified” always wins)",
            "jit_enabled": "Create accounts for newcomers when they first sign in",
            "jit_organisation": "Newcomers land in",
            "jit_role": "with the role",
        }
        help_texts = {
            "issuer_url": "We read <code>/.well-known/openid-configuration</code> under it "
            "when you save.",
            "metadata_url": "Read when you save. Give a URL or paste the XML below.",
        }
        widgets = {"metadata_xml": forms.Textarea(attrs={"rows": 5, "spellcheck": "false"})}

    def __init__(self, *args, space, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.instance.kind = kind
        self.instance.space = space
        keep = {"name", "enabled", *COMMON, "confirm_admin_role"}
        keep |= {"issuer_url", "client_id", "client_secret"} if kind == "oidc" else set()
        keep |= {"metadata_url", "metadata_xml"} if kind == "saml" else set()
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if kind == "oidc":
            self.fields["issuer_url"].required = True
            self.fields["client_id"].required = True
            self.fields["client_secret"].required = self.instance.pk is None
            if self.instance.pk is None:
                self.fields["client_secret"].help_text = "Stored encrypted, never shown again."
        defaults = OIDC_DEFAULTS if kind == "oidc" else SAML_DEFAULTS
        for field, default in defaults.items():
            f = self.fields[f"attr_{field}"]
            f.widget.attrs["placeholder"] = default or "(not mapped)"
            f.help_text = f"Blank: <code>{default}</code>." if default else "Blank: not mapped."
        self.fields["jit_organisation"].queryset = Organisation.objects.for_space(space).order_by(
            "tree_id", "lft"
        )
        self.fields["jit_organisation"].required = True
        self.fields["jit_role"].queryset = Role.objects.for_space(space)
        self.fields["jit_role"].required = True
        if self.instance.pk is None:
            self.initial.setdefault("jit_organisation", space.root_organisation.pk)
            user_role = Role.objects.filter(space=space, is_default=True, permissions=[]).first()
            if user_role is not None:
                self.initial.setdefault("jit_role", user_role.pk)

    def clean_issuer_url(self) -> str:
        return (self.cleaned_data.get("issuer_url") or "").strip().rstrip("/")

    def clean(self):
        data = super().clean()
        if self.kind == "saml":
            url, xml = data.get("metadata_url"), (data.get("metadata_xml") or "").strip()
            if bool(url) == bool(xml):
                self.add_error("metadata_url", "Give the metadata URL or paste the XML (one).")
        role = data.get("jit_role")
        if role is not None and role.permissions and not data.get("confirm_admin_role"):
            perms = ", ".join(
                PERMISSION_LABELS.get(Perm(p), p)
                for p in role.permissions
                if p in Perm._value2member_map_
            )
            self.add_error(
                "jit_role",
                f"“{role.name}” carries administrative permissions ({perms}). Pick a role "
                "without them, or tick the confirmation below.",
            )
        return data


class PolicyForm(forms.Form):
    sso_required = forms.BooleanField(
        required=False,
        label="Members must sign in through single sign-on",
        help_text="Passwords then work only for the break-glass administrators below.",
    )
    break_glass = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Break-glass administrators (may still sign in with a password)",
        help_text="Space administrators only. Keep at least one, in case the provider is down.",
    )

    def __init__(self, *args, administrators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["break_glass"].queryset = administrators
        self.fields["break_glass"].label_from_instance = lambda u: f"{u.display_name} <{u.email}>"
