"""Appeal levels and their filing deadlines, by payer kind: one pure table and one function.

Pure (no Django), so the rule is tested on dates alone. This slice keeps the table here as
data rather than as admin-editable rows: seeding rows would go through the shipped-defaults
mechanism in ``denials.services.defaults``, which a later change can extend. The table below
is the single place the deadlines live either way.

**Medicare Part A/B** (42 CFR part 405 subpart I):

- Redetermination by the MAC: within 120 days of *receipt* of the initial determination
  (42 CFR 405.942(a)); the notice is presumed received 5 days after its date
  (405.942(a)(1)), so the deadline is the remittance date + 5 + 120 days. 405.944 says what
  the request must contain.
- Reconsideration by the QIC: within 180 days of receipt of the redetermination (405.962).
- ALJ hearing: within 60 days of receipt of the reconsideration (405.1014); amount in
  controversy at least $190 (2025).
- Medicare Appeals Council review: within 60 days of receipt of the ALJ decision (405.1102).
- Federal district court: within 60 days of receipt of the Council's decision (405.1136);
  amount in controversy at least $1,900 (2025).

Every Medicare level counts from *receipt*, and the regulations presume receipt 5 days after
the date of the notice at each level, so the same 5 days are added at every level. The
reading rejected: counting 180/60 days from the date printed on the notice, which would
make the deadline 5 days earlier than the regulation gives and is not what 405.962 says.

- Clerical-error reopening (405.980(b)(1)): within one year of the date of the initial
  determination, no receipt presumption. A separate route a coder may choose instead of a
  redetermination (a missing modifier), not a level above or below it.

**Medicare Advantage, Medicaid, commercial and other payers**: first level, second level and
external review, each with the payer's own window (``Payer.appeal_window_days``, counted from
the decision being appealed, the remittance date for the first level), defaulting to 180
days, the ERISA minimum for group health plans (29 CFR 2560.503-1(h)(3)(i)) when the payer
has none. Medicare Advantage plans and state Medicaid programs publish their own windows;
the payer's window is where a team records them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from appeals import vocabulary as v

#: The ERISA minimum for a group health plan's appeal window, used when a payer has none.
DEFAULT_WINDOW_DAYS = 180
#: Medicare presumes a notice received this many days after its date (42 CFR 405.942(a)(1)).
MEDICARE_RECEIPT_DAYS = 5


@dataclass(frozen=True)
class LevelRule:
    """One level of appeal: how long there is to file it, and what it needs."""

    level: str
    #: Days to file, or None for "the payer's own window".
    days: int | None
    #: Days after the notice's date it is presumed received (Medicare: 5).
    receipt_days: int = 0
    #: The least amount in controversy the level hears (Medicare ALJ and federal court).
    minimum_amount: Decimal | None = None
    minimum_amount_year: int | None = None
    #: Counted in whole years instead of days (the clerical-error reopening).
    years: int = 0
    source: str = ""


MEDICARE_LEVELS: tuple[LevelRule, ...] = (
    LevelRule(v.LEVEL_REDETERMINATION, 120, MEDICARE_RECEIPT_DAYS, source="42 CFR 405.942"),
    LevelRule(v.LEVEL_RECONSIDERATION, 180, MEDICARE_RECEIPT_DAYS, source="42 CFR 405.962"),
    LevelRule(v.LEVEL_ALJ_HEARING, 60, MEDICARE_RECEIPT_DAYS, Decimal("190"), 2025, source="42 CFR 405.1014, 405.1006"),
    LevelRule(v.LEVEL_APPEALS_COUNCIL, 60, MEDICARE_RECEIPT_DAYS, source="42 CFR 405.1102"),
    LevelRule(
        v.LEVEL_FEDERAL_COURT, 60, MEDICARE_RECEIPT_DAYS, Decimal("1900"), 2025, source="42 CFR 405.1136, 405.1006"
    ),
)
MEDICARE_REOPENING = LevelRule(v.LEVEL_REOPENING, None, years=1, source="42 CFR 405.980(b)(1)")

PAYER_LEVELS: tuple[LevelRule, ...] = (
    LevelRule(v.LEVEL_FIRST, None, source="Payer's appeal window; ERISA minimum 180 days"),
    LevelRule(v.LEVEL_SECOND, None, source="Payer's appeal window; ERISA minimum 180 days"),
    LevelRule(v.LEVEL_EXTERNAL_REVIEW, None, source="Payer's appeal window; ERISA minimum 180 days"),
)

#: The ladder of levels for each payer kind, lowest first.
LEVELS_BY_PAYER_KIND: dict[str, tuple[LevelRule, ...]] = {
    v.PAYER_MEDICARE: MEDICARE_LEVELS,
    v.PAYER_MEDICARE_ADVANTAGE: PAYER_LEVELS,
    v.PAYER_MEDICAID: PAYER_LEVELS,
    v.PAYER_COMMERCIAL: PAYER_LEVELS,
    v.PAYER_OTHER: PAYER_LEVELS,
}

#: Routes a payer kind offers beside its ladder.
OTHER_ROUTES_BY_PAYER_KIND: dict[str, tuple[LevelRule, ...]] = {v.PAYER_MEDICARE: (MEDICARE_REOPENING,)}


class UnknownLevel(ValueError):
    """A level (or payer kind) the table does not have: named in the message."""


def _ladder(payer_kind: str) -> tuple[LevelRule, ...]:
    if payer_kind not in LEVELS_BY_PAYER_KIND:
        known = ", ".join(LEVELS_BY_PAYER_KIND)
        raise UnknownLevel(f"Unknown payer kind {payer_kind!r}; expected one of {known}.")
    return LEVELS_BY_PAYER_KIND[payer_kind]


def levels_for(*, payer_kind: str) -> tuple[str, ...]:
    """Every level a payer kind's appeal may be at: its ladder, then its other routes."""
    routes = OTHER_ROUTES_BY_PAYER_KIND.get(payer_kind, ())
    return tuple(rule.level for rule in (*_ladder(payer_kind), *routes))


