"""The PTP rules of ``ncci.ptp``: in-force dates, overlapping rows, bypass modifiers (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ncci import ptp
from ncci.ptp import DEFAULT_MODIFIER_GROUPS, ModifierGroups, PtpEditFact

DOS = date(2026, 9, 14)


def row(
    indicator: str = "1",
    effective: date = date(2020, 1, 1),
    deletion: date | None = None,
    *,
    column1: str = "17000",
    column2: str = "11102",
    setting: str = "practitioner",
    edit_id: int | None = None,
) -> PtpEditFact:
    return PtpEditFact(
        column1=column1,
        column2=column2,
        effective_date=effective,
        deletion_date=deletion,
        modifier_indicator=indicator,
        setting=setting,
        edit_id=edit_id,
    )


# ---------------------------------------------------------------------------------------
# One row by its own dates
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "deletion", "on", "indicator", "expected"),
    [
        pytest.param(date(2021, 1, 1), None, date(2020, 12, 31), "1", False, id="day-before-effective"),
        pytest.param(date(2021, 1, 1), None, date(2021, 1, 1), "1", True, id="on-effective-date"),
        pytest.param(date(2021, 1, 1), date(2023, 12, 31), date(2023, 12, 31), "1", True, id="on-deletion-date"),
        pytest.param(date(2021, 1, 1), date(2023, 12, 31), date(2024, 1, 1), "1", False, id="day-after-deletion"),
        pytest.param(date(2022, 1, 1), date(2022, 1, 1), date(2022, 1, 1), "0", False, id="deleted-on-effective"),
        pytest.param(date(2021, 1, 1), None, DOS, "9", False, id="indicator-9-without-deletion"),
        pytest.param(date(2021, 1, 1), None, DOS, " 9 ", False, id="indicator-9-with-spaces"),
    ],
)
def test_edit_in_force_by_its_own_dates(effective, deletion, on, indicator, expected):
    assert ptp.edit_in_force(effective, deletion, on, modifier_indicator=indicator) is expected
    assert ptp.row_applies(row(indicator, effective, deletion), on) is expected


def test_never_applied_means_indicator_9_or_deleted_on_its_effective_date():
    assert ptp.never_applied(row("9"))
    assert ptp.never_applied(row("1", date(2022, 1, 1), date(2022, 1, 1)))
    assert not ptp.never_applied(row("0", date(2022, 1, 1), date(2022, 3, 31)))
    assert not ptp.never_applied(row("1"))


# ---------------------------------------------------------------------------------------
# Overlapping rows of one pair
# ---------------------------------------------------------------------------------------


def test_overlapping_open_rows_the_latest_effective_date_wins():
    older = row("0", date(2020, 1, 1))
    newer = row("1", date(2022, 1, 1))

    assert ptp.edit_for_date([older, newer], date(2021, 12, 31)) == (older, True)
    assert ptp.edit_for_date([older, newer], date(2022, 1, 1)) == (newer, True)
    assert ptp.edit_for_date([newer, older], DOS) == (newer, True)


def test_a_newer_row_deleted_since_still_ended_the_older_one():
    older = row("0", date(2019, 1, 1))
    newer = row("1", date(2021, 1, 1), date(2021, 12, 31))

    assert ptp.edit_for_date([older, newer], date(2021, 12, 31)) == (newer, True)
    # Not in force, and the newer row is the one that explains why (deleted on 2021-12-31).
    assert ptp.edit_for_date([older, newer], date(2022, 1, 1)) == (newer, False)


def test_a_row_that_never_applied_supersedes_nothing():
    open_row = row("1", date(2020, 1, 1))
    void = row("9", date(2022, 1, 1))
    retroactive = row("0", date(2023, 1, 1), date(2023, 1, 1))

    assert ptp.edit_for_date([open_row, void, retroactive], DOS) == (open_row, True)
    assert ptp.current_edit([open_row, void, retroactive], DOS) == open_row


def test_an_edit_that_never_applied_is_reported_not_in_force():
    void = row("9", date(2020, 1, 1))

    assert ptp.edit_for_date([void], DOS) == (void, False)
    assert ptp.current_edit([void], DOS) is None


def test_rows_effective_after_the_date_do_not_exist_yet():
    assert ptp.edit_for_date([row(effective=DOS + timedelta(days=1))], DOS) == (None, False)
    assert ptp.edit_for_date([], DOS) == (None, False)


def test_reinstated_edit_after_a_deletion_is_in_force_again():
    first = row("1", date(2015, 1, 1), date(2018, 12, 31))
    again = row("1", date(2020, 1, 1))

    assert ptp.edit_for_date([first, again], date(2019, 6, 1)) == (first, False)
    assert ptp.edit_for_date([first, again], DOS) == (again, True)


def test_in_force_rows_keeps_pairs_and_settings_apart():
    practitioner = row("1", edit_id=1)
    hospital = row("0", setting="hospital", edit_id=2)
    other_pair = row("1", column2="11103", edit_id=3)
    superseded = row("0", date(2019, 1, 1), edit_id=4)

    found = ptp.in_force_rows([practitioner, hospital, other_pair, superseded], DOS)

    assert sorted(r.edit_id for r in found if r.edit_id) == [1, 2, 3]


def test_next_effective_date_skips_rows_that_never_applied():
    base = row("1", date(2020, 1, 1))
    siblings = [base, row("9", date(2021, 1, 1)), row("0", date(2023, 1, 1)), row("1", date(2022, 1, 1))]

    assert ptp.next_effective_date(base, siblings) == date(2022, 1, 1)
    assert ptp.next_effective_date(row("1", date(2023, 1, 1)), siblings) is None


def test_row_in_force_stops_the_day_a_newer_row_takes_over():
    base = row("0", date(2020, 1, 1))

    assert ptp.row_in_force(base, date(2021, 12, 31), next_effective=date(2022, 1, 1))
    assert not ptp.row_in_force(base, date(2022, 1, 1), next_effective=date(2022, 1, 1))
    assert ptp.row_in_force(base, DOS, next_effective=None)


_DAYS = st.dates(min_value=date(2018, 1, 1), max_value=date(2024, 12, 31))


@st.composite
def _pair_rows(draw: st.DrawFn) -> list[PtpEditFact]:
    effectives = draw(st.lists(_DAYS, min_size=1, max_size=6, unique=True))
    rows = []
    for effective in effectives:
        deletion = draw(st.one_of(st.none(), st.just(effective), _DAYS.filter(lambda d, e=effective: d >= e)))
        rows.append(row(draw(st.sampled_from(["0", "1", "9"])), effective, deletion))
    return rows


@settings(max_examples=300, database=None)
@given(rows=_pair_rows(), on=_DAYS)
def test_the_per_row_form_gives_the_same_answer_as_the_pair_form(rows, on):
    """What the model and the SQL filter compute row by row is ``edit_for_date``'s answer."""
    edit, in_force = ptp.edit_for_date(rows, on)
    per_row = [r for r in rows if ptp.row_in_force(r, on, next_effective=ptp.next_effective_date(r, rows))]

    assert per_row == ([edit] if in_force else [])
    assert len(per_row) <= 1


