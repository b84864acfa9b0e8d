"""Small helpers for the issuing and backpack templates."""

from django import template

register = template.Library()

STATE_PILLS = {
    "valid": "green",
    "expired": "amber",
    "suspended": "amber",
    "revoked": "red",
    "declined": "",
}
STATE_LABELS = {
    "valid": "Valid",
    "expired": "Expired",
    "suspended": "Suspended",
    "revoked": "Revoked",
    "declined": "Declined",
}


@register.inclusion_tag("issuing/_state.html")
def award_state(award):
    """A pill saying valid / expired / suspended / revoked / declined."""
    state = award.state
    return {"state": state, "colour": STATE_PILLS[state], "label": STATE_LABELS[state]}