def first_level(*, payer_kind: str) -> str:
    """Where a new appeal starts: the lowest rung of the payer kind's ladder."""
    return _ladder(payer_kind)[0].level


def starting_levels(*, payer_kind: str) -> tuple[str, ...]:
    """Where a new appeal may start: the first level, or a route beside the ladder (a
    Medicare clerical-error reopening instead of a redetermination). Higher levels appeal a
    decision, so they start from a decided appeal, never from a denial."""
    routes = OTHER_ROUTES_BY_PAYER_KIND.get(payer_kind, ())
    return (first_level(payer_kind=payer_kind), *(rule.level for rule in routes))


def next_level(*, payer_kind: str, level: str) -> str | None:
    """The level above ``level`` (None at the top, or for a route outside the ladder: a
    refused reopening is followed by a redetermination, which a coder chooses)."""
    names = [rule.level for rule in _ladder(payer_kind)]
    if level not in names:
        level_rule(payer_kind=payer_kind, level=level)  # raises for an unknown level
        return None
    index = names.index(level)
    return names[index + 1] if index + 1 < len(names) else None


def level_rule(*, payer_kind: str, level: str) -> LevelRule:
    """The rule for one level of one payer kind; ``UnknownLevel`` names what is wrong."""
    for rule in (*_ladder(payer_kind), *OTHER_ROUTES_BY_PAYER_KIND.get(payer_kind, ())):
        if rule.level == level:
            return rule
    raise UnknownLevel(
        f"Level {level!r} is not a level for a {payer_kind} payer; expected one of "
        f"{', '.join(levels_for(payer_kind=payer_kind))}."
    )


def _add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February becomes 28 February (the earlier
    day, so a deadline is never stretched past the year the rule gives)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def appeal_due_date(*, payer_kind: str, level: str, decision_date: dt.date, payer_window_days: int | None) -> dt.date:
    """The last day to file an appeal at ``level`` against a decision dated ``decision_date``.

    ``decision_date`` is the date of the notice being appealed: the remittance date for the
    first level (and a reopening), the date of the previous level's decision above that.
    ``payer_window_days`` is the payer's own window (None or 0: the 180-day ERISA minimum);
    Medicare's levels ignore it, since the regulation, not the payer, sets them.

    Medicare: date + 5 days (presumed receipt) + the level's days. Reopening: one year from
    the initial determination's date. Every other payer kind: date + the payer's window.
    """
    rule = level_rule(payer_kind=payer_kind, level=level)
    if rule.years:
        return _add_years(decision_date, rule.years)
    if rule.days is None:
        if payer_window_days is not None and payer_window_days < 0:
            raise ValueError(f"payer_window_days is {payer_window_days}; a window cannot be negative.")
        days = payer_window_days or DEFAULT_WINDOW_DAYS
    else:
        days = rule.days
    return decision_date + dt.timedelta(days=rule.receipt_days + days)


def amount_in_controversy_refusal(*, payer_kind: str, level: str, amount: Decimal) -> str:
    """Why a level will not hear an amount this small ("" when it will): Medicare's ALJ and
    federal court levels need a minimum amount in controversy (42 CFR 405.1006)."""
    rule = level_rule(payer_kind=payer_kind, level=level)
    if rule.minimum_amount is None or amount >= rule.minimum_amount:
        return ""
    return (
        f"{v.label(v.LEVELS, level)} needs at least ${rule.minimum_amount:,} in controversy "
        f"({rule.minimum_amount_year}); this appeal has ${amount:,}."
    )
