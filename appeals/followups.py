"""Closing the loop: a later 835 that answers a submitted appeal decides it by itself.

Connected to ``denials.signals.remittance_file_stored`` (``AppealsConfig.ready``), so it runs
inside the transaction that marks a file ingested, after the file's new denials were triaged.

**Which appeals a file can answer.** Only appeals with status *submitted* (a draft or ready
appeal has not reached the payer; a decided or withdrawn one is final). One query reads the
submitted appeals' payer and patient control number (CLP01) pairs (as many rows as appeals
are waiting on a payer), one the pairs of the file's claims of those payers; the two are
intersected in Python, and only the appeals and claims in both are read further. No
submitted appeal: one query; none answered by the file: two. A claim whose remittance is
dated before the appeal was submitted is not its answer (the payer cannot have decided an
appeal it had not received, and the decision date may not precede the submission).

**Matching a line** (``lines_match``). Each appealed denial names a line of the original
claim; a line of a later claim of the same payer and patient control number answers it when:

- both lines carry a line control number (REF*6R): the numbers are equal. It decides alone:
  equal numbers match whatever the codes say, different numbers never match;
- otherwise: the same procedure code (the code as billed: SVC06 when the payer adjudicated
  another code), the same date of service (the line's, else the claim's statement date), and
  modifiers either the same as the original line's (as a set: order does not matter) or the
  original's plus exactly one NCCI bypass modifier (the admin-kept ``Modifier`` table: XE,
  XS, XP, XU, 59, 25, 91, anatomic ...). The second case is the corrected line an appeal
  package sends: the Column 2 code with XS or 59 added, which payers adjudicate and return
  with the new modifier. A line that dropped a modifier, or swapped one, is not matched: it
  is a different service as far as the remittance can tell, and a coder decides by hand.

Each later line answers at most one appealed line (two identical lines of one claim are
paired in order). A claim-level denial (no line) is answered by the later claim as a whole.

**Reversals** (CLP02 = 22). Payers usually send an overturned claim as a reversal of the
original claim and a new claim paying the line, in the same file or a later one. A matching
line of a reversal is recorded as *reversed* with its (negative) paid amount, what it took
back of the line's earlier payment. It counts for the appeal when it reverses the appeal's
claim, a claim that already answered it, or a claim the store could not link (``reverses``
empty); a reversal linked to another payment of the same patient control number does not.

**The net new payment on a line** is the sum of its follow-up rows: the new line's paid
amount plus the reversals' (negative) amounts, over this file and earlier ones. An original
line paid $0, reversed ($0) and paid $80 nets $80; one paid $60 with $40 denied, reversed
(-$60) and paid $100 nets $40; a supplemental payment of $40 with no reversal nets $40.

**Deciding a line** (``line_answer``):

- the later line carries a denial (ingest found one) and nets nothing: *denied again*;
- the later line was paid at the allowed amount: *paid*. With an allowed amount (AMT*B6):
  the line's payment so far (the original's paid, plus the net new payment) plus the
  patient's share on the new line (PR adjustments: deductible, coinsurance, co-payment)
  reaches the allowed amount; the patient's share counts because the allowed amount
  includes it, so an overturned line with 20% coinsurance is paid in full. Without one: the
  net new payment plus the patient's share reaches the amount at stake. For a claim-level
  denial the claim's patient responsibility (CLP05) is the patient's share;
- anything else that netted new money: *partially paid*; nothing new and no denial (the
  payer allowed $0): *denied again*.

**Deciding the appeal** (``appeal_answer``), once every appealed line has an answer: every
line paid: *overturned*; every line denied again: *upheld*; anything else: *partially paid*.
Until then the rows are recorded and the appeal stays submitted: a later file that answers
the remaining lines decides it (with every row so far). The amount recovered is the net new
payment summed over the appeal's lines, never below 0 and capped at the amount at stake (the
appeal asks for no more; a payer paying more, an interest amount or a fee schedule increase,
is not the appeal's recovery); an upheld appeal recovers 0. The decision date is the latest
answering remittance's date. The decisions go through ``appeals.services.appeals_decide_many``
(the rules of ``appeal_update``, for the whole file at once), which hands the outcome and
shares of the amount back to the denials.

**Re-denials.** The later line's denial (created and triaged by ingest) is attached to the
appeal (``denials.services.follow_ups.denials_attach_to_appeals``: status "Sent to appeal",
audited), so it is not queued as fresh work, and the follow-up row points to it. An upheld
or partially paid appeal's next level and its deadline are suggested by
``appeals.selectors.next_level_suggestion``.

**Speed.** The work is a fixed number of queries per file, not per appeal: the rows of every
answered appeal in one INSERT, the re-denials attached in one UPDATE, the decisions written
in one UPDATE of the appeals and one of the denials, the audit rows in one INSERT each.

Every row is unique per appeal, claim and line, so the same file ingested twice (or a
retried attempt) writes nothing new, and only submitted appeals are decided.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from appeals import vocabulary as v
from appeals.models import Appeal, AppealFollowUp
from appeals.services import Decision, appeals_decide_many
from denials.models import Adjustment, ClaimPayment, Denial, ServiceLine
from denials.services.audit import audit_row, audit_rows_insert
from denials.services.follow_ups import Attachment, denials_attach_to_appeals

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
CENT = Decimal("0.01")
REVERSAL_STATUS = "22"
ACTOR_LABEL = "835 follow-up"
Kind = AppealFollowUp.Kind


# --- The rules (pure: plain values in, plain values out) ----------------------------------
@dataclass(frozen=True)
class LineKey:
    """What identifies a service line across remittances."""

    procedure_code: str
    modifiers: frozenset[str]
    service_date: dt.date | None
    line_control_number: str = ""


def lines_match(original: LineKey, later: LineKey, *, bypass_modifiers: Iterable[str]) -> bool:
    """Whether ``later`` (a line of a later claim of the same payer and patient control
    number) answers ``original`` (an appealed line). See the module's docstring."""
    if original.line_control_number and later.line_control_number:
        return original.line_control_number == later.line_control_number
    if original.procedure_code != later.procedure_code or original.service_date != later.service_date:
        return False
    if later.modifiers == original.modifiers:
        return True
    added = later.modifiers - original.modifiers
    return original.modifiers <= later.modifiers and len(added) == 1 and added <= frozenset(bypass_modifiers)


