"""The badges domain, one module per concern; import models from here."""

from badges.models.awards import Award, ExpiryNotice, IssueBatch, IssueBatchRow
from badges.models.badges import Badge, BadgeAttribute, BadgeEvent
from badges.models.claims import Application, Claim, ClaimLink
from badges.models.engagement import EngagementCount
from badges.models.graphics import Graphic
from badges.models.keys import SigningKey
from badges.models.openbadges import AwardCredential, BadgeClassVersion
from badges.models.rules import ActivityEvent, Rule, RuleCompletion
from badges.models.status import StatusList, StatusListEntry

__all__ = [
    "ActivityEvent",
    "Application",
    "Award",
    "AwardCredential",
    "Badge",
    "BadgeAttribute",
    "BadgeClassVersion",
    "BadgeEvent",
    "Claim",
    "ClaimLink",
    "EngagementCount",
    "ExpiryNotice",
    "Graphic",
    "IssueBatch",
    "IssueBatchRow",
    "Rule",
    "RuleCompletion",
    "SigningKey",
    "StatusList",
    "StatusListEntry",
]
