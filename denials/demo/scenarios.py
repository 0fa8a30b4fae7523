"""What the demo claims bill and why they are denied: charges, code sets, NCCI pairs, scenarios.

The claims follow the clinical scenarios billing teams meet: the NCCI pairs named in
DOMAIN.md section 5 billed together on one date (sometimes with a bypass modifier), routine
write-downs and patient shares on paid lines, and the usual denial reasons with the RARCs
payers send with them. ``NCCI_PAIRS`` lists the pairs so the demo NCCI data can match.

Amounts are whole cents (``int``). Imports nothing from Django (from ``ncci`` only the pure
``ncci.ptp``, for the bypass modifiers).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from denials.demo.parties import _SPECIALTIES
from ncci.ptp import DEFAULT_BYPASS_MODIFIERS

__all__ = ["NCCI_PAIRS", "ROUTINE_ADJUSTMENTS"]


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
