"""Appeal levels and their filing deadlines, by payer kind: pure rules over a table of levels.

Pure (no Django), so the rule is tested on dates alone. The levels and their deadlines are
data admins edit (``appeals.models.AppealLevelRule``, under Appeals > Level rules):
``appeals.level_table.level_table()`` reads those rows into a ``LevelTable`` and every
function here takes it as ``table``. ``SHIPPED_LEVEL_RULES`` below is what a new install is
seeded with (``appeals.defaults``), each row with its source; ``table=None`` means that
shipped table (pure tests, and callers that have no database).

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from appeals import vocabulary as v

#: The ERISA minimum for a group health plan's appeal window, used when a payer has none.
DEFAULT_WINDOW_DAYS = 180
#: Medicare presumes a notice received this many days after its date (42 CFR 405.942(a)(1)).
MEDICARE_RECEIPT_DAYS = 5
#: Where an admin sets the levels up (named in the error for a payer kind without any).
ADMIN_PLACE = "Appeals \u203a Level rules"


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


@dataclass(frozen=True)
class LevelRow:
    """One row of the table, as ``AppealLevelRule`` stores it: a rule placed on a payer
    kind's ladder (``rank`` 1 and up, lowest first) or beside it (``rank`` 0, a route such
    as the Medicare clerical-error reopening)."""

    payer_kind: str
    rank: int
    rule: LevelRule


@dataclass(frozen=True, eq=False)
class LevelTable:
    """The levels of every payer kind: its ladder (lowest first) and its routes beside it."""

    ladders: Mapping[str, tuple[LevelRule, ...]] = field(default_factory=dict)
    routes: Mapping[str, tuple[LevelRule, ...]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[LevelRow]) -> LevelTable:
        """Ladders ordered by rank (rows of equal rank keep their given order), routes
        (rank 0) in their given order. A level listed twice for one payer kind is refused."""
        ladders: dict[str, list[tuple[int, LevelRule]]] = {}
        routes: dict[str, list[LevelRule]] = {}
        seen: set[tuple[str, str]] = set()
        for row in rows:
            key = (row.payer_kind, row.rule.level)
            if key in seen:
                raise ValueError(f"Level {row.rule.level!r} is listed twice for {row.payer_kind} payers.")
            seen.add(key)
            if row.rank < 0:
                raise ValueError(
                    f"Level {row.rule.level!r} of {row.payer_kind} payers has rank {row.rank}; "
                    "a rank is 0 (a route beside the ladder) or more."
                )
            if row.rank == 0:
                routes.setdefault(row.payer_kind, []).append(row.rule)
            else:
                ladders.setdefault(row.payer_kind, []).append((row.rank, row.rule))
        return cls(
            ladders={
                kind: tuple(rule for _, rule in sorted(rules, key=lambda r: r[0])) for kind, rules in ladders.items()
            },
            routes={kind: tuple(rules) for kind, rules in routes.items()},
        )


def _ladder_rows(payer_kind: str, rules: Iterable[LevelRule]) -> tuple[LevelRow, ...]:
    return tuple(LevelRow(payer_kind, rank, rule) for rank, rule in enumerate(rules, start=1))


_MEDICARE_LADDER = (
    LevelRule(v.LEVEL_REDETERMINATION, 120, MEDICARE_RECEIPT_DAYS, source="42 CFR 405.942"),
    LevelRule(v.LEVEL_RECONSIDERATION, 180, MEDICARE_RECEIPT_DAYS, source="42 CFR 405.962"),
    LevelRule(v.LEVEL_ALJ_HEARING, 60, MEDICARE_RECEIPT_DAYS, Decimal("190"), 2025, source="42 CFR 405.1014, 405.1006"),
    LevelRule(v.LEVEL_APPEALS_COUNCIL, 60, MEDICARE_RECEIPT_DAYS, source="42 CFR 405.1102"),
    LevelRule(
        v.LEVEL_FEDERAL_COURT, 60, MEDICARE_RECEIPT_DAYS, Decimal("1900"), 2025, source="42 CFR 405.1136, 405.1006"
    ),
)
_PAYER_WINDOW = "Payer's appeal window; ERISA minimum 180 days (29 CFR 2560.503-1(h)(3)(i))"
_PAYER_LADDER = (
    LevelRule(v.LEVEL_FIRST, None, source=_PAYER_WINDOW),
    LevelRule(v.LEVEL_SECOND, None, source=_PAYER_WINDOW),
    LevelRule(v.LEVEL_EXTERNAL_REVIEW, None, source=_PAYER_WINDOW),
)

#: What a new install is seeded with (``appeals.defaults``), one row per level and payer
#: kind; after that the ``AppealLevelRule`` rows are the truth and admins edit them.
SHIPPED_LEVEL_RULES: tuple[LevelRow, ...] = (
    *_ladder_rows(v.PAYER_MEDICARE, _MEDICARE_LADDER),
    LevelRow(v.PAYER_MEDICARE, 0, LevelRule(v.LEVEL_REOPENING, None, years=1, source="42 CFR 405.980(b)(1)")),
    *(
        row
        for kind in (v.PAYER_MEDICARE_ADVANTAGE, v.PAYER_MEDICAID, v.PAYER_COMMERCIAL, v.PAYER_OTHER)
        for row in _ladder_rows(kind, _PAYER_LADDER)
    ),
)
#: The shipped rows as a table: what ``table=None`` means.
SHIPPED_TABLE = LevelTable.from_rows(SHIPPED_LEVEL_RULES)


class UnknownLevel(ValueError):
    """A level (or payer kind) the table does not have: named in the message."""


class NoLevelsSetUp(UnknownLevel):
    """A known payer kind whose ladder has no rows (an admin deleted them)."""


def _table(table: LevelTable | None) -> LevelTable:
    return SHIPPED_TABLE if table is None else table


def _ladder(payer_kind: str, table: LevelTable) -> tuple[LevelRule, ...]:
    ladder = table.ladders.get(payer_kind)
    if ladder:
        return ladder
    if payer_kind not in v.PAYER_KINDS:
        known = ", ".join(v.PAYER_KINDS)
        raise UnknownLevel(f"Unknown payer kind {payer_kind!r}; expected one of {known}.")
    raise NoLevelsSetUp(
        f"No appeal levels are set up for {v.label(v.PAYER_KINDS, payer_kind)} payers; "
        f"an admin adds them under {ADMIN_PLACE}."
    )


def levels_for(*, payer_kind: str, table: LevelTable | None = None) -> tuple[str, ...]:
    """Every level a payer kind's appeal may be at: its ladder, then its other routes."""
    table = _table(table)
    routes = table.routes.get(payer_kind, ())
    return tuple(rule.level for rule in (*_ladder(payer_kind, table), *routes))


