"""The indexes an ingest keeps up on its busiest tables: none redundant, none missing (issue 13).

Migration 0014 dropped, on claims, service lines, adjustments and remark codes, the indexes
no query needs (a foreign key's own index when the natural key starts with that column, the
patient control number's own index that ``claim_history_lookup`` starts with, and on
PostgreSQL the ``varchar_pattern_ops`` twins of text columns). These tests keep it so, and
keep what the dropped indexes did covered:

- every foreign key of these tables is still the first column of some index (deleting a
  claim or a line, or following the key, never scans the child table), and PostgreSQL can
  answer a lookup by each of them from an index;
- no index of these tables is the leading part of another one;
- no pattern-ops index is kept on them (the app makes no ``LIKE 'prefix%'`` query there);
- every constraint is still there: each foreign key (or, for the five migration 0015 checks
  per statement, its triggers), each natural key.

Rows stored are unchanged by this (no column changed); ``tests/test_ingest_fast_paths.py`` and
``tests/test_ingest.py`` check what is stored. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from denials.models import Adjustment, ClaimPayment, RemarkCode, ServiceLine

PARENT_CHECKED = importlib.import_module("denials.migrations.0015_parent_checks_per_statement").CHECKED

pytestmark = pytest.mark.django_db

HOT = [ClaimPayment, ServiceLine, Adjustment, RemarkCode]
NATURAL_KEYS = {
    ClaimPayment: ("claim_payment_natural_key", ["remittance_id", "sequence"]),
    ServiceLine: ("service_line_natural_key", ["claim_id", "sequence"]),
    Adjustment: ("adjustment_natural_key", ["claim_id", "sequence"]),
    RemarkCode: ("remark_natural_key", ["claim_id", "sequence"]),
}


def _constraints(model) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, model._meta.db_table)


def _indexes(model) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every index of the table, by name: its columns. A unique constraint or primary key is one
    too (both databases build an index for it; SQLite's introspection does not say "index")."""
    return {
        name: c["columns"]
        for name, c in _constraints(model).items()
        if c["index"] or c["primary_key"] or (c["unique"] and not c["check"])
    }


def _foreign_key_columns(model) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.column for f in model._meta.concrete_fields if f.is_relation and f.many_to_one]


@pytest.mark.parametrize("model", HOT, ids=lambda m: m.__name__)
def test_every_foreign_key_leads_an_index(model):
    leading = {columns[0] for columns in _indexes(model).values() if columns}
    missing = [column for column in _foreign_key_columns(model) if column not in leading]
    assert not missing, f"{model.__name__}: no index starts with {missing}"


@pytest.mark.parametrize("model", HOT, ids=lambda m: m.__name__)
def test_no_index_is_the_leading_part_of_another(model):
    indexes = _indexes(model)
    redundant = [
        (name, other)
        for name, columns in indexes.items()
        for other, longer in indexes.items()
        if name != other
        and not _constraints(model)[name]["unique"]
        and not _constraints(model)[name]["primary_key"]
        and len(columns) <= len(longer)
        and longer[: len(columns)] == columns
    ]
    assert not redundant, f"{model.__name__}: index covered by another one: {redundant}"


@pytest.mark.parametrize("model", HOT, ids=lambda m: m.__name__)
def test_every_constraint_is_kept(model):
    """Each foreign key is a constraint, or one of the keys migration 0015 checks with triggers
    (``tests/test_parent_checks.py`` proves those refuse an orphan)."""
    constraints = _constraints(model)
    foreign_keys = {tuple(c["columns"]) for c in constraints.values() if c["foreign_key"]}
    by_trigger = {(column,) for table, column, _ in PARENT_CHECKED if table == model._meta.db_table}
    assert foreign_keys == {(column,) for column in _foreign_key_columns(model)} - by_trigger
    assert by_trigger <= {(column,) for column in _foreign_key_columns(model)}
    name, columns = NATURAL_KEYS[model]
    assert constraints[name]["unique"] and constraints[name]["columns"] == columns


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pattern-ops indexes are PostgreSQL's")
@pytest.mark.parametrize("model", HOT, ids=lambda m: m.__name__)
def test_no_pattern_ops_twin_on_postgresql(model):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [model._meta.db_table, "%pattern_ops%"],
        )
        assert cursor.fetchall() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="asks PostgreSQL's planner")
@pytest.mark.parametrize(
    ("model", "column"),
    [(model, column) for model in HOT for column in _foreign_key_columns(model)]
    + [(ClaimPayment, "patient_control_number")],
    ids=str,
)
def test_a_lookup_by_each_key_can_use_an_index(model, column):
    """With sequential scans priced out, the plan of ``WHERE column = value`` reads an index
    (it would still show a Seq Scan if no index could serve the lookup)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        value = "'X'" if column == "patient_control_number" else "1"
        cursor.execute(f'EXPLAIN SELECT 1 FROM "{table}" WHERE "{column}" = {value}')  # names from the model
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan
