"""Subscription plans and the feature flags they unlock.

The feature codes live here, in code, so a typo is an error at import time. The three plans are
seeded into the database (``orgs.Plan``) by a data migration of this app; the operator may then
change a plan's features, or a space's plan, in the Django admin. A space without a plan is on
Free: the database row with code ``free`` if it exists, else ``FREE`` below.

Which settings are plan-only (see docs/architecture.md, "Plans"):
- custom colours: every plan, Free included (cheap, and it helps a new space feel like theirs);
- logo and icon, and authored email content: Standard and White-label;
- the custom landing page, and emails that do not mention Badge Platform: White-label only.

When a space moves to a plan without a feature, what it saved is kept but no longer applied
(the platform defaults show instead), so moving back restores it.

Trials: a space administrator may try a higher plan for TRIAL_DAYS, once per space
(``branding.services.trial_start``). While it runs the trial plan's features are added to the
space's own; when it ends they lock again, and what was saved meanwhile is kept like any
content of a plan the space has left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from orgs.models import Space


class Feature(StrEnum):
    CUSTOM_COLOURS = "custom_colours"
    CUSTOM_LOGO = "custom_logo"
    CUSTOM_EMAILS = "custom_emails"
    LANDING_PAGE = "landing_page"
    WHITE_LABEL_EMAILS = "white_label_emails"


FEATURE_LABELS: dict[Feature, str] = {
    Feature.CUSTOM_COLOURS: "Custom colours for the menu and highlights",
    Feature.CUSTOM_LOGO: "Your logo and browser icon on every page and email",
    Feature.CUSTOM_EMAILS: "Authored email content (welcome and badge emails)",
    Feature.LANDING_PAGE: "A custom landing page at your space's address",
    Feature.WHITE_LABEL_EMAILS: "Emails that do not mention Badge Platform",
}


# What each feature does for the space, for the pages that explain a locked feature.
FEATURE_DETAILS: dict[Feature, str] = {
    Feature.CUSTOM_COLOURS: "The menu, buttons and links take your colours.",
    Feature.CUSTOM_LOGO: (
        "Your logo replaces the platform's name at the top of the menu and in every email the "
        "space sends; your icon shows in the browser tab and the collapsed menu."
    ),
    Feature.CUSTOM_EMAILS: (
        "Write the subject and text of the welcome and badge emails yourself, with the "
        "recipient's name, the badge and its link filled in."
    ),
    Feature.LANDING_PAGE: (
        "Your space's address opens a public page of your own — heading, text and picture — "
        "with a way for your people to sign in."
    ),
    Feature.WHITE_LABEL_EMAILS: "Emails carry only your name, never Badge Platform's.",
}

TRIAL_DAYS = 30


@dataclass(frozen=True)
class PlanSpec:
    code: str
    name: str
    description: str
    features: frozenset[Feature]
    position: int


FREE = PlanSpec(
    code="free",
    name="Free",
    description="Everything needed to issue verifiable badges, in the platform's look.",
    features=frozenset({Feature.CUSTOM_COLOURS}),
    position=0,
)
STANDARD = PlanSpec(
    code="standard",
    name="Standard",
    description="Your logo, icon and colours, and emails written in your own words.",
    features=frozenset({Feature.CUSTOM_COLOURS, Feature.CUSTOM_LOGO, Feature.CUSTOM_EMAILS}),
    position=1,
)
WHITE_LABEL = PlanSpec(
    code="white-label",
    name="White-label",
    description="Standard, plus a landing page of your own and emails under your name only.",
    features=frozenset(Feature),
    position=2,
)
PLANS: tuple[PlanSpec, ...] = (FREE, STANDARD, WHITE_LABEL)


def cheapest_plan_with(feature: Feature) -> PlanSpec:
    return next(p for p in PLANS if feature in p.features)


@dataclass(frozen=True)
class SpacePlan:
    """The plan a space is on, as the pages and services need it: its own plan (code, name,
    position) and, during a trial, the plan being tried. ``features`` are those in force now
    (the space's own plus the trial's)."""

    code: str
    name: str
    description: str
    features: frozenset[str]
    position: int = 0
    trial_code: str = ""
    trial_name: str = ""
    trial_ends_at: datetime | None = None

    def has(self, feature: Feature | str) -> bool:
        return feature in self.features

    @property
    def on_trial(self) -> bool:
        return bool(self.trial_code)


def trial_active(space: Space, now: datetime | None = None) -> bool:
    return (
        space.trial_plan_id is not None
        and space.trial_ends_at is not None
        and space.trial_ends_at > (now or timezone.now())
    )


def space_plan(space: Space) -> SpacePlan:
    """The space's plan (Free when it has none) with its running trial, if any. At most one
    query; cached on the instance."""
    cached = getattr(space, "_space_plan", None)
    if cached is not None:
        return cached
    from orgs.models import Plan

    if trial_active(space):
        # The space's own plan and the trial's in one query.
        own_q = Q(pk=space.plan_id) if space.plan_id is not None else Q(code=FREE.code)
        rows = list(Plan.objects.filter(own_q | Q(pk=space.trial_plan_id)))
        trial = next(p for p in rows if p.pk == space.trial_plan_id)
        own = next(
            (
                p
                for p in rows
                if (p.pk == space.plan_id if space.plan_id is not None else p.code == FREE.code)
            ),
            None,
        )
    else:
        trial = None
        own = (
            space.plan if space.plan_id is not None else Plan.objects.filter(code=FREE.code).first()
        )
    if own is None:  # the Free row was deleted: fall back to the definition above
        result = SpacePlan(FREE.code, FREE.name, FREE.description, frozenset(FREE.features))
    else:
        result = SpacePlan(
            own.code, own.name, own.description, frozenset(own.features or ()), own.position
        )
    if trial is not None:
        result = SpacePlan(
            result.code,
            result.name,
            result.description,
            result.features | frozenset(trial.features or ()),
            result.position,
            trial_code=trial.code,
            trial_name=trial.name,
            trial_ends_at=space.trial_ends_at,
        )
    space._space_plan = result
    return result


def space_has(space: Space, feature: Feature) -> bool:
    return space_plan(space).has(feature)


class FeatureNotInPlan(PermissionDenied):
    """A plan-only setting on a plan without it: the views answer 403 with an explanation."""

    def __init__(self, space: Space, feature: Feature):
        self.feature = feature
        self.plan = space_plan(space)
        self.needed = cheapest_plan_with(feature)
        super().__init__(
            f"{FEATURE_LABELS[feature]}: part of the {self.needed.name} plan, and "
            f"{space.name} is on the {self.plan.name} plan. {FEATURE_DETAILS[feature]}"
        )


def require_feature(space: Space, feature: Feature) -> None:
    if not space_has(space, feature):
        raise FeatureNotInPlan(space, feature)
