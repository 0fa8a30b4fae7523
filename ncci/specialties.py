"""Which specialty a procedure code belongs to: one pure rule over admin-edited ranges.

An 835 carries no specialty, so the managers' figures "per specialty" come from procedure
code ranges (``ncci.models.SpecialtyRange``, edited in the admin and seeded from
``SHIPPED_SPECIALTY_RANGES`` below). Pure: no Django, so the rule is tested on codes alone.

The rule: a code belongs to the **narrowest** range that holds it (a nerve block range inside
the surgery range names pain management, not surgery); ranges of equal width: the first one
listed (lowest position). A range holds a code when both have the same length and the same
form — all digits (a CPT code) or not (a Category II/III code such as 0591T, a HCPCS Level II
code such as G0283) — and the code sorts between its ends. So 0591T never falls in the
anesthesia range 00100-01999 by string order alone. A code no range holds: ``UNMAPPED``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: What a code no range holds is reported as.
UNMAPPED = "Unmapped"


@dataclass(frozen=True)
class CodeRange:
    specialty: str
    first: str
    last: str
    position: int = 0

    def holds(self, code: str) -> bool:
        return (
            len(code) == len(self.first) == len(self.last)
            and code.isdigit() == self.first.isdigit() == self.last.isdigit()
            and self.first <= code <= self.last
        )

    @property
    def width(self) -> int:
        """How many codes the range spans (numeric ranges exactly; others by their digits)."""
        digits_first = "".join(ch for ch in self.first if ch.isdigit()) or "0"
        digits_last = "".join(ch for ch in self.last if ch.isdigit()) or "0"
        return max(int(digits_last) - int(digits_first), 0)


def range_problem(*, first: str, last: str) -> str:
    """Why a range cannot be used ("" when it can): named ends of the same length and form, in order."""
    first, last = first.strip().upper(), last.strip().upper()
    if not first or not last:
        return "A range needs a first and a last code."
    if len(first) != len(last):
        return f"{first} and {last} differ in length; a range runs between codes of one form (e.g. 11000-11983)."
    if first.isdigit() != last.isdigit():
        return f"{first} and {last} are of different forms (digits only vs letters); split the range."
    if first > last:
        return f"The range starts after it ends ({first} > {last})."
    return ""


def specialty_for(code: str, ranges: Iterable[CodeRange]) -> str:
    """The specialty of ``code``: its narrowest range's (see the module docstring), else ``UNMAPPED``."""
    code = (code or "").strip().upper()
    best: CodeRange | None = None
    for candidate in ranges:
        if candidate.holds(code) and (
            best is None or (candidate.width, candidate.position) < (best.width, best.position)
        ):
            best = candidate
    return best.specialty if best is not None else UNMAPPED


#: The seeds: broad CPT sections, then the narrower families a billing team reports on. Our
#: own grouping by the CPT section boundaries (numbers only; no CPT descriptions).
SHIPPED_SPECIALTY_RANGES: tuple[CodeRange, ...] = (
    CodeRange("Anesthesia", "00100", "01999"),
    CodeRange("Surgery (other)", "10004", "69990"),
    CodeRange("Dermatology", "10030", "19499"),
    CodeRange("Dermatology", "17000", "17999"),
    CodeRange("Orthopedics", "20100", "29999"),
    CodeRange("Pain management", "20550", "20553"),
    CodeRange("Pain management", "62263", "62327"),
    CodeRange("Pain management", "64400", "64999"),
    CodeRange("Cardiology", "33010", "37799"),
    CodeRange("Gastroenterology", "43180", "43278"),
    CodeRange("Gastroenterology", "45300", "45398"),
    CodeRange("Ophthalmology", "65091", "68899"),
    CodeRange("Radiology", "70010", "79999"),
    CodeRange("Pathology and laboratory", "80047", "89398"),
    CodeRange("Medicine (other)", "90281", "99199"),
    CodeRange("Ophthalmology", "92002", "92499"),
    CodeRange("Cardiology", "92920", "93799"),
    CodeRange("Physical medicine and rehabilitation", "97010", "97799"),
    CodeRange("E/M", "99202", "99499"),
)
