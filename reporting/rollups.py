"""Keeping the rollups (reporting/models.py) in step with awards: database triggers, a
rebuild (the backfill), and the time zone they count days in.

Why triggers: an award's counts change on insert (issuing, claims, imports, COPY), on update
(revoke, decline, moving awards to another organisation with ``QuerySet.update``) and on
delete (raw deletes, cascades). A trigger sees every one of those paths, in the same
transaction, with no extra round trip for the application: issuing's query counts are
unchanged.

- PostgreSQL: statement-level AFTER triggers with transition tables. One statement per award
  statement (a batch of 1,000 awards is one INSERT, so one rollup statement): the rows' counts
  are grouped (issue day, revocation day, decline day), old rows counted negatively, new rows
  positively, and what does not cancel out is added to the four tables with one ``INSERT …
  ON CONFLICT DO UPDATE`` each (in key order, so concurrent batches lock rows in the same
  order). Deletes only subtract from rows that exist (a space being deleted may have lost its
  rollup rows first).
- SQLite (development, tests): the same counts with row-level triggers.

Days are local dates in the zone stored in ``reporting_rollupzone`` (settings.TIME_ZONE,
kept in step after every ``migrate`` and when the setting changes in tests: a change of zone
rebuilds everything, as it must).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, transaction

AWARD = "badges_award"
DAY_T = "reporting_dailyawardcount"
MONTH_T = "reporting_monthlyawardcount"
SPACE_T = "reporting_spacedailyawardcount"
ORG_DAY_T = "reporting_orgdailyawardcount"
ZONE_T = "reporting_rollupzone"
COUNTS = ("issued", "revoked", "declined")
EVENTS = (("issued", "issued_at"), ("revoked", "revoked_at"), ("declined", "declined_at"))
# The columns whose change changes an award's counts.
WATCHED = ("space_id", "organisation_id", "badge_id", "issued_at", "revoked_at", "declined_at")
ZONE_SQL = f"COALESCE((SELECT zone FROM {ZONE_T} WHERE id = 1), 'UTC')"


# ---- PostgreSQL ---------------------------------------------------------------------------


def _pg_contributions(rows: str, sign: str) -> str:
    parts = []
    for name, column in EVENTS:
        values = ", ".join(f"{sign if c == name else '0'} AS {c}" for c in COUNTS)
        where = "" if name == "issued" else f" WHERE {column} IS NOT NULL"
        parts.append(
            f"SELECT space_id, organisation_id, badge_id, "
            f"({column} AT TIME ZONE tz)::date AS day, {values} FROM {rows}{where}"
        )
    return " UNION ALL ".join(parts)


def _pg_deltas(sources: list[tuple[str, str]]) -> str:
    union = " UNION ALL ".join(_pg_contributions(rows, sign) for rows, sign in sources)
    sums = ", ".join(f"sum({c})::int AS {c}" for c in COUNTS)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in COUNTS)
    return (
        f"SELECT space_id, organisation_id, badge_id, day, {sums} FROM ({union}) u "
        f"GROUP BY 1, 2, 3, 4 HAVING {nonzero}"
    )


def _pg_targets() -> list[tuple[str, list[str], str, str]]:
    """(table, key columns, SELECT list of keys from d, GROUP BY) per rollup table."""
    return [
        (
            DAY_T,
            ["space_id", "day", "organisation_id", "badge_id"],
            "space_id, day, organisation_id, badge_id",
            "",
        ),
        (
            MONTH_T,
            ["space_id", "month", "organisation_id", "badge_id"],
            "space_id, date_trunc('month', day)::date, organisation_id, badge_id",
            " GROUP BY 1, 2, 3, 4",
        ),
        (
            ORG_DAY_T,
            ["space_id", "day", "organisation_id"],
            "space_id, day, organisation_id",
            " GROUP BY 1, 2, 3",
        ),
        (SPACE_T, ["space_id", "day"], "space_id, day", " GROUP BY 1, 2"),
    ]


def _pg_apply(upsert: bool) -> str:
    """One statement applying the deltas ``d`` to the four tables."""
    ctes, last = [], ""
    targets = _pg_targets()
    for i, (table, keys, select_keys, group) in enumerate(targets):
        cols = ", ".join([*keys, *COUNTS])
        values = ", ".join(f"sum({c})" for c in COUNTS) if group else ", ".join(COUNTS)
        order = ", ".join(str(n + 1) for n in range(len(keys)))
        if upsert:
            sets = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in COUNTS)
            stmt = (
                f"INSERT INTO {table} AS t ({cols}) SELECT {select_keys}, {values} FROM d"
                f"{group} ORDER BY {order} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
            )
        else:
            names = ", ".join([*keys, *COUNTS])
            sets = ", ".join(f"{c} = t.{c} + s.{c}" for c in COUNTS)
            match = " AND ".join(f"t.{k} = s.{k}" for k in keys)
            stmt = (
                f"UPDATE {table} AS t SET {sets} FROM (SELECT {select_keys}, {values} FROM d"
                f"{group}) AS s({names}) WHERE {match}"
            )
        if i < len(targets) - 1:
            ctes.append(f"w{i} AS ({stmt})")
        else:
            last = stmt
    return ", ".join(ctes) + " " + last


def pg_trigger_sql() -> list[str]:
    statements = []
    ops = {
        "insert": ([("new_rows", "1")], True, "REFERENCING NEW TABLE AS new_rows"),
        "update": (
            [("old_rows", "-1"), ("new_rows", "1")],
            True,
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        "delete": ([("old_rows", "-1")], False, "REFERENCING OLD TABLE AS old_rows"),
    }
    for op, (sources, upsert, referencing) in ops.items():
        fn = f"reporting_award_rollup_{op}"
        statements.append(
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"DECLARE tz text := {ZONE_SQL};\n"
            f"BEGIN\n"
            f"  WITH d AS MATERIALIZED ({_pg_deltas(sources)}), {_pg_apply(upsert)};\n"
            f"  RETURN NULL;\n"
            f"END $$"
        )
        statements.append(f"DROP TRIGGER IF EXISTS {fn} ON {AWARD}")
        statements.append(
            f"CREATE TRIGGER {fn} AFTER {op.upper()} ON {AWARD} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        )
    return statements


# ---- SQLite -------------------------------------------------------------------------------


def _sqlite_day(row: str, column: str) -> str:
    return f"django_datetime_cast_date({row}.{column}, {ZONE_SQL}, 'UTC')"


def _sqlite_statements(row: str, sign: int) -> list[str]:
    out = []
    for name, column in EVENTS:
        day = _sqlite_day(row, column)
        when = "1" if name == "issued" else f"{row}.{column} IS NOT NULL"
        values = ", ".join(str(sign) if c == name else "0" for c in COUNTS)
        keyed = [
            (DAY_T, "space_id, day, organisation_id, badge_id",
             f"{row}.space_id, {day}, {row}.organisation_id, {row}.badge_id"),
            (MONTH_T, "space_id, month, organisation_id, badge_id",
             f"{row}.space_id, strftime('%Y-%m-01', {day}), {row}.organisation_id, "
             f"{row}.badge_id"),
            (ORG_DAY_T, "space_id, day, organisation_id",
             f"{row}.space_id, {day}, {row}.organisation_id"),
            (SPACE_T, "space_id, day", f"{row}.space_id, {day}"),
        ]  # fmt: skip
        for table, keys, key_values in keyed:
            if sign > 0:
                sets = ", ".join(f"{c} = {c} + excluded.{c}" for c in COUNTS)
                out.append(
                    f"INSERT INTO {table} ({keys}, {', '.join(COUNTS)}) "
                    f"SELECT {key_values}, {values} WHERE {when} "
                    f"ON CONFLICT ({keys}) DO UPDATE SET {sets};"
                )
            else:
                match = " AND ".join(
                    f"{k} = {v}"
                    for k, v in zip(keys.split(", "), _split_top(key_values), strict=True)
                )
                out.append(f"UPDATE {table} SET {name} = {name} - 1 WHERE {when} AND {match};")
    return out


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    parts.append(current.strip())
    return parts


def sqlite_trigger_sql() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    bodies = {
        "insert": ("AFTER INSERT", "", _sqlite_statements("NEW", 1)),
        "delete": ("AFTER DELETE", "", _sqlite_statements("OLD", -1)),
        "update": (
            "AFTER UPDATE",
            f" WHEN {changed}",
            _sqlite_statements("OLD", -1) + _sqlite_statements("NEW", 1),
        ),
    }
    out = []
    for op, (event, when, body) in bodies.items():
        name = f"reporting_award_rollup_{op}"
        out.append(f"DROP TRIGGER IF EXISTS {name}")
        out.append(
            f"CREATE TRIGGER {name} {event} ON {AWARD} FOR EACH ROW{when} BEGIN "
            + " ".join(body)
            + " END"
        )
    return out


# ---- Install, rebuild ---------------------------------------------------------------------


def install_triggers(using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        statements = pg_trigger_sql()
    elif connection.vendor == "sqlite":
        statements = sqlite_trigger_sql()
    else:  # pragma: no cover - the project runs on PostgreSQL and SQLite only
        raise NotImplementedError(connection.vendor)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _day_expr(connection, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)::date"
    return f"django_datetime_cast_date({column}, %s, 'UTC')"


def rebuild(zone: str | None = None, using: str = "default", space_id: int | None = None) -> None:
    """Count every award again (all spaces, or one), in ``zone`` (default: TIME_ZONE), and
    record the zone. The backfill; also what a change of TIME_ZONE needs. Set-based: one
    INSERT … SELECT … GROUP BY per table."""
    zone = zone or settings.TIME_ZONE
    connection = connections[using]
    where_space = "" if space_id is None else " AND space_id = %s"
    space_params = [] if space_id is None else [space_id]
    parts, params = [], []
    for name, column in EVENTS:
        values = ", ".join(f"{1 if c == name else 0} AS {c}" for c in COUNTS)
        parts.append(
            f"SELECT space_id, {_day_expr(connection, column)} AS day, organisation_id, "
            f"badge_id, {values} FROM {AWARD} WHERE {column} IS NOT NULL{where_space}"
        )
        params += [zone, *space_params]
    sums = ", ".join(f"sum({c})" for c in COUNTS)
    cols = ", ".join(COUNTS)
    month = (
        "date_trunc('month', day)::date"
        if connection.vendor == "postgresql"
        else "strftime('%%Y-%%m-01', day)"
    )
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for table in (DAY_T, MONTH_T, ORG_DAY_T, SPACE_T):
            cursor.execute(f"DELETE FROM {table} WHERE 1 = 1{where_space}", space_params)
        cursor.execute(
            f"INSERT INTO {DAY_T} (space_id, day, organisation_id, badge_id, {cols}) "
            f"SELECT space_id, day, organisation_id, badge_id, {sums} FROM ("
            + " UNION ALL ".join(parts)
            + ") u GROUP BY 1, 2, 3, 4",
            params,
        )
        cursor.execute(
            f"INSERT INTO {MONTH_T} (space_id, month, organisation_id, badge_id, {cols}) "
            f"SELECT space_id, {month}, organisation_id, badge_id, {sums} FROM {DAY_T} "
            f"WHERE 1 = 1{where_space} GROUP BY 1, 2, 3, 4",
            space_params,
        )
        cursor.execute(
            f"INSERT INTO {ORG_DAY_T} (space_id, day, organisation_id, {cols}) "
            f"SELECT space_id, day, organisation_id, {sums} FROM {DAY_T} "
            f"WHERE 1 = 1{where_space} GROUP BY 1, 2, 3",
            space_params,
        )
        cursor.execute(
            f"INSERT INTO {SPACE_T} (space_id, day, {cols}) SELECT space_id, day, {sums} "
            f"FROM {DAY_T} WHERE 1 = 1{where_space} GROUP BY 1, 2",
            space_params,
        )
        if space_id is None:
            set_zone(zone, using)


def stored_zone(using: str = "default") -> str | None:
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT zone FROM {ZONE_T} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def set_zone(zone: str, using: str = "default") -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(f"DELETE FROM {ZONE_T}")
        cursor.execute(f"INSERT INTO {ZONE_T} (id, zone) VALUES (1, %s)", [zone])


def ensure(using: str = "default") -> bool:
    """After ``migrate``: the triggers in place, the rows counted in TIME_ZONE (a rebuild when
    the zone changed). Returns whether it rebuilt."""
    connection = connections[using]
    if ORG_DAY_T not in connection.introspection.table_names():  # the newest table
        return False
    install_triggers(using)
    if stored_zone(using) == settings.TIME_ZONE:
        return False
    rebuild(settings.TIME_ZONE, using)
    return True
