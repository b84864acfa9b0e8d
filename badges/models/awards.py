import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from issuers.models import IssuerVersion
from orgs.models import Organisation, Space


class IssueBatch(models.Model):
    """One issue action: a manual issue from the browser, one API call, or one rule run.

    Its ``issued_at`` plus the badge's expiry period gives each award's expiry date. Large
    browser batches are processed by a worker; ``status`` and the counters drive the progress
    bar and the result page.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", "Issued in the browser"
        API = "api", "Events API"
        RULE = "rule", "Rule"
        CLAIM = "claim", "Claimed through a link"
        APPLICATION = "applied", "Application approved"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Issuing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey("badges.Badge", on_delete=models.PROTECT, related_name="batches")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    issued_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Per-row problems of API and rule batches (browser batches keep theirs as IssueBatchRow).
    failures = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    issued = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["space", "-created_at"], name="batch_space_created")]

    def __str__(self) -> str:
        return f"Batch {self.public_id} ({self.status})"


class IssueBatchRow(models.Model):
    """One recipient of a browser batch: a row of the list being built (pending), then of the
    queue the worker takes chunks from (running), or a row not issued (its ``errors``).

    The list can hold 100,000 rows, so it lives here, one row a record, rather than in one
    JSON value on the batch: it is written in chunks as a CSV is read, checked in chunks and
    in SQL, shown a page at a time, and the worker deletes each chunk of rows in the
    transaction that issues it. Rows are read through their batch, fetched inside the space
    (badges.access.batch_for); ``space`` is the batch's, as on every tenant table.
    """

    # Not indexed: rows are always read by batch; a space's removal reaches them by batch too.
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Indexed by the (batch, position) constraint, which starts with it.
    batch = models.ForeignKey(
        IssueBatch, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    # Order in the list (0-based, gaps after removals); "row N" in messages is position + 1.
    position = models.PositiveIntegerField()
    # ref, user (picked member's id), email, first_name, last_name, evidence, results and the
    # file's own problems (format_errors): see badges.batches.
    data = models.JSONField()
    external_id = models.CharField(max_length=200, blank=True, default="")
    achieved_at = models.CharField(max_length=40, blank=True, default="")  # ISO, or "": default
    # Who the row names once checked: "user:<id>" or "email:<address>" ("" when unknown).
    identity = models.CharField(max_length=300, blank=True, default="")
    who = models.CharField(max_length=10, blank=True, default="")  # member | email | ""
    # The external id this row claims for its identity ("" when it claims none or it is wrong),
    # for the check that one external id names one person across the list.
    ext_claim = models.CharField(max_length=200, blank=True, default="")
    errors = models.JSONField(default=dict, blank=True)  # the row's own problems
    clash = models.JSONField(default=dict, blank=True)  # problems with other rows of the list
    ok = models.BooleanField(default=False)  # no problem of its own
    problem = models.BooleanField(default=False)  # not ok, or a clash: not issued

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="batchrow_position")
        ]
        indexes = [
            # The preview's counts and its page of problems first; the worker's next chunk.
            models.Index(fields=["batch", "-problem", "position"], name="batchrow_problem"),
            # Same person twice (identity, time) among the rows without problems.
            models.Index(fields=["batch", "identity", "achieved_at"], name="batchrow_identity"),
            # One external id, one person.
            models.Index(fields=["batch", "ext_claim", "position"], name="batchrow_ext"),
        ]

    def __str__(self) -> str:
        return f"Row {self.position + 1} of {self.batch_id}"

    @property
    def all_errors(self) -> dict[str, str]:
        return {**self.errors, **self.clash}


class AwardQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "AwardQuerySet":
        return self.filter(space=space)

    def active(self) -> "AwardQuerySet":
        return self.filter(revoked_at__isnull=True)

    def with_status(self, status: str, now=None) -> "AwardQuerySet":
        """The awards whose ``Award.status`` is ``status`` (the same precedence, in SQL)."""
        now = now or timezone.now()
        if status == "revoked":
            return self.filter(revoked_at__isnull=False)
        live = self.filter(revoked_at__isnull=True)
        if status == "declined":
            return live.filter(declined_at__isnull=False)
        live = live.filter(declined_at__isnull=True)
        if status == "suspended":
            return live.filter(suspended_at__isnull=False)
        live = live.filter(suspended_at__isnull=True)
        if status == "expired":
            return live.filter(expires_at__lte=now)
        if status == "active":
            return live.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))
        return self.none()


class Award(models.Model):
    """One badge to one recipient. Snapshots keep it as issued: later edits of the badge or
    the issuer profile change only later awards. Removing a person from a space never
    touches their awards (they point at the platform-wide user)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey("badges.Badge", on_delete=models.PROTECT, related_name="awards")
    batch = models.ForeignKey(IssueBatch, on_delete=models.PROTECT, related_name="awards")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="awards"
    )
    # The badge's organisation when issued: reports count awards per organisation subtree.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    issuer_version = models.ForeignKey(IssuerVersion, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=10, choices=IssueBatch.Source.choices)
    achieved_at = models.DateTimeField()  # the ActivityTime
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    # The badge as issued: name, description, language, criteria, image path, attributes.
    badge_snapshot = models.JSONField()
    recipient_email = models.EmailField(max_length=254)  # the identity the award was made to
    identity_salt = models.CharField(max_length=32)  # for the hashed recipient identity
    # The recipient shows their name on the award's public page. Private (False) by default:
    # the page confirms the award without naming anyone until the recipient says otherwise.
    is_public = models.BooleanField(default=False)
    # What the recipient did and achieved (the Events API's Evidence and Results, checked by
    # badges.evidence): [{"narrative", "url", "name"}], [{"description", "value"}]. JSON on
    # the row, so issuing stays one INSERT per batch.
    evidence = models.JSONField(default=list, blank=True)
    results = models.JSONField(default=list, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=500, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Suspension: reversible (reinstating clears all three). A platform state: the hosted OB 2.0
    # assertion answers as revoked meanwhile; the OB 3.0 status list (revocation only) does not
    # carry it.
    suspended_at = models.DateTimeField(null=True, blank=True)
    # A database default too: bulk loaders that COPY named columns (bench.scale) omit it.
    suspension_reason = models.CharField(max_length=500, blank=True, default="", db_default="")
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The recipient's answer in their backpack (badges.awards.award_accept / award_decline).
    # Declining is final: the award is hidden publicly (410), its OB 3.0 status bit is set
    # like a revocation's, and reports keep it, marked declined (shared/API.md's "declined").
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    # The expiring or expired award this one renews (badges.renewal, or a new qualifying
    # event: badges.issuing). One renewal per award: a second one is refused by the database.
    renews = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_by"
    )

    objects = AwardQuerySet.as_manager()

    class Meta:
        constraints = [
            # The same achievement is awarded once: retried calls and duplicated CSV rows
            # find the existing award instead of making a second one.
            models.UniqueConstraint(
                "badge", "recipient", "achieved_at", name="award_unique_badge_recipient_time"
            ),
        ]
        indexes = [
            # Reports on a whole space (or most of it): WHERE space_id = ? AND issued_at >= ?
            # AND issued_at < ?, counted per day/month and per badge. The included columns
            # let PostgreSQL answer from the index alone (a parallel index-only scan), the
            # organisation join happening on the side. See reporting/queries.py.
            models.Index(
                fields=["space", "issued_at"],
                include=["organisation", "badge"],
                name="award_space_issued_cover",
            ),
            # Reports on part of the tree: JOIN organisation ON its MPTT range, then one range
            # scan per matching organisation (a nested loop), also index-only.
            models.Index(
                fields=["space", "organisation", "issued_at"],
                include=["badge"],
                name="award_space_org_issued",
            ),
            # Awards of a badge, newest first.
            models.Index(fields=["badge", "-issued_at"], name="award_badge_issued"),
            # The backpack: WHERE recipient_id = ? ORDER BY issued_at DESC
            models.Index(fields=["recipient", "-issued_at"], name="award_recipient_issued"),
            # The expiry jobs (badges.expiry): live awards by expiry date, a narrow range each
            # run; awards that never expire (most) are not in it.
            models.Index(
                fields=["expires_at"],
                condition=models.Q(expires_at__isnull=False, revoked_at__isnull=True),
                name="award_expires_live",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.badge_snapshot.get('name', 'Badge')} → {self.recipient_email}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_declined(self) -> bool:
        return self.declined_at is not None

    @property
    def is_suspended(self) -> bool:
        """Suspended and not since revoked (a revocation is final and wins)."""
        return self.suspended_at is not None and self.revoked_at is None

    def public_name(self) -> str:
        """The recipient's name as anyone may see it: only once they made the award public,
        and never their email address in its place. The one rule for the public page, the
        share card and the certificate. Needs ``recipient`` loaded."""
        return self.recipient.get_full_name().strip() if self.is_public else ""

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        """shared/API.md's Status: revoked, declined, suspended, expired or active (the first
        that applies)."""
        if self.is_revoked:
            return "revoked"
        if self.declined_at is not None:
            return "declined"
        if self.suspended_at is not None:
            return "suspended"
        if self.is_expired():
            return "expired"
        return "active"

    def expires_within(self, days: int, now=None) -> bool:
        """Not expired yet, and expires within ``days`` days."""
        now = now or timezone.now()
        return self.expires_at is not None and now < self.expires_at <= now + timedelta(days=days)

    @property
    def reason(self) -> str | None:
        """Why it is revoked or suspended (shared/API.md's Reason), else None."""
        if self.is_revoked:
            return self.revocation_reason
        if self.suspended_at is not None:
            return self.suspension_reason
        return None

    @property
    def state(self) -> str:
        """valid / expired / suspended / revoked / declined, as the backpack and the
        verification page say it."""
        if self.is_revoked:
            return "revoked"
        if self.is_declined:
            return "declined"
        if self.is_suspended:
            return "suspended"
        if self.is_expired():
            return "expired"
        return "valid"


class ExpiryNotice(models.Model):
    """One expiry email claimed for one award: a reminder ``days`` before it expires, or the
    "expired" email (days 0). The unique row is the claim: the job inserts it with ON CONFLICT
    DO NOTHING in the transaction that queues the email, so however often (or concurrently)
    the job runs, each email is queued once (badges.expiry)."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        EXPIRED = "expired", "Expired"

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="expiry_notices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    days = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "award", "kind", "days", name="expiry_notice_unique_award_kind_days"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.days} → award {self.award_id}"
