"""Code lists: the CARC, RARC, group-code and modifier lists shipped with the project."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from ncci import ptp
from ncci.models import (
    Carc,
    CodeDefinition,
    GroupCode,
    Modifier,
    Rarc,
)
from ncci.signals import reference_data_changed

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

GROUP_CODES = {
    "CO": "Contractual obligation: the provider absorbs it; never billed to the patient",
    "PR": "Patient responsibility: the patient owes it if valid",
    "OA": "Other adjustment: often coordination of benefits; review",
    "PI": "Payer-initiated reduction: no contract basis; review, often appealable",
    "CR": "Correction or reversal of a prior claim (4010 only)",
}

_DIGITS_HAND = ("second", "third", "fourth", "fifth", "thumb", "second", "third", "fourth", "fifth")
_DIGITS_FOOT = ("second", "third", "fourth", "fifth", "great", "second", "third", "fourth", "fifth")

#: What each modifier means, for the NCCI-associated ones (shared/DOMAIN.md §5) and the few
#: others coders use. Their bypass group is ``ncci.ptp``'s, the one list of them.
_MODIFIER_DESCRIPTIONS: dict[str, str] = {
    "59": "Distinct procedural service",
    "XE": "Separate encounter",
    "XS": "Separate structure (organ or site)",
    "XP": "Separate practitioner",
    "XU": "Unusual non-overlapping service",
    "27": "Multiple outpatient hospital E/M encounters on the same date",
    "91": "Repeat clinical diagnostic laboratory test",
    "24": "Unrelated E/M service during a postoperative period",
    "25": "Significant, separately identifiable E/M service on the day of a procedure",
    "57": "Decision for surgery",
    "58": "Staged or related procedure during the postoperative period",
    "78": "Unplanned return to the operating room during the postoperative period",
    "79": "Unrelated procedure during the postoperative period",
    "LT": "Left side",
    "RT": "Right side",
    "E1": "Upper left eyelid",
    "E2": "Lower left eyelid",
    "E3": "Upper right eyelid",
    "E4": "Lower right eyelid",
    "FA": "Left hand, thumb",
    **{
        f"F{i}": f"{['Left', 'Left', 'Left', 'Left', 'Right', 'Right', 'Right', 'Right', 'Right'][i - 1]} hand, "
        f"{_DIGITS_HAND[i - 1]} digit"
        for i in range(1, 10)
    },
    "TA": "Left foot, great toe",
    **{
        f"T{i}": f"{['Left', 'Left', 'Left', 'Left', 'Right', 'Right', 'Right', 'Right', 'Right'][i - 1]} foot, "
        f"{_DIGITS_FOOT[i - 1]} digit"
        for i in range(1, 10)
    },
    "LC": "Left circumflex coronary artery",
    "LD": "Left anterior descending coronary artery",
    "LM": "Left main coronary artery",
    "RC": "Right coronary artery",
    "RI": "Ramus intermedius coronary artery",
    "26": "Professional component",
    "TC": "Technical component",
    "50": "Bilateral procedure",
    "51": "Multiple procedures",
    "76": "Repeat procedure by the same physician",
    "GA": "Waiver of liability on file",
}


#: (description, bypass group) of every modifier ``codes_load`` seeds the admin table with.
MODIFIERS: dict[str, tuple[str, str]] = {
    code: (text, ptp.DEFAULT_MODIFIER_GROUPS.group_of(code)) for code, text in _MODIFIER_DESCRIPTIONS.items()
}


#: The code lists shipped as codes only (which codes exist), oldest source first; see SOURCES.txt.
#: The official descriptions are X12's: an admin imports them (``code_list_import``).
SHIPPED_CODE_FILES: dict[str, tuple[str, ...]] = {
    "carc": ("carc_codes_tigershark_0.3.4.csv",),
    "rarc": ("rarc_codes_tigershark_0.3.4.csv", "rarc_codes_pyx12_4.0.0.csv"),
}
#: Overturn's own plain-words summaries (list, code, summary).
SUMMARIES_FILE = "code_summaries.csv"

_MODELS: dict[str, type[CodeDefinition]] = {"carc": Carc, "rarc": Rarc, "group": GroupCode}


def shipped_summaries(*, data_dir: Path = DATA_DIR) -> dict[str, dict[str, str]]:
    """{"carc": {"97": "..."}, "rarc": {...}, "group": {...}} from ``code_summaries.csv``."""
    summaries: dict[str, dict[str, str]] = {kind: {} for kind in _MODELS}
    path = data_dir / SUMMARIES_FILE
    if not path.is_file():
        return summaries
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kind, code, text = (
                (row.get("list") or "").strip().lower(),
                (row.get("code") or "").strip().upper(),
                (row.get("summary") or "").strip(),
            )
            if kind in summaries and code and text:
                summaries[kind][code] = text
    return summaries


def _code_files(kind: str, data_dir: Path) -> list[Path]:
    if data_dir == DATA_DIR:
        return [data_dir / name for name in SHIPPED_CODE_FILES[kind]]
    return sorted(data_dir.glob(f"{kind}_*.csv"))


def _read_code_files(paths: list[Path]) -> dict[str, str]:
    """code -> description (blank in the shipped files: they carry codes only)."""
    codes: dict[str, str] = {}
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                code = (row.get("code") or "").strip().upper()
                if code and not codes.get(code):
                    codes[code] = (row.get("description") or "").strip()
    return codes


def _load_codes(model: type[CodeDefinition], codes: dict[str, str], summaries: dict[str, str]) -> tuple[int, int]:
    """Add the codes not yet known and set the shipped summaries; returns (codes added, summaries set).

    Never overwrites an admin's edit: a summary that differs from the one last shipped
    (``summary_shipped``) was edited and stays; only ``summary_shipped`` moves on. A blank
    description is filled from a file that has one (an admin's own folder); the shipped files
    have none. New rows are created in bulk with their history rows (django-simple-history).
    """
    from simple_history.utils import bulk_create_with_history

    wanted = {code: codes.get(code, "") for code in [*codes, *summaries]}
    existing = {obj.code: obj for obj in model.objects.filter(code__in=list(wanted))}  # type: ignore[attr-defined]
    new = [
        model(
            code=code, description=description, summary=summaries.get(code, ""), summary_shipped=summaries.get(code, "")
        )
        for code, description in wanted.items()
        if code not in existing
    ]
    if new:
        bulk_create_with_history(new, model, batch_size=500)
    summaries_set = sum(1 for obj in new if obj.summary)
    for code, obj in existing.items():
        fields: list[str] = []
        shipped = summaries.get(code, "")
        if shipped and shipped != obj.summary_shipped:
            if obj.summary == obj.summary_shipped:  # not edited by an admin
                obj.summary = shipped
                fields.append("summary")
                summaries_set += 1
            obj.summary_shipped = shipped
            fields.append("summary_shipped")
        if not obj.description and wanted[code]:
            obj.description = wanted[code]
            fields.append("description")
        if fields:
            obj.save(update_fields=fields)
    return len(new), summaries_set


@transaction.atomic
def codes_load(*, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Load the CARC, RARC, group-code and modifier lists shipped with the project, with
    Overturn's own plain-words summaries (``code_summaries.csv``).

    Idempotent, and it never overwrites what an admin changed (see ``_load_codes``). The
    shipped CARC and RARC files hold codes only: the official descriptions are X12's, and an
    admin imports the current lists (``manage.py import_codes``).
    """
    summaries = shipped_summaries(data_dir=data_dir)
    counts: dict[str, int] = {}
    summaries_set = 0
    for kind in ("carc", "rarc"):
        model = _MODELS[kind]
        counts[kind], n = _load_codes(model, _read_code_files(_code_files(kind, data_dir)), summaries[kind])
        summaries_set += n
    counts["group"] = sum(
        GroupCode.objects.get_or_create(code=code, defaults={"description": text})[1]
        for code, text in GROUP_CODES.items()
    )
    summaries_set += _load_codes(GroupCode, {}, summaries["group"])[1]
    counts["modifier"] = sum(
        Modifier.objects.get_or_create(code=code, defaults={"description": text, "bypass_group": group})[1]
        for code, (text, group) in MODIFIERS.items()
    )
    counts["summary"] = summaries_set
    if counts["carc"]:
        # The denials app fills the new CARCs' suggested categories from its category rules.
        transaction.on_commit(lambda: reference_data_changed.send(sender=Carc, table="codes"))
    return counts


def bypass_modifiers() -> frozenset[str]:
    """The modifiers that may bypass a PTP edit with indicator 1, as admins keep them.

    Kept for the callers that have not moved yet: a read, so it is
    ``ncci.selectors.modifier_groups().bypass`` (with the anatomic group triage needs).
    """
    from ncci.selectors import modifier_groups

    return modifier_groups().bypass
