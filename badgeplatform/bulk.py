"""Fast bulk inserts for the hot paths of issuing (awards, people, emails).

``insert_many(objs)`` does what ``bulk_create`` does for plain rows — one INSERT, and each
object gets its primary key — with the same SQL Django uses on PostgreSQL (``INSERT … SELECT
FROM UNNEST(arrays) RETURNING id``), but the column arrays are built straight from the
attributes instead of through Django's per-field preparation, which at a thousand rows costs
more than the database's own work. Elsewhere (SQLite) it is ``bulk_create``.

Only for plain rows: no database defaults, no multi-table inheritance, values of the simple
types below (as with bulk_create, no save() or signals run).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from django.db import connections, models, router
from django.utils import timezone

M = TypeVar("M", bound=models.Model)
_PLAIN = (str, int, float, Decimal, datetime, date)


def _converter(field: models.Field):
    """The function that turns an attribute into what psycopg2 sends for the column."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        last: list = [None, None]  # rows often share one value (a badge snapshot): encode once

        def to_json(value):
            if value is None:
                return None
            if value is not last[0]:
                last[0], last[1] = value, json.dumps(value, cls=encoder)
            return last[1]

        return to_json
    if isinstance(field, models.FileField):  # the stored file's name ("" for none)
        return lambda v: (v.name if hasattr(v, "name") else v) or ""
    if isinstance(field, models.UUIDField):
        return lambda v: None if v is None else str(v)

    def plain(value):
        if value is None or isinstance(value, _PLAIN):
            if isinstance(value, datetime) and timezone.is_naive(value):
                raise ValueError(f"{field.name}: a naive datetime cannot be stored")
            return value
        if isinstance(value, uuid.UUID):
            return str(value)
        raise TypeError(f"insert_many cannot send {type(value).__name__} for {field.name}")

    return plain


def insert_many(objs: Sequence[M]) -> list[M]:
    """Insert ``objs`` (all of one model) in one statement and set their primary keys."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs)
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    columns, arrays, types = [], [], []
    for f in fields:
        convert = _converter(f)
        columns.append(connection.ops.quote_name(f.column))
        arrays.append([convert(getattr(obj, f.attname)) for obj in objs])
        types.append(f.db_type(connection))
    unnest = ", ".join(f"%s::{t}[]" for t in types)
    # Identifiers and types come from the model's metadata, never from input; values are
    # parameters.
    table, returning = (
        connection.ops.quote_name(meta.db_table),
        connection.ops.quote_name(pk.column),
    )
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM UNNEST({unnest}) RETURNING {returning}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = using
    return objs
