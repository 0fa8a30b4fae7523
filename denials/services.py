"""Writes for the denials app: every state change goes through here and is audited.

Ingestion: ``remittance_file_receive`` stores the bytes and queues the work;
``remittance_file_ingest`` (run by a Celery task) claims the file, reads it with the pure
reader, and stores each ST/SE transaction in its own database transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from denials.bulk import bulk_update_fields, insert_values
from denials.detection import AdjustmentClassifier, find_denials
from denials.models import (
    Adjustment,
    AdjustmentRule,
    AuditEvent,
    CategoryRule,
    ClaimPayment,
    Denial,
    Payer,
    Provider,
    ProviderAdjustment,
    QueueRule,
    RemarkCode,
    Remittance,
    RemittanceFile,
    ServiceLine,
    WorkQueue,
)
from denials.x12 import parsed as x12
from denials.x12.reader import read_835

logger = logging.getLogger(__name__)

Status = RemittanceFile.Status
MAX_FINDINGS_SHOWN = 50


# --- Audit ---------------------------------------------------------------------------
def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    old: Any = None,
    new: Any = None,
    note: str = "",
    actor_label: str = "",
) -> AuditEvent:
    """Write one audit row. Called inside the transaction that makes the change."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or ("" if actor is not None else "system"),
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        old=old,
        new=new,
        note=note,
    )


# --- Receiving a file ----------------------------------------------------------------
def remittance_file_receive(
    *,
    name: str,
    content: bytes,
    source: str,
    uploaded_by: AbstractBaseUser | None = None,
    queue: bool = True,
) -> RemittanceFile:
    """Store a received 835 byte for byte and queue its ingestion (after commit).

    The same bytes received again are recorded as a duplicate of the first copy and
    change nothing else; if that first copy had failed, it is retried instead.
    """
    digest = hashlib.sha256(content).hexdigest()
    user = uploaded_by if uploaded_by is not None and uploaded_by.is_authenticated else None
    with transaction.atomic():
        existing = RemittanceFile.objects.filter(sha256=digest).exclude(status=Status.DUPLICATE).first()
        if existing is None:
            try:
                with transaction.atomic():
                    new_file = RemittanceFile.objects.create(
                        original_name=name[:255],
                        content=content,
                        sha256=digest,
                        size=len(content),
                        source=source,
                        uploaded_by=user,
                    )
            except IntegrityError:
                # Another request stored the same bytes a moment ago.
                existing = RemittanceFile.objects.filter(sha256=digest).exclude(status=Status.DUPLICATE).get()
            else:
                audit_record(actor=user, action="remittance_file.received", target=new_file,
                             new={"status": new_file.status, "source": source, "sha256": digest})
                if queue:
                    _queue_ingest(new_file)
                return new_file

        if existing.status == Status.FAILED:
            remittance_file_retry(file=existing, actor=user, queue=queue)
            return existing
        duplicate = RemittanceFile.objects.create(
            original_name=name[:255],
            content=b"",  # the bytes are kept once, on the first copy
            sha256=digest,
            size=len(content),
            source=source,
            uploaded_by=user,
            status=Status.DUPLICATE,
            duplicate_of=existing,
            error=f"The same file was already received as #{existing.pk} ({existing.original_name}).",
            finished_at=timezone.now(),
        )
        audit_record(actor=user, action="remittance_file.duplicate", target=duplicate,
                     new={"status": Status.DUPLICATE, "duplicate_of": existing.pk})
        return duplicate


def _queue_ingest(file: RemittanceFile) -> None:
    from denials.tasks import ingest_remittance_file

    ingest_remittance_file.delay_on_commit(file.pk)


def remittance_file_retry(*, file: RemittanceFile, actor: AbstractBaseUser | None, queue: bool = True) -> bool:
    """Put a failed file back in line. Returns False when it was not failed."""
    with transaction.atomic():
        changed = RemittanceFile.objects.filter(pk=file.pk, status=Status.FAILED).update(
            status=Status.RECEIVED, error="", worker_task_id="", lease_expires_at=None, finished_at=None
        )
        if not changed:
            return False
        audit_record(actor=actor, action="remittance_file.retry", target=file,
                     old={"status": Status.FAILED}, new={"status": Status.RECEIVED})
        if queue:
            _queue_ingest(file)
    file.refresh_from_db()
    return True


# --- Claiming and ingesting ----------------------------------------------------------
def remittance_file_claim(*, file_id: int, task_id: str) -> bool:
    """Take a file for ingestion with one conditional update; False: someone else has it.

    Claimable: a received file; a file this same task already held (the broker delivered
    it again after the worker died); a file whose holder's lease ran out.
    """
    now = timezone.now()
    claimable = (
        Q(status=Status.RECEIVED)
        | Q(status=Status.PROCESSING, worker_task_id=task_id)
        | Q(status=Status.PROCESSING, lease_expires_at__lt=now)
    )
    return bool(
        RemittanceFile.objects.filter(claimable, pk=file_id).update(
            status=Status.PROCESSING,
            worker_task_id=task_id,
            lease_expires_at=now + dt.timedelta(seconds=settings.INGEST_LEASE_SECONDS),
            started_at=now,
            attempts=F("attempts") + 1,
        )
    )


def _renew_lease(file_id: int, task_id: str, done: int) -> bool:
    lease = timezone.now() + dt.timedelta(seconds=settings.INGEST_LEASE_SECONDS)
    return bool(
        RemittanceFile.objects.filter(pk=file_id, status=Status.PROCESSING, worker_task_id=task_id).update(
            transactions_done=done, lease_expires_at=lease
        )
    )


def _findings_text(findings: Iterable[x12.Finding]) -> str:
    items = list(findings)
    lines = [str(f) for f in items[:MAX_FINDINGS_SHOWN]]
    if len(items) > MAX_FINDINGS_SHOWN:
        lines.append(f"... and {len(items) - MAX_FINDINGS_SHOWN} more")
    return "\n".join(lines)


def _finish(file_id: int, task_id: str, *, status: str, **fields: Any) -> bool:
    updated = RemittanceFile.objects.filter(pk=file_id, status=Status.PROCESSING, worker_task_id=task_id).update(
        status=status, finished_at=timezone.now(), lease_expires_at=None, **fields
    )
    if updated:
        file = RemittanceFile.objects.get(pk=file_id)
        audit_record(actor=None, actor_label="ingest worker", action=f"remittance_file.{status}", target=file,
                     old={"status": Status.PROCESSING}, new={"status": status, "error": fields.get("error", "")})
    return bool(updated)


