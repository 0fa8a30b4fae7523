"""Five high-volume foreign keys checked once per statement, not once per row.

A service line's claim, and an adjustment's or remark code's claim and line, are about 85% of
the rows an ingest writes. PostgreSQL checks a foreign key with one query per new row (at
commit: Django makes them ``DEFERRABLE INITIALLY DEFERRED``); for a 5,000-claim file that was
about 100,000 queries and 47% of the database's CPU for the whole ingest (README, *Parent rows
checked per statement*). Here the database still refuses every orphan, with triggers instead of
constraints:

- a write to the child table (insert, or update of the key): on PostgreSQL one statement-level
  trigger per write checks every distinct parent the statement named in one query, and locks
  them ``FOR KEY SHARE`` as a foreign key does, so a parent cannot be deleted by another
  transaction until this one ends; on SQLite a row-level trigger (SQLite has no others);
  either refuses a missing parent with an integrity error naming the table, column and value;
- a parent deleted deletes its children (the models' ``on_delete=CASCADE``; Django deletes them
  first itself, so this acts only on a raw ``DELETE``); a parent's id cannot change.

Unlike the deferred constraints, a child must be written after its parent (every writer does).
On PostgreSQL, a ``TRUNCATE`` of a parent that leaves its children is refused; a delete of a parent
is refused outside READ COMMITTED (a REPEATABLE READ snapshot would miss a child committed
meanwhile, where a foreign key's check would see it); the functions qualify every table with its
schema (``pg_restore`` empties the search_path). A data-only restore into a schema that has these
triggers needs ``--disable-triggers``, since nothing orders children after parents any more.

**SQLite: a later migration that rebuilds one of these four tables** (SQLite's ``ALTER`` is a
copy into a new table) fails on these triggers; it must run this migration's ``drop_triggers``
before and ``create_triggers`` after (``importlib.import_module`` of this module), as migration
0012's queue-counter triggers on ``denials_denial`` need too.

``tests/test_parent_checks.py`` proves each rule on both databases; ``tests/test_ingest_pg_cost.py``
that every other foreign key is still a constraint.
"""

import django.db.models.deletion
from django.db import migrations, models

# (child table, key column, parent table): each is a ForeignKey with db_constraint=False.
CHECKED = [
    ("denials_serviceline", "claim_id", "denials_claimpayment"),
    ("denials_adjustment", "claim_id", "denials_claimpayment"),
    ("denials_adjustment", "line_id", "denials_serviceline"),
    ("denials_remarkcode", "claim_id", "denials_claimpayment"),
    ("denials_remarkcode", "line_id", "denials_serviceline"),
]

