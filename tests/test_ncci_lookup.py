"""Lookups for a claim's lines: PTP edits in force between two lines, bypass modifiers, MUEs."""

from __future__ import annotations

import datetime as dt

import pytest

from ncci import scrubber, selectors
from ncci.models import Modifier, Mue, PtpEdit
from ncci.ptp import DEFAULT_MODIFIER_GROUPS, edit_in_force
from ncci.scrubber import ClaimLine

pytestmark = pytest.mark.django_db

DOS = dt.date(2026, 3, 2)


def ptp(column1, column2, indicator="1", effective=dt.date(2020, 1, 1), deletion=None, setting="practitioner"):
    return PtpEdit.objects.create(
        column1=column1,
        column2=column2,
        modifier_indicator=indicator,
        effective_date=effective,
        deletion_date=deletion,
        setting=setting,
        rationale="Misuse of Column Two code with Column One code",
        quarter="2026Q1",
    )


def mue(code, value, indicator="2", quarter="2026Q1", effective=dt.date(2026, 1, 1), setting="practitioner"):
    return Mue.objects.create(
        code=code,
        mue_value=value,
        adjudication_indicator=indicator,
        quarter=quarter,
        effective_date=effective,
        setting=setting,
        adjudication_text="Date of Service Edit: Policy",
    )


@pytest.fixture
def demo_edits(db):
    ptp("17000", "11102")
    ptp("64483", "77003", "0")
    ptp("29881", "29875", deletion=dt.date(2025, 12, 31))
    ptp("11042", "11045", "9", deletion=dt.date(2020, 1, 1))
    ptp("20610", "99213")
    ptp("17000", "11102", "0", setting="hospital")


def test_every_edit_in_force_between_two_lines_with_its_column_2_line(demo_edits):
    lines = [
        ClaimLine("11102", ("RT",)),
        ClaimLine("17000"),
        ClaimLine("64483"),
        ClaimLine("77003"),
        ClaimLine("99213"),
    ]
    flags = selectors.ptp_edits_for_lines(lines=lines, date_of_service=DOS)
    found = {(f.column1, f.column2): f for f in flags}
    assert set(found) == {("17000", "11102"), ("64483", "77003")}
    assert found[("17000", "11102")].column2_index == 0
    assert found[("17000", "11102")].column1_index == 1
    assert found[("64483", "77003")].column2_index == 3


def test_an_edit_applies_on_its_deletion_date_and_not_the_day_after(demo_edits):
    lines = [ClaimLine("29881"), ClaimLine("29875")]
    on_last_day = selectors.ptp_edits_for_lines(lines=lines, date_of_service=dt.date(2025, 12, 31))
    assert [(f.column1, f.column2, f.in_force) for f in on_last_day] == [("29881", "29875", True)]
    assert selectors.ptp_edits_for_lines(lines=lines, date_of_service=dt.date(2026, 1, 1)) == []


def test_no_edit_applies_before_its_effective_date(demo_edits):
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    assert selectors.ptp_edits_for_lines(lines=lines, date_of_service=dt.date(2019, 12, 31)) == []
    assert len(selectors.ptp_edits_for_lines(lines=lines, date_of_service=dt.date(2020, 1, 1))) == 1


def test_indicator_9_edits_are_never_returned(demo_edits):
    lines = [ClaimLine("11042"), ClaimLine("11045")]
    assert selectors.ptp_edits_for_lines(lines=lines, date_of_service=DOS) == []


def test_a_bypass_modifier_counts_only_where_the_indicator_allows_it(demo_edits, code_lists):
    lines = [ClaimLine("17000"), ClaimLine("11102", ("XS",)), ClaimLine("64483"), ClaimLine("77003", ("59",))]
    found = {f.column2: f for f in selectors.ptp_edits_for_lines(lines=lines, date_of_service=DOS)}
    assert found["11102"].bypass_modifier == "XS" and found["11102"].bypass_allowed and found["11102"].bypassed
    assert found["77003"].bypass_modifier == "59" and not found["77003"].bypass_allowed
    assert not found["77003"].bypassed
    assert found["77003"].action == scrubber.REMOVE_COLUMN2


def test_an_absent_bypass_modifier_is_reported_as_missing(demo_edits):
    lines = [ClaimLine("20610", ("RT",)), ClaimLine("99213")]
    [flag] = selectors.ptp_edits_for_lines(lines=lines, date_of_service=DOS)
    assert flag.bypass_modifier == ""
    assert flag.action == scrubber.ADD_MODIFIER
    assert flag.suggested_modifier == "25"


