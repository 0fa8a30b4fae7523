"""Storing one ST/SE transaction set: all of it or none of it, keyed by its natural key."""

from __future__ import annotations

import functools
import hashlib
import itertools
import time
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, models, transaction

from denials.bulk import insert_values, reserve_ids
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
from denials.services.triaging import IngestTriage
from denials.triage import LineFacts
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


_DENIAL_AMOUNT_QUANTUM = Decimal(1).scaleb(-(Denial._meta.get_field("amount").decimal_places or 0))


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
    *,
    file: RemittanceFile,
    transaction_set: x12.Transaction,
    classifier: AdjustmentClassifier,
    triage: IngestTriage | None = None,
) -> int | None:
    """Store one ST/SE transaction: all of it or none of it, its new denials triaged.

    Returns the id of the file the remittance is stored under: this file's id when it was
    stored now (or by an earlier attempt at this file), another file's id when it is a
    duplicate of a remittance received before. ``triage`` is shared by the transaction
    sets of one file (its rules and counts are read once).
    """
    txn = transaction_set
    payer_key, payer_identifier, qualifier = fitting.payer_key(txn.payer)
    dedupe_key = _dedupe_key(txn, payer_key)
    existing = Remittance.objects.filter(dedupe_key=dedupe_key).values_list("file_id", flat=True).first()
    if existing is not None:
        return existing
    if triage is None:
        triage = IngestTriage()
    try:
        with transaction.atomic():
            _store_transaction(file, txn, dedupe_key, payer_key, payer_identifier, qualifier, classifier, triage)
    except IntegrityError:
        existing = Remittance.objects.filter(dedupe_key=dedupe_key).values_list("file_id", flat=True).first()
        if existing is None:
            raise
        return existing
    return file.pk


#: Claims stored at a time inside one transaction set's database transaction. A chunk's
#: rows are built, sent with COPY and dropped before the next chunk's, so the memory they
#: take does not grow with the size of the ST/SE; the transaction stays all or nothing.
STORE_CHUNK = 2000

DENIAL_COLUMNS = ["claim_id", "line_id", "payer_id", "kind", "group_code", "carc", "rarcs", "amount", "service_date"]
_LINK_COLUMNS = ["previous_payment_id", "reverses_id"]


