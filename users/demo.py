"""Demo data: a few people around the demo tree, with roles, so the Users area has something
to list, filter and act on. Idempotent: people are found by email before being created."""

from badgeplatform.access import Access
from badgeplatform.permissions import USER_ROLE
from orgs.models import Group, Organisation
from users.memberships import member_join_space
from users.models import Member, Role, User
from users.places import Place
from users.services import user_create_unverified, user_set_password_and_verify

DEMO_PASSWORD = "demo-people-2026"  # noqa: S105 - a published demo login for local use

# (first, last, email, external id, place kind, place name, role)
PEOPLE = [
    (
        "Omar",
        "Okafor",
        "omar@demo.example",
        "EMP-101",
        "org",
        "Faculty of Engineering",
        "Organisation Administrator",
    ),
    (
        "Greta",
        "Gruber",
        "greta@demo.example",
        "EMP-102",
        "group",
        "Cohort 2026",
        "Group Administrator",
    ),
    ("Ravi", "Rao", "ravi@demo.example", "EMP-103", "org", "Computer Science", "Reporter"),
    ("Lena", "Lund", "lena@demo.example", "STU-2001", "group", "Cohort 2026", USER_ROLE),
    ("Tomás", "Torres", "tomas@demo.example", "STU-2002", "group", "Cohort 2026", USER_ROLE),
    ("Aiko", "Abe", "aiko@demo.example", "STU-2003", "group", "Robotics Club", USER_ROLE),
    ("Chloé", "Caron", "chloe@demo.example", "STU-2004", "org", "History", USER_ROLE),
    ("Ben", "Brandt", "ben@demo.example", "STU-2005", "group", "Evening Class A", USER_ROLE),
]


def seed(*, space, admin, stdout) -> None:
    for first, last, email, external_id, kind, place_name, role_name in PEOPLE:
        if kind == "org":
            org = Organisation.objects.filter(space=space, name=place_name).first()
            place = Place(organisation=org) if org else None
        else:
            group = Group.objects.filter(space=space, name=place_name).first()
            place = Place(group=group) if group else None
        if place is None:
            continue
        user = User.objects.get_by_email(email)
        if user is None:
            user = user_create_unverified(email=email, first_name=first, last_name=last)
            user_set_password_and_verify(user=user, password=DEMO_PASSWORD)
        if not Member.objects.filter(space=space, user=user).exists():
            member_join_space(
                access=Access.system(space),
                space=space,
                user=user,
                places=[(place, Role.objects.get(space=space, name=role_name))],
                external_id=external_id,
            )
    stdout.write(
        f"  people: {Member.objects.filter(space=space).count()} "
        f"(demo logins use the password {DEMO_PASSWORD})"
    )
