"""factory_boy factories. Related objects share one space: pass ``space=`` and it flows down."""

import factory
from django.utils import timezone

from badgeplatform.permissions import SPACE_ADMINISTRATOR, USER_ROLE
from orgs.models import Group, Organisation, Space
from orgs.services import space_create
from users.models import Member, Membership, Role, User

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
