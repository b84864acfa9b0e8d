from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import validate_slug

from badgeplatform.permissions import PERMISSION_LABELS, USER_ROLE, Perm
from orgs.forms import clean_line
from orgs.services import RESERVED_SLUGS
from users.services import normalise_email, username_available


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

    # No availability checks here: whether a username, space address or email is taken must not
    # change the answer (account enumeration). users.services.space_register picks a free
    # variant of a taken username or address and tells the person where only they can see it.
    def clean_username(self):
        return self.cleaned_data["username"].strip()

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip().lower()
        if not slug:
            return ""
        validate_slug(slug)
        if slug in RESERVED_SLUGS:  # a fixed list: refusing it reveals nothing
            raise forms.ValidationError(
                f"“{slug}” is reserved for the platform's own pages. Please choose another."
            )
        return slug


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


# ---- Users, places and roles in a space ------------------------------------------------------


def _role_label(role) -> str:
    return role.name


class PlaceRoleForm(forms.Form):
    """One (organisation or group, role) row. Offers only places the user manages and refuses a
    role with rights the user does not hold at that place."""

    place = forms.ChoiceField(label="Organisation or group", required=False)
    role = forms.ChoiceField(required=False)

    def __init__(self, *args, options, roles, access, place_required=False, **kwargs):
        from users.places import can_manage_place

        super().__init__(*args, **kwargs)
        self.options, self.access = options, access
        self.roles = {str(r.pk): r for r in roles}
        self.fields["place"].required = place_required
        self.fields["place"].choices = [
            ("", "Choose…"),
            *options.place_choices(lambda p: can_manage_place(access, p)),
        ]
        self.fields["role"].choices = [(pk, _role_label(r)) for pk, r in self.roles.items()]
        user_role = next((pk for pk, r in self.roles.items() if r.name == USER_ROLE), None)
        self.fields["role"].initial = user_role

    def clean(self):
        from users.places import can_assign_role

        data = super().clean()
        data["place_obj"] = data["role_obj"] = None
        if not data.get("place"):
            return data
        place = self.options.get(data["place"])
        role = self.roles.get(data.get("role") or "")
        if role is None:
            self.add_error("role", "Choose a role.")
        elif not can_assign_role(self.access, role, place):
            self.add_error(
                "role",
                f"You cannot give “{role.name}” in “{place}”: it carries rights you do not "
                "hold there.",
            )
        data["place_obj"], data["role_obj"] = place, role
        return data


class BasePlaceFormSet(forms.BaseFormSet):
    def clean(self):
        self.places = []
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            place, role = form.cleaned_data.get("place_obj"), form.cleaned_data.get("role_obj")
            if place is None:
                continue
            if place.value in seen:
                raise forms.ValidationError(
                    f"“{place}” is chosen twice: a person holds one role per place."
                )
            seen.add(place.value)
            self.places.append((place, role))
        if not self.places:
            raise forms.ValidationError("Choose at least one organisation or group.")


PlaceFormSet = forms.formset_factory(PlaceRoleForm, formset=BasePlaceFormSet, extra=0, min_num=1)


def _external_id_taken(space, external_id: str, exclude_member=None) -> bool:
    from users.models import Member

    qs = Member.objects.filter(space=space, external_id=external_id)
    if exclude_member is not None:
        qs = qs.exclude(pk=exclude_member.pk)
    return qs.exists()


EXTERNAL_ID_HELP = (
    "Employee number, student id or customer reference: how your other systems know this "
    "person. Unique within this space."
)


class CreateUserForm(forms.Form):
    """Create user. When the email already has an account, names and username are the person's
    own and are not asked for: the view offers to add them to the space instead."""

    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only; unique on the platform.",
    )
    external_id = forms.CharField(
        label="External identifier", max_length=200, required=False, help_text=EXTERNAL_ID_HELP
    )

    PERSONAL_FIELDS = ("first_name", "last_name", "username")

    def __init__(self, *args, space, **kwargs):
        from users.models import User

        super().__init__(*args, **kwargs)
        self.space = space
        self.existing_user = None
        self.existing_member = None
        email = (self.data.get("email") or "").strip() if self.is_bound else ""
        if "@" in email and User.objects.get_by_email(normalise_email(email)) is not None:
            # Someone already has this address: their name and username are their own.
            for name in self.PERSONAL_FIELDS:
                self.fields[name].required = False

    def clean_email(self):
        from users.models import Member, User

        email = normalise_email(self.cleaned_data["email"])
        self.existing_user = User.objects.get_by_email(email)
        if self.existing_user is not None:
            self.existing_member = Member.objects.filter(
                space=self.space, user=self.existing_user
            ).first()
            if self.existing_member is not None:
                raise forms.ValidationError("This person is already in your space.")
        return email

    def clean_first_name(self):
        return clean_line(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return clean_line(self.cleaned_data["last_name"])

    def clean_external_id(self):
        external_id = clean_line(self.cleaned_data["external_id"])
        if external_id and _external_id_taken(self.space, external_id):
            raise forms.ValidationError(
                "Another person in this space already has this external identifier."
            )
        return external_id

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if username and self.existing_user is None and not username_available(username):
            raise forms.ValidationError("That username is taken. Please choose another.")
        return username


class MemberDetailsForm(forms.Form):
    external_id = forms.CharField(
        label="External identifier", max_length=200, required=False, help_text=EXTERNAL_ID_HELP
    )

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_external_id(self):
        external_id = clean_line(self.cleaned_data["external_id"])
        if external_id and _external_id_taken(self.member.space, external_id, self.member):
            raise forms.ValidationError(
                "Another person in this space already has this external identifier."
            )
        return external_id


class TransferForm(forms.Form):
    place = forms.ChoiceField(label="Transfer to")

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "Choose…"), *choices]


