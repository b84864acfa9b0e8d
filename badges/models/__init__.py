"""The badges domain, one module per concern; import models from here."""

from badges.models.awards import Award, IssueBatch
from badges.models.badges import Badge, BadgeAttribute, BadgeEvent
from badges.models.graphics import Graphic
from badges.models.rules import ActivityEvent, Rule, RuleCompletion

__all__ = [
    "ActivityEvent",
    "Award",
    "Badge",
    "BadgeAttribute",
    "BadgeEvent",
    "Graphic",
    "IssueBatch",
    "Rule",
    "RuleCompletion",
]
