"""The scrubber's pure rules: PTP pairs, bypass modifiers, in-force dates, MUEs (no database)."""

from __future__ import annotations

from datetime import date

from ncci import scrubber
from ncci.ptp import ModifierGroups
from ncci.scrubber import ClaimLine, MueFact, PtpEditFact

DOS = date(2026, 3, 2)


def edit(column1: str, column2: str, indicator: str = "1", effective=date(2020, 1, 1), deletion=None) -> PtpEditFact:
    return PtpEditFact(
        column1=column1,
        column2=column2,
        effective_date=effective,
        deletion_date=deletion,
        modifier_indicator=indicator,
        rationale="Misuse of Column Two code with Column One code",
        quarter="2026Q1",
    )


def flags(lines, edits, on=DOS):
    return scrubber.ptp_flags(lines, edits, date_of_service=on)


def test_indicator_0_edit_says_remove_column2_even_with_a_bypass_modifier():
    lines = [ClaimLine("64483", ("RT",)), ClaimLine("77003", ("XU",))]
    [flag] = flags(lines, [edit("64483", "77003", "0")])
    assert flag.action == scrubber.REMOVE_COLUMN2
    assert flag.severity == scrubber.ERROR
    assert flag.column2_index == 1 and flag.column1_index == 0
    assert not flag.bypass_allowed
    assert "Remove 77003 from line 2" in flag.message
    assert "XU" in flag.message


def test_indicator_1_without_modifier_asks_for_one_and_suggests_xs_first_for_a_procedure():
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    [flag] = flags(lines, [edit("17000", "11102")])
    assert flag.action == scrubber.ADD_MODIFIER
    assert flag.severity == scrubber.WARNING
    assert flag.bypass_allowed and not flag.bypass_modifier
    assert flag.suggested_modifier == "XS"
    assert [s.modifier for s in flag.suggestions][-1] == "59"
    assert "only if the documentation shows a distinct service" in flag.message


def test_e_and_m_in_column_2_gets_only_modifier_25_suggested():
    lines = [ClaimLine("20610", ("RT",)), ClaimLine("99213")]
    [flag] = flags(lines, [edit("20610", "99213")])
    assert [s.modifier for s in flag.suggestions] == ["25"]


def test_procedure_codes_are_told_from_words():
    assert scrubber.looks_like_procedure_code("99213")
    assert scrubber.looks_like_procedure_code("0591T")
    assert scrubber.looks_like_procedure_code("G0283")
    assert not scrubber.looks_like_procedure_code("JOINT")
    assert not scrubber.looks_like_procedure_code("1700")


def test_diagnostic_column_2_gets_xe_suggested_first():
    lines = [ClaimLine("93306"), ClaimLine("93308")]
    [flag] = flags(lines, [edit("93306", "93308")])
    assert flag.suggested_modifier == "XE"


def test_indicator_1_with_xs_on_the_column_2_line_is_bypassed():
    lines = [ClaimLine("17000"), ClaimLine("11102", ("XS",))]
    [flag] = flags(lines, [edit("17000", "11102")])
    assert flag.action == scrubber.BYPASSED
    assert flag.bypass_modifier == "XS"
    assert flag.bypassed
    assert flag.severity == scrubber.OK


def test_the_same_side_modifier_on_both_lines_does_not_bypass():
    lines = [ClaimLine("29881", ("RT",)), ClaimLine("29877", ("RT",))]
    [flag] = flags(lines, [edit("29881", "29877")])
    assert flag.action == scrubber.ADD_MODIFIER
    assert flag.bypass_modifier == ""
    assert flag.suggested_modifier == "LT"


def test_opposite_side_modifiers_bypass_an_indicator_1_edit():
    lines = [ClaimLine("29881", ("RT",)), ClaimLine("29877", ("LT",))]
    [flag] = flags(lines, [edit("29881", "29877")])
    assert flag.action == scrubber.BYPASSED
    assert flag.bypass_modifier == "LT"


def test_a_distinct_service_modifier_on_the_column_1_line_is_misplaced():
    lines = [ClaimLine("11042", ("59",)), ClaimLine("97597")]
    [flag] = flags(lines, [edit("11042", "97597")])
    assert flag.action == scrubber.MOVE_MODIFIER
    assert flag.misplaced_modifier == "59"
    assert "move it to line 2" in flag.message


def test_bypass_modifiers_are_the_ones_given():
    lines = [ClaimLine("17000"), ClaimLine("11102", ("XS",))]
    [flag] = scrubber.ptp_flags(
        lines, [edit("17000", "11102")], date_of_service=DOS, modifier_groups=ModifierGroups(other=frozenset({"59"}))
    )
    assert flag.action == scrubber.ADD_MODIFIER


def test_an_edit_is_in_force_on_its_deletion_date():
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    [flag] = flags(lines, [edit("17000", "11102", deletion=date(2025, 12, 31))], on=date(2025, 12, 31))
    assert flag.in_force
    assert flag.action == scrubber.ADD_MODIFIER


def test_an_edit_deleted_before_the_date_of_service_is_no_problem():
    lines = [ClaimLine("29881"), ClaimLine("29875")]
    [flag] = flags(lines, [edit("29881", "29875", deletion=date(2025, 12, 31))], on=date(2026, 1, 1))
    assert not flag.in_force
    assert flag.action == scrubber.NOT_IN_FORCE
    assert flag.severity == scrubber.OK
    assert "deleted on 2025-12-31" in flag.message
    result = scrubber.scrub(
        lines, date_of_service=date(2026, 1, 1), edits=[edit("29881", "29875", deletion=date(2025, 12, 31))], mues={}
    )
    assert result.clean


