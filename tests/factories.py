"""factory_boy factories. Related objects share one space: pass ``space=`` and it flows down."""

import factory
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.permissions import SPACE_ADMINISTRATOR, USER_ROLE
from orgs.models import Group, Organisation, Space
from users.models import Member, Membership, Role, User
from users.services import space_create

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password(PASSWORD)


def make_space(name: str = "Acme", slug: str | None = None, admin: User | None = None) -> Space:
    """A space exactly as registration makes it: root organisation, default roles, an admin."""
    admin = admin or UserFactory()
    n = Space.objects.count() + 1
    return space_create(name=name, slug=slug or f"space-{n}", admin=admin)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    space = factory.LazyFunction(make_space)
    parent = factory.LazyAttribute(lambda o: o.space.root_organisation)
    name = factory.Sequence(lambda n: f"Department {n}")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    space = factory.LazyFunction(make_space)
    organisation = factory.LazyAttribute(lambda o: o.space.root_organisation)
    name = factory.Sequence(lambda n: f"Cohort {n}")


def role(space: Space, name: str) -> Role:
    return Role.objects.get(space=space, name=name)


def add_member(
    space: Space,
    user: User | None = None,
    *,
    role_name: str = USER_ROLE,
    organisation: Organisation | None = None,
    group: Group | None = None,
) -> User:
    """Put ``user`` (or a new one) into ``space`` with ``role_name`` on a node (default: root)."""
    user = user or UserFactory()
    Member.objects.get_or_create(space=space, user=user)
    if group is None and organisation is None:
        organisation = space.root_organisation
    Membership.objects.create(
        space=space, user=user, organisation=organisation, group=group, role=role(space, role_name)
    )
    return user


def space_admin(space: Space) -> User:
    return Membership.objects.filter(space=space, role__name=SPACE_ADMINISTRATOR).first().user


# ---- Issuers, graphics, badges, awards ----------------------------------------------------


def png_bytes(size: int = 64, colour: str = "#2f6fde") -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (size, size), colour).save(buf, "PNG")
    return buf.getvalue()


def make_issuer(space: Space, organisation: Organisation | None = None, **profile):
    from issuers.services import issuer_create

    defaults = {
        "name": "Acme Learning",
        "website": "https://acme.example",
        "email": "badges@acme.example",
        "description": "Issues Acme's badges.",
    }
    return issuer_create(
        access=Access.system(space),
        space=space,
        organisation=organisation or space.root_organisation,
        actor=None,
        **{**defaults, **profile},
    )


def make_graphic(space: Space, name: str = "Blue circle"):
    from django.core.files.base import ContentFile

    from badges.models import Graphic

    graphic = Graphic(space=space, name=name, source=Graphic.Source.UPLOAD, width=64, height=64)
    graphic.image.save(
        f"{factory.Faker('uuid4').evaluate(None, None, {'locale': None})}.png",
        ContentFile(png_bytes()),
        save=False,
    )
    graphic.save()
    return graphic


def make_badge(
    space: Space,
    *,
    organisation: Organisation | None = None,
    state: str = "published",
    name: str = "Python Fundamentals",
    **fields,
):
    from badges.models import Badge

    organisation = organisation or space.root_organisation
    defaults = {
        "description": "Can write and test small Python programs.",
        "language": "en",
        "criteria_text": "Pass the final assessment.",
    }
    if "issuer" not in fields:
        fields["issuer"] = make_issuer(space, organisation)
    if "graphic" not in fields:
        fields["graphic"] = make_graphic(space)
    badge = Badge.objects.create(
        space=space,
        organisation=organisation,
        name=name,
        state=state,
        published_at=timezone.now() if state == "published" else None,
        **{**defaults, **fields},
    )
    return badge


# ---- Open Badges output (issue 5): awards made through the one issuing service ----------


def make_award(space: Space, *, badge=None, recipient: User | None = None, **badge_fields):
    """One award of ``badge`` (a new published badge by default) to ``recipient`` (a new member
    by default), made by ``awards_issue`` exactly as the app makes them."""
    from datetime import timedelta

    from badges.issuing import RecipientInput, awards_issue

    badge = badge or make_badge(space, **badge_fields)
    recipient = recipient or add_member(space)
    _, outcomes = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        recipients=[RecipientInput(user=recipient)],
        achieved_at=timezone.now().replace(microsecond=0) - timedelta(days=2),
        notify=False,
    )
    assert outcomes[0].status == "awarded", outcomes[0].errors
    return outcomes[0].award


