"""The NCCI procedure-to-procedure (PTP) edit rules, written down once.

Pure code (shared/STYLE.md, "pure cores"): plain rows and plain modifier lists in, plain
answers out; nothing here imports Django. Everything that asks a PTP question uses this
module: triage (``denials.triage``), the scrubber (``ncci.scrubber``), the model
(``PtpEdit.in_force_on``, the search page) and the selectors, whose SQL filter
(``ncci.selectors.ptp_in_force_q``) is the database twin of ``row_in_force`` and is checked
against it on random rows (tests/test_ptp_agreement.py).

Three questions:

1. **Which row of a pair is in force on a date** (``edit_in_force``, ``current_edit``,
   ``edit_for_date``, ``row_in_force``). A pair is one (setting, Column 1, Column 2); CMS
   keeps every row it ever published for it, one per effective date.
2. **Which modifiers bypass an indicator** (``bypass_modifiers_for``): the NCCI-associated
   modifiers of ``ModifierGroups`` for indicator 1, none for 0 and 9. The groups come from the
   admin-kept ``Modifier`` table (``ncci.selectors.modifier_groups``); ``DEFAULT_MODIFIER_GROUPS``
   (DOMAIN.md §5) only when that table is empty.
3. **Whether a line's modifiers bypass an edit** (``bypass_reading``, ``line_bypasses``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, TypeVar

# ---------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------

#: Modifier indicators (CMS): 0 no modifier bypasses the edit, 1 a documented bypass
#: modifier does, 9 the edit does not apply (deleted retroactively).
NOT_ALLOWED = "0"
ALLOWED = "1"
NOT_APPLICABLE = "9"

#: The words for each indicator: every page, API answer and choice label reads them here.
#: Short (lists, API ``modifier_indicator_text``, admin choices) ...
INDICATOR_WORDS: dict[str, str] = {
    NOT_ALLOWED: "never separately payable",
    ALLOWED: "payable with a modifier when documented",
    NOT_APPLICABLE: "not applicable",
}
#: ... and with what it means for the coder (the denial's NCCI panel).
INDICATOR_DETAIL: dict[str, str] = {
    NOT_ALLOWED: "never separately payable; no modifier bypasses it",
    ALLOWED: "payable with a modifier when documentation supports a distinct service",
    NOT_APPLICABLE: "not applicable (the edit is effectively deleted)",
}


def indicator_words(indicator: str) -> str:
    return INDICATOR_WORDS.get((indicator or "").strip(), "unknown indicator")


def indicator_label(indicator: str, *, detail: bool = False) -> str:
    """'1: payable with a modifier when documented' (the code first, then its words)."""
    code = (indicator or "").strip()
    words = (INDICATOR_DETAIL if detail else INDICATOR_WORDS).get(code)
    return f"{code}: {words}" if words else "—"


class PtpRow(Protocol):
    """What the rules read of a PTP row: ``PtpEditFact``, the ``PtpEdit`` model, a test double."""

    @property
    def setting(self) -> str: ...

    @property
    def column1(self) -> str: ...

    @property
    def column2(self) -> str: ...

    @property
    def effective_date(self) -> date: ...

    @property
    def deletion_date(self) -> date | None: ...

    @property
    def modifier_indicator(self) -> str: ...


Row = TypeVar("Row", bound=PtpRow)


@dataclass(frozen=True, slots=True)
class PtpEditFact:
    """One PTP edit row (one setting, one effective date), as the selectors read it."""

    column1: str
    column2: str
    effective_date: date
    deletion_date: date | None
    modifier_indicator: str
    rationale: str = ""
    quarter: str = ""
    setting: str = "practitioner"
    edit_id: int | None = None


def _code(value: str | None) -> str:
    return (value or "").strip().upper()


def pair_key(row: PtpRow) -> tuple[str, str, str]:
    """(setting, Column 1, Column 2): the rows that speak about the same edit."""
    return (row.setting or "").strip().lower(), _code(row.column1), _code(row.column2)


# ---------------------------------------------------------------------------------------
# 1. Which row is in force on a date
# ---------------------------------------------------------------------------------------


def edit_in_force(
    effective: date,
    deletion: date | None,
    on: date,
    *,
    modifier_indicator: str | None = None,
) -> bool:
    """Whether one PTP row, *by its own dates*, applies to a service line dated ``on``.

    The deletion date is the *last* date of service the edit applies to (inclusive):

    * CMS publishes changes effective on the first day of a quarter, and every deletion
      date in the files is the last day of a quarter while every effective date is the
      first day of one. In the real v32.2 excerpt (tests/fixtures/ncci) an edit runs
      20180701-20180930 and another 20241001-20241231: exactly one quarter each only if
      the deletion date is still covered. Exclusive reading would end them a day early,
      on a day no quarterly release changes anything.
    * An edit deleted retroactively, "never should have existed", is published with its
      deletion date equal to its effective date and modifier indicator 9 (AAPC Coding
      Alert, "Say Hello and Goodbye to Indicator '9'": these pairs "were, essentially,
      never effective"; AAPC "Know When to Unbundle With NCCI Modifier Indicators", 2005).
      So deletion == effective, or indicator 9, means never in force.

    Some secondary sources phrase it as "does not apply on or after the deletion date";
    that contradicts the quarter-end dates CMS actually publishes, so it is not followed.

    This is half of the rule: a newer row of the same pair can supersede this one (see
    ``current_edit``). Ask ``edit_for_date``/``row_in_force`` whether a pair applies.
    """
    if modifier_indicator is not None and modifier_indicator.strip() == NOT_APPLICABLE:
        return False
    if on < effective:
        return False
    if deletion is None:
        return True
    if deletion <= effective:
        return False
    return on <= deletion


def never_applied(row: PtpRow) -> bool:
    """Indicator 9, or deleted on its effective date: the row never applied to any date."""
    if row.modifier_indicator.strip() == NOT_APPLICABLE:
        return True
    return row.deletion_date is not None and row.deletion_date <= row.effective_date


def row_applies(row: PtpRow, on: date) -> bool:
    """``edit_in_force`` for a row object: its own dates and indicator only."""
    return edit_in_force(row.effective_date, row.deletion_date, on, modifier_indicator=row.modifier_indicator)


def current_edit(rows: Iterable[Row], on: date) -> Row | None:
    """The row of ONE pair that governs ``on``: the latest effective date on or before it.

    **Overlapping rows.** CMS changes an edit (a new indicator, a reinstatement) by
    publishing a new row with a new effective date, and normally deletes the old row the
    day before. When both are open (indicator 0 from 2020 and indicator 1 from 2022, the old
    row never given its deletion date, or imported from an older table), the rule is:
    **the row with the latest effective date wins: a newer row supersedes an older one from
    its own effective date**, whatever the older row's dates say. The newer row is CMS's
    latest word on the pair, and a quarter's table is read as a whole, as CMS publishes it.
    A newer row that was later deleted still ended the older one (its deletion deletes the
    pair, not just itself: otherwise deleting it would silently revive an edit CMS had
    replaced). A row that *never applied* (indicator 9, or deleted on its effective date)
    is as if it had not been published: it supersedes nothing.

    Rejected readings: "the most restrictive row wins" (indicator 0 over 1; what triage
    did): it lets a stale row overrule CMS's newer decision to allow a modifier, and the
    scrubber would then tell a coder to remove a line that a modifier legitimately saves;
    "any in-force row counts": two answers for one pair, which every caller then settled
    differently.

    Returns None when no row that ever applied has started by ``on``. The row returned may
    itself be deleted by ``on``: then the pair is not in force (``edit_for_date``).
    """
    best: Row | None = None
    for row in rows:
        if row.effective_date > on or never_applied(row):
            continue
        if best is None or row.effective_date > best.effective_date:
            best = row
    return best


def edit_for_date(rows: Iterable[Row], on: date) -> tuple[Row | None, bool]:
    """(the row of ONE pair that speaks for ``on``, whether it is in force).

    In force: the ``current_edit`` when its own dates cover ``on``. Otherwise the most
    recent row that had started by ``on`` (indicator 9 and retroactive deletions included),
    so the caller can say *why* nothing applies ("deleted on ...", "indicator 9"); not in
    force. (None, False) when no row had started: the edit did not exist yet.
    """
    started = [row for row in rows if row.effective_date <= on]
    if not started:
        return None, False
    current = current_edit(started, on)
    if current is not None and row_applies(current, on):
        return current, True
    return max(started, key=lambda row: row.effective_date), False


def in_force_rows(rows: Iterable[Row], on: date) -> list[Row]:
    """The rows in force on ``on``, any number of pairs mixed: at most one per pair."""
    by_pair: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        by_pair.setdefault(pair_key(row), []).append(row)
    found: list[Row] = []
    for pair_rows in by_pair.values():
        speaking, in_force = edit_for_date(pair_rows, on)
        if in_force and speaking is not None:
            found.append(speaking)
    return found


def next_effective_date(row: PtpRow, siblings: Iterable[PtpRow]) -> date | None:
    """When a newer row of the same pair supersedes ``row``: the earliest later effective
    date among the siblings that ever applied (None: nothing supersedes it)."""
    later = [s.effective_date for s in siblings if s.effective_date > row.effective_date and not never_applied(s)]
    return min(later) if later else None


def row_in_force(row: PtpRow, on: date, *, next_effective: date | None) -> bool:
    """Whether ``row`` is its pair's edit in force on ``on``, given ``next_effective_date``.

    The per-row form of ``edit_for_date`` (same answer, proven by the tests), for a list
    that shows rows one by one: its own dates cover ``on`` and no newer row has taken over.
    """
    return row_applies(row, on) and (next_effective is None or on < next_effective)


# ---------------------------------------------------------------------------------------
# 2. Which modifiers bypass an indicator
# ---------------------------------------------------------------------------------------

# The group names are the ``Modifier.bypass_group`` values admins choose from.
ANATOMIC = "anatomic"
GLOBAL_SURGERY = "global-surgery"
OTHER = "other"
NONE = "none"

#: The distinct-service modifiers, in the order CMS asks for them (59 only when no X fits).
DISTINCT_SERVICE_MODIFIERS: tuple[str, ...] = ("XE", "XS", "XP", "XU", "59")
ANATOMIC_MODIFIERS: frozenset[str] = frozenset(
    {"LT", "RT", "E1", "E2", "E3", "E4", "FA", "TA", "LC", "LD", "LM", "RC", "RI"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
)
GLOBAL_SURGERY_MODIFIERS: frozenset[str] = frozenset({"24", "25", "57", "58", "78", "79"})
OTHER_MODIFIERS: frozenset[str] = frozenset(DISTINCT_SERVICE_MODIFIERS) | {"27", "91"}


@dataclass(frozen=True, slots=True)
class ModifierGroups:
    """The NCCI-associated modifiers (DOMAIN.md §5) by group, as admins keep them.

    Anatomic modifiers are kept apart because the same one on both lines says "same site"
    and bypasses nothing.
    """

    anatomic: frozenset[str] = frozenset()
    global_surgery: frozenset[str] = frozenset()
    other: frozenset[str] = frozenset()
    #: Every modifier that can bypass an indicator-1 edit (the three groups together).
    bypass: frozenset[str] = field(init=False, compare=False, default=frozenset())

    def __post_init__(self) -> None:
        for name in ("anatomic", "global_surgery", "other"):
            object.__setattr__(self, name, frozenset(_code(m) for m in getattr(self, name) if _code(m)))
        # Computed once: triage reads it for every bundling denial.
        object.__setattr__(self, "bypass", self.anatomic | self.global_surgery | self.other)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str]]) -> ModifierGroups:
        """From (code, bypass group) pairs, the ``Modifier`` table's columns; 'none' rows are left out."""
        groups: dict[str, set[str]] = {ANATOMIC: set(), GLOBAL_SURGERY: set(), OTHER: set()}
        for code, group in rows:
            if group in groups:
                groups[group].add(code)
        return cls(
            anatomic=frozenset(groups[ANATOMIC]),
            global_surgery=frozenset(groups[GLOBAL_SURGERY]),
            other=frozenset(groups[OTHER]),
        )

    def __bool__(self) -> bool:
        return bool(self.bypass)

    def group_of(self, modifier: str) -> str:
        code = _code(modifier)
        if code in self.anatomic:
            return ANATOMIC
        if code in self.global_surgery:
            return GLOBAL_SURGERY
        if code in self.other:
            return OTHER
        return NONE


#: DOMAIN.md §5, for when the ``Modifier`` table is empty (a fresh database before load_codes).
DEFAULT_MODIFIER_GROUPS = ModifierGroups(
    anatomic=ANATOMIC_MODIFIERS, global_surgery=GLOBAL_SURGERY_MODIFIERS, other=OTHER_MODIFIERS
)
DEFAULT_BYPASS_MODIFIERS: frozenset[str] = DEFAULT_MODIFIER_GROUPS.bypass


def bypass_allowed(indicator: str) -> bool:
    """Whether the indicator lets any modifier bypass the edit: 1 only.

    The importer accepts only 0, 1 and 9; 0 means never separately payable and 9 means the
    edit does not apply (there is nothing to bypass).
    """
    return (indicator or "").strip() == ALLOWED


def bypass_modifiers_for(indicator: str, groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS) -> frozenset[str]:
    """The modifiers that bypass an edit with this indicator: every group's for 1, none otherwise."""
    return groups.bypass if bypass_allowed(indicator) else frozenset()


# ---------------------------------------------------------------------------------------
# 3. Whether a line's modifiers bypass an edit
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BypassReading:
    """What the two lines' modifiers say, whatever the indicator.

    ``present``: the bypass modifier on the Column 2 line ('' if none), the place NCCI reads
    it. ``misplaced``: a non-anatomic bypass modifier sitting on the Column 1 line instead
    ('' if none, or if ``present``): moving it is a corrected claim, not an appeal.
    """

    present: str = ""
    misplaced: str = ""


def bypass_reading(
    *,
    column2_modifiers: Iterable[str],
    column1_modifiers: Iterable[str],
    groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS,
) -> BypassReading:
    """Which bypass modifier the lines carry, and where.

    The same anatomic modifier on both lines says "same site": it shows no distinctness, so
    it bypasses nothing. An anatomic modifier on Column 1 describes that line's site; Column
    2 needs its own, so it is not "misplaced".
    """
    bypass = groups.bypass
    column1 = [_code(m) for m in column1_modifiers]
    for modifier in (_code(m) for m in column2_modifiers):
        if modifier not in bypass:
            continue
        if modifier in groups.anatomic and modifier in column1:
            continue
        return BypassReading(present=modifier)
    for modifier in column1:
        if modifier in bypass and modifier not in groups.anatomic:
            return BypassReading(misplaced=modifier)
    return BypassReading()


def line_bypasses(
    *,
    indicator: str,
    column2_modifiers: Iterable[str],
    column1_modifiers: Iterable[str],
    groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS,
) -> bool:
    """Whether the Column 2 line's modifiers bypass an edit with this indicator."""
    if not bypass_allowed(indicator):
        return False
    reading = bypass_reading(column2_modifiers=column2_modifiers, column1_modifiers=column1_modifiers, groups=groups)
    return bool(reading.present)
