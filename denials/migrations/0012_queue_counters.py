"""The queue tabs' counters (``QueueCount``) and the index of a queue sorted by due date.

Triggers on ``denials_denial`` add one row of changes per queue and status that a write
changed: on PostgreSQL once per statement (transition tables: a COPY of 5,000 denials adds a
handful of rows, not 5,000), on SQLite once per row. The table starts from the denials
already there.
"""

import django.db.models.deletion
from django.db import migrations, models

# PostgreSQL: statement-level triggers; a change that leaves a queue's count and amount as
# they were (a note, an assignment) adds nothing.
POSTGRES_TRIGGERS = """
CREATE FUNCTION denials_queuecount_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO denials_queuecount (queue_id, status, n, amount)
        SELECT queue_id, status, count(*), sum(amount) FROM new_rows GROUP BY queue_id, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO denials_queuecount (queue_id, status, n, amount)
        SELECT queue_id, status, -count(*), -sum(amount) FROM old_rows GROUP BY queue_id, status;
    ELSE
        INSERT INTO denials_queuecount (queue_id, status, n, amount)
        SELECT queue_id, status, sum(n), sum(amount) FROM (
            SELECT queue_id, status, 1 AS n, amount FROM new_rows
            UNION ALL
            SELECT queue_id, status, -1, -amount FROM old_rows
        ) AS changes
        GROUP BY queue_id, status
        HAVING sum(n) <> 0 OR sum(amount) <> 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER denials_queuecount_insert AFTER INSERT ON denials_denial
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION denials_queuecount_changed();
CREATE TRIGGER denials_queuecount_update AFTER UPDATE ON denials_denial
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION denials_queuecount_changed();
CREATE TRIGGER denials_queuecount_delete AFTER DELETE ON denials_denial
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION denials_queuecount_changed();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS denials_queuecount_insert ON denials_denial;
DROP TRIGGER IF EXISTS denials_queuecount_update ON denials_denial;
DROP TRIGGER IF EXISTS denials_queuecount_delete ON denials_denial;
DROP FUNCTION IF EXISTS denials_queuecount_changed();
"""

# SQLite: row-level triggers (it has no others).
SQLITE_TRIGGERS = [
    """CREATE TRIGGER denials_queuecount_insert AFTER INSERT ON denials_denial BEGIN
        INSERT INTO denials_queuecount (queue_id, status, n, amount) VALUES (NEW.queue_id, NEW.status, 1, NEW.amount);
    END""",
    """CREATE TRIGGER denials_queuecount_update AFTER UPDATE ON denials_denial
    WHEN OLD.queue_id IS NOT NEW.queue_id OR OLD.status IS NOT NEW.status OR OLD.amount IS NOT NEW.amount BEGIN
        INSERT INTO denials_queuecount (queue_id, status, n, amount) VALUES (OLD.queue_id, OLD.status, -1, -OLD.amount);
        INSERT INTO denials_queuecount (queue_id, status, n, amount) VALUES (NEW.queue_id, NEW.status, 1, NEW.amount);
    END""",
    """CREATE TRIGGER denials_queuecount_delete AFTER DELETE ON denials_denial BEGIN
        INSERT INTO denials_queuecount (queue_id, status, n, amount) VALUES (OLD.queue_id, OLD.status, -1, -OLD.amount);
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS denials_queuecount_insert",
    "DROP TRIGGER IF EXISTS denials_queuecount_update",
    "DROP TRIGGER IF EXISTS denials_queuecount_delete",
]
SEED = """
INSERT INTO denials_queuecount (queue_id, status, n, amount)
SELECT queue_id, status, count(*), sum(amount) FROM denials_denial GROUP BY queue_id, status
"""


def _statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "postgresql":
        return [POSTGRES_TRIGGERS if create else POSTGRES_DROP]
    if vendor == "sqlite":
        return SQLITE_TRIGGERS if create else SQLITE_DROP
    raise NotImplementedError(f"queue counters: no triggers written for {vendor}")


def create_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in _statements(schema_editor.connection.vendor, create=True):
        schema_editor.execute(statement)
    schema_editor.execute(SEED)


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in _statements(schema_editor.connection.vendor, create=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("denials", "0011_analytics_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="QueueCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(max_length=16)),
                ("n", models.BigIntegerField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=20)),
                (
                    "queue",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="denials.workqueue",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["queue", "status"], include=("n", "amount"), name="queuecount_queue_status")
                ],
            },
        ),
        migrations.AddIndex(
            model_name="denial",
            index=models.Index(
                condition=models.Q(("status__in", ("open", "in-progress", "info-requested", "escalated"))),
                fields=["queue", "due_date", "-priority", "id"],
                name="denial_active_queue_due",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
