"""The report queries. Everything is counted in the database; Python only fills empty buckets
and runs the cumulative sum over (at most a few thousand) buckets, never over awards.

"Badges issued" counts every award made in the period — revoked ones included: a badge that
was issued and later revoked was still issued on that day. (The recipients list marks them.)

Awards are counted by the organisation they were issued under (``Award.organisation``, the
badge's organisation at issue time). The organisation filter is SQL on the MPTT columns of
the joined organisation — "this node and everything beneath it" is one range condition per
chosen node — never a list of descendant ids built in Python.

Indexes (badges migration 0003): ``award_space_issued_cover`` (space, issued_at) INCLUDE
(organisation, badge) for whole-space reports; ``award_space_org_issued`` (space,
organisation, issued_at) INCLUDE (badge) for subtrees. Both let PostgreSQL answer from the
index alone. ``ensure_statistics`` adds expression statistics so the planner knows that
"issued day" has ~a thousand values, not a million, and picks a parallel hash aggregate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from django.db import connections
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth

from badges.models import Award
from orgs.models import Organisation, Space
from reporting.periods import DAY, MONTH, Period, report_tz


class OrgNode(NamedTuple):
    """An organisation as reports need it: its place in the tree and its name. (Plain tuples:
    the picker lists every organisation of the space, and model instances cost more.)"""

    pk: int
    name: str
    parent_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int


def report_organisations(space: Space, scope_q: Q) -> list[OrgNode]:
    """The organisations matching ``scope_q`` (the reader's ranges), in tree order."""
    rows = (
        Organisation.objects.for_space(space)
        .filter(scope_q)
        .order_by("tree_id", "lft")
        .values_list(*OrgNode._fields)
    )
    return [OrgNode(*row) for row in rows]


@dataclass(frozen=True)
class Selection:
    """The organisations a report covers, as the person chose them (already checked to be
    within what they may report on)."""

    organisations: tuple[OrgNode | Organisation, ...]
    include_sub: bool

    def roots(self) -> list[OrgNode | Organisation]:
        """With sub-organisations: the chosen nodes that are not inside another chosen node."""
        chosen = sorted(self.organisations, key=lambda o: (o.tree_id, o.lft))
        if not self.include_sub:
            return chosen
        out: list[OrgNode | Organisation] = []
        for org in chosen:
            if out and out[-1].tree_id == org.tree_id and out[-1].rght >= org.rght:
                continue  # inside the previous kept node
            out.append(org)
        return out

    @property
    def whole_space(self) -> bool:
        return self.include_sub and any(o.parent_id is None for o in self.organisations)

    def filter_q(self, prefix: str = "organisation__") -> Q | None:
        """None when the selection is the whole space (no organisation condition at all)."""
        if self.whole_space:
            return None
        if not self.include_sub:
            return Q(**{f"{prefix}pk__in": [o.pk for o in self.organisations]})
        q = Q(pk__in=[])
        for org in self.roots():
            q |= Q(
                **{
                    f"{prefix}tree_id": org.tree_id,
                    f"{prefix}lft__gte": org.lft,
                    f"{prefix}rght__lte": org.rght,
                }
            )
        return q


def awards_in(
    *, space: Space, selection: Selection, period: Period, scope_q: Q | None = None
) -> QuerySet[Award]:
    """The awards a report counts. ``scope_q`` (the reader's organisations, as ranges) is
    applied as well whenever the selection is not the whole space: belt and braces."""
    qs = Award.objects.filter(
        space=space, issued_at__gte=period.starts_at, issued_at__lt=period.ends_before
    )
    org_q = selection.filter_q()
    if org_q is not None:
        qs = qs.filter(org_q)
        if scope_q is not None:
            qs = qs.filter(scope_q)
    return qs


def bucket_expression(unit: str):
    trunc = TruncDay if unit == DAY else TruncMonth
    return trunc("issued_at", tzinfo=report_tz())


def to_local_date(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(report_tz()).date() if value.tzinfo else value.date()
    return value


def series(awards: QuerySet[Award], period: Period, unit: str) -> list[tuple[date, int]]:
    """(bucket, badges issued) for every day or month of the period, zeros included.

    One query: ``SELECT date_trunc(unit, issued_at AT TIME ZONE tz), COUNT(*) … GROUP BY 1``.
    """
    rows = (
        awards.annotate(bucket=bucket_expression(unit))
        .values("bucket")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("bucket", "n")
    )
    counts = {to_local_date(bucket): n for bucket, n in rows}
    return [(b, counts.get(b, 0)) for b in period.buckets(unit)]


def cumulative(values: Sequence[int]) -> list[int]:
    total, out = 0, []
    for v in values:
        total += v
        out.append(total)
    return out


def badge_counts(awards: QuerySet[Award]) -> list[tuple[int, int]]:
    """(badge id, badges issued) for every badge in the report, most issued first.

    One query: ``SELECT badge_id, COUNT(*) … GROUP BY badge_id`` (a few hundred rows at most,
    one per badge of the space, so sorting them here is free).
    """
    rows = awards.values("badge_id").annotate(n=Count("*")).order_by().values_list("badge_id", "n")
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def org_counts(awards: QuerySet[Award]) -> dict[int, int]:
    """{organisation id: badges issued} for the report's awards: one GROUP BY query."""
    rows = awards.values("organisation_id").annotate(n=Count("*")).order_by()
    return dict(rows.values_list("organisation_id", "n"))


def first_award_date(space: Space) -> date | None:
    """For "all time": the local date of the space's first award (the index's first entry)."""
    first = Award.objects.filter(space=space).aggregate(first=Min("issued_at"))["first"]
    return to_local_date(first) if first else None


# ---- Planner statistics (PostgreSQL) -------------------------------------------------------


def _trunc_sql(unit: str, connection) -> str:
    """The exact SQL Django generates for the bucket expression, unqualified, literals inlined
    — CREATE STATISTICS must match the GROUP BY expression to be used by the planner."""
    qs = Award.objects.annotate(bucket=bucket_expression(unit)).values("bucket")
    compiler = qs.query.get_compiler(connection=connection)
    sql, params = compiler.compile(qs.query.annotations["bucket"])
    with connection.cursor() as cursor:
        sql = cursor.mogrify(sql, params).decode()
    return sql.replace(f"{connection.ops.quote_name(Award._meta.db_table)}.", "")


def statistics_statements(connection) -> tuple[list[str], list[str]]:
    """(statements that create what is missing, names expected), for the current TIME_ZONE."""
    table = connection.ops.quote_name(Award._meta.db_table)
    statements, names = [], []
    for unit in (DAY, MONTH):
        expression = _trunc_sql(unit, connection)
        digest = hashlib.sha1(expression.encode(), usedforsecurity=False).hexdigest()[:10]
        name = f"award_issued_{unit}_{digest}"
        names.append(name)
        statements.append(f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM {table}")
    return statements, names


def ensure_statistics(using: str = "default") -> list[str]:
    """Create the expression statistics for the configured time zone (PostgreSQL ≥ 14), drop
    those made for another zone, and ANALYZE when something was created. Idempotent; runs
    after every ``migrate``. Returns the names created."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return []
    if Award._meta.db_table not in connection.introspection.table_names():
        return []
    statements, names = statistics_statements(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxname FROM pg_statistic_ext WHERE stxrelid = %s::regclass "
            "AND stxname LIKE 'award_issued_%%'",
            [Award._meta.db_table],
        )
        existing = {row[0] for row in cursor.fetchall()}
        for stale in existing - set(names):
            cursor.execute(f"DROP STATISTICS IF EXISTS {stale}")
        created = [n for n in names if n not in existing]
        for statement, name in zip(statements, names, strict=True):
            if name in created:
                cursor.execute(statement)
        if created:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Award._meta.db_table)}")
    return created
