"""Fewer indexes to keep up on the rows an ingest writes by the tens of thousands (issue 13).

Measured with ``perf`` on the PostgreSQL backend serving an ingest of 5,000 claims: about a
third of its CPU went to inserting index entries. Dropped here, on claims, service lines,
adjustments and remark codes only, are indexes no query needs:

- the index of a foreign key that is the first column of the table's natural key (claim,
  sequence) or (remittance, sequence), or of ``claim_payer_status`` (payer, status_code):
  that index serves every lookup by the key alone;
- the single-column index on ``patient_control_number``: ``claim_history_lookup``
  (patient_control_number, payer_claim_number) starts with it;
- on PostgreSQL, the ``varchar_pattern_ops`` twin Django builds beside each ``db_index=True``
  text column, for ``LIKE 'prefix%'``: the app makes no such query on these columns (its
  searches are exact, or ``UPPER(...) LIKE``, which neither index serves). The plain index
  stays, now named in ``Meta.indexes``.

No constraint changes: every foreign key, unique and check constraint stays as it was. On
PostgreSQL nothing is rebuilt: the plain indexes kept are renamed, the others dropped. On
SQLite (no pattern twins) the kept ones are dropped and created again under their new names.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, column) whose index of its own is dropped (and its pattern twin, if any).
DROPPED = [
    ("denials_adjustment", "claim_id"),
    ("denials_claimpayment", "payer_id"),
    ("denials_claimpayment", "remittance_id"),
    ("denials_claimpayment", "patient_control_number"),
    ("denials_remarkcode", "claim_id"),
    ("denials_serviceline", "claim_id"),
]
# (table, column, name in Meta.indexes): the plain index kept under that name, its pattern twin dropped.
RENAMED = [
    ("denials_adjustment", "reason_code", "adjustment_reason_code"),
    ("denials_claimpayment", "payer_claim_number", "claim_payer_claim_number"),
    ("denials_claimpayment", "patient_last_name", "claim_patient_last_name"),
    ("denials_claimpayment", "patient_member_id", "claim_patient_member_id"),
    ("denials_remarkcode", "code", "remark_code"),
    ("denials_serviceline", "procedure_code", "service_line_procedure_code"),
]
# Text columns (a pattern twin existed on PostgreSQL before).
TEXT = {"patient_control_number", "reason_code", "payer_claim_number", "patient_last_name", "patient_member_id"}
TEXT |= {"code", "procedure_code"}


def _old_name(schema_editor, table: str, column: str, suffix: str = "") -> str:
    # The name Django gave the index when it built it from db_index=True.
    return schema_editor._create_index_name(table, [column], suffix=suffix)


def _exists(schema_editor, name: str) -> bool:  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [schema_editor.quote_name(name)])
        return bool(cursor.fetchone()[0])


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    postgres = schema_editor.connection.vendor == "postgresql"
    q = schema_editor.quote_name
    for table, column in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {q(_old_name(schema_editor, table, column))}")
        if postgres and column in TEXT:
            schema_editor.execute(f"DROP INDEX IF EXISTS {q(_old_name(schema_editor, table, column, '_like'))}")
    for table, column, name in RENAMED:
        old = _old_name(schema_editor, table, column)
        if postgres:
            schema_editor.execute(f"DROP INDEX IF EXISTS {q(_old_name(schema_editor, table, column, '_like'))}")
            if _exists(schema_editor, old):
                schema_editor.execute(f"ALTER INDEX {q(old)} RENAME TO {q(name)}")
            elif not _exists(schema_editor, name):  # not under Django's usual name: built afresh
                schema_editor.execute(f"CREATE INDEX {q(name)} ON {q(table)} ({q(column)})")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {q(old)}")
            schema_editor.execute(f"CREATE INDEX {q(name)} ON {q(table)} ({q(column)})")


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    postgres = schema_editor.connection.vendor == "postgresql"
    q = schema_editor.quote_name

    def pattern_twin(table: str, column: str) -> None:
        if postgres:
            schema_editor.execute(
                f"CREATE INDEX {q(_old_name(schema_editor, table, column, '_like'))} "
                f"ON {q(table)} ({q(column)} varchar_pattern_ops)"
            )

    for table, column, name in RENAMED:
        old = _old_name(schema_editor, table, column)
        if postgres:
            schema_editor.execute(f"ALTER INDEX {q(name)} RENAME TO {q(old)}")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {q(name)}")
            schema_editor.execute(f"CREATE INDEX {q(old)} ON {q(table)} ({q(column)})")
        pattern_twin(table, column)
    for table, column in DROPPED:
        schema_editor.execute(f"CREATE INDEX {q(_old_name(schema_editor, table, column))} ON {q(table)} ({q(column)})")
        if column in TEXT:
            pattern_twin(table, column)


STATE = [
    migrations.AlterField(
        model_name="adjustment",
        name="claim",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="adjustments",
            to="denials.claimpayment",
        ),
    ),
    migrations.AlterField(
        model_name="adjustment",
        name="reason_code",
        field=models.CharField(max_length=5),
    ),
    migrations.AlterField(
        model_name="claimpayment",
        name="patient_control_number",
        field=models.CharField(max_length=38),
    ),
    migrations.AlterField(
        model_name="claimpayment",
        name="patient_last_name",
        field=models.CharField(blank=True, max_length=60),
    ),
    migrations.AlterField(
        model_name="claimpayment",
        name="patient_member_id",
        field=models.CharField(blank=True, max_length=80),
    ),
    migrations.AlterField(
        model_name="claimpayment",
        name="payer",
        field=models.ForeignKey(
            db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="denials.payer"
        ),
    ),
    migrations.AlterField(
        model_name="claimpayment",
        name="payer_claim_number",
        field=models.CharField(blank=True, max_length=50),
    ),
    migrations.AlterField(
        model_name="claimpayment",
        name="remittance",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="claims",
            to="denials.remittance",
        ),
    ),
    migrations.AlterField(
        model_name="remarkcode",
        name="claim",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="remarks",
            to="denials.claimpayment",
        ),
    ),
    migrations.AlterField(
        model_name="remarkcode",
        name="code",
        field=models.CharField(max_length=8),
    ),
    migrations.AlterField(
        model_name="serviceline",
        name="claim",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="service_lines",
            to="denials.claimpayment",
        ),
    ),
    migrations.AlterField(
        model_name="serviceline",
        name="procedure_code",
        field=models.CharField(max_length=48),
    ),
    migrations.AddIndex(
        model_name="adjustment",
        index=models.Index(fields=["reason_code"], name="adjustment_reason_code"),
    ),
    migrations.AddIndex(
        model_name="claimpayment",
        index=models.Index(fields=["payer_claim_number"], name="claim_payer_claim_number"),
    ),
    migrations.AddIndex(
        model_name="claimpayment",
        index=models.Index(fields=["patient_last_name"], name="claim_patient_last_name"),
    ),
    migrations.AddIndex(
        model_name="claimpayment",
        index=models.Index(fields=["patient_member_id"], name="claim_patient_member_id"),
    ),
    migrations.AddIndex(
        model_name="remarkcode",
        index=models.Index(fields=["code"], name="remark_code"),
    ),
    migrations.AddIndex(
        model_name="serviceline",
        index=models.Index(fields=["procedure_code"], name="service_line_procedure_code"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("denials", "0013_prevention_figures"),
    ]

    operations = [
        # The model state changes as Django's own operations would change it; the database
        # only loses the indexes above (no foreign key dropped and re-added, no table rebuilt).
        migrations.SeparateDatabaseAndState(
            state_operations=STATE,
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
