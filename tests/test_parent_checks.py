"""The database refuses an orphaned line, adjustment or remark code without a foreign-key
constraint (migration 0015: checked once per statement on PostgreSQL, per row on SQLite), and a
parent's delete takes its children with it. Runs on SQLite and PostgreSQL; the two races at the
end need PostgreSQL's row locks and a second connection."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from denials.bulk import insert_values
from denials.models import Adjustment, ClaimPayment, Denial, RemarkCode, ServiceLine
from tests.factories import remittance_835

CHECKED = importlib.import_module("denials.migrations.0015_parent_checks_per_statement").CHECKED


@pytest.fixture
def claim(ingest) -> ClaimPayment:
    ingest(remittance_835(tag="PARENTS", serial=1, lines=3))
    return ClaimPayment.objects.get(patient_control_number="PARENTSPCN1")


def _missing_id(model) -> int:  # type: ignore[no-untyped-def]
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def _refused(fn) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        fn()
    return str(caught.value)


def test_every_unconstrained_key_is_one_the_triggers_check():
    unconstrained = {
        (f.model._meta.db_table, f.column, f.related_model._meta.db_table)
        for model in (ServiceLine, Adjustment, RemarkCode, ClaimPayment, Denial)
        for f in model._meta.concrete_fields
        if f.is_relation and f.many_to_one and not f.db_constraint and f.related_model is not None
    }
    assert unconstrained == set(CHECKED)


@pytest.mark.django_db
def test_the_triggers_are_in_place():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        by_table: dict[str, set[str]] = {}
        for table, name in cursor.fetchall():
            by_table.setdefault(table, set()).add(name)
    for child, _column, parent in CHECKED:
        assert any(name.startswith(f"{child}_") and "insert" in name for name in by_table[child])
        assert any(name.startswith(f"{child}_") and "update" in name for name in by_table[child])
        assert f"{parent}_children_delete" in by_table[parent]
        assert f"{parent}_id_kept" in by_table[parent]
        if connection.vendor == "postgresql":
            assert f"{parent}_children_truncate" in by_table[parent]


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (ServiceLine, {"sequence": 99, "procedure_code": "99213", "charge": 1, "paid": 0}),
        (Adjustment, {"sequence": 99, "group_code": "CO", "reason_code": "97", "amount": 1}),
        (RemarkCode, {"sequence": 99, "code": "M15", "source": "LQ"}),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_child_of_a_missing_claim_is_refused(claim, model, values):
    missing = _missing_id(ClaimPayment)
    message = _refused(lambda: model.objects.create(claim_id=missing, **values))
    assert model._meta.db_table in message and "claim_id" in message
    if connection.vendor == "postgresql":
        assert str(missing) in message  # the value is named
    # the same row with the claim that exists goes in
    model.objects.create(claim_id=claim.pk, **values)


@pytest.mark.parametrize("model", [Adjustment, RemarkCode], ids=lambda m: m.__name__)
def test_a_child_of_a_missing_line_is_refused_and_no_line_is_allowed(claim, model):
    values = (
        {"group_code": "CO", "reason_code": "97", "amount": 1}
        if model is Adjustment
        else {"code": "M15", "source": "LQ"}
    )
    message = _refused(
        lambda: model.objects.create(claim_id=claim.pk, line_id=_missing_id(ServiceLine), sequence=98, **values)
    )
    assert "line_id" in message
    model.objects.create(claim_id=claim.pk, line_id=None, sequence=98, **values)


def test_one_orphan_in_a_bulk_insert_refuses_the_whole_statement(claim):
    """The ingest's path (COPY on PostgreSQL): 500 good rows and one bad one: nothing goes in."""
    before = Adjustment.objects.count()
    rows = [(claim.pk, None, 100 + i, "CO", "45", 1, None) for i in range(500)]
    rows.insert(250, (_missing_id(ClaimPayment), None, 99, "CO", "45", 1, None))
    _refused(
        lambda: insert_values(
            Adjustment, ["claim_id", "line_id", "sequence", "group_code", "reason_code", "amount", "quantity"], rows
        )
    )
    assert Adjustment.objects.count() == before


