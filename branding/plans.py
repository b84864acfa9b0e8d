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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

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
    """The plan a space is on, as the pages and services need it."""

    code: str
    name: str
    description: str
    features: frozenset[str]

    def has(self, feature: Feature | str) -> bool:
        return feature in self.features


def space_plan(space: Space) -> SpacePlan:
    """The space's plan (Free when it has none). At most one query; cached on the instance."""
    cached = getattr(space, "_space_plan", None)
    if cached is not None:
        return cached
    from orgs.models import Plan

    plan = space.plan if space.plan_id is not None else Plan.objects.filter(code=FREE.code).first()
    if plan is None:  # the Free row was deleted: fall back to the definition above
        result = SpacePlan(FREE.code, FREE.name, FREE.description, frozenset(FREE.features))
    else:
        result = SpacePlan(plan.code, plan.name, plan.description, frozenset(plan.features or ()))
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
            f"{space.name} is on the {self.plan.name} plan. "
            "Ask the platform operator to change your plan."
        )


def require_feature(space: Space, feature: Feature) -> None:
    if not space_has(space, feature):
        raise FeatureNotInPlan(space, feature)