def line_answer(
    *,
    denied_again: bool,
    net: Decimal,
    paid_so_far: Decimal,
    allowed: Decimal | None,
    patient_share: Decimal,
    at_stake: Decimal,
) -> str:
    """The answer one later line gives an appealed line: ``Kind.PAID``, ``PARTIALLY_PAID`` or
    ``REDENIED``. ``net``: the net new payment on the line (this answer included);
    ``paid_so_far``: everything paid on the line, the original payment included; ``allowed``:
    the later line's allowed amount (None when the payer sent none); ``patient_share``: what
    the patient owes on the later line; ``at_stake``: the appealed denial's amount."""
    if denied_again and net <= ZERO:
        return Kind.REDENIED
    # With an allowed amount: everything paid on the line; without: the net new payment.
    reached, target = (paid_so_far, allowed) if allowed is not None else (net, at_stake)
    paid_in_full = reached + patient_share >= target
    if not denied_again and paid_in_full:
        return Kind.PAID
    return Kind.PARTIALLY_PAID if net > ZERO else Kind.REDENIED


def appeal_answer(*, kinds: Sequence[str], net: Decimal, at_stake: Decimal) -> tuple[str, Decimal]:
    """The appeal's outcome and amount recovered from its lines' answers (one per line)."""
    if kinds and all(k == Kind.PAID for k in kinds):
        outcome = v.OUTCOME_OVERTURNED
    elif kinds and all(k == Kind.REDENIED for k in kinds):
        outcome = v.OUTCOME_UPHELD
    else:
        outcome = v.OUTCOME_PARTIALLY_PAID
    if outcome == v.OUTCOME_UPHELD:
        return outcome, ZERO
    return outcome, min(max(net, ZERO), at_stake).quantize(CENT)


# --- Reading the file --------------------------------------------------------------------
@dataclass
class _Appealed:
    """One appealed denial: the original line it names (None: the whole claim)."""

    denial_id: int
    amount: Decimal
    line_id: int | None
    key: LineKey | None
    paid: Decimal  # the original line's (or claim's) paid amount


@dataclass
class _Later:
    claim_id: int
    line_id: int | None
    key: LineKey | None
    paid: Decimal
    allowed: Decimal | None
    patient_share: Decimal
    denial_id: int | None


