"""Badge authoring: drafts, publishing, withdrawing, and the graphics library.

Every change goes through here (views, the API, demo data and commands call the same
functions) and writes the badge's history (BadgeEvent) in the same transaction. Issuing lives
in badges.issuing; awards keep snapshots, so nothing here ever changes an award.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image

from badgeplatform.audit import audit_log
from badgeplatform.permissions import Perm
from badgeplatform.webhook_events import webhooks_emit
from badges.achievements import achievement_fields_check
from badges.designer import Design, render_badge
from badges.models import Badge, BadgeAttribute, BadgeEvent, Graphic

if TYPE_CHECKING:
    from badgeplatform.access import Access
    from issuers.models import Issuer
    from orgs.models import Organisation, Space
    from users.models import User

# The Open Badges 3.0 Achievement fields (the editor's Standards tab).
ACHIEVEMENT_FIELDS = (
    "achievement_type",
    "alignments",
    "tags",
    "credits_available",
    "field_of_study",
    "human_code",
    "result_descriptions",
)
# What a person edits; everything else (state, ids, timestamps) is the services' business.
EDITABLE_FIELDS = (
    "name",
    "description",
    "language",
    "organisation",
    "issuer",
    "graphic",
    "criteria_url",
    "criteria_text",
    "expiry_amount",
    "expiry_unit",
    "status_emails",
    "expiry_emails",
    "expiry_reminder_days",
    "certificate_design",
    *ACHIEVEMENT_FIELDS,
)
FIELD_LABELS = {
    "name": "name",
    "description": "description",
    "language": "language",
    "organisation": "organisation",
    "issuer": "issuer",
    "graphic": "graphic",
    "criteria_url": "criteria URL",
    "criteria_text": "criteria text",
    "expiry_amount": "expiry",
    "expiry_unit": "expiry",
    "status_emails": "status-change emails",
    "expiry_emails": "expiry emails",
    "expiry_reminder_days": "expiry reminders",
    "certificate_design": "certificate design",
    "attributes": "attributes",
    "achievement_type": "achievement type",
    "alignments": "alignments",
    "tags": "tags",
    "credits_available": "credits",
    "field_of_study": "field of study",
    "human_code": "code",
    "result_descriptions": "result descriptions",
}

Attributes = Sequence[tuple[str, str]]
# Settings of the badge that are not part of the OB 3.0 achievement: no new revision.
NOT_ACHIEVEMENT = {"certificate_design", "expiry_emails", "expiry_reminder_days"}
AUDIT_ACTIONS = {
    BadgeEvent.Action.CREATED: "create",
    BadgeEvent.Action.EDITED: "update",
    BadgeEvent.Action.PUBLISHED: "publish",
    BadgeEvent.Action.WITHDRAWN: "withdraw",
}


class BadgeIncomplete(ValidationError):
    """The badge lacks what publication needs; ``missing`` names it for people."""

    def __init__(self, missing: list[str], *, published: bool = False):
        self.missing = missing
        what = ", ".join(missing)
        if published:
            message = f"A published badge must stay complete. It would lack {what}."
        else:
            message = f"This badge cannot be published yet. It still needs {what}."
        super().__init__(message, code="incomplete")


class BadgeStateError(ValidationError):
    """The action does not fit the badge's state (publishing a published badge, …)."""


class GraphicInUse(ValidationError):
    def __init__(self, graphic: Graphic, badge_names: list[str]):
        self.badge_names = badge_names
        listed = ", ".join(f"“{n}”" for n in badge_names[:10])
        more = f" and {len(badge_names) - 10} more" if len(badge_names) > 10 else ""
        super().__init__(
            f"“{graphic.name}” is used by {listed}{more}. Give "
            f"{'that badge' if len(badge_names) == 1 else 'those badges'} another graphic "
            "first, then remove it from the library.",
            code="in_use",
        )