# ---------------------------------------------------------------------------------------
# Modifiers
# ---------------------------------------------------------------------------------------


def test_only_indicator_1_has_bypass_modifiers():
    assert ptp.bypass_modifiers_for("1", DEFAULT_MODIFIER_GROUPS) == DEFAULT_MODIFIER_GROUPS.bypass
    assert ptp.bypass_modifiers_for("0", DEFAULT_MODIFIER_GROUPS) == frozenset()
    assert ptp.bypass_modifiers_for("9", DEFAULT_MODIFIER_GROUPS) == frozenset()
    assert {"XS", "59", "25", "LT", "F1"} <= DEFAULT_MODIFIER_GROUPS.bypass
    assert "26" not in DEFAULT_MODIFIER_GROUPS.bypass


def test_modifier_groups_come_from_the_table_rows():
    groups = ModifierGroups.from_rows([("lt", "anatomic"), ("XS", "other"), ("25", "global-surgery"), ("26", "none")])

    assert groups.anatomic == {"LT"} and groups.other == {"XS"} and groups.global_surgery == {"25"}
    assert groups.bypass == {"LT", "XS", "25"}
    assert [groups.group_of(m) for m in ("LT", "xs", "25", "26")] == ["anatomic", "other", "global-surgery", "none"]
    assert not ModifierGroups() and groups


def test_a_bypass_modifier_on_the_column_2_line_is_read():
    reading = ptp.bypass_reading(column2_modifiers=["xs"], column1_modifiers=[])
    assert reading == ptp.BypassReading(present="XS")


def test_the_same_anatomic_modifier_on_both_lines_bypasses_nothing():
    assert ptp.bypass_reading(column2_modifiers=["RT"], column1_modifiers=["RT"]) == ptp.BypassReading()
    assert ptp.bypass_reading(column2_modifiers=["LT"], column1_modifiers=["RT"]).present == "LT"


def test_a_distinct_service_modifier_on_column_1_is_misplaced_an_anatomic_one_is_not():
    assert ptp.bypass_reading(column2_modifiers=[], column1_modifiers=["59"]).misplaced == "59"
    assert ptp.bypass_reading(column2_modifiers=[], column1_modifiers=["RT"]) == ptp.BypassReading()


def test_anatomic_is_what_the_groups_say():
    lt_as_other = ModifierGroups(other=frozenset({"LT"}))
    assert ptp.bypass_reading(column2_modifiers=["LT"], column1_modifiers=["LT"], groups=lt_as_other).present == "LT"


def test_a_line_bypasses_only_an_indicator_1_edit():
    kwargs = {"column2_modifiers": ["XS"], "column1_modifiers": []}
    assert ptp.line_bypasses(indicator="1", **kwargs)
    assert not ptp.line_bypasses(indicator="0", **kwargs)
    assert not ptp.line_bypasses(indicator="9", **kwargs)
    assert not ptp.line_bypasses(indicator="1", column2_modifiers=["26"], column1_modifiers=[])


def test_the_fact_is_a_plain_value():
    fact = row("1", edit_id=7)
    assert replace(fact, edit_id=8) != fact
    assert ptp.pair_key(replace(fact, column1=" 17000 ", setting="Practitioner")) == ("practitioner", "17000", "11102")