def first_level(*, payer_kind: str, table: LevelTable | None = None) -> str:
    """Where a new appeal starts: the lowest rung of the payer kind's ladder."""
    return _ladder(payer_kind, _table(table))[0].level


def starting_levels(*, payer_kind: str, table: LevelTable | None = None) -> tuple[str, ...]:
    """Where a new appeal may start: the first level, or a route beside the ladder (a
    Medicare clerical-error reopening instead of a redetermination). Higher levels appeal a
    decision, so they start from a decided appeal, never from a denial."""
    table = _table(table)
    routes = table.routes.get(payer_kind, ())
    return (first_level(payer_kind=payer_kind, table=table), *(rule.level for rule in routes))


def next_level(*, payer_kind: str, level: str, table: LevelTable | None = None) -> str | None:
    """The level above ``level`` (None at the top, or for a route outside the ladder: a
    refused reopening is followed by a redetermination, which a coder chooses)."""
    table = _table(table)
    names = [rule.level for rule in _ladder(payer_kind, table)]
    if level not in names:
        level_rule(payer_kind=payer_kind, level=level, table=table)  # raises for an unknown level
        return None
    index = names.index(level)
    return names[index + 1] if index + 1 < len(names) else None


def level_rule(*, payer_kind: str, level: str, table: LevelTable | None = None) -> LevelRule:
    """The rule for one level of one payer kind; ``UnknownLevel`` names what is wrong."""
    table = _table(table)
    for rule in (*_ladder(payer_kind, table), *table.routes.get(payer_kind, ())):
        if rule.level == level:
            return rule
    raise UnknownLevel(
        f"Level {level!r} is not a level for a {payer_kind} payer; expected one of "
        f"{', '.join(levels_for(payer_kind=payer_kind, table=table))}."
    )


def _add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February becomes 28 February (the earlier
    day, so a deadline is never stretched past the year the rule gives)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def appeal_due_date(
    *,
    payer_kind: str,
    level: str,
    decision_date: dt.date,
    payer_window_days: int | None,
    table: LevelTable | None = None,
) -> dt.date:
    """The last day to file an appeal at ``level`` against a decision dated ``decision_date``.

    ``decision_date`` is the date of the notice being appealed: the remittance date for the
    first level (and a reopening), the date of the previous level's decision above that.
    ``payer_window_days`` is the payer's own window (None or 0: the 180-day ERISA minimum);
    a level with its own days (every shipped Medicare level) ignores it, since the
    regulation, not the payer, sets them.

    The level's rule decides: whole years (reopening: one year from the initial
    determination's date); else the date + its presumed-receipt days + its days (Medicare:
    5 + 120 for a redetermination), or + the payer's window for a level without days.
    """
    rule = level_rule(payer_kind=payer_kind, level=level, table=table)
    if rule.years:
        return _add_years(decision_date, rule.years)
    if rule.days is None:
        if payer_window_days is not None and payer_window_days < 0:
            raise ValueError(f"payer_window_days is {payer_window_days}; a window cannot be negative.")
        days = payer_window_days or DEFAULT_WINDOW_DAYS
    else:
        days = rule.days
    return decision_date + dt.timedelta(days=rule.receipt_days + days)


def amount_in_controversy_refusal(
    *, payer_kind: str, level: str, amount: Decimal, table: LevelTable | None = None
) -> str:
    """Why a level will not hear an amount this small ("" when it will): Medicare's ALJ and
    federal court levels need a minimum amount in controversy (42 CFR 405.1006)."""
    rule = level_rule(payer_kind=payer_kind, level=level, table=table)
    if rule.minimum_amount is None or amount >= rule.minimum_amount:
        return ""
    least = rule.minimum_amount
    # Whole dollars as the regulation states them ($190), whatever the stored row's places.
    shown = f"{least:,.0f}" if least == least.to_integral_value() else f"{least:,.2f}"
    return (
        f"{v.label(v.LEVELS, level)} needs at least ${shown} in controversy "
        f"({rule.minimum_amount_year}); this appeal has ${amount:,}."
    )
