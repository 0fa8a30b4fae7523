"""The claim scrubber's rules: which NCCI edits a claim's service lines would hit, and what to do.

Pure code (shared/STYLE.md, "pure cores"): plain lines and plain edit/MUE facts in, flags out;
nothing here imports Django. ``ncci.selectors`` fetches the facts (one query for the PTP
edits between the claim's codes, one for their MUEs) and calls ``scrub``.

Reading of the CMS rules (shared/DOMAIN.md §5, §8). The PTP rules themselves live in
``ncci.ptp`` (the same ones triage uses):

* A PTP edit applies between two lines with the same date of service when the pair's row
  for that date is in force (``ptp.edit_for_date``: the deletion date is the last day it
  applies; indicator 9, or a deletion date equal to the effective date, means it never
  applied; of overlapping rows the latest effective date wins).
* Indicator 0: no modifier bypasses it, the Column 2 code is not payable: remove it.
  Indicator 1: a bypass modifier on the Column 2 line unbundles it, only when the
  documentation shows a distinct service (``ptp.bypass_reading``: the same anatomic
  modifier on both lines says "same site"; a distinct-service modifier on the Column 1 line
  is in the wrong place: move it).
* MUE: adjudication indicator 1 compares each line's units; 2 and 3 compare the units of
  all the code's lines on the date of service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial

from ncci import ptp

# Re-exported (``X as X``): callers read the facts and the default modifier lists here too.
from ncci.ptp import ANATOMIC_MODIFIERS as ANATOMIC_MODIFIERS
from ncci.ptp import DEFAULT_BYPASS_MODIFIERS as DEFAULT_BYPASS_MODIFIERS
from ncci.ptp import DEFAULT_MODIFIER_GROUPS as DEFAULT_MODIFIER_GROUPS
from ncci.ptp import DISTINCT_SERVICE_MODIFIERS as DISTINCT_SERVICE_MODIFIERS
from ncci.ptp import GLOBAL_SURGERY_MODIFIERS as GLOBAL_SURGERY_MODIFIERS
from ncci.ptp import ModifierGroups as ModifierGroups
from ncci.ptp import PtpEditFact as PtpEditFact
from ncci.ptp import indicator_words as indicator_words

# ---------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------


MUE_INDICATOR_WORDS: dict[str, str] = {
    "1": "line edit: each line is checked on its own",
    "2": "date of service edit set by policy: an absolute daily limit, not payable above it even on appeal",
    "3": "date of service edit set from clinical data: units above it may be paid on appeal with documentation",
}

#: What documentation each bypass modifier needs, in the words a coder checks a note for.
MODIFIER_DOCUMENTATION: dict[str, str] = {
    "XE": "separate encounter: the note shows a different session or visit on the same date",
    "XS": "separate structure: the note shows a different organ, site, lesion or incision",
    "XP": "separate practitioner: a different practitioner performed it",
    "XU": "unusual non-overlapping service: it does not overlap the usual components of the main service",
    "59": "distinct procedural service: only when none of XE, XS, XP or XU describes it",
    "25": "a significant, separately identifiable E/M service beyond the procedure's usual pre- and post-service work",
}

# Actions on a PTP flag.
REMOVE_COLUMN2 = "remove_column2"
ADD_MODIFIER = "add_modifier"
MOVE_MODIFIER = "move_modifier"
BYPASSED = "bypassed"
NOT_IN_FORCE = "not_in_force"

ACTION_LABELS: dict[str, str] = {
    REMOVE_COLUMN2: "Remove the Column 2 code",
    ADD_MODIFIER: "Bypass modifier needed (only with documentation)",
    MOVE_MODIFIER: "Move the modifier to the Column 2 line",
    BYPASSED: "Bypassed by a modifier: keep the documentation",
    NOT_IN_FORCE: "Edit not in force: no problem",
}

# Severity: "error" will be denied as billed, "warning" passes only with documentation,
# "ok" is information (an edit that does not apply).
ERROR, WARNING, OK = "error", "warning", "ok"


def mue_indicator_words(indicator: str) -> str:
    return MUE_INDICATOR_WORDS.get(indicator.strip(), "unknown adjudication indicator")


def _code(value: str | None) -> str:
    return (value or "").strip().upper()


def looks_like_procedure_code(text: str) -> bool:
    """A CPT/HCPCS code: five characters, at least four of them digits (99213, 0591T, G0283)."""
    return len(text) == 5 and text.isascii() and text.isalnum() and sum(c.isdigit() for c in text) >= 4


# ---------------------------------------------------------------------------------------
# Facts in
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One service line as it would be billed. ``date_of_service`` None means the claim's date."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int | Decimal = 1
    date_of_service: date | None = None


@dataclass(frozen=True, slots=True)
class MueFact:
    code: str
    mue_value: int
    adjudication_indicator: str
    adjudication_text: str = ""
    rationale: str = ""
    quarter: str = ""
    effective_date: date | None = None
    setting: str = "practitioner"
    mue_id: int | None = None


# ---------------------------------------------------------------------------------------
# Flags out
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModifierAdvice:
    modifier: str
    documentation: str


@dataclass(frozen=True, slots=True)
class PtpFlag:
    """A PTP edit between two of the claim's lines. Indexes are positions in the lines given."""

    column1_index: int
    column2_index: int
    edit: PtpEditFact
    date_of_service: date
    in_force: bool
    # The bypass modifier on the Column 2 line ('' if none) and a distinct-service modifier
    # sitting on the Column 1 line instead ('' if none).
    bypass_modifier: str
    misplaced_modifier: str
    action: str
    severity: str
    message: str
    suggestions: tuple[ModifierAdvice, ...] = ()

    @property
    def column1(self) -> str:
        return self.edit.column1

    @property
    def column2(self) -> str:
        return self.edit.column2

    @property
    def modifier_indicator(self) -> str:
        return self.edit.modifier_indicator

    @property
    def indicator_words(self) -> str:
        return indicator_words(self.edit.modifier_indicator)

    @property
    def bypass_allowed(self) -> bool:
        """Whether the indicator lets a modifier bypass the edit at all."""
        return ptp.bypass_allowed(self.edit.modifier_indicator)

    @property
    def bypassed(self) -> bool:
        return self.in_force and self.bypass_allowed and bool(self.bypass_modifier)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def suggested_modifier(self) -> str:
        return self.suggestions[0].modifier if self.suggestions else ""


