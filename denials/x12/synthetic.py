"""Synthetic, balanced X12 835 (005010X221A1) remittances for the demo data set and benchmarks.

Every payer, practice, physician, patient and identifier here is invented. A file is
deterministic for its seed, and every service line, claim and payment balances to the
cent (charge - paid = adjustments; BPR02 = paid - PLB), so the reader, the ingest and the
work queues can be exercised at volume without a single real remittance.

The claims follow the clinical scenarios billing teams meet: the NCCI pairs named in
DOMAIN.md section 5 billed together on one date (sometimes with a bypass modifier), routine
write-downs and patient shares on paid lines, and the usual denial reasons with the RARCs
payers send with them. ``NCCI_PAIRS`` lists the pairs so the demo NCCI data can match.

    python -m denials.x12.synthetic --claims 5000 --seed 1 -o /tmp/x.835

Amounts are whole cents (``int``) inside this module: exact like ``Decimal`` and several
times faster, which matters when a benchmark file holds 20,000 claims. This module imports
nothing from Django (from ``ncci`` only the pure ``ncci.ptp``, for the bypass modifiers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import re
import sys
import zlib
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate
from pathlib import Path

from ncci.ptp import DEFAULT_BYPASS_MODIFIERS

__all__ = [
    "DEMO_PAYERS",
    "DEMO_PROVIDERS",
    "NCCI_PAIRS",
    "ROUTINE_ADJUSTMENTS",
    "RenderingProvider",
    "SyntheticPayer",
    "SyntheticProvider",
    "generate_835",
    "generate_demo_files",
    "npi_is_valid",
]


# -- parties ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticPayer:
    """A fictitious payer: N1*PR, REF*2U, the fee schedule and the benefit design."""

    name: str
    payer_id: str  # REF*2U and ISA06/GS02
    address: str
    city: str
    state: str
    postal_code: str
    filing_indicator: str = "12"  # CLP06: 12 PPO, MC Medicaid, MB Medicare Part B
    tin: str = "890000001"  # TRN03 is "1" + this
    member_id_prefix: str = "XYZ"
    payment_method: str = "ACH"  # ACH (CCP format) or CHK
    allowed_ratio: tuple[float, float] = (0.50, 0.78)  # allowed / charge, per procedure code
    phone: str = "8005550100"
    email: str = "edi@payer.example"

    @property
    def is_medicare(self) -> bool:
        return self.filing_indicator == "MB"

    @property
    def is_medicaid(self) -> bool:
        return self.filing_indicator == "MC"


@dataclass(frozen=True)
class RenderingProvider:
    """A physician who appears in NM1*82."""

    last_name: str
    first_name: str
    npi: str
    specialty: str


@dataclass(frozen=True)
class SyntheticProvider:
    """A fictitious practice (the payee, N1*PE) and its physicians."""

    name: str
    npi: str
    tin: str
    address: str
    city: str
    state: str
    postal_code: str
    specialty_weights: tuple[tuple[str, int], ...]
    rendering: tuple[RenderingProvider, ...]


def _luhn_check_digit(payload: str) -> int:
    total = 0
    # The check digit will sit to the right, so the payload's last digit is doubled.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def _npi(body: str) -> str:
    """A 10-digit NPI: 9 digits plus the Luhn check digit computed with the 80840 prefix."""
    return body + str(_luhn_check_digit("80840" + body))


def npi_is_valid(npi: str) -> bool:
    """True when ``npi`` has 10 digits and its check digit is right (Luhn over 80840 + NPI)."""
    return len(npi) == 10 and npi.isdigit() and _luhn_check_digit("80840" + npi[:9]) == int(npi[9])


def _routing_number(body: str) -> str:
    """A 9-digit ABA routing number from 8 digits, with the ABA check digit.

    Callers start the body with 5x: no Federal Reserve district uses 13-20, 33-60 or 73-79,
    so these can never name a real bank.
    """
    d = [int(c) for c in body]
    check = (10 - (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5])) % 10) % 10
    return body + str(check)


# TINs start with 79 or 89: the IRS assigns no EIN with those prefixes, so none is real.
DEMO_PAYERS: list[SyntheticPayer] = [
    SyntheticPayer(
        name="Lakeshore Health Plan",
        payer_id="LKSHP",
        address="400 Harbor Point Drive",
        city="Milwaukee",
        state="WI",
        postal_code="53202",
        filing_indicator="12",
        tin="891470263",
        member_id_prefix="LHP",
        payment_method="ACH",
        allowed_ratio=(0.52, 0.74),
        phone="8005550131",
        email="edi-support@lakeshorehealth.example",
    ),
    SyntheticPayer(
        name="Summit Mutual Insurance",
        payer_id="SMMIC",
        address="1200 Ridgeline Parkway",
        city="Denver",
        state="CO",
        postal_code="80202",
        filing_indicator="12",
        tin="892583016",
        member_id_prefix="SMU",
        payment_method="ACH",
        allowed_ratio=(0.55, 0.80),
        phone="8005550147",
        email="provider-edi@summitmutual.example",
    ),
    SyntheticPayer(
        name="Great Plains Medicare Administrative Contractor",
        payer_id="GPMAC",
        address="77 Prairie Wind Boulevard",
        city="Omaha",
        state="NE",
        postal_code="68102",
        filing_indicator="MB",
        tin="893604718",
        member_id_prefix="",
        payment_method="ACH",
        allowed_ratio=(0.30, 0.46),
        phone="8005550162",
        email="era@greatplainsmac.example",
    ),
    SyntheticPayer(
        name="Riverbend Community Medicaid Plan",
        payer_id="RVBMC",
        address="9 Confluence Square",
        city="Des Moines",
        state="IA",
        postal_code="50309",
        filing_indicator="MC",
        tin="894716305",
        member_id_prefix="ZX",
        payment_method="ACH",
        allowed_ratio=(0.24, 0.40),
        phone="8005550178",
        email="edi@riverbendcommunity.example",
    ),
    SyntheticPayer(
        name="Cedar Ridge Benefit Administrators",
        payer_id="CDRBA",
        address="3100 Old Mill Road, Suite 200",
        city="Knoxville",
        state="TN",
        postal_code="37902",
        filing_indicator="12",
        tin="895827430",
        member_id_prefix="CRB",
        payment_method="CHK",
        allowed_ratio=(0.48, 0.72),
        phone="8005550185",
        email="claims-edi@cedarridgeba.example",
    ),
]

_SPECIALTIES: tuple[str, ...] = (
    "primary_care",
    "dermatology",
    "pain_management",
    "cardiology",
    "orthopedics",
    "wound_care",
    "physical_therapy",
    "radiology",
    "behavioral_health",
)

# fmt: off
_FIRST_NAMES: tuple[str, ...] = (
    "JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID",
    "ELIZABETH", "WILLIAM", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA", "THOMAS",
    "KAREN", "CHARLES", "SARAH", "DANIEL", "LISA", "MATTHEW", "NANCY", "ANTHONY", "SANDRA",
    "MARK", "ASHLEY", "DONALD", "EMILY", "STEVEN", "DONNA", "ANDREW", "MICHELLE", "JOSHUA",
    "CAROL", "KENNETH", "AMANDA", "KEVIN", "MELISSA", "BRIAN", "DEBORAH", "GEORGE", "LAURA",
    "TIMOTHY", "REBECCA", "RONALD", "SHARON", "JASON", "CYNTHIA", "MARIA", "JOSE", "ANA",
    "LUIS", "MEI", "WEI", "PRIYA", "RAHUL", "AISHA", "OMAR", "FATIMA", "HIROSHI", "YUKI",
)
_LAST_NAMES: tuple[str, ...] = (
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ",
    "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR",
    "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ",
    "CLARK", "RAMIREZ", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING", "WRIGHT",
    "SCOTT", "TORRES", "NGUYEN", "HILL", "FLORES", "GREEN", "ADAMS", "NELSON", "BAKER", "HALL",
    "RIVERA", "CAMPBELL", "MITCHELL", "CARTER", "ROBERTS", "PATEL", "SHAH", "KIM", "CHEN",
    "WANG", "NAKAMURA", "OKAFOR", "MENDOZA", "BERGSTROM", "KOWALSKI", "OLSEN", "FITZGERALD",
    "DUBOIS", "NOVAK",
)
# fmt: on


def _demo_providers() -> list[SyntheticProvider]:
    """Five fictitious multispecialty groups, each with a physician per specialty.

    Every group sees every specialty (with different weights) so that any payee can carry
    any scenario; the roster comes from a fixed seed so the demo data never shifts.
    """
    rng = random.Random(20260101)
    practices = (
        (
            "Maple Hollow Physicians Group",
            "2150 Maple Hollow Road",
            "Madison",
            "WI",
            "53703",
            {
                "primary_care": 5,
                "orthopedics": 3,
                "pain_management": 3,
                "dermatology": 3,
                "cardiology": 2,
                "wound_care": 2,
                "physical_therapy": 3,
                "radiology": 2,
                "behavioral_health": 2,
            },
        ),
        (
            "Brightwater Family and Specialty Clinic",
            "88 Brightwater Lane",
            "Lincoln",
            "NE",
            "68508",
            {
                "primary_care": 8,
                "dermatology": 2,
                "cardiology": 2,
                "behavioral_health": 3,
                "orthopedics": 2,
                "pain_management": 1,
                "wound_care": 1,
                "physical_therapy": 2,
                "radiology": 1,
            },
        ),
        (
            "Northfield Orthopedic and Pain Associates",
            "415 Northfield Commons",
            "Boulder",
            "CO",
            "80302",
            {
                "orthopedics": 7,
                "pain_management": 6,
                "physical_therapy": 5,
                "radiology": 2,
                "primary_care": 1,
                "wound_care": 1,
                "dermatology": 1,
                "cardiology": 1,
                "behavioral_health": 1,
            },
        ),
        (
            "Copper Valley Dermatology and Wound Care",
            "1010 Copper Valley Drive",
            "Chattanooga",
            "TN",
            "37402",
            {
                "dermatology": 8,
                "wound_care": 6,
                "primary_care": 2,
                "pain_management": 1,
                "cardiology": 1,
                "orthopedics": 1,
                "physical_therapy": 1,
                "radiology": 1,
                "behavioral_health": 1,
            },
        ),
        (
            "Elm Street Heart and Vascular Partners",
            "600 Elm Street",
            "Cedar Rapids",
            "IA",
            "52401",
            {
                "cardiology": 8,
                "primary_care": 4,
                "radiology": 2,
                "wound_care": 2,
                "pain_management": 1,
                "orthopedics": 1,
                "dermatology": 1,
                "physical_therapy": 1,
                "behavioral_health": 1,
            },
        ),
    )
    providers: list[SyntheticProvider] = []
    for index, (name, address, city, state, postal, weights) in enumerate(practices):
        roster = tuple(
            RenderingProvider(
                last_name=rng.choice(_LAST_NAMES),
                first_name=rng.choice(_FIRST_NAMES),
                npi=_npi(str(rng.choice((1, 2))) + f"{rng.randrange(10**8):08d}"),
                specialty=specialty,
            )
            for specialty in _SPECIALTIES
            for _ in range(2)
        )
        providers.append(
            SyntheticProvider(
                name=name,
                npi=_npi("1" + f"{rng.randrange(10**8):08d}"),
                tin=f"79{index}{rng.randrange(10**6):06d}",
                address=address,
                city=city,
                state=state,
                postal_code=postal,
                specialty_weights=tuple(weights.items()),
                rendering=roster,
            )
        )
    return providers


DEMO_PROVIDERS: list[SyntheticProvider] = _demo_providers()


# -- procedures and scenarios -------------------------------------------------------------

# A practice chargemaster: charge per unit, in cents. Payers allow a fraction of it.
# fmt: off
_CHARGES: dict[str, int] = {
    # E/M
    "99203": 24000, "99204": 36000, "99211": 6000, "99212": 11000, "99213": 16500,
    "99214": 24500, "99215": 33000, "99396": 32000,
    # lab and tests
    "36415": 2500, "80053": 6500, "85025": 4200, "83036": 5200, "80061": 7800,
    "84443": 6800, "81002": 1800, "85610": 2400, "87070": 6200, "93000": 9500,
    "90471": 3500, "90686": 4800, "96127": 2800,
    # dermatology
    "17000": 21000, "17003": 2800, "11102": 19000, "11103": 9500, "17110": 19500,
    "11200": 17000, "11900": 12500,
    # pain management
    "64483": 125000, "64484": 52000, "77003": 21000, "20552": 16000, "62323": 110000,
    "72100": 11500, "J3301": 600, "J1100": 300,
    # cardiology
    "93306": 135000, "93308": 68000, "93880": 62000, "93922": 29000,
    # orthopedics
    "20610": 29000, "73562": 14500, "73030": 12500, "73610": 11800, "L1820": 18500,
    "29881": 380000, "29877": 260000, "29875": 240000,
    # wound care
    "11042": 46000, "11045": 16000, "97597": 29000, "97598": 12000, "97605": 18000,
    "A6212": 2600,
    # physical therapy
    "97161": 21000, "97162": 23000, "97110": 9800, "97140": 9200, "97530": 10500,
    "97112": 10200, "G0283": 4500, "97035": 4000,
    # radiology
    "72148": 210000, "70553": 280000, "74177": 190000, "73721": 175000, "71046": 11000,
    "72141": 205000, "72146": 205000, "72040": 11500, "76700": 42000, "77067": 31000,
    # behavioral health
    "90791": 32000, "90837": 26000, "90834": 19000, "90785": 4500,
    # services plans often exclude
    "97124": 8500, "99080": 5000, "S9088": 9000, "99172": 2500, "92551": 2800,
    "15780": 140000, "97810": 9500,
}
# fmt: on

# Lab tests are paid from the clinical lab fee schedule: Medicare takes no deductible or
# coinsurance on them.
_LAB_CODES = frozenset({"36415", "80053", "85025", "83036", "80061", "84443", "81002", "85610", "87070"})
_EM_CODES = frozenset({"99203", "99204", "99211", "99212", "99213", "99214", "99215", "99396"})

# Codes payers commonly require prior authorization for.
_AUTH_CODES = frozenset({"72148", "70553", "74177", "73721", "29881", "29877", "64483", "62323", "93306"})
# Codes payers commonly deny for medical necessity (frequency limits, LCD diagnosis lists).
_NECESSITY_CODES = frozenset(
    {
        "93306",
        "93880",
        "93922",
        "83036",
        "80061",
        "84443",
        "97110",
        "97530",
        "97140",
        "72148",
        "70553",
        "11200",
        "17110",
        "20610",
        "90837",
        "J3301",
        "93000",
        "64484",
        "11045",
    }
)
# Lines a plan excludes from benefits (massage, reports, cosmetic, screenings).
_NONCOVERED_CODES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("97124", ("GP",)),
    ("99080", ()),
    ("S9088", ()),
    ("99172", ()),
    ("92551", ()),
    ("15780", ()),
    ("97810", ()),
)

# NCCI PTP pairs from DOMAIN.md section 5, as (column 1, column 2): the column 2 line is the
# one a payer denies as bundled when both are billed on one date without a bypass modifier.
NCCI_PAIRS: tuple[tuple[str, str], ...] = (
    ("17000", "11102"),
    ("64483", "77003"),
    ("93306", "93308"),
    ("20610", "99213"),
    ("20610", "99214"),
    ("29881", "29877"),
    ("11042", "97597"),
    ("36415", "99214"),
)

# NCCI-associated modifiers (DOMAIN.md section 5) that bypass an indicator 1 edit: the one
# list of them, in the pure ncci.ptp (the generator uses only LT/RT of the anatomic ones).
_BYPASS_MODIFIERS = DEFAULT_BYPASS_MODIFIERS

_SIDE = "SIDE"  # replaced per claim by RT or LT
_OTHER_SIDE = "OTHER_SIDE"  # the opposite of SIDE: an anatomic bypass


@dataclass(frozen=True)
class _Spec:
    code: str
    modifiers: tuple[str, ...] = ()
    units: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class _Scenario:
    specialty: str
    core: tuple[_Spec, ...]
    extras: tuple[_Spec, ...] = ()
    # For an NCCI pair, core[0] is column 1 and core[1] column 2.
    pair: tuple[str, str] | None = None
    # Modifier sets that unbundle the column 2 line (added to it, or OTHER_SIDE swapping it).
    bypass: tuple[tuple[str, ...], ...] = ()
    # Therapy and counseling bill a series of visits on one claim: lines repeat by date.
    repeat_visits: bool = False
    # What a follow-up visit bills, when not the core again (an evaluation happens once).
    revisit: tuple[_Spec, ...] = ()


def _s(code: str, *modifiers: str, units: tuple[int, int] = (1, 1)) -> _Spec:
    return _Spec(code, modifiers, units)


_LAB_EXTRAS = (_s("80053"), _s("85025"), _s("83036"), _s("80061"), _s("84443"), _s("81002"))

_PAIR_SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario(
        "dermatology",
        core=(_s("17000"), _s("11102")),
        extras=(
            _s("17003", units=(1, 8)),
            _s("11103", units=(1, 2)),
            _s("99213", "25"),
            _s("17110"),
            _s("11200"),
            _s("11900"),
        ),
        pair=("17000", "11102"),
        bypass=(("59",), ("XS",), ("XS",)),
    ),
    _Scenario(
        "pain_management",
        core=(_s("64483", _SIDE), _s("77003")),
        extras=(
            _s("64484", _SIDE),
            _s("J3301", units=(4, 8)),
            _s("99214", "25"),
            _s("72100"),
            _s("20552"),
            _s("J1100", units=(4, 10)),
        ),
        pair=("64483", "77003"),
        bypass=(("59",), ("XU",)),
    ),
    _Scenario(
        "cardiology",
        core=(_s("93306"), _s("93308")),
        extras=(_s("93000"), _s("99214", "25"), _s("93880"), _s("93922"), _s("80061"), _s("84443")),
        pair=("93306", "93308"),
        bypass=(("XE",), ("59",)),
    ),
    _Scenario(
        "orthopedics",
        core=(_s("20610", _SIDE), _s("99213")),
        extras=(
            _s("J3301", units=(4, 8)),
            _s("73562", _SIDE),
            _s("73030", _SIDE),
            _s("L1820", _SIDE),
            _s("73610", _SIDE),
            _s("J1100", units=(4, 10)),
        ),
        pair=("20610", "99213"),
        bypass=(("25",),),
    ),
    _Scenario(
        "orthopedics",
        core=(_s("20610", _SIDE), _s("99214")),
        extras=(
            _s("J3301", units=(4, 8)),
            _s("73562", _SIDE),
            _s("73030", _SIDE),
            _s("L1820", _SIDE),
            _s("73610", _SIDE),
            _s("J1100", units=(4, 10)),
        ),
        pair=("20610", "99214"),
        bypass=(("25",),),
    ),
    _Scenario(
        "orthopedics",
        core=(_s("29881", _SIDE), _s("29877", _SIDE)),
        extras=(
            _s("29875", _SIDE),
            _s("20610", _OTHER_SIDE),
            _s("J3301", units=(4, 8)),
            _s("73562", _OTHER_SIDE),
            _s("L1820", _SIDE),
            _s("J1100", units=(4, 10)),
        ),
        pair=("29881", "29877"),
        bypass=(("59",), ("XS",), (_OTHER_SIDE,)),
    ),
    _Scenario(
        "wound_care",
        core=(_s("11042"), _s("97597")),
        extras=(
            _s("11045", units=(1, 3)),
            _s("99213", "25"),
            _s("97605"),
            _s("87070"),
            _s("A6212", units=(2, 10)),
            _s("85025"),
        ),
        pair=("11042", "97597"),
        bypass=(("59",), ("XS",)),
    ),
    _Scenario(
        "primary_care",
        core=(_s("36415"), _s("99214")),
        extras=(*_LAB_EXTRAS, _s("93000"), _s("85610")),
        pair=("36415", "99214"),
        bypass=(("25",),),
    ),
)

_PT_EXTRAS = (
    _s("97140", "GP", units=(1, 3)),
    _s("97530", "GP", units=(1, 3)),
    _s("97112", "GP", units=(1, 2)),
    _s("G0283", "GP"),
    _s("97035", "GP"),
)

_SPINE_IMAGING = (_s("72141"), _s("72146"), _s("72100"), _s("72040"))

_PLAIN_SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario("primary_care", core=(_s("99213"),), extras=(_s("36415"), *_LAB_EXTRAS, _s("93000"), _s("96127"))),
    _Scenario(
        "primary_care", core=(_s("99214"),), extras=(*_LAB_EXTRAS, _s("93000"), _s("96127"), _s("90471"), _s("90686"))
    ),
    _Scenario("primary_care", core=(_s("99204"),), extras=(*_LAB_EXTRAS, _s("93000"), _s("96127"), _s("85610"))),
    _Scenario("primary_care", core=(_s("99396"),), extras=(_s("90471"), _s("90686"), _s("96127"), *_LAB_EXTRAS)),
    _Scenario(
        "dermatology",
        core=(_s("99213"),),
        extras=(
            _s("17110"),
            _s("11200"),
            _s("11900"),
            _s("J3301", units=(1, 4)),
            _s("17000"),
            _s("17003", units=(1, 6)),
        ),
    ),
    _Scenario(
        "dermatology",
        core=(_s("11102"), _s("11103", units=(1, 3))),
        extras=(_s("99203", "25"), _s("17110"), _s("11200"), _s("11900"), _s("J3301", units=(1, 4))),
    ),
    _Scenario(
        "pain_management",
        core=(_s("64483", _SIDE), _s("J3301", units=(4, 8))),
        extras=(_s("64484", _SIDE), _s("99214", "25"), _s("72100"), _s("J1100", units=(4, 10)), _s("20552")),
    ),
    _Scenario(
        "pain_management",
        core=(_s("20552"), _s("J3301", units=(2, 4))),
        extras=(
            _s("99213", "25"),
            _s("72100"),
            _s("J1100", units=(2, 8)),
            _s("97140", "GP"),
            _s("97110", "GP", units=(1, 2)),
        ),
    ),
    _Scenario(
        "pain_management",
        core=(_s("62323"),),
        extras=(_s("J3301", units=(4, 8)), _s("99214", "25"), _s("72100"), _s("J1100", units=(4, 10))),
    ),
    _Scenario(
        "cardiology",
        core=(_s("99214"),),
        extras=(_s("93000"), _s("93880"), _s("93922"), _s("80061"), _s("84443"), _s("85610")),
    ),
    _Scenario(
        "cardiology",
        core=(_s("93306"),),
        extras=(_s("93000"), _s("99215", "25"), _s("93880"), _s("93922"), _s("80061")),
    ),
    _Scenario(
        "orthopedics",
        core=(_s("99204"),),
        extras=(_s("73562", _SIDE), _s("73030", _SIDE), _s("73610", _SIDE), _s("L1820", _SIDE), _s("73721", _SIDE)),
    ),
    _Scenario(
        "orthopedics",
        core=(_s("29881", _SIDE),),
        extras=(_s("29875", _SIDE), _s("J3301", units=(4, 8)), _s("L1820", _SIDE), _s("73562", _SIDE)),
    ),
    _Scenario(
        "wound_care",
        core=(_s("11042"), _s("11045", units=(1, 3))),
        extras=(_s("99213", "25"), _s("87070"), _s("A6212", units=(2, 10)), _s("97605"), _s("85025")),
    ),
    _Scenario(
        "wound_care",
        core=(_s("97597"),),
        extras=(_s("97598", units=(1, 2)), _s("A6212", units=(2, 10)), _s("97605"), _s("87070")),
    ),
    _Scenario(
        "physical_therapy",
        core=(_s("97161", "GP"),),
        extras=_PT_EXTRAS,
        repeat_visits=True,
        revisit=(_s("97110", "GP", units=(2, 4)),),
    ),
    _Scenario("physical_therapy", core=(_s("97110", "GP", units=(2, 4)),), extras=_PT_EXTRAS, repeat_visits=True),
    # An imaging visit often covers several studies, read by the same radiologist.
    _Scenario("radiology", core=(_s("72148"),), extras=(*_SPINE_IMAGING, _s("71046"), _s("73562", _SIDE))),
    _Scenario("radiology", core=(_s("70553"),), extras=(*_SPINE_IMAGING, _s("71046"))),
    _Scenario("radiology", core=(_s("74177"),), extras=(_s("76700"), _s("71046"), _s("80053"), _s("72040"))),
    _Scenario("radiology", core=(_s("73721", _SIDE),), extras=(_s("73562", _SIDE), _s("71046"), _s("72100"))),
    _Scenario("radiology", core=(_s("77067"),), extras=(_s("76700"), _s("71046"))),
    _Scenario("behavioral_health", core=(_s("90837"),), extras=(_s("90785"),), repeat_visits=True),
    _Scenario("behavioral_health", core=(_s("90834"),), extras=(_s("96127"),), repeat_visits=True),
    _Scenario(
        "behavioral_health",
        core=(_s("90791"),),
        extras=(_s("96127"), _s("90785")),
        repeat_visits=True,
        revisit=(_s("90837"),),
    ),
)

# A post-operative visit inside a surgical global period: bundled (CO-97 with M144) with
# no NCCI partner on the claim, the triage branch "global period or payer policy".
_GLOBAL_SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario("orthopedics", core=(_s("99213"),), extras=(_s("73562", _SIDE), _s("L1820", _SIDE))),
    _Scenario("dermatology", core=(_s("99212"),), extras=(_s("17110"),)),
    _Scenario("wound_care", core=(_s("99213"),), extras=(_s("A6212", units=(2, 10)), _s("87070"))),
)

_SCENARIOS_BY_SPECIALTY: dict[str, tuple[_Scenario, ...]] = {
    s: tuple(x for x in _PLAIN_SCENARIOS if x.specialty == s) for s in _SPECIALTIES
}
_PAIRS_BY_SPECIALTY: dict[str, tuple[_Scenario, ...]] = {
    s: tuple(x for x in _PAIR_SCENARIOS if x.specialty == s) for s in _SPECIALTIES
}
_PAIR_SETS = frozenset(frozenset(pair) for pair in NCCI_PAIRS)
# When a scenario runs out of lines before a claim has as many as it should, it borrows
# its specialty's other add-on services (never a second E/M).
_FILLERS_BY_SPECIALTY: dict[str, tuple[_Spec, ...]] = {
    s: tuple(
        {
            spec.code: spec
            for scenario in _PLAIN_SCENARIOS + _PAIR_SCENARIOS
            if scenario.specialty == s
            for spec in scenario.extras
            if spec.code not in _EM_CODES
        }.values()
    )
    for s in _SPECIALTIES
}
_UNIVERSAL_FILLERS: tuple[_Spec, ...] = (*_LAB_EXTRAS, _s("85610"), _s("87070"), _s("93000"), _s("96127"), _s("36415"))
_AUTH_SCENARIOS: tuple[_Scenario, ...] = tuple(
    x for x in _PLAIN_SCENARIOS + _PAIR_SCENARIOS if any(c.code in _AUTH_CODES for c in x.core)
)


# -- denial kinds -------------------------------------------------------------------------

# Relative weights among claims that carry a denial. Whole-claim kinds deny every line.
_DENIAL_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("bundling", 20),  # CO/PR/OA-97 with M15 or N381 on the column 2 line
    ("ncci_236", 5),  # CO-236: the NCCI flag stated explicitly
    ("bundling_partial", 4),  # part of the allowance included in another service
    ("global_period", 3),  # CO-97 M144, no partner on the claim
    ("info_line", 5),  # CO-16 with N290 or MA130 on one line
    ("info_claim", 3),  # CO-16, whole claim unprocessable (MOA MA130)
    ("necessity", 7),  # CO-50
    ("necessity_partial", 4),  # CO-50 on some of the units
    ("duplicate_line", 3),  # CO-18 on one line
    ("duplicate_claim", 3),  # CO-18 / OA-18, whole claim
    ("timely_filing", 4),  # CO-29, whole claim
    ("authorization", 7),  # CO-197 / CO-15
    ("coding", 9),  # CO-4 / CO-11, often with N657
    ("eligibility", 6),  # CO-27 / CO-31, whole claim
    ("coordination", 4),  # CO-22, whole claim
    ("noncovered", 7),  # CO-96 / CO-204 / PR-204
    ("plan_procedures", 3),  # CO-95
)
_DENIAL_KINDS = tuple(kind for kind, _ in _DENIAL_WEIGHTS)
_DENIAL_CUM_WEIGHTS = list(accumulate(weight for _, weight in _DENIAL_WEIGHTS))
_WHOLE_CLAIM_KINDS = frozenset({"info_claim", "duplicate_claim", "timely_filing", "eligibility", "coordination"})
_NEEDS_PAIR = frozenset({"bundling", "ncci_236"})

# Adjustments that are routine, not denials: contract write-down, patient shares,
# sequestration, and the other payer's share on a secondary claim.
ROUTINE_ADJUSTMENTS: frozenset[tuple[str, str]] = frozenset(
    {("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3"), ("CO", "253"), ("OA", "23")}
)

_Adj = tuple[str, str, int, int | None]  # group code, CARC, cents, quantity


@dataclass(slots=True)
class _Line:
    code: str
    modifiers: list[str]
    units: int
    charge: int
    service_date: dt.date
    paid: int = 0
    allowed: int | None = None
    adjustments: list[_Adj] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    denied: bool = False


@dataclass(frozen=True, slots=True)
class _Person:
    last_name: str
    first_name: str
    middle_initial: str
    member_id: str


@dataclass(slots=True)
class _Claim:
    patient_control_number: str
    status: str
    payer_claim_number: str
    lines: list[_Line]
    charge: int
    patient: _Person
    insured: _Person | None
    rendering: RenderingProvider
    statement_from: dt.date
    statement_to: dt.date
    received: dt.date
    adjustments: list[_Adj] = field(default_factory=list)  # claim level
    moa_remarks: list[str] = field(default_factory=list)
    frequency: str = "1"

    @property
    def paid(self) -> int:
        # Claim-level adjustments come off what the lines paid; a claim sent without lines
        # starts from its charge.
        base = sum(line.paid for line in self.lines) if self.lines else self.charge
        return base - sum(a[2] for a in self.adjustments)

    @property
    def patient_responsibility(self) -> int:
        total = sum(a[2] for a in self.adjustments if a[0] == "PR")
        for line in self.lines:
            total += sum(a[2] for a in line.adjustments if a[0] == "PR")
        return total


@dataclass(slots=True)
class _Benefits:
    """What the patient still owes under the plan while a claim's lines are adjudicated."""

    deductible_left: int
    copay: int
    coinsurance: float


