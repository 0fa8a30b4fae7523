"""Triage of one denial: category, next action, plain-language explanation, success prior.

Pure core: plain dataclasses in, plain dataclasses out, nothing from Django. From ``ncci``
it uses only the pure PTP rules (``ncci.ptp``); ``denials.services`` looks up the PTP edits,
the modifier groups and the team's outcome counts and passes them in. The decision table
is DOMAIN.md §6; the code lists are X12 (CARC) and CMS (RARC, NCCI) data, so the rule
table here is only a *default* that admins can edit.

Decisions worth knowing before changing anything:

* The category comes from the CARC/RARC rule table; the group code only changes the
  action (CO-97, PR-97 and OA-97 are all bundling; who pays decides what the team does).
* The rule table's generic ``bundling`` category, and any ``bundling-*`` slug a rule names,
  is resolved into one of the five ``bundling-*`` categories by the NCCI PTP finding, so a
  bundling denial is always judged against the edit that was (or was not) in force.
* ``bill-patient`` survives only under PR, and ``write-off`` only under CO (under PR the
  written-off amount is the patient's, so it becomes ``bill-patient``); under any other
  group code both become ``review``. This is what makes "CO is never billed to the patient"
  true by construction rather than by each table row remembering it.
* Which PTP row is in force on a date (the deletion date is the last day it applies;
  indicator 9 never applies; of overlapping rows the latest effective date wins) and which
  modifiers bypass it are ``ncci.ptp``'s rules, the same ones the scrubber and the NCCI
  pages use (see the sources and the rejected readings there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from denials.vocabulary import ACTIONS as ACTIONS
from denials.vocabulary import APPEAL as APPEAL
from denials.vocabulary import AUTHORIZATION as AUTHORIZATION
from denials.vocabulary import BILL_PATIENT as BILL_PATIENT

# ---------------------------------------------------------------------------------------
# Categories and actions
# ---------------------------------------------------------------------------------------
# The words (category and action slugs and labels) are defined once, in ``denials.vocabulary``
# (pure, like this module); they are re-exported here for the callers that read them from triage.
from denials.vocabulary import BUNDLING as BUNDLING
from denials.vocabulary import BUNDLING_APPEALABLE as BUNDLING_APPEALABLE
from denials.vocabulary import BUNDLING_CATEGORIES as BUNDLING_CATEGORIES
from denials.vocabulary import BUNDLING_EDIT_NOT_IN_FORCE as BUNDLING_EDIT_NOT_IN_FORCE
from denials.vocabulary import BUNDLING_MODIFIER_MAY_APPLY as BUNDLING_MODIFIER_MAY_APPLY
from denials.vocabulary import BUNDLING_NO_PTP_PAIR as BUNDLING_NO_PTP_PAIR
from denials.vocabulary import BUNDLING_NOT_APPEALABLE as BUNDLING_NOT_APPEALABLE
from denials.vocabulary import CATEGORIES as CATEGORIES
from denials.vocabulary import CHECK_COB as CHECK_COB
from denials.vocabulary import CODING as CODING
from denials.vocabulary import CONTRACTUAL as CONTRACTUAL
from denials.vocabulary import COORDINATION_OF_BENEFITS as COORDINATION_OF_BENEFITS
from denials.vocabulary import CORRECTED_CLAIM as CORRECTED_CLAIM
from denials.vocabulary import DUPLICATE as DUPLICATE
from denials.vocabulary import ELIGIBILITY as ELIGIBILITY
from denials.vocabulary import MEDICAL_NECESSITY as MEDICAL_NECESSITY
from denials.vocabulary import MISSING_INFORMATION as MISSING_INFORMATION
from denials.vocabulary import NON_COVERED as NON_COVERED
from denials.vocabulary import OTHER as OTHER
from denials.vocabulary import PATIENT_RESPONSIBILITY as PATIENT_RESPONSIBILITY
from denials.vocabulary import PLAN_PROCEDURES as PLAN_PROCEDURES
from denials.vocabulary import RESUBMIT as RESUBMIT
from denials.vocabulary import REVIEW as REVIEW
from denials.vocabulary import REVIEW_CODING as REVIEW_CODING
from denials.vocabulary import ROUTINE_CATEGORIES as ROUTINE_CATEGORIES
from denials.vocabulary import RULE_CATEGORIES as RULE_CATEGORIES
from denials.vocabulary import SEND_DOCUMENTATION as SEND_DOCUMENTATION
from denials.vocabulary import TIMELY_FILING as TIMELY_FILING
from denials.vocabulary import VERIFY_AUTHORIZATION as VERIFY_AUTHORIZATION
from denials.vocabulary import VERIFY_ELIGIBILITY as VERIFY_ELIGIBILITY
from denials.vocabulary import WRITE_OFF as WRITE_OFF

# One reading of the PTP rules for the whole project: the pure NCCI module owns them, with
# their sources. It imports nothing from Django.
from ncci import ptp

# The names below are re-exported (``X as X``) for the callers that read them here.
from ncci.ptp import ANATOMIC_MODIFIERS as ANATOMIC_MODIFIERS
from ncci.ptp import DEFAULT_MODIFIER_GROUPS, ModifierGroups
from ncci.ptp import DISTINCT_SERVICE_MODIFIERS as DISTINCT_SERVICE_MODIFIERS
from ncci.ptp import GLOBAL_SURGERY_MODIFIERS as GLOBAL_SURGERY_MODIFIERS
from ncci.ptp import PtpEditFact as PtpEditFact
from ncci.ptp import edit_in_force as edit_in_force

#: Every NCCI-associated modifier of DOMAIN §5 (``ncci.ptp``); triage takes the admin-kept
#: groups from its caller and falls back on these only when it is given none.
BYPASS_MODIFIERS: frozenset[str] = DEFAULT_MODIFIER_GROUPS.bypass

# RARCs that mean "the code itself is wrong, fix it and resubmit" (N657 per the seeds;
# N56 says the same in older wording), so a coding denial carrying one goes straight to a
# corrected claim instead of an open-ended coding review.
CORRECT_CODE_RARCS: frozenset[str] = frozenset({"N657", "N56"})

# ---------------------------------------------------------------------------------------
# Facts in
# ---------------------------------------------------------------------------------------


def _code(value: str | None) -> str:
    return (value or "").strip().upper()


@dataclass(frozen=True)
class LineFacts:
    """One service line of the claim, as the remittance reports it."""

    line_id: int | str
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    service_date: date | None = None
    units: Decimal | None = None


@dataclass(frozen=True)
class DenialFacts:
    """One adjustment to triage: group code + CARC, the line's RARCs and its claim context.

    ``line`` is None for a claim-level adjustment. ``other_lines`` are the claim's other
    lines (the denied line may be among them; it is skipped by ``line_id``).
    ``frequency_code`` is CLP09 (7 = replacement of a prior claim).
    """

    group_code: str
    carc: str
    rarcs: tuple[str, ...]
    amount: Decimal
    payer_id: str = ""
    claim_status: str = ""
    line: LineFacts | None = None
    other_lines: tuple[LineFacts, ...] = ()
    frequency_code: str = ""


# ---------------------------------------------------------------------------------------
# Category rules
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRule:
    """Maps a denial to a category. A blank field matches anything.

    Codes are normalised (stripped, upper-cased) so a rule typed as " co " in the admin
    still matches CO.
    """

    category: str
    group_code: str = ""
    carc: str = ""
    rarc: str = ""
    payer_id: str = ""
    procedure_code: str = ""
    priority: int = 100

    def __post_init__(self) -> None:
        for name in ("group_code", "carc", "rarc", "payer_id", "procedure_code"):
            object.__setattr__(self, name, _code(getattr(self, name)))
        object.__setattr__(self, "category", self.category.strip().lower())

    @property
    def specificity(self) -> int:
        return sum(1 for value in (self.group_code, self.carc, self.rarc, self.payer_id, self.procedure_code) if value)


def rule_matches(rule: CategoryRule, facts: DenialFacts) -> bool:
    if rule.group_code and rule.group_code != _code(facts.group_code):
        return False
    if rule.carc and rule.carc != _code(facts.carc):
        return False
    if rule.rarc and rule.rarc not in {_code(r) for r in facts.rarcs}:
        return False
    if rule.payer_id and rule.payer_id != _code(facts.payer_id):
        return False
    line_code = _code(facts.line.procedure_code) if facts.line is not None else None
    return not rule.procedure_code or line_code == rule.procedure_code


def choose_category(rules: Sequence[CategoryRule], facts: DenialFacts) -> tuple[str, CategoryRule | None]:
    """The category of the most specific matching rule, and that rule.

    More non-blank fields wins (a payer's own CO-97 rule beats the generic 97 rule); then
    the lower ``priority`` number; then the earlier rule. No match: ``("other", None)``.
    """
    best: tuple[tuple[int, int, int], CategoryRule] | None = None
    for index, rule in enumerate(rules):
        if not rule_matches(rule, facts):
            continue
        key = (-rule.specificity, rule.priority, index)
        if best is None or key < best[0]:
            best = (key, rule)
    if best is None:
        return OTHER, None
    return best[1].category, best[1]


# Priorities of the defaults. Every default rule names one code, so priority alone orders
# them when a CARC rule and a RARC rule both match:
# - a "use the correct code" remark is decisive whatever CARC it rides on (the N657 seed:
#   "a coding accuracy issue, not a coverage determination", seen with CO-4, CO-50...);
# - a specific CARC beats a remark, because RARCs come from the line (LQ*HE), not from one
#   CAS triple, so a line denied CO-16 and CO-97 carries M15 on both adjustments;
# - a remark beats the generic CARCs that exist only to point at a remark (A1, 96, 125...);
# - a bare group code (PR) only catches CARCs newer than this table.
PRIORITY_DECISIVE_RARC = 10
PRIORITY_CARC = 100
PRIORITY_RARC = 150
PRIORITY_GENERIC_CARC = 200
PRIORITY_GROUP_FALLBACK = 900

# CARCs whose description says "At least one Remark Code must be provided": the CARC alone
# says little, the RARC says what happened.
_GENERIC_CARCS: frozenset[str] = frozenset({"A1", "96", "125", "129"})

# Every CARC of ncci/data/carc_tigershark_0.3.4.csv (X12 code list 139, 2012 vintage),
# read against its description. Judgement calls are commented.
_DEFAULT_CARC_CATEGORIES: dict[str, tuple[str, ...]] = {
    BUNDLING: (
        "97",  # included in the allowance for another service
        "231",  # mutually exclusive procedures: the NCCI mutually-exclusive edits
        "234",  # procedure not paid separately
        "236",  # NCCI incompatibility, stated explicitly
    ),
    CODING: (
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",  # code vs modifier/POS/age/gender/dx/provider type
        "58",  # inappropriate place of service: usually a POS code to correct
        "107",
        "B15",  # qualifying service not on the claim: add-on billed without its primary
        "110",  # billing date predates service date: claim data to correct
        "125",  # submission/billing error (generic: the RARC says which)
        "146",
        "181",
        "182",  # diagnosis / procedure / modifier invalid on the date of service
        "189",  # unlisted code where a specific one exists
        "199",
        "203",
        "220",
        "230",  # revenue vs procedure code, reduced service, code not on fee schedule
        "A8",  # ungroupable DRG
        "B14",
        "B16",
        "B22",  # one visit per day, new-patient rules, payment by diagnosis: code choice
    ),
    MEDICAL_NECESSITY: (
        "40",  # emergent/urgent criteria not met
        "50",
        "55",
        "56",  # not necessary, experimental, not proven
        "150",
        "151",
        "152",
        "153",
        "154",  # documentation does not support level/frequency/length/dosage
        "167",  # diagnosis not covered
        "216",
        "219",  # review organisation findings, extent of injury
        "B5",
        "B8",  # coverage guidelines not met, alternative services available
    ),
    MISSING_INFORMATION: (
        "16",
        "148",
        "226",
        "227",
        "228",  # information not provided
        "112",
        "B12",  # service not documented
        "163",
        "164",  # attachment not received (in time)
        "173",
        "174",
        "175",
        "176",  # prescription missing, late, incomplete, not current
        "206",
        "207",
        "208",  # NPI missing, invalid, not matched
    ),
    AUTHORIZATION: (
        "15",
        "39",
        "197",
        "198",
        "210",  # authorization missing, denied, exceeded, late
        "38",
        "165",  # referral/designated-provider rules: verified like an authorization
    ),
    ELIGIBILITY: (
        "26",
        "27",
        "31",
        "32",
        "33",
        "34",
        "200",  # coverage dates, member, dependants
        "13",
        "14",  # dates of death/birth contradict the DOS: demographics to verify
        "106",
        "140",
        "141",
        "177",
        "178",
        "179",
        "180",
        "218",
        "224",
        "239",
        "B9",  # hospice enrolment: the hospice, not this plan, is billed for related care
    ),
    DUPLICATE: ("18", "B13"),
    TIMELY_FILING: (
        "29",
        "B4",
        "138",  # appeal time limits not met: the same proof-of-timeliness question
        "166",  # submitted after the payer's responsibility ended: a filing-date question
    ),
    COORDINATION_OF_BENEFITS: (
        "19",
        "20",
        "21",  # workers' comp, liability, no-fault carrier is liable
        "22",
        "23",
        "109",
        "129",
        "136",
        "168",
        "191",
        "209",
        "214",
        "215",
        "229",
        "B11",
    ),
    NON_COVERED: (
        "35",
        "49",
        "51",
        "53",
        "54",
        "60",
        "78",
        "96",
        "108",
        "111",
        "114",
        "116",
        "117",
        "119",
        "128",
        "149",
        "157",
        "158",
        "159",
        "160",
        "170",
        "171",
        "172",
        "188",
        "190",
        "194",
        "202",
        "204",
        "211",
        "212",
        "233",
        "A6",
        "B1",
    ),
    PLAN_PROCEDURES: (
        "95",
        "61",
        "135",
        "183",
        "184",
        "185",
        "B7",
        "B23",  # provider enrolment/certification: a plan rule, not the patient
        "213",  # self-referral rules
    ),
    PATIENT_RESPONSIBILITY: (
        "1",
        "2",
        "3",
        "66",  # deductible, coinsurance, copay, blood deductible
        "85",
        "142",
        "201",
        "238",
        "100",  # paid to the patient: the practice collects from the patient
    ),
    CONTRACTUAL: (
        "24",
        "44",
        "45",
        "59",
        "69",
        "70",
        "74",
        "75",
        "76",
        "89",
        "90",
        "91",
        "94",
        "102",
        "103",
        "104",
        "105",
        "118",
        "121",
        "122",
        "130",
        "131",
        "132",
        "134",
        "137",
        "139",
        "144",
        "161",
        "169",
        "186",
        "205",
        "217",
        "222",
        "223",
        "225",
        "232",
        "235",
        "237",
        "A5",
        "A7",
        "B10",
        "W1",
    ),
    OTHER: (
        "101",  # predetermination
        "115",
        "155",  # postponed, refused
        "133",  # pending review: wait, then look again
        "143",
        "147",  # deferred payment, contract rate missing: talk to the payer
        "162",
        "187",
        "192",
        "193",
        "195",
        "221",
        "A0",
        "A1",
        "B20",
        "W2",
    ),
}

_DEFAULT_RARC_RULES: tuple[tuple[str, str, int], ...] = (
    ("N657", CODING, PRIORITY_DECISIVE_RARC),
    ("N56", CODING, PRIORITY_DECISIVE_RARC),
    ("N122", CODING, PRIORITY_RARC),  # add-on code billed by itself
    ("M15", BUNDLING, PRIORITY_RARC),
    ("N381", BUNDLING, PRIORITY_RARC),  # DOMAIN §6 counts it with the bundling remarks
    ("M80", BUNDLING, PRIORITY_RARC),  # not covered in the same session as another service
    ("M144", BUNDLING, PRIORITY_RARC),  # pre/post-op care included in the surgery
    ("N19", BUNDLING, PRIORITY_RARC),  # incidental to the primary procedure
    ("N20", BUNDLING, PRIORITY_RARC),  # not payable with another service on the same date
    ("MA130", MISSING_INFORMATION, PRIORITY_RARC),  # unprocessable: send a complete claim
)


def _default_rules() -> list[CategoryRule]:
    rules = [
        CategoryRule(category=rarc_category, rarc=rarc, priority=priority)
        for rarc, rarc_category, priority in _DEFAULT_RARC_RULES
    ]
    for category, carcs in _DEFAULT_CARC_CATEGORIES.items():
        rules.extend(
            CategoryRule(
                category=category,
                carc=carc,
                priority=PRIORITY_GENERIC_CARC if carc in _GENERIC_CARCS else PRIORITY_CARC,
            )
            for carc in carcs
        )
    # A PR amount for a CARC this table does not know yet (253 and up) is most likely the
    # patient's share; bill-patient still means "verify before a statement" (DOMAIN §3).
    rules.append(CategoryRule(category=PATIENT_RESPONSIBILITY, group_code="PR", priority=PRIORITY_GROUP_FALLBACK))
    return rules


# Seed data for the admin-editable rule table: load with dataclasses.asdict().
DEFAULT_CATEGORY_RULES: list[CategoryRule] = _default_rules()

# ---------------------------------------------------------------------------------------
# NCCI PTP finding
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PtpFinding:
    """The PTP edit that explains (or fails to explain) a bundling denial."""

    edit: PtpEditFact
    other_line: LineFacts
    in_force: bool
    # The bypass modifier on the Column 2 line ('' if none). Column 2 is the denied line,
    # unless ``reverse``.
    bypass_modifier_present: str = ""
    # True when the denied line is the edit's Column 1 code: NCCI pays Column 1, so this is
    # a weaker match, used only when no edit has the denied code in Column 2.
    reverse: bool = False
    # A distinct-service modifier sitting on the Column 1 line instead: NCCI reads it on
    # Column 2, so moving it is a corrected claim, not an appeal.
    misplaced_bypass_modifier: str = ""

    @property
    def indicator(self) -> str:
        return _code(self.edit.modifier_indicator)

    @property
    def column1_code(self) -> str:
        return _code(self.edit.column1)

    @property
    def column2_code(self) -> str:
        return _code(self.edit.column2)


# Among several *pairs* in force on the date (the denied line against two other lines),
# the most restrictive explains the denial: an indicator-0 pair keeps the line bundled even
# if another pair could be bypassed. Within one pair, ``ncci.ptp`` decides which row speaks.
_INDICATOR_RANK = {"0": 0, "1": 1}


def find_ptp_finding(
    *,
    line: LineFacts,
    other_lines: Iterable[LineFacts],
    edits: Iterable[PtpEditFact],
    modifier_groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS,
) -> PtpFinding | None:
    """The PTP edit pairing the denied line with another line on the same date of service.

    Edits with the denied code in Column 2 first; the reverse (denied code in Column 1)
    only when there is none. Each pair's row for the date is ``ptp.edit_for_date``'s (the
    same answer the scrubber and the NCCI pages give). Among pairs: one in force (indicator
    0 before 1, then the latest effective date) before one not in force (the latest
    deletion first). Edits that start after the date of service do not exist yet for it
    and are ignored. Without a date of service nothing can be judged: None.
    """
    dos = line.service_date
    if dos is None:
        return None
    code = _code(line.procedure_code)
    same_day: dict[str, list[LineFacts]] = {}
    for other in other_lines:
        if other is line or other.line_id == line.line_id or other.service_date != dos:
            continue
        same_day.setdefault(_code(other.procedure_code), []).append(other)
    if not same_day:
        return None

    # (pair, other line) -> that pair's rows, in the order met (first met wins ties).
    direct: dict[tuple[tuple[str, str, str], int | str], tuple[LineFacts, list[PtpEditFact]]] = {}
    reverse: dict[tuple[tuple[str, str, str], int | str], tuple[LineFacts, list[PtpEditFact]]] = {}
    for edit in edits:
        column1, column2 = _code(edit.column1), _code(edit.column2)
        if column2 == code:
            found, partner = direct, column1
        elif column1 == code:
            found, partner = reverse, column2
        else:
            continue
        for other in same_day.get(partner, ()):
            found.setdefault((ptp.pair_key(edit), other.line_id), (other, []))[1].append(edit)
    is_reverse = not any(e.effective_date <= dos for _other, rows in direct.values() for e in rows)
    candidates: list[tuple[PtpEditFact, bool, LineFacts]] = []
    for other, rows in (reverse if is_reverse else direct).values():
        speaking, speaking_in_force = ptp.edit_for_date(rows, dos)
        if speaking is not None:
            candidates.append((speaking, speaking_in_force, other))
    if not candidates:
        return None

    def rank(item: tuple[int, tuple[PtpEditFact, bool, LineFacts]]) -> tuple[int, int, int, int]:
        index, (edit, in_force, _other) = item
        if in_force:
            return (0, _INDICATOR_RANK.get(_code(edit.modifier_indicator), 2), -edit.effective_date.toordinal(), index)
        last_day = edit.deletion_date or edit.effective_date
        return (1, 0, -last_day.toordinal(), index)

    _index, (edit, in_force, other) = min(enumerate(candidates), key=rank)
    column2_line, column1_line = (other, line) if is_reverse else (line, other)
    reading = ptp.bypass_reading(
        column2_modifiers=column2_line.modifiers, column1_modifiers=column1_line.modifiers, groups=modifier_groups
    )
    return PtpFinding(
        edit=edit,
        other_line=other,
        in_force=in_force,
        bypass_modifier_present=reading.present,
        reverse=is_reverse,
        misplaced_bypass_modifier=reading.misplaced,
    )


def bundling_category(finding: PtpFinding | None) -> str:
    """DOMAIN §6: which bundling category an NCCI finding puts a denial in.

    The importer accepts only indicators 0, 1 and 9, so anything else is read as 1 (a
    modifier may apply), the reading that sends the line to a coder rather than a write-off.
    """
    if finding is None:
        return BUNDLING_NO_PTP_PAIR
    if not finding.in_force or finding.indicator == "9":
        return BUNDLING_EDIT_NOT_IN_FORCE
    if finding.indicator == "0":
        return BUNDLING_NOT_APPEALABLE
    if finding.bypass_modifier_present:
        return BUNDLING_APPEALABLE
    return BUNDLING_MODIFIER_MAY_APPLY


# ---------------------------------------------------------------------------------------
# Triage
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageResult:
    category: str
    action: str
    # The modifier the next step relies on: the one already on the line for an appeal, the
    # one to move onto Column 2 for a corrected claim. '' when a coder must choose it from
    # the documentation (the X-modifier that fits is not knowable from the remittance).
    action_modifier: str
    explanation: str
    finding: PtpFinding | None
    rule: CategoryRule | None
    # True only when the next step is an appeal; a corrected claim is not an appeal.
    appealable: bool
    write_off: bool
    # Why the group code changed the category's usual action ('' if it did not).
    notes: tuple[str, ...] = ()

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


# The action a category calls for before the group code has its say.
_CATEGORY_ACTION: dict[str, str] = {
    BUNDLING_MODIFIER_MAY_APPLY: CORRECTED_CLAIM,
    BUNDLING_APPEALABLE: APPEAL,
    BUNDLING_NOT_APPEALABLE: WRITE_OFF,
    BUNDLING_EDIT_NOT_IN_FORCE: APPEAL,
    BUNDLING_NO_PTP_PAIR: REVIEW,
    CODING: REVIEW_CODING,
    MEDICAL_NECESSITY: APPEAL,
    MISSING_INFORMATION: SEND_DOCUMENTATION,
    AUTHORIZATION: VERIFY_AUTHORIZATION,
    ELIGIBILITY: VERIFY_ELIGIBILITY,
    DUPLICATE: RESUBMIT,
    TIMELY_FILING: APPEAL,
    COORDINATION_OF_BENEFITS: CHECK_COB,
    NON_COVERED: WRITE_OFF,
    PLAN_PROCEDURES: REVIEW,
    PATIENT_RESPONSIBILITY: BILL_PATIENT,
    CONTRACTUAL: WRITE_OFF,
    OTHER: REVIEW,
}

# PR on a bundling denial (DOMAIN §6, seed PR-97): never appealed directly; correct the
# claim if a modifier legitimately unbundles it, bill the patient only when the bundling is
# final, and otherwise verify with the payer before a statement goes out.
_PR_BUNDLING_ACTION: dict[str, str] = {
    BUNDLING_MODIFIER_MAY_APPLY: CORRECTED_CLAIM,
    BUNDLING_APPEALABLE: REVIEW,
    BUNDLING_NOT_APPEALABLE: BILL_PATIENT,
    BUNDLING_EDIT_NOT_IN_FORCE: REVIEW,
    BUNDLING_NO_PTP_PAIR: REVIEW,
}


def triage(
    *,
    facts: DenialFacts,
    rules: Sequence[CategoryRule],
    edits: Iterable[PtpEditFact] = (),
    modifier_groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS,
    descriptions: Mapping[str, str] | None = None,
) -> TriageResult:
    """Category, next action and explanation for one denial.

    ``edits`` are the PTP edits for the claim's codes in the claim's setting (the caller
    filters by setting; any date, deleted rows included: the date logic is ``ncci.ptp``'s).
    ``modifier_groups`` are the admin-kept NCCI-associated modifiers (``ncci.selectors.modifier_groups``).
    ``descriptions`` maps 'CARC:97' / 'RARC:M15' to the code list's text, quoted when given.
    """
    category, rule = choose_category(rules, facts)
    if category not in RULE_CATEGORIES and category not in CATEGORIES:
        category = OTHER  # a rule naming a retired or mistyped category
    finding: PtpFinding | None = None
    if category == BUNDLING or category in BUNDLING_CATEGORIES:
        if facts.line is not None:
            finding = find_ptp_finding(
                line=facts.line, other_lines=facts.other_lines, edits=edits, modifier_groups=modifier_groups
            )
        category = bundling_category(finding)

    group = _code(facts.group_code)
    action = usual_action(category=category, facts=facts)
    usual = action

    if category in BUNDLING_CATEGORIES:
        if group == "PR":
            action = _PR_BUNDLING_ACTION[category]
        elif group not in ("CO", "PI"):
            action = REVIEW  # OA (often COB) or no group code: who bears it is unclear
    action = _apply_group_code(action, group)

    action_modifier = ""
    if finding is not None and category == BUNDLING_APPEALABLE:
        action_modifier = finding.bypass_modifier_present
    elif finding is not None and category == BUNDLING_MODIFIER_MAY_APPLY and action == CORRECTED_CLAIM:
        action_modifier = finding.misplaced_bypass_modifier

    notes: tuple[str, ...] = ()
    if action != usual:
        notes = (f"{group or 'no group code'}: {ACTIONS[usual].lower()} becomes {ACTIONS[action].lower()}",)

    explanation = explain(
        facts=facts,
        category=category,
        action=action,
        usual_action=usual,
        finding=finding,
        descriptions=descriptions,
    )
    return TriageResult(
        category=category,
        action=action,
        action_modifier=action_modifier,
        explanation=explanation,
        finding=finding,
        rule=rule,
        appealable=action == APPEAL,
        write_off=action == WRITE_OFF,
        notes=notes,
    )


def usual_action(*, category: str, facts: DenialFacts) -> str:
    """The action a category calls for before the group code has its say (N657 and its kin
    make a coding denial a corrected claim; a replacement claim makes a duplicate a review)."""
    action = _CATEGORY_ACTION[category]
    if category == CODING and {_code(r) for r in facts.rarcs} & CORRECT_CODE_RARCS:
        action = CORRECTED_CLAIM
    if category == DUPLICATE and facts.frequency_code.strip() == "7":
        action = REVIEW
    return action


def _apply_group_code(action: str, group: str) -> str:
    # DOMAIN §3: only PR shifts the amount to the patient; a CO amount is the provider's to
    # absorb, and an OA/PI/unknown amount needs a person to decide who bears it.
    if action == BILL_PATIENT and group != "PR":
        return REVIEW
    if action == WRITE_OFF and group != "CO":
        return BILL_PATIENT if group == "PR" else REVIEW
    return action


# ---------------------------------------------------------------------------------------
# Explanation
# ---------------------------------------------------------------------------------------

CATEGORY_GIST: dict[str, str] = {
    CODING: "the payer says the codes on this line (procedure, modifier or diagnosis) do not fit the service",
    MEDICAL_NECESSITY: "the payer does not consider the service medically necessary as billed",
    MISSING_INFORMATION: "the payer needs information or documentation it did not get",
    AUTHORIZATION: "the payer has no valid authorization or referral for this service",
    ELIGIBILITY: "the payer could not match the patient to active coverage on the date of service",
    DUPLICATE: "the payer thinks it already processed this claim or service",
    TIMELY_FILING: "the payer says the claim arrived after its filing limit",
    COORDINATION_OF_BENEFITS: (
        "another payer may be responsible, or a prior payer's decision changed what this one owes"
    ),
    NON_COVERED: "the patient's plan does not cover this service",
    PLAN_PROCEDURES: "a plan rule was not followed (referral, network, provider enrolment or similar)",
    PATIENT_RESPONSIBILITY: "this is the patient's share under the plan",
    CONTRACTUAL: "this is a contractual or payment-method adjustment, not a denial of the service",
    OTHER: "the reason does not fall in a known category",
}

_CATEGORY_ADVICE: dict[tuple[str, str], str] = {
    (CODING, REVIEW_CODING): (
        "Have a coder compare the line with the documentation and correct the code, modifier or diagnosis "
        "if it is wrong."
    ),
    (CODING, CORRECTED_CLAIM): (
        "It is a coding-accuracy denial, not a coverage one: fix the code from the documentation "
        "and send a corrected claim."
    ),
    (MEDICAL_NECESSITY, APPEAL): "Appeal with the clinical documentation that shows the payer's criteria were met.",
    (MISSING_INFORMATION, SEND_DOCUMENTATION): (
        "Send the requested information or documentation; this is not an appeal."
    ),
    (AUTHORIZATION, VERIFY_AUTHORIZATION): (
        "Check whether an authorization or referral covered these dates and services: if so, send its number; "
        "if not, ask for a retro-authorization where the plan allows one."
    ),
    (ELIGIBILITY, VERIFY_ELIGIBILITY): (
        "Verify the patient's coverage and demographics for the date of service, then bill the right plan."
    ),
    (DUPLICATE, RESUBMIT): (
        "If this was a corrected claim sent as a new one, resubmit it as a replacement (frequency code 7) with the "
        "payer's original claim number; if it is a true duplicate, the original claim covers it."
    ),
    (DUPLICATE, REVIEW): (
        "The claim already went as a replacement (frequency code 7): check that it cited the right original claim "
        "number and follow up with the payer."
    ),
    (TIMELY_FILING, APPEAL): (
        "Appeal only with proof of timely filing (a clearinghouse acceptance report or payer acknowledgment dated "
        "inside the limit); without proof, write it off."
    ),
    (COORDINATION_OF_BENEFITS, CHECK_COB): (
        "Check coordination of benefits: bill the responsible payer first, or send this payer the other payer's "
        "remittance."
    ),
    (NON_COVERED, WRITE_OFF): (
        "Write it off and check whether an advance notice or a coverage check at scheduling would have caught it."
    ),
    (NON_COVERED, BILL_PATIENT): "Bill the patient once the exclusion is confirmed against the plan's benefits.",
    (PLAN_PROCEDURES, REVIEW): (
        "Review the plan's rules and the payer contract before choosing between a correction, an appeal and a "
        "write-off."
    ),
    (PATIENT_RESPONSIBILITY, BILL_PATIENT): "Bill the patient once the amount matches the plan's benefits.",
    (CONTRACTUAL, WRITE_OFF): "Post the adjustment once it matches the contract; an underpayment is worth disputing.",
    (CONTRACTUAL, BILL_PATIENT): "Bill the patient once the amount matches the plan's benefits.",
    (OTHER, REVIEW): "Review it manually: read the payer's remark codes and decide the next step.",
}

_GROUP_SENTENCE: dict[str, str] = {
    "CO": "CO: the provider absorbs this amount; never bill the patient.",
    "PR": (
        "PR: the patient owes this only if the denial is valid; verify it, and correct the claim first if a fix "
        "removes the liability, before sending a statement."
    ),
    "OA": "OA: other adjustment, often coordination of benefits; review who bears it before acting.",
    "PI": "PI: payer-initiated reduction without a contract basis; review it, it is often appealable.",
}

_CLAIM_STATUS_NOTES: dict[str, str] = {
    "22": "The claim is a reversal of an earlier payment (status 22): check the recoupment.",
    "23": "The payer says this is not its claim (status 23).",
    "25": "This is a predetermination (status 25), not a payment decision.",
}


def _clean_description(text: str, limit: int = 200) -> str:
    # Code-list texts carry boilerplate ("Note: Refer to the 835 Healthcare Policy...",
    # change histories) that says nothing to the person working the denial.
    for marker in (" Note:", " Notes:", " This change effective", " At least one Remark Code"):
        cut = text.find(marker)
        if cut > 0:
            text = text[:cut]
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _codes_phrase(facts: DenialFacts) -> str:
    group, carc = _code(facts.group_code), _code(facts.carc)
    phrase = f"{group}-{carc}" if group and carc else (carc or group or "Adjustment")
    rarcs = [_code(r) for r in facts.rarcs if _code(r)]
    if rarcs:
        phrase += f" ({', '.join(rarcs)})"
    return phrase


def _quoted_reasons(facts: DenialFacts, descriptions: Mapping[str, str] | None) -> list[str]:
    if not descriptions:
        return []
    quoted = []
    carc = _code(facts.carc)
    carc_text = descriptions.get(f"CARC:{carc}")
    if carc_text:
        quoted.append(f'Payer reason {carc}: "{_clean_description(carc_text)}"')
    for rarc in (_code(r) for r in facts.rarcs):
        rarc_text = descriptions.get(f"RARC:{rarc}")
        if rarc_text:
            quoted.append(f'Remark {rarc}: "{_clean_description(rarc_text)}"')
    # The quoted text keeps its own full stop; add one only where it has none.
    return [q if q.endswith('."') else q + "." for q in quoted]


def _edit_details(edit: PtpEditFact) -> str:
    details = []
    if edit.quarter:
        details.append(f"{edit.quarter} {edit.setting} table")
    if edit.rationale:
        details.append(f"rationale: {edit.rationale}")
    return f"; {'; '.join(details)}" if details else ""


_WHERE_ELSE_TO_LOOK = "the global surgical period (modifiers 24, 25, 57, 58, 78, 79), whether the service is an "
_WHERE_ELSE_TO_LOOK += "inherent component of the main procedure, and the payer's contract or bundling policy"


def _ncci_sentences(facts: DenialFacts, category: str, action: str, finding: PtpFinding | None) -> list[str]:
    line = facts.line
    if line is None:
        return [
            "The adjustment is not tied to a service line, so no NCCI pair could be checked: "
            f"review {_WHERE_ELSE_TO_LOOK}."
        ]
    code = _code(line.procedure_code)
    dos = line.service_date
    if dos is None:
        return [f"Line {code} has no date of service, so no NCCI edit could be checked: review {_WHERE_ELSE_TO_LOOK}."]
    if finding is None:
        return [
            f"No NCCI PTP edit pairs {code} with another line of this claim on {dos.isoformat()}: "
            f"check {_WHERE_ELSE_TO_LOOK}."
        ]

    edit = finding.edit
    c1, c2 = finding.column1_code, finding.column2_code
    pair = f"{c1}/{c2}"
    details = _edit_details(edit)
    if category == BUNDLING_EDIT_NOT_IN_FORCE:
        return _not_in_force_sentences(finding, action, dos, pair, details)

    sentences = [
        f"NCCI edit {pair} (modifier indicator {finding.indicator}, in force since "
        f"{edit.effective_date.isoformat()}{details}) bundles {c2} into {c1} on {dos.isoformat()}."
    ]
    if finding.reverse:
        sentences.append(
            f"The denied line {code} is the Column 1 code of this edit, which NCCI pays: "
            "check whether the payer denied the wrong line."
        )
    if category == BUNDLING_NOT_APPEALABLE:
        sentences.append("Modifier indicator 0: no modifier bypasses this edit, whatever the documentation says.")
        if action == WRITE_OFF:
            sentences.append("Write it off and feed the pair back to prevention (scrub it before submission).")
        elif action == BILL_PATIENT:
            sentences.append("The bundling is final, so the PR amount is the patient's once verified.")
    elif category == BUNDLING_APPEALABLE:
        accepted = f"{c2} already carries {finding.bypass_modifier_present}, which NCCI accepts for this edit: "
        if action == APPEAL:
            sentences.append(accepted + "appeal with the documentation passage that shows the service was distinct.")
        else:
            sentences.append(accepted + "ask the payer why it was not honoured before anyone bills the patient.")
    elif category == BUNDLING_MODIFIER_MAY_APPLY:
        misplaced = finding.misplaced_bypass_modifier
        if misplaced:
            advice = (
                f"{misplaced} is on {c1} (Column 1) but NCCI reads the modifier on the Column 2 code: if the "
                f"documentation supports a distinct service, send a corrected claim with {misplaced} on {c2}; "
                "otherwise write it off."
            )
        else:
            advice = (
                "If the documentation shows a distinct service, send a corrected claim with the most specific "
                f"modifier on {c2}: XE (separate encounter), XS (separate structure), XP (separate practitioner) "
                "or XU (unusual non-overlapping service), 59 only if none fits; otherwise write it off."
            )
        if action != CORRECTED_CLAIM:
            advice = "Review it: " + advice[0].lower() + advice[1:]
        sentences.append(advice)
    return sentences


def _not_in_force_sentences(finding: PtpFinding, action: str, dos: date, pair: str, details: str) -> list[str]:
    edit = finding.edit
    if finding.indicator == "9":
        why = (
            f"NCCI edit {pair} has modifier indicator 9 (not applicable{details}): CMS treats it as deleted, "
            f"so it does not bundle {finding.column2_code} into {finding.column1_code}."
        )
        citation = f"citing modifier indicator 9 on edit {pair}"
    elif edit.deletion_date is not None and edit.deletion_date <= edit.effective_date:
        why = (
            f"NCCI edit {pair} was deleted retroactively (effective and deleted "
            f"{edit.effective_date.isoformat()}{details}): it was never in force."
        )
        citation = f"citing the retroactive deletion of edit {pair}"
    else:
        last_day = edit.deletion_date.isoformat() if edit.deletion_date else "?"
        why = (
            f"NCCI edit {pair} (modifier indicator {finding.indicator}{details}) last applied on {last_day}, "
            f"before the date of service {dos.isoformat()}: the payer applied an edit that was no longer in force."
        )
        citation = f"citing the deletion of edit {pair} after {last_day}"
    if action == APPEAL:
        return [why, f"Appeal, {citation}."]
    return [why, f"Ask the payer to reprocess the line, {citation}, before anyone bills the patient."]


def explain(
    *,
    facts: DenialFacts,
    category: str,
    action: str,
    usual_action: str,
    finding: PtpFinding | None,
    descriptions: Mapping[str, str] | None,
) -> str:
    """The explanation in plain words. Public because the denial page renders it again at read
    time from the facts triage recorded, with the code words as admins keep them now
    (``denials.selectors.denial_plain_words``), so an edited summary shows at once."""
    if category in BUNDLING_CATEGORIES:
        gist = "the payer paid this line as part of another service on the same claim"
    else:
        gist = CATEGORY_GIST[category]
    sentences = [f"{_codes_phrase(facts)}: {gist}."]
    sentences.extend(_quoted_reasons(facts, descriptions))
    status_note = _CLAIM_STATUS_NOTES.get(facts.claim_status.strip())
    if status_note:
        sentences.append(status_note)

    if category in BUNDLING_CATEGORIES:
        sentences.extend(_ncci_sentences(facts, category, action, finding))
    else:
        advice = _CATEGORY_ADVICE.get((category, action))
        if advice is None:
            # The group code overrode the usual step: say what the usual step was.
            advice = (
                f"The usual next step ({ACTIONS[usual_action].lower()}) does not fit this group code: "
                f"{ACTIONS[action].lower()} before acting."
            )
        sentences.append(advice)

    group = _code(facts.group_code)
    sentences.append(_GROUP_SENTENCE.get(group, f"Group code {group or 'missing'}: review who bears this amount."))
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------
# Success prior, probability and priority
# ---------------------------------------------------------------------------------------

# Prior chance that working the denial the recommended way recovers the money, before the
# team has its own record. Only the bundling figure has a published source: the seeds quote
# 50-70% first-level success for bundling appeals whose documentation supports the
# modifier (seed 001). Everything else is an assumption to be replaced by the team's own
# outcomes (``success_probability``), chosen to rank work sensibly, not to forecast cash:
# - fixes the payer cannot refuse on the merits (payer error, missing paperwork, a code
#   corrected from the documentation) sit above contested judgements (medical necessity);
# - categories whose step is a write-off or a patient statement recover nothing from the
#   payer: 0.
SUCCESS_PRIOR: dict[str, Decimal] = {
    BUNDLING_APPEALABLE: Decimal("0.60"),  # seed: 50-70%, midpoint
    BUNDLING_MODIFIER_MAY_APPLY: Decimal("0.50"),  # seed range, less the cases the documentation won't support
    BUNDLING_EDIT_NOT_IN_FORCE: Decimal("0.80"),  # payer error with a citable CMS deletion
    BUNDLING_NOT_APPEALABLE: Decimal("0.00"),  # indicator 0: final by CMS rule
    BUNDLING_NO_PTP_PAIR: Decimal("0.30"),  # global period / payer policy: often correct
    CODING: Decimal("0.60"),
    MEDICAL_NECESSITY: Decimal("0.40"),
    MISSING_INFORMATION: Decimal("0.70"),
    AUTHORIZATION: Decimal("0.30"),  # retro-authorizations are rarely granted
    ELIGIBILITY: Decimal("0.35"),  # recovers when another plan turns out to be liable
    DUPLICATE: Decimal("0.30"),  # mostly the original already paid
    TIMELY_FILING: Decimal("0.10"),  # only with proof of timely filing
    COORDINATION_OF_BENEFITS: Decimal("0.50"),
    NON_COVERED: Decimal("0.00"),
    PLAN_PROCEDURES: Decimal("0.25"),
    PATIENT_RESPONSIBILITY: Decimal("0.00"),
    CONTRACTUAL: Decimal("0.00"),
    OTHER: Decimal("0.20"),
}

_PROBABILITY_PLACES = Decimal("0.0001")
_MONEY_PLACES = Decimal("0.01")


def success_probability(
    *,
    category: str,
    wins: int,
    decided: int,
    min_decided: int = 10,
    prior_weight: int = 10,
    priors: Mapping[str, Decimal] | None = None,
) -> Decimal:
    """Chance that the next denial of ``category`` is recovered.

    Below ``min_decided`` decided outcomes the team's record is noise: the prior alone.
    From there on, the Beta-Binomial posterior mean with the prior worth ``prior_weight``
    outcomes: (prior * weight + wins) / (weight + decided). At 10 decided outcomes the
    team's record weighs half, at 90 nine tenths, so it takes over as evidence grows.
    ``wins`` counts overturned and partially paid outcomes; ``decided`` excludes pending.
    """
    if decided < 0 or wins < 0 or wins > decided:
        raise ValueError(f"need 0 <= wins <= decided, got wins={wins}, decided={decided}")
    if prior_weight < 0:
        raise ValueError("prior_weight must not be negative")
    table = SUCCESS_PRIOR if priors is None else priors
    if category not in table:
        raise ValueError(f"no success prior for category {category!r}")
    prior = Decimal(table[category])
    if decided < min_decided or decided == 0:
        return prior.quantize(_PROBABILITY_PLACES, rounding=ROUND_HALF_UP)
    posterior = (prior * prior_weight + wins) / Decimal(prior_weight + decided)
    return posterior.quantize(_PROBABILITY_PLACES, rounding=ROUND_HALF_UP)


def priority_score(
    *,
    amount: Decimal,
    probability: Decimal,
    days_to_due: int | None,
    window_days: int = 30,
) -> Decimal:
    """Expected recovery, raised as the due date nears: the order a work queue sorts by.

    score = amount * probability * urgency, where urgency is 1 with no due date or more than
    ``window_days`` left, and climbs linearly to 2 on the due date:
    1 + (window_days - days_to_due) / window_days.
    Past the due date the score is 0: the due date is the payer's appeal or filing deadline
    (DOMAIN §7), after which the expected recovery is nil; overdue items belong on their own
    list (the queue's overdue filter), not at the top of the working order.
    A zero or negative amount (reversal, credit) has nothing to recover: 0.
    """
    if not Decimal(0) <= probability <= Decimal(1):
        raise ValueError(f"probability must be within 0..1, got {probability}")
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    if amount <= 0:
        return Decimal("0.00")
    urgency = Decimal(1)
    if days_to_due is not None:
        if days_to_due < 0:
            return Decimal("0.00")
        if days_to_due < window_days:
            urgency += Decimal(window_days - days_to_due) / Decimal(window_days)
    return (amount * probability * urgency).quantize(_MONEY_PLACES, rounding=ROUND_HALF_UP)
