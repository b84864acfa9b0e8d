"""Applications: a person asks for a badge with evidence; a reviewer approves or declines.

A badge accepts applications when someone who may issue it says so
(``badge_applications_set``). A person applies at ``/apply/<badge public id>`` with a statement,
a link and/or a file (``application_submit``): signed in with a verified address, the
application goes straight to the reviewers; a visitor first confirms their address by the link
emailed to them (``application_confirm``). Reviewers — "review applications" on the badge's
organisation — see the queue; ``application_approve`` issues the award through
``badges.issuing.awards_issue`` carrying the evidence as the award's own Evidence
(``badges.evidence``), ``application_decline`` emails the applicant the reviewer's message.

Evidence files go through ``evidence_file_check``: at most ``EVIDENCE_MAX_BYTES``; a PDF must
start as one and be read by pypdf, and is stored byte for byte; an image goes through the
platform's image pipeline (``badgeplatform.images.process_image``: decoded and re-encoded as a
fresh PNG). Files are stored under a random name below ``private/``, which the public media view
never serves: reviewers download them through their page, and once approved the file is
reachable at the award's evidence link.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.images import MB, ImageRejected, process_image
from badgeplatform.mail import queue_email
from badgeplatform.permissions import Perm
from badges.evidence import MAX_NARRATIVE, MAX_URL, is_web_url
from badges.issuing import RecipientInput, awards_issue
from badges.models import Application, Badge, IssueBatch
from users.models import User

EVIDENCE_MAX_BYTES = 5 * MB
CONFIRM_SALT = "badges.applications.confirm"
CONFIRM_MAX_AGE = 3 * 86400
MAX_MESSAGE = 2000
PRIVATE_PREFIX = "private/applications/"


class ApplicationRefused(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ApplicationSettingsForm(forms.Form):
    accepts_applications = forms.BooleanField(
        label="People may apply for this badge with evidence", required=False
    )
    application_instructions = forms.CharField(
        label="What applicants should send",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the application page, e.g. “A link to your project and a few lines "
        "on what you built.”",
    )


def apply_url(badge: Badge) -> str:
    return settings.SITE_URL + reverse("apply:badge", args=[badge.public_id])


def badge_applications_set(
    *, access: Access, badge: Badge, actor: User | None, accepts: bool, instructions: str
) -> None:
    """Open or close a badge to applications (who may issue it decides)."""
    access.require(Perm.ISSUE_BADGES, organisation=badge.organisation)
    before = (badge.accepts_applications, badge.application_instructions)
    badge.accepts_applications, badge.application_instructions = accepts, instructions.strip()
    Badge.objects.filter(pk=badge.pk).update(
        accepts_applications=badge.accepts_applications,
        application_instructions=badge.application_instructions,
    )
    if before != (badge.accepts_applications, badge.application_instructions):
        audit_log(
            space=badge.space,
            actor=actor,
            action="badge.applications",
            obj=badge,
            label=badge.name,
            changes={"accepts_applications": accepts},
        )


# ---- Evidence files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedFile:
    content: ContentFile
    content_type: str


def _read_capped(upload, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(f"The file is {size / MB:,.1f} MB; the limit is {limit // MB} MB.")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"The file is larger than the {limit // MB} MB limit.")
    return data


def evidence_file_check(upload) -> CheckedFile:
    """A PDF (kept as sent, once pypdf has read it) or a PNG/JPEG/GIF image (re-encoded by the
    image pipeline). Raises ValidationError with a message the applicant can act on."""
    data = _read_capped(upload, EVIDENCE_MAX_BYTES)
    if not data:
        raise ValidationError("The file is empty.")
    if data.startswith(b"%PDF-"):
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise ValidationError("The PDF is password-protected: send one reviewers can open.")
            if len(reader.pages) < 1:
                raise ValidationError("The PDF has no pages.")
        except ValidationError:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
            raise ValidationError("The PDF is damaged or incomplete.") from exc
        name = f"{secrets.token_hex(16)}.pdf"
        return CheckedFile(ContentFile(data, name=name), "application/pdf")
    try:
        image = process_image(data)
    except ImageRejected as exc:
        if exc.code == "not_image":
            raise ValidationError("Upload a PDF, PNG or JPEG file.") from exc
        raise ValidationError(exc.messages[0]) from exc
    return CheckedFile(image, "image/png")


# ---- Applying ----------------------------------------------------------------------------------


def confirm_url(application: Application) -> str:
    token = signing.dumps(str(application.public_id), salt=CONFIRM_SALT)
    return settings.SITE_URL + reverse("apply:confirm", args=[token])


def application_from_token(token: str) -> Application | None:
    try:
        public_id = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    return Application.objects.select_related("badge").filter(public_id=public_id).first()


def application_submit(
    *,
    badge: Badge,
    user: User | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    statement: str = "",
    url: str = "",
    upload=None,
) -> Application:
    """Store an application. A signed-in person with a verified address goes straight to the
    reviewers; anyone else gets a confirmation email first. Raises ApplicationRefused."""
    if not (badge.is_issuable and badge.accepts_applications):
        raise ApplicationRefused("This badge does not take applications at the moment.")
    statement, url = statement.strip(), url.strip()
    if len(statement) > MAX_NARRATIVE:
        raise ApplicationRefused(f"At most {MAX_NARRATIVE:,} characters.", "statement")
    if url and (len(url) > MAX_URL or not is_web_url(url)):
        raise ApplicationRefused("Give a web address starting with https:// or http://.", "url")
    if not (statement or url or upload):
        raise ApplicationRefused("Tell the reviewers what you did: a few lines, a link or a file.")
    checked = None
    if upload is not None:
        try:
            checked = evidence_file_check(upload)
        except ValidationError as exc:
            raise ApplicationRefused(exc.messages[0], "file") from exc
    verified = user is not None and user.is_verified
    if verified:
        email, first_name, last_name = user.email, user.first_name, user.last_name
    now = timezone.now()
    with transaction.atomic():
        application = Application(
            space=badge.space,
            badge=badge,
            applicant=user if verified else None,
            email=email.strip(),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            statement=statement,
            evidence_url=url,
            status=Application.Status.SUBMITTED if verified else Application.Status.UNVERIFIED,
            submitted_at=now if verified else None,
        )
        if checked is not None:
            application.evidence_file.save(checked.content.name, checked.content, save=False)
            application.evidence_file_name = (getattr(upload, "name", "") or "evidence")[-200:]
            application.evidence_file_type = checked.content_type
        application.save()
        if not verified:
            queue_email(
                to=application.email,
                template="application_confirm",
                context={
                    "badge_name": badge.name,
                    "space_name": badge.space.name,
                    "confirm_url": confirm_url(application),
                    "days": CONFIRM_MAX_AGE // 86400,
                },
                space=badge.space,
            )
    return application


def application_confirm(application: Application) -> Application:
    """The applicant proved their address: the application goes to the reviewers."""
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status == Application.Status.UNVERIFIED:
            application.status = Application.Status.SUBMITTED
            application.submitted_at = timezone.now()
            application.applicant = User.objects.get_by_email(application.email)
            application.save(update_fields=["status", "submitted_at", "applicant"])
    return application


def badges_open_to(user: User):
    """Published badges taking applications at the person's places: a badge of an organisation
    they (or a group of theirs) sit in, or of one above it — a university-wide badge is open to
    every department's people; a sibling department's is not listed (its address still works
    for whoever is given it)."""
    from django.db.models import Exists, OuterRef, Q

    from users.models import Membership

    def under(prefix: str) -> Q:
        return Q(
            **{
                f"{prefix}tree_id": OuterRef("organisation__tree_id"),
                f"{prefix}lft__gte": OuterRef("organisation__lft"),
                f"{prefix}rght__lte": OuterRef("organisation__rght"),
            }
        )

    places = Membership.objects.filter(user=user, space=OuterRef("space")).filter(
        under("organisation__") | under("group__organisation__")
    )
    return (
        Badge.objects.published()
        .filter(accepts_applications=True)
        .filter(Exists(places))
        .select_related("space", "graphic")
        .order_by("space__name", "name", "pk")
    )


def applications_of(user: User):
    """A person's applications, newest first (their backpack)."""
    return (
        Application.objects.filter(email__iexact=user.email)
        .exclude(status=Application.Status.UNVERIFIED)
        .select_related("badge", "space")
        .order_by("-created_at", "-pk")
    )


