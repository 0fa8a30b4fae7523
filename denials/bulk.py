"""Fast inserts and updates of many rows, for ingestion and triage.

Django's ``bulk_create`` builds one huge multi-row INSERT per batch and ``bulk_update``
one CASE WHEN per field; for the tens of thousands of rows a remittance holds both
spend most of their time compiling SQL. Here primary keys are reserved up front (a
sequence on PostgreSQL; on SQLite the write lock taken at BEGIN IMMEDIATE makes
MAX(id) safe), rows go in with COPY on PostgreSQL or ``executemany`` on SQLite, and
updates are one prepared statement run for every row. Values are prepared by the model
fields themselves (``pre_save`` + ``get_db_prep_save``), so defaults, auto_now_add and
JSON behave as with the ORM. Call inside ``transaction.atomic()``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def _concrete_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


_SEQUENCES: dict[str, str] = {}


def _reserve_ids(table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if table not in _SEQUENCES:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                _SEQUENCES[table] = cursor.fetchone()[0]
            cursor.execute("SELECT array_agg(nextval(%s)) FROM generate_series(1, %s)", [_SEQUENCES[table], count])
            return sorted(cursor.fetchone()[0])
        cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608 (table name from the model)
        start = cursor.fetchone()[0]
        return list(range(start + 1, start + count + 1))


def bulk_insert(objs: Sequence[M]) -> Sequence[M]:
    """Insert model instances of one model; sets each instance's pk. Returns them."""
    if not objs:
        return objs
    model = type(objs[0])
    table = model._meta.db_table
    fields = _concrete_fields(model)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    ids = _reserve_ids(table, len(objs))
    rows = []
    for pk, obj in zip(ids, objs, strict=True):
        obj.pk = pk
        rows.append((pk, *(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)))
        obj._state.adding = False
        obj._state.db = "default"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY goes to psycopg's own cursor: Django's wrapper gives its errors Django's classes
            # (a refused row is an IntegrityError, as from the ORM).
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f'COPY "{table}" ("id", {columns}) FROM STDIN') as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(fields) + 1))
            cursor.executemany(f'INSERT INTO "{table}" ("id", {columns}) VALUES ({marks})', rows)  # noqa: S608
    return objs


def bulk_update_fields(
    objs: Sequence[Any], field_names: Sequence[str], model: type[models.Model] | None = None
) -> None:
    """UPDATE the named fields of every object (model instances, or any object with the
    fields' attnames and ``pk`` when ``model`` is given)."""
    if not objs:
        return
    model = model or type(objs[0])
    fields = [model._meta.get_field(name) for name in field_names]
    assignments = ", ".join(f'"{f.column}" = %s' for f in fields)  # type: ignore[union-attr]
    # Plain values go to the driver as they are (Decimal, date, str, int); only JSON needs
    # the field's own preparation. get_db_prep_save on every value costs more than the UPDATE.
    attnames = [f.attname for f in fields]  # type: ignore[union-attr]
    json_positions = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    rows = []
    for obj in objs:
        row = [getattr(obj, name) for name in attnames]
        for i in json_positions:
            row[i] = fields[i].get_db_prep_save(row[i], connection)  # type: ignore[union-attr]
        row.append(obj.pk)
        rows.append(tuple(row))
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(rows) < 200:
            cursor.executemany(f'UPDATE "{table}" SET {assignments} WHERE "id" = %s', rows)  # noqa: S608
            return
        # PostgreSQL: COPY the new values into a temporary table, then one UPDATE ... FROM.
        columns = [f.column for f in fields]  # type: ignore[union-attr]
        quoted = ", ".join(f'"{c}"' for c in columns)
        cursor.execute(f'CREATE TEMP TABLE "_bulk_update" AS SELECT "id", {quoted} FROM "{table}" WITH NO DATA')  # noqa: S608
        try:
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f'COPY "_bulk_update" ({quoted}, "id") FROM STDIN') as copy,
            ):
                for start in range(0, len(rows), COPY_ROWS):
                    copy.write(copy_text_rows(rows[start : start + COPY_ROWS]))
            sets = ", ".join(f'"{c}" = u."{c}"' for c in columns)
            cursor.execute(f'UPDATE "{table}" AS t SET {sets} FROM "_bulk_update" AS u WHERE t."id" = u."id"')  # noqa: S608
        finally:
            cursor.execute('DROP TABLE IF EXISTS "_bulk_update"')


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        text = value
    elif isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    elif hasattr(value, "obj") and type(value).__name__ in {"Jsonb", "Json"}:
        text = json.dumps(value.obj)
    else:
        return str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


