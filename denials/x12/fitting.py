"""Does every value read from an 835 fit the column it will be stored in?

Pure (no Django): the column limits come in as plain data (``Column``), built from the
model fields by ``denials.services.storing.column_limits``. The whole parsed file is
checked before any transaction set is stored, so a value that does not fit fails the file
with nothing written, naming the segment, the element and the limit, instead of a
database error half way through (PostgreSQL) or a row no page can read back (SQLite).

What does not fit:

- text longer than its column's ``max_length``, or holding a NUL byte (PostgreSQL text
  cannot store one; refused on every database so both behave the same);
- a number with more digits before the point than ``max_digits - decimal_places``.

A number with more decimal places than its column keeps is not refused: it is rounded
half away from zero (what PostgreSQL does; SQLite would go through a float and could
round the other way), the parsed value is replaced by the rounded one, and a warning
names the segment.

Which parsed value goes to which column is listed once, here (``*_VALUES``); the storing
service writes exactly these values, without truncating any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any

from denials.x12.parsed import Finding, ParsedFile, Party, Transaction

__all__ = ["Column", "FitReport", "check_file", "payer_key"]

_SHOWN = 40  # characters of a too-long value quoted in a message


@dataclass(frozen=True)
class Column:
    """What one database column can hold (from the model field)."""

    label: str  # words for messages: "patient last name"
    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None

    @property
    def digits_before_point(self) -> int:
        assert self.max_digits is not None
        return self.max_digits - (self.decimal_places or 0)


@dataclass
class FitReport:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# (attribute, column key, segment tags to look up in ``origins`` (first found wins; none:
# the object's own segment), element)
_Spec = tuple[str, str, tuple[str, ...], str]

TRANSACTION_VALUES: tuple[_Spec, ...] = (
    ("control_number", "Remittance.transaction_control_number", (), "ST02"),
    ("interchange_control_number", "Remittance.interchange_control_number", ("ISA",), "ISA13"),
    ("group_control_number", "Remittance.group_control_number", ("GS",), "GS06"),
    ("sender_id", "Remittance.sender_id", ("GS", "ISA"), "GS02"),
    ("handling_code", "Remittance.handling_code", ("BPR",), "BPR01"),
    ("payment_amount", "Remittance.payment_amount", ("BPR",), "BPR02"),
    ("credit_debit", "Remittance.credit_debit", ("BPR",), "BPR03"),
    ("payment_method", "Remittance.payment_method", ("BPR",), "BPR04"),
    ("trace_number", "Remittance.trace_number", ("TRN",), "TRN02"),
)
CLAIM_VALUES: tuple[_Spec, ...] = (
    ("patient_control_number", "ClaimPayment.patient_control_number", (), "CLP01"),
    ("status_code", "ClaimPayment.status_code", (), "CLP02"),
    ("charge", "ClaimPayment.charge", (), "CLP03"),
    ("paid", "ClaimPayment.paid", (), "CLP04"),
    ("patient_responsibility", "ClaimPayment.patient_responsibility", (), "CLP05"),
    ("filing_indicator", "ClaimPayment.filing_indicator", (), "CLP06"),
    ("payer_claim_number", "ClaimPayment.payer_claim_number", (), "CLP07"),
    ("facility_type", "ClaimPayment.facility_type", (), "CLP08"),
    ("frequency_code", "ClaimPayment.frequency_code", (), "CLP09"),
    ("drg_code", "ClaimPayment.drg_code", (), "CLP11"),
    ("patient_last_name", "ClaimPayment.patient_last_name", ("NM1*QC",), "NM103"),
    ("patient_first_name", "ClaimPayment.patient_first_name", ("NM1*QC",), "NM104"),
    ("patient_member_id", "ClaimPayment.patient_member_id", ("NM1*QC", "NM1*IL"), "NM109"),
    ("insured_member_id", "ClaimPayment.insured_member_id", ("NM1*IL",), "NM109"),
    ("rendering_provider_name", "ClaimPayment.rendering_provider_name", ("NM1*82",), "NM103"),
    ("rendering_provider_npi", "ClaimPayment.rendering_provider_npi", ("NM1*82",), "NM109"),
)
LINE_VALUES: tuple[_Spec, ...] = (
    ("qualifier", "ServiceLine.qualifier", (), "SVC01-1"),
    ("procedure_code", "ServiceLine.procedure_code", (), "SVC01-2"),
    ("charge", "ServiceLine.charge", (), "SVC02"),
    ("paid", "ServiceLine.paid", (), "SVC03"),
    ("revenue_code", "ServiceLine.revenue_code", (), "SVC04"),
    ("units", "ServiceLine.units", (), "SVC05"),
    ("original_procedure_code", "ServiceLine.original_procedure_code", (), "SVC06-2"),
    ("allowed", "ServiceLine.allowed", ("AMT*B6",), "AMT02"),
    ("line_control_number", "ServiceLine.line_control_number", ("REF*6R",), "REF02"),
)
# A line's modifiers go to modifier1..modifier4 (SVC01-3 .. SVC01-6).
MODIFIER_COLUMNS = ("ServiceLine.modifier1", "ServiceLine.modifier2", "ServiceLine.modifier3", "ServiceLine.modifier4")
# CAS: the element is relative to the triple's reason code (CAS02, CAS05 ...).
ADJUSTMENT_VALUES: tuple[tuple[str, str, int], ...] = (
    ("group_code", "Adjustment.group_code", -1),  # always CAS01
    ("reason_code", "Adjustment.reason_code", 0),
    ("amount", "Adjustment.amount", 1),
    ("quantity", "Adjustment.quantity", 2),
)
REMARK_COLUMN = "RemarkCode.code"
PROVIDER_ADJUSTMENT_VALUES: tuple[tuple[str, str, str], ...] = (
    ("provider_identifier", "ProviderAdjustment.provider_identifier", "PLB01"),
    ("reason_code", "ProviderAdjustment.reason_code", "-1"),
    ("reference", "ProviderAdjustment.reference", "-2"),
    ("amount", "ProviderAdjustment.amount", "+1"),
)
FILE_TOTAL_COLUMNS = {"charge": "RemittanceFile.total_charge", "paid": "RemittanceFile.total_paid"}
# Every column key above; the storing service builds a Column for each from its model field.
COLUMN_KEYS: frozenset[str] = frozenset(
    [s[1] for s in TRANSACTION_VALUES + CLAIM_VALUES + LINE_VALUES]
    + list(MODIFIER_COLUMNS)
    + [s[1] for s in ADJUSTMENT_VALUES]
    + [REMARK_COLUMN]
    + [s[1] for s in PROVIDER_ADJUSTMENT_VALUES]
    + list(FILE_TOTAL_COLUMNS.values())
    + ["Payer.payer_key", "Payer.name", "Payer.identifier", "Payer.identifier_qualifier"]
    + ["Provider.name", "Provider.npi", "Provider.tin"]
)


def payer_key(party: Party) -> tuple[str, str, str]:
    """(key, identifier, qualifier) of a payer: REF*2U wins, then N1*PR N104, then the name."""
    if party.additional_ids.get("2U"):
        return f"2U:{party.additional_ids['2U']}", party.additional_ids["2U"], "2U"
    if party.identifier:
        return f"{party.id_qualifier or 'ID'}:{party.identifier}", party.identifier, party.id_qualifier
    name = " ".join(party.name.upper().split()) or "UNKNOWN PAYER"
    return f"NAME:{name}", "", ""


def payer_name(party: Party, identifier: str) -> str:
    return party.name or identifier or "Unknown payer"


def payee_name(party: Party) -> str:
    return party.name or "Unknown payee"


def check_file(parsed: ParsedFile, limits: Mapping[str, Column], *, nul_possible: bool = True) -> FitReport:
    """Check every value of every transaction set, then the file's totals.

    ``nul_possible=False`` (the caller found no NUL byte in the raw file) skips the NUL
    scan of each text. Amounts with more decimal places than their column are rounded in
    ``parsed`` (see the module docstring).
    """
    checker = _Checker(limits, nul_possible)
    total = {"charge": Decimal(0), "paid": Decimal(0)}
    last_claim_segment = 0
    for txn in parsed.transactions:
        checker.transaction(txn)
        for claim in txn.claims:
            total["charge"] += claim.charge
            total["paid"] += claim.paid
            last_claim_segment = claim.segment_number
    for name, key in FILE_TOTAL_COLUMNS.items():
        column = limits[key]
        if checker.report.errors:
            break  # a claim already does not fit: its total would only repeat it
        if abs(total[name]) >= 10**column.digits_before_point:
            checker.report.errors.append(
                Finding(
                    last_claim_segment,
                    "CLP",
                    f"the claims' {name} amounts add up to {_number_text(total[name], column)}, more digits than "
                    f"the {column.label} column holds ({column.digits_before_point} before the point)",
                    "error",
                    "CLP03" if name == "charge" else "CLP04",
                )
            )
    return checker.report


class _Checker:
    def __init__(self, limits: Mapping[str, Column], nul_possible: bool) -> None:
        self.limits = limits
        self.nul_possible = nul_possible
        self.report = FitReport()
        # The bound of each decimal column: a value at or past it has too many digits.
        self.bounds = {
            key: Decimal(10) ** c.digits_before_point for key, c in limits.items() if c.max_digits is not None
        }
        self.quanta = {
            key: Decimal(1).scaleb(-(c.decimal_places or 0)) for key, c in limits.items() if c.max_digits is not None
        }
        # Fast paths: a whole claim, line or adjustment is checked with a few C-level calls,
        # and only one that fails is walked again value by value to say where and why.
        self.claim_fits = self.fits_all(CLAIM_VALUES)
        self.line_fits = self.fits_all(LINE_VALUES)
        self.adjustment_fits = self.fits_all([(a, key, (), "") for a, key, _ in ADJUSTMENT_VALUES])
        self.modifier_limit = min(limits[key].max_length or 0 for key in MODIFIER_COLUMNS)
        self.remark_limit = limits[REMARK_COLUMN].max_length or 0

    def fits_all(self, specs: Iterable[_Spec]) -> Callable[[Any], bool]:
        """A function telling whether every listed value of an object fits (no messages)."""
        text = [(a, self.limits[key].max_length) for a, key, _, _ in specs if key not in self.bounds]
        numbers = [(a, self.bounds[key], self.quanta[key]) for a, key, _, _ in specs if key in self.bounds]
        get_text = attrgetter(*(a for a, _ in text))
        get_numbers = attrgetter(*(a for a, _, _ in numbers))
        lengths = [length if length is not None else 1 << 62 for _, length in text]
        number_limits: list[tuple[Any, Any, set[Any]]] = [(bound, quantum, set()) for _, bound, quantum in numbers]
        nul_possible = self.nul_possible

        def fits(obj: Any) -> bool:
            values = get_text(obj)
            for value, length in zip(values, lengths):  # noqa: B905 (built together above)
                if len(value) > length:
                    return False
            if nul_possible and any("\x00" in value for value in values):
                return False
            for value, (bound, quantum, seen) in zip(get_numbers(obj), number_limits):  # noqa: B905
                if value is None or value in seen:
                    continue
                if -bound < value < bound and value.quantize(quantum, rounding=ROUND_HALF_UP) == value:
                    seen.add(value)  # amounts repeat (fee schedules): each is rounded once
                    continue
                return False
            return True

        return fits

    # -- one value ------------------------------------------------------------------------

    def text(self, value: str, key: str, segment: int, element: str) -> None:
        column = self.limits[key]
        if column.max_length is not None and len(value) > column.max_length:
            shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
            self.error(
                segment,
                element,
                f"{column.label} {shown!r} is {len(value)} characters; the column holds {column.max_length}",
            )
        elif self.nul_possible and "\x00" in value:
            self.error(
                segment,
                element,
                f"{column.label} {value!r} contains a NUL byte (0x00), which the database cannot store",
            )

    def number(self, obj: Any, attribute: str, key: str, segment: int, element: str) -> None:
        value = getattr(obj, attribute)
        if value is None:
            return
        bound = self.bounds[key]
        column = self.limits[key]
        if -bound < value < bound:
            rounded = value.quantize(self.quanta[key], rounding=ROUND_HALF_UP)
            if rounded == value:  # the usual case: nothing to round
                return
            if -bound < rounded < bound:
                setattr(obj, attribute, rounded)
                self.report.warnings.append(
                    Finding(
                        segment,
                        _segment_id(element),
                        f"{column.label} {value} has more than {column.decimal_places or 0} decimal places, "
                        f"which the column keeps: stored as {rounded}",
                        "warning",
                        element,
                    )
                )
                return
        self.error(
            segment,
            element,
            f"{column.label} {_number_text(value, column)} has more digits than the column holds "
            f"({column.digits_before_point} before the point)",
        )

    def error(self, segment: int, element: str, message: str) -> None:
        if len(self.report.errors) < 200:
            self.report.errors.append(Finding(segment, _segment_id(element), message, "error", element))

    def values(self, obj: Any, specs: Iterable[_Spec], origins: Mapping[str, int], own: int) -> None:
        for attribute, key, tags, element in specs:
            segment = own
            for tag in tags:
                if tag in origins:
                    segment = origins[tag]
                    break
            if key in self.bounds:
                self.number(obj, attribute, key, segment, element)
            else:
                self.text(getattr(obj, attribute), key, segment, element)

    # -- one transaction set ------------------------------------------------------------------

    def transaction(self, txn: Transaction) -> None:
        self.values(txn, TRANSACTION_VALUES, txn.origins, txn.segment_number)
        self.parties(txn)
        for plb in txn.provider_adjustments:
            at = plb.element
            for attribute, key, where in PROVIDER_ADJUSTMENT_VALUES:
                if where == "-1":
                    element = f"PLB{at:02d}-1"
                elif where == "-2":
                    element = f"PLB{at:02d}-2"
                elif where == "+1":
                    element = f"PLB{at + 1:02d}"
                else:
                    element = where
                if key in self.bounds:
                    self.number(plb, attribute, key, plb.segment_number, element)
                else:
                    self.text(getattr(plb, attribute), key, plb.segment_number, element)
        text = self.text
        claim_fits = self.claim_fits
        line_fits = self.line_fits
        for claim in txn.claims:
            if not claim_fits(claim):
                self.values(claim, CLAIM_VALUES, claim.origins, claim.segment_number)
            self.adjustments(claim.adjustments)
            if claim.remark_codes and not self.codes_fit(claim.remark_codes, self.remark_limit):
                for code in claim.remark_codes:
                    segment, element = claim.remark_origins.get(code, (claim.segment_number, "MOA"))
                    text(code, REMARK_COLUMN, segment, element)
            for line in claim.service_lines:
                if not line_fits(line):
                    self.values(line, LINE_VALUES, line.origins, line.segment_number)
                if line.modifiers and not self.codes_fit(line.modifiers, self.modifier_limit):
                    for position, modifier in enumerate(line.modifiers):
                        text(modifier, MODIFIER_COLUMNS[position], line.segment_number, f"SVC01-{position + 3}")
                if line.adjustments:
                    self.adjustments(line.adjustments)
                if line.remark_codes and not self.codes_fit(line.remark_codes, self.remark_limit):
                    for code in line.remark_codes:
                        segment, element = line.remark_origins.get(code, (line.segment_number, "LQ02"))
                        text(code, REMARK_COLUMN, segment, element)

    def codes_fit(self, codes: list[str], limit: int) -> bool:
        return all(len(code) <= limit and not (self.nul_possible and "\x00" in code) for code in codes)

    def adjustments(self, adjustments: Iterable[Any]) -> None:
        fits = self.adjustment_fits
        for adjustment in adjustments:
            if fits(adjustment):
                continue
            at = adjustment.element
            for attribute, key, offset in ADJUSTMENT_VALUES:
                element = "CAS01" if offset < 0 else f"CAS{at + offset:02d}"
                if key in self.bounds:
                    self.number(adjustment, attribute, key, adjustment.segment_number, element)
                else:
                    self.text(getattr(adjustment, attribute), key, adjustment.segment_number, element)

    def parties(self, txn: Transaction) -> None:
        payer = txn.payer
        key, identifier, qualifier = payer_key(payer)
        from_ref = qualifier == "2U"
        ref_segment = payer.origins.get("REF*2U", payer.segment_number)
        id_segment, id_element = (ref_segment, "REF02") if from_ref else (payer.segment_number, "N104")
        n1 = payer.segment_number or txn.segment_number
        self.text(key, "Payer.payer_key", id_segment if identifier else n1, id_element if identifier else "N102")
        self.text(payer_name(payer, identifier), "Payer.name", n1, "N102")
        self.text(identifier, "Payer.identifier", id_segment, id_element)
        self.text(qualifier, "Payer.identifier_qualifier", n1, "N103")
        payee = txn.payee
        n1 = payee.segment_number or txn.segment_number
        self.text(payee_name(payee), "Provider.name", n1, "N102")
        self.text(payee.npi, "Provider.npi", n1, "N104")
        tin_from_ref = payee.id_qualifier != "FI" and "REF*TJ" in payee.origins
        self.text(
            payee.tin,
            "Provider.tin",
            payee.origins["REF*TJ"] if tin_from_ref else n1,
            "REF02" if tin_from_ref else "N104",
        )


def _segment_id(element: str) -> str:
    """'NM103' -> 'NM1', 'SVC01-3' -> 'SVC'."""
    return element.split("-", 1)[0][:-2]


def _number_text(value: Decimal, column: Column) -> str:
    """Money as billing teams read it (12.50, not 12.5), keeping any extra precision."""
    exponent = value.as_tuple().exponent
    places = column.decimal_places or 0
    if isinstance(exponent, int) and exponent >= -places:
        return f"{value:.{places}f}"
    return str(value)