def pending_for(user: User, space) -> list[dict]:
    """What waits for the person in ``space``: claims to confirm by email and applications
    under review, newest first (one query, for their dashboard)."""
    from django.db.models import CharField, Value

    from badges.models import Claim

    claims_q = (
        Claim.objects.filter(space=space, email__iexact=user.email, status=Claim.Status.PENDING)
        .order_by()
        .values_list("link__badge__name", "created_at", Value("claim", output_field=CharField()))
    )
    applications_q = (
        Application.objects.filter(
            space=space, email__iexact=user.email, status=Application.Status.SUBMITTED
        )
        .order_by()
        .values_list("badge__name", "created_at", Value("application", output_field=CharField()))
    )
    rows = claims_q.union(applications_q).order_by("-created_at")[:PENDING_SHOWN]
    return [{"badge_name": name, "at": at, "kind": kind} for name, at, kind in rows]


PENDING_SHOWN = 6


# ---- Reviewing ---------------------------------------------------------------------------------


def evidence_file_url(application: Application) -> str:
    return settings.SITE_URL + reverse("public:evidence_file", args=[application.public_id])


def evidence_for(application: Application) -> list[dict]:
    """The application's evidence in the award's stored form (badges.evidence)."""
    items = []
    if application.statement:
        items.append({"narrative": application.statement, "name": "Application"})
    if application.evidence_url:
        items.append({"url": application.evidence_url, "name": "Link from the application"})
    if application.evidence_file:
        items.append(
            {
                "url": evidence_file_url(application),
                "name": application.evidence_file_name[:200] or "File from the application",
            }
        )
    return items