@dataclass
class _LaterClaim:
    claim_id: int
    payer_id: int
    pcn: str
    reversal: bool
    reverses_id: int | None
    paid: Decimal
    patient_share: Decimal
    date: dt.date | None
    statement_from: dt.date | None
    denial_id: int | None  # the claim-level denial, if any
    lines: list[_Later] = field(default_factory=list)


@dataclass
class _Row:
    """A follow-up row, stored or about to be."""

    claim_id: int
    line_id: int | None
    denial_id: int
    kind: str
    amount: Decimal
    redenial_id: int | None = None
    date: dt.date | None = None
    new: bool = False


def _mods(*codes: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in codes if c and c.strip())


def _key(row: dict[str, Any], prefix: str, fallback_date: dt.date | None) -> LineKey:
    billed = row[f"{prefix}original_procedure_code"] or row[f"{prefix}procedure_code"]
    return LineKey(
        procedure_code=billed.strip().upper(),
        modifiers=_mods(*(row[f"{prefix}modifier{i}"] for i in range(1, 5))),
        service_date=row[f"{prefix}service_date"] or fallback_date,
        line_control_number=row[f"{prefix}line_control_number"].strip(),
    )


_LINE_FIELDS = (
    "procedure_code",
    "original_procedure_code",
    "modifier1",
    "modifier2",
    "modifier3",
    "modifier4",
    "service_date",
    "line_control_number",
    "paid",
)


def _bypass_modifiers() -> frozenset[str]:
    from ncci.selectors import modifier_groups

    return modifier_groups().bypass


#: The most ids or codes one IN list carries (SQLite allows 32,766 variables per statement).
CHUNK = 5000


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    ordered = sorted(set(values))
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


Pair = tuple[int, str]  # (payer id, patient control number)


def _candidate_appeals(file_id: int) -> tuple[list[Appeal], dict[Pair, list[int]]]:
    """Submitted appeals whose claim has a payer and patient control number seen in the file,
    and the file's claims of each such pair (ids, in file order). Bounded by what is open and
    what the file holds, with no list of the file's codes sent to the database: the submitted
    appeals' pairs (one query; none: done), the file's claims of those payers (one query),
    intersected here; then the appeals in both (one query)."""
    submitted: dict[Pair, list[int]] = defaultdict(list)
    for pk, payer_id, pcn in Appeal.objects.filter(status=v.STATUS_SUBMITTED).values_list(
        "pk", "claim__payer_id", "claim__patient_control_number"
    ):
        submitted[(payer_id, pcn)].append(pk)
    if not submitted:
        return [], {}
    in_file: dict[Pair, list[int]] = defaultdict(list)
    for pk, payer_id, pcn in (
        ClaimPayment.objects.filter(remittance__file_id=file_id, payer_id__in={p for p, _ in submitted})
        .order_by("remittance_id", "sequence")
        .values_list("pk", "payer_id", "patient_control_number")
    ):
        if (payer_id, pcn) in submitted:
            in_file[(payer_id, pcn)].append(pk)
    if not in_file:
        return [], {}
    ids = [pk for pair in in_file for pk in submitted[pair]]
    appeals = [
        appeal
        for chunk in _chunks(ids)
        for appeal in Appeal.objects.filter(pk__in=chunk, status=v.STATUS_SUBMITTED).select_related("claim")
    ]
    appeals.sort(key=lambda a: a.pk)
    return appeals, dict(in_file)


def _appealed_denials(appeal_ids: list[int]) -> dict[int, list[_Appealed]]:
    d = "denial__line__"
    rows = (
        row
        for chunk in _chunks(appeal_ids)
        for row in Appeal.denials.through.objects.filter(appeal_id__in=chunk)
        .order_by("appeal_id", "denial__line__sequence", "denial_id")
        .values(
            "appeal_id",
            "denial_id",
            "denial__amount",
            "denial__line_id",
            "denial__service_date",
            "denial__claim__paid",
            *(d + f for f in _LINE_FIELDS),
        )
    )
    by_appeal: dict[int, list[_Appealed]] = defaultdict(list)
    for row in rows:
        line = row["denial__line_id"] is not None
        by_appeal[row["appeal_id"]].append(
            _Appealed(
                denial_id=row["denial_id"],
                amount=row["denial__amount"],
                line_id=row["denial__line_id"],
                key=_key(row, d, row["denial__service_date"]) if line else None,
                paid=row[d + "paid"] if line else row["denial__claim__paid"],
            )
        )
    return by_appeal