def adjustment_classifier() -> AdjustmentClassifier:
    return AdjustmentClassifier.from_rows(AdjustmentRule.objects.values_list("group_code", "carc", "kind"))


def remittance_file_ingest(*, file_id: int, task_id: str) -> RemittanceFile:
    """Read and store one claimed file. Safe to run twice: stored transactions are skipped."""
    if not remittance_file_claim(file_id=file_id, task_id=task_id):
        return RemittanceFile.objects.get(pk=file_id)
    file = RemittanceFile.objects.get(pk=file_id)
    try:
        parsed = read_835(bytes(file.content))
    except Exception as exc:  # the reader should never raise; if it does, keep the file and say so
        logger.exception("reader crashed on file %s", file_id)
        _finish(file_id, task_id, status=Status.FAILED, error=f"The file could not be read: {exc!r}")
        return RemittanceFile.objects.get(pk=file_id)
    if not parsed.ok:
        _finish(
            file_id, task_id, status=Status.FAILED, error=_findings_text(parsed.errors),
            warnings=[str(w) for w in parsed.warnings[:MAX_FINDINGS_SHOWN]], x12_version=parsed.version[:20],
        )
        return RemittanceFile.objects.get(pk=file_id)

    RemittanceFile.objects.filter(pk=file_id).update(
        transactions_total=len(parsed.transactions), x12_version=parsed.version[:20]
    )
    classifier = adjustment_classifier()
    elsewhere: list[int] = []
    for index, txn in enumerate(parsed.transactions, start=1):
        stored_in = remittance_store(file=file, transaction_set=txn, classifier=classifier)
        if stored_in is not None and stored_in != file.pk:
            elsewhere.append(stored_in)
        if not _renew_lease(file_id, task_id, index):
            logger.warning("file %s was taken over by another worker; stopping", file_id)
            return RemittanceFile.objects.get(pk=file_id)

    warnings = [str(w) for w in parsed.warnings[:MAX_FINDINGS_SHOWN]]
    if len(parsed.warnings) > MAX_FINDINGS_SHOWN:
        warnings.append(f"... and {len(parsed.warnings) - MAX_FINDINGS_SHOWN} more warnings")
    totals = _file_totals(file_id)
    if elsewhere and len(elsewhere) == len(parsed.transactions):
        first = elsewhere[0]
        _finish(
            file_id, task_id, status=Status.DUPLICATE, duplicate_of_id=first, warnings=warnings,
            error=f"Every remittance in this file was already ingested from file #{first}; nothing new was stored.",
            transactions_skipped=len(elsewhere), **totals,
        )
    else:
        if elsewhere:
            warnings.insert(0, f"{len(elsewhere)} remittance(s) were already ingested from file(s) "
                               f"{', '.join('#' + str(i) for i in sorted(set(elsewhere)))} and were skipped.")
        # Triage is part of the same work: a file is "ingested" once its denials are triaged.
        denials_triage(file_id=file_id)
        _finish(file_id, task_id, status=Status.INGESTED, warnings=warnings,
                transactions_skipped=len(elsewhere), **totals)
        _after_ingest(file_id)
    return RemittanceFile.objects.get(pk=file_id)


def _after_ingest(file_id: int) -> None:
    """Follow-up work once a file is stored: the strict 5010 check, in the background."""
    from denials.tasks import validate_remittance_file

    if settings.STRICT_X12_VALIDATION:
        validate_remittance_file.delay_on_commit(file_id)


def _file_totals(file_id: int) -> dict[str, Any]:
    claims = ClaimPayment.objects.filter(remittance__file_id=file_id)
    agg = claims.aggregate(n=Count("id"), paid=Sum("paid"), charge=Sum("charge"))
    first_payer = Remittance.objects.filter(file_id=file_id).order_by("id").values_list("payer_id", flat=True).first()
    return {
        "claim_count": agg["n"] or 0,
        "total_paid": agg["paid"] or Decimal("0"),
        "total_charge": agg["charge"] or Decimal("0"),
        "service_line_count": ServiceLine.objects.filter(claim__remittance__file_id=file_id).count(),
        "adjustment_count": Adjustment.objects.filter(claim__remittance__file_id=file_id).count(),
        "denial_count": Denial.objects.filter(claim__remittance__file_id=file_id).count(),
        "payer_id": first_payer,
    }


# --- Storing one transaction set -----------------------------------------------------
def _payer_key(party: x12.Party) -> tuple[str, str, str]:
    """(key, identifier, qualifier): REF*2U wins, then N1*PR N104, then the name."""
    if party.additional_ids.get("2U"):
        return f"2U:{party.additional_ids['2U']}", party.additional_ids["2U"], "2U"
    if party.identifier:
        return f"{party.id_qualifier or 'ID'}:{party.identifier}", party.identifier, party.id_qualifier
    name = " ".join(party.name.upper().split()) or "UNKNOWN PAYER"
    return f"NAME:{name}", "", ""