def test_moving_a_child_to_a_missing_parent_is_refused(claim):
    adjustment = Adjustment.objects.filter(claim=claim).first()
    assert adjustment is not None
    _refused(lambda: Adjustment.objects.filter(pk=adjustment.pk).update(claim_id=_missing_id(ClaimPayment)))
    _refused(lambda: Adjustment.objects.filter(pk=adjustment.pk).update(line_id=_missing_id(ServiceLine)))
    _refused(lambda: ServiceLine.objects.filter(claim=claim).update(claim_id=_missing_id(ClaimPayment)))
    adjustment.refresh_from_db()
    assert adjustment.claim_id == claim.pk


def test_a_parents_id_cannot_change(claim):
    _refused(lambda: ClaimPayment.objects.filter(pk=claim.pk).update(id=_missing_id(ClaimPayment)))
    line = ServiceLine.objects.filter(claim=claim).first()
    assert line is not None
    _refused(lambda: ServiceLine.objects.filter(pk=line.pk).update(id=_missing_id(ServiceLine)))


def test_a_raw_delete_of_a_line_or_claim_takes_its_children(claim):
    """Django deletes the children first itself (``on_delete=CASCADE``); a raw DELETE, which the
    ORM's collector does not see, leaves no orphan either."""
    line = ServiceLine.objects.filter(claim=claim, adjustments__isnull=False).distinct().first()
    assert line is not None and line.remarks.exists()
    Denial.objects.filter(claim=claim).delete()  # denials keep a real foreign key (refused, not cascaded)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ServiceLine._meta.db_table} WHERE id = %s", [line.pk])
    assert not Adjustment.objects.filter(line_id=line.pk).exists()
    assert not RemarkCode.objects.filter(line_id=line.pk).exists()
    assert Adjustment.objects.filter(claim=claim).exists() or RemarkCode.objects.filter(claim=claim).exists()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ClaimPayment._meta.db_table} WHERE id = %s", [claim.pk])
    for model in (ServiceLine, Adjustment, RemarkCode):
        assert not model.objects.filter(claim_id=claim.pk).exists()


def test_the_orm_deletes_a_claim_with_everything_under_it(claim):
    claim.delete()
    for model in (ServiceLine, Adjustment, RemarkCode, Denial):
        assert not model.objects.filter(claim_id=claim.pk).exists()


# --- races (PostgreSQL): the parent is locked as a foreign key's check locks it ---------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's row locks")


