"""Which outcome a coder may record on a denial: the rules, each defined once.

Pure (nothing from Django): ``denials.services.worklist.denial_record_outcome`` enforces
these, and the ``Denial`` properties the denial page reads (``can_reopen``,
``can_bill_patient``, ``corrected_claim_note``) ask the same functions, so the page never
offers what the service would refuse, and the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Collection

from denials.vocabulary import UNWORKED_STATUSES
from ncci.ptp import NOT_ALLOWED as _INDICATOR_NOT_ALLOWED  # indicator 0: no modifier bypasses the edit


def outcome_recorded(*, status: str) -> bool:
    """Whether a coder has recorded an outcome (the status is past open / in progress)."""
    return status not in UNWORKED_STATUSES


def reopen_refusal(*, status: str) -> str:
    """Why a denial cannot be reopened ("" when it can): only a recorded outcome can be undone."""
    if not outcome_recorded(status=status):
        return "Nothing has been recorded on this denial yet, so there is nothing to reopen."
    return ""


def bill_patient_refusal(*, group_code: str, carc: str) -> str:
    """Why the amount cannot be billed to the patient ("" when it can).

    Only group PR (patient responsibility) is the patient's to pay; under CO the provider
    bears it by contract, and OA/PI are between provider and payer.
    """
    if (group_code or "").strip().upper() == "PR":
        return ""
    return (
        f"Only patient-responsibility (PR) amounts can be billed to the patient; this is {group_code}-{carc}, "
        "which the provider bears."
    )


def corrected_claim_refusal(
    *, modifier_indicator: str, modifier: str, bypass_modifiers: Collection[str], column1: str = "", column2: str = ""
) -> str:
    """Why a corrected claim with ``modifier`` would be refused ("" when it would not).

    Under modifier indicator 0 no NCCI-associated modifier bypasses the edit, so sending the
    line again with one only earns the same denial.
    """
    modifier = (modifier or "").strip().upper()
    if not modifier:
        return "Choose the modifier for the corrected claim line."
    if modifier_indicator == _INDICATOR_NOT_ALLOWED and modifier in bypass_modifiers:
        return (
            f"NCCI edit {column1}/{column2} has modifier indicator 0: no modifier can bypass it, so {modifier} "
            "would be refused. Write it off instead."
        )
    return ""


def modifier_cannot_bypass(*, modifier_indicator: str) -> bool:
    """True when no NCCI bypass modifier can help (indicator 0): the page warns before the coder tries."""
    return modifier_indicator == _INDICATOR_NOT_ALLOWED