def _check_same_space(space_id: int, fields: dict[str, Any]) -> None:
    """Defence in depth: forms only offer the space's objects; the service insists."""
    for key in ("organisation", "issuer", "graphic"):
        obj = fields.get(key)
        if obj is not None and obj.space_id != space_id:
            raise ValueError(f"The {key} belongs to another space")


def _clean_attributes(attributes: Attributes) -> list[tuple[str, str]]:
    return [(k.strip(), v.strip()) for k, v in attributes if k.strip()]


def _event(badge: Badge, action: str, actor: User | None, note: str = "") -> BadgeEvent:
    """The badge's own history, and the space's audit log, in the change's transaction."""
    audit_log(
        space=badge.space,
        actor=actor,
        action=f"badge.{AUDIT_ACTIONS[action]}",
        obj=badge,
        changes={"note": note} if note else None,
    )
    return BadgeEvent.objects.create(
        space_id=badge.space_id, badge=badge, action=action, actor=actor, note=note[:300]
    )


@transaction.atomic
def badge_create(
    *,
    access: Access,
    space: Space,
    organisation: Organisation,
    actor: User | None,
    name: str = "",
    description: str = "",
    language: str = "",
    issuer: Issuer | None = None,
    graphic: Graphic | None = None,
    criteria_url: str = "",
    criteria_text: str = "",
    expiry_amount: int | None = None,
    expiry_unit: str = "",
    status_emails: bool = True,
    expiry_emails: bool = True,
    expiry_reminder_days: str = "30,7",
    attributes: Attributes = (),
    **achievement: Any,
) -> Badge:
    """A new draft. Nothing is required but its organisation: drafts are saved as often as
    wanted; publishing is what needs a complete badge. ``achievement``: any of
    ACHIEVEMENT_FIELDS."""
    unknown = set(achievement) - set(ACHIEVEMENT_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    achievement_fields_check(achievement)
    fields = {
        **achievement,
        "organisation": organisation,
        "name": name,
        "description": description,
        "language": language,
        "issuer": issuer,
        "graphic": graphic,
        "criteria_url": criteria_url,
        "criteria_text": criteria_text,
        "expiry_amount": expiry_amount if expiry_unit else None,
        "expiry_unit": expiry_unit if expiry_amount else "",
        "status_emails": status_emails,
        "expiry_emails": expiry_emails,
        "expiry_reminder_days": expiry_reminder_days,
    }
    _check_same_space(space.pk, fields)
    access.require(Perm.CREATE_BADGES, organisation=organisation)
    badge = Badge.objects.create(space=space, state=Badge.State.DRAFT, created_by=actor, **fields)
    rows = _clean_attributes(attributes)
    BadgeAttribute.objects.bulk_create(
        BadgeAttribute(space=space, badge=badge, key=k, value=v, position=i)
        for i, (k, v) in enumerate(rows)
    )
    _event(badge, BadgeEvent.Action.CREATED, actor)
    return badge


@transaction.atomic
def badge_update(
    *,
    access: Access,
    badge: Badge,
    actor: User | None,
    attributes: Attributes | None = None,
    **changes: Any,
) -> Badge:
    """Change some of the badge's fields (and/or replace its attributes).

    A published badge may be edited (later awards carry the change; earlier ones keep their
    snapshot) but must stay complete: an edit that would leave it incomplete is refused with
    BadgeIncomplete and nothing is written. Saving without a change writes no history.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    _check_same_space(badge.space_id, changes)
    achievement_fields_check(changes)
    # Lock the row: a concurrent publish or withdrawal is seen, and edits don't interleave.
    locked = Badge.objects.select_for_update().select_related("organisation").get(pk=badge.pk)
    _require_edit(access, locked, changes.get("organisation"))
    if "expiry_amount" in changes or "expiry_unit" in changes:
        amount = changes.get("expiry_amount", locked.expiry_amount)
        unit = changes.get("expiry_unit", locked.expiry_unit)
        changes["expiry_amount"], changes["expiry_unit"] = (
            (amount, unit) if amount and unit else (None, "")
        )

    changed = []
    for key, value in changes.items():
        attname = f"{key}_id" if key in ("organisation", "issuer", "graphic") else key
        new = value.pk if attname.endswith("_id") and value is not None else value
        if getattr(locked, attname) != new:
            setattr(locked, key, value)
            changed.append(key)

    new_rows = None
    if attributes is not None:
        new_rows = _clean_attributes(attributes)
        old_rows = list(locked.attributes.values_list("key", "value"))
        if new_rows != [tuple(r) for r in old_rows]:
            changed.append("attributes")
        else:
            new_rows = None

    if not changed:
        badge.refresh_from_db()
        return badge
    if locked.state == Badge.State.PUBLISHED:
        missing = locked.missing_for_publication()
        if missing:
            raise BadgeIncomplete(missing, published=True)
    # A new version of the same achievement: OB 3.0 keeps its id and carries this number.
    # (The certificate's look is not part of the achievement.)
    if set(changed) - NOT_ACHIEVEMENT:
        locked.revision += 1
    locked.save()
    if new_rows is not None:
        locked.attributes.all().delete()
        BadgeAttribute.objects.bulk_create(
            BadgeAttribute(space_id=locked.space_id, badge=locked, key=k, value=v, position=i)
            for i, (k, v) in enumerate(new_rows)
        )
    labels = list(dict.fromkeys(FIELD_LABELS[c] for c in changed))
    _event(locked, BadgeEvent.Action.EDITED, actor, "Changed " + ", ".join(labels))
    badge.refresh_from_db()
    return badge


def _require_edit(access: Access, badge: Badge, moving_to: Organisation | None) -> None:
    """Editing needs "create badges" on the badge's organisation (and on the one it moves to);
    a published badge's change is live, so it needs "publish badges" there too."""
    published = badge.state == Badge.State.PUBLISHED
    for organisation in filter(None, (badge.organisation, moving_to)):
        access.require(Perm.CREATE_BADGES, organisation=organisation)
        if published:
            access.require(Perm.PUBLISH_BADGES, organisation=organisation)


@transaction.atomic
def badge_publish(*, access: Access, badge: Badge, actor: User | None) -> Badge:
    """Draft or withdrawn → published. Refuses an incomplete badge (BadgeIncomplete says what
    is missing) and a badge that is already published."""
    locked = (
        Badge.objects.select_for_update(of=("self",))
        .select_related("organisation", "space")
        .get(pk=badge.pk)
    )
    access.require(Perm.PUBLISH_BADGES, organisation=locked.organisation)
    if locked.state == Badge.State.PUBLISHED:
        raise BadgeStateError("This badge is already published.", code="published")
    missing = locked.missing_for_publication()
    if missing:
        raise BadgeIncomplete(missing)
    again = locked.state == Badge.State.WITHDRAWN
    locked.state = Badge.State.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["state", "published_at", "updated_at"])
    _event(locked, BadgeEvent.Action.PUBLISHED, actor, "Published again" if again else "")
    webhooks_emit(locked.space, "badge.published", [locked])
    badge.refresh_from_db()
    return badge


