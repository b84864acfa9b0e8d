"""Branding changes. Views, commands and the demo call these; each refuses what the plan lacks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from badgeplatform.audit import audit_log
from badgeplatform.mail import queue_email, queue_rendered_email
from badgeplatform.models import OutboundEmail
from badgeplatform.permissions import Perm
from branding.emails import render_authored, sample_values, spec_for
from branding.models import EmailTemplate, LandingPage, SpaceBranding, validate_hex_colour
from branding.plans import FEATURE_LABELS, TRIAL_DAYS, Feature, require_feature, space_plan

if TYPE_CHECKING:
    from badgeplatform.access import Access
    from orgs.models import Space
    from users.models import User


def get_landing_page_for(space: Space) -> LandingPage:
    return LandingPage.objects.filter(space=space).first() or LandingPage(space=space)


def _delete_file_after_commit(name: str) -> None:
    # The row points elsewhere only once the transaction commits; a rollback keeps the file.
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def _lock_branding(space: Space) -> SpaceBranding:
    SpaceBranding.objects.get_or_create(space=space)
    return SpaceBranding.objects.select_for_update().get(space=space)


def _saved(space: Space, branding: SpaceBranding, fields: list[str]) -> SpaceBranding:
    branding.version = F("version") + 1  # the CSS ETag: browsers revalidate and see the change
    branding.save(update_fields=[*fields, "version", "updated_at"])
    branding.refresh_from_db(fields=["version"])
    space._branding = branding
    return branding


@transaction.atomic
def branding_set_colours(
    *, actor: User, space: Space, nav_bg: str, nav_text: str, accent: str
) -> SpaceBranding:
    """Save the three colours (each ``#RRGGBB``, or "" for the platform default)."""
    require_feature(space, Feature.CUSTOM_COLOURS)
    for value in (nav_bg, nav_text, accent):
        validate_hex_colour(value)  # the form checked already; this is the invariant
    branding = _lock_branding(space)
    before = {"nav_bg": branding.nav_bg, "nav_text": branding.nav_text, "accent": branding.accent}
    after = {"nav_bg": nav_bg.lower(), "nav_text": nav_text.lower(), "accent": accent.lower()}
    branding.nav_bg, branding.nav_text, branding.accent = after.values()
    audit_log(
        space=space,
        actor=actor,
        action="branding.colours",
        label="Colours",
        changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
    )
    return _saved(space, branding, ["nav_bg", "nav_text", "accent"])


@transaction.atomic
def branding_set_linkedin(*, actor: User, space: Space, organization_id: str) -> SpaceBranding:
    """The space's LinkedIn organisation id (digits, or "" for none): every plan."""
    if organization_id and not (organization_id.isdigit() and len(organization_id) <= 20):
        raise ValueError("A LinkedIn organisation id is digits only.")
    branding = _lock_branding(space)
    before = branding.linkedin_organization_id
    branding.linkedin_organization_id = organization_id
    if before != organization_id:
        audit_log(
            space=space,
            actor=actor,
            action="branding.linkedin",
            label="LinkedIn organisation id",
            changes={"linkedin_organization_id": [before, organization_id]},
        )
    branding.save(update_fields=["linkedin_organization_id", "updated_at"])
    space._branding = branding
    return branding


def branding_reset_colours(*, actor: User, space: Space) -> SpaceBranding:
    return branding_set_colours(actor=actor, space=space, nav_bg="", nav_text="", accent="")


@transaction.atomic
def branding_set_image(
    *, actor: User, space: Space, which: Literal["logo", "icon"], image: ContentFile | None
) -> SpaceBranding:
    """Replace (or with None remove) the logo or the icon. ``image`` comes from
    badgeplatform.images.process_image, so it is verified, re-encoded and randomly named."""
    if which not in ("logo", "icon"):
        raise ValueError(f"Unknown branding image {which!r}")
    require_feature(space, Feature.CUSTOM_LOGO)
    branding = _lock_branding(space)
    field = getattr(branding, which)
    old_name = field.name
    if image is None:
        setattr(branding, which, "")
    else:
        field.save(image.name, image, save=False)
    _delete_file_after_commit(old_name)
    audit_log(
        space=space,
        actor=actor,
        action=f"branding.{which}",
        label=f"{which.title()} {'removed' if image is None else 'uploaded'}",
    )
    return _saved(space, branding, [which])


@transaction.atomic
def email_template_save(
    *, actor: User, space: Space, kind: str, subject: str, body: str
) -> EmailTemplate:
    """Store the space's subject and body for ``kind`` (validated by EmailTemplateForm)."""
    spec_for(kind)
    require_feature(space, Feature.CUSTOM_EMAILS)
    if "\r" in subject or "\n" in subject:
        raise ValueError("An email subject must be a single line")
    template, _ = EmailTemplate.objects.update_or_create(
        space=space,
        kind=kind,
        defaults={"subject": subject, "body": body, "updated_by": actor},
    )
    audit_log(
        space=space,
        actor=actor,
        action="email_template.save",
        obj=template,
        label=spec_for(kind).label,
        changes={"subject": subject},
    )
    return template


@transaction.atomic
def email_template_reset(*, actor: User, space: Space, kind: str) -> None:
    """Back to the default content (the space's own text is deleted)."""
    spec_for(kind)
    require_feature(space, Feature.CUSTOM_EMAILS)
    deleted, _ = EmailTemplate.objects.filter(space=space, kind=kind).delete()
    if deleted:
        audit_log(
            space=space, actor=actor, action="email_template.reset", label=spec_for(kind).label
        )


@transaction.atomic
def email_test_send(
    *, actor: User, space: Space, kind: str, subject: str, body: str
) -> OutboundEmail | None:
    """Send ``actor`` the email as it would look, filled with sample values."""
    require_feature(space, Feature.CUSTOM_EMAILS)
    values = sample_values(space, kind, user=actor)
    subject, text, html = render_authored(
        space=space, kind=kind, subject=subject, body=body, values=values
    )
    return queue_rendered_email(
        to=actor.email,
        subject=f"[Test] {subject}",
        text=text,
        html=html,
        kind=f"test_{kind}",
        space=space,
    )


@transaction.atomic
def landing_page_save(
    *,
    actor: User,
    space: Space,
    enabled: bool,
    heading: str,
    text: str,
    hero: ContentFile | None = None,
    remove_hero: bool = False,
) -> LandingPage:
    """Save the landing page; a new ``hero`` replaces the old one, ``remove_hero`` drops it."""
    require_feature(space, Feature.LANDING_PAGE)
    LandingPage.objects.get_or_create(space=space)
    page = LandingPage.objects.select_for_update().get(space=space)
    page.enabled, page.heading, page.text = enabled, heading, text
    old_name = page.hero.name
    if hero is not None:
        page.hero.save(hero.name, hero, save=False)
        _delete_file_after_commit(old_name)
    elif remove_hero:
        page.hero = ""
        _delete_file_after_commit(old_name)
    page.save()
    audit_log(
        space=space,
        actor=actor,
        action="landing_page.save",
        obj=page,
        label="Landing page",
        changes={"enabled": enabled, "heading": heading},
    )
    return page


# ---- Plan trials -------------------------------------------------------------------------------


class TrialRefused(Exception):
    """A trial that cannot start (already used, not a higher plan): the message says why."""


@transaction.atomic
def trial_start(*, access: Access, space: Space, plan_code: str) -> Space:
    """Start the space's one trial of a higher plan: its features unlock at once for
    TRIAL_DAYS. Only those who manage the space's settings may; the space row is locked so two
    clicks start one trial."""
    from orgs.models import Plan
    from orgs.models import Space as SpaceModel

    access.require(Perm.MANAGE_SETTINGS)
    locked = SpaceModel.objects.select_for_update().get(pk=space.pk)
    if locked.trial_started_at is not None:
        raise TrialRefused(
            f"{locked.name} has already had its trial "
            f"(of the {locked.trial_plan.name if locked.trial_plan else ''} plan); "
            "a space can try a plan once."
        )
    plan = Plan.objects.filter(code=plan_code).first()
    own = space_plan(locked)
    if plan is None or plan.position <= own.position:
        raise TrialRefused(f"Only a plan above {own.name} can be tried.")
    now = timezone.now()
    locked.trial_plan = plan
    locked.trial_started_at = now
    locked.trial_ends_at = now + timedelta(days=TRIAL_DAYS)
    locked.save(update_fields=["trial_plan", "trial_started_at", "trial_ends_at"])
    audit_log(
        space=locked,
        actor=access.user,
        action="plan.trial_start",
        obj=plan,
        label=f"{plan.name} plan, {TRIAL_DAYS}-day trial",
        changes={"plan": plan.code, "ends_at": locked.trial_ends_at.isoformat()},
    )
    # The caller's instance shows the trial at once (its cached plan is dropped).
    for field in ("trial_plan", "trial_started_at", "trial_ends_at"):
        setattr(space, field, getattr(locked, field))
    space.__dict__.pop("_space_plan", None)
    return locked


TRIAL_REMINDER_DAYS = 3


def trials_tick(now: datetime | None = None) -> dict[str, int]:
    """Beat, hourly: record each ended trial in the audit log, and email a space's
    administrators TRIAL_REMINDER_DAYS before its trial ends. Each happens once per space:
    a conditional UPDATE claims the row (the stamp is null → now) before acting, in the same
    transaction, so overlapping runs do nothing twice."""
    from orgs.models import Space as SpaceModel

    now = now or timezone.now()
    ended = reminded = 0
    due = SpaceModel.objects.filter(
        trial_ends_at__lte=now, trial_end_recorded_at__isnull=True
    ).select_related("trial_plan")
    for space in due:
        with transaction.atomic():
            claimed = SpaceModel.objects.filter(
                pk=space.pk, trial_end_recorded_at__isnull=True
            ).update(trial_end_recorded_at=now)
            if claimed:
                audit_log(
                    space=space,
                    actor=None,
                    action="plan.trial_end",
                    obj=space.trial_plan,
                    label=f"{space.trial_plan.name} plan trial ended",
                    changes={"ended_at": space.trial_ends_at.isoformat()},
                )
                ended += 1
    soon = SpaceModel.objects.filter(
        trial_ends_at__gt=now,
        trial_ends_at__lte=now + timedelta(days=TRIAL_REMINDER_DAYS),
        trial_reminded_at__isnull=True,
    ).select_related("trial_plan")
    for space in soon:
        with transaction.atomic():
            claimed = SpaceModel.objects.filter(pk=space.pk, trial_reminded_at__isnull=True).update(
                trial_reminded_at=now
            )
            if claimed:
                _trial_reminder(space)
                reminded += 1
    return {"ended": ended, "reminded": reminded}


def _trial_reminder(space: Space) -> None:
    from django.conf import settings
    from django.urls import reverse

    from users.models import Membership

    features = [FEATURE_LABELS[f] for f in Feature if f in (space.trial_plan.features or ())]
    context = {
        "space_name": space.name,
        "plan_name": space.trial_plan.name,
        "ends_at": space.trial_ends_at,
        "features": features,
        "plans_url": settings.SITE_URL + reverse("branding:plan", args=[space.slug]),
    }
    for address in _settings_managers(space, Membership):
        queue_email(
            to=address,
            template="trial_ending",
            context=context,
            space=space,
            dedupe_key=f"trial-ending:{space.pk}:{address.lower()}",
        )


def _settings_managers(space: Space, membership_model) -> list[str]:
    """The addresses of those who manage the space's settings (a space-wide permission, held
    on the root)."""
    rows = membership_model.objects.filter(
        space=space, organisation__parent__isnull=True
    ).values_list("user__email", "role__permissions")
    return sorted({email for email, perms in rows if Perm.MANAGE_SETTINGS in (perms or ())})
