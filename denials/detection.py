"""Find the denials in a parsed claim payment. Pure: no Django imports.

Which group code + CARC pairs are routine (contractual write-down, deductible, copay...)
is data (``AdjustmentRule`` rows) handed in as an ``AdjustmentClassifier``; everything
else on a claim is a denial candidate:

- a non-routine adjustment on a line: the line is denied (paid $0) or partially denied;
- a non-routine adjustment at claim level, or claim status 4 (denied): a claim-level denial;
- a line paid $0 with no routine reason for it ("creative denial": nothing explains it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from denials.x12.parsed import Adjustment, ClaimPayment, ServiceLine

ZERO = Decimal("0")

#: Shipped defaults; admins edit the table these seed. (group code, CARC or "" for any, kind)
DEFAULT_ADJUSTMENT_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("CO", "45", "routine", "Charge exceeds fee schedule / contracted amount"),
    ("CO", "42", "routine", "Charges exceed fee schedule maximum"),
    ("CO", "A2", "routine", "Contractual adjustment"),
    ("CO", "253", "routine", "Sequestration"),
    ("CO", "144", "routine", "Incentive adjustment"),
    ("PR", "1", "routine", "Deductible"),
    ("PR", "2", "routine", "Coinsurance"),
    ("PR", "3", "routine", "Co-payment"),
    ("PR", "66", "routine", "Blood deductible"),
    ("OA", "23", "routine", "Impact of prior payer adjudication (coordination of benefits)"),
    ("OA", "94", "routine", "Processed in excess of charges"),
    ("CO", "94", "routine", "Processed in excess of charges"),
)

#: Claim statuses that are not the payer's answer to a claim to work (reversals, forwards).
NOT_WORKED_STATUSES = frozenset({"22", "23", "25"})


@dataclass(frozen=True)
class AdjustmentClassifier:
    """Answers "is this group code + CARC routine?" from (group, carc) -> kind rules."""

    rules: Mapping[tuple[str, str], str]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str]]) -> AdjustmentClassifier:
        return cls({(group.upper(), carc.upper()): kind for group, carc, kind in rows})

    def is_routine(self, group_code: str, carc: str) -> bool:
        kind = self.rules.get((group_code, carc)) or self.rules.get((group_code, ""))
        return kind == "routine"


@dataclass
class DenialFinding:
    """A denial found on a claim; adjustment positions refer to the claim's own lists."""

    kind: str  # claim-denied, line-denied, partial, zero-pay
    line_sequence: int | None  # None: claim level
    group_code: str
    carc: str
    rarcs: list[str]
    amount: Decimal
    adjustments: list[Adjustment] = field(default_factory=list)


def _primary(adjustments: list[Adjustment]) -> Adjustment:
    """The adjustment that names the denial: the largest amount, first one on ties."""
    return max(adjustments, key=lambda a: a.amount)


def _line_finding(line: ServiceLine, classifier: AdjustmentClassifier) -> DenialFinding | None:
    denied = [a for a in line.adjustments if a.amount > ZERO and not classifier.is_routine(a.group_code, a.reason_code)]
    if denied:
        primary = _primary(denied)
        return DenialFinding(
            kind="line-denied" if line.paid <= ZERO else "partial",
            line_sequence=line.sequence,
            group_code=primary.group_code,
            carc=primary.reason_code,
            rarcs=list(line.remark_codes),
            amount=sum((a.amount for a in denied), ZERO),
            adjustments=denied,
        )
    if line.paid == ZERO and line.charge > ZERO:
        routine = sum((a.amount for a in line.adjustments if a.amount > ZERO), ZERO)
        unexplained = line.charge - routine
        if unexplained > ZERO:
            # Paid nothing and no routine reason covers it: the payer denied it without
            # saying so. Name it by its largest adjustment if any, else by CARC "".
            named_by = _primary(line.adjustments) if line.adjustments else None
            return DenialFinding(
                kind="zero-pay",
                line_sequence=line.sequence,
                group_code=named_by.group_code if named_by else "",
                carc=named_by.reason_code if named_by else "",
                rarcs=list(line.remark_codes),
                amount=unexplained,
                adjustments=list(line.adjustments),
            )
    return None


def find_denials(claim: ClaimPayment, classifier: AdjustmentClassifier) -> list[DenialFinding]:
    """Every denial on one claim payment, line-level first, then claim-level."""
    if claim.status_code in NOT_WORKED_STATUSES or claim.charge < ZERO:
        return []
    findings = [f for f in (_line_finding(line, classifier) for line in claim.service_lines) if f]

    claim_denied = [
        a for a in claim.adjustments if a.amount > ZERO and not classifier.is_routine(a.group_code, a.reason_code)
    ]
    if claim_denied:
        primary = _primary(claim_denied)
        findings.append(
            DenialFinding(
                kind="claim-denied" if claim.status_code == "4" or claim.paid <= ZERO else "partial",
                line_sequence=None,
                group_code=primary.group_code,
                carc=primary.reason_code,
                rarcs=list(claim.remark_codes),
                amount=sum((a.amount for a in claim_denied), ZERO),
                adjustments=claim_denied,
            )
        )
    elif claim.status_code == "4" and not findings:
        # Denied, but every adjustment is routine or missing: the whole unpaid amount is at
        # stake, and the largest adjustment (if any) names it.
        everything = list(claim.adjustments) + [a for line in claim.service_lines for a in line.adjustments]
        named_by = _primary(everything) if everything else None
        at_stake = claim.charge - claim.paid
        if at_stake > ZERO:
            findings.append(
                DenialFinding(
                    kind="claim-denied",
                    line_sequence=None,
                    group_code=named_by.group_code if named_by else "",
                    carc=named_by.reason_code if named_by else "",
                    rarcs=list(claim.remark_codes),
                    amount=at_stake,
                    adjustments=everything,
                )
            )
    return findings
