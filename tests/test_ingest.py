"""Ingestion through the real services: samples, duplicates, failures, retries, crashes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from denials.models import (
    Adjustment,
    AuditEvent,
    ClaimPayment,
    Denial,
    ProviderAdjustment,
    RemarkCode,
    Remittance,
    RemittanceFile,
    ServiceLine,
)
from denials.services import remittance_file_claim, remittance_file_ingest, remittance_file_receive

pytestmark = pytest.mark.django_db

# file -> (remittances, claims, service lines, adjustments, denials, total paid)
SAMPLE_COUNTS = {
    "pyx12__835_mult_loops.txt": (1, 1, 3, 3, 3, "0.00"),
    "lfh__medicare-part-a.835": (1, 2, 0, 2, 0, "149998.73"),
    "lfh__managed-care.835": (1, 2, 2, 5, 0, None),
    "lfh__secondary-payment.835": (1, 2, 2, 5, 0, None),
    "lfh__tertiary-payment.835": (1, 1, 1, 1, 0, None),
    "lfh__cob-contractural-adjustment.835": (1, 1, 1, 2, 0, None),
    "edi835parser__emedny_sample.txt": (1, 3, 10, 4, 4, None),
    "edi835parser__united_healthcare_legacy_sample.txt": (1, 2, 5, 7, 0, None),
    "edi835parser__blue_cross_nc_sample_NO_ENVELOPE.txt": (1, 1, 3, 3, 0, None),
    "tigershark__5010-835-example-1_dental_pipe-component.txt": (1, 3, 9, 10, 1, None),
    "tigershark__5010-835-example-3_denial.txt": (1, 2, 2, 3, 1, None),
    "oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt": (3, 56, 91, 97, 45, None),
}


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_every_5010_sample_ingests_with_its_counts(ingest, sample_bytes, name):
    remittances, claims, lines, adjustments, denials, paid = SAMPLE_COUNTS[name]
    file = ingest(sample_bytes(name), name=name)

    assert file.status == RemittanceFile.Status.INGESTED, file.error
    assert Remittance.objects.filter(file=file).count() == remittances
    assert (file.claim_count, file.service_line_count, file.adjustment_count, file.denial_count) == (
        claims,
        lines,
        adjustments,
        denials,
    )
    # The counters on the file agree with the rows behind them.
    assert ClaimPayment.objects.filter(remittance__file=file).count() == claims
    assert ServiceLine.objects.filter(claim__remittance__file=file).count() == lines
    assert Adjustment.objects.filter(claim__remittance__file=file).count() == adjustments
    assert Denial.objects.filter(claim__remittance__file=file).count() == denials
    if paid is not None:
        assert file.total_paid == Decimal(paid)


def test_medicare_part_a_sample_stores_amounts_remarks_and_plb(ingest, sample_bytes):
    file = ingest(sample_bytes("lfh__medicare-part-a.835"))
    remittance = Remittance.objects.get(file=file)
    assert remittance.payment_amount == Decimal("150000.00")
    assert remittance.trace_number == "12345"
    assert remittance.payer.name == "INSURANCE COMPANY OF TIMBUCKTU"
    assert remittance.payer.payer_key == "2U:999"
    assert remittance.payee.npi == "6543210903"
    claim = ClaimPayment.objects.get(remittance=remittance, patient_control_number="666123")
    assert (claim.charge, claim.paid, claim.status_code) == (Decimal("211366.97"), Decimal("138018.40"), "1")
    assert claim.patient_last_name == "JONES" and claim.patient_member_id == "666666666A"
    assert list(claim.adjustments.values_list("group_code", "reason_code", "amount")) == [
        ("CO", "45", Decimal("73348.57"))
    ]
    other = ClaimPayment.objects.get(remittance=remittance, patient_control_number="777777")
    assert list(RemarkCode.objects.filter(claim=other).values_list("code", flat=True)) == ["MA02"]
    plb = ProviderAdjustment.objects.get(remittance=remittance)
    assert (plb.reason_code, plb.reference, plb.amount) == ("CV", "CP", Decimal("-1.27"))


def test_denied_claim_lines_become_denials_with_their_adjustments(ingest, sample_bytes):
    file = ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    denials = list(Denial.objects.filter(claim__remittance__file=file).order_by("line__sequence"))
    assert [(d.kind, d.group_code, d.carc, d.amount) for d in denials] == [
        ("line-denied", "CO", "16", Decimal("500.04")),
        ("line-denied", "OA", "A7", Decimal("127.80")),
        ("line-denied", "OA", "A7", Decimal("287.55")),
    ]
    assert denials[0].rarcs == "N14"
    assert [a.code for a in denials[0].adjustments.all()] == ["CO-16"]


def test_routine_adjustments_make_no_denial(ingest, sample_bytes):
    # UHC sample: PR-1 / PR-2 / CO-45 only.
    file = ingest(sample_bytes("edi835parser__united_healthcare_legacy_sample.txt"))
    assert file.denial_count == 0
    assert set(Adjustment.objects.filter(claim__remittance__file=file).values_list("group_code", "reason_code")) <= {
        ("PR", "1"),
        ("PR", "2"),
        ("CO", "45"),
    }


def test_file_without_envelope_ingests_with_a_warning(ingest, sample_bytes):
    file = ingest(sample_bytes("edi835parser__blue_cross_nc_sample_NO_ENVELOPE.txt"))
    assert file.status == RemittanceFile.Status.INGESTED
    assert any("envelope" in w for w in file.warnings)


@pytest.mark.parametrize(
    "name",
    [
        "oopfactory__4010_Example1_reversals_plb.txt",
        "tigershark__4010_835-example-2_pipe-elements_UHC.txt",
        "oopfactory__4010_DeIdent_01_large.dat",
    ],
)
def test_4010_file_is_refused_naming_the_version_and_writes_no_claims(ingest, sample_bytes, name):
    file = ingest(sample_bytes(name), name=name)
    assert file.status == RemittanceFile.Status.FAILED
    assert "4010" in file.error
    assert not ClaimPayment.objects.filter(remittance__file=file).exists()
    assert bytes(file.content) == sample_bytes(name)  # kept as received


def test_same_bytes_twice_is_a_duplicate_and_writes_nothing_new(ingest, sample_bytes):
    first = ingest(sample_bytes("edi835parser__emedny_sample.txt"))
    counts = (ClaimPayment.objects.count(), Adjustment.objects.count(), Denial.objects.count())
    second = ingest(sample_bytes("edi835parser__emedny_sample.txt"))
    assert second.status == RemittanceFile.Status.DUPLICATE
    assert second.duplicate_of_id == first.pk
    assert (ClaimPayment.objects.count(), Adjustment.objects.count(), Denial.objects.count()) == counts


def test_same_remittances_in_another_envelope_are_a_duplicate(ingest, sample_bytes):
    original = sample_bytes("edi835parser__emedny_sample.txt")
    first = ingest(original)
    # Same remittance, new interchange control number and line endings: different bytes.
    text = original.decode("latin-1")
    isa13 = text.split("*")[13]
    rewrapped = text.replace(isa13, "000000999").replace("~", "~\n").encode("latin-1")
    assert rewrapped != original
    claims = ClaimPayment.objects.count()
    second = ingest(rewrapped, name="resent.835")
    assert second.status == RemittanceFile.Status.DUPLICATE
    assert second.duplicate_of_id == first.pk
    assert ClaimPayment.objects.count() == claims


def test_broken_file_is_stored_failed_with_where_and_what(ingest):
    content = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *260101*1200*^*00501*000000001*0*P*:~GS*HP*A*B*20260101*1200*1*X*005010X221A1~ST*835*0001~BPR*I*10*C*CHK************20260101~TRN*1*1*1~N1*PR*P~N1*PE*Q*XX*1234567893~LX*1~CLP*X1*1*abc*10**12*1~SE*99*0001~GE*1*1~IEA*1*000000001~"
    file = ingest(content, name="broken.835")
    assert file.status == RemittanceFile.Status.FAILED
    assert "segment" in file.error and "SE" in file.error
    assert not Remittance.objects.filter(file=file).exists()
    assert AuditEvent.objects.filter(action="remittance_file.failed", target_id=str(file.pk)).exists()


def test_failed_file_can_be_retried_after_the_rules_change(ingest, sample_bytes, monkeypatch, settings):
    from denials.services import receiving

    settings.INGEST_MAX_ATTEMPTS = 1
    content = sample_bytes("pyx12__835_mult_loops.txt")
    monkeypatch.setattr(receiving, "read_835", lambda data: (_ for _ in ()).throw(RuntimeError("disk hiccup")))
    file = ingest(content)
    assert file.status == RemittanceFile.Status.FAILED and "disk hiccup" in file.error
    monkeypatch.undo()
    again = ingest(content)  # the same bytes arriving again retry the failed copy
    assert again.pk == file.pk
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.INGESTED and file.claim_count == 1


def test_worker_killed_mid_file_loses_nothing_and_the_rerun_adds_no_duplicates(
    adjustment_rules, sample_bytes, monkeypatch
):
    from denials.services import storing

    content = sample_bytes("oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt")
    file = remittance_file_receive(name="ne.835", content=content, source="command", queue=False)
    real_store = storing._store_transaction
    calls = {"n": 0}

    def dies_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # not an Exception: nothing catches it
        return real_store(*args, **kwargs)

    monkeypatch.setattr(storing, "_store_transaction", dies_on_second)
    with pytest.raises(SystemExit):
        remittance_file_ingest(file_id=file.pk, task_id="task-1")
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.PROCESSING
    assert Remittance.objects.filter(file=file).count() == 1  # the first transaction, whole
    monkeypatch.setattr(storing, "_store_transaction", real_store)

    # The broker redelivers the same task at once (acks_late + reject_on_worker_lost): the
    # lease of the dead attempt is still live, so the redelivery must not take the file
    # (it could as well be a duplicate delivery while the first worker still runs).
    remittance_file_ingest(file_id=file.pk, task_id="task-1")
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.PROCESSING and file.attempts == 1
    assert Remittance.objects.filter(file=file).count() == 1

    # Once the lease ran out (nobody renewed it), the next delivery takes the file back.
    _expire_lease(file)
    remittance_file_ingest(file_id=file.pk, task_id="task-1")
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.INGESTED
    assert file.attempts == 2
    assert Remittance.objects.filter(file=file).count() == 3
    assert file.claim_count == 56 and file.transactions_skipped == 0


def _expire_lease(file: RemittanceFile) -> None:
    import datetime as dt

    from django.utils import timezone

    RemittanceFile.objects.filter(pk=file.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_an_attempt_whose_lease_was_taken_over_can_no_longer_write_its_end(adjustment_rules, sample_bytes):
    from denials.services.receiving import _finish, _renew_lease

    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command", queue=False
    )
    slow = remittance_file_claim(file_id=file.pk, task_id="task-1")
    assert slow
    _expire_lease(file)
    # The same task id delivered again, while the first run hung past its lease.
    again = remittance_file_claim(file_id=file.pk, task_id="task-1")
    assert again and again != slow
    assert not _renew_lease(file.pk, slow, 1)
    assert not _finish(file.pk, slow, status=RemittanceFile.Status.INGESTED)
    assert _renew_lease(file.pk, again, 1)


def _failing_store(monkeypatch, error: Exception) -> None:
    from denials.services import storing

    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(storing, "_store_transaction", fails)


def test_unexpected_error_fails_the_attempt_and_after_the_last_one_the_file(
    adjustment_rules, sample_bytes, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from django.db import DataError

    from denials.services import remittance_file_retry, remittance_files_sweep_stuck

    settings.INGEST_MAX_ATTEMPTS = 3
    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command", queue=False
    )
    _failing_store(monkeypatch, DataError("value too long for type character varying(38)"))
    for attempt in (1, 2):
        remittance_file_ingest(file_id=file.pk, task_id=f"task-{attempt}")
        file.refresh_from_db()
        assert (file.status, file.attempts) == (RemittanceFile.Status.RECEIVED, attempt)
        assert f"Attempt {attempt} of 3 failed" in file.error and "varying(38)" in file.error
        assert not Remittance.objects.filter(file=file).exists()
    remittance_file_ingest(file_id=file.pk, task_id="task-3")
    file.refresh_from_db()
    assert (file.status, file.attempts) == (RemittanceFile.Status.FAILED, 3)
    assert "failed 3 times" in file.error and "varying(38)" in file.error
    assert file.lease_expires_at is None
    assert AuditEvent.objects.filter(action="remittance_file.attempt_failed", target_id=str(file.pk)).count() == 2
    assert remittance_files_sweep_stuck() == []  # a failed file is not retried by the sweeper

    monkeypatch.undo()
    assert remittance_file_retry(file=file, actor=None, queue=False)
    file.refresh_from_db()
    assert (file.status, file.attempts, file.error) == (RemittanceFile.Status.RECEIVED, 0, "")
    remittance_file_ingest(file_id=file.pk, task_id="task-4")
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.INGESTED and file.claim_count == 1


def test_failed_attempt_rolls_back_only_the_failing_transaction_set(adjustment_rules, sample_bytes, monkeypatch):
    from django.db import DataError

    from denials.services import storing

    content = sample_bytes("oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt")
    file = remittance_file_receive(name="ne.835", content=content, source="command", queue=False)
    real_store = storing._store_transaction
    calls = {"n": 0}

    def fails_on_second(*args, **kwargs):
        calls["n"] += 1
        remittance = real_store(*args, **kwargs)  # writes the rows, then the database refuses
        if calls["n"] == 2:
            raise DataError("numeric field overflow")
        return remittance

    monkeypatch.setattr(storing, "_store_transaction", fails_on_second)
    remittance_file_ingest(file_id=file.pk, task_id="task-1")
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.RECEIVED and "numeric field overflow" in file.error
    assert Remittance.objects.filter(file=file).count() == 1  # the second set's rows were rolled back
    monkeypatch.setattr(storing, "_store_transaction", real_store)
    remittance_file_ingest(file_id=file.pk, task_id="task-2")
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.INGESTED and file.error == ""
    assert Remittance.objects.filter(file=file).count() == 3 and file.claim_count == 56


def test_a_file_whose_workers_keep_dying_stops_being_retried(
    adjustment_rules, sample_bytes, settings, django_capture_on_commit_callbacks
):
    from denials.services import remittance_files_sweep_stuck

    settings.INGEST_MAX_ATTEMPTS = 2
    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command", queue=False
    )
    # Attempt 1 dies without a word (its lease runs out); the sweeper re-queues the file.
    assert remittance_file_claim(file_id=file.pk, task_id="dead-1")
    _expire_lease(file)
    with django_capture_on_commit_callbacks(execute=False):
        assert remittance_files_sweep_stuck() == [file.pk]
    # Attempt 2, the last allowed, dies too: the sweeper now fails the file instead.
    assert remittance_file_claim(file_id=file.pk, task_id="dead-2")
    _expire_lease(file)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert remittance_files_sweep_stuck() == []
    assert queued == []
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.FAILED and "attempted 2 times" in file.error
    assert file.lease_expires_at is None


def test_a_redelivery_finding_attempts_used_up_fails_the_file(adjustment_rules, sample_bytes, settings):
    settings.INGEST_MAX_ATTEMPTS = 1
    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command", queue=False
    )
    assert remittance_file_claim(file_id=file.pk, task_id="dead-1")
    _expire_lease(file)
    remittance_file_ingest(file_id=file.pk, task_id="dead-1")  # the broker's redelivery, much later
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.FAILED and "never finished" in file.error
    assert not Remittance.objects.filter(file=file).exists()


def test_a_file_held_by_a_live_worker_cannot_be_claimed_by_another(adjustment_rules, sample_bytes):
    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command", queue=False
    )
    assert remittance_file_claim(file_id=file.pk, task_id="worker-a")
    assert not remittance_file_claim(file_id=file.pk, task_id="worker-b")
    # worker-b's ingest call is a no-op that writes nothing
    remittance_file_ingest(file_id=file.pk, task_id="worker-b")
    assert not Remittance.objects.exists()


def test_sweeper_requeues_a_file_whose_worker_stopped_reporting(
    adjustment_rules, sample_bytes, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    from denials.services import remittance_files_sweep_stuck

    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command", queue=False
    )
    assert remittance_file_claim(file_id=file.pk, task_id="dead-worker")
    RemittanceFile.objects.filter(pk=file.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert remittance_files_sweep_stuck() == [file.pk]
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.INGESTED  # eager Celery ran the re-queued task


def test_reversal_and_later_payment_are_linked_to_the_original(ingest):

    def file(clp: str, trace: str, cas: str = "") -> bytes:
        body = [
            "ST*835*0001",
            "BPR*I*0*C*CHK************20260301",
            f"TRN*1*{trace}*1",
            "N1*PR*ACME HEALTH",
            "REF*2U*ACME",
            "N1*PE*CLINIC*XX*1234567893",
            "LX*1",
            clp,
            "NM1*QC*1*DOE*JANE****MI*M1",
        ]
        if cas:
            body.append(cas)
        body.append(f"SE*{len(body) + 1}*0001")
        head = (
            "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260301*1200*^*00501*"
            + trace.zfill(9)
            + "*0*P*:"
        )
        segs = [head, "GS*HP*A*B*20260301*1200*1*X*005010X221A1", *body, "GE*1*1", "IEA*1*" + trace.zfill(9)]
        return ("~".join(segs) + "~").encode()

    first = ingest(file("CLP*PCN1*1*100*80**12*ICN1", "1", "CAS*CO*45*20"), name="a.835")
    reversal = ingest(file("CLP*PCN1*22*-100*-80**12*ICN1", "2", "CAS*CO*45*-20"), name="b.835")
    assert first.status == reversal.status == RemittanceFile.Status.INGESTED
    original = ClaimPayment.objects.get(remittance__file=first)
    reversed_ = ClaimPayment.objects.get(remittance__file=reversal)
    assert reversed_.reverses_id == original.pk
    assert reversed_.previous_payment_id == original.pk
    assert not Denial.objects.filter(claim=reversed_).exists()


def test_every_ingest_is_in_the_audit_trail(ingest, sample_bytes):
    file = ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    actions = list(AuditEvent.objects.filter(target_id=str(file.pk)).values_list("action", flat=True))
    assert "remittance_file.received" in actions and "remittance_file.ingested" in actions


def test_the_task_retries_a_failed_attempt_until_the_last_one(
    adjustment_rules, sample_bytes, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from django.db import DataError

    # Without a broker (tests, `make run`) Celery runs the task and its retries in-process.
    settings.INGEST_MAX_ATTEMPTS = 3
    _failing_store(monkeypatch, DataError("numeric field overflow"))
    with django_capture_on_commit_callbacks(execute=True):
        file = remittance_file_receive(
            name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command"
        )
    file.refresh_from_db()
    assert (file.status, file.attempts) == (RemittanceFile.Status.FAILED, 3)
    assert "numeric field overflow" in file.error


def test_the_task_retry_finishes_the_file_when_the_error_was_passing(
    adjustment_rules, sample_bytes, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import DataError

    from denials.services import storing

    real_store = storing._store_transaction
    calls = {"n": 0}

    def fails_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise DataError("deadlock detected")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(storing, "_store_transaction", fails_once)
    with django_capture_on_commit_callbacks(execute=True):
        file = remittance_file_receive(
            name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command"
        )
    file.refresh_from_db()
    assert (file.status, file.attempts, file.error) == (RemittanceFile.Status.INGESTED, 2, "")
    assert file.claim_count == 1


def test_ingesting_here_makes_every_allowed_attempt(adjustment_rules, sample_bytes, monkeypatch, settings):
    from django.db import DataError

    from denials.services.receiving import remittance_file_ingest_here

    settings.INGEST_MAX_ATTEMPTS = 2
    _failing_store(monkeypatch, DataError("numeric field overflow"))
    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="command", queue=False
    )
    file = remittance_file_ingest_here(file_id=file.pk, task_id="command-1")
    assert (file.status, file.attempts) == (RemittanceFile.Status.FAILED, 2)
