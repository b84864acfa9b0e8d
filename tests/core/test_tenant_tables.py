"""Every table of ours says whose it is (STYLE.md: a tenant-owned table has a non-null
``space`` foreign key, so a query can be scoped to the request's space directly).

A model without one must be listed below with the reason: either it is not any one space's
(the platform's, or a person's across spaces), or it is a child reached only through a parent
that carries ``space`` and is fetched inside the space first. Adding a table without deciding
which fails here."""

from __future__ import annotations

from django.apps import apps

from tests.core.test_architecture import PROJECT_APPS

# Not a space's: the platform's own, or a person's (across every space they belong to).
NOT_A_SPACES = {
    "orgs.Plan": "plans are the platform's price list",
    "orgs.Space": "the tenant itself",
    "users.User": "a person may belong to several spaces",
    "users.EmailAddress": "a person's own address, whatever space awards to it",
    "reporting.RollupZone": "the platform's report time zone",
    "obapi.ClientRegistration": "an OAuth client registers with the platform, not a space",
    "obapi.ImportedCredential": "a recipient's backpack holds credentials from anywhere",
}
# Children reached only through a parent that carries ``space`` (and is read within it first).
CHILDREN = {
    "badges.ExpiryNotice": "award (written by the expiry job, never served by a request)",
    "badges.StatusListEntry": "award (its one status list bit)",
    "webhooks.Message": "endpoint",
    "webhooks.Attempt": "message",
    "obapi.WalletOffer": "award and its recipient (the capability URL names the offer)",
}
# ``space`` may be empty: emails about no space (registration, password resets).
NULLABLE = {"badgeplatform.OutboundEmail"}


def test_every_table_has_its_space_or_says_why_not():
    missing, nullable = [], []
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label not in PROJECT_APPS or label in NOT_A_SPACES or label in CHILDREN:
            continue
        field = next((f for f in model._meta.concrete_fields if f.name == "space"), None)
        if field is None or field.related_model is not apps.get_model("orgs.Space"):
            missing.append(label)
        elif field.null and label not in NULLABLE:
            nullable.append(label)
    assert not missing, f"no `space` foreign key (add one, or list it with a reason): {missing}"
    assert not nullable, f"`space` may be empty (make it non-null, or list it): {nullable}"


def test_the_lists_name_real_models_only():
    """A model renamed or removed leaves no stale exemption behind."""
    for label in (*NOT_A_SPACES, *CHILDREN, *NULLABLE):
        assert apps.get_model(label) is not None
    for label in CHILDREN:
        assert not any(f.name == "space" for f in apps.get_model(label)._meta.concrete_fields), (
            f"{label} has `space` now: take it off the list"
        )