# -- the generator ------------------------------------------------------------------------


def _control_number(seed: int) -> int:
    # An affine map that is a bijection on 1..999,999,999 (48271 is prime and shares no
    # factor with 999,999,999), so different seeds always give different ISA13s.
    return (seed * 48271 + 1) % 999_999_999 + 1


def _trace_number(seed: int) -> str:
    # Bijective modulo 10**10 (the multiplier is odd and not a multiple of 5).
    return f"{(seed * 2654435761 + 104729) % 10**10:010d}"


def _weekday(day: dt.date) -> dt.date:
    """Payers pay on business days: a weekend date moves to the Friday before."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def _default_payment_date(seed: int) -> dt.date:
    return _weekday(dt.date(2026, 9, 1) + dt.timedelta(days=(seed * 37) % 91))


def _money(cents: int) -> str:
    """X12 decimal: no trailing zeros after the point (100, 57.4, 0.05), minus sign first."""
    # Dividing whole cents by 100 is exact enough that two-place rounding gives the true
    # value, and it is several times faster than divmod and three branches.
    text = f"{cents / 100:.2f}"
    if text[-1] == "0":
        text = text[:-2] if text[-2] == "0" else text[:-1]
        if text[-1] == ".":
            text = text[:-1]
    return text


def _d8(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


class _Generator:
    """Builds one file: claims first (amounts as cents), then the segments in one pass."""

    def __init__(
        self,
        *,
        seed: int,
        payer: SyntheticPayer,
        provider: SyntheticProvider,
        payment_date: dt.date,
        denial_rate: float,
        lines_per_claim: tuple[int, int],
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.payer = payer
        self.provider = provider
        self.payment_date = payment_date
        self.denial_rate = denial_rate
        self.lines_per_claim = lines_per_claim
        self.claim_serial = 0
        self.julian = f"{payment_date.year % 100:02d}{payment_date.timetuple().tm_yday:03d}"
        self.fee_schedule = self._fee_schedule()
        self.specialties = [specialty for specialty, _ in provider.specialty_weights]
        self.specialty_cum = list(accumulate(weight for _, weight in provider.specialty_weights))
        self.roster: dict[str, list[RenderingProvider]] = {}
        for doctor in provider.rendering:
            self.roster.setdefault(doctor.specialty, []).append(doctor)
        self.patients: list[tuple[_Person, _Person | None]] = []

    # -- reference data for this file ---------------------------------------------------

    def _fee_schedule(self) -> dict[str, int]:
        """Allowed cents per unit for each code: stable per payer, as a real fee schedule is."""
        low, high = self.payer.allowed_ratio
        schedule: dict[str, int] = {}
        for code, charge in _CHARGES.items():
            # crc32, not hash(): hash() of a str changes between interpreter runs.
            fraction = zlib.crc32(f"{self.payer.payer_id}:{code}".encode()) / 0xFFFFFFFF
            schedule[code] = max(1, int(charge * (low + (high - low) * fraction)))
        return schedule

    def _member_id(self) -> str:
        rng = self.rng
        if self.payer.is_medicare:
            # Shaped like an MBI, but position 2 is one of S, L, O, I, B, Z, letters CMS never
            # puts in an MBI, so no generated id can belong to a real beneficiary.
            letters = "ACDEFGHJKMNPQRTUVWXY"
            alnum = letters + "0123456789"
            return "".join(
                (
                    str(rng.randint(1, 9)),
                    rng.choice("SLOIBZ"),
                    rng.choice(alnum),
                    str(rng.randint(0, 9)),
                    rng.choice(letters),
                    rng.choice(alnum),
                    str(rng.randint(0, 9)),
                    rng.choice(letters),
                    rng.choice(letters),
                    f"{rng.randrange(100):02d}",
                )
            )
        return f"{self.payer.member_id_prefix}{rng.randrange(10**9):09d}"

    def _patient(self) -> tuple[_Person, _Person | None]:
        """A patient, sometimes a returning one, and the subscriber when it is a dependent."""
        rng = self.rng
        if self.patients and rng.random() < 0.3:
            return self.patients[rng.randrange(len(self.patients))]
        last = rng.choice(_LAST_NAMES)
        first = rng.choice(_FIRST_NAMES)
        middle = rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.6 else ""
        member_id = self._member_id()
        insured: _Person | None = None
        # Medicare beneficiaries are their own subscribers; commercial and Medicaid
        # dependents are reported under the subscriber (NM1*IL).
        if not self.payer.is_medicare and rng.random() < 0.3:
            insured = _Person(last, rng.choice(_FIRST_NAMES), "", member_id)
            member_id = member_id + "02"
        entry = (_Person(last, first, middle, member_id), insured)
        self.patients.append(entry)
        return entry

    def _new_benefits(self) -> _Benefits:
        rng = self.rng
        payer = self.payer
        if payer.is_medicare:
            deductible = rng.randint(2000, 25700) if rng.random() < 0.12 else 0
            return _Benefits(deductible, 0, 0.20)
        if payer.is_medicaid:
            return _Benefits(0, rng.choice((100, 200, 300, 400)) if rng.random() < 0.3 else 0, 0.0)
        deductible = rng.randint(5000, 150000) if rng.random() < 0.22 else 0
        copay = rng.choice((2000, 2500, 3000, 4000, 5000)) if rng.random() < 0.6 else 0
        coinsurance = rng.choice((0.0, 0.1, 0.2, 0.2, 0.3))
        return _Benefits(deductible, copay, coinsurance)

    # -- claim numbers ------------------------------------------------------------------

    def _patient_control_number(self, serial: int) -> str:
        # The seed leads and a separator follows it, so numbers never collide across seeds.
        return f"{self.seed:04d}-{serial:06d}"

    def _payer_claim_number(self, serial: int, kind: str = "0") -> str:
        # Shaped like a payer ICN (year, julian day, batch, sequence); the full seed and the
        # serial make it unique, and kind 9 marks the earlier claim a reversal points to.
        return f"{self.julian}{self.seed:05d}{kind}{serial:06d}"

    # -- building claims ------------------------------------------------------------------

    def claims(self, count: int) -> list[_Claim]:
        rng = self.rng
        out: list[_Claim] = []
        # Reversal pairs need room, and need a file big enough that the rest of the payment
        # outweighs them.
        pair_rate = 0.012 if count >= 10 and self.denial_rate < 1.0 else 0.0
        while len(out) < count:
            if pair_rate and count - len(out) >= 2 and rng.random() < pair_rate:
                out.extend(self._reversal_pair())
                continue
            kind = self._denial_kind() if rng.random() < self.denial_rate else None
            out.append(self._claim(kind))
        return out

    def _denial_kind(self) -> str:
        return _DENIAL_KINDS[bisect_right(_DENIAL_CUM_WEIGHTS, self.rng.random() * _DENIAL_CUM_WEIGHTS[-1])]

    def _pick_specialty(self) -> str:
        return self.specialties[bisect_right(self.specialty_cum, self.rng.random() * self.specialty_cum[-1])]

    def _scenario(self, kind: str | None) -> _Scenario:
        rng = self.rng
        high = self.lines_per_claim[1]
        if kind in _NEEDS_PAIR:
            return rng.choice(_PAIR_SCENARIOS)
        if kind == "global_period":
            return rng.choice(_GLOBAL_SCENARIOS)
        if kind == "authorization":
            return rng.choice(_AUTH_SCENARIOS if high >= 2 else [x for x in _AUTH_SCENARIOS if x.pair is None])
        specialty = self._pick_specialty()
        # Clean claims also carry NCCI pairs, then with a bypass the payer honours.
        pairs = _PAIRS_BY_SPECIALTY[specialty]
        if pairs and high >= 2 and rng.random() < 0.18:
            return rng.choice(pairs)
        return rng.choice(_SCENARIOS_BY_SPECIALTY[specialty])

    def _lines(self, scenario: _Scenario, wanted: int, first_date: dt.date, latest: dt.date) -> list[_Line]:
        rng = self.rng
        side = rng.choice(("RT", "LT"))
        other = "LT" if side == "RT" else "RT"

        def make(spec: _Spec, day: dt.date) -> _Line:
            modifiers = [side if m == _SIDE else other if m == _OTHER_SIDE else m for m in spec.modifiers]
            units = rng.randint(*spec.units) if spec.units[1] > 1 else 1
            return _Line(spec.code, modifiers, units, _CHARGES[spec.code] * units, day)

        specs = list(scenario.core)
        if scenario.pair is not None:
            wanted = max(wanted, 2)
        extras = list(scenario.extras)
        rng.shuffle(extras)
        if scenario.repeat_visits:
            return self._visits(scenario, make, extras, wanted, first_date, latest)
        specs.extend(extras)
        if len(specs) < wanted:
            codes = {spec.code for spec in specs}
            fillers = [
                spec
                for spec in _FILLERS_BY_SPECIALTY[scenario.specialty]
                if spec.code not in codes and not any(frozenset((spec.code, code)) in _PAIR_SETS for code in codes)
            ]
            rng.shuffle(fillers)
            specs.extend(fillers)
            if len(specs) < wanted:
                # Still short (very wide bounds): tests any practice may run and bill.
                codes |= {spec.code for spec in fillers}
                specs.extend(
                    spec
                    for spec in _UNIVERSAL_FILLERS
                    if spec.code not in codes and not any(frozenset((spec.code, code)) in _PAIR_SETS for code in codes)
                )
        return [make(spec, first_date) for spec in specs[:wanted]]

    def _visits(
        self,
        scenario: _Scenario,
        make: Callable[[_Spec, dt.date], _Line],
        extras: list[_Spec],
        wanted: int,
        first_date: dt.date,
        latest: dt.date,
    ) -> list[_Line]:
        """A series of visits: the core plus a couple of extras on the first, then the same
        treatment again (the revisit codes instead of the core when the core is an evaluation)."""
        rng = self.rng
        added = extras[: rng.randint(0, 2)]
        template = list(scenario.core) + added
        revisit = list(scenario.revisit or scenario.core) + added
        # Start early enough that every visit fits before the claim is sent.
        day = min(first_date, latest - dt.timedelta(days=2 * (wanted - 1)))
        lines: list[_Line] = []
        while True:
            for spec in template:
                if len(lines) < wanted:
                    lines.append(make(spec, day))
            if len(lines) >= wanted:
                return lines
            template = revisit
            visits_left = -(-(wanted - len(lines)) // len(template))
            room = (latest - day).days // visits_left
            day += dt.timedelta(days=max(1, min(rng.randint(2, 7), room)))

    def _claim(
        self,
        kind: str | None,
        *,
        keep_lines: bool = False,
        age_days: int = 0,
        benefits: _Benefits | None = None,
        allow_secondary: bool = True,
    ) -> _Claim:
        """One claim; ``age_days`` moves its dates back (a payment being reversed is older)."""
        rng = self.rng
        self.claim_serial += 1
        serial = self.claim_serial
        low, high = self.lines_per_claim
        if kind in _NEEDS_PAIR and high < 2:
            kind = "coding"  # a one-line claim cannot hold a pair
        scenario = self._scenario(kind)
        if kind == "timely_filing":
            # Denied for timely filing: the service is months old when the claim arrives.
            first_date = self.payment_date - dt.timedelta(days=rng.randint(120, 240))
        else:
            first_date = self.payment_date - dt.timedelta(days=rng.randint(14, 56))
        first_date -= dt.timedelta(days=age_days)
        # Visits end in time for the claim to be received before the payment.
        latest = self.payment_date - dt.timedelta(days=5 + age_days)
        lines = self._lines(scenario, rng.randint(low, high), first_date, latest)
        patient, insured = self._patient()
        doctors = self.roster.get(scenario.specialty) or list(self.provider.rendering)
        last_date = max(line.service_date for line in lines)
        if kind == "timely_filing":
            received = min(
                last_date + dt.timedelta(days=rng.randint(95, 110)), self.payment_date - dt.timedelta(days=3)
            )
        else:
            received = min(
                last_date + dt.timedelta(days=rng.randint(2, 10)), self.payment_date - dt.timedelta(days=3 + age_days)
            )
        claim = _Claim(
            patient_control_number=self._patient_control_number(serial),
            status="1",
            payer_claim_number=self._payer_claim_number(serial),
            lines=lines,
            charge=sum(line.charge for line in lines),
            patient=patient,
            insured=insured,
            rendering=rng.choice(doctors),
            statement_from=min(line.service_date for line in lines),
            statement_to=last_date,
            received=received,
        )
        if benefits is None:
            benefits = self._new_benefits()
        secondary = allow_secondary and kind is None and rng.random() < 0.06
        column2 = self._set_pair_modifiers(scenario, lines, kind)
        if kind is None:
            for line in lines:
                self._adjudicate_paid(line, benefits, secondary=secondary)
            claim.status = "2" if secondary else "1"
        elif kind in _WHOLE_CLAIM_KINDS:
            self._deny_whole_claim(claim, kind, keep_lines=keep_lines)
        else:
            self._deny_lines(claim, kind, column2, benefits)
        if self.payer.is_medicare and claim.status in ("1", "4"):
            denied = claim.adjustments or any(line.denied for line in claim.lines)
            if denied and "MA130" not in claim.moa_remarks:
                claim.moa_remarks.append("MA01")  # the appeal-rights alert on Medicare denials
            elif not denied and rng.random() < 0.12:
                claim.status = "19"  # processed as primary, crossed over to the supplement
                claim.moa_remarks.append("MA18")
        return claim

    def _set_pair_modifiers(self, scenario: _Scenario, lines: list[_Line], kind: str | None) -> _Line | None:
        """Decide the column 2 line's modifiers; return that line if the pair is on the claim."""
        if scenario.pair is None or len(lines) < 2:
            return None
        column2 = lines[1]
        # A denied pair carries a bypass modifier now and then (the appealable case); a
        # paid one always does, since the payer honoured it.
        with_bypass = kind not in _NEEDS_PAIR or self.rng.random() < 0.3
        if with_bypass:
            bypass = self.rng.choice(scenario.bypass)
            if bypass == (_OTHER_SIDE,):
                side = column2.modifiers[0] if column2.modifiers else "RT"
                column2.modifiers = ["LT" if side == "RT" else "RT"]
            else:
                column2.modifiers = column2.modifiers + list(bypass)
        return column2

    # -- adjudication -------------------------------------------------------------------

    def _allowed(self, line: _Line, fee_increase: float = 1.0) -> int:
        return min(line.charge, int(self.fee_schedule[line.code] * line.units * fee_increase))

    def _adjudicate_paid(
        self,
        line: _Line,
        benefits: _Benefits,
        *,
        secondary: bool = False,
        reduction: _Adj | None = None,
        fee_increase: float = 1.0,
    ) -> None:
        """A paid line: write-down, patient shares, sequestration; optional partial denial."""
        rng = self.rng
        payer = self.payer
        allowed = self._allowed(line, fee_increase)
        adjustments: list[_Adj] = []
        if reduction is None:
            adjustments.append(("CO", "45", line.charge - allowed, None))
        else:
            group, reason, amount, quantity = reduction
            if quantity is not None:
                # Denied units come off at their full charge; the other units are
                # adjudicated as usual.
                denied_charge = _CHARGES[line.code] * quantity
                allowed = min(line.charge - denied_charge, self.fee_schedule[line.code] * (line.units - quantity))
                adjustments.append(("CO", "45", line.charge - denied_charge - allowed, None))
                adjustments.append((group, reason, denied_charge, quantity))
            else:
                # Part of the allowance is taken away before the patient's shares.
                amount = min(amount, allowed)
                adjustments.append(("CO", "45", line.charge - allowed, None))
                adjustments.append((group, reason, amount, None))
                allowed -= amount
        rest = allowed
        if secondary:
            # The primary paid most of the allowance (OA-23); this payer picks up the rest,
            # sometimes leaving the patient a share.
            prior = int(allowed * rng.uniform(0.70, 0.85) + 0.5)
            adjustments.append(("OA", "23", prior, None))
            rest -= prior
            if rest > 0 and rng.random() < 0.3:
                share = int(rest * rng.uniform(0.2, 0.6) + 0.5)
                adjustments.append(("PR", "2", share, None))
                rest -= share
        else:
            is_lab = line.code in _LAB_CODES
            if benefits.deductible_left and rest and not (payer.is_medicare and is_lab):
                deductible = min(benefits.deductible_left, rest)
                benefits.deductible_left -= deductible
                adjustments.append(("PR", "1", deductible, None))
                rest -= deductible
            if benefits.copay and line.code in _EM_CODES and rest:
                copay = min(benefits.copay, rest)
                benefits.copay = 0  # one copay per visit
                adjustments.append(("PR", "3", copay, None))
                rest -= copay
            elif benefits.coinsurance and rest and not (payer.is_medicare and is_lab):
                coinsurance = int(rest * benefits.coinsurance + 0.5)
                if coinsurance:
                    adjustments.append(("PR", "2", coinsurance, None))
                    rest -= coinsurance
            if payer.is_medicare and rest:
                # Sequestration: 2% off what Medicare itself pays (after the patient's shares).
                sequestration = int(rest * 0.02 + 0.5)
                if sequestration:
                    adjustments.append(("CO", "253", sequestration, None))
                    rest -= sequestration
        line.adjustments = _nonzero(adjustments)
        line.allowed = allowed
        line.paid = rest

    def _deny_line(
        self, line: _Line, group: str, reason: str, remarks: Sequence[str], *, after_fee_schedule: bool = False
    ) -> None:
        """A line paid nothing. Some payers write down to the fee schedule first."""
        line.denied = True
        line.paid = 0
        line.allowed = None
        line.remarks = list(remarks)
        if after_fee_schedule:
            allowed = self._allowed(line)
            adjustments: list[_Adj] = []
            if line.charge > allowed:
                adjustments.append(("CO", "45", line.charge - allowed, None))
            adjustments.append((group, reason, allowed, None))
            line.adjustments = _nonzero(adjustments)
        else:
            line.adjustments = [(group, reason, line.charge, None)]

    def _deny_lines(self, claim: _Claim, kind: str, column2: _Line | None, benefits: _Benefits) -> None:
        rng = self.rng
        lines = claim.lines
        target: _Line | None = None
        partial: _Adj | None = None
        remarks: list[str] = []
        group, reason = "CO", ""
        after_fee = False
        medicare = self.payer.is_medicare
        if kind in _NEEDS_PAIR and column2 is not None:
            target = column2
            after_fee = rng.random() < 0.3
            if kind == "bundling":
                roll = rng.random()
                group = "CO" if roll < 0.86 else ("PR" if roll < 0.94 else "OA")
                reason = "97"
                remarks = [rng.choice(("M15", "M15", "N381"))]
            else:
                reason = "236"
                remarks = ["N20"] if rng.random() < 0.5 else []
        elif kind == "global_period":
            target = lines[0]
            reason, remarks = "97", ["M144"]
        elif kind == "bundling_partial":
            target = self._pick(lines, lambda line: line.code not in _EM_CODES)
            partial = ("CO", "97", 0, None)
            remarks = ["N381"]
        elif kind == "info_line":
            target = rng.choice(lines)
            reason, remarks = "16", [rng.choice(("N290", "MA130"))]
        elif kind == "necessity":
            target = self._pick(lines, lambda line: line.code in _NECESSITY_CODES)
            reason = "50"
            remarks = [rng.choice(("N115", "N386"))] if medicare else ([] if rng.random() < 0.5 else ["N130"])
        elif kind == "necessity_partial":
            target = self._pick(lines, lambda line: line.units >= 2)
            # Some of the units denied; a single-unit line loses part of its allowance.
            denied_units = rng.randint(1, target.units - 1) if target.units >= 2 else None
            partial = ("CO", "50", 0, denied_units)
            remarks = ["N362"] if rng.random() < 0.5 else []
        elif kind == "duplicate_line":
            target = rng.choice(lines)
            reason, remarks = "18", ["N111"] if rng.random() < 0.5 else []
        elif kind == "authorization":
            target = self._pick(lines, lambda line: line.code in _AUTH_CODES)
            if rng.random() < 0.6:
                reason, remarks = "197", ["N54"] if rng.random() < 0.3 else []
            else:
                reason, remarks = "15", ["M62"]
        elif kind == "coding":
            target = rng.choice(lines)
            if rng.random() < 0.5:
                reason = "4"
                # The line as billed lacks a required modifier (or carries a wrong one).
                target.modifiers = [] if target.modifiers else ["52"]
                remarks = [rng.choice(("N657", "N657", "N519"))]
            else:
                reason = "11"
                remarks = [rng.choice(("N657", "M76"))]
        elif kind == "noncovered":
            code, modifiers = rng.choice(_NONCOVERED_CODES)
            target = _Line(code, list(modifiers), 1, _CHARGES[code], lines[0].service_date)
            if len(lines) >= self.lines_per_claim[1]:
                # No room for another line: it takes the last one's place.
                if lines[-1] is column2:
                    column2 = None
                lines[-1] = target
            else:
                lines.append(target)
            claim.charge = sum(line.charge for line in lines)
            roll = rng.random()
            if roll < 0.45:
                reason, remarks = "96", ["N130"] if not medicare else ["N425"]
            elif roll < 0.75:
                reason = "204"
            else:
                group, reason = "PR", "204"
        elif kind == "plan_procedures":
            target = rng.choice(lines)
            reason = "95"
        if target is None:  # a pair kind whose pair did not fit: deny for coding instead
            target = rng.choice(lines)
            reason, remarks = "4", ["N657"]
        for line in lines:
            if line is target:
                if partial is not None:
                    group_p, reason_p, _, quantity = partial
                    amount = int(self._allowed(line) * rng.uniform(0.25, 0.5) + 0.5)
                    self._adjudicate_paid(line, benefits, reduction=(group_p, reason_p, amount, quantity))
                    line.remarks = remarks
                else:
                    self._deny_line(line, group, reason, remarks, after_fee_schedule=after_fee)
            else:
                self._adjudicate_paid(line, benefits)
        if claim.paid == 0 and all(line.denied for line in lines):
            claim.status = "4"

    def _pick(self, lines: list[_Line], wanted: Callable[[_Line], bool]) -> _Line:
        matching = [line for line in lines if wanted(line)]
        return self.rng.choice(matching or lines)

    def _deny_whole_claim(self, claim: _Claim, kind: str, *, keep_lines: bool) -> None:
        rng = self.rng
        group, remarks = "CO", []
        if kind == "timely_filing":
            reason = "29"
        elif kind == "eligibility":
            if rng.random() < 0.55:
                reason, remarks = "27", ["N30"]
            else:
                reason = "31"
        elif kind == "coordination":
            reason, remarks = "22", [rng.choice(("N479", "MA04"))]
        elif kind == "duplicate_claim":
            reason = "18"
            group = "OA" if rng.random() < 0.3 else "CO"
            remarks = ["N111"]
        else:  # info_claim: unprocessable, send a new claim
            reason, remarks = "16", ["N290"]
            claim.moa_remarks.append("MA130")
        claim.status = "4"
        if not keep_lines and rng.random() < 0.3:
            # Some payers deny the whole claim at claim level and send no service lines.
            claim.adjustments = [(group, reason, claim.charge, None)]
            claim.lines = []
            if remarks and not claim.moa_remarks:
                claim.moa_remarks.extend(remarks)
            return
        for line in claim.lines:
            self._deny_line(line, group, reason, remarks)

    # -- reversals ----------------------------------------------------------------------

    def _reversal_pair(self) -> list[_Claim]:
        """A reversal (CLP02 22) of an earlier payment, then the corrected payment.

        The earlier claim is not in this file: only the reversal points to it (its payer
        claim number), as payers send it. The correction pays at least as much as the
        original did, either after an appeal or corrected claim lifted a denial, or after a
        fee schedule update.
        """
        rng = self.rng
        # With no denials wanted, the reversal is a fee schedule update, never a lifted denial.
        lifted_denial = self.denial_rate > 0 and rng.random() < 0.6
        kind = rng.choice(("bundling", "info_line", "necessity")) if lifted_denial else None
        benefits = self._new_benefits()
        original = self._claim(
            kind, keep_lines=True, age_days=rng.randint(20, 45), benefits=replace(benefits), allow_secondary=False
        )
        reversal = _negated(original)
        reversal.status = "22"
        reversal.payer_claim_number = self._payer_claim_number(self.claim_serial, kind="9")
        corrected = _Claim(
            patient_control_number=original.patient_control_number,
            status="2" if original.status == "2" else "1",
            payer_claim_number=original.payer_claim_number,
            lines=[
                replace(
                    line, modifiers=list(line.modifiers), adjustments=list(line.adjustments), remarks=list(line.remarks)
                )
                for line in original.lines
            ],
            charge=original.charge,
            patient=original.patient,
            insured=original.insured,
            rendering=original.rendering,
            statement_from=original.statement_from,
            statement_to=original.statement_to,
            received=original.received,
            frequency="7" if lifted_denial else "1",
        )
        if lifted_denial:
            # The practice sent a corrected claim (frequency 7), received after the denial.
            corrected.received = self.payment_date - dt.timedelta(days=rng.randint(5, 12))
            plain = _Benefits(0, 0, self._new_benefits().coinsurance)
            for line in corrected.lines:
                reasons = {a[1] for a in line.adjustments if (a[0], a[1]) not in ROUTINE_ADJUSTMENTS}
                if reasons:
                    if reasons & {"97", "236"} and not set(line.modifiers) & _BYPASS_MODIFIERS:
                        # The corrected line carries the modifier that unbundles it.
                        line.modifiers = [*line.modifiers, "25" if line.code in _EM_CODES else "XS"]
                    line.remarks = []
                    line.denied = False
                    self._adjudicate_paid(line, plain)
        else:
            # A fee schedule update: the same lines adjudicated again at a higher allowance,
            # with the patient's benefits as they stood the first time.
            increase = 1 + rng.uniform(0.01, 0.04)
            again = replace(benefits)
            for line in corrected.lines:
                self._adjudicate_paid(line, again, fee_increase=increase)
        return [reversal, corrected]

    # -- the file -----------------------------------------------------------------------

    def provider_adjustments(self, claims: list[_Claim]) -> list[tuple[str, str, int]]:
        """PLB items: prompt-pay interest (L6) and overpayment recoveries (WO)."""
        rng = self.rng
        items: list[tuple[str, str, int]] = []
        paid_claims = [c for c in claims if c.status in ("1", "2", "19") and c.paid > 0]
        total = sum(c.paid for c in claims)
        if paid_claims and rng.random() < 0.4:
            for _ in range(rng.randint(1, 3)):
                late = rng.choice(paid_claims)
                # Interest paid to the provider lowers the PLB total (negative amount).
                items.append(("L6", late.payer_claim_number, -rng.randint(25, 1800)))
            if rng.random() < 0.25:
                # An interest amount taken back after an earlier overpayment of interest.
                items.append(("L6", rng.choice(paid_claims).payer_claim_number, rng.randint(10, 400)))
        if total > 20000 and rng.random() < 0.25:
            recovery = min(rng.randint(2500, 40000), total // 4)
            items.append(("WO", self._payer_claim_number(rng.randrange(10**6), kind="8"), recovery))
        return items

    def render(self, claims: list[_Claim], interchange_control_number: int) -> bytes:
        payer = self.payer
        provider = self.provider
        rng = self.rng
        plb = self.provider_adjustments(claims)
        claims_paid = sum(c.paid for c in claims)
        payment = claims_paid - sum(amount for _, _, amount in plb)
        if payment < 0:
            # Recoveries never push a payment below zero: the payer would carry them forward.
            plb = [item for item in plb if item[2] < 0]
            payment = claims_paid - sum(amount for _, _, amount in plb)
        produced = self.payment_date - dt.timedelta(days=rng.randint(1, 3))
        time = f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"
        icn = f"{interchange_control_number:09d}"
        group_number = str(interchange_control_number)
        st02 = f"{interchange_control_number % 10000:04d}"
        trace = _trace_number(self.seed)
        sender = payer.payer_id
        receiver = provider.tin

        out: list[str] = [
            f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*"
            f"{produced:%y%m%d}*{time}*^*00501*{icn}*0*P*:",
            f"GS*HP*{sender}*{receiver}*{_d8(produced)}*{time}*{group_number}*X*005010X221A1",
        ]
        start = len(out)
        out.append(f"ST*835*{st02}*005010X221A1")
        paid_date = _d8(self.payment_date)
        if payment == 0:
            out.append(f"BPR*H*0*C*NON************{paid_date}")
        elif payment < 0:
            # Reversals outweigh the payments (only in tiny files): the payee owes the payer.
            out.append(f"BPR*I*{_money(-payment)}*D*NON************{paid_date}")
        elif payer.payment_method == "CHK":
            out.append(f"BPR*I*{_money(payment)}*C*CHK************{paid_date}")
        else:
            payer_routing = _routing_number("5" + f"{zlib.crc32(payer.payer_id.encode()) % 10**7:07d}")
            payee_routing = _routing_number("5" + f"{zlib.crc32(provider.tin.encode()) % 10**7:07d}")
            payer_account = f"{zlib.crc32(payer.name.encode()) % 10**10:010d}"
            payee_account = f"{zlib.crc32(provider.name.encode()) % 10**9:09d}"
            out.append(
                f"BPR*I*{_money(payment)}*C*ACH*CCP*01*{payer_routing}*DA*{payer_account}*1{payer.tin}"
                f"**01*{payee_routing}*DA*{payee_account}*{paid_date}"
            )
        out.append(f"TRN*1*{trace}*1{payer.tin}")
        out.append(f"DTM*405*{_d8(produced)}")
        out.append(f"N1*PR*{payer.name.upper()}")
        out.append(f"N3*{payer.address.upper()}")
        out.append(f"N4*{payer.city.upper()}*{payer.state}*{payer.postal_code}")
        out.append(f"REF*2U*{payer.payer_id}")
        out.append(f"PER*CX*PROVIDER SERVICES*TE*{payer.phone}")
        out.append(f"PER*BL*EDI SUPPORT*TE*{payer.phone}*EM*{payer.email.upper()}")
        out.append(f"N1*PE*{provider.name.upper()}*XX*{provider.npi}")
        out.append(f"N3*{provider.address.upper()}")
        out.append(f"N4*{provider.city.upper()}*{provider.state}*{provider.postal_code}")
        out.append(f"REF*TJ*{provider.tin}")
        if claims:
            out.append("LX*1")
        filing = payer.filing_indicator
        append = out.append
        dates: dict[dt.date, str] = {}  # a file has few distinct dates; format each once

        def d8(day: dt.date) -> str:
            text = dates.get(day)
            if text is None:
                text = dates[day] = _d8(day)
            return text

        for claim in claims:
            append(
                f"CLP*{claim.patient_control_number}*{claim.status}*{_money(claim.charge)}*"
                f"{_money(claim.paid)}*{_money(claim.patient_responsibility)}*{filing}*"
                f"{claim.payer_claim_number}*11*{claim.frequency}"
            )
            if claim.adjustments:
                out.extend(_cas_segments(claim.adjustments))
            patient = claim.patient
            append(
                f"NM1*QC*1*{patient.last_name}*{patient.first_name}*{patient.middle_initial}***MI*{patient.member_id}"
            )
            if claim.insured is not None:
                insured = claim.insured
                append(f"NM1*IL*1*{insured.last_name}*{insured.first_name}****MI*{insured.member_id}")
            doctor = claim.rendering
            append(f"NM1*82*1*{doctor.last_name}*{doctor.first_name}****XX*{doctor.npi}")
            if claim.moa_remarks:
                append("MOA***" + "*".join(claim.moa_remarks[:5]))
            append(f"DTM*232*{d8(claim.statement_from)}")
            append(f"DTM*233*{d8(claim.statement_to)}")
            append(f"DTM*050*{d8(claim.received)}")
            pcn = claim.patient_control_number
            for number, line in enumerate(claim.lines, start=1):
                composite = ":".join(["HC", line.code, *line.modifiers])
                append(f"SVC*{composite}*{_money(line.charge)}*{_money(line.paid)}**{line.units}")
                append(f"DTM*472*{d8(line.service_date)}")
                if line.adjustments:
                    out.extend(_cas_segments(line.adjustments))
                append(f"REF*6R*{pcn}-{number}")
                if line.allowed is not None:
                    append(f"AMT*B6*{_money(line.allowed)}")
                for remark in line.remarks:
                    append(f"LQ*HE*{remark}")
        fiscal_year_end = f"{self.payment_date.year}1231"
        for index in range(0, len(plb), 6):
            pairs = "*".join(
                f"{reason}:{reference}*{_money(amount)}" for reason, reference, amount in plb[index : index + 6]
            )
            append(f"PLB*{provider.npi}*{fiscal_year_end}*{pairs}")
        append(f"SE*{len(out) - start + 1}*{st02}")
        append(f"GE*1*{group_number}")
        append(f"IEA*1*{icn}")
        return ("~\n".join(out) + "~\n").encode("ascii")


def _nonzero(adjustments: list[_Adj]) -> list[_Adj]:
    """Drop zero amounts: a CAS triple for 0.00 says nothing and clutters the work queue."""
    return [a for a in adjustments if a[2]]


def _negated(claim: _Claim) -> _Claim:
    lines = [
        replace(
            line,
            modifiers=list(line.modifiers),
            charge=-line.charge,
            paid=-line.paid,
            allowed=None if line.allowed is None else -line.allowed,
            adjustments=[(g, r, -a, q) for g, r, a, q in line.adjustments],
            remarks=list(line.remarks),
        )
        for line in claim.lines
    ]
    return replace(
        claim,
        lines=lines,
        charge=-claim.charge,
        adjustments=[(g, r, -a, q) for g, r, a, q in claim.adjustments],
        moa_remarks=list(claim.moa_remarks),
    )


def _cas_segments(adjustments: list[_Adj]) -> list[str]:
    """One CAS per group code (in order of first use), six reason triples at most each."""
    if len(adjustments) == 1:  # the common case, kept cheap for big files
        group, reason, amount, quantity = adjustments[0]
        tail = "" if quantity is None else f"*{quantity}"
        return [f"CAS*{group}*{reason}*{_money(amount)}{tail}"]
    by_group: dict[str, list[_Adj]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment[0], []).append(adjustment)
    segments: list[str] = []
    for group, items in by_group.items():
        for index in range(0, len(items), 6):
            elements = ["CAS", group]
            for _, reason, amount, quantity in items[index : index + 6]:
                elements += [reason, _money(amount), "" if quantity is None else str(quantity)]
            while elements[-1] == "":
                elements.pop()
            segments.append("*".join(elements))
    return segments


# -- public API ---------------------------------------------------------------------------


def generate_835(
    *,
    claims: int,
    seed: int = 0,
    payer: SyntheticPayer | None = None,
    payment_date: dt.date | None = None,
    interchange_control_number: int | None = None,
    denial_rate: float = 0.25,
    lines_per_claim: tuple[int, int] = (1, 7),
    provider: SyntheticProvider | None = None,
) -> bytes:
    """One synthetic 835 file (ISA/GS/ST..SE/GE/IEA) holding exactly ``claims`` claims.

    Same arguments, same bytes. ``denial_rate`` is the share of claims with at least one
    denial (reversals aside); ``lines_per_claim`` bounds the lines billed per claim, except
    that an NCCI pair needs two and a claim denied at claim level may be sent without lines.
    Without a payer, provider or payment date, the seed picks them.
    """
    if claims < 0:
        raise ValueError("claims must be zero or more")
    if not 0.0 <= denial_rate <= 1.0:
        raise ValueError("denial_rate must be between 0 and 1")
    low, high = lines_per_claim
    if low < 1 or high < low:
        raise ValueError("lines_per_claim must be (low, high) with 1 <= low <= high")
    if interchange_control_number is not None and not 0 < interchange_control_number <= 999_999_999:
        raise ValueError("interchange_control_number must be 1..999999999 (nine digits)")
    generator = _Generator(
        seed=seed,
        payer=payer or DEMO_PAYERS[seed % len(DEMO_PAYERS)],
        provider=provider or DEMO_PROVIDERS[seed % len(DEMO_PROVIDERS)],
        payment_date=payment_date or _default_payment_date(seed),
        denial_rate=denial_rate,
        lines_per_claim=(low, high),
    )
    # Every claim object lives until the file is written, so the cyclic garbage collector
    # would rescan a growing heap again and again (half the time for 20,000 claims) while
    # finding nothing to free; reference counting still frees everything as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        built = generator.claims(claims)
        return generator.render(built, interchange_control_number or _control_number(seed))
    finally:
        if collecting:
            gc.enable()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def generate_demo_files(*, count: int = 6, claims_per_file: int = 40, seed: int = 2026) -> list[tuple[str, bytes]]:
    """The demo data set: ``count`` remittances paid Sep-Nov 2026, every demo payer covered.

    File i is paid by payer i (round robin) to practice i, on a business day spread evenly
    over the quarter; services fall 2 to 8 weeks before each payment.
    """
    if count < 0:
        raise ValueError("count must be zero or more")
    rng = random.Random(seed)
    start = dt.date(2026, 9, 1)
    span = (dt.date(2026, 11, 30) - start).days
    files: list[tuple[str, bytes]] = []
    for index in range(count):
        payer = DEMO_PAYERS[index % len(DEMO_PAYERS)]
        provider = DEMO_PROVIDERS[index % len(DEMO_PROVIDERS)]
        offset = int((index + rng.uniform(0.1, 0.9)) * span / max(count, 1))
        day = start + dt.timedelta(days=min(offset, span))
        day = _weekday(day)
        if day < start:  # 1 Sep 2026 is a Tuesday, but keep the rule general
            day = start + dt.timedelta(days=(7 - start.weekday()) % 7)
        file_seed = seed * 1000 + index
        data = generate_835(
            claims=claims_per_file,
            seed=file_seed,
            payer=payer,
            provider=provider,
            payment_date=day,
        )
        name = f"{_slug(payer.name)}_{_d8(day)}_{_control_number(file_seed):09d}.835"
        files.append((name, data))
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m denials.x12.synthetic",
        description="Write a synthetic, balanced X12 835 remittance (or the demo data set).",
    )
    parser.add_argument("--claims", type=int, default=100, help="number of claims (CLP loops)")
    parser.add_argument("--seed", type=int, help="same seed, same bytes (default 0; 2026 for --demo-dir)")
    parser.add_argument("--denial-rate", type=float, default=0.25, help="share of claims with a denial")
    parser.add_argument(
        "--payer",
        choices=[_slug(p.name) for p in DEMO_PAYERS],
        help="one of the demo payers (default: chosen by the seed)",
    )
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--demo-dir", type=Path, help="write the demo data set into this directory instead")
    args = parser.parse_args(argv)
    if args.demo_dir is not None:
        args.demo_dir.mkdir(parents=True, exist_ok=True)
        for name, data in generate_demo_files(seed=2026 if args.seed is None else args.seed):
            (args.demo_dir / name).write_bytes(data)
            print(args.demo_dir / name)
        return 0
    payer = next((p for p in DEMO_PAYERS if _slug(p.name) == args.payer), None)
    seed = 0 if args.seed is None else args.seed
    data = generate_835(claims=args.claims, seed=seed, payer=payer, denial_rate=args.denial_rate)
    if args.output is None:
        sys.stdout.buffer.write(data)
    else:
        args.output.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
