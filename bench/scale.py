"""A realistic space at scale, for reports and their benchmark (``manage.py seed_scale``).
Benchmark data only: it lives in bench/, outside the product apps.

Defaults: ~200 organisations in a tree 4 levels deep, ~500 badges, 100,000 people and
1,000,000 awards spread over 3 years, with growth, term-time seasons and quiet weekends.

Speed comes from never saving rows one by one: the MPTT fields of the tree are computed here
(one depth-first walk) rather than by django-mptt per insert; people and memberships are
streamed into PostgreSQL with ``COPY … FROM STDIN`` in chunks; on PostgreSQL the awards and
their batches are made by the database itself from the plan computed here (``sql_awards``:
Python building ten million CSV rows was most of a 13-minute seed). Any other database gets
``bulk_create`` of rows made in Python — fine for the small runs the tests make. Primary keys
are allocated here so related rows can be written without reading ids back; the sequences
are reset after.

The shape of the data (tree, badges, times, recipients) is deterministic for a given
``seed``; public ids are random UUIDs as always.
"""

from __future__ import annotations

import bisect
import io
import json
import random
import time
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.permissions import USER_ROLE
from badges.models import Award, Badge, Graphic, IssueBatch
from issuers.models import Issuer, IssuerVersion
from orgs.models import Organisation, Space
from reporting import rollups
from users.memberships import member_join_space
from users.models import Member, Membership, Role, User
from users.places import Place
from users.services import space_create

AREAS = [
    "Arts", "Business", "Education", "Engineering", "Health Sciences", "Humanities", "Law",
    "Life Sciences", "Medicine", "Physical Sciences", "Social Sciences", "Technology",
]  # fmt: skip
SUBJECTS = [
    "Accounting", "Architecture", "Astronomy", "Biochemistry", "Biology", "Chemistry",
    "Civil Engineering", "Classics", "Computing", "Criminology", "Data Science", "Design",
    "Earth Sciences", "Economics", "Electronics", "English", "Finance", "Geography", "History",
    "Languages", "Linguistics", "Management", "Marketing", "Mathematics", "Mechanical Engineering",
    "Music", "Neuroscience", "Nursing", "Pharmacy", "Philosophy", "Physics", "Physiotherapy",
    "Politics", "Psychology", "Public Health", "Robotics", "Sociology", "Statistics", "Theatre",
    "Veterinary Science",
]  # fmt: skip
UNITS = ["Centre", "Department", "Group", "Institute", "Lab", "Programme", "Unit"]
SKILLS = [
    "Academic Writing", "Agile Delivery", "Bioethics", "Budgeting", "Clinical Practice",
    "Cloud Computing", "Coaching", "Communication", "Critical Thinking", "Cyber Security",
    "Data Analysis", "Data Visualisation", "Digital Literacy", "Entrepreneurship", "Ethics",
    "Field Research", "First Aid", "First Responder", "Health and Safety", "Inclusive Teaching",
    "Laboratory Safety", "Leadership", "Machine Learning", "Mentoring", "Negotiation",
    "Peer Review", "Presentation", "Project Management", "Public Speaking", "Python",
    "Quality Assurance", "Research Methods", "Statistics", "Sustainability", "Teamwork",
    "Technical Writing", "User Research", "Volunteering", "Web Accessibility", "Wellbeing",
]  # fmt: skip
LEVELS = ["Foundation", "Intermediate", "Advanced", "Expert", "Practitioner", "Champion"]
FIRST_NAMES = [
    "Aaliyah", "Adam", "Aisha", "Alex", "Amelia", "Ana", "Arjun", "Ben", "Carlos", "Chen",
    "Chloe", "Daniel", "Elena", "Emma", "Fatima", "Felix", "Grace", "Hana", "Harry", "Ibrahim",
    "Isla", "Jack", "Jamal", "Jia", "Jonas", "Kai", "Layla", "Leo", "Lucia", "Maya", "Mei",
    "Mohammed", "Nia", "Noah", "Olivia", "Omar", "Priya", "Rosa", "Ruth", "Sam", "Sofia",
    "Tariq", "Theo", "Yusuf", "Zara", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Adeyemi", "Ahmed", "Andersen", "Brown", "Campbell", "Chen", "Costa", "Davies", "Dubois",
    "Evans", "Fischer", "Garcia", "Hughes", "Ivanova", "Jones", "Kaur", "Khan", "Kim", "Kowalski",
    "Lopez", "Martin", "Müller", "Murphy", "Nakamura", "Nguyen", "O'Brien", "Okafor", "Patel",
    "Rossi", "Santos", "Schmidt", "Singh", "Smith", "Taylor", "Thomas", "Walker", "Williams",
    "Wilson", "Wright", "Yilmaz",
]  # fmt: skip
COLOURS = [
    "#2f6fde", "#157347", "#b42318", "#8a5a00", "#6941c6", "#0e7490", "#c11574", "#4d7c0f",
    "#1f2a44", "#d97706", "#0f766e", "#9333ea",
]  # fmt: skip