POSTGRES_FUNCTIONS = r"""
CREATE FUNCTION denials_parents_present() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: (key column, parent table) pairs. Every distinct parent the statement's rows name
-- (new rows; on UPDATE only rows whose key changed) is locked FOR KEY SHARE, as a foreign key's
-- check locks it; one missing refuses the whole statement. Names are qualified with the table's
-- schema, so the check does not depend on the search_path (pg_restore empties it).
DECLARE
    keys text;
    wanted bigint;
    held bigint;
    missing bigint;
BEGIN
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        IF TG_OP = 'UPDATE' THEN
            keys := format(
                '(SELECT n.%1$I AS key FROM new_rows AS n WHERE NOT EXISTS '
                '(SELECT 1 FROM old_rows AS o WHERE o.id = n.id AND o.%1$I IS NOT DISTINCT FROM n.%1$I))',
                TG_ARGV[2 * i]
            );
        ELSE
            keys := format('(SELECT %1$I AS key FROM new_rows)', TG_ARGV[2 * i]);
        END IF;
        EXECUTE format(
            'SELECT (SELECT count(DISTINCT k.key) FROM %1$s AS k), '
            '(SELECT count(*) FROM (SELECT 1 FROM %2$I.%3$I AS p WHERE p.id IN (SELECT k.key FROM %1$s AS k) '
            'FOR KEY SHARE OF p) AS locked)',
            keys, TG_TABLE_SCHEMA, TG_ARGV[2 * i + 1]
        ) INTO wanted, held;
        IF held < wanted THEN
            EXECUTE format(
                'SELECT k.key FROM %1$s AS k WHERE k.key IS NOT NULL '
                'AND NOT EXISTS (SELECT 1 FROM %2$I.%3$I AS p WHERE p.id = k.key) LIMIT 1',
                keys, TG_TABLE_SCHEMA, TG_ARGV[2 * i + 1]
            ) INTO missing;
            RAISE EXCEPTION 'insert or update on table "%" violates foreign key: %=% is not present in table "%"',
                TG_TABLE_NAME, TG_ARGV[2 * i], missing, TG_ARGV[2 * i + 1]
                USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE FUNCTION denials_children_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: (child table, key column) pairs: the children of the deleted parents go with them.
-- Only under READ COMMITTED, where this DELETE sees every child committed meanwhile (a child
-- added by a transaction this one waited for); a REPEATABLE READ or SERIALIZABLE snapshot would
-- miss it and leave an orphan, so such a delete is refused.
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows) THEN
        RETURN NULL;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'rows of "%" can be deleted only in a READ COMMITTED transaction (this one is %): '
            'its children are found and deleted by the delete itself', TG_TABLE_NAME,
            current_setting('transaction_isolation')
            USING ERRCODE = 'feature_not_supported', TABLE = TG_TABLE_NAME;
    END IF;
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        EXECUTE format(
            'DELETE FROM %1$I.%2$I WHERE %3$I IN (SELECT id FROM old_rows)',
            TG_TABLE_SCHEMA, TG_ARGV[2 * i], TG_ARGV[2 * i + 1]
        );
    END LOOP;
    RETURN NULL;
END
$$;
CREATE FUNCTION denials_children_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: (child table, key column) pairs. After a TRUNCATE (which fires no DELETE trigger) a
-- child row that still names a parent is an orphan: refused, unless the children were truncated
-- in the same statement (as Django's flush does).
DECLARE
    left_over boolean;
BEGIN
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        EXECUTE format(
            'SELECT EXISTS (SELECT 1 FROM %1$I.%2$I WHERE %3$I IS NOT NULL)',
            TG_TABLE_SCHEMA, TG_ARGV[2 * i], TG_ARGV[2 * i + 1]
        ) INTO left_over;
        IF left_over THEN
            RAISE EXCEPTION 'cannot truncate "%" without "%": its rows refer to it (truncate them together)',
                TG_TABLE_NAME, TG_ARGV[2 * i] USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE FUNCTION denials_id_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the id of a row of "%" cannot change (% to %): other rows refer to it',
        TG_TABLE_NAME, OLD.id, NEW.id USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
END
$$;
"""
POSTGRES_DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS denials_parents_present();
DROP FUNCTION IF EXISTS denials_children_deleted();
DROP FUNCTION IF EXISTS denials_children_truncated();
DROP FUNCTION IF EXISTS denials_id_kept();
"""


def _children(parent: str) -> list[tuple[str, str]]:
    return [(child, column) for child, column, p in CHECKED if p == parent]


def _keys(child: str) -> list[tuple[str, str]]:
    return [(column, parent) for c, column, parent in CHECKED if c == child]


def _postgres() -> tuple[list[str], list[str]]:
    create, drop = [POSTGRES_FUNCTIONS], []
    for child in dict.fromkeys(c for c, _, _ in CHECKED):
        args = ", ".join(f"'{name}'" for pair in _keys(child) for name in pair)
        for event, tables in (
            ("insert", "NEW TABLE AS new_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            create.append(
                f"CREATE TRIGGER {child}_parents_{event} AFTER {event.upper()} ON {child} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION denials_parents_present({args})"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {child}_parents_{event} ON {child}")
    for parent in dict.fromkeys(p for _, _, p in CHECKED):
        args = ", ".join(f"'{name}'" for pair in _children(parent) for name in pair)
        create.append(
            f"CREATE TRIGGER {parent}_children_delete AFTER DELETE ON {parent} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION denials_children_deleted({args})"
        )
        create.append(
            f"CREATE TRIGGER {parent}_children_truncate AFTER TRUNCATE ON {parent} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION denials_children_truncated({args})"
        )
        create.append(
            f"CREATE TRIGGER {parent}_id_kept BEFORE UPDATE OF id ON {parent} "
            f"FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION denials_id_kept()"
        )
        drop += [
            f"DROP TRIGGER IF EXISTS {parent}_children_delete ON {parent}",
            f"DROP TRIGGER IF EXISTS {parent}_children_truncate ON {parent}",
            f"DROP TRIGGER IF EXISTS {parent}_id_kept ON {parent}",
        ]
    return create, [*drop, POSTGRES_DROP_FUNCTIONS]


def _sqlite() -> tuple[list[str], list[str]]:
    create, drop = [], []
    for child, column, parent in CHECKED:
        refused = f"SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {child}.{column} names no row of {parent}')"
        for event in ("insert", f"update of {column}"):
            name = f"{child}_{column}_{event.split()[0]}"
            create.append(
                f"CREATE TRIGGER {name} BEFORE {event.upper()} ON {child} FOR EACH ROW "  # noqa: S608 (constant names)
                f"WHEN NEW.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} WHERE id = NEW.{column}) "
                f"BEGIN {refused}; END"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {name}")
    for parent in dict.fromkeys(p for _, _, p in CHECKED):
        deletes = " ".join(f"DELETE FROM {child} WHERE {column} = OLD.id;" for child, column in _children(parent))  # noqa: S608
        create.append(
            f"CREATE TRIGGER {parent}_children_delete AFTER DELETE ON {parent} FOR EACH ROW BEGIN {deletes} END"
        )
        create.append(
            f"CREATE TRIGGER {parent}_id_kept BEFORE UPDATE OF id ON {parent} FOR EACH ROW WHEN OLD.id IS NOT NEW.id "
            f"BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: the id of a row of {parent} cannot change'); "
            "END"
        )
        drop += [f"DROP TRIGGER IF EXISTS {parent}_children_delete", f"DROP TRIGGER IF EXISTS {parent}_id_kept"]
    return create, drop


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    if vendor == "postgresql":
        return _postgres()
    if vendor == "sqlite":
        return _sqlite()
    raise NotImplementedError(f"parent checks: no triggers written for {vendor}")


def create_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in _statements(schema_editor.connection.vendor)[0]:
        schema_editor.execute(statement, params=None)  # no placeholders: % is plpgsql's


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in _statements(schema_editor.connection.vendor)[1]:
        schema_editor.execute(statement, params=None)  # no placeholders: % is plpgsql's


def _key(to: str, related_name: str, **extra):  # type: ignore[no-untyped-def]
    return models.ForeignKey(
        db_constraint=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to=to,
        **extra,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("denials", "0014_ingest_indexes"),
    ]

    operations = [
        # Triggers first come off in reverse (drop_triggers), before the constraints return.
        migrations.AlterField(
            model_name="serviceline",
            name="claim",
            field=_key("denials.claimpayment", "service_lines", db_index=False),
        ),
        migrations.AlterField(
            model_name="adjustment",
            name="claim",
            field=_key("denials.claimpayment", "adjustments", db_index=False),
        ),
        migrations.AlterField(
            model_name="adjustment",
            name="line",
            field=_key("denials.serviceline", "adjustments", null=True, blank=True),
        ),
        migrations.AlterField(
            model_name="remarkcode",
            name="claim",
            field=_key("denials.claimpayment", "remarks", db_index=False),
        ),
        migrations.AlterField(
            model_name="remarkcode",
            name="line",
            field=_key("denials.serviceline", "remarks", null=True, blank=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