def _dedupe_key(txn: x12.Transaction, payer_key: str) -> str:
    """What makes two copies of one remittance the same, whatever envelope they came in."""
    first = txn.claims[0].patient_control_number if txn.claims else ""
    charge = sum((c.charge for c in txn.claims), Decimal("0"))
    parts = [
        payer_key, txn.payee.npi, txn.payee.tin, txn.payee.identifier, txn.trace_number,
        str(txn.payment_amount), str(txn.payment_date or ""), str(len(txn.claims)), str(charge), first,
        # Without a trace number, fall back on the envelope's own control numbers.
        "" if txn.trace_number else f"{txn.interchange_control_number}/{txn.control_number}",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def remittance_store(
    *, file: RemittanceFile, transaction_set: x12.Transaction, classifier: AdjustmentClassifier
) -> int | None:
    """Store one ST/SE transaction: all of it or none of it.

    Returns the id of the file the remittance is stored under: this file's id when it was
    stored now (or by an earlier attempt at this file), another file's id when it is a
    duplicate of a remittance received before.
    """
    txn = transaction_set
    payer_key, payer_identifier, qualifier = _payer_key(txn.payer)
    dedupe_key = _dedupe_key(txn, payer_key)
    existing = Remittance.objects.filter(dedupe_key=dedupe_key).values_list("file_id", flat=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            _store_transaction(file, txn, dedupe_key, payer_key, payer_identifier, qualifier, classifier)
    except IntegrityError:
        existing = Remittance.objects.filter(dedupe_key=dedupe_key).values_list("file_id", flat=True).first()
        if existing is None:
            raise
        return existing
    return file.pk


def _store_transaction(
    file: RemittanceFile,
    txn: x12.Transaction,
    dedupe_key: str,
    payer_key: str,
    payer_identifier: str,
    qualifier: str,
    classifier: AdjustmentClassifier,
) -> Remittance:
    payer, _ = Payer.objects.get_or_create(
        payer_key=payer_key[:120],
        defaults={"name": (txn.payer.name or payer_identifier or "Unknown payer")[:200],
                  "identifier": payer_identifier[:80], "identifier_qualifier": qualifier[:4]},
    )
    payee, _ = Provider.objects.get_or_create(
        npi=txn.payee.npi[:15], tin=txn.payee.tin[:15], name=(txn.payee.name or "Unknown payee")[:200]
    )
    remittance = Remittance.objects.create(
        file=file,
        dedupe_key=dedupe_key,
        payer=payer,
        payee=payee,
        interchange_control_number=txn.interchange_control_number[:20],
        group_control_number=txn.group_control_number[:20],
        transaction_control_number=txn.control_number[:20],
        sender_id=txn.sender_id[:30],
        handling_code=txn.handling_code[:2],
        payment_amount=txn.payment_amount,
        credit_debit=txn.credit_debit[:1],
        payment_method=txn.payment_method[:3],
        payment_date=txn.payment_date,
        production_date=txn.production_date,
        trace_number=txn.trace_number[:50],
        claim_count=len(txn.claims),
        warnings=[str(w) for w in txn.warnings],
    )
    insert_values(
        ProviderAdjustment,
        ["remittance_id", "sequence", "provider_identifier", "fiscal_period_date", "reason_code", "reference",
         "amount"],
        [(remittance.pk, i, p.provider_identifier[:50], p.fiscal_period_date, p.reason_code[:4], p.reference[:60],
          p.amount) for i, p in enumerate(txn.provider_adjustments, start=1)],
    )
    # Plain tuples straight to COPY/executemany: tens of thousands of rows per remittance.
    claim_ids = insert_values(ClaimPayment, CLAIM_COLUMNS,
                              [_claim_values(remittance.pk, payer.pk, i, c) for i, c in enumerate(txn.claims, start=1)])
    line_rows: list[tuple[Any, ...]] = []
    line_keys: list[tuple[int, int]] = []
    for claim_id, claim in zip(claim_ids, txn.claims, strict=True):
        for line in claim.service_lines:
            line_rows.append(_line_values(claim_id, line))
            line_keys.append((claim_id, line.sequence))
    line_id_by_key = dict(zip(line_keys, insert_values(ServiceLine, LINE_COLUMNS, line_rows), strict=True))

    adjustment_rows: list[tuple[Any, ...]] = []
    adjustment_refs: list[int] = []  # id() of the parsed adjustment, to find its row id again
    remark_rows: list[tuple[Any, ...]] = []
    for claim_id, claim in zip(claim_ids, txn.claims, strict=True):
        seq = 0
        for adj in claim.adjustments:
            seq += 1
            adjustment_rows.append((claim_id, None, seq, adj.group_code[:2], adj.reason_code[:5], adj.amount,
                                    adj.quantity))
            adjustment_refs.append(id(adj))
        rseq = 0
        for code in claim.remark_codes:
            rseq += 1
            remark_rows.append((claim_id, None, rseq, code[:8], RemarkCode.Source.CLAIM))
        for line in claim.service_lines:
            line_id = line_id_by_key[(claim_id, line.sequence)]
            for adj in line.adjustments:
                seq += 1
                adjustment_rows.append((claim_id, line_id, seq, adj.group_code[:2], adj.reason_code[:5], adj.amount,
                                        adj.quantity))
                adjustment_refs.append(id(adj))
            for code in line.remark_codes:
                rseq += 1
                remark_rows.append((claim_id, line_id, rseq, code[:8], RemarkCode.Source.LINE))
    adjustment_ids = insert_values(
        Adjustment, ["claim_id", "line_id", "sequence", "group_code", "reason_code", "amount", "quantity"],
        adjustment_rows,
    )
    adjustment_id_by_ref = dict(zip(adjustment_refs, adjustment_ids, strict=True))
    insert_values(RemarkCode, ["claim_id", "line_id", "sequence", "code", "source"], remark_rows)

    denial_rows: list[tuple[Any, ...]] = []
    denial_adjustments: list[list[int]] = []
    for claim_id, claim in zip(claim_ids, txn.claims, strict=True):
        for finding in find_denials(claim, classifier):
            line = next((ln for ln in claim.service_lines if ln.sequence == finding.line_sequence), None)
            line_id = line_id_by_key[(claim_id, line.sequence)] if line is not None else None
            denial_rows.append((
                claim_id, line_id, payer.pk, finding.kind, finding.group_code[:2], finding.carc[:5],
                " ".join(finding.rarcs)[:80], finding.amount,
                (line.service_date if line is not None else None) or claim.statement_from,
            ))
            denial_adjustments.append([adjustment_id_by_ref[id(a)] for a in finding.adjustments
                                       if id(a) in adjustment_id_by_ref])
    denial_ids = insert_values(
        Denial, ["claim_id", "line_id", "payer_id", "kind", "group_code", "carc", "rarcs", "amount", "service_date"],
        denial_rows,
    )
    insert_values(
        Denial.adjustments.through, ["denial_id", "adjustment_id"],
        [(d, a) for d, adjs in zip(denial_ids, denial_adjustments, strict=True) for a in adjs],
    )
    _link_claim_history(
        [(cid, c.patient_control_number[:38], c.payer_claim_number[:50], c.status_code[:2])
         for cid, c in zip(claim_ids, txn.claims, strict=True)],
        payer,
    )
    return remittance


CLAIM_COLUMNS = [
    "remittance_id", "sequence", "payer_id", "patient_control_number", "status_code", "charge", "paid",
    "patient_responsibility", "filing_indicator", "payer_claim_number", "facility_type", "frequency_code",
    "drg_code", "patient_last_name", "patient_first_name", "patient_member_id", "insured_member_id",
    "rendering_provider_name", "rendering_provider_npi", "statement_from", "statement_to", "received_date",
    "balanced", "warnings",
]


def _claim_values(remittance_id: int, payer_id: int, sequence: int, c: x12.ClaimPayment) -> tuple[Any, ...]:
    return (
        remittance_id, sequence, payer_id, c.patient_control_number[:38], c.status_code[:2], c.charge, c.paid,
        c.patient_responsibility, c.filing_indicator[:2], c.payer_claim_number[:50], c.facility_type[:3],
        c.frequency_code[:1], c.drg_code[:10], c.patient_last_name[:60], c.patient_first_name[:35],
        (c.patient_member_id or c.insured_member_id)[:80], c.insured_member_id[:80], c.rendering_provider_name[:120],
        c.rendering_provider_npi[:15], c.statement_from, c.statement_to, c.received_date, not c.warnings,
        [str(w) for w in c.warnings],
    )


LINE_COLUMNS = [
    "claim_id", "sequence", "qualifier", "procedure_code", "modifier1", "modifier2", "modifier3", "modifier4",
    "revenue_code", "original_procedure_code", "units", "charge", "paid", "allowed", "service_date",
    "service_date_end", "line_control_number",
]


def _line_values(claim_id: int, line: x12.ServiceLine) -> tuple[Any, ...]:
    mods = ([m[:2] for m in line.modifiers] + ["", "", "", ""])[:4]
    return (
        claim_id, line.sequence, line.qualifier[:2], line.procedure_code[:48], *mods, line.revenue_code[:48],
        line.original_procedure_code[:48], line.units, line.charge, line.paid, line.allowed, line.service_date,
        line.service_date_end, line.line_control_number[:50],
    )


def _link_claim_history(claims: list[tuple[int, str, str, str]], payer: Payer) -> None:
    """Link each payment to the earlier payment of the same claim, and reversals to what they reverse.

    ``claims`` are (id, patient control number, payer claim number, status) in file order.
    One query for the whole batch: earlier payments by the same payer with the same
    patient control numbers.
    """
    pcns = {pcn for _, pcn, _, _ in claims if pcn}
    if not pcns:
        return
    batch_ids = {cid for cid, _, _, _ in claims}
    earlier: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for pk, pcn, icn, status in (
        ClaimPayment.objects.filter(payer=payer, patient_control_number__in=pcns)
        .exclude(pk__in=batch_ids)
        .order_by("remittance__payment_date", "id")
        .values_list("id", "patient_control_number", "payer_claim_number", "status_code")
    ):
        earlier.setdefault((pcn, icn), []).append((pk, status))
    links: list[tuple[int, int, int | None]] = []  # (claim, previous, reverses)
    for cid, pcn, icn, status in claims:  # in file order: a later claim in the batch sees earlier ones
        history = earlier.setdefault((pcn, icn), [])
        if history:
            reverses = None
            if status == "22":
                paid = [pk for pk, s in history if s != "22"]
                reverses = paid[-1] if paid else None
            links.append((cid, history[-1][0], reverses))
        history.append((cid, status))
    if links:
        with connection.cursor() as cursor:
            cursor.executemany(
                f'UPDATE "{ClaimPayment._meta.db_table}" SET "previous_payment_id" = %s, "reverses_id" = %s '  # noqa: S608
                'WHERE "id" = %s',
                [(previous, reverses, cid) for cid, previous, reverses in links],
            )


# --- Reference data defaults ---------------------------------------------------------
def adjustment_rules_load_defaults() -> int:
    """Seed the routine/denial table with the shipped defaults; existing rows are kept."""
    from denials.detection import DEFAULT_ADJUSTMENT_RULES

    created = 0
    for group, carc, kind, note in DEFAULT_ADJUSTMENT_RULES:
        _, was_created = AdjustmentRule.objects.get_or_create(
            group_code=group, carc=carc, defaults={"kind": kind, "note": note}
        )
        created += was_created
    return created


# --- Strict validation results -------------------------------------------------------
def remittance_file_record_validation(*, file_id: int, ok: bool, findings: list[dict[str, Any]], ack_999: str,
                                      error: str = "") -> None:
    status = RemittanceFile.Validation.PASSED if ok else RemittanceFile.Validation.FINDINGS
    if error and not findings:
        findings = [{"segment_number": None, "segment_id": "", "code": "", "message": error, "severity": "error"}]
    RemittanceFile.objects.filter(pk=file_id).update(
        validation_status=status, validation_findings=findings[:200], acknowledgement_999=ack_999
    )


def remittance_files_sweep_stuck() -> list[int]:
    """Re-queue files whose worker stopped reporting (lease expired). Returns their ids."""
    now = timezone.now()
    stuck = list(
        RemittanceFile.objects.filter(status=Status.PROCESSING, lease_expires_at__lt=now).values_list("pk", flat=True)
    )
    stuck += list(
        # Received long ago but never picked up (the queue lost the message).
        RemittanceFile.objects.filter(
            status=Status.RECEIVED, received_at__lt=now - dt.timedelta(seconds=settings.INGEST_LEASE_SECONDS)
        ).values_list("pk", flat=True)
    )
    for file_id in stuck:
        file = RemittanceFile(pk=file_id)
        transaction.on_commit(lambda fid=file_id: _requeue(fid))
        logger.info("re-queueing stuck remittance file %s", file.pk)
    return stuck


def _requeue(file_id: int) -> None:
    from denials.tasks import ingest_remittance_file

    ingest_remittance_file.delay(file_id)


# --- Triage --------------------------------------------------------------------------
TRIAGE_CHUNK = 2000
HOSPITAL_FACILITY_PREFIX = "13"  # CLP08 13x: hospital outpatient


def category_rules_load_defaults() -> int:
    """Seed the category rule table (admin-editable) from the triage module's defaults,
    and each CARC's suggested category. Existing rules are kept."""
    from denials.triage import DEFAULT_CATEGORY_RULES
    from ncci.models import Carc

    created = 0
    if not CategoryRule.objects.exists():
        CategoryRule.objects.bulk_create(
            CategoryRule(category=r.category, group_code=r.group_code, carc=r.carc, rarc=r.rarc,
                         procedure_code=r.procedure_code, priority=r.priority)
            for r in DEFAULT_CATEGORY_RULES
        )
        created = len(DEFAULT_CATEGORY_RULES)
    by_carc = {r.carc: r.category for r in DEFAULT_CATEGORY_RULES if r.carc and not r.rarc and not r.group_code}
    stale = list(Carc.objects.filter(default_category="", code__in=by_carc))
    for carc in stale:
        carc.default_category = by_carc[carc.code]
    Carc.objects.bulk_update(stale, ["default_category"])
    return created


def _pure_category_rules() -> list[Any]:
    from denials.triage import CategoryRule as Rule

    return [
        Rule(category=r.category, group_code=r.group_code, carc=r.carc, rarc=r.rarc,
             payer_id=str(r.payer_id or ""), procedure_code=r.procedure_code, priority=r.priority)
        for r in CategoryRule.objects.all()
    ]


def _queue_router() -> Any:
    """A function (category, payer_id) -> queue id, most specific rule first."""
    rules = sorted(
        QueueRule.objects.values_list("queue_id", "category", "payer_id", "priority"),
        key=lambda r: (-(bool(r[1]) + bool(r[2])), r[3]),
    )

    def route(category: str, payer_id: int) -> int | None:
        for queue_id, rule_category, rule_payer, _ in rules:
            if rule_category and rule_category != category and not (
                rule_category == "bundling" and category.startswith("bundling-")
            ):
                continue
            if rule_payer and rule_payer != payer_id:
                continue
            return queue_id
        return None

    return route


class _TriageRow:
    """What triage reads of a denial, its claim and payer, and what it writes back.

    A plain object instead of a model instance: triage handles hundreds of thousands of
    denials, and building ORM instances cost more than the triage itself.
    """

    #: (query path, attribute) for what is read; the order of ``values_list(*SOURCE)``.
    FIELDS = (
        ("id", "pk"), ("claim_id", "claim_id"), ("line_id", "line_id"), ("payer_id", "payer_id"),
        ("group_code", "group_code"), ("carc", "carc"), ("rarcs", "rarcs"), ("amount", "amount"),
        ("category", "category"), ("action", "action"), ("queue_id", "queue_id"),
        ("claim__status_code", "claim_status"), ("claim__frequency_code", "frequency_code"),
        ("claim__facility_type", "facility_type"), ("claim__remittance__payment_date", "payment_date"),
        ("claim__remittance__production_date", "production_date"),
        ("payer__appeal_window_days", "appeal_window_days"),
    )
    SOURCE = tuple(path for path, _ in FIELDS)
    __slots__ = (
        "action", "action_modifier", "amount", "appeal_window_days", "carc", "category", "claim_id",
        "claim_status", "due_date", "expected_recovery", "explanation", "facility_type", "frequency_code",
        "group_code", "line_id", "ncci_column1", "ncci_column2", "ncci_deletion_date", "ncci_effective_date",
        "ncci_modifier_indicator", "ncci_quarter", "ncci_rationale", "ncci_setting", "pair_line_id", "payer_id",
        "payment_date", "pk", "priority", "production_date", "ptp_edit_id", "queue_id", "rarcs",
        "success_probability", "triaged_at",
    )

    def __init__(self, *values: Any) -> None:
        for (_, name), value in zip(self.FIELDS, values, strict=True):
            setattr(self, name, value)


def _outcome_stats(team_ids: set[int]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """This team's decided outcomes: wins and decisions, by NCCI pair and by CARC + payer."""
    decided = Denial.objects.filter(queue__team_id__in=team_ids).exclude(outcome__in=["", Denial.Outcome.WITHDRAWN])
    wins = Q(outcome__in=[Denial.Outcome.OVERTURNED, Denial.Outcome.PARTIALLY_PAID])
    stats: dict[tuple[Any, ...], tuple[int, int]] = {}
    for row in (decided.exclude(ncci_column1="").values("queue__team_id", "ncci_column1", "ncci_column2")
                .annotate(n=Count("id"), won=Count("id", filter=wins))):
        stats[("edit", row["queue__team_id"], row["ncci_column1"], row["ncci_column2"])] = (row["won"], row["n"])
    for row in (decided.values("queue__team_id", "carc", "payer_id")
                .annotate(n=Count("id"), won=Count("id", filter=wins))):
        stats[("carc", row["queue__team_id"], row["carc"], row["payer_id"])] = (row["won"], row["n"])
    return stats


def denials_triage(
    *, denial_ids: Iterable[int] | None = None, file_id: int | None = None, only_unworked: bool = True,
    actor: AbstractBaseUser | None = None,
) -> int:
    """Triage denials: category, queue, next action, explanation, priority and due date.

    Batched: per chunk of denials, one query for the claims' lines and one for the PTP
    edits between their codes; no query per denial. Worked denials are left alone unless
    ``only_unworked`` is False. Returns how many denials changed.
    """
    from denials import triage as rules_core
    from ncci.models import PtpEdit
    from ncci.services import bypass_modifiers

    denials = Denial.objects.all()
    if denial_ids is not None:
        denials = denials.filter(pk__in=list(denial_ids))
    if file_id is not None:
        denials = denials.filter(claim__remittance__file_id=file_id)
    if only_unworked:
        denials = denials.filter(status=Denial.Status.OPEN, assignee__isnull=True)
    ids = list(denials.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0

    category_rules = _pure_category_rules()
    # Index the rules by CARC so each denial is matched against a handful, not hundreds.
    rules_by_carc: dict[str, list[Any]] = {}
    for rule in category_rules:
        rules_by_carc.setdefault(rule.carc, []).append(rule)
    route = _queue_router()
    modifiers = bypass_modifiers() or rules_core.BYPASS_MODIFIERS
    queue_team = dict(WorkQueue.objects.values_list("pk", "team_id"))
    stats = _outcome_stats(set(queue_team.values()))
    from ncci.models import Carc, Rarc

    descriptions = {f"CARC:{c}": d for c, d in Carc.objects.values_list("code", "description")}
    descriptions.update({f"RARC:{c}": d for c, d in Rarc.objects.values_list("code", "description")})
    today = timezone.localdate()
    now = timezone.now()
    denial_type_id = _denial_content_type().pk
    changed_total = 0
    fields = ["category", "action", "action_modifier", "explanation", "queue", "success_probability",
              "expected_recovery", "priority", "due_date", "triaged_at", "ptp_edit", "pair_line", "ncci_column1",
              "ncci_column2", "ncci_modifier_indicator", "ncci_effective_date", "ncci_deletion_date", "ncci_quarter",
              "ncci_setting", "ncci_rationale"]

    for start in range(0, len(ids), TRIAGE_CHUNK):
        chunk = [
            _TriageRow(*row) for row in Denial.objects.filter(pk__in=ids[start:start + TRIAGE_CHUNK])
            .values_list(*_TriageRow.SOURCE)
        ]
        claim_ids = {d.claim_id for d in chunk}
        # Plain facts, not model instances: a chunk's claims hold thousands of lines.
        lines_by_claim: dict[int, list[Any]] = {}
        for pk, claim_id, code, m1, m2, m3, m4, service_date, units in (
            ServiceLine.objects.filter(claim_id__in=claim_ids)
            .order_by("claim_id", "sequence")
            .values_list("id", "claim_id", "procedure_code", "modifier1", "modifier2", "modifier3", "modifier4",
                         "service_date", "units")
        ):
            lines_by_claim.setdefault(claim_id, []).append(rules_core.LineFacts(
                line_id=pk, procedure_code=code, modifiers=tuple(m for m in (m1, m2, m3, m4) if m),
                service_date=service_date, units=units,
            ))
        codes = {ln.procedure_code for lines in lines_by_claim.values() for ln in lines}
        edits_by_pair: dict[tuple[str, str, str], list[Any]] = {}
        for edit in PtpEdit.objects.filter(column1__in=codes, column2__in=codes):
            edits_by_pair.setdefault((edit.setting, edit.column1, edit.column2), []).append(
                rules_core.PtpEditFact(
                    column1=edit.column1, column2=edit.column2, effective_date=edit.effective_date,
                    deletion_date=edit.deletion_date, modifier_indicator=edit.modifier_indicator,
                    rationale=edit.rationale, quarter=edit.quarter, setting=edit.setting, edit_id=edit.pk,
                )
            )
        audit_rows: list[tuple[Any, ...]] = []
        for denial in chunk:
            lines = lines_by_claim.get(denial.claim_id, [])
            setting = "hospital" if denial.facility_type.startswith(HOSPITAL_FACILITY_PREFIX) else "practitioner"
            line_fact = next((ln for ln in lines if ln.line_id == denial.line_id), None) if denial.line_id else None
            others = tuple(ln for ln in lines if ln.line_id != denial.line_id)
            candidate_edits: list[Any] = []
            if line_fact is not None:
                for other in others:
                    candidate_edits += edits_by_pair.get((setting, other.procedure_code, line_fact.procedure_code), [])
                    candidate_edits += edits_by_pair.get((setting, line_fact.procedure_code, other.procedure_code), [])
            facts = rules_core.DenialFacts(
                group_code=denial.group_code, carc=denial.carc, rarcs=tuple(denial.rarcs.split()),
                amount=denial.amount, payer_id=str(denial.payer_id), claim_status=denial.claim_status,
                line=line_fact, other_lines=others, frequency_code=denial.frequency_code,
            )
            candidate_rules = rules_by_carc.get(denial.carc.strip().upper(), []) + rules_by_carc.get("", [])
            result = rules_core.triage(facts=facts, rules=candidate_rules, edits=candidate_edits,
                                       bypass_modifiers=modifiers, descriptions=descriptions)
            queue_id = route(result.category, denial.payer_id)
            team_id = queue_team.get(queue_id) if queue_id else None
            finding = result.finding
            if finding is not None:
                won, decided = stats.get(("edit", team_id, finding.column1_code, finding.column2_code), (0, 0))
            else:
                won, decided = stats.get(("carc", team_id, denial.carc, denial.payer_id), (0, 0))
            probability = rules_core.success_probability(category=result.category, wins=won, decided=decided)
            if result.write_off or result.action == rules_core.WRITE_OFF:
                probability = Decimal("0")
            remitted = denial.payment_date or denial.production_date
            due = remitted + dt.timedelta(days=denial.appeal_window_days) if remitted else None
            days_to_due = (due - today).days if due else None
            old = {"category": denial.category, "queue": denial.queue_id, "action": denial.action}
            denial.category = result.category
            denial.action = result.action
            denial.action_modifier = result.action_modifier[:2]
            denial.explanation = result.explanation
            denial.queue_id = queue_id
            denial.success_probability = probability.quantize(Decimal("0.0001"))
            denial.expected_recovery = (denial.amount * probability).quantize(Decimal("0.01"))
            denial.priority = rules_core.priority_score(
                amount=denial.amount, probability=probability, days_to_due=days_to_due
            ).quantize(Decimal("0.0001"))
            denial.due_date = due
            denial.triaged_at = now
            _apply_finding(denial, finding)
            new = {"category": denial.category, "queue": denial.queue_id, "action": denial.action}
            if new != old:
                changed_total += 1
                audit_rows.append((
                    actor.pk if actor is not None and actor.is_authenticated else None,
                    "" if actor is not None else "triage", "denial.triaged", denial_type_id, str(denial.pk),
                    f"{denial.group_code}-{denial.carc} {denial.amount}", old if old["category"] else None, new,
                ))
        with transaction.atomic():
            bulk_update_fields(chunk, fields, model=Denial)
            insert_values(AuditEvent, ["actor_id", "actor_label", "action", "target_type_id", "target_id",
                                       "target_repr", "old", "new"], audit_rows)
    return changed_total


def _apply_finding(denial: Any, finding: Any) -> None:
    if finding is None:
        denial.ptp_edit_id = denial.pair_line_id = None
        denial.ncci_column1 = denial.ncci_column2 = denial.ncci_modifier_indicator = ""
        denial.ncci_effective_date = denial.ncci_deletion_date = None
        denial.ncci_quarter = denial.ncci_setting = denial.ncci_rationale = ""
        return
    edit = finding.edit
    denial.ptp_edit_id = edit.edit_id
    denial.pair_line_id = finding.other_line.line_id
    denial.ncci_column1 = edit.column1
    denial.ncci_column2 = edit.column2
    denial.ncci_modifier_indicator = edit.modifier_indicator
    denial.ncci_effective_date = edit.effective_date
    denial.ncci_deletion_date = edit.deletion_date
    denial.ncci_quarter = edit.quarter
    denial.ncci_setting = edit.setting
    denial.ncci_rationale = edit.rationale[:120]


def _denial_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Denial)


# --- Working denials (the coder's worklist) -------------------------------------------
class DenialConflict(Exception):
    """Someone else changed the denial since the page was loaded: nothing was saved."""

    def __init__(self, current: Denial) -> None:
        self.current = current
        who = ""
        last = (AuditEvent.objects.filter(target_type=_denial_content_type(), target_id=str(current.pk))
                .select_related("actor").first())
        if last is not None:
            who = f" {last.actor or last.actor_label or 'someone'} {last.action.split('.', 1)[-1].replace('_', ' ')}"
            who += f" at {timezone.localtime(last.at):%H:%M:%S}."
        super().__init__(
            f"This denial was changed by someone else after you opened it.{who} Nothing was saved; "
            f"the page now shows the current state (status {current.get_status_display().lower()}"
            f"{', assigned to ' + str(current.assignee) if current.assignee_id else ''})."
        )


class DenialActionRefused(Exception):
    """The action is not allowed for this denial (a rule, not a conflict)."""


OUTCOME_ACTIONS = {
    "corrected-claim": Denial.Status.CORRECTED,
    "appeal": Denial.Status.APPEALED,
    "write-off": Denial.Status.WRITTEN_OFF,
    "bill-patient": Denial.Status.BILLED_PATIENT,
    "request-info": Denial.Status.INFO_REQUESTED,
    "escalate": Denial.Status.ESCALATED,
    "reopen": Denial.Status.OPEN,
}
AUDITED_FIELDS = ("status", "assignee_id", "chosen_modifier", "resolution_reason", "outcome", "recovered_amount")


def _check_version(denial: Denial, expected_version: int) -> None:
    """A page that is out of date hears about the conflict before any rule about the action."""
    if denial.version != expected_version:
        raise DenialConflict(Denial.objects.select_related("assignee").get(pk=denial.pk))


def _snapshot(denial: Denial) -> dict[str, Any]:
    return {f: (str(getattr(denial, f)) if getattr(denial, f) is not None else None) for f in AUDITED_FIELDS}


def _denial_update(*, denial: Denial, expected_version: int, actor: AbstractBaseUser | None, action: str,
                   note: str = "", **changes: Any) -> Denial:
    """The one write path for a denial a person works: versioned, atomic, audited.

    The UPDATE only matches the version the person saw, so a concurrent change makes it
    match nothing and the save is refused with the current state, never merged silently.
    """
    with transaction.atomic():
        old = _snapshot(denial)
        updated = Denial.objects.filter(pk=denial.pk, version=expected_version).update(
            version=F("version") + 1, updated_at=timezone.now(), **changes
        )
        current = Denial.objects.select_related("assignee").get(pk=denial.pk)
        if not updated:
            raise DenialConflict(current)
        audit_record(actor=actor, action=f"denial.{action}", target=current, old=old, new=_snapshot(current),
                     note=note)
        return current


def denial_assign(*, denial: Denial, assignee: AbstractBaseUser | None, actor: AbstractBaseUser,
                  expected_version: int) -> Denial:
    """Assign (or unassign, with None). Coders may only take work for themselves;
    managers and admins may hand it to anyone on the queue's team."""
    from denials.roles import is_manager

    _check_version(denial, expected_version)
    if assignee is not None and assignee.pk != actor.pk and not is_manager(actor):
        raise DenialActionRefused("Only a manager can assign a denial to someone else.")
    if denial.assignee_id and denial.assignee_id != actor.pk and not is_manager(actor):
        raise DenialActionRefused(f"{denial.assignee} is working this denial; ask a manager to reassign it.")
    if assignee is not None and denial.queue_id and not is_manager(assignee) and not denial.queue.team.members.filter(
        pk=assignee.pk
    ).exists():
        raise DenialActionRefused(f"{assignee} is not on the {denial.queue.team} team that owns this queue.")
    status = denial.status
    if assignee is not None and status == Denial.Status.OPEN:
        status = Denial.Status.IN_PROGRESS
    elif assignee is None and status == Denial.Status.IN_PROGRESS:
        status = Denial.Status.OPEN  # released: back in line for "next denial"
    return _denial_update(denial=denial, expected_version=expected_version, actor=actor,
                          action="assigned" if assignee else "unassigned", assignee=assignee, status=status)


def denial_take_next(*, user: AbstractBaseUser, queue_id: int | None = None) -> Denial | None:
    """Claim the highest-priority open, unassigned denial the user may work.

    A conditional update claims it; if a colleague took it a moment earlier, try the next.
    """
    from denials.selectors import denials_visible_to

    candidates = denials_visible_to(user=user).filter(status=Denial.Status.OPEN, assignee__isnull=True)
    if queue_id:
        candidates = candidates.filter(queue_id=queue_id)
    for _ in range(10):
        pick = candidates.order_by("-priority", "due_date", "id").values_list("pk", "version").first()
        if pick is None:
            return None
        try:
            return denial_assign(denial=Denial.objects.get(pk=pick[0]), assignee=user, actor=user,
                                 expected_version=pick[1])
        except DenialConflict:
            continue
    return None


def denial_record_outcome(
    *,
    denial: Denial,
    action: str,
    actor: AbstractBaseUser,
    expected_version: int,
    modifier: str = "",
    reason: str = "",
) -> Denial:
    """Mark what was done: corrected claim, appeal, write-off, bill patient, request
    information, escalate, or reopen. Refuses what the rules forbid, with the reason."""
    _check_version(denial, expected_version)
    if action not in OUTCOME_ACTIONS:
        raise DenialActionRefused(f"Unknown action {action!r}.")
    modifier = modifier.strip().upper()
    reason = reason.strip()
    changes: dict[str, Any] = {"status": OUTCOME_ACTIONS[action], "worked_at": timezone.now()}
    if action == "corrected-claim":
        from denials.triage import BYPASS_MODIFIERS
        from ncci.services import bypass_modifiers

        if not modifier:
            raise DenialActionRefused("Choose the modifier for the corrected claim line.")
        if denial.ncci_modifier_indicator == "0" and modifier in (bypass_modifiers() or BYPASS_MODIFIERS):
            raise DenialActionRefused(
                f"NCCI edit {denial.ncci_column1}/{denial.ncci_column2} has modifier indicator 0: no modifier can "
                f"bypass it, so {modifier} would be refused. Write it off instead."
            )
        changes["chosen_modifier"] = modifier
    elif action == "write-off":
        if not reason:
            raise DenialActionRefused("A write-off needs a reason.")
        changes["resolution_reason"] = reason[:300]
    elif action == "bill-patient":
        if denial.group_code != "PR":
            raise DenialActionRefused(
                f"Only patient-responsibility (PR) amounts can be billed to the patient; this is {denial.group_code}-"
                f"{denial.carc}, which the provider bears."
            )
    elif action in ("escalate", "request-info"):
        if not reason:
            raise DenialActionRefused("Say what you need (a short note for the person who picks it up).")
        changes["resolution_reason"] = reason[:300]
    elif action == "reopen":
        changes.update(outcome="", worked_at=None, resolution_reason="", chosen_modifier="")
    return _denial_update(denial=denial, expected_version=expected_version, actor=actor,
                          action=action.replace("-", "_"), note=reason, **changes)


def denials_bulk_assign(*, denial_ids: list[int], assignee: AbstractBaseUser, actor: AbstractBaseUser) -> int:
    """Assign several denials at their current versions; the ones that changed meanwhile are skipped."""
    from denials.selectors import denials_visible_to

    done = 0
    for denial in denials_visible_to(user=actor).filter(pk__in=denial_ids).select_related("queue__team", "assignee"):
        try:
            denial_assign(denial=denial, assignee=assignee, actor=actor, expected_version=denial.version)
            done += 1
        except (DenialConflict, DenialActionRefused):
            continue
    return done


def denials_bulk_write_off(*, denial_ids: list[int], reason: str, actor: AbstractBaseUser) -> int:
    if not reason.strip():
        raise DenialActionRefused("A write-off needs a reason.")
    from denials.selectors import denials_visible_to

    done = 0
    for denial in denials_visible_to(user=actor).filter(
        pk__in=denial_ids, status__in=[Denial.Status.OPEN, Denial.Status.IN_PROGRESS]
    ):
        try:
            denial_record_outcome(denial=denial, action="write-off", actor=actor, expected_version=denial.version,
                                  reason=reason)
            done += 1
        except (DenialConflict, DenialActionRefused):
            continue
    return done


def denial_add_note(*, denial: Denial, author: AbstractBaseUser, body: str) -> Any:
    from denials.models import DenialNote

    body = body.strip()
    if not body:
        raise DenialActionRefused("A note cannot be empty.")
    with transaction.atomic():
        note = DenialNote.objects.create(denial=denial, author=author, body=body)
        audit_record(actor=author, action="denial.note_added", target=denial, new={"note": body[:200]})
    return note


def document_upload(*, claim: ClaimPayment, name: str, content: bytes, actor: AbstractBaseUser,
                    title: str = "") -> Any:
    """Attach clinical documentation: plain text as is, PDF through pypdf's text extraction."""
    from denials.models import ClinicalDocument

    if not content:
        raise DenialActionRefused(f"{name} is empty.")
    if content[:5] == b"%PDF-":
        kind, text, pages = ClinicalDocument.Kind.PDF, *_pdf_text(name, content)
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = content.decode("latin-1")
        if "\x00" in text:
            raise DenialActionRefused(f"{name} is neither plain text nor a PDF.")
        kind, pages = ClinicalDocument.Kind.TEXT, 1
    text = text.replace("\r\n", "\n")
    digest = hashlib.sha256(content).hexdigest()
    existing = ClinicalDocument.objects.filter(claim=claim, sha256=digest).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        document = ClinicalDocument.objects.create(
            claim=claim, title=(title or name)[:200], original_name=name[:255], kind=kind, content=content,
            sha256=digest, text=text, page_count=pages, uploaded_by=actor,
        )
        audit_record(actor=actor, action="document.uploaded", target=claim,
                     new={"document": document.pk, "name": name, "kind": kind})
    return document


def _pdf_text(name: str, content: bytes) -> tuple[str, int]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DenialActionRefused(f"{name} could not be read as a PDF ({exc}).") from exc
    text = "\n\n".join(p.strip() for p in pages).strip()
    if not text:
        raise DenialActionRefused(f"{name} has no text layer (a scanned image?): attach the note as text.")
    return text, len(pages)


def evidence_save(*, denial: Denial, document: Any, start: int, end: int, kind: str, actor: AbstractBaseUser,
                  quote: str = "") -> Any:
    """Save a passage of a document as evidence. Offsets index the document's text; when
    the browser's selection text is sent too, it must match what the offsets cover."""
    from denials.models import Evidence

    if document.claim_id != denial.claim_id:
        raise DenialActionRefused("That document belongs to another claim.")
    if kind not in Evidence.Kind.values:
        raise DenialActionRefused(f"Unknown evidence kind {kind!r}.")
    if not (0 <= start < end <= len(document.text)):
        raise DenialActionRefused("Select a passage inside the document first.")
    passage = document.text[start:end]
    if quote and " ".join(quote.split()) != " ".join(passage.split()):
        raise DenialActionRefused("The selection did not match the document text; select the passage again.")
    with transaction.atomic():
        evidence = Evidence.objects.create(denial=denial, document=document, start=start, end=end, quote=passage,
                                           kind=kind, created_by=actor)
        audit_record(actor=actor, action="denial.evidence_saved", target=denial,
                     new={"evidence": evidence.pk, "kind": kind, "quote": passage[:200]})
    return evidence


def evidence_delete(*, evidence: Any, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="denial.evidence_removed", target=evidence.denial,
                     old={"evidence": evidence.pk, "quote": evidence.quote[:200]})
        evidence.delete()