@transaction.atomic
def badge_withdraw(*, access: Access, badge: Badge, actor: User | None, note: str = "") -> Badge:
    """Published → withdrawn: no further issuing. Awards already made stay valid."""
    locked = (
        Badge.objects.select_for_update(of=("self",))
        .select_related("organisation", "space")
        .get(pk=badge.pk)
    )
    access.require(Perm.PUBLISH_BADGES, organisation=locked.organisation)
    if locked.state != Badge.State.PUBLISHED:
        raise BadgeStateError("Only a published badge can be withdrawn.", code="not_published")
    locked.state = Badge.State.WITHDRAWN
    locked.save(update_fields=["state", "updated_at"])
    _event(locked, BadgeEvent.Action.WITHDRAWN, actor, note.strip())
    webhooks_emit(locked.space, "badge.withdrawn", [locked])
    badge.refresh_from_db()
    return badge


# ---- Graphics -------------------------------------------------------------------------------


def _png_size(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as img:
        return img.size


def _random_png_name() -> str:
    return f"{secrets.token_hex(16)}.png"


@transaction.atomic
def graphic_upload(*, space: Space, actor: User | None, name: str, image: File) -> Graphic:
    """Add an uploaded graphic. ``image`` must be what badgeplatform.images.process_image
    returned (verified, re-encoded PNG, random name): forms run the pipeline so its refusal is
    shown beside the field."""
    content = image.read()
    width, height = _png_size(content)
    graphic = Graphic(
        space=space,
        name=name,
        source=Graphic.Source.UPLOAD,
        width=width,
        height=height,
        created_by=actor,
    )
    graphic.image.save(_random_png_name(), ContentFile(content), save=False)
    graphic.save()
    audit_log(space=space, actor=actor, action="graphic.upload", obj=graphic)
    return graphic


# Saved designs are drawn at 600 × 600: crisp on retina screens at the 300 px they are shown
# at, and what the "at least 600 × 600" asks for.
DESIGN_SIZE = 600
ICON_DIR = "graphics/icons/"


def design_icon_bytes(design: dict | None) -> bytes | None:
    """The stored icon of a saved design (to start a new design from it), if it has one."""
    path = (design or {}).get("icon")
    if not path or not isinstance(path, str) or not path.startswith(ICON_DIR):
        return None
    try:
        with default_storage.open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


@transaction.atomic
def graphic_design(
    *,
    space: Space,
    actor: User | None,
    name: str,
    design: Design,
    icon_path: str | None = None,
    based_on: Graphic | None = None,
) -> Graphic:
    """Draw ``design`` with the designer and add it to the library, keeping the choices.

    ``design.icon_png`` (already through the image pipeline) is stored once under a random
    name; ``icon_path`` instead reuses the icon file of the design this one started from.
    """
    png = render_badge(design, size=DESIGN_SIZE)
    if design.icon_png is not None and icon_path is None:
        icon_path = default_storage.save(
            f"{ICON_DIR}{_random_png_name()}", ContentFile(design.icon_png)
        )
    graphic = Graphic(
        space=space,
        name=name,
        source=Graphic.Source.DESIGNER,
        design={
            "shape": design.shape,
            "background": design.background,
            "border": design.border,
            "text_color": design.text_color,
            "line1": design.line1,
            "line2": design.line2,
            "icon": icon_path if design.icon_png is not None else None,
            "based_on": str(based_on.public_id) if based_on is not None else None,
        },
        width=DESIGN_SIZE,
        height=DESIGN_SIZE,
        created_by=actor,
    )
    graphic.image.save(_random_png_name(), ContentFile(png), save=False)
    graphic.save()
    audit_log(space=space, actor=actor, action="graphic.design", obj=graphic)
    return graphic


@transaction.atomic
def graphic_archive(*, graphic: Graphic, actor: User | None) -> Graphic:
    """Take a graphic out of the library. Refused while a badge uses it (GraphicInUse names
    them). The file stays: awards issued with it keep pointing at it."""
    locked = Graphic.objects.select_for_update().get(pk=graphic.pk)
    users = list(locked.badges.order_by("name").values_list("name", flat=True))
    if users:
        raise GraphicInUse(locked, [n or "Untitled badge" for n in users])
    if locked.archived_at is None:
        locked.archived_at = timezone.now()
        locked.save(update_fields=["archived_at"])
        audit_log(space=locked.space, actor=actor, action="graphic.archive", obj=locked)
    graphic.refresh_from_db()
    return graphic
