import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from badgeplatform.permissions import Perm
from orgs.models import Group, Organisation, Space


class PlatformUserManager(UserManager):
    def get_by_email(self, email: str) -> "User | None":
        return self.filter(email__iexact=email.strip()).first()


class User(AbstractUser):
    """A person, platform-wide: one email, possibly several spaces."""

    email = models.EmailField("email address", max_length=254)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    # The person's email preference (their Settings page): reminders before one of their awards
    # expires, and the email when it has (badges.expiry). On unless they turn it off; a
    # database default too, for bulk loaders that COPY named columns.
    expiry_reminders = models.BooleanField(
        "Email me before one of my badges expires", default=True, db_default=True
    )

    objects = PlatformUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_unique_email_ci"),
            models.UniqueConstraint(Lower("username"), name="user_unique_username_ci"),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None


class RoleQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "RoleQuerySet":
        return self.filter(space=space)


class Role(models.Model):
    """A named set of permissions. Default roles are seeded per space and are read-only."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    permissions = models.JSONField(default=list)
    is_default = models.BooleanField(default=False)

    objects = RoleQuerySet.as_manager()

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint("space", Lower("name"), name="role_unique_name_in_space"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def permission_set(self) -> frozenset[Perm]:
        return frozenset(Perm(p) for p in self.permissions if p in Perm._value2member_map_)


class MemberQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "MemberQuerySet":
        return self.filter(space=space)


class Member(models.Model):
    """A user's place in one space: what makes them belong to it."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="space_memberships")
    # Employee number, student id, customer reference: the API's UserId.
    external_id = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint("space", "user", name="member_unique_user_in_space"),
            models.UniqueConstraint(
                "space",
                "external_id",
                condition=Q(external_id__isnull=False),
                name="member_unique_external_id_in_space",
            ),
        ]
        indexes = [
            # User list ordered by creation date within a space.
            models.Index(fields=["space", "created_at"], name="member_space_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.space}"


class MembershipQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "MembershipQuerySet":
        return self.filter(space=space)


class Membership(models.Model):
    """(user, organisation or group, role): exactly one role per user per node."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(organisation__isnull=False, group__isnull=True)
                    | Q(organisation__isnull=True, group__isnull=False)
                ),
                name="membership_org_xor_group",
            ),
            models.UniqueConstraint(
                "user",
                "organisation",
                condition=Q(organisation__isnull=False),
                name="membership_one_role_per_org",
            ),
            models.UniqueConstraint(
                "user",
                "group",
                condition=Q(group__isnull=False),
                name="membership_one_role_per_group",
            ),
        ]
        indexes = [
            # Access loading: WHERE space_id = ? AND user_id = ?
            models.Index(fields=["space", "user"], name="membership_space_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} on {self.organisation or self.group}"