@dataclass(frozen=True, slots=True)
class MueFlag:
    code: str
    line_indexes: tuple[int, ...]
    units: int | Decimal
    mue: MueFact
    per: str  # "line" or "date of service"
    date_of_service: date
    message: str

    @property
    def mue_value(self) -> int:
        return self.mue.mue_value

    @property
    def excess(self) -> int | Decimal:
        return self.units - self.mue.mue_value


@dataclass(frozen=True, slots=True)
class ScrubResult:
    ptp: tuple[PtpFlag, ...] = ()
    mue: tuple[MueFlag, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def problems(self) -> int:
        """Flags the claim would be denied on or needs documentation for."""
        return sum(1 for f in self.ptp if f.severity != OK) + len(self.mue)

    @property
    def clean(self) -> bool:
        return self.problems == 0


# ---------------------------------------------------------------------------------------
# PTP
# ---------------------------------------------------------------------------------------


def _line_date(line: ClaimLine, claim_date: date) -> date:
    return line.date_of_service or claim_date


def _is_evaluation_and_management(code: str) -> bool:
    return code.isdigit() and 99202 <= int(code) <= 99499


def suggested_modifiers(
    *, column1_line: ClaimLine, column2_line: ClaimLine, groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS
) -> tuple[ModifierAdvice, ...]:
    """Bypass modifiers for an indicator-1 edit, the most likely first.

    The right one depends on the documentation, which the claim does not carry, so this is
    an order, not a choice: only 25 when Column 2 is an E/M service; the opposite side when the
    Column 1 line names a side; XE first for a diagnostic test (radiology, 93xxx) done at
    another session; otherwise XS (another site or lesion), the usual case for procedures.
    59 always comes last: CMS asks for the X modifier that fits.
    """
    bypass_modifiers = ptp.bypass_modifiers_for(ptp.ALLOWED, groups)
    column2 = _code(column2_line.code)
    advice: list[ModifierAdvice] = []
    if _is_evaluation_and_management(column2):
        # CMS: 59 and the X modifiers do not go on an E/M code; 25 is the one that does.
        if "25" in bypass_modifiers:
            advice.append(ModifierAdvice("25", MODIFIER_DOCUMENTATION["25"]))
        return tuple(advice)
    sides = {"LT": "RT", "RT": "LT"}
    for modifier in (_code(m) for m in column1_line.modifiers):
        other = sides.get(modifier)
        if other and other in bypass_modifiers:
            advice.append(ModifierAdvice(other, f"the {column2} service was on the other side ({other})"))
            break
    diagnostic = column2[:1] == "7" or column2[:2] == "93"
    order = ("XE", "XS", "XU", "XP", "59") if diagnostic else ("XS", "XE", "XU", "XP", "59")
    advice.extend(ModifierAdvice(m, MODIFIER_DOCUMENTATION[m]) for m in order if m in bypass_modifiers)
    return tuple(advice)


def ptp_flags(
    lines: Sequence[ClaimLine],
    edits: Iterable[PtpEditFact],
    *,
    date_of_service: date,
    modifier_groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS,
    include_not_in_force: bool = True,
) -> list[PtpFlag]:
    """Every PTP edit between two lines of the claim on the same date of service.

    One flag per (Column 1 code, Column 2 line): a code billed twice against the same
    Column 2 line is one problem, not two. Edits not in force (deleted before the date, or
    indicator 9) come back as "ok" flags unless ``include_not_in_force`` is False.
    ``edits`` are one setting's rows (the selector filters by setting), any dates: which
    row speaks for the date is ``ptp.edit_for_date``'s answer.
    """
    by_pair: dict[tuple[str, str], list[PtpEditFact]] = {}
    for edit in edits:
        by_pair.setdefault((_code(edit.column1), _code(edit.column2)), []).append(edit)
    if not by_pair:
        return []

    flags: list[PtpFlag] = []
    seen: set[tuple[str, int]] = set()
    for column2_index, column2_line in enumerate(lines):
        code2 = _code(column2_line.code)
        on = _line_date(column2_line, date_of_service)
        for column1_index, column1_line in enumerate(lines):
            code1 = _code(column1_line.code)
            if column1_index == column2_index or code1 == code2 or (code1, column2_index) in seen:
                continue
            if _line_date(column1_line, date_of_service) != on:
                continue
            pair_edits = by_pair.get((code1, code2))
            if not pair_edits:
                continue
            chosen, in_force = ptp.edit_for_date(pair_edits, on)
            if chosen is None:
                continue
            if not in_force and not include_not_in_force:
                continue
            seen.add((code1, column2_index))
            flags.append(
                _ptp_flag(
                    column1_index, column1_line, column2_index, column2_line, chosen, on, in_force, modifier_groups
                )
            )
    flags.sort(key=lambda f: ({ERROR: 0, WARNING: 1, OK: 2}[f.severity], f.column2_index, f.column1_index))
    return flags


def _ptp_flag(
    column1_index: int,
    column1_line: ClaimLine,
    column2_index: int,
    column2_line: ClaimLine,
    edit: PtpEditFact,
    on: date,
    in_force: bool,
    groups: ModifierGroups,
) -> PtpFlag:
    c1, c2 = _code(edit.column1), _code(edit.column2)
    n1, n2 = column1_index + 1, column2_index + 1
    indicator = edit.modifier_indicator.strip()
    reading = ptp.bypass_reading(
        column2_modifiers=column2_line.modifiers, column1_modifiers=column1_line.modifiers, groups=groups
    )
    present, misplaced = reading.present, reading.misplaced
    pair = f"{c1} (line {n1}) includes {c2} (line {n2})"
    flag = partial(
        PtpFlag,
        column1_index=column1_index,
        column2_index=column2_index,
        edit=edit,
        date_of_service=on,
        in_force=in_force,
        bypass_modifier=present,
        misplaced_modifier=misplaced,
    )
    if not in_force:
        if ptp.never_applied(edit):
            why = (
                f"The edit {c1}/{c2} has modifier indicator 9 (not applicable): CMS deleted it "
                "retroactively, so it never applied. No problem; a denial on it would be the payer's error."
            )
        else:
            deleted = edit.deletion_date.isoformat() if edit.deletion_date else "?"
            why = (
                f"The edit {c1}/{c2} was deleted on {deleted}, before the date of service {on.isoformat()}: "
                "no problem; a denial on it would be the payer's error."
            )
        return flag(action=NOT_IN_FORCE, severity=OK, message=why)
    if indicator == "0":
        extra = f" The modifier {present} on line {n2} does not change that." if present else ""
        message = (
            f"{pair}: NCCI modifier indicator 0, never separately payable. Remove {c2} from line {n2}: "
            f"no modifier bypasses this edit.{extra}"
        )
        return flag(action=REMOVE_COLUMN2, severity=ERROR, message=message)
    if present:
        message = (
            f"{pair}: modifier indicator 1, bypassed by {present} on line {n2}. Keep the documentation that "
            f"shows the distinct service ({MODIFIER_DOCUMENTATION.get(present, 'distinct service')}): "
            "payers audit these."
        )
        return flag(action=BYPASSED, severity=OK, message=message)
    suggestions = suggested_modifiers(column1_line=column1_line, column2_line=column2_line, groups=groups)
    if misplaced:
        message = (
            f"{pair}: modifier indicator 1. {misplaced} is on the Column 1 line ({c1}); NCCI reads the bypass "
            f"modifier on the Column 2 code: move it to line {n2} ({c2}) if the documentation supports it."
        )
        return flag(action=MOVE_MODIFIER, severity=WARNING, message=message, suggestions=suggestions)
    best = suggestions[0].modifier if suggestions else "a bypass modifier"
    message = (
        f"{pair}: modifier indicator 1, payable with a modifier when documented. Line {n2} ({c2}) needs a "
        f"bypass modifier, only if the documentation shows a distinct service: most likely {best}. "
        f"Otherwise remove {c2}: it will be denied as bundled."
    )
    return flag(action=ADD_MODIFIER, severity=WARNING, message=message, suggestions=suggestions)


# ---------------------------------------------------------------------------------------
# MUE
# ---------------------------------------------------------------------------------------


def mue_flags(lines: Sequence[ClaimLine], mues: Mapping[str, MueFact], *, date_of_service: date) -> list[MueFlag]:
    """Every MUE the units exceed: per line (indicator 1) or per code and date (2 and 3)."""
    flags: list[MueFlag] = []
    per_day: dict[tuple[str, date], list[int]] = {}
    for index, line in enumerate(lines):
        code = _code(line.code)
        mue = mues.get(code)
        if mue is None:
            continue
        on = _line_date(line, date_of_service)
        if mue.adjudication_indicator == "1":
            if line.units > mue.mue_value:
                flags.append(_mue_flag(code, (index,), line.units, mue, "line", on))
        else:
            per_day.setdefault((code, on), []).append(index)
    for (code, on), indexes in per_day.items():
        mue = mues[code]
        units = sum((lines[i].units for i in indexes), start=0)
        if units > mue.mue_value:
            flags.append(_mue_flag(code, tuple(indexes), units, mue, "date of service", on))
    flags.sort(key=lambda f: f.line_indexes)
    return flags


def _mue_flag(code: str, indexes: tuple[int, ...], units: int | Decimal, mue: MueFact, per: str, on: date) -> MueFlag:
    where = (
        f"line {indexes[0] + 1}"
        if per == "line"
        else ("lines " + ", ".join(str(i + 1) for i in indexes) if len(indexes) > 1 else f"line {indexes[0] + 1}")
    )
    advice = {
        "1": "If more were medically necessary, report the extra units on another line with an anatomic or "
        "XE/XS/XP/XU modifier.",
        "2": "Reduce the units to the MUE: this limit is not appealable.",
        "3": "Units above the MUE will be denied; bill them only with documentation of medical necessity, "
        "for an appeal.",
    }.get(mue.adjudication_indicator, "")
    message = (
        f"{code}: {units} unit{'s' if units != 1 else ''} on {where}, above the MUE of {mue.mue_value} per {per} "
        f"(adjudication indicator {mue.adjudication_indicator}, {mue_indicator_words(mue.adjudication_indicator)}). "
        f"{advice}"
    ).strip()
    return MueFlag(code=code, line_indexes=indexes, units=units, mue=mue, per=per, date_of_service=on, message=message)


# ---------------------------------------------------------------------------------------
# The whole claim
# ---------------------------------------------------------------------------------------


def scrub(
    lines: Sequence[ClaimLine],
    *,
    date_of_service: date,
    edits: Iterable[PtpEditFact],
    mues: Mapping[str, MueFact],
    modifier_groups: ModifierGroups = DEFAULT_MODIFIER_GROUPS,
) -> ScrubResult:
    """The flags a claim would hit before it is sent (DOMAIN.md §8)."""
    ptp = ptp_flags(
        lines,
        edits,
        date_of_service=date_of_service,
        modifier_groups=modifier_groups,
    )
    mue = mue_flags(lines, mues, date_of_service=date_of_service)
    notes: list[str] = []
    known = {_code(line.code) for line in lines}
    missing = sorted(c for c in known if c not in mues)
    if missing:
        notes.append(f"No MUE on file for {', '.join(missing)} (not every code has a published MUE).")
    return ScrubResult(ptp=tuple(ptp), mue=tuple(mue), notes=tuple(notes))