def _later_claims(claim_ids: list[int]) -> list[_LaterClaim]:
    """The file's claims that may answer appeals, with their lines, the patient's share on
    each line and the denials ingest found on them (in file order)."""
    claims: dict[int, _LaterClaim] = {}
    rows = [
        row
        for chunk in _chunks(claim_ids)
        for row in ClaimPayment.objects.filter(pk__in=chunk).values(
            "pk",
            "payer_id",
            "patient_control_number",
            "status_code",
            "reverses_id",
            "paid",
            "patient_responsibility",
            "remittance_id",
            "sequence",
            "remittance__payment_date",
            "remittance__production_date",
            "statement_from",
        )
    ]
    for row in sorted(rows, key=lambda r: (r["remittance_id"], r["sequence"])):
        claims[row["pk"]] = _LaterClaim(
            claim_id=row["pk"],
            payer_id=row["payer_id"],
            pcn=row["patient_control_number"],
            reversal=row["status_code"] == REVERSAL_STATUS,
            reverses_id=row["reverses_id"],
            paid=row["paid"],
            patient_share=row["patient_responsibility"] or ZERO,
            date=row["remittance__payment_date"] or row["remittance__production_date"],
            statement_from=row["statement_from"],
            denial_id=None,
        )
    if not claims:
        return []
    denial_by_line: dict[int, int] = {}
    shares: dict[int, Decimal] = {}
    lines: list[dict[str, Any]] = []
    for chunk in _chunks(claims):
        for denial_id, claim_id, line_id in Denial.objects.filter(claim_id__in=chunk).values_list(
            "pk", "claim_id", "line_id"
        ):
            if line_id is None:
                claims[claim_id].denial_id = denial_id
            else:
                denial_by_line[line_id] = denial_id
        shares.update(
            Adjustment.objects.filter(line__claim_id__in=chunk, group_code="PR", amount__gt=0)
            .values("line_id")
            .annotate(total=Sum("amount"))
            .values_list("line_id", "total")
        )
        lines.extend(
            ServiceLine.objects.filter(claim_id__in=chunk)
            .order_by("claim_id", "sequence")
            .values("pk", "claim_id", "allowed", *_LINE_FIELDS)
        )
    for line in lines:
        claims[line["claim_id"]].lines.append(
            _Later(
                claim_id=line["claim_id"],
                line_id=line["pk"],
                key=_key(line, "", claims[line["claim_id"]].statement_from),
                paid=line["paid"],
                allowed=line["allowed"],
                patient_share=shares.get(line["pk"], ZERO),
                denial_id=denial_by_line.get(line["pk"]),
            )
        )
    return list(claims.values())


def _stored_rows(appeal_ids: list[int]) -> dict[int, list[_Row]]:
    rows: dict[int, list[_Row]] = defaultdict(list)
    stored = [r for chunk in _chunks(appeal_ids) for r in AppealFollowUp.objects.filter(appeal_id__in=chunk)]
    for r in sorted(stored, key=lambda r: r.pk):
        rows[r.appeal_id].append(
            _Row(
                claim_id=r.claim_id,
                line_id=r.line_id,
                denial_id=r.denial_id or 0,
                kind=r.kind,
                amount=r.amount,
                redenial_id=r.redenial_id,
            )
        )
    return rows


# --- The receiver ------------------------------------------------------------------------
def on_remittance_file_stored(*, file_id: int, **kwargs: Any) -> None:
    """``remittance_file_stored`` receiver: decide the submitted appeals the file answers."""
    follow_ups_record(file_id=file_id)


def follow_ups_record(*, file_id: int) -> dict[str, int]:
    """Record what the file says about lines under submitted appeals and decide the appeals
    whose every line is answered. Returns counts: ``appeals`` matched, ``rows`` written,
    ``decided``, ``attached`` re-denials. Safe to run twice on the same file; all or nothing
    (during ingest, part of the transaction that marks the file ingested)."""
    appeals, claims_by_pair = _candidate_appeals(file_id)
    if not appeals:
        return {"appeals": 0, "rows": 0, "decided": 0, "attached": 0}
    with transaction.atomic():
        return _follow_ups_record(file_id, appeals, claims_by_pair)