CHUNK = 100_000  # rows per COPY / bulk_create round trip


@dataclass
class ScaleOptions:
    slug: str = "scale"
    name: str = "Scale University"
    organisations: int = 200
    badges: int = 500
    users: int = 100_000
    awards: int = 1_000_000
    years: int = 3
    seed: int = 7
    admin_password: str = "scale-admin-2026"  # noqa: S105 - a published local/bench login
    revoked_share: float = 0.02


@dataclass
class ScaleResult:
    space: Space
    admin: User
    reporter: User
    timings: list[tuple[str, float]] = field(default_factory=list)


# ---- Row loading ----------------------------------------------------------------------------


def _csv_value(value, json_cache: dict[int, tuple[object, str]]) -> str:
    """One value in PostgreSQL's COPY CSV format (unquoted empty is NULL)."""
    if value is None:
        return ""
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        # The same snapshot dict serves every award of a badge: encode it once. The object is
        # kept in the cache too, so its id cannot be reused by another object meanwhile.
        cached = json_cache.get(id(value))
        if cached is None or cached[0] is not value:
            cached = json_cache[id(value)] = (value, _quote(json.dumps(value)))
        return cached[1]
    if isinstance(value, uuid.UUID):
        return value.hex
    return _quote(str(value))


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def load_rows(model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple]) -> int:
    """Write ``rows`` (tuples in ``attnames`` order, primary key included) into ``model``'s
    table: COPY on PostgreSQL, bulk_create elsewhere. Each chunk commits on its own so that
    PostgreSQL's queue of deferred foreign-key checks stays small."""
    n = 0
    if connection.vendor == "postgresql":
        columns = ", ".join(
            connection.ops.quote_name(model._meta.get_field(a).column) for a in attnames
        )
        sql = (
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
            "FROM STDIN WITH (FORMAT csv)"
        )
        json_cache: dict[int, tuple[object, str]] = {}
        for chunk in _chunks(rows, CHUNK):
            buf = io.StringIO()
            buf.writelines(",".join(_csv_value(v, json_cache) for v in row) + "\n" for row in chunk)
            buf.seek(0)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.cursor.copy_expert(sql, buf)
            n += len(chunk)
    else:
        for chunk in _chunks(rows, CHUNK):
            with transaction.atomic():
                model.objects.bulk_create(
                    [model(**dict(zip(attnames, row, strict=True))) for row in chunk],
                    batch_size=2000,
                )
            n += len(chunk)
    return n


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def reset_sequences(*model_list: type[models.Model]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@contextmanager
def bulk_load(model: type[models.Model], step: Callable[[str], None]) -> Iterator[None]:
    """Load a large table fast (PostgreSQL; a dedicated benchmark database): drop its secondary
    indexes and its unique and foreign-key constraints, and switch off its user triggers (the
    rollups), for the load; then build the indexes again (two connections at a time: CREATE
    INDEX only takes a SHARE lock, so builds on one table can run side by side; unique
    constraints are built as unique indexes and attached), validate the foreign keys, and count
    the rollups set-based. Restored whatever happens. Other databases: as is."""
    if connection.vendor != "postgresql":
        yield
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
            "AND i.indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        step(f"rows of {table} (no indexes, constraints or triggers)")
        uniques = [(n, d) for n, kind, d in constraints if kind == "u"]
        builds = [d for _, d in indexes] + [
            f'CREATE UNIQUE INDEX "{n}" ON {table} {d.removeprefix("UNIQUE ")}' for n, d in uniques
        ]
        _run_side_by_side(builds, workers=2)
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET work_mem = '256MB'")
            for name, _ in uniques:
                cursor.execute(
                    f'ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE USING INDEX "{name}"'
                )
            for name, kind, definition in constraints:
                if kind == "f":
                    cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("RESET maintenance_work_mem")
            cursor.execute("RESET work_mem")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        step(f"{len(indexes)} indexes and {len(constraints)} constraints built again")


def _run_side_by_side(statements: Sequence[str], workers: int) -> None:
    """Run ``statements`` on ``workers`` connections of their own (each thread gets one from
    Django), longest-looking first; the first error is raised."""
    import threading

    from django.db import connections

    pending = list(statements)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                cursor.execute("SET max_parallel_maintenance_workers = 1")
                while True:
                    with lock:
                        if not pending or errors:
                            return
                        sql = pending.pop(0)
                    cursor.execute(sql)
        except BaseException as exc:  # handed to the caller
            errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=work) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# ---- The tree -------------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    level: int
    children: list[Node] = field(default_factory=list)
    id: int = 0
    lft: int = 0
    rght: int = 0
    parent: Node | None = None


