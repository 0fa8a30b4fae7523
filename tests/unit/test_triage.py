"""Triage of one denial: DOMAIN.md §6 table, group codes, rule ordering, NCCI dates, priors."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from denials.triage import (
    APPEAL,
    AUTHORIZATION,
    BILL_PATIENT,
    BUNDLING,
    BUNDLING_APPEALABLE,
    BUNDLING_CATEGORIES,
    BUNDLING_EDIT_NOT_IN_FORCE,
    BUNDLING_MODIFIER_MAY_APPLY,
    BUNDLING_NO_PTP_PAIR,
    BUNDLING_NOT_APPEALABLE,
    CATEGORIES,
    CHECK_COB,
    CODING,
    CONTRACTUAL,
    COORDINATION_OF_BENEFITS,
    CORRECTED_CLAIM,
    DEFAULT_CATEGORY_RULES,
    DUPLICATE,
    ELIGIBILITY,
    MEDICAL_NECESSITY,
    MISSING_INFORMATION,
    NON_COVERED,
    OTHER,
    PATIENT_RESPONSIBILITY,
    PLAN_PROCEDURES,
    RESUBMIT,
    REVIEW,
    REVIEW_CODING,
    RULE_CATEGORIES,
    SEND_DOCUMENTATION,
    SUCCESS_PRIOR,
    TIMELY_FILING,
    VERIFY_AUTHORIZATION,
    VERIFY_ELIGIBILITY,
    WRITE_OFF,
    CategoryRule,
    DenialFacts,
    LineFacts,
    PtpEditFact,
    TriageResult,
    choose_category,
    edit_in_force,
    find_ptp_finding,
    priority_score,
    success_probability,
    triage,
)
from ncci.ptp import DEFAULT_MODIFIER_GROUPS, ModifierGroups

CARC_CSV = Path(__file__).resolve().parents[2] / "ncci" / "data" / "carc_codes_tigershark_0.3.4.csv"

DOS = date(2026, 9, 14)
EFFECTIVE = date(2021, 1, 1)


def svc(line_id: int, code: str, *modifiers: str, dos: date | None = DOS) -> LineFacts:
    return LineFacts(line_id=line_id, procedure_code=code, modifiers=modifiers, service_date=dos, units=Decimal("1"))


def ptp(
    column1: str = "17000",
    column2: str = "11102",
    *,
    indicator: str = "1",
    effective: date = EFFECTIVE,
    deletion: date | None = None,
    rationale: str = "",
    quarter: str = "",
) -> PtpEditFact:
    return PtpEditFact(
        column1=column1,
        column2=column2,
        effective_date=effective,
        deletion_date=deletion,
        modifier_indicator=indicator,
        rationale=rationale,
        quarter=quarter,
    )


def denial(
    group: str = "CO",
    carc: str = "97",
    rarcs: tuple[str, ...] = ("M15",),
    *,
    line: LineFacts | None = None,
    other_lines: tuple[LineFacts, ...] | None = None,
    payer_id: str = "",
    frequency_code: str = "",
    claim_status: str = "",
) -> DenialFacts:
    """By default: 11102 (biopsy) denied on a claim that also has 17000 on the same day."""
    return DenialFacts(
        group_code=group,
        carc=carc,
        rarcs=rarcs,
        amount=Decimal("120.00"),
        payer_id=payer_id,
        claim_status=claim_status,
        line=svc(2, "11102") if line is None else line,
        other_lines=(svc(1, "17000"),) if other_lines is None else other_lines,
        frequency_code=frequency_code,
    )


def run(
    facts: DenialFacts,
    edits: tuple[PtpEditFact, ...] = (),
    *,
    modifier_groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS,
    descriptions: dict[str, str] | None = None,
) -> TriageResult:
    return triage(
        facts=facts,
        rules=DEFAULT_CATEGORY_RULES,
        edits=edits,
        modifier_groups=modifier_groups,
        descriptions=descriptions,
    )


# ---------------------------------------------------------------------------------------
# DOMAIN §6, row by row (CO group: the table's own reading)
# ---------------------------------------------------------------------------------------

# (id, modifiers on the denied 11102, modifiers on the paid 17000, edits, category, action, action_modifier)
Section6Row = tuple[str, tuple[str, ...], tuple[str, ...], tuple[PtpEditFact, ...], str, str, str]
SECTION_6_ROWS: list[Section6Row] = [
    ("indicator-1-no-modifier", (), (), (ptp(),), BUNDLING_MODIFIER_MAY_APPLY, CORRECTED_CLAIM, ""),
    ("indicator-1-xs-on-denied-line", ("XS",), (), (ptp(),), BUNDLING_APPEALABLE, APPEAL, "XS"),
    ("indicator-1-global-modifier", ("25",), (), (ptp(),), BUNDLING_APPEALABLE, APPEAL, "25"),
    ("indicator-1-different-digits", ("F2",), ("F1",), (ptp(),), BUNDLING_APPEALABLE, APPEAL, "F2"),
    (
        "same-side-on-both-lines-is-not-distinct",
        ("RT",),
        ("RT",),
        (ptp(),),
        BUNDLING_MODIFIER_MAY_APPLY,
        CORRECTED_CLAIM,
        "",
    ),
    (
        "xs-on-column-1-line-moves-to-column-2",
        (),
        ("XS",),
        (ptp(),),
        BUNDLING_MODIFIER_MAY_APPLY,
        CORRECTED_CLAIM,
        "XS",
    ),
    ("indicator-0", (), (), (ptp(indicator="0"),), BUNDLING_NOT_APPEALABLE, WRITE_OFF, ""),
    ("indicator-0-ignores-59", ("59",), (), (ptp(indicator="0"),), BUNDLING_NOT_APPEALABLE, WRITE_OFF, ""),
    ("deleted-before-dos", (), (), (ptp(deletion=date(2023, 12, 31)),), BUNDLING_EDIT_NOT_IN_FORCE, APPEAL, ""),
    (
        "indicator-0-but-deleted",
        (),
        (),
        (ptp(indicator="0", deletion=date(2026, 6, 30)),),
        BUNDLING_EDIT_NOT_IN_FORCE,
        APPEAL,
        "",
    ),
    (
        "indicator-9",
        (),
        (),
        (ptp(indicator="9", effective=date(2022, 1, 1), deletion=date(2022, 1, 1)),),
        BUNDLING_EDIT_NOT_IN_FORCE,
        APPEAL,
        "",
    ),
    ("indicator-9-without-deletion-date", (), (), (ptp(indicator="9"),), BUNDLING_EDIT_NOT_IN_FORCE, APPEAL, ""),
    ("no-ptp-pair", (), (), (), BUNDLING_NO_PTP_PAIR, REVIEW, ""),
    ("edit-for-a-code-not-on-the-claim", (), (), (ptp("20610", "11102"),), BUNDLING_NO_PTP_PAIR, REVIEW, ""),
]


def _section_6_facts(denied_modifiers: tuple[str, ...], column1_modifiers: tuple[str, ...]) -> DenialFacts:
    return denial(line=svc(2, "11102", *denied_modifiers), other_lines=(svc(1, "17000", *column1_modifiers),))


@pytest.mark.parametrize(
    ("denied_modifiers", "column1_modifiers", "edits", "category", "action", "action_modifier"),
    [pytest.param(*row[1:], id=row[0]) for row in SECTION_6_ROWS],
)
def test_co_bundling_denial_follows_the_domain_table(
    denied_modifiers: tuple[str, ...],
    column1_modifiers: tuple[str, ...],
    edits: tuple[PtpEditFact, ...],
    category: str,
    action: str,
    action_modifier: str,
) -> None:
    result = run(_section_6_facts(denied_modifiers, column1_modifiers), edits)

    assert (result.category, result.action, result.action_modifier) == (category, action, action_modifier)
    assert result.appealable is (action == APPEAL)
    assert result.write_off is (action == WRITE_OFF)


@pytest.mark.parametrize(
    ("carc", "rarcs"),
    [
        pytest.param("97", (), id="carc-97"),
        pytest.param("236", (), id="carc-236-ncci-explicit"),
        pytest.param("231", (), id="carc-231-mutually-exclusive"),
        pytest.param("A1", ("M15",), id="generic-a1-with-m15"),
        pytest.param("96", ("N381",), id="generic-96-with-n381"),
    ],
)
def test_bundling_codes_are_resolved_by_the_ncci_finding(carc: str, rarcs: tuple[str, ...]) -> None:
    result = run(denial(carc=carc, rarcs=rarcs), (ptp(indicator="0"),))

    assert result.category == BUNDLING_NOT_APPEALABLE
    assert result.finding is not None and result.finding.edit.column1 == "17000"


def test_rule_naming_a_resolved_bundling_category_is_still_checked_against_ncci() -> None:
    rules = [CategoryRule(category=BUNDLING_NO_PTP_PAIR, carc="97")]

    result = triage(facts=denial(), rules=rules, edits=(ptp(indicator="0"),))

    assert result.category == BUNDLING_NOT_APPEALABLE


# ---------------------------------------------------------------------------------------
# Group codes: CO absorbs, PR is never appealed directly, OA is reviewed
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "denied_modifiers", "edits", "category", "action"),
    [
        pytest.param(
            "CO", (), [ptp(indicator="1")], BUNDLING_MODIFIER_MAY_APPLY, CORRECTED_CLAIM, id="CO-97-modifier-may-apply"
        ),
        pytest.param(
            "PR", (), [ptp(indicator="1")], BUNDLING_MODIFIER_MAY_APPLY, CORRECTED_CLAIM, id="PR-97-modifier-may-apply"
        ),
        pytest.param(
            "OA", (), [ptp(indicator="1")], BUNDLING_MODIFIER_MAY_APPLY, REVIEW, id="OA-97-modifier-may-apply"
        ),
        pytest.param("CO", ("XU",), [ptp(indicator="1")], BUNDLING_APPEALABLE, APPEAL, id="CO-97-bypass-present"),
        pytest.param(
            "PR", ("XU",), [ptp(indicator="1")], BUNDLING_APPEALABLE, REVIEW, id="PR-97-bypass-present-not-appealed"
        ),
        pytest.param("OA", ("XU",), [ptp(indicator="1")], BUNDLING_APPEALABLE, REVIEW, id="OA-97-bypass-present"),
        pytest.param("CO", (), [ptp(indicator="0")], BUNDLING_NOT_APPEALABLE, WRITE_OFF, id="CO-97-indicator-0"),
        pytest.param("PR", (), [ptp(indicator="0")], BUNDLING_NOT_APPEALABLE, BILL_PATIENT, id="PR-97-indicator-0"),
        pytest.param("OA", (), [ptp(indicator="0")], BUNDLING_NOT_APPEALABLE, REVIEW, id="OA-97-indicator-0"),
        pytest.param("PI", (), [ptp(indicator="0")], BUNDLING_NOT_APPEALABLE, REVIEW, id="PI-97-indicator-0"),
        pytest.param(
            "CO", (), [ptp(deletion=date(2023, 12, 31))], BUNDLING_EDIT_NOT_IN_FORCE, APPEAL, id="CO-97-edit-deleted"
        ),
        pytest.param(
            "PR", (), [ptp(deletion=date(2023, 12, 31))], BUNDLING_EDIT_NOT_IN_FORCE, REVIEW, id="PR-97-edit-deleted"
        ),
        pytest.param("CO", (), [], BUNDLING_NO_PTP_PAIR, REVIEW, id="CO-97-no-pair"),
        pytest.param("PR", (), [], BUNDLING_NO_PTP_PAIR, REVIEW, id="PR-97-no-pair"),
    ],
)
def test_group_code_changes_the_action_not_the_category(
    group: str, denied_modifiers: tuple[str, ...], edits: list[PtpEditFact], category: str, action: str
) -> None:
    result = run(denial(group=group, line=svc(2, "11102", *denied_modifiers)), tuple(edits))

    assert (result.category, result.action) == (category, action)


@pytest.mark.parametrize("group", ["CO", "OA", "PI", ""])
def test_only_pr_amounts_are_ever_billed_to_the_patient(group: str) -> None:
    edits = (ptp(indicator="0"),)
    actions = {
        run(denial(group=group, carc=rule.carc, rarcs=()), edits).action for rule in DEFAULT_CATEGORY_RULES if rule.carc
    }

    assert BILL_PATIENT not in actions


def test_pr_amounts_are_never_written_off_by_the_provider() -> None:
    edits = (ptp(indicator="0"),)
    actions = {
        run(denial(group="PR", carc=rule.carc, rarcs=()), edits).action for rule in DEFAULT_CATEGORY_RULES if rule.carc
    }

    assert WRITE_OFF not in actions
    assert BILL_PATIENT in actions  # the check above is not vacuous


# ---------------------------------------------------------------------------------------
# The other categories
# ---------------------------------------------------------------------------------------

# (id, group code, CARC, RARCs, claim frequency code, category, action)
OtherRow = tuple[str, str, str, tuple[str, ...], str, str, str]
OTHER_CATEGORY_ROWS: list[OtherRow] = [
    ("CO-4-modifier-inconsistent", "CO", "4", (), "", CODING, REVIEW_CODING),
    ("CO-4-N657-fix-the-code", "CO", "4", ("N657",), "", CODING, CORRECTED_CLAIM),
    ("CO-50-N657-coding-not-coverage", "CO", "50", ("N657",), "", CODING, CORRECTED_CLAIM),
    ("CO-16-N657", "CO", "16", ("N657",), "", CODING, CORRECTED_CLAIM),
    ("CO-50", "CO", "50", (), "", MEDICAL_NECESSITY, APPEAL),
    ("CO-16-carc-beats-line-remark", "CO", "16", ("M15",), "", MISSING_INFORMATION, SEND_DOCUMENTATION),
    ("CO-226", "CO", "226", (), "", MISSING_INFORMATION, SEND_DOCUMENTATION),
    ("CO-197", "CO", "197", (), "", AUTHORIZATION, VERIFY_AUTHORIZATION),
    ("CO-27", "CO", "27", (), "", ELIGIBILITY, VERIFY_ELIGIBILITY),
    ("OA-18-sent-as-new-claim", "OA", "18", (), "1", DUPLICATE, RESUBMIT),
    ("OA-18-already-a-replacement", "OA", "18", (), "7", DUPLICATE, REVIEW),
    ("CO-29", "CO", "29", (), "", TIMELY_FILING, APPEAL),
    ("OA-23", "OA", "23", (), "", COORDINATION_OF_BENEFITS, CHECK_COB),
    ("CO-109-not-this-payer", "CO", "109", (), "", COORDINATION_OF_BENEFITS, CHECK_COB),
    ("CO-204", "CO", "204", (), "", NON_COVERED, WRITE_OFF),
    ("PR-204", "PR", "204", (), "", NON_COVERED, BILL_PATIENT),
    ("OA-204", "OA", "204", (), "", NON_COVERED, REVIEW),
    ("CO-95", "CO", "95", (), "", PLAN_PROCEDURES, REVIEW),
    ("PR-1-deductible", "PR", "1", (), "", PATIENT_RESPONSIBILITY, BILL_PATIENT),
    ("CO-1-never-billed-to-patient", "CO", "1", (), "", PATIENT_RESPONSIBILITY, REVIEW),
    ("PR-unknown-carc-group-fallback", "PR", "999", (), "", PATIENT_RESPONSIBILITY, BILL_PATIENT),
    ("CO-45", "CO", "45", (), "", CONTRACTUAL, WRITE_OFF),
    ("PR-45", "PR", "45", (), "", CONTRACTUAL, BILL_PATIENT),
    ("CO-A1-without-remark", "CO", "A1", (), "", OTHER, REVIEW),
    ("CO-unknown-carc", "CO", "999", (), "", OTHER, REVIEW),
]


@pytest.mark.parametrize(
    ("group", "carc", "rarcs", "frequency", "category", "action"),
    [pytest.param(*row[1:], id=row[0]) for row in OTHER_CATEGORY_ROWS],
)
def test_non_bundling_denial_gets_its_category_and_action(
    group: str, carc: str, rarcs: tuple[str, ...], frequency: str, category: str, action: str
) -> None:
    result = run(denial(group=group, carc=carc, rarcs=rarcs, frequency_code=frequency))

    assert (result.category, result.action) == (category, action)
    assert result.finding is None


def test_every_category_is_reached_by_some_case() -> None:
    reached = {
        run(_section_6_facts(denied_modifiers, column1_modifiers), edits).category
        for _id, denied_modifiers, column1_modifiers, edits, *_expected in SECTION_6_ROWS
    }
    reached |= {
        run(denial(group=group, carc=carc, rarcs=rarcs, frequency_code=frequency)).category
        for _id, group, carc, rarcs, frequency, *_expected in OTHER_CATEGORY_ROWS
    }

    assert reached == set(CATEGORIES)


def test_unknown_carc_has_no_rule() -> None:
    result = run(denial(carc="999", rarcs=()))

    assert result.rule is None


# ---------------------------------------------------------------------------------------
# Rule ordering
# ---------------------------------------------------------------------------------------


def test_more_specific_rule_wins_over_a_lower_priority_number() -> None:
    rules = [
        CategoryRule(category=MEDICAL_NECESSITY, carc="97", priority=1),
        CategoryRule(category=CODING, group_code="CO", carc="97", priority=500),
    ]

    category, rule = choose_category(rules, denial())

    assert category == CODING
    assert rule is rules[1]


def test_equally_specific_rules_are_ordered_by_priority() -> None:
    rules = [
        CategoryRule(category=MEDICAL_NECESSITY, carc="97", priority=100),
        CategoryRule(category=CODING, rarc="M15", priority=50),
    ]

    assert choose_category(rules, denial())[0] == CODING


def test_equal_rules_fall_back_to_input_order() -> None:
    rules = [CategoryRule(category=CODING, carc="97"), CategoryRule(category=MEDICAL_NECESSITY, carc="97")]

    assert choose_category(rules, denial())[0] == CODING
    assert choose_category(list(reversed(rules)), denial())[0] == MEDICAL_NECESSITY


def test_payer_specific_rule_overrides_the_default_for_that_payer_only() -> None:
    payer_rule = CategoryRule(category=PLAN_PROCEDURES, carc="97", payer_id="87726")
    rules = [*DEFAULT_CATEGORY_RULES, payer_rule]

    ours = triage(facts=denial(payer_id="87726"), rules=rules, edits=(ptp(),))
    theirs = triage(facts=denial(payer_id="60054"), rules=rules, edits=(ptp(),))

    assert (ours.category, ours.rule) == (PLAN_PROCEDURES, payer_rule)
    assert theirs.category == BUNDLING_MODIFIER_MAY_APPLY


@pytest.mark.parametrize(
    ("rarcs", "expected"),
    [
        pytest.param(("N657",), CODING, id="rarc-present"),
        pytest.param(("MA130", "n657 "), CODING, id="rarc-among-several-unnormalised"),
        pytest.param(("M15",), MISSING_INFORMATION, id="rarc-absent"),
    ],
)
def test_rarc_rule_matches_when_the_rarc_is_among_the_denials_remarks(rarcs: tuple[str, ...], expected: str) -> None:
    assert choose_category(DEFAULT_CATEGORY_RULES, denial(carc="16", rarcs=rarcs))[0] == expected


def test_procedure_code_rule_matches_the_denied_line_only() -> None:
    rules = [CategoryRule(category=NON_COVERED, procedure_code="11102"), CategoryRule(category=OTHER)]

    assert choose_category(rules, denial())[0] == NON_COVERED
    assert choose_category(rules, replace(denial(), line=None))[0] == OTHER
    assert choose_category(rules, denial(line=svc(2, "17000")))[0] == OTHER


def test_rule_codes_are_normalised() -> None:
    rules = [CategoryRule(category=" Coding ", group_code=" co", carc="97 ")]

    assert choose_category(rules, denial(group="co"))[0] == CODING


def test_no_matching_rule_gives_other() -> None:
    assert choose_category([CategoryRule(category=CODING, carc="4")], denial()) == (OTHER, None)


# ---------------------------------------------------------------------------------------
# The default rule table
# ---------------------------------------------------------------------------------------


def _carcs_in_code_list() -> list[str]:
    with CARC_CSV.open(newline="", encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


def test_default_rules_give_every_carc_in_the_code_list_its_own_rule() -> None:
    carcs = _carcs_in_code_list()
    assert len(carcs) == 217

    unmatched = [
        carc
        for carc in carcs
        if (choose_category(DEFAULT_CATEGORY_RULES, denial(carc=carc, rarcs=()))[1] or CategoryRule("x")).carc != carc
    ]

    assert unmatched == []


def test_default_rules_list_each_carc_once_with_a_known_category() -> None:
    carcs = [rule.carc for rule in DEFAULT_CATEGORY_RULES if rule.carc]

    assert len(carcs) == len(set(carcs))
    assert {rule.category for rule in DEFAULT_CATEGORY_RULES} <= set(RULE_CATEGORIES)
    assert not {rule.category for rule in DEFAULT_CATEGORY_RULES} & BUNDLING_CATEGORIES


@pytest.mark.parametrize(
    ("carc", "rarcs", "expected"),
    [
        ("97", (), BUNDLING),
        ("236", (), BUNDLING),
        ("A1", ("M15",), BUNDLING),
        ("A1", ("N381",), BUNDLING),
        ("4", (), CODING),
        ("189", (), CODING),
        ("B15", (), CODING),
        ("50", (), MEDICAL_NECESSITY),
        ("16", (), MISSING_INFORMATION),
        ("15", (), AUTHORIZATION),
        ("31", (), ELIGIBILITY),
        ("18", (), DUPLICATE),
        ("29", (), TIMELY_FILING),
        ("22", (), COORDINATION_OF_BENEFITS),
        ("96", (), NON_COVERED),
        ("95", (), PLAN_PROCEDURES),
        ("2", (), PATIENT_RESPONSIBILITY),
        ("45", (), CONTRACTUAL),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_default_rules_follow_the_domain_primer(carc: str, rarcs: tuple[str, ...], expected: str) -> None:
    assert choose_category(DEFAULT_CATEGORY_RULES, denial(carc=carc, rarcs=rarcs))[0] == expected


# ---------------------------------------------------------------------------------------
# NCCI edit dates and pairing
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "deletion", "on", "indicator", "expected"),
    [
        pytest.param(date(2021, 1, 1), None, date(2020, 12, 31), "1", False, id="day-before-effective"),
        pytest.param(date(2021, 1, 1), None, date(2021, 1, 1), "1", True, id="on-effective-date"),
        pytest.param(date(2021, 1, 1), date(2023, 12, 31), date(2023, 12, 30), "1", True, id="day-before-deletion"),
        pytest.param(
            date(2021, 1, 1), date(2023, 12, 31), date(2023, 12, 31), "1", True, id="on-deletion-date-last-day-in-force"
        ),
        pytest.param(date(2021, 1, 1), date(2023, 12, 31), date(2024, 1, 1), "1", False, id="day-after-deletion"),
        pytest.param(
            date(2022, 1, 1), date(2022, 1, 1), date(2022, 1, 1), "1", False, id="deleted-on-its-effective-date"
        ),
        pytest.param(date(2021, 1, 1), None, date(2026, 9, 14), "9", False, id="indicator-9"),
    ],
)
def test_edit_in_force(effective: date, deletion: date | None, on: date, indicator: str, expected: bool) -> None:
    assert edit_in_force(effective, deletion, on, modifier_indicator=indicator) is expected


@pytest.mark.parametrize(
    ("deletion", "category"),
    [
        pytest.param(DOS, BUNDLING_MODIFIER_MAY_APPLY, id="dos-equals-deletion-date"),
        pytest.param(DOS - timedelta(days=1), BUNDLING_EDIT_NOT_IN_FORCE, id="dos-day-after-deletion-date"),
    ],
)
def test_deletion_date_boundary(deletion: date, category: str) -> None:
    assert run(denial(), (ptp(deletion=deletion),)).category == category


def test_edit_effective_after_the_date_of_service_is_ignored() -> None:
    finding = find_ptp_finding(
        line=svc(2, "11102"), other_lines=[svc(1, "17000")], edits=[ptp(effective=DOS + timedelta(days=1))]
    )

    assert finding is None


def test_edit_in_force_is_preferred_over_its_deleted_history() -> None:
    old = ptp(indicator="0", effective=date(2019, 1, 1), deletion=date(2020, 12, 31))
    current = ptp(indicator="1", effective=date(2021, 1, 1))

    finding = find_ptp_finding(line=svc(2, "11102"), other_lines=[svc(1, "17000")], edits=[old, current])

    assert finding is not None
    assert (finding.edit, finding.in_force) == (current, True)


def test_most_recently_deleted_edit_is_reported_when_none_is_in_force() -> None:
    older = ptp(effective=date(2019, 1, 1), deletion=date(2020, 12, 31))
    newer = ptp(effective=date(2021, 1, 1), deletion=date(2023, 12, 31))

    finding = find_ptp_finding(line=svc(2, "11102"), other_lines=[svc(1, "17000")], edits=[older, newer])

    assert finding is not None
    assert (finding.edit, finding.in_force) == (newer, False)


def test_indicator_0_pair_explains_the_denial_before_an_indicator_1_pair() -> None:
    edits = [ptp("17000", "11102", indicator="1"), ptp("11300", "11102", indicator="0")]

    finding = find_ptp_finding(line=svc(3, "11102", "XS"), other_lines=[svc(1, "17000"), svc(2, "11300")], edits=edits)

    assert finding is not None
    assert finding.edit.column1 == "11300"
    assert finding.other_line.line_id == 2


def test_reverse_pair_is_used_when_no_edit_has_the_denied_code_in_column_2() -> None:
    facts = denial(line=svc(1, "17000"), other_lines=(svc(2, "11102", "XS"),))

    result = run(facts, (ptp("17000", "11102", indicator="1"),))

    assert result.finding is not None and result.finding.reverse
    # The bypass modifier counts on the Column 2 line, which here is the other line.
    assert (result.category, result.action_modifier) == (BUNDLING_APPEALABLE, "XS")
    assert "Column 1" in result.explanation


def test_column_2_match_is_preferred_over_a_reverse_match() -> None:
    edits = [ptp("11102", "99213", indicator="0"), ptp("17000", "11102", indicator="1")]

    finding = find_ptp_finding(line=svc(2, "11102"), other_lines=[svc(1, "17000"), svc(3, "99213")], edits=edits)

    assert finding is not None
    assert (finding.edit.column1, finding.reverse) == ("17000", False)


def test_line_on_another_date_does_not_form_a_pair() -> None:
    facts = denial(other_lines=(svc(1, "17000", dos=DOS - timedelta(days=1)),))

    assert run(facts, (ptp(),)).category == BUNDLING_NO_PTP_PAIR


def test_denied_line_listed_among_other_lines_is_not_paired_with_itself() -> None:
    line = svc(2, "11102")

    assert find_ptp_finding(line=line, other_lines=[line], edits=[ptp("11102", "11102")]) is None


def test_line_without_date_of_service_cannot_be_checked() -> None:
    result = run(denial(line=svc(2, "11102", dos=None)), (ptp(),))

    assert (result.category, result.action) == (BUNDLING_NO_PTP_PAIR, REVIEW)
    assert "no date of service" in result.explanation


def test_claim_level_bundling_adjustment_goes_to_review() -> None:
    result = run(replace(denial(), line=None), (ptp(),))

    assert (result.category, result.action, result.finding) == (BUNDLING_NO_PTP_PAIR, REVIEW, None)


def test_modifier_groups_come_from_the_caller_when_given() -> None:
    facts = denial(line=svc(2, "11102", "XS"))

    assert run(facts, (ptp(),)).category == BUNDLING_APPEALABLE
    only_59 = ModifierGroups(other=frozenset({"59"}))
    assert run(facts, (ptp(),), modifier_groups=only_59).category == BUNDLING_MODIFIER_MAY_APPLY


def test_anatomic_modifiers_come_from_the_caller_too() -> None:
    """An admin who files LT as "other" (not anatomic) makes LT on both lines a bypass."""
    facts = denial(line=svc(2, "11102", "LT"), other_lines=(svc(1, "17000", "LT"),))
    lt_not_anatomic = ModifierGroups(other=frozenset({"LT"}))

    assert run(facts, (ptp(),)).category == BUNDLING_MODIFIER_MAY_APPLY  # same side: not distinct
    assert run(facts, (ptp(),), modifier_groups=lt_not_anatomic).category == BUNDLING_APPEALABLE


# ---------------------------------------------------------------------------------------
# Explanation
# ---------------------------------------------------------------------------------------


def test_explanation_names_the_codes_the_edit_and_the_dates() -> None:
    edit = ptp(rationale="Misuse of Column Two code with Column One code", quarter="2026Q3")

    text = run(denial(), (edit,)).explanation

    for expected in (
        "CO-97 (M15)",
        "17000/11102",
        "2021-01-01",
        "2026-09-14",
        "XS",
        "59 only if none fits",
        "never bill the patient",
        "2026Q3",
        "Misuse of Column Two",
    ):
        assert expected in text


def test_explanation_quotes_the_code_list_without_its_boilerplate() -> None:
    descriptions = {
        "CARC:97": (
            "The benefit for this service is included in the payment/allowance for another service/procedure that "
            "has already been adjudicated. Note: Refer to the 835 Healthcare Policy Identification Segment "
            "(loop 2110 Service Payment Information REF), if present."
        ),
        "RARC:M15": (
            "Separately billed services/tests have been bundled as they are considered components of the same "
            "procedure. Separate payment is not allowed."
        ),
    }

    text = run(denial(), (ptp(),), descriptions=descriptions).explanation

    assert '"The benefit for this service is included in the payment/allowance' in text
    assert "Remark M15" in text
    assert "Healthcare Policy Identification" not in text
    assert '.".' not in text


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(ptp(deletion=date(2023, 12, 31)), "2023-12-31", id="deletion"),
        pytest.param(ptp(indicator="9"), "modifier indicator 9", id="indicator-9"),
        pytest.param(
            ptp(effective=date(2022, 1, 1), deletion=date(2022, 1, 1), indicator="1"), "retroactively", id="retroactive"
        ),
    ],
)
def test_edit_not_in_force_explanation_cites_why(edit: PtpEditFact, expected: str) -> None:
    text = run(denial(), (edit,)).explanation

    assert expected in text
    assert "Appeal" in text


def test_pr_explanation_says_to_verify_before_a_statement() -> None:
    text = run(denial(group="PR"), (ptp(indicator="0"),)).explanation

    assert "verify" in text
    assert "never bill the patient" not in text


def test_explanation_of_a_group_override_names_the_usual_step() -> None:
    result = run(denial(group="CO", carc="1", rarcs=()))

    assert "bill the patient" in result.explanation
    assert result.notes


# ---------------------------------------------------------------------------------------
# Success probability and priority
# ---------------------------------------------------------------------------------------


def test_every_category_has_a_success_prior_between_0_and_1() -> None:
    assert set(SUCCESS_PRIOR) == set(CATEGORIES)
    assert all(Decimal(0) <= prior <= Decimal(1) for prior in SUCCESS_PRIOR.values())


def test_bundling_appeal_prior_sits_inside_the_seeds_50_to_70_percent() -> None:
    assert Decimal("0.50") <= SUCCESS_PRIOR[BUNDLING_APPEALABLE] <= Decimal("0.70")


def test_success_probability_is_the_prior_until_enough_outcomes_are_decided() -> None:
    assert success_probability(category=BUNDLING_APPEALABLE, wins=9, decided=9) == Decimal("0.6000")


@pytest.mark.parametrize(
    ("wins", "decided", "expected"),
    [
        pytest.param(10, 10, Decimal("0.8000"), id="all-won-at-threshold"),
        pytest.param(0, 10, Decimal("0.3000"), id="all-lost-at-threshold"),
        pytest.param(20, 100, Decimal("0.2364"), id="large-record-dominates"),
    ],
)
def test_success_probability_uses_the_team_record_once_enough_outcomes_exist(
    wins: int, decided: int, expected: Decimal
) -> None:
    assert success_probability(category=BUNDLING_APPEALABLE, wins=wins, decided=decided) == expected


@pytest.mark.parametrize(
    ("category", "wins", "decided"),
    [
        pytest.param(CODING, 11, 10, id="more-wins-than-decided"),
        pytest.param(CODING, -1, 10, id="negative"),
        pytest.param("bundling", 1, 10, id="unresolved-category"),
    ],
)
def test_success_probability_rejects_impossible_inputs(category: str, wins: int, decided: int) -> None:
    with pytest.raises(ValueError):
        success_probability(category=category, wins=wins, decided=decided)


def test_priority_rises_as_the_due_date_nears() -> None:
    scores = [
        priority_score(amount=Decimal("200.00"), probability=Decimal("0.6"), days_to_due=days)
        for days in (90, 30, 20, 10, 0)
    ]

    assert scores[0] == scores[1] == Decimal("120.00")
    assert scores[1] < scores[2] < scores[3] < scores[4] == Decimal("240.00")


@pytest.mark.parametrize(
    ("amount", "probability", "days", "expected"),
    [
        pytest.param(Decimal("100.00"), Decimal("0.5"), None, Decimal("50.00"), id="no-due-date"),
        pytest.param(Decimal("100.00"), Decimal("0.5"), 15, Decimal("75.00"), id="half-way-through-window"),
        pytest.param(Decimal("100.00"), Decimal("0.5"), -1, Decimal("0.00"), id="overdue"),
        pytest.param(Decimal("-40.00"), Decimal("0.5"), 5, Decimal("0.00"), id="reversal"),
        pytest.param(Decimal("100.00"), Decimal("0"), 0, Decimal("0.00"), id="nothing-to-win"),
    ],
)
def test_priority_score(amount: Decimal, probability: Decimal, days: int | None, expected: Decimal) -> None:
    assert priority_score(amount=amount, probability=probability, days_to_due=days) == expected


def test_priority_score_rejects_a_probability_above_1() -> None:
    with pytest.raises(ValueError):
        priority_score(amount=Decimal("10"), probability=Decimal("1.5"), days_to_due=None)


def test_overlapping_rows_the_newer_one_explains_the_denial() -> None:
    # Indicator 0 from 2020 and indicator 1 from 2022, both open: the newer row is CMS's word
    # (ncci.ptp.current_edit), so a modifier may apply; the scrubber says the same.
    older = ptp(indicator="0", effective=date(2020, 1, 1))
    newer = ptp(indicator="1", effective=date(2022, 1, 1))

    result = run(denial(), (older, newer))

    assert result.finding is not None and result.finding.edit == newer
    assert result.category == BUNDLING_MODIFIER_MAY_APPLY


def test_an_indicator_9_row_does_not_hide_the_open_edit_under_it() -> None:
    open_edit = ptp(indicator="0", effective=date(2020, 1, 1))
    void = ptp(indicator="9", effective=date(2022, 1, 1))

    result = run(denial(), (open_edit, void))

    assert result.finding is not None and result.finding.edit == open_edit
    assert result.category == BUNDLING_NOT_APPEALABLE