def _follow_ups_record(file_id: int, appeals: list[Appeal], claims_by_pair: dict[Pair, list[int]]) -> dict[str, int]:
    counts = {"appeals": 0, "rows": 0, "decided": 0, "attached": 0}
    appealed_claims = {a.claim_id for a in appeals}  # a claim does not answer its own appeal
    later = {
        c.claim_id: c
        for c in _later_claims([pk for pks in claims_by_pair.values() for pk in pks if pk not in appealed_claims])
    }
    if not later:
        return counts
    appeal_ids = [a.pk for a in appeals]
    appealed = _appealed_denials(appeal_ids)
    stored = _stored_rows(appeal_ids)
    bypass = _bypass_modifiers()
    used: set[tuple[int, int | None]] = set()  # later (claim, line) already answering a line
    answered: list[tuple[Appeal, list[_Row], list[_Row]]] = []  # (appeal, stored rows, new rows)
    for appeal in appeals:
        pair = (appeal.claim.payer_id, appeal.claim.patient_control_number)
        claims = [
            claim
            for claim in (later.get(pk) for pk in claims_by_pair.get(pair, ()))
            if claim is not None and not (appeal.submitted_on and claim.date and claim.date < appeal.submitted_on)
        ]
        if not claims or not appealed.get(appeal.pk):
            continue
        rows = stored.get(appeal.pk, [])
        new_rows = _match_appeal(appeal, appealed[appeal.pk], claims, rows, bypass, used)
        if new_rows:
            answered.append((appeal, rows, new_rows))
    if not answered:
        return counts
    counts["appeals"] = len(answered)
    counts["rows"] = sum(len(new_rows) for _, _, new_rows in answered)
    # One transaction for the file: an unexpected error fails the ingest attempt whole.
    counts["attached"] = _write_rows([(appeal, new_rows) for appeal, _, new_rows in answered])
    decisions = [
        decision
        for appeal, rows, new_rows in answered
        if (decision := _decision(appeal, appealed[appeal.pk], [*rows, *new_rows])) is not None
    ]
    counts["decided"] = _decide(decisions)
    logger.info("remittance file %s answered appeals: %s", file_id, counts)
    return counts


def _match_appeal(
    appeal: Appeal,
    appealed: list[_Appealed],
    claims: list[_LaterClaim],
    rows: list[_Row],
    bypass: frozenset[str],
    used: set[tuple[int, int | None]],
) -> list[_Row]:
    """The new rows the file's claims give the appeal's lines: reversals first (they change
    what the answers net), then answers in file order."""
    known = {(r.claim_id, r.line_id) for r in rows}
    answering_claims = {r.claim_id for r in rows if r.kind != Kind.REVERSED}
    new_rows: list[_Row] = []
    ordered = [c for c in claims if c.reversal] + [c for c in claims if not c.reversal]
    for claim in ordered:
        if (
            claim.reversal
            and claim.reverses_id not in (None, appeal.claim_id)
            and claim.reverses_id not in answering_claims
        ):
            continue  # it takes back another payment of the same patient control number
        for item in appealed:
            match = _match_line(item, claim, bypass, used)
            if match is None:
                continue
            used.add((claim.claim_id, match.line_id))
            if (claim.claim_id, match.line_id) in known:
                continue  # recorded from an earlier attempt at this file
            all_rows = [*rows, *new_rows]
            prior = sum((r.amount for r in all_rows if r.denial_id == item.denial_id), ZERO)
            if claim.reversal:
                row = _Row(claim.claim_id, match.line_id, item.denial_id, Kind.REVERSED, match.paid, date=claim.date)
            else:
                net = prior + match.paid
                kind = line_answer(
                    denied_again=match.denial_id is not None,
                    net=net,
                    paid_so_far=item.paid + net,
                    allowed=match.allowed,
                    patient_share=match.patient_share,
                    at_stake=item.amount,
                )
                row = _Row(
                    claim.claim_id, match.line_id, item.denial_id, kind, match.paid, match.denial_id, date=claim.date
                )
            row.new = True
            new_rows.append(row)
    return new_rows


def _match_line(
    item: _Appealed, claim: _LaterClaim, bypass: frozenset[str], used: set[tuple[int, int | None]]
) -> _Later | None:
    """The later line (or, for a claim-level denial, the claim as a whole) answering ``item``."""
    if item.key is None:
        if (claim.claim_id, None) in used:
            return None
        return _Later(
            claim_id=claim.claim_id,
            line_id=None,
            key=None,
            paid=claim.paid,
            allowed=None,
            patient_share=claim.patient_share,
            denial_id=claim.denial_id,
        )
    for line in claim.lines:
        if (claim.claim_id, line.line_id) in used or line.key is None:
            continue
        if lines_match(item.key, line.key, bypass_modifiers=bypass):
            return line
    return None


