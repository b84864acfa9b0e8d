"""Demo data: a small organisation tree with groups."""

from orgs.models import Group, Organisation

TREE = {
    "Faculty of Engineering": {"Computer Science": {}, "Mechanical Engineering": {}},
    "Faculty of Arts": {"History": {}, "Languages": {}},
    "Continuing Education": {},
}
GROUPS = {
    "Computer Science": ["Cohort 2026", "Robotics Club"],
    "Continuing Education": ["Evening Class A"],
}


def _ensure(space, parent, name):
    org = Organisation.objects.filter(space=space, parent=parent, name=name).first()
    return org or Organisation.objects.create(space=space, parent=parent, name=name)


def seed(*, space, admin, stdout) -> None:
    root = space.root_organisation

    def walk(parent, children):
        for name, grandchildren in children.items():
            org = _ensure(space, parent, name)
            for group_name in GROUPS.get(name, []):
                Group.objects.get_or_create(space=space, organisation=org, name=group_name)
            walk(org, grandchildren)

    walk(root, TREE)
    stdout.write(f"  organisations: {Organisation.objects.filter(space=space).count()}")
