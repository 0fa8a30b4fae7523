"""Plain data read from an X12 835 remittance file.

This module and the reader import nothing from Django: they turn bytes into these
dataclasses, and ``denials.services`` stores them. Money is ``Decimal`` throughout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found while reading: where it is and what is wrong.

    ``segment_number`` counts segments from 1 across the whole file, so a person can find
    the line in the original; ``segment_id`` is the segment's tag (``CLP``, ``SE``...).
    """

    segment_number: int
    segment_id: str
    message: str
    severity: str = "error"  # "error" (structural, file rejected) or "warning"
    element: str = ""  # e.g. "CLP04" or "SVC01-3" when the finding is about one element

    def __str__(self) -> str:
        if self.segment_number and self.element:
            return f"segment {self.segment_number} {self.element}: {self.message}"
        where = f"segment {self.segment_number} ({self.segment_id})" if self.segment_number else "file"
        return f"{where}: {self.message}"


# Where a value was read (segment numbers), so a value the database cannot hold can be
# named by segment and element. Kept out of equality: two adjustments are the same whatever
# segment they sat in.


@dataclass(slots=True)
class Adjustment:
    """One CAS triple: group code, CARC, amount, quantity (built fast: see ServiceLine)."""

    group_code: str
    reason_code: str
    amount: Decimal
    quantity: Decimal | None = None
    segment_number: int = field(default=0, compare=False)  # the CAS segment
    # The position of its reason code: 2 (CAS02), 5 ... 17; 20 and on are beyond the guide.
    element: int = field(default=0, compare=False)


@dataclass(slots=True)
class ServiceLine:
    """One SVC loop (2110).

    The reader builds lines, adjustments and claims fast (20,000 lines a big file): with
    every field positional, or as a bare object with every field set, without ``__init__``
    (see ``_new`` in the reader). A field added or moved here must be added or moved there
    too, and these classes must keep no ``__post_init__``;
    ``tests/test_reader_speed_paths.py`` compares every field with a keyword-built one.
    """

    sequence: int  # 1-based position of the line inside its claim
    qualifier: str  # HC, AD, N4, ...
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    revenue_code: str = ""
    units: Decimal | None = None
    original_procedure_code: str = ""  # SVC06 when the payer changed the code
    service_date: dt.date | None = None
    service_date_end: dt.date | None = None
    line_control_number: str = ""  # REF*6R
    allowed: Decimal | None = None  # AMT*B6
    adjustments: list[Adjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)  # LQ*HE
    segment_number: int = 0
    # Segment numbers of the segments other than the SVC that filled this line ("REF*6R", "AMT*B6").
    origins: dict[str, int] = field(default_factory=dict, compare=False)
    # Remark code -> (segment number, element), e.g. (17, "LQ02").
    remark_origins: dict[str, tuple[int, str]] = field(default_factory=dict, compare=False)

    @property
    def adjustment_total(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), Decimal("0"))


@dataclass(slots=True)
class ClaimPayment:
    """One CLP loop (2100) with its service lines (built positionally: see ServiceLine)."""

    patient_control_number: str  # CLP01
    status_code: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal | None  # CLP05
    filing_indicator: str = ""  # CLP06
    payer_claim_number: str = ""  # CLP07
    facility_type: str = ""  # CLP08
    frequency_code: str = ""  # CLP09
    drg_code: str = ""  # CLP11
    patient_last_name: str = ""
    patient_first_name: str = ""
    patient_member_id: str = ""  # NM1*QC09
    insured_member_id: str = ""  # NM1*IL09
    rendering_provider_name: str = ""
    rendering_provider_npi: str = ""  # NM1*82 with XX qualifier
    statement_from: dt.date | None = None  # DTM*232
    statement_to: dt.date | None = None  # DTM*233
    received_date: dt.date | None = None  # DTM*050
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    remark_codes: list[str] = field(default_factory=list)  # MOA/MIA remark codes
    service_lines: list[ServiceLine] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)  # e.g. does not balance
    segment_number: int = 0
    # Segment numbers of the segments other than the CLP that filled this claim ("NM1*QC", "NM1*IL", "NM1*82").
    origins: dict[str, int] = field(default_factory=dict, compare=False)
    # Remark code -> (segment number, element), e.g. (14, "MOA03").
    remark_origins: dict[str, tuple[int, str]] = field(default_factory=dict, compare=False)

    @property
    def adjustment_total(self) -> Decimal:
        """All CAS amounts on the claim, claim-level and line-level."""
        total = sum((a.amount for a in self.adjustments), Decimal("0"))
        return total + sum((line.adjustment_total for line in self.service_lines), Decimal("0"))


@dataclass(slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair (provider-level, not tied to a claim)."""

    provider_identifier: str
    fiscal_period_date: dt.date | None
    reason_code: str
    reference: str
    amount: Decimal
    segment_number: int = field(default=0, compare=False)  # the PLB segment
    element: int = field(default=0, compare=False)  # the position of its reason composite: 3 (PLB03), 5 ... 13


@dataclass(slots=True)
class Party:
    """N1 loop: payer (PR) or payee (PE)."""

    name: str = ""
    id_qualifier: str = ""  # N103: XX (NPI), FI (TIN), XV, PI...
    identifier: str = ""  # N104
    additional_ids: dict[str, str] = field(default_factory=dict)  # REF qualifier -> value, e.g. {"2U": ...}
    npi: str = ""
    tin: str = ""
    segment_number: int = field(default=0, compare=False)  # the N1 segment
    origins: dict[str, int] = field(default_factory=dict, compare=False)  # "REF*2U", "REF*TJ"


@dataclass(slots=True)
class Transaction:
    """One ST/SE transaction set: one remittance (one payment to one payee)."""

    control_number: str  # ST02
    interchange_control_number: str  # ISA13 ("" when the file has no envelope)
    group_control_number: str  # GS06
    sender_id: str = ""  # ISA06 / GS02
    receiver_id: str = ""
    version: str = ""  # GS08, e.g. 005010X221A1
    handling_code: str = ""  # BPR01
    payment_amount: Decimal = Decimal("0")  # BPR02
    credit_debit: str = ""  # BPR03
    payment_method: str = ""  # BPR04: ACH, CHK, NON, FWT, BOP
    payment_date: dt.date | None = None  # BPR16
    trace_number: str = ""  # TRN02
    trace_originator: str = ""  # TRN03
    production_date: dt.date | None = None  # DTM*405
    payer: Party = field(default_factory=Party)
    payee: Party = field(default_factory=Party)
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    segment_number: int = 0  # of the ST
    origins: dict[str, int] = field(default_factory=dict, compare=False)  # "ISA", "GS", "BPR", "TRN"


@dataclass(slots=True)
class ParsedFile:
    """What the reader returns: every transaction, and what it noticed.

    ``errors`` are structural (the file must be refused); ``warnings`` are not (the file
    ingests with them shown, e.g. a missing envelope or a claim that does not balance).
    """

    transactions: list[Transaction] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    segment_count: int = 0
    version: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def claim_count(self) -> int:
        return sum(len(t.claims) for t in self.transactions)