def _write_rows(answered: list[tuple[Appeal, list[_Row]]]) -> int:
    """Store the new rows of every answered appeal, attach their re-denials to the appeals,
    audit once per appeal: one statement each, whatever the number of appeals. Returns how
    many re-denials were attached."""
    AppealFollowUp.objects.bulk_create(
        [
            AppealFollowUp(
                appeal=appeal,
                claim_id=r.claim_id,
                line_id=r.line_id,
                denial_id=r.denial_id,
                redenial_id=r.redenial_id,
                kind=r.kind,
                amount=r.amount,
            )
            for appeal, rows in answered
            for r in rows
        ],
        # A NULL line is not unique in the database: the rows were checked against the
        # stored ones above; the constraint still guards the line rows against a race.
        ignore_conflicts=True,
    )
    attached = denials_attach_to_appeals(
        attachments=[
            Attachment(
                denial_id=r.redenial_id,
                appeal_id=appeal.pk,
                note=f"Denied again under appeal {appeal.pk}: attached to the appeal, not queued as a fresh denial.",
            )
            for appeal, rows in answered
            for r in rows
            if r.redenial_id is not None
        ]
    )
    audit_rows_insert(
        [
            audit_row(
                actor=None,
                actor_label=ACTOR_LABEL,
                action="appeal.follow_up",
                target=appeal,
                new={
                    "follow_ups": [
                        {
                            "kind": r.kind,
                            "amount": str(r.amount),
                            "claim": r.claim_id,
                            "line": r.line_id,
                            "denial": r.denial_id,
                            "redenial": r.redenial_id,
                            "remittance_date": str(r.date) if r.date else None,
                        }
                        for r in rows
                    ]
                },
            )
            for appeal, rows in answered
        ]
    )
    return len(attached)


def _decision(appeal: Appeal, appealed: list[_Appealed], rows: list[_Row]) -> Decision | None:
    """The appeal's decision once every line has an answer (None before): the latest answer
    of a line counts for its kind, every row for its net."""
    answers: dict[int, _Row] = {}
    for r in rows:
        if r.kind != Kind.REVERSED:
            answers[r.denial_id] = r
    if any(item.denial_id not in answers for item in appealed):
        return None
    net = sum((r.amount for r in rows if r.denial_id in {i.denial_id for i in appealed}), ZERO)
    at_stake = sum((i.amount for i in appealed), ZERO)
    outcome, amount = appeal_answer(kinds=[answers[i.denial_id].kind for i in appealed], net=net, at_stake=at_stake)
    dates = [r.date for r in rows if r.new and r.date is not None]
    # The version read with the candidates, in this same transaction: a coder's change since
    # then is a conflict, reported and left for the coder (nothing is saved for that appeal).
    return Decision(
        appeal=appeal,
        expected_version=appeal.version,
        outcome=outcome,
        amount_recovered=amount,
        decided_on=max(dates) if dates else None,
    )


def _decide(decisions: list[Decision]) -> int:
    """Decide the answered appeals at once (``appeals_decide_many``); an appeal refused or
    changed meanwhile keeps its rows (and attached re-denials) and is left for a coder.
    Returns how many were decided."""
    decided = 0
    for decision, result in zip(decisions, appeals_decide_many(decisions=decisions, actor=None), strict=True):
        if isinstance(result, Exception):
            logger.warning("appeal %s answered by a remittance but not decided: %s", decision.appeal.pk, result)
        else:
            decided += 1
    return decided


def follow_ups_for(appeal: Appeal) -> list[AppealFollowUp]:
    """The appeal's follow-up rows with what a page shows of them (claim, line, re-denial)."""
    return list(
        AppealFollowUp.objects.filter(appeal=appeal)
        .select_related("claim__remittance", "line", "redenial")
        .order_by("recorded_at", "pk")
    )


__all__ = [
    "LineKey",
    "appeal_answer",
    "follow_ups_for",
    "follow_ups_record",
    "line_answer",
    "lines_match",
    "on_remittance_file_stored",
]
