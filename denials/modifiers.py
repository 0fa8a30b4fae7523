"""Which modifier goes on the corrected line, and which modifier groups fit the code.

Pure (nothing from Django). The one home of the rule "the saved evidence kind decides the
modifier" (``corrected_line_modifier``): the denial page prefills its corrected-claim modifier
with it and the appeal package (``appeals.package``) puts it on the corrected line, so the two
never disagree. It lives here, in ``denials``, because ``denials`` never imports ``appeals``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from denials.vocabulary import EVIDENCE_KIND_MODIFIERS
from ncci import ptp
from ncci.scrubber import ClaimLine, suggested_modifiers

#: The modifier for a distinct service none of the X modifiers describes (the X modifier each
#: evidence kind supports is ``denials.vocabulary.EVIDENCE_KIND_MODIFIERS``).
DISTINCT_PROCEDURAL_SERVICE = "59"

FROM_EVIDENCE = "from the kind of the saved documentation passage"


def corrected_line_modifier(
    *, chosen: str, evidence_kinds: Iterable[str], triage_modifier: str = ""
) -> tuple[str, str]:
    """The modifier for the corrected Column 2 line and why: ``(modifier, reason)``; ``("", reason)``
    when nothing stored supports one.

    In order: the modifier the team chose on the denial; else the one the saved passages'
    kinds support (several kinds: the first in CMS's order XE, XS, XP, XU, as
    ``ncci.ptp.DISTINCT_SERVICE_MODIFIERS``); else the modifier triage read on the claim (already
    on the Column 2 line, or billed on the Column 1 line by mistake); else 59 when passages are
    saved but none names a kind an X modifier covers. No passage and no choice: no modifier, because
    a modifier the record does not support is exactly what the appeal must not invent.
    """
    chosen = (chosen or "").strip().upper()
    if chosen:
        return chosen, "chosen by the team on the denial"
    kinds = list(evidence_kinds)
    supported = {EVIDENCE_KIND_MODIFIERS[k] for k in kinds if k in EVIDENCE_KIND_MODIFIERS}
    for modifier in ptp.DISTINCT_SERVICE_MODIFIERS:
        if modifier in supported:
            return modifier, FROM_EVIDENCE
    triage_modifier = (triage_modifier or "").strip().upper()
    if triage_modifier:
        return triage_modifier, "already billed on the claim"
    if kinds:
        return DISTINCT_PROCEDURAL_SERVICE, "no X modifier describes the saved passages (59: distinct service)"
    return "", "no passage saved and no modifier chosen"


# --- The corrected-claim modifier field: which groups show open -------------------------

#: The groups as ``ncci.ptp`` names them (``ncci.models.Modifier.bypass_group``): the
#: distinct-service group (59, the X modifiers, 27, 91), anatomic, global surgery.
DISTINCT = ptp.OTHER
ANATOMIC = ptp.ANATOMIC
GLOBAL_SURGERY = ptp.GLOBAL_SURGERY


@dataclass(frozen=True)
class ModifierFit:
    """Which modifier groups fit the denied code, so the page opens them; the rest stay folded."""

    open_groups: frozenset[str]
    #: The modifiers the scrubber would try first for this pair, most likely first.
    suggested: tuple[str, ...]


def modifier_fit(
    *,
    code: str,
    modifiers: Iterable[str] = (),
    pair_code: str = "",
    pair_modifiers: Iterable[str] = (),
    groups: ptp.ModifierGroups = ptp.DEFAULT_MODIFIER_GROUPS,
    no_ptp_pair: bool = False,
) -> ModifierFit:
    """The distinct-service group always shows first; the anatomic and global-surgery groups
    show open only when they fit the code: the scrubber's own suggestion for the pair names
    one of them (``ncci.scrubber.suggested_modifiers``: 25 on an E/M code, the other side when
    the paired line names a side), or the line or its pair already carries one. A bundling
    denial with no PTP pair (``no_ptp_pair``) opens the global-surgery group: DOMAIN §6 sends it
    to the global period first (24, 25, 57, 58, 78, 79).
    """
    column2 = ClaimLine(code=code, modifiers=tuple(modifiers))
    column1 = ClaimLine(code=pair_code or code, modifiers=tuple(pair_modifiers))
    advice = suggested_modifiers(column1_line=column1, column2_line=column2, groups=groups)
    suggested = tuple(a.modifier for a in advice)
    carried = {(m or "").strip().upper() for m in (*column2.modifiers, *column1.modifiers)}
    open_groups = {DISTINCT, GLOBAL_SURGERY} if no_ptp_pair else {DISTINCT}
    for modifier in (*suggested, *carried):
        if modifier in groups.anatomic:
            open_groups.add(ANATOMIC)
        elif modifier in groups.global_surgery:
            open_groups.add(GLOBAL_SURGERY)
    return ModifierFit(open_groups=frozenset(open_groups), suggested=suggested)
