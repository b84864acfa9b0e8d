import uuid

from django.db import models
from django.db.models.functions import Lower
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet


class Plan(models.Model):
    """A subscription plan: a name and the feature flags it unlocks (codes in branding.plans).

    The operator sets a space's plan in the Django admin; a space without one is on Free.
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    features = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def has(self, feature: str) -> bool:
        return feature in self.features


class Space(models.Model):
    """A tenant: one customer account. Every tenant-owned row points here directly."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="spaces"
    )
    # One trial of a higher plan per space, ever (branding.services.trial_start): its plan's
    # features count while now < trial_ends_at. Kept after it ends: it records that the
    # trial was used. The two stamps make the end's audit entry and the reminder email
    # happen once each (branding.tasks.trials_tick).
    trial_plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trial_started_at = models.DateTimeField(null=True, blank=True)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    trial_reminded_at = models.DateTimeField(null=True, blank=True)
    trial_end_recorded_at = models.DateTimeField(null=True, blank=True)
    # Everyone holding an administrative role (badgeplatform.permissions.ADMINISTRATIVE) must
    # have a second factor to use the space (users.mfa.policy_refusal; docs/mfa.md).
    mfa_required_for_admins = models.BooleanField(default=False)
    # Members sign in through the space's identity provider; only the break-glass
    # administrators may use a password (sso.policy). Here, not in sso, so that the check on
    # every tenant page costs no query.
    sso_required = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def root_organisation(self) -> "Organisation":
        # Cached per instance: the root is asked for several times per request.
        if not hasattr(self, "_root_org"):
            self._root_org = Organisation.objects.get(space=self, parent__isnull=True)
        return self._root_org


class OrganisationQuerySet(TreeQuerySet):
    def for_space(self, space: Space) -> "OrganisationQuerySet":
        return self.filter(space=space)


class Organisation(MPTTModel):
    """A node of a space's tree (the root is the customer organisation itself).

    Each space is its own MPTT tree (its own tree_id), so "this node and everything beneath it"
    is one range condition on (tree_id, lft, rght).
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="organisations")
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class MPTTMeta:
        order_insertion_by = ["name"]

    class Meta:
        indexes = [
            # Subtree lookups within a space: WHERE space_id = ? AND tree_id = ? AND lft BETWEEN.
            models.Index(fields=["space", "tree_id", "lft"], name="org_space_tree_lft"),
        ]
        constraints = [
            models.UniqueConstraint(
                "space", "parent", Lower("name"), name="org_unique_name_among_siblings"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_root(self) -> bool:
        return self.parent_id is None


class GroupQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "GroupQuerySet":
        return self.filter(space=space)


class Group(models.Model):
    """A named set of users inside an organisation: a class, cohort or project team."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="groups")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "space", "organisation", Lower("name"), name="group_unique_name_in_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name