def level_sizes(total: int) -> tuple[int, int, int]:
    """How many organisations on levels 1-3 below the root, for ``total`` including it."""
    rest = max(0, total - 1)
    l1 = min(rest, max(1, round(rest ** (1 / 3) * 0.85)))
    l2 = min(rest - l1, l1 * l1)
    return l1, l2, rest - l1 - l2


def plan_tree(root_name: str, total: int, rng: random.Random) -> Node:
    """A tree of ``total`` nodes, 4 levels deep (root, faculties, schools, units)."""
    root = Node(root_name, 0)
    l1, l2, l3 = level_sizes(total)
    faculties = _named_children(root, l1, lambda i: f"Faculty of {_pick(AREAS, i)}")
    schools: list[Node] = []
    for i in range(l2):
        parent = faculties[i % len(faculties)]
        schools.append(_add(parent, f"School of {_pick(SUBJECTS, i)}"))
    parents = schools or faculties or [root]
    weights = [rng.uniform(0.3, 1.7) for _ in parents]
    for i in range(l3):
        parent = rng.choices(parents, weights)[0]
        _add(parent, f"{_pick(SUBJECTS, rng.randrange(10_000))} {_pick(UNITS, i)}")
    number_tree(root)
    return root


def _pick(pool: Sequence[str], i: int) -> str:
    return pool[i % len(pool)]


def _named_children(parent: Node, n: int, name: Callable[[int], str]) -> list[Node]:
    return [_add(parent, name(i)) for i in range(n)]


def _add(parent: Node, name: str) -> Node:
    """A child with a name unique among its siblings (a numeral is added on a clash)."""
    taken = {c.name.lower() for c in parent.children}
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name} {n}"
    node = Node(candidate, parent.level + 1, parent=parent)
    parent.children.append(node)
    return node


def number_tree(root: Node) -> None:
    """MPTT's lft/rght by one depth-first walk, children in name order (order_insertion_by)."""
    counter = 0

    def walk(node: Node) -> None:
        nonlocal counter
        counter += 1
        node.lft = counter
        node.children.sort(key=lambda c: c.name)
        for child in node.children:
            walk(child)
        counter += 1
        node.rght = counter

    walk(root)


def iter_nodes(root: Node) -> Iterator[Node]:
    yield root
    for child in root.children:
        yield from iter_nodes(child)


# ---- Time -----------------------------------------------------------------------------------


def day_weights(start: date, days: int, rng: random.Random) -> list[float]:
    """Relative activity per day: growth over the period, term-time peaks (Jun, Dec), quiet
    August and weekends, and some noise."""
    season = {1: 0.9, 2: 1.0, 3: 1.1, 4: 0.9, 5: 1.2, 6: 1.6, 7: 1.0, 8: 0.4, 9: 0.9, 10: 1.1}
    weights = []
    for i in range(days):
        d = start + timedelta(days=i)
        w = (0.6 + 0.8 * i / max(1, days - 1)) * season.get(d.month, 1.3)
        w *= 0.25 if d.weekday() >= 5 else 1.0
        weights.append(w * rng.uniform(0.8, 1.2))
    return weights


def award_times(n: int, start: date, days: int, tz: ZoneInfo, rng: random.Random) -> array:
    """``n`` issue times (epoch microseconds, strictly increasing) in local working hours."""
    weights = day_weights(start, days, rng)
    cum = list(_accumulate(weights))
    per_day = [0] * days
    total = cum[-1]
    for _ in range(n):
        per_day[bisect.bisect_right(cum, rng.random() * total)] += 1
    out = array("q")
    last = 0
    for i, count in enumerate(per_day):
        if not count:
            continue
        d = start + timedelta(days=i)
        opening = int(datetime(d.year, d.month, d.day, 7, tzinfo=tz).timestamp() * 1_000_000)
        span = 13 * 3600 * 1_000_000  # 07:00 to 20:00 local time
        for t in sorted(opening + rng.randrange(span) for _ in range(count)):
            last = max(t, last + 1)  # strictly increasing: unique achievement times
            out.append(last)
    return out


