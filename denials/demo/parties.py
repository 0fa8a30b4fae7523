"""The invented payers and practices of the demo 835s, and the identifier check digits.

Every payer, practice, physician and identifier here is invented: NPIs carry a valid Luhn
check digit, routing numbers a valid ABA check digit in a range no bank uses, and TINs a
prefix the IRS never assigns. Imports nothing from Django.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "DEMO_PAYERS",
    "DEMO_PROVIDERS",
    "RenderingProvider",
    "SyntheticPayer",
    "SyntheticProvider",
    "npi_is_valid",
]


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
