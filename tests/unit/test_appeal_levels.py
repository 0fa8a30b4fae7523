"""Appeal levels and deadlines by payer kind (``appeals.levels``): pure, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from appeals import levels
from appeals import vocabulary as v

D = dt.date


# --- Medicare Part A/B -------------------------------------------------------------------------
def test_medicare_redetermination_is_due_120_days_after_presumed_receipt_5_days_after_the_remittance():
    due = levels.appeal_due_date(
        payer_kind="medicare", level=v.LEVEL_REDETERMINATION, decision_date=D(2025, 1, 10), payer_window_days=30
    )
    assert due == D(2025, 1, 10) + dt.timedelta(days=125) == D(2025, 5, 15)


def test_medicare_ignores_the_payers_own_window():
    args = {"payer_kind": "medicare", "level": v.LEVEL_REDETERMINATION, "decision_date": D(2025, 1, 10)}
    assert levels.appeal_due_date(**args, payer_window_days=30) == levels.appeal_due_date(
        **args, payer_window_days=None
    )


def test_medicare_redetermination_deadline_crosses_a_leap_day():
    # 2024-02-29 exists: 2023-12-01 + 125 days lands on 2024-04-04, not 04-05.
    due = levels.appeal_due_date(
        payer_kind="medicare", level=v.LEVEL_REDETERMINATION, decision_date=D(2023, 12, 1), payer_window_days=None
    )
    assert due == D(2024, 4, 4)


@pytest.mark.parametrize(
    ("level", "days"),
    [
        (v.LEVEL_RECONSIDERATION, 180),
        (v.LEVEL_ALJ_HEARING, 60),
        (v.LEVEL_APPEALS_COUNCIL, 60),
        (v.LEVEL_FEDERAL_COURT, 60),
    ],
)
def test_medicare_higher_levels_count_from_presumed_receipt_of_the_previous_decision(level, days):
    decision = D(2025, 12, 31)
    due = levels.appeal_due_date(payer_kind="medicare", level=level, decision_date=decision, payer_window_days=None)
    assert due == decision + dt.timedelta(days=5 + days)


def test_medicare_reconsideration_boundary_across_the_year_end():
    due = levels.appeal_due_date(
        payer_kind="medicare", level=v.LEVEL_RECONSIDERATION, decision_date=D(2025, 7, 5), payer_window_days=None
    )
    assert due == D(2026, 1, 6)  # 5 + 180 = 185 days after 2025-07-05


def test_clerical_error_reopening_is_one_year_from_the_initial_determination():
    due = levels.appeal_due_date(
        payer_kind="medicare", level=v.LEVEL_REOPENING, decision_date=D(2025, 3, 14), payer_window_days=None
    )
    assert due == D(2026, 3, 14)


def test_reopening_from_a_leap_day_ends_on_28_february_never_later():
    due = levels.appeal_due_date(
        payer_kind="medicare", level=v.LEVEL_REOPENING, decision_date=D(2024, 2, 29), payer_window_days=None
    )
    assert due == D(2025, 2, 28)


def test_medicare_ladder_and_the_reopening_route():
    assert levels.levels_for(payer_kind="medicare") == (
        v.LEVEL_REDETERMINATION,
        v.LEVEL_RECONSIDERATION,
        v.LEVEL_ALJ_HEARING,
        v.LEVEL_APPEALS_COUNCIL,
        v.LEVEL_FEDERAL_COURT,
        v.LEVEL_REOPENING,
    )
    assert levels.first_level(payer_kind="medicare") == v.LEVEL_REDETERMINATION
    assert levels.next_level(payer_kind="medicare", level=v.LEVEL_REDETERMINATION) == v.LEVEL_RECONSIDERATION
    assert levels.next_level(payer_kind="medicare", level=v.LEVEL_FEDERAL_COURT) is None
    assert levels.next_level(payer_kind="medicare", level=v.LEVEL_REOPENING) is None


@pytest.mark.parametrize(
    ("level", "amount", "refused"),
    [
        (v.LEVEL_ALJ_HEARING, Decimal("189.99"), True),
        (v.LEVEL_ALJ_HEARING, Decimal("190.00"), False),
        (v.LEVEL_FEDERAL_COURT, Decimal("1899.99"), True),
        (v.LEVEL_FEDERAL_COURT, Decimal("1900.00"), False),
        (v.LEVEL_REDETERMINATION, Decimal("0.01"), False),
    ],
)
def test_amount_in_controversy_minimums_2025(level, amount, refused):
    reason = levels.amount_in_controversy_refusal(payer_kind="medicare", level=level, amount=amount)
    assert bool(reason) is refused
    if refused:
        assert "2025" in reason and "in controversy" in reason


# --- Commercial and every other payer kind -------------------------------------------------------
@pytest.mark.parametrize("kind", ["commercial", "medicare-advantage", "medicaid", "other"])
def test_other_payer_kinds_use_first_second_and_external_review(kind):
    assert levels.levels_for(payer_kind=kind) == (v.LEVEL_FIRST, v.LEVEL_SECOND, v.LEVEL_EXTERNAL_REVIEW)
    assert levels.first_level(payer_kind=kind) == v.LEVEL_FIRST
    assert levels.next_level(payer_kind=kind, level=v.LEVEL_SECOND) == v.LEVEL_EXTERNAL_REVIEW


@pytest.mark.parametrize("level", [v.LEVEL_FIRST, v.LEVEL_SECOND, v.LEVEL_EXTERNAL_REVIEW])
def test_commercial_levels_use_the_payers_window_from_the_decision(level):
    due = levels.appeal_due_date(
        payer_kind="commercial", level=level, decision_date=D(2025, 1, 31), payer_window_days=90
    )
    assert due == D(2025, 5, 1)  # 90 days after 31 January 2025 (not a leap year)


@pytest.mark.parametrize("window", [None, 0])
def test_a_payer_without_a_window_gets_the_180_day_erisa_minimum(window):
    due = levels.appeal_due_date(
        payer_kind="commercial", level=v.LEVEL_FIRST, decision_date=D(2025, 1, 1), payer_window_days=window
    )
    assert due == D(2025, 6, 30)


def test_a_negative_window_is_refused_with_its_value():
    with pytest.raises(ValueError, match="-5"):
        levels.appeal_due_date(
            payer_kind="commercial", level=v.LEVEL_FIRST, decision_date=D(2025, 1, 1), payer_window_days=-5
        )


# --- Bad input names what is wrong ---------------------------------------------------------------
def test_a_medicare_level_for_a_commercial_payer_is_refused_naming_both():
    with pytest.raises(levels.UnknownLevel, match=r"redetermination.*commercial"):
        levels.appeal_due_date(
            payer_kind="commercial", level=v.LEVEL_REDETERMINATION, decision_date=D(2025, 1, 1), payer_window_days=None
        )


def test_an_unknown_payer_kind_is_refused_naming_it():
    with pytest.raises(levels.UnknownLevel, match="'tricare'"):
        levels.first_level(payer_kind="tricare")


def test_every_payer_kind_has_a_ladder_and_every_level_a_label():
    assert set(levels.SHIPPED_TABLE.ladders) == set(v.PAYER_KINDS)
    for kind in v.PAYER_KINDS:
        for level in levels.levels_for(payer_kind=kind):
            assert level in v.LEVELS


def test_levels_and_vocabulary_import_nothing_from_django():
    import ast
    from pathlib import Path

    import appeals.levels
    import appeals.vocabulary

    for module in (appeals.levels, appeals.vocabulary):
        tree = ast.parse(Path(module.__file__).read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported, module.__name__
        assert not [name for name in imported if name.split(".")[0] == "django"], module.__name__
