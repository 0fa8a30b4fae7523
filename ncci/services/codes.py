"""Code lists: the CARC, RARC, group-code and modifier lists shipped with the project."""

from __future__ import annotations

import csv
import datetime as dt
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


def _parse_date(value: str) -> dt.date | None:
    value = (value or "").strip()
    return dt.date.fromisoformat(value) if value else None


def _load_code_csv(model: type[Carc] | type[Rarc], path: Path) -> int:
    """Add the codes of a CSV (code, description, start_date, stop_date, source) not yet known.

    Existing rows keep an admin's edits: only a blank description is filled in. New rows
    are created in bulk with their history rows (django-simple-history).
    """
    from simple_history.utils import bulk_create_with_history

    existing = dict(model.objects.values_list("code", "description"))
    new: dict[str, CodeDefinition] = {}
    fill: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["code"].strip().upper()
            description = (row.get("description") or "").strip()
            if not code:
                continue
            if code in existing:
                if not existing[code] and description:
                    fill[code] = description
                continue
            if code not in new:
                new[code] = model(
                    code=code,
                    description=description,
                    start_date=_parse_date(row.get("start_date", "")),
                    stop_date=_parse_date(row.get("stop_date", "")),
                )
    if new:
        bulk_create_with_history(list(new.values()), model, batch_size=500)
    for code, description in fill.items():
        obj = model.objects.get(code=code)
        obj.description = description
        obj.save(update_fields=["description"])
    return len(new)


@transaction.atomic
def codes_load(*, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Load the CARC, RARC, group-code and modifier lists shipped with the project.

    Idempotent, and it never overwrites what an admin changed (see ``_load_code_csv``).
    The RARC list with descriptions goes first; the codes-only list adds the codes it lacks.
    """
    counts = {
        "carc": _load_code_csv(Carc, data_dir / "carc_tigershark_0.3.4.csv"),
        "rarc": _load_code_csv(Rarc, data_dir / "rarc_tigershark_0.3.4.csv"),
    }
    counts["rarc"] += _load_code_csv(Rarc, data_dir / "rarc_codes_only_pyx12_4.0.0.csv")
    counts["group"] = sum(
        GroupCode.objects.get_or_create(code=code, defaults={"description": text})[1]
        for code, text in GROUP_CODES.items()
    )
    counts["modifier"] = sum(
        Modifier.objects.get_or_create(code=code, defaults={"description": text, "bypass_group": group})[1]
        for code, (text, group) in MODIFIERS.items()
    )
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