def revoke_award(award, reason: str = "Awarded by mistake.", actor: User | None = None):
    """Revoke through the one revoke service; its on-commit refresh of the public JSON runs
    here as a real commit would (tests run inside a transaction)."""
    from django.test import TestCase

    from badges.awards import award_revoke

    with TestCase.captureOnCommitCallbacks(execute=True):
        award_revoke(access=Access.system(award.space), award=award, actor=actor, reason=reason)
    award.refresh_from_db()
    return award


# ---- Branding and plans -------------------------------------------------------------------


def ensure_plans() -> None:
    """The plans as the data migration seeds them (transactional tests flush that data)."""
    from branding.plans import PLANS
    from orgs.models import Plan

    for spec in PLANS:
        Plan.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "features": sorted(spec.features),
                "position": spec.position,
            },
        )


def put_on_plan(space: Space, code: str) -> Space:
    """Move ``space`` to the plan with ``code`` ("free", "standard", "white-label")."""
    from orgs.models import Plan

    ensure_plans()
    space.plan = Plan.objects.get(code=code)
    space.save(update_fields=["plan"])
    space.__dict__.pop("_space_plan", None)
    return space


# ---- Organisations, groups, users and roles (issue 3) ----------------------------------------


class RoleFactory(factory.django.DjangoModelFactory):
    """A custom (non-default) role."""

    class Meta:
        model = Role

    space = factory.LazyFunction(make_space)
    name = factory.Sequence(lambda n: f"Custom role {n}")
    permissions = factory.LazyFunction(lambda: ["view_reports"])
    is_default = False


def member_of(space: Space, user: User) -> Member:
    return Member.objects.get(space=space, user=user)


def build_tree(space: Space) -> dict[str, Organisation | Group]:
    """root → faculty (Engineering) → dept (Computing) → team (AI Lab), a sibling faculty
    (Arts), a group in the department and one in the sibling. Reloaded, since MPTT shifts
    lft/rght in the database as nodes are added."""
    faculty = OrganisationFactory(space=space, name="Engineering")
    dept = OrganisationFactory(space=space, parent=faculty, name="Computing")
    team = OrganisationFactory(space=space, parent=dept, name="AI Lab")
    sibling = OrganisationFactory(space=space, name="Arts")
    nodes = {
        "root": space.root_organisation,
        "faculty": faculty,
        "dept": dept,
        "team": team,
        "sibling": sibling,
    }
    for node in nodes.values():
        node.refresh_from_db()
    nodes["dept_group"] = GroupFactory(space=space, organisation=dept, name="Cohort 2026")
    nodes["sibling_group"] = GroupFactory(space=space, organisation=sibling, name="Choir")
    return nodes


# ---- Badge authoring (issue 4) ----------------------------------------------------------


def make_role(space: Space, name: str, perms) -> Role:
    """A custom role with exactly ``perms`` (e.g. create badges without publishing them)."""
    return Role.objects.create(space=space, name=name, permissions=sorted(str(p) for p in perms))


def add_with_perms(space: Space, perms, *, organisation: Organisation | None = None, **user):
    """A new member holding a custom role with ``perms`` on ``organisation`` (default: root)."""
    name = "Custom " + "+".join(sorted(str(p) for p in perms)) or "Custom none"
    role_obj = Role.objects.filter(space=space, name=name).first() or make_role(space, name, perms)
    person = UserFactory(**user)
    Member.objects.get_or_create(space=space, user=person)
    Membership.objects.create(
        space=space,
        user=person,
        organisation=organisation or space.root_organisation,
        role=role_obj,
    )
    return person


# ---- Reporting: awards at chosen moments ---------------------------------------------------


def make_award_at(badge, recipient: User, issued_at, *, organisation=None, revoked_at=None):
    """An award of ``badge`` issued at ``issued_at`` (any past moment), counted under
    ``organisation`` (default: the badge's). Written directly, in its own one-award batch, so
    report tests can place awards exactly on period and time-zone edges."""
    from badges.models import Award, IssueBatch

    batch = IssueBatch.objects.create(
        space=badge.space,
        badge=badge,
        source=IssueBatch.Source.API,
        status=IssueBatch.Status.DONE,
        issued_at=issued_at,
        total=1,
        processed=1,
        issued=1,
    )
    return Award.objects.create(
        space=badge.space,
        badge=badge,
        batch=batch,
        recipient=recipient,
        organisation=organisation or badge.organisation,
        issuer_version=badge.issuer.current,
        source=IssueBatch.Source.API,
        achieved_at=issued_at,
        issued_at=issued_at,
        badge_snapshot={"name": badge.name},
        recipient_email=recipient.email,
        identity_salt="0" * 32,
        revoked_at=revoked_at,
    )


# ---- API keys and rules -------------------------------------------------------------------


