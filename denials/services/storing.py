"""Storing one ST/SE transaction set: all of it or none of it, keyed by its natural key."""

from __future__ import annotations

import functools
import hashlib
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import IntegrityError, connection, models, transaction

from denials.bulk import insert_values
from denials.detection import AdjustmentClassifier, find_denials
from denials.models import (
    Adjustment,
    ClaimPayment,
    Denial,
    Payer,
    Provider,
    ProviderAdjustment,
    RemarkCode,
    Remittance,
    RemittanceFile,
    ServiceLine,
)
from denials.x12 import fitting
from denials.x12 import parsed as x12

# How each model reads in a message about one of its columns ("claim paid ...").
_MODEL_WORDS = {
    "Remittance": "remittance",
    "ClaimPayment": "claim",
    "ServiceLine": "line",
    "Adjustment": "adjustment",
    "RemarkCode": "remark",
    "ProviderAdjustment": "provider adjustment",
    "Payer": "payer",
    "Provider": "payee",
    "RemittanceFile": "file",
}


@functools.cache
def column_limits() -> dict[str, fitting.Column]:
    """What each column an 835 value goes to can hold, read from the model fields."""
    limits: dict[str, fitting.Column] = {}
    for key in fitting.COLUMN_KEYS:
        model_name, field_name = key.split(".")
        field = apps.get_model("denials", model_name)._meta.get_field(field_name)
        label = f"{_MODEL_WORDS[model_name]} {field.verbose_name}"
        if isinstance(field, models.DecimalField):
            limits[key] = fitting.Column(label, max_digits=field.max_digits, decimal_places=field.decimal_places)
        else:
            limits[key] = fitting.Column(label, max_length=getattr(field, "max_length", None))
    return limits


def parsed_file_check(
    *, parsed: x12.ParsedFile, classifier: AdjustmentClassifier, nul_possible: bool = True
) -> fitting.FitReport:
    """Every value of the whole file against its column, before anything is stored.

    Also the amounts the store and triage derive: each denial's amount at stake (a sum of
    adjustments) must fit the denial's amount column, and its priority (amount x chance
    of recovery (at most 1) x urgency (at most 2), ``denials.triage.priority_score``) the
    priority column, or triage would fail after the rows were stored.
    """
    limits = column_limits()
    report = fitting.check_file(parsed, limits, nul_possible=nul_possible)
    if not report.ok:
        return report
    bound, why = _denial_amount_bound()
    for txn in parsed.transactions:
        for claim in txn.claims:
            for finding in find_denials(claim, classifier):
                if not -bound < finding.amount < bound:
                    report.errors.append(
                        x12.Finding(
                            claim.segment_number,
                            "CLP",
                            f"claim {claim.patient_control_number!r}: its denial's amount at stake "
                            f"{finding.amount} is too large: {why}",
                            "error",
                            "CLP01",
                        )
                    )
    return report


@functools.cache
def _denial_amount_bound() -> tuple[Decimal, str]:
    """The largest denial amount (exclusive) the denial's columns can hold, and why."""
    amount = Denial._meta.get_field("amount")
    priority = Denial._meta.get_field("priority")
    amount_bound = Decimal(10) ** (amount.max_digits - amount.decimal_places)
    priority_bound = Decimal(10) ** (priority.max_digits - priority.decimal_places) / 2
    if priority_bound < amount_bound:
        return (
            priority_bound,
            f"its priority (up to twice the amount) would not fit the priority column ({priority_bound})",
        )
    return amount_bound, f"the amount column holds {amount.max_digits - amount.decimal_places} digits before the point"