def test_bypass_modifiers_come_from_the_admin_kept_table(demo_edits, code_lists):
    Modifier.objects.filter(code="XS").update(bypass_group=Modifier.BypassGroup.NONE)
    lines = [ClaimLine("17000"), ClaimLine("11102", ("XS",))]
    [flag] = selectors.ptp_edits_for_lines(lines=lines, date_of_service=DOS)
    assert flag.bypass_modifier == ""


def test_the_setting_selects_the_table(demo_edits):
    lines = [ClaimLine("17000"), ClaimLine("11102")]
    [flag] = selectors.ptp_edits_for_lines(lines=lines, date_of_service=DOS, setting="hospital")
    assert flag.modifier_indicator == "0"


def test_ptp_edit_for_pair_returns_the_edit_in_force_or_none(demo_edits):
    found = selectors.ptp_edit_for_pair(column1="17000", column2="11102", date_of_service=DOS)
    assert found is not None and found.setting == "practitioner"
    assert selectors.ptp_edit_for_pair(column1="11102", column2="17000", date_of_service=DOS) is None
    assert selectors.ptp_edit_for_pair(column1="29881", column2="29875", date_of_service=dt.date(2026, 1, 1)) is None
    assert selectors.ptp_edit_for_pair(column1="29881", column2="29875", date_of_service=dt.date(2025, 12, 31))


def test_every_mue_the_units_exceed_is_returned(db):
    mue("17003", 13)
    mue("11045", 3, indicator="1")
    mue("99213", 1)
    lines = [ClaimLine("17003", units=10), ClaimLine("17003", units=4), ClaimLine("11045", units=4), ClaimLine("99213")]
    flags = selectors.mue_flags_for_lines(lines=lines, date_of_service=DOS)
    assert [(f.code, f.units, f.mue_value, f.per) for f in flags] == [
        ("17003", 14, 13, "date of service"),
        ("11045", 4, 3, "line"),
    ]


def test_the_mue_in_force_is_the_latest_quarter_on_or_before_the_date(db):
    mue("17003", 13, quarter="2026Q1", effective=dt.date(2026, 1, 1))
    mue("17003", 10, quarter="2026Q2", effective=dt.date(2026, 4, 1))
    assert selectors.mues_for_codes(codes=["17003"], date_of_service=dt.date(2026, 3, 31))["17003"].mue_value == 13
    assert selectors.mues_for_codes(codes=["17003"], date_of_service=dt.date(2026, 4, 1))["17003"].mue_value == 10
    assert selectors.mues_for_codes(codes=["17003"], date_of_service=dt.date(2025, 12, 31)) == {}


def test_a_claim_lookup_is_one_query_for_ptp_and_one_for_mue(demo_edits, django_assert_num_queries):
    mue("17000", 1)
    lines = [
        ClaimLine(code)
        for code in ("17000", "11102", "64483", "77003", "99213", "20610", "29881", "29875", "93306", "93308")
    ]
    with django_assert_num_queries(2):
        flags = selectors.ptp_edits_for_lines(
            lines=lines,
            date_of_service=DOS,
            groups=DEFAULT_MODIFIER_GROUPS,
        )
        mues = selectors.mues_for_codes(codes=[ln.code for ln in lines], date_of_service=DOS)
    assert len(flags) == 3 and set(mues) == {"17000"}
    with django_assert_num_queries(3):  # + the bypass modifier table
        result = selectors.scrub_claim(lines=lines, date_of_service=DOS)
    assert result.problems == 3


@pytest.mark.parametrize(
    ("on", "effective", "deletion", "indicator"),
    [
        (dt.date(2025, 12, 31), dt.date(2020, 1, 1), dt.date(2025, 12, 31), "1"),
        (dt.date(2026, 1, 1), dt.date(2020, 1, 1), dt.date(2025, 12, 31), "1"),
        (dt.date(2019, 12, 31), dt.date(2020, 1, 1), None, "1"),
        (dt.date(2020, 1, 1), dt.date(2020, 1, 1), None, "0"),
        (dt.date(2020, 1, 1), dt.date(2020, 1, 1), dt.date(2020, 1, 1), "1"),
        (dt.date(2024, 1, 1), dt.date(2020, 1, 1), None, "9"),
    ],
)
def test_the_sql_in_force_filter_agrees_with_edit_in_force(db, on, effective, deletion, indicator):
    edit = ptp("17000", "11102", indicator, effective=effective, deletion=deletion)
    in_sql = PtpEdit.objects.filter(selectors.ptp_in_force_q(on), pk=edit.pk).exists()
    assert in_sql == edit_in_force(effective, deletion, on, modifier_indicator=indicator)