def _locked_submitted(access: Access, application: Application) -> Application:
    access.require(Perm.REVIEW_APPLICATIONS, organisation=application.badge.organisation)
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("badge__organisation", "space")
        .get(pk=application.pk)
    )
    if locked.status != Application.Status.SUBMITTED:
        raise ApplicationRefused(
            f"This application is already {locked.get_status_display().lower()}."
        )
    return locked


def application_approve(
    *, access: Access, application: Application, actor: User | None
) -> Application:
    """Award the badge with the application's evidence. The reviewer's permission decides; the
    award is made by the one issuing service (as the platform, on their decision: reviewing
    does not need "issue badges"), audited with the reviewer as actor."""
    with transaction.atomic():
        application = _locked_submitted(access, application)
        badge = application.badge
        applicant = application.applicant or User.objects.get_by_email(application.email)
        _, outcomes = awards_issue(
            access=Access.system(application.space),
            badge=badge,
            recipients=[
                RecipientInput(
                    email=application.email,
                    first_name=application.first_name or application.email.split("@")[0],
                    last_name=application.last_name or "-",
                    user=applicant,
                    evidence=evidence_for(application),
                )
            ],
            source=IssueBatch.Source.APPLICATION,
            actor=actor,
        )
        outcome = outcomes[0]
        if outcome.award is None:
            raise ApplicationRefused(" ".join(outcome.errors.values()))
        application.status = Application.Status.APPROVED
        application.award = outcome.award
        application.applicant = outcome.award.recipient
        application.reviewed_by, application.reviewed_at = actor, timezone.now()
        application.save(
            update_fields=["status", "award", "applicant", "reviewed_by", "reviewed_at"]
        )
        audit_log(
            space=application.space,
            actor=actor,
            action="application.approve",
            obj=application,
            label=f"{badge.name}: {application.email}",
        )
    return application


def application_decline(
    *, access: Access, application: Application, actor: User | None, message: str
) -> Application:
    """Decline with a message, emailed to the applicant."""
    message = message.strip()
    if not message:
        raise ApplicationRefused("Tell the applicant why, so they can try again.", "message")
    if len(message) > MAX_MESSAGE:
        raise ApplicationRefused(f"At most {MAX_MESSAGE:,} characters.", "message")
    with transaction.atomic():
        application = _locked_submitted(access, application)
        application.status = Application.Status.DECLINED
        application.decision_message = message
        application.reviewed_by, application.reviewed_at = actor, timezone.now()
        application.save(update_fields=["status", "decision_message", "reviewed_by", "reviewed_at"])
        queue_email(
            to=application.email,
            template="application_declined",
            context={
                "badge_name": application.badge.name,
                "space_name": application.space.name,
                "first_name": application.first_name,
                "message": message,
                "apply_url": apply_url(application.badge),
                "may_reapply": application.badge.accepts_applications,
            },
            space=application.space,
            dedupe_key=f"application-declined:{application.public_id}",
        )
        audit_log(
            space=application.space,
            actor=actor,
            action="application.decline",
            obj=application,
            label=f"{application.badge.name}: {application.email}",
        )
    return application


def may_review(access: Access) -> bool:
    return access.can_anywhere(Perm.REVIEW_APPLICATIONS)