def _dedupe_key(txn: x12.Transaction, payer_key: str) -> str:
    """What makes two copies of one remittance the same, whatever envelope they came in."""
    first = txn.claims[0].patient_control_number if txn.claims else ""
    charge = sum((c.charge for c in txn.claims), Decimal("0"))
    parts = [
        payer_key,
        txn.payee.npi,
        txn.payee.tin,
        txn.payee.identifier,
        txn.trace_number,
        str(txn.payment_amount),
        str(txn.payment_date or ""),
        str(len(txn.claims)),
        str(charge),
        first,
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
    payer_key, payer_identifier, qualifier = fitting.payer_key(txn.payer)
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
    # No value is cut to fit here: parsed_file_check has refused any that would not.
    payer, _ = Payer.objects.get_or_create(
        payer_key=payer_key,
        defaults={
            "name": fitting.payer_name(txn.payer, payer_identifier),
            "identifier": payer_identifier,
            "identifier_qualifier": qualifier,
        },
    )
    payee, _ = Provider.objects.get_or_create(npi=txn.payee.npi, tin=txn.payee.tin, name=fitting.payee_name(txn.payee))
    remittance = Remittance.objects.create(
        file=file,
        dedupe_key=dedupe_key,
        payer=payer,
        payee=payee,
        interchange_control_number=txn.interchange_control_number,
        group_control_number=txn.group_control_number,
        transaction_control_number=txn.control_number,
        sender_id=txn.sender_id,
        handling_code=txn.handling_code,
        payment_amount=txn.payment_amount,
        credit_debit=txn.credit_debit,
        payment_method=txn.payment_method,
        payment_date=txn.payment_date,
        production_date=txn.production_date,
        trace_number=txn.trace_number,
        claim_count=len(txn.claims),
        warnings=[safe_text(str(w)) for w in txn.warnings],
    )
    insert_values(
        ProviderAdjustment,
        [
            "remittance_id",
            "sequence",
            "provider_identifier",
            "fiscal_period_date",
            "reason_code",
            "reference",
            "amount",
        ],
        [
            (
                remittance.pk,
                i,
                p.provider_identifier,
                p.fiscal_period_date,
                p.reason_code,
                p.reference,
                p.amount,
            )
            for i, p in enumerate(txn.provider_adjustments, start=1)
        ],
    )
    # Plain tuples straight to COPY/executemany: tens of thousands of rows per remittance.
    claim_ids = insert_values(
        ClaimPayment,
        CLAIM_COLUMNS,
        [_claim_values(remittance.pk, payer.pk, i, c) for i, c in enumerate(txn.claims, start=1)],
    )
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
            adjustment_rows.append((claim_id, None, seq, adj.group_code, adj.reason_code, adj.amount, adj.quantity))
            adjustment_refs.append(id(adj))
        rseq = 0
        for code in claim.remark_codes:
            rseq += 1
            remark_rows.append((claim_id, None, rseq, code, RemarkCode.Source.CLAIM))
        for line in claim.service_lines:
            line_id = line_id_by_key[(claim_id, line.sequence)]
            for adj in line.adjustments:
                seq += 1
                adjustment_rows.append(
                    (claim_id, line_id, seq, adj.group_code, adj.reason_code, adj.amount, adj.quantity)
                )
                adjustment_refs.append(id(adj))
            for code in line.remark_codes:
                rseq += 1
                remark_rows.append((claim_id, line_id, rseq, code, RemarkCode.Source.LINE))
    adjustment_ids = insert_values(
        Adjustment,
        ["claim_id", "line_id", "sequence", "group_code", "reason_code", "amount", "quantity"],
        adjustment_rows,
    )
    adjustment_id_by_ref = dict(zip(adjustment_refs, adjustment_ids, strict=True))
    insert_values(RemarkCode, ["claim_id", "line_id", "sequence", "code", "source"], remark_rows)

    denial_rows: list[tuple[Any, ...]] = []
    denial_adjustments: list[list[int]] = []
    for claim_id, claim in zip(claim_ids, txn.claims, strict=True):
        for finding in find_denials(claim, classifier):
            denied_line = next((ln for ln in claim.service_lines if ln.sequence == finding.line_sequence), None)
            denied_line_id = line_id_by_key[(claim_id, denied_line.sequence)] if denied_line is not None else None
            denial_rows.append(
                (
                    claim_id,
                    denied_line_id,
                    payer.pk,
                    finding.kind,
                    finding.group_code,
                    finding.carc,
                    # A summary of the remark codes (each is stored whole in RemarkCode): a
                    # claim with more than nine of them shows the first ones here.
                    " ".join(finding.rarcs)[:80],
                    finding.amount,
                    (denied_line.service_date if denied_line is not None else None) or claim.statement_from,
                )
            )
            denial_adjustments.append(
                [adjustment_id_by_ref[id(a)] for a in finding.adjustments if id(a) in adjustment_id_by_ref]
            )
    denial_ids = insert_values(
        Denial,
        ["claim_id", "line_id", "payer_id", "kind", "group_code", "carc", "rarcs", "amount", "service_date"],
        denial_rows,
    )
    insert_values(
        Denial.adjustments.through,
        ["denial_id", "adjustment_id"],
        [(d, a) for d, adjs in zip(denial_ids, denial_adjustments, strict=True) for a in adjs],
    )
    _link_claim_history(
        [
            (cid, c.patient_control_number, c.payer_claim_number, c.status_code)
            for cid, c in zip(claim_ids, txn.claims, strict=True)
        ],
        payer,
    )
    return remittance


CLAIM_COLUMNS = [
    "remittance_id",
    "sequence",
    "payer_id",
    "patient_control_number",
    "status_code",
    "charge",
    "paid",
    "patient_responsibility",
    "filing_indicator",
    "payer_claim_number",
    "facility_type",
    "frequency_code",
    "drg_code",
    "patient_last_name",
    "patient_first_name",
    "patient_member_id",
    "insured_member_id",
    "rendering_provider_name",
    "rendering_provider_npi",
    "statement_from",
    "statement_to",
    "received_date",
    "balanced",
    "warnings",
]


def _claim_values(remittance_id: int, payer_id: int, sequence: int, c: x12.ClaimPayment) -> tuple[Any, ...]:
    return (
        remittance_id,
        sequence,
        payer_id,
        c.patient_control_number,
        c.status_code,
        c.charge,
        c.paid,
        c.patient_responsibility,
        c.filing_indicator,
        c.payer_claim_number,
        c.facility_type,
        c.frequency_code,
        c.drg_code,
        c.patient_last_name,
        c.patient_first_name,
        c.patient_member_id or c.insured_member_id,
        c.insured_member_id,
        c.rendering_provider_name,
        c.rendering_provider_npi,
        c.statement_from,
        c.statement_to,
        c.received_date,
        not c.warnings,
        [safe_text(str(w)) for w in c.warnings],
    )


LINE_COLUMNS = [
    "claim_id",
    "sequence",
    "qualifier",
    "procedure_code",
    "modifier1",
    "modifier2",
    "modifier3",
    "modifier4",
    "revenue_code",
    "original_procedure_code",
    "units",
    "charge",
    "paid",
    "allowed",
    "service_date",
    "service_date_end",
    "line_control_number",
]


def _line_values(claim_id: int, line: x12.ServiceLine) -> tuple[Any, ...]:
    mods = [*line.modifiers, "", "", "", ""][:4]  # the reader keeps at most 4
    return (
        claim_id,
        line.sequence,
        line.qualifier,
        line.procedure_code,
        *mods,
        line.revenue_code,
        line.original_procedure_code,
        line.units,
        line.charge,
        line.paid,
        line.allowed,
        line.service_date,
        line.service_date_end,
        line.line_control_number,
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


def safe_text(text: str, limit: int | None = None) -> str:
    """Text for a TextField or JSON: NUL bytes written out (PostgreSQL cannot store them),
    optionally cut to ``limit`` characters with a note."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if limit is not None and len(text) > limit:
        text = text[:limit] + " ... (cut)"
    return text