ORDER_CHOICES = [
    ("name", "Name, A → Z"),
    ("-name", "Name, Z → A"),
    ("-created", "Newest first"),
    ("created", "Oldest first"),
]


class UserFilterForm(forms.Form):
    q = forms.CharField(label="Search", max_length=200, required=False)
    role = forms.ChoiceField(required=False)
    organisation = forms.ChoiceField(required=False)
    scope = forms.ChoiceField(
        label="Include",
        required=False,
        choices=[("below", "Sub-organisations too"), ("only", "That one only")],
    )
    group = forms.ChoiceField(required=False)
    order = forms.ChoiceField(label="Order by", choices=ORDER_CHOICES, required=False)

    def __init__(self, *args, roles, organisation_choices, group_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": "Name, email or external id"}
        )
        self.fields["role"].choices = [("", "Any role"), *((str(r.pk), r.name) for r in roles)]
        self.fields["organisation"].choices = [("", "Any organisation"), *organisation_choices]
        self.fields["group"].choices = [("", "Any group"), *group_choices]


class IdListField(forms.Field):
    """Several ids posted under one name (the list's checkboxes)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError("That selection is not valid.") from exc


BULK_ACTIONS = [
    ("remove_from_space", "Remove from the space"),
    ("add_to_group", "Add into a group"),
    ("remove_from_group", "Remove from a group"),
    ("transfer", "Transfer from one group to another"),
]


class BulkActionForm(forms.Form):
    member = IdListField(error_messages={"required": "Select at least one person."})
    action = forms.ChoiceField(choices=[("", "Choose an action…"), *BULK_ACTIONS])
    group = forms.ChoiceField(
        required=False, label="Group", help_text="For “add into” and “remove from” a group."
    )
    role = forms.ChoiceField(required=False, label="Role in the group")
    from_group = forms.ChoiceField(required=False, label="From group")
    to_group = forms.ChoiceField(required=False, label="Into group")

    def __init__(self, *args, group_choices, roles, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("group", "from_group", "to_group"):
            self.fields[name].choices = [("", "Choose a group…"), *group_choices]
        self.fields["role"].choices = [(str(r.pk), r.name) for r in roles]
        self.fields["role"].initial = next((str(r.pk) for r in roles if r.name == USER_ROLE), "")

    def clean(self):
        data = super().clean()
        action = data.get("action")
        needs = {
            "add_to_group": ["group", "role"],
            "remove_from_group": ["group"],
            "transfer": ["from_group", "to_group"],
        }.get(action, [])
        for name in needs:
            if not data.get(name):
                self.add_error(name, "Choose one for this action.")
        if (
            action == "transfer"
            and data.get("from_group")
            and (data.get("from_group") == data.get("to_group"))
        ):
            self.add_error("to_group", "Choose a different group to transfer into.")
        return data


class RoleForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1000
    )
    permissions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        choices=[(p.value, PERMISSION_LABELS[p]) for p in Perm],
        error_messages={
            "required": "Choose at least one permission. People with no admin rights already "
            "have the User role."
        },
    )

    def __init__(self, *args, grantable: frozenset[Perm], held=None, **kwargs):
        """``grantable``: the permissions the actor may put into a role (users.access decides);
        the others are left out, and named in ``withheld`` for a note. ``held``: the role being
        edited when the actor holds it themselves (it may narrow, never widen)."""
        super().__init__(*args, **kwargs)
        offered = grantable if held is None else grantable & held.permission_set
        self.fields["permissions"].choices = [
            (p.value, PERMISSION_LABELS[p]) for p in Perm if p in offered
        ]
        self.withheld = [PERMISSION_LABELS[p] for p in Perm if p not in offered]
        self.held_role = held

    def clean_name(self):
        return clean_line(self.cleaned_data["name"])


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only. You can sign in with it or your email.",
    )
    avatar = forms.FileField(
        label="Profile picture",
        required=False,
        help_text="PNG, JPEG or GIF. It is checked, re-encoded and stripped of metadata.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif"}),
    )
    remove_avatar = forms.BooleanField(label="Remove my picture", required=False)
    expiry_reminders = forms.BooleanField(
        label="Email me before one of my badges expires, and when it has expired",
        required=False,
        help_text="Reminders come at the times each badge's issuer chose (such as 30 and 7 "
        "days before).",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_first_name(self):
        return clean_line(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return clean_line(self.cleaned_data["last_name"])

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username_available(username, exclude=self.user):
            raise forms.ValidationError("That username is taken. Please choose another.")
        return username


class GroupMemberAddForm(forms.Form):
    person = forms.CharField(
        label="Email or username",
        max_length=254,
        help_text="Someone already in this space. To bring in someone new, use "
        "Users → Create user.",
    )
    role = forms.ChoiceField()

    def __init__(self, *args, role_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices

    def clean_person(self) -> str:
        return self.cleaned_data["person"].strip()


class RoleChoiceForm(forms.Form):
    role = forms.ChoiceField()

    def __init__(self, *args, role_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices


class MFAPolicyForm(forms.Form):
    """System settings → Security: the space's second-factor policy (docs/mfa.md)."""

    mfa_required_for_admins = forms.BooleanField(
        required=False,
        label="Require a second factor for everyone with an administrative role",
    )
