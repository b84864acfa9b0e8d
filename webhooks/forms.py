from django import forms

from badgeplatform.webhook_events import EVENT_TYPES

EVENT_LABELS = {
    "award.issued": "An award is issued",
    "award.revoked": "An award is revoked",
    "award.suspended": "An award is suspended",
    "award.reinstated": "A suspended award is reinstated",
    "award.expired": "An award expires",
    "award.claimed": "A recipient claims an award (sent once claiming exists)",
    "badge.published": "A badge is published",
    "badge.withdrawn": "A badge is withdrawn",
}


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="An https:// address on the public internet that accepts POST requests.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/badges"}),
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(t, f"{t} — {EVENT_LABELS[t]}") for t in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event type."},
    )