def _store_transaction(
    file: RemittanceFile,
    txn: x12.Transaction,
    dedupe_key: str,
    payer_key: str,
    payer_identifier: str,
    qualifier: str,
    classifier: AdjustmentClassifier,
    triage: IngestTriage,
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
    history = _ClaimHistory(payer, [c.patient_control_number for c in txn.claims])
    for start in range(0, len(txn.claims), STORE_CHUNK):
        began = time.monotonic()
        _store_claims(
            _Batch(remittance, payer, txn, classifier, history, triage), txn.claims[start : start + STORE_CHUNK], start
        )
        if start + STORE_CHUNK < len(txn.claims):
            ingest_pause(time.monotonic() - began)
    return remittance


def ingest_pause(worked: float) -> float:
    """After a chunk of claims, pause INGEST_PAUSE_PERCENT of the time it took (0: no pause), so
    that a big file leaves the CPUs to people's requests between its chunks; it then takes that
    much longer. The pause is inside the transaction set's transaction: it holds only the locks
    of the rows written so far (nobody else sees them yet), but it keeps the transaction open
    that much longer. Returns the seconds paused."""
    pause = max(0.0, worked) * settings.INGEST_PAUSE_PERCENT / 100
    if pause > 0:
        time.sleep(pause)
    return pause


class _Batch:
    """What every chunk of one transaction set's claims shares."""

    __slots__ = ("classifier", "history", "payer", "remittance", "triage", "txn")

    def __init__(
        self,
        remittance: Remittance,
        payer: Payer,
        txn: x12.Transaction,
        classifier: AdjustmentClassifier,
        history: _ClaimHistory,
        triage: IngestTriage,
    ) -> None:
        self.remittance = remittance
        self.payer = payer
        self.txn = txn
        self.classifier = classifier
        self.history = history
        self.triage = triage


def _store_claims(batch: _Batch, claims: list[x12.ClaimPayment], offset: int) -> None:
    """One chunk of a transaction set's claims with their lines, adjustments, remarks and
    (triaged) denials; every row goes in once, in its final state."""
    remittance_id, payer_id = batch.remittance.pk, batch.payer.pk
    claim_ids = reserve_ids(ClaimPayment, len(claims))
    insert_values(
        ClaimPayment,
        [*CLAIM_COLUMNS, *_LINK_COLUMNS],
        [
            (*_claim_values(remittance_id, payer_id, sequence, c), *batch.history.link(claim_id, c))
            for sequence, claim_id, c in zip(itertools.count(offset + 1), claim_ids, claims)
        ],
        ids=claim_ids,
    )
    pairs = list(zip(claim_ids, claims, strict=True))
    line_rows: list[tuple[Any, ...]] = []
    for claim_id, claim in pairs:
        for line in claim.service_lines:
            line_rows.append(_line_values(claim_id, line))
    line_ids = iter(insert_values(ServiceLine, LINE_COLUMNS, line_rows))
    del line_rows
    # Each claim's line ids, in the order of its lines (sequence = position + 1).
    lines_of = [[next(line_ids) for _ in claim.service_lines] for claim in claims]

    adjustment_rows: list[tuple[Any, ...]] = []
    adjustment_refs: list[int] = []  # id() of the parsed adjustment, to find its row id again
    remark_rows: list[tuple[Any, ...]] = []
    for (claim_id, claim), line_id_list in zip(pairs, lines_of, strict=True):
        seq = 0
        for adj in claim.adjustments:
            seq += 1
            adjustment_rows.append((claim_id, None, seq, adj.group_code, adj.reason_code, adj.amount, adj.quantity))
            adjustment_refs.append(id(adj))
        rseq = 0
        for code in claim.remark_codes:
            rseq += 1
            remark_rows.append((claim_id, None, rseq, code, RemarkCode.Source.CLAIM))
        for line, line_id in zip(claim.service_lines, line_id_list, strict=True):
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
    del adjustment_rows
    adjustment_id_by_ref = dict(zip(adjustment_refs, adjustment_ids, strict=True))
    del adjustment_refs, adjustment_ids
    insert_values(RemarkCode, ["claim_id", "line_id", "sequence", "code", "source"], remark_rows)
    del remark_rows
    _store_denials(batch, pairs, lines_of, adjustment_id_by_ref)


def _store_denials(
    batch: _Batch,
    pairs: list[tuple[int, x12.ClaimPayment]],
    lines_of: list[list[int]],
    adjustment_id_by_ref: dict[int, int],
) -> None:
    """The chunk's denials, triaged before they go in (``IngestTriage``), with their
    adjustments and audit events."""
    txn, payer = batch.txn, batch.payer
    found: list[tuple[int, x12.ClaimPayment, list[int], Any]] = []
    for (claim_id, claim), line_ids in zip(pairs, lines_of, strict=True):
        for finding in find_denials(claim, batch.classifier):
            found.append((claim_id, claim, line_ids, finding))
    if not found:
        return
    denial_ids = reserve_ids(Denial, len(found))
    rows: list[Any] = []  # triage rows, in denial order
    base: list[tuple[Any, ...]] = []
    through: list[tuple[int, int]] = []
    lines_by_claim: dict[int, list[LineFacts]] = {}
    for denial_id, (claim_id, claim, line_ids, finding) in zip(denial_ids, found, strict=True):
        sequence = finding.line_sequence
        denied_line = claim.service_lines[sequence - 1] if sequence is not None else None
        line_id = line_ids[sequence - 1] if sequence is not None else None
        # A summary of the remark codes (each is stored whole in RemarkCode): a claim with
        # more than nine of them shows the first ones here.
        rarcs = " ".join(finding.rarcs)[:80]
        amount = finding.amount.quantize(_DENIAL_AMOUNT_QUANTUM)  # as the column gives it back
        base.append(
            (
                claim_id,
                line_id,
                payer.pk,
                finding.kind,
                finding.group_code,
                finding.carc,
                rarcs,
                amount,
                (denied_line.service_date if denied_line is not None else None) or claim.statement_from,
            )
        )
        rows.append(
            IngestTriage.new_row(
                pk=denial_id,
                claim_id=claim_id,
                line_id=line_id,
                payer_id=payer.pk,
                group_code=finding.group_code,
                carc=finding.carc,
                rarcs=rarcs,
                amount=amount,
                claim_status=claim.status_code,
                frequency_code=claim.frequency_code,
                facility_type=claim.facility_type,
                payment_date=txn.payment_date,
                production_date=txn.production_date,
                appeal_window_days=payer.appeal_window_days,
            )
        )
        through.extend(
            (denial_id, adjustment_id_by_ref[id(a)]) for a in finding.adjustments if id(a) in adjustment_id_by_ref
        )
        if claim_id not in lines_by_claim:
            lines_by_claim[claim_id] = [
                LineFacts(
                    line_id=lid,
                    procedure_code=ln.procedure_code,
                    modifiers=tuple(m for m in ln.modifiers[:4] if m),
                    service_date=ln.service_date,
                    units=ln.units,
                )
                for lid, ln in zip(line_ids, claim.service_lines, strict=True)
            ]
    audit_rows = batch.triage.triage(rows, lines_by_claim)
    insert_values(
        Denial,
        [*DENIAL_COLUMNS, *IngestTriage.COLUMNS],
        [(*b, *batch.triage.written_values(r)) for b, r in zip(base, rows, strict=True)],
        ids=denial_ids,
    )
    insert_values(Denial.adjustments.through, ["denial_id", "adjustment_id"], through)
    batch.triage.write_audit(audit_rows)


class _ClaimHistory:
    """Links each payment to the earlier payment of the same claim (same payer, patient
    control number and payer claim number), and a reversal (status 22) to the payment it
    takes back: read once per transaction set (the earlier payments of its patient control
    numbers), then followed in file order, so a later claim in the set sees earlier ones.
    The links go into the claims' own rows: no UPDATE follows."""

    #: Patient control numbers per query (PostgreSQL takes at most 65,535 parameters).
    QUERY_CHUNK = 5000

    def __init__(self, payer: Payer, pcns: list[str]) -> None:
        self.earlier: dict[tuple[str, str], list[tuple[int, str]]] = {}
        wanted = sorted({pcn for pcn in pcns if pcn})
        self.active = bool(wanted)
        for start in range(0, len(wanted), self.QUERY_CHUNK):
            for pk, pcn, icn, status in (
                ClaimPayment.objects.filter(
                    payer=payer, patient_control_number__in=wanted[start : start + self.QUERY_CHUNK]
                )
                .order_by("remittance__payment_date", "id")
                .values_list("id", "patient_control_number", "payer_claim_number", "status_code")
            ):
                self.earlier.setdefault((pcn, icn), []).append((pk, status))

    def link(self, claim_id: int, claim: x12.ClaimPayment) -> tuple[int | None, int | None]:
        """(previous payment, reversed payment) of a claim about to be stored, in file order."""
        if not self.active:
            return None, None
        history = self.earlier.setdefault((claim.patient_control_number, claim.payer_claim_number), [])
        previous = reverses = None
        if history:
            previous = history[-1][0]
            if claim.status_code == "22":
                paid = [pk for pk, s in history if s != "22"]
                reverses = paid[-1] if paid else None
        history.append((claim_id, claim.status_code))
        return previous, reverses


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


def safe_text(text: str, limit: int | None = None) -> str:
    """Text for a TextField or JSON: NUL bytes written out (PostgreSQL cannot store them),
    optionally cut to ``limit`` characters with a note."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if limit is not None and len(text) > limit:
        text = text[:limit] + " ... (cut)"
    return text
