from django import forms

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from badges.access import badges_visible
from badges.models import Badge, Rule
from badges.rules import within
from orgs.access import organisations_visible
from orgs.models import Organisation

INDENT = "\u2003"  # an em space per level of depth


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{INDENT * obj.level}{obj.name}"


class BadgeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Badge) -> str:
        state = "" if obj.is_issuable else f" ({obj.get_state_display().lower()})"
        # The organisation too: a rule awards only badges of its organisation or beneath.
        return f"{obj}{state} — {obj.organisation.name}"


class RuleForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="E.g. “Five workshops attended”.")
    organisation = OrganisationChoiceField(
        queryset=Organisation.objects.none(),
        empty_label=None,  # the first organisation the user may issue for is the default
        help_text="Who manages the rule: people who may issue badges here.",
    )
    activity_id = forms.CharField(
        label="Activity identifier",
        max_length=200,
        help_text="What your software sends as the event's <code>ActivityId</code>, e.g. "
        "<code>workshop-attended</code>. Unique in this space.",
    )
    badge = BadgeChoiceField(
        queryset=Badge.objects.none(),
        label="Badge to award",
        empty_label="Choose a badge…",
        help_text="Awarded once per person when they complete the rule: a badge of the rule's "
        "organisation or of one beneath it. Only a published badge can be awarded: events for "
        "a rule whose badge is not published are refused.",
    )
    threshold = forms.IntegerField(
        label="Events needed",
        min_value=1,
        max_value=10_000,
        initial=1,
        help_text="How many events a person needs.",
    )
    window_days = forms.IntegerField(
        label="Within (days)",
        min_value=1,
        max_value=3650,
        required=False,
        help_text="The events must fall within this many days of each other. Leave empty "
        "to count every event ever.",
    )
    active = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Inactive rules refuse their events (nothing is recorded).",
    )

    def __init__(self, *args, access: Access, rule: Rule | None = None, **kwargs):
        if rule is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": rule.name,
                    "organisation": rule.organisation,
                    "activity_id": rule.activity_id,
                    "badge": rule.badge,
                    "threshold": rule.threshold,
                    "window_days": rule.window_days,
                    "active": rule.active,
                },
            )
        super().__init__(*args, **kwargs)
        self.space = access.space
        self.rule = rule
        self.fields["organisation"].queryset = organisations_visible(
            access, need=Perm.ISSUE_BADGES
        ).order_by("tree_id", "lft")
        # Badges the user may issue; editing a rule, only those of its organisation's branch
        # (a rule awards nothing outside it). A submitted badge outside the chosen
        # organisation's branch gets a clear error from clean().
        badges = badges_visible(access, need=Perm.ISSUE_BADGES).select_related("organisation")
        if rule is not None and not self.is_bound:
            branch = rule.organisation
            badges = badges.filter(
                organisation__tree_id=branch.tree_id,
                organisation__lft__gte=branch.lft,
                organisation__rght__lte=branch.rght,
            )
        if rule is None:
            badges = badges.exclude(state=Badge.State.WITHDRAWN)
        self.fields["badge"].queryset = badges.order_by("name", "pk")

    def clean(self):
        cleaned = super().clean()
        organisation, badge = cleaned.get("organisation"), cleaned.get("badge")
        outside = (
            organisation is not None
            and badge is not None
            and not within(badge.organisation, organisation)
        )
        if outside:
            self.add_error(
                "badge",
                f"“{badge}” belongs to “{badge.organisation}”, outside “{organisation}”: "
                "choose a badge of the rule's organisation or of one beneath it.",
            )
        return cleaned

    def clean_name(self) -> str:
        return _single_line(self.cleaned_data["name"])

    def clean_activity_id(self) -> str:
        value = _single_line(self.cleaned_data["activity_id"])
        if not value.isprintable():
            raise forms.ValidationError("Use letters, digits and punctuation only.")
        taken = Rule.objects.for_space(self.space).filter(activity_id=value)
        if self.rule is not None:
            taken = taken.exclude(pk=self.rule.pk)
        if taken.exists():
            raise forms.ValidationError("Another rule of this space uses this identifier.")
        as_uuid = _uuid(value)
        if as_uuid and Badge.objects.for_space(self.space).filter(public_id=as_uuid).exists():
            raise forms.ValidationError(
                "This is a badge's Id: events with it issue that badge directly."
            )
        return value


def _single_line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise forms.ValidationError("Use a single line without line breaks.")
    value = value.strip()
    if not value:
        raise forms.ValidationError("This field is required.")
    return value


def _uuid(value: str):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        return None
