"""Plain words first: the one line a denial starts with, and its priority as words.

Pure, like ``denials.triage`` (nothing from Django): the one home of

* ``headline``: what happened and what to do, in one short line, built from triage's own
  result (category, action, the NCCI finding with its indicator, deletion and modifiers) and
  the modifier the saved evidence supports; e.g. "Bundled into 17000; modifier indicator 1:
  add XS if the note shows a separate site or structure". The full explanation and the
  payer's codes in words follow it on the page, collapsed;
* ``priority_words``: "High — $95 expected, due in 12 days", what a coder acts on instead
  of the raw priority score.

The headline never quotes code-list text: code descriptions are edited by admins and shown
beside it at read time, so nothing here goes stale when they change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from denials import triage as t
from denials.triage import DenialFacts, TriageResult

#: What the documentation must show for each distinct-service modifier (CMS's X{EPSU}
#: definitions, DOMAIN §5), as the end of "add XS if the note shows ...".
MODIFIER_SHOWS: dict[str, str] = {
    "XS": "a separate site or structure",
    "XE": "a separate session or encounter",
    "XP": "a separate practitioner",
    "XU": "a service that does not overlap the main one",
    "59": "a distinct service",
}

_GLOBAL_PERIOD = "check the global period (24, 25, 57, 58, 78, 79), an inherent component and the payer's policy"


def _code(value: str | None) -> str:
    return (value or "").strip().upper()


def _bundling_headline(*, result: TriageResult, facts: DenialFacts, suggested_modifier: str) -> str:
    finding = result.finding
    action = result.action
    if finding is None:
        if facts.line is None:
            return f"Bundled at claim level, so no NCCI pair could be checked: {_GLOBAL_PERIOD}"
        return f"Bundled, with no NCCI pair on this claim: {_GLOBAL_PERIOD}"
    c1, c2 = finding.column1_code, finding.column2_code
    if finding.reverse:
        denied = _code(facts.line.procedure_code) if facts.line else c1
        return (
            f"{denied} is the paid code (Column 1) of NCCI edit {c1}/{c2}: "
            "check whether the payer denied the wrong line"
        )
    category = result.category
    if category == t.BUNDLING_EDIT_NOT_IN_FORCE:
        edit = finding.edit
        if finding.indicator == "9":
            why = f"NCCI edit {c1}/{c2} has indicator 9 (not applicable)"
            cite = "citing indicator 9"
        elif edit.deletion_date is not None and edit.deletion_date <= edit.effective_date:
            why = f"NCCI edit {c1}/{c2} was deleted retroactively"
            cite = "citing the deletion"
        else:
            last = edit.deletion_date.isoformat() if edit.deletion_date else "?"
            why = f"NCCI edit {c1}/{c2} last applied on {last}, before the date of service"
            cite = "citing the deletion"
        step = f"appeal, {cite}" if action == t.APPEAL else f"ask the payer to reprocess, {cite}"
        return f"Bundled into {c1} on an edit not in force: {why}; {step}"
    if category == t.BUNDLING_NOT_APPEALABLE:
        step = {
            t.WRITE_OFF: "write it off",
            t.BILL_PATIENT: "bill the patient once verified",
        }.get(action, "review who bears it")
        return f"Bundled into {c1}; modifier indicator 0: no modifier bypasses it, {step}"
    if category == t.BUNDLING_APPEALABLE:
        present = finding.bypass_modifier_present
        if action == t.APPEAL:
            step = "appeal with the passage that shows a distinct service"
        else:
            step = f"ask the payer why {present} was not honoured"
        return f"Bundled into {c1} although {c2} carries {present}; {step}"
    # Modifier may apply (indicator 1, no bypass modifier on Column 2).
    misplaced = finding.misplaced_bypass_modifier
    if misplaced:
        shows = MODIFIER_SHOWS.get(misplaced, "a distinct service")
        step = f"move {misplaced} from {c1} to {c2} if the note shows {shows}"
    elif suggested_modifier:
        shows = MODIFIER_SHOWS.get(suggested_modifier, "a distinct service")
        step = f"add {suggested_modifier} to {c2}: the saved passage shows {shows}"
    else:
        step = f"add XS, XE, XP or XU to {c2} if the note shows a distinct service, else write it off"
    if action != t.CORRECTED_CLAIM:
        step = f"review it ({t.ACTIONS.get(action, action).lower()}): " + step
    return f"Bundled into {c1}; modifier indicator 1: {step}"


def headline(*, result: TriageResult, facts: DenialFacts, suggested_modifier: str = "") -> str:
    """One short line: what happened and what to do.

    ``result`` and ``facts`` are triage's (``denials.triage.triage``); ``suggested_modifier``
    is the modifier the saved evidence supports (``denials.modifiers.corrected_line_modifier``),
    '' when none is saved. Bundling follows DOMAIN §6's table; every other category says the
    category's gist and the recommended step.
    """
    if result.category in t.BUNDLING_CATEGORIES:
        return _bundling_headline(result=result, facts=facts, suggested_modifier=_code(suggested_modifier))
    gist = t.CATEGORY_GIST.get(result.category, t.CATEGORY_GIST[t.OTHER])
    step = t.ACTIONS.get(result.action, result.action).lower() if result.action else "review it"
    return f"{gist[0].upper()}{gist[1:]}: {step}"


# ---------------------------------------------------------------------------------------
# Priority as words
# ---------------------------------------------------------------------------------------

HIGH = "High"
MEDIUM = "Medium"
LOW = "Low"
OVERDUE = "Overdue"

#: Priority score thresholds (``denials.triage.priority_score``: expected dollars, raised up
#: to x2 over the last 30 days before the due date). A denial whose deadline is a week away
#: and that can still recover money is High whatever its size: it is lost otherwise.
HIGH_SCORE = Decimal("100")
MEDIUM_SCORE = Decimal("25")
DUE_SOON_DAYS = 7


@dataclass(frozen=True)
class PriorityWords:
    level: str  # High, Medium, Low, Overdue
    detail: str  # "$95 expected, due in 12 days"

    def __str__(self) -> str:
        return f"{self.level} — {self.detail}"


def _money(amount: Decimal) -> str:
    amount = Decimal(amount)
    if amount == amount.to_integral_value():
        return f"${amount:,.0f}"
    return f"${amount:,.2f}"


def _due(days: int | None) -> str:
    if days is None:
        return "no deadline known"
    if days < 0:
        return f"deadline passed {-days} day{'s' if days != -1 else ''} ago"
    if days == 0:
        return "due today"
    if days == 1:
        return "due tomorrow"
    return f"due in {days} days"


def priority_words(
    *, priority: Decimal, expected_recovery: Decimal, due_date: dt.date | None, today: dt.date
) -> PriorityWords:
    """The priority as a coder acts on it: a level, the dollars expected and the deadline.

    Overdue once the due date (the payer's appeal or filing deadline) has passed; otherwise High
    from a score of ``HIGH_SCORE`` or when money is expected and the deadline is within
    ``DUE_SOON_DAYS``; Medium from ``MEDIUM_SCORE``; else Low (nothing expected is always Low).
    """
    days = (due_date - today).days if due_date is not None else None
    expected = Decimal(expected_recovery or 0)
    money = f"{_money(expected)} expected" if expected > 0 else "nothing expected to recover"
    detail = f"{money}, {_due(days)}"
    if days is not None and days < 0:
        return PriorityWords(OVERDUE, detail)
    score = Decimal(priority or 0)
    if expected <= 0:
        level = LOW
    elif score >= HIGH_SCORE or (days is not None and days <= DUE_SOON_DAYS):
        level = HIGH
    elif score >= MEDIUM_SCORE:
        level = MEDIUM
    else:
        level = LOW
    return PriorityWords(level, detail)
