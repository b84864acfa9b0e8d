"""Rules: "when a person has N events of activity X (within D days), award badge B".

Events arrive through the Events API with a rule's ``activity_id`` as their ActivityId. Each is
stored once (a retried call finds it instead of counting it twice); when a person reaches the
threshold the rule completes for them, once, and the completion keeps the award it made.
The logic lives in ``badges.rules``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgs.models import Organisation, Space


class RuleQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "RuleQuerySet":
        return self.filter(space=space)

    def active(self) -> "RuleQuerySet":
        return self.filter(active=True)


class Rule(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="rules")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="rules")
    # The Reporting API's rule Id (public URLs never carry integer keys).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    # The customer's identifier of the activity, sent as the event's ActivityId.
    activity_id = models.CharField(max_length=200)
    badge = models.ForeignKey("badges.Badge", on_delete=models.PROTECT, related_name="rules")
    threshold = models.PositiveIntegerField()
    window_days = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            # The Events API finds a rule by (space, ActivityId): one rule per activity.
            models.UniqueConstraint("space", "activity_id", name="rule_unique_activity_in_space"),
            models.CheckConstraint(condition=Q(threshold__gte=1), name="rule_threshold_positive"),
            models.CheckConstraint(
                condition=Q(window_days__isnull=True) | Q(window_days__gte=1),
                name="rule_window_positive",
            ),
        ]
        indexes = [
            # The rules list: WHERE space_id = ? AND organisation in the user's subtrees.
            models.Index(fields=["space", "organisation"], name="rule_space_org"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def summary(self) -> str:
        """The rule in words, as the list and the detail page show it."""
        events = f"{self.threshold} event{'s' if self.threshold != 1 else ''}"
        if self.window_days:
            days = f"{self.window_days} day{'s' if self.window_days != 1 else ''}"
            return f"{events} within {days}"
        return events

    @property
    def badge_outside_branch(self) -> bool:
        """Saved before rules were held to their organisation's branch, this rule names a badge
        from elsewhere: it is refused when it fires, and the badge is not named to the people
        of the branch (it is not theirs to see). Needs badge.organisation loaded."""
        badge_org, org = self.badge.organisation, self.organisation
        return not (badge_org.tree_id == org.tree_id and org.lft <= badge_org.lft <= org.rght)


class ActivityEvent(models.Model):
    """One activity of one person that counts toward a rule."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="events")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_events"
    )
    occurred_at = models.DateTimeField()  # the event's ActivityTime
    # The Events API call that sent it (the X-Request-Id of that response).
    call_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # A retried call stores nothing new, so retries never count twice. The rule fixes
            # the space; this index also serves "the events of (rule, recipient)".
            models.UniqueConstraint(
                "rule", "recipient", "occurred_at", name="activity_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.recipient_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class RuleCompletion(models.Model):
    """A person reached a rule's threshold: the rule awarded its badge to them, once."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="completions")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rule_completions"
    )
    award = models.ForeignKey("badges.Award", on_delete=models.PROTECT, related_name="+")
    # The event whose arrival completed the rule (a retry of it answers "duplicate").
    event = models.ForeignKey(
        ActivityEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField()  # when the threshold was reached (the award's time)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("rule", "recipient", name="rule_completion_once"),
        ]
        indexes = [
            # A rule's completions, in order: WHERE rule_id = ? ORDER BY completed_at.
            models.Index(fields=["rule", "completed_at"], name="rule_completion_rule_time"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} completed by {self.recipient_id}"