def _accumulate(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


def from_micros(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


# ---- Images ---------------------------------------------------------------------------------


def graphic_png(colour: str, text: str, shape: int) -> bytes:
    from PIL import Image, ImageDraw

    size = 128
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if shape == 0:
        draw.ellipse((4, 4, size - 4, size - 4), fill=colour)
    elif shape == 1:
        draw.rounded_rectangle((8, 8, size - 8, size - 8), radius=24, fill=colour)
    else:
        draw.regular_polygon((size / 2, size / 2, size / 2 - 4), 6, fill=colour)
    draw.ellipse((30, 30, size - 30, size - 30), outline="white", width=6)
    draw.text((size / 2, size / 2), text, fill="white", anchor="mm", font_size=28)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# ---- The seed -------------------------------------------------------------------------------


def scale_email_domain(slug: str) -> str:
    return f"{slug}.scale.test"


def space_remove(slug: str) -> bool:
    """Remove a seeded space and the people it created (their emails are on its own domain).

    Awards, batches and badges go first in plain DELETEs (PROTECT relations and a million
    rows would make the ORM's collector slow), then the space cascades the rest."""
    space = Space.objects.filter(slug=slug).first()
    if space is None:
        return False
    with transaction.atomic():
        Award.objects.filter(space=space)._raw_delete(connection.alias)
        IssueBatch.objects.filter(space=space)._raw_delete(connection.alias)
        Badge.objects.filter(space=space).delete()
        Graphic.objects.filter(space=space).delete()
        Issuer.objects.filter(space=space).update(current=None)
        IssuerVersion.objects.filter(space=space).delete()
        Issuer.objects.filter(space=space).delete()
        Membership.objects.filter(space=space)._raw_delete(connection.alias)
        Member.objects.filter(space=space)._raw_delete(connection.alias)
        # Children before parents: PROTECT on Organisation.parent.
        for org in Organisation.objects.filter(space=space).order_by("-level"):
            org.delete()
        space.delete()
        User.objects.filter(email__endswith="@" + scale_email_domain(slug))._raw_delete(
            connection.alias
        )
    return True


def badge_snapshot(badge, org_name: dict[int, str]) -> dict:
    """What an award carries of its badge (Badge.snapshot()'s shape, without the queries)."""
    return {
        "public_id": str(badge.public_id),
        "name": badge.name,
        "description": badge.description,
        "language": badge.language,
        "criteria_url": "",
        "criteria_text": badge.criteria_text,
        "image": badge.graphic.image.name,
        "attributes": [],
        "organisation": org_name[badge.organisation_id],
    }


def seed_scale(opts: ScaleOptions, log: Callable[[str], None] = print) -> ScaleResult:
    rng = random.Random(opts.seed)
    tz = ZoneInfo(settings.TIME_ZONE)
    timings: list[tuple[str, float]] = []
    clock = time.perf_counter()

    def step(label: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings.append((label, now - clock))
        log(f"  {label}: {now - clock:.1f} s")
        clock = now

    domain = scale_email_domain(opts.slug)
    today = timezone.localdate()
    days = 365 * opts.years
    start = today - timedelta(days=days - 1)
    started = datetime(start.year, start.month, start.day, tzinfo=tz)

    # --- The space, its administrator and a reporter limited to one faculty.
    with transaction.atomic():
        admin = User(
            username=f"{opts.slug}-admin",
            email=f"admin@{domain}",
            first_name="Sam",
            last_name="Scale",
            email_verified_at=started,
        )
        admin.set_password(opts.admin_password)
        admin.save()
        space = space_create(name=opts.name, slug=opts.slug, admin=admin)
        Space.objects.filter(pk=space.pk).update(created_at=started - timedelta(days=30))
        root_org = space.root_organisation

        plan = plan_tree(opts.name, opts.organisations, rng)
        org_id = next_id(Organisation)
        for node in iter_nodes(plan):
            if node.level == 0:
                node.id = root_org.pk
            else:
                node.id, org_id = org_id, org_id + 1
        Organisation.objects.filter(pk=root_org.pk).update(rght=plan.rght)
        Organisation.objects.bulk_create(
            Organisation(
                id=node.id,
                space=space,
                parent_id=node.parent.id,
                name=node.name,
                description=f"{node.name}, part of {node.parent.name}.",
                lft=node.lft,
                rght=node.rght,
                tree_id=root_org.tree_id,
                level=node.level,
            )
            for node in iter_nodes(plan)
            if node.level > 0
        )
        reset_sequences(Organisation)
        nodes = list(iter_nodes(plan))
        faculties = plan.children
        reporter = User.objects.create(
            username=f"{opts.slug}-reporter",
            email=f"reporter@{domain}",
            first_name="Rita",
            last_name="Reporter",
            email_verified_at=started,
        )
        reporter.set_password(opts.admin_password)
        reporter.save(update_fields=["password"])
        member_join_space(
            access=Access.system(space),
            space=space,
            user=reporter,
            places=[
                (
                    Place(
                        organisation=Organisation.objects.get(
                            pk=(faculties[0] if faculties else plan).id
                        )
                    ),
                    Role.objects.get(space=space, name="Reporter"),
                )
            ],
        )
    step(f"space and {len(nodes)} organisations")

    # --- Issuers (one per faculty, and the root's), graphics, badges.
    with transaction.atomic():
        issuer_for: dict[int, IssuerVersion] = {}
        for node in [plan, *faculties]:
            issuer = Issuer.objects.create(space=space, organisation_id=node.id)
            version = IssuerVersion.objects.create(
                space=space,
                issuer=issuer,
                number=1,
                name=node.name if node.level else f"{opts.name} Badges",
                website=f"https://{domain}/",
                email=f"badges@{domain}",
                description=f"Awards the badges of {node.name}.",
            )
            Issuer.objects.filter(pk=issuer.pk).update(current=version)
            issuer_for[node.id] = version
        graphics = []
        for i in range(min(24, max(1, opts.badges))):
            g = Graphic(
                space=space,
                name=f"{_pick(SKILLS, i)} emblem",
                source=Graphic.Source.DESIGNER,
                width=128,
                height=128,
                design={"shape": i % 3, "colour": _pick(COLOURS, i)},
            )
            initials = "".join(w[0] for w in _pick(SKILLS, i).split()[:2])
            png = graphic_png(_pick(COLOURS, i), initials, i % 3)
            g.image.save(f"{uuid.uuid4().hex}.png", ContentFile(png), save=False)
            g.save()
            graphics.append(g)

        def faculty_of(node: Node) -> Node:
            while node.level > 1:
                node = node.parent
            return node

        badge_id = next_id(Badge)
        badge_rows = []
        homes = [n for n in nodes if n.level > 0] or [plan]
        names = [f"{level} {skill}" for skill in SKILLS for level in LEVELS]
        rng.shuffle(names)
        for i in range(opts.badges):
            home = rng.choice(homes) if i % 10 else plan
            name = names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "")
            badge_rows.append(
                Badge(
                    id=badge_id + i,
                    space=space,
                    organisation_id=home.id,
                    name=name,
                    description=f"Shows {name.lower()} skills, assessed by {home.name}.",
                    language="en",
                    issuer_id=issuer_for[faculty_of(home).id if home.level else plan.id].issuer_id,
                    graphic=graphics[i % len(graphics)],
                    criteria_text="Complete the assessed activity.",
                    state=Badge.State.PUBLISHED,
                    published_at=started,
                    created_by=admin,
                    expiry_amount=2 if i % 5 == 0 else None,
                    expiry_unit=Badge.ExpiryUnit.YEARS if i % 5 == 0 else "",
                )
            )
        Badge.objects.bulk_create(badge_rows)
        reset_sequences(Badge)
    badges = badge_rows
    issuer_version_of = {v.issuer_id: v.pk for v in issuer_for.values()}
    step(f"{len(issuer_for)} issuers, {len(graphics)} graphics, {len(badges)} badges")

    # --- People: users, their membership of the space, a plain User role somewhere.
    user_id0 = next_id(User)
    n_users = max(1, opts.users)
    unusable = "!" + "seeded-by-seed-scale"
    join_span = days * 86400

    def user_rows() -> Iterator[tuple]:
        for i in range(n_users):
            # People join during the first half of the period.
            joined = started + timedelta(seconds=rng.randrange(join_span) // 2)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            yield (
                user_id0 + i,
                unusable,
                f"{opts.slug}-u{i:06d}",
                first,
                last,
                f"{first.lower()}.{i:06d}@{domain}",
                False,
                False,
                True,
                joined,
                uuid.uuid4(),
                joined if i % 7 else None,
                "",
            )

    load_rows(
        User,
        [
            "id", "password", "username", "first_name", "last_name", "email", "is_superuser",
            "is_staff", "is_active", "date_joined", "public_id", "email_verified_at", "avatar",
        ],
        user_rows(),
    )  # fmt: skip
    reset_sequences(User)
    step(f"{n_users} users")

    user_role = Role.objects.get(space=space, name=USER_ROLE)
    leaves = [n for n in nodes if not n.children] or [plan]
    user_org = [rng.choice(leaves).id for _ in range(n_users)]
    now = timezone.now()
    member_id0, membership_id0 = next_id(Member), next_id(Membership)
    load_rows(
        Member,
        ["id", "space_id", "user_id", "external_id", "created_at"],
        ((member_id0 + i, space.pk, user_id0 + i, f"S{i:07d}", now) for i in range(n_users)),
    )
    load_rows(
        Membership,
        ["id", "space_id", "user_id", "organisation_id", "group_id", "role_id", "created_at"],
        (
            (membership_id0 + i, space.pk, user_id0 + i, user_org[i], None, user_role.pk, now)
            for i in range(n_users)
        ),
    )
    reset_sequences(Member, Membership)
    step(f"{n_users} members and memberships")

    # Badge popularity is long-tailed (Zipf-like): a few badges are issued a lot.
    popularity = list(_accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(badges))))
    if connection.vendor == "postgresql":
        # Ten million rows made one by one in Python took most of a 13-minute seed: PostgreSQL
        # makes them itself, from the same plan (tree, badges, day weights, popularity).
        with bulk_load(Award, step):
            sql_awards(
                space=space,
                admin=admin,
                badges=badges,
                versions=[issuer_version_of[b.issuer_id] for b in badges],
                popularity=popularity,
                user_id0=user_id0,
                n_users=n_users,
                opts=opts,
                start=start,
                days=days,
                tz=tz,
                rng=rng,
                step=step,
            )
        reset_sequences(IssueBatch, Award)
        rollups.rebuild(space_id=space.pk)  # the triggers were off during the load
        step("rollups counted")
        vacuum_analyze(step)
        return ScaleResult(space=space, admin=admin, reporter=reporter, timings=timings)

    # --- Awards: times first (compact arrays), then which badge and whom, then the batches
    # (one per badge per month), then the award rows themselves.
    times = award_times(opts.awards, start, days, tz, rng)
    badge_of = array("I", (bisect.bisect_right(popularity, rng.random() * popularity[-1])
                           for _ in range(len(times))))  # fmt: skip
    whom = array("I", (rng.randrange(n_users) for _ in range(len(times))))
    step(f"{len(times)} award times planned")

    batch_id0 = next_id(IssueBatch)
    # One batch per badge per month, as if each month's awards had come in one API call.
    batch_index: dict[tuple[int, int], int] = {}
    batch_of = array("I")
    for t, b in zip(times, badge_of, strict=True):
        when = from_micros(t)
        batch_of.append(batch_index.setdefault((b, when.year * 12 + when.month), len(batch_index)))
    first_time: dict[int, int] = {}
    counts = [0] * len(batch_index)
    for t, index in zip(times, batch_of, strict=True):
        counts[index] += 1
        first_time.setdefault(index, t)
    batch_rows = []
    for (b, _), index in batch_index.items():
        when = from_micros(first_time[index])
        n = counts[index]
        batch_rows.append(
            (
                batch_id0 + index, space.pk, badges[b].pk, uuid.uuid4(), IssueBatch.Source.API,
                IssueBatch.Status.DONE, when, admin.pk, [], n, n, n, 0, 0, when, when,
            )
        )  # fmt: skip
    load_rows(
        IssueBatch,
        [
            "id", "space_id", "badge_id", "public_id", "source", "status", "issued_at",
            "created_by_id", "failures", "total", "processed", "issued",
            "duplicates", "failed", "created_at", "finished_at",
        ],
        batch_rows,
    )  # fmt: skip
    reset_sequences(IssueBatch)
    step(f"{len(batch_rows)} issue batches")

    org_name = {n.id: n.name for n in nodes}
    snapshots = [badge_snapshot(b, org_name) for b in badges]
    versions = [issuer_version_of[b.issuer_id] for b in badges]
    emails = User.objects.filter(pk__gte=user_id0).order_by("pk").values_list("email", flat=True)
    user_email = list(emails.iterator(chunk_size=20_000))
    sources = [IssueBatch.Source.API] * 6 + [IssueBatch.Source.MANUAL] * 3 + ["rule"]
    award_id0 = next_id(Award)
    now_us = int(now.timestamp() * 1_000_000)

    no_evidence: list = []  # one object: the COPY encodes it once

    def award_rows() -> Iterator[tuple]:
        for i, t in enumerate(times):
            b = badge_of[i]
            badge = badges[b]
            when = from_micros(t)
            revoked = None
            if rng.random() < opts.revoked_share:
                revoked = from_micros(min(now_us, t + rng.randrange(1, 90 * 86400) * 1_000_000))
            yield (
                award_id0 + i,
                space.pk,
                badge.pk,
                batch_id0 + batch_of[i],
                user_id0 + whom[i],
                badge.organisation_id,
                versions[b],
                uuid.uuid4(),
                sources[i % len(sources)],
                when,
                when,
                badge.expiry_for(when),
                snapshots[b],
                user_email[whom[i]],
                f"{rng.getrandbits(128):032x}",
                False,
                revoked,
                "Issued in error" if revoked else "",
                None,
                no_evidence,
                no_evidence,
            )

    with bulk_load(Award, step):
        load_rows(
            Award,
            [
                "id", "space_id", "badge_id", "batch_id", "recipient_id", "organisation_id",
                "issuer_version_id", "public_id", "source", "achieved_at", "issued_at",
                "expires_at", "badge_snapshot", "recipient_email", "identity_salt", "is_public",
                "revoked_at", "revocation_reason", "revoked_by_id", "evidence", "results",
            ],
            award_rows(),
        )  # fmt: skip
    reset_sequences(Award)
    if connection.vendor == "postgresql":
        rollups.rebuild(space_id=space.pk)  # the triggers were off during the COPY
        step("rollups counted")
    step(f"{len(times)} awards")

    if connection.vendor == "postgresql":
        vacuum_analyze(step)
    return ScaleResult(space=space, admin=admin, reporter=reporter, timings=timings)