#: Rows formatted and sent to COPY at a time (bounds the text held in memory).
COPY_ROWS = 5000
_ESCAPED = ("\\", "\t", "\n", "\r")


def copy_text_rows(rows: Sequence[Sequence[Any]]) -> str:
    """Rows in PostgreSQL COPY text format, formatted a column at a time.

    A column holds one type (with NULLs), so each is converted with one C-level ``map``
    (``str`` for numbers, ``isoformat`` for dates) instead of a Python call per value;
    text is escaped only in a column where some value needs it. Anything else goes
    through ``_copy_text`` value by value. Same output as ``_copy_text`` on every value.
    """
    if not rows:
        return ""
    columns = [_copy_column(list(values)) for values in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_column(values: list[Any]) -> list[str]:
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if len(kinds) > 1 or not kinds:
        return list(map(_copy_text, values))
    (kind,) = kinds
    present = [v for v in values if v is not None] if nulls else values
    if kind is str:
        joined = "".join(present)
        if any(mark in joined for mark in _ESCAPED):
            return list(map(_copy_text, values))
        converted: list[str] = present
    elif kind is int or kind is Decimal:
        converted = list(map(str, present))
    elif kind is dt.date or kind is dt.datetime:
        converted = [v.isoformat() for v in present]
    else:
        return list(map(_copy_text, values))
    if not nulls:
        return converted
    it = iter(converted)
    return ["\\N" if v is None else next(it) for v in values]


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys for ``model``, for an ``insert_values(..., ids=...)`` that
    follows in the same transaction (rows that must know their own id before they go in)."""
    return _reserve_ids(model._meta.db_table, count) if count else []


def insert_values(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ids: Sequence[int] | None = None,
) -> list[int]:
    """Insert plain value tuples (in ``names`` order: attnames like ``claim_id``) and
    return the new primary keys in order (``ids`` when given, from ``reserve_ids``). Every
    other column gets its field's default, prepared once; auto_now(_add) columns get the
    current time."""
    if not rows:
        return []
    from django.utils import timezone

    table = model._meta.db_table
    by_attname = {f.attname: f for f in _concrete_fields(model)}
    given = [by_attname[name] for name in names]
    json_positions = [i for i, f in enumerate(given) if isinstance(f, models.JSONField)]
    empty_json = {i: given[i].get_db_prep_save([], connection) for i in json_positions}
    now = timezone.now()
    rest = [f for f in by_attname.values() if f.attname not in set(names)]
    rest_values = tuple(
        f.get_db_prep_save(
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default(), connection
        )
        for f in rest
    )
    columns = ", ".join(f'"{f.column}"' for f in [*given, *rest])
    ids = list(ids) if ids is not None else _reserve_ids(table, len(rows))
    prepared: list[tuple[Any, ...]] = []
    for pk, row in zip(ids, rows, strict=True):
        if json_positions:
            row = list(row)
            for i in json_positions:
                value = row[i]
                # Most JSON values are an empty list (a claim's warnings): prepared once.
                row[i] = empty_json[i] if value == [] else given[i].get_db_prep_save(value, connection)
        prepared.append((pk, *row, *rest_values))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY goes to psycopg's own cursor: Django's wrapper gives its errors Django's classes
            # (a refused row is an IntegrityError, as from the ORM).
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f'COPY "{table}" ("id", {columns}) FROM STDIN') as copy,
            ):
                # Formatting COPY's text format here, a column at a time, is several times
                # faster than letting psycopg adapt each value (write_row).
                for start in range(0, len(prepared), COPY_ROWS):
                    copy.write(copy_text_rows(prepared[start : start + COPY_ROWS]))
        else:
            marks = ", ".join(["%s"] * (len(given) + len(rest) + 1))
            cursor.executemany(f'INSERT INTO "{table}" ("id", {columns}) VALUES ({marks})', prepared)  # noqa: S608
    return ids


#: Rows per ``UPDATE ... FROM (VALUES ...)`` statement (PostgreSQL takes 65,535 parameters).
VALUES_ROWS = 2000


def versioned_rows_update(model: type[models.Model], rows: Sequence[tuple[Any, int]], fields: Sequence[str]) -> None:
    """Write ``fields``, ``version`` and ``updated_at`` of each ``(instance, version read)``
    in one statement, each row only if it is still at the version read. The caller holds the
    rows' locks (``select_for_update`` in this transaction), so every row matches; if one does
    not, the version moved under the lock, and the whole write is refused (``RuntimeError``:
    the caller's transaction rolls back), never merged.

    PostgreSQL: one ``UPDATE ... FROM (VALUES ...)`` (the values cast to the columns' types);
    elsewhere one prepared UPDATE run for every row."""
    if not rows:
        return
    names = [*fields, "version", "updated_at"]
    columns = [model._meta.get_field(name) for name in names]
    table = model._meta.db_table
    postgres = connection.vendor == "postgresql"
    params = [
        (
            obj.pk,
            version,
            # PostgreSQL takes the plain values (str, Decimal, date, datetime) as they are.
            *(
                getattr(obj, f.attname) if postgres else f.get_db_prep_save(getattr(obj, f.attname), connection)  # type: ignore[union-attr]
                for f in columns
            ),
        )
        for obj, version in rows
    ]
    matched = 0
    with connection.cursor() as cursor:
        if postgres:
            quoted = [f'"{f.column}"' for f in columns]  # type: ignore[union-attr]
            sets = ", ".join(
                f"{c} = CAST(v.{c} AS {f.db_type(connection)})"  # type: ignore[union-attr]
                for c, f in zip(quoted, columns, strict=True)
            )
            row_marks = "(" + ", ".join(["%s"] * (len(columns) + 2)) + ")"
            for start in range(0, len(params), VALUES_ROWS):
                chunk = params[start : start + VALUES_ROWS]
                cursor.execute(
                    f'UPDATE "{table}" AS t SET {sets} FROM (VALUES {", ".join([row_marks] * len(chunk))}) '  # noqa: S608
                    f'AS v("id", "read_version", {", ".join(quoted)}) '
                    f'WHERE t."id" = v."id" AND t."version" = v."read_version"',
                    [value for row in chunk for value in row],
                )
                matched += cursor.rowcount
        else:
            assignments = ", ".join(f'"{f.column}" = %s' for f in columns)  # type: ignore[union-attr]
            cursor.executemany(
                f'UPDATE "{table}" SET {assignments} WHERE "id" = %s AND "version" = %s',  # noqa: S608
                [(*row[2:], row[0], row[1]) for row in params],
            )
            matched = cursor.rowcount
    if matched != len(rows):
        raise RuntimeError(
            f"{len(rows) - matched} of {len(rows)} {model._meta.verbose_name_plural} changed under their row lock; "
            f"nothing was saved."
        )


def changed_copy(instance: M, changes: dict[str, Any], *, now: dt.datetime) -> M:
    """A copy of a locked row with ``changes`` applied, one version up and updated ``now``: the
    row as a batched write (``versioned_rows_update``) stores it, for its audit row."""
    fresh = instance.__class__.__new__(instance.__class__)
    fresh.__dict__.update(instance.__dict__)  # a shallow copy (``copy.copy`` of a model pickles it: slow)
    for name, value in changes.items():
        setattr(fresh, name, value)
    fresh.version = instance.version + 1  # type: ignore[attr-defined]
    fresh.updated_at = now  # type: ignore[attr-defined]
    return fresh