def _second_connection():  # type: ignore[no-untyped-def]
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    other = psycopg.connect(**params, autocommit=True)
    other.execute("SET lock_timeout = '5s'")
    return other


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_claim_being_given_a_child_cannot_be_deleted_until_that_ends(ingest):
    """One transaction adds an adjustment to a claim; another deletes the claim (raw) meanwhile:
    it waits on the claim's key-share lock, and once the first commits, its delete takes the new
    child with it. No orphan either way."""
    ingest(remittance_835(tag="RACE", serial=1, lines=2))
    claim = ClaimPayment.objects.get(patient_control_number="RACEPCN1")
    Denial.objects.filter(claim=claim).delete()
    other = _second_connection()
    try:
        with transaction.atomic():
            Adjustment.objects.create(claim=claim, sequence=50, group_code="CO", reason_code="45", amount=1)
            result: dict[str, object] = {}

            def delete() -> None:
                try:
                    with other.transaction():
                        other.execute("SET LOCAL lock_timeout = '300ms'")
                        other.execute("DELETE FROM denials_claimpayment WHERE id = %s", [claim.pk])
                    result["deleted"] = True
                except Exception as error:
                    result["error"] = error

            waiter = threading.Thread(target=delete)
            waiter.start()
            waiter.join()
        # While the adding transaction was open the delete could not take the claim.
        assert "lock timeout" in str(result.get("error", "")).lower()
        assert ClaimPayment.objects.filter(pk=claim.pk).exists()
        with other.transaction():
            other.execute("DELETE FROM denials_claimpayment WHERE id = %s", [claim.pk])
        assert not Adjustment.objects.filter(claim_id=claim.pk).exists()
    finally:
        other.close()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_child_of_a_claim_deleted_meanwhile_is_refused(ingest):
    """Another transaction has deleted the claim but not committed: adding a child waits for it,
    and when the delete commits the child is refused, as a foreign key's check would refuse it."""
    ingest(remittance_835(tag="GONE", serial=1, lines=2))
    claim = ClaimPayment.objects.get(patient_control_number="GONEPCN1")
    Denial.objects.filter(claim=claim).delete()
    other = _second_connection()
    try:
        other.execute("BEGIN")
        other.execute("DELETE FROM denials_claimpayment WHERE id = %s", [claim.pk])
        committer = threading.Timer(0.5, other.execute, ["COMMIT"])
        committer.start()
        try:
            with pytest.raises(IntegrityError, match="claim_id"), transaction.atomic():
                Adjustment.objects.create(claim_id=claim.pk, sequence=50, group_code="CO", reason_code="45", amount=1)
        finally:
            committer.join()
        assert not Adjustment.objects.filter(claim_id=claim.pk).exists()
    finally:
        other.close()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_parent_is_deleted_only_under_read_committed(ingest):
    """Under REPEATABLE READ the delete's snapshot would miss a child committed meanwhile (and leave
    it an orphan, where a foreign key's check would see it): such a delete is refused outright."""
    ingest(remittance_835(tag="SNAP", serial=1, lines=2))
    claim = ClaimPayment.objects.get(patient_control_number="SNAPPCN1")
    Denial.objects.filter(claim=claim).delete()
    other = _second_connection()
    try:
        for level in ("REPEATABLE READ", "SERIALIZABLE"):
            with pytest.raises(Exception, match="READ COMMITTED"), other.transaction():
                other.execute(f"SET TRANSACTION ISOLATION LEVEL {level}")
                other.execute("DELETE FROM denials_claimpayment WHERE id = %s", [claim.pk])
            with other.transaction():  # deleting nothing is no risk
                other.execute(f"SET TRANSACTION ISOLATION LEVEL {level}")
                other.execute("DELETE FROM denials_claimpayment WHERE id = -1")
        assert ClaimPayment.objects.filter(pk=claim.pk).exists()
        assert Adjustment.objects.filter(claim=claim).exists()
        with other.transaction():
            other.execute("DELETE FROM denials_claimpayment WHERE id = %s", [claim.pk])
        assert not Adjustment.objects.filter(claim_id=claim.pk).exists()
    finally:
        other.close()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_parent_truncated_without_its_children_is_refused(ingest):
    """TRUNCATE fires no DELETE trigger; one that would leave children behind is refused (committed
    rows: a TRUNCATE cannot run with the ingest's trigger events still pending)."""
    ingest(remittance_835(tag="TRUNC", serial=1, lines=2))
    for sql in ("TRUNCATE denials_claimpayment CASCADE", "TRUNCATE denials_serviceline CASCADE"):
        with pytest.raises(IntegrityError, match="cannot truncate"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    assert Adjustment.objects.exists()
    # truncated together (as Django's flush does) is no orphan
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE denials_claimpayment, denials_serviceline, denials_adjustment, denials_remarkcode CASCADE"
        )
        assert not Adjustment.objects.exists()
        transaction.set_rollback(True)
    assert Adjustment.objects.exists()


@postgres_only
def test_the_check_does_not_depend_on_the_search_path(claim):
    """pg_restore runs with an empty search_path: the functions name every table with its schema."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
    insert = (
        f'INSERT INTO "{schema}".denials_adjustment (claim_id, line_id, sequence, group_code, reason_code, amount) '
        "VALUES (%s, NULL, 97, 'CO', '45', 1)"
    )
    missing = _missing_id(ClaimPayment)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path = ''")
        cursor.execute(insert, [claim.pk])
        with pytest.raises(IntegrityError, match="claim_id"), transaction.atomic():
            cursor.execute(insert.replace("97", "96"), [missing])
        cursor.execute("SET LOCAL search_path TO DEFAULT")  # SET LOCAL outlives a released savepoint
    assert Adjustment.objects.filter(claim=claim, sequence=97).exists()


def test_updating_a_child_without_touching_its_keys_is_allowed(claim):
    count = Adjustment.objects.filter(claim=claim).update(amount=5)
    assert count > 0
    assert set(Adjustment.objects.filter(claim=claim).values_list("amount", flat=True)) == {5}