def test_indicator_9_is_never_in_force():
    lines = [ClaimLine("11042"), ClaimLine("11045")]
    [flag] = flags(lines, [edit("11042", "11045", "9", deletion=date(2020, 1, 1))])
    assert flag.action == scrubber.NOT_IN_FORCE
    assert "indicator 9" in flag.message


def test_an_edit_effective_after_the_date_of_service_does_not_exist_yet():
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    assert flags(lines, [edit("17000", "11102", effective=date(2026, 4, 1))], on=date(2026, 3, 31)) == []


def test_lines_on_different_dates_do_not_pair():
    lines = [ClaimLine("17000", date_of_service=date(2026, 3, 2)), ClaimLine("11102", date_of_service=date(2026, 3, 3))]
    assert flags(lines, [edit("17000", "11102")]) == []


def test_the_edit_in_force_wins_over_an_older_deleted_one_for_the_same_pair():
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    old = edit("17000", "11102", "0", effective=date(2015, 1, 1), deletion=date(2018, 12, 31))
    current = edit("17000", "11102", "1", effective=date(2019, 1, 1))
    [flag] = flags(lines, [old, current])
    assert flag.edit is current


def test_an_edit_only_applies_in_its_own_orientation():
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    [flag] = flags(lines, [edit("17000", "11102")])
    assert (flag.column1, flag.column2) == ("17000", "11102")
    assert flags([ClaimLine("11102"), ClaimLine("99999")], [edit("17000", "11102")]) == []


def test_one_flag_per_column_1_code_and_column_2_line():
    lines = [ClaimLine("17000"), ClaimLine("17000"), ClaimLine("11102")]
    assert len(flags(lines, [edit("17000", "11102")])) == 1


def mue(code: str, value: int, indicator: str) -> MueFact:
    return MueFact(
        code=code,
        mue_value=value,
        adjudication_indicator=indicator,
        adjudication_text={
            "1": "Line Edit",
            "2": "Date of Service Edit: Policy",
            "3": "Date of Service Edit: Clinical",
        }[indicator],
    )


def test_mue_line_edit_compares_each_line_on_its_own():
    lines = [ClaimLine("11045", units=3), ClaimLine("11045", units=3)]
    assert scrubber.mue_flags(lines, {"11045": mue("11045", 3, "1")}, date_of_service=DOS) == []
    [flag] = scrubber.mue_flags([ClaimLine("11045", units=4)], {"11045": mue("11045", 3, "1")}, date_of_service=DOS)
    assert flag.per == "line" and flag.units == 4 and flag.excess == 1


def test_mue_date_of_service_edit_adds_the_units_of_every_line():
    lines = [ClaimLine("17003", units=8), ClaimLine("99213"), ClaimLine("17003", units=6)]
    [flag] = scrubber.mue_flags(lines, {"17003": mue("17003", 13, "2")}, date_of_service=DOS)
    assert flag.units == 14
    assert flag.line_indexes == (0, 2)
    assert flag.per == "date of service"
    assert "not payable above it even on appeal" in flag.message


def test_units_at_the_mue_are_not_flagged():
    assert (
        scrubber.mue_flags([ClaimLine("17003", units=13)], {"17003": mue("17003", 13, "3")}, date_of_service=DOS) == []
    )


def test_a_clean_claim_has_no_problems_and_notes_codes_without_mue():
    result = scrubber.scrub(
        [ClaimLine("99213"), ClaimLine("93000")], date_of_service=DOS, edits=[], mues={"99213": mue("99213", 1, "2")}
    )
    assert result.clean
    assert result.notes == ("No MUE on file for 93000 (not every code has a published MUE).",)


def test_scrub_counts_problems_but_not_bypassed_pairs():
    lines = [ClaimLine("17000"), ClaimLine("11102", ("XS",)), ClaimLine("64483"), ClaimLine("77003")]
    result = scrubber.scrub(
        lines,
        date_of_service=DOS,
        edits=[edit("17000", "11102"), edit("64483", "77003", "0")],
        mues={"77003": mue("77003", 1, "3")},
    )
    assert result.problems == 1
    assert [f.action for f in result.ptp] == [scrubber.REMOVE_COLUMN2, scrubber.BYPASSED]


def test_indicator_words_match_the_ui_wording():
    assert scrubber.indicator_words("0") == "never separately payable"
    assert scrubber.indicator_words("1") == "payable with a modifier when documented"
    assert scrubber.indicator_words("9") == "not applicable"


def test_the_scrubber_imports_nothing_from_django():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(scrubber.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.startswith("django") for name in imported)


def test_overlapping_open_rows_the_newer_one_speaks():
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    older = edit("17000", "11102", "0", effective=date(2020, 1, 1))
    newer = edit("17000", "11102", "1", effective=date(2022, 1, 1))
    [flag] = flags(lines, [older, newer])
    assert flag.edit is newer
    assert flag.action == scrubber.ADD_MODIFIER
    [before] = flags(lines, [older, newer], on=date(2021, 12, 31))
    assert before.edit is older and before.action == scrubber.REMOVE_COLUMN2


def test_anatomic_modifiers_are_the_ones_given():
    lines = [ClaimLine("29881", ("RT",)), ClaimLine("29877", ("RT",))]
    rt_as_other = ModifierGroups(other=frozenset({"RT"}))
    [flag] = scrubber.ptp_flags(lines, [edit("29881", "29877")], date_of_service=DOS, modifier_groups=rt_as_other)
    assert flag.action == scrubber.BYPASSED