def vacuum_analyze(step: Callable[[str], None]) -> None:
    """Fresh statistics for the planner, and the visibility map that lets index-only scans
    work (autovacuum would get there too, later)."""
    with connection.cursor() as cursor:
        for model in (Organisation, User, Member, Membership, Badge, IssueBatch, Award):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    step("vacuum analyze")


def day_counts(n: int, weights: Sequence[float]) -> list[int]:
    """``n`` split over the days in proportion to ``weights`` (largest remainders get the
    rest): the day weights' shape without drawing ``n`` random numbers."""
    total = sum(weights)
    raw = [w * n / total for w in weights]
    counts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return counts


def sql_awards(
    *,
    space: Space,
    admin: User,
    badges: Sequence[Badge],
    versions: Sequence[int],
    popularity: Sequence[float],
    user_id0: int,
    n_users: int,
    opts: ScaleOptions,
    start: date,
    days: int,
    tz: ZoneInfo,
    rng: random.Random,
    step: Callable[[str], None],
) -> None:
    """The awards and their batches, made by PostgreSQL (INSERT … SELECT from
    generate_series) with the shape the Python generator gives: each day's share of the
    awards from ``day_weights``, issue times in local working hours (07:00-20:00) strictly
    increasing (each award in its own slice of the day), badges by the long-tailed
    ``popularity`` (``width_bucket`` is the bisection), recipients uniform, ``revoked_share``
    revoked within 90 days, one batch per badge per (UTC) month. ``random()`` is seeded from
    ``opts.seed``: the same plan gives the same rows (public ids and salts are random)."""
    counts = day_counts(opts.awards, day_weights(start, days, rng))
    span = 13 * 3600 * 1_000_000  # 07:00 to 20:00 local time, in microseconds
    award_id0, batch_id0 = next_id(Award), next_id(IssueBatch)
    day_rows, first = [], award_id0
    for i, n in enumerate(counts):
        if n:
            d = start + timedelta(days=i)
            opening = int(datetime(d.year, d.month, d.day, 7, tzinfo=tz).timestamp() * 1_000_000)
            day_rows.append((first, opening, n, span // n))
            first += n
    org_name = dict(Organisation.objects.filter(space=space).values_list("pk", "name"))
    badge_rows = []
    for i, b in enumerate(badges):
        snapshot = badge_snapshot(b, org_name)
        months = expiry_days = None
        if b.expiry_amount and b.expiry_unit == Badge.ExpiryUnit.DAYS:
            expiry_days = b.expiry_amount
        elif b.expiry_amount and b.expiry_unit:
            months = b.expiry_amount * (12 if b.expiry_unit == Badge.ExpiryUnit.YEARS else 1)
        badge_rows.append(
            (i, b.pk, b.organisation_id, versions[i], json.dumps(snapshot), months, expiry_days)
        )
    month0 = start.year * 12 + start.month - 2  # a month early: the first UTC hours may be
    n_months = opts.years * 12 + 4  # in the previous month
    sources = [IssueBatch.Source.API] * 6 + [IssueBatch.Source.MANUAL] * 3 + ["rule"]
    thresholds = [0.0, *popularity[:-1]]  # lower bounds: width_bucket - 1 = bisect_right
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            "CREATE TEMP TABLE scale_day (first_id bigint, opening bigint, n int, width bigint) "
            "ON COMMIT DROP"
        )
        cursor.executemany("INSERT INTO scale_day VALUES (%s, %s, %s, %s)", day_rows)
        cursor.execute(
            "CREATE TEMP TABLE scale_badge (idx int PRIMARY KEY, id bigint, org bigint, "
            "version bigint, snapshot jsonb, months int, days int) ON COMMIT DROP"
        )
        cursor.executemany(
            "INSERT INTO scale_badge VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)", badge_rows
        )
        cursor.execute("ANALYZE scale_day")
        cursor.execute("ANALYZE scale_badge")
        cursor.execute("SELECT setseed(%s)", [(opts.seed % 1000) / 1000])
        step("award plan")
        cursor.execute(
            """
            INSERT INTO badges_award (
                id, space_id, badge_id, batch_id, recipient_id, organisation_id,
                issuer_version_id, public_id, source, achieved_at, issued_at, expires_at,
                badge_snapshot, recipient_email, identity_salt, is_public, revoked_at,
                revocation_reason, revoked_by_id, evidence, results)
            SELECT r.id, %(space)s, b.id,
                %(batch0)s + r.b * %(n_months)s
                    + (extract(year FROM r.t AT TIME ZONE 'UTC') * 12
                       + extract(month FROM r.t AT TIME ZONE 'UTC') - %(month0)s)::int,
                u.id, b.org, b.version, gen_random_uuid(),
                (%(sources)s::text[])[1 + (r.id - %(award0)s) %% 10], r.t, r.t,
                CASE WHEN b.months IS NOT NULL THEN r.t + make_interval(months => b.months)
                     WHEN b.days IS NOT NULL THEN r.t + make_interval(days => b.days) END,
                b.snapshot, u.email, md5(r.id::text || r.rv::text), false,
                CASE WHEN r.rv < %(share)s THEN least(%(now)s::timestamptz,
                    r.t + make_interval(secs => 1 + floor(r.rv2 * (90 * 86400 - 1)))) END,
                CASE WHEN r.rv < %(share)s THEN 'Issued in error' ELSE '' END,
                NULL, '[]'::jsonb, '[]'::jsonb
            FROM (
                SELECT d.first_id + k AS id,
                    'epoch'::timestamptz + (d.opening + (%(span)s::bigint * k) / d.n
                        + floor(random() * d.width)::bigint) * interval '1 microsecond' AS t,
                    width_bucket(random() * %(total)s, %(thresholds)s::float8[]) - 1 AS b,
                    floor(random() * %(n_users)s)::bigint AS who,
                    random() AS rv, random() AS rv2
                FROM scale_day d CROSS JOIN LATERAL generate_series(0, d.n - 1) AS k
                OFFSET 0
            ) r
            JOIN scale_badge b ON b.idx = r.b
            JOIN users_user u ON u.id = %(user0)s + r.who
            """,
            {
                "space": space.pk,
                "batch0": batch_id0,
                "n_months": n_months,
                "month0": month0,
                "sources": sources,
                "award0": award_id0,
                "share": opts.revoked_share,
                "now": timezone.now(),
                "span": span,
                "total": popularity[-1],
                "thresholds": thresholds,
                "n_users": n_users,
                "user0": user_id0,
            },
        )
        step(f"{cursor.rowcount} award rows made in PostgreSQL")
        # One batch per badge per month, as if each month's awards had come in one API call.
        cursor.execute(
            """
            INSERT INTO badges_issuebatch (
                id, space_id, badge_id, public_id, source, status, issued_at, created_by_id,
                failures, total, processed, issued, duplicates, failed,
                created_at, finished_at)
            SELECT batch_id, %s, badge_id, gen_random_uuid(), %s, %s, min(issued_at), %s,
                '[]'::jsonb, count(*), count(*), count(*), 0, 0, min(issued_at),
                min(issued_at)
            FROM badges_award WHERE space_id = %s GROUP BY batch_id, badge_id
            """,
            [space.pk, IssueBatch.Source.API, IssueBatch.Status.DONE, admin.pk, space.pk],
        )
        step(f"{cursor.rowcount} issue batches")