def make_api_key(space: Space, *, organisation: Organisation | None = None, name: str = "LMS"):
    """An ApiKey (the token is discarded; use api.services.apikey_create to keep it)."""
    from api.services import apikey_create

    return apikey_create(space=space, name=name, organisation=organisation).key


def make_rule(
    space: Space,
    *,
    badge=None,
    organisation: Organisation | None = None,
    activity_id: str | None = None,
    threshold: int = 3,
    window_days: int | None = None,
    active: bool = True,
    name: str = "Attend workshops",
):
    from badges.models import Rule

    organisation = organisation or space.root_organisation
    badge = badge or make_badge(space, organisation=organisation)
    n = Rule.objects.count() + 1
    return Rule.objects.create(
        space=space,
        organisation=organisation,
        name=name,
        activity_id=activity_id or f"activity-{n}",
        badge=badge,
        threshold=threshold,
        window_days=window_days,
        active=active,
    )


def make_webhook(
    space: Space,
    *,
    url: str = "https://hooks.example.com/badges",
    events: tuple[str, ...] = ("award.issued", "award.revoked"),
    secret: str | None = None,
):
    """A webhook endpoint, made without resolving its URL (no DNS in tests that don't ask).
    Its secret is ``endpoint.test_secret``."""
    from webhooks.models import Endpoint
    from webhooks.secrets import new_secret, seal

    secret = secret or new_secret()
    endpoint = Endpoint(space=space, url=url, events=list(events))
    endpoint.secret_encrypted = seal(secret, str(endpoint.public_id))
    endpoint.save()
    endpoint.test_secret = secret
    return endpoint


def make_webhook_message(space: Space, *, endpoint=None, type: str = "award.issued"):  # noqa: A002
    import uuid

    from django.utils import timezone

    from webhooks.emit import body
    from webhooks.models import Message

    endpoint = endpoint or make_webhook(space)
    return Message.objects.create(
        endpoint=endpoint,
        event_id=f"msg_{uuid.uuid4().hex}",
        type=type,
        body=body(type, {"Test": True}),
        created_at=timezone.now(),
    )


def make_idp(space: Space, *, kind: str = "oidc", name: str = "Campus login", **fields):
    """A space's identity provider, saved as-is (no discovery or metadata fetch)."""
    from sso.models import IdentityProvider
    from sso.secrets import seal

    idp = IdentityProvider(space=space, kind=kind, name=name, **fields)
    if kind == "oidc":
        idp.issuer_url = idp.issuer_url or "https://idp.example.com"
        idp.client_id = idp.client_id or "badges"
    else:
        idp.idp_entity_id = idp.idp_entity_id or "https://idp.example.com/saml"
        idp.idp_sso_url = idp.idp_sso_url or "https://idp.example.com/saml/sso"
        idp.idp_x509cert = idp.idp_x509cert or self_signed_cert()[0]
    idp.save()
    if kind == "oidc" and not idp.client_secret_encrypted:
        idp.client_secret_encrypted = seal("s3cret", idp.provider_id)
        idp.save(update_fields=["client_secret_encrypted"])
    return idp


_CERT: tuple[str, str] | None = None


def self_signed_cert() -> tuple[str, str]:
    """(certificate, private key), PEM without armour lines for the certificate: a test IdP's
    or SP's signing pair, made once per test process."""
    global _CERT
    if _CERT is None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test idp")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        body = "".join(line for line in pem.splitlines() if "-----" not in line)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        _CERT = (body, key_pem)
    return _CERT


# ---- Claim links and applications (issue 17) ---------------------------------------------------


def make_claim_link(space: Space, *, badge=None, created_by: User | None = None, **fields):
    """A claim link made by ``created_by`` (the space's administrator by default) through the
    service, exactly as the issuer's page makes it."""
    from badgeplatform.access import load_access
    from badges.claims import claim_link_create

    badge = badge or make_badge(space)
    creator = created_by or space_admin(space)
    return claim_link_create(
        access=load_access(space, creator), badge=badge, actor=creator, **fields
    )


def make_application(space: Space, *, badge=None, applicant: User | None = None, **fields):
    """A submitted application (a signed-in, verified applicant) for a badge taking them."""
    from badges.applications import application_submit

    badge = badge or make_badge(space)
    if not badge.accepts_applications:
        badge.accepts_applications = True
        badge.save(update_fields=["accepts_applications"])
    applicant = applicant or add_member(space)
    return application_submit(
        badge=badge,
        user=applicant,
        statement=fields.pop("statement", "I built the course project."),
        **fields,
    )


def batch_rows(batch) -> list[dict]:
    """A browser batch's rows as the preview reads them (badges.batches.row_values), in
    order: for tests over small lists."""
    from badges.batches import row_values

    return [row_values(r) for r in batch.rows.order_by("position")]
