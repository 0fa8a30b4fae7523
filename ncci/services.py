"""Writes for reference data: code lists, PTP and MUE imports."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from django.db import transaction

from ncci.models import Carc, CodeDefinition, GroupCode, Modifier, Rarc

DATA_DIR = Path(__file__).resolve().parent / "data"

GROUP_CODES = {
    "CO": "Contractual obligation: the provider absorbs it; never billed to the patient",
    "PR": "Patient responsibility: the patient owes it if valid",
    "OA": "Other adjustment: often coordination of benefits; review",
    "PI": "Payer-initiated reduction: no contract basis; review, often appealable",
    "CR": "Correction or reversal of a prior claim (4010 only)",
}

#: NCCI-associated modifiers (shared/DOMAIN.md §5) plus the few non-bypass ones coders use.
MODIFIERS: dict[str, tuple[str, str]] = {
    "59": ("Distinct procedural service", "other"),
    "XE": ("Separate encounter", "other"),
    "XS": ("Separate structure (organ or site)", "other"),
    "XP": ("Separate practitioner", "other"),
    "XU": ("Unusual non-overlapping service", "other"),
    "27": ("Multiple outpatient hospital E/M encounters on the same date", "other"),
    "91": ("Repeat clinical diagnostic laboratory test", "other"),
    "24": ("Unrelated E/M service during a postoperative period", "global-surgery"),
    "25": ("Significant, separately identifiable E/M service on the day of a procedure", "global-surgery"),
    "57": ("Decision for surgery", "global-surgery"),
    "58": ("Staged or related procedure during the postoperative period", "global-surgery"),
    "78": ("Unplanned return to the operating room during the postoperative period", "global-surgery"),
    "79": ("Unrelated procedure during the postoperative period", "global-surgery"),
    "LT": ("Left side", "anatomic"), "RT": ("Right side", "anatomic"),
    "E1": ("Upper left eyelid", "anatomic"), "E2": ("Lower left eyelid", "anatomic"),
    "E3": ("Upper right eyelid", "anatomic"), "E4": ("Lower right eyelid", "anatomic"),
    "FA": ("Left hand, thumb", "anatomic"),
    **{f"F{i}": (f"{['Left', 'Left', 'Left', 'Left', 'Right', 'Right', 'Right', 'Right', 'Right'][i - 1]} hand, "
                 f"{['second', 'third', 'fourth', 'fifth', 'thumb', 'second', 'third', 'fourth', 'fifth'][i - 1]} digit",
                 "anatomic") for i in range(1, 10)},
    "TA": ("Left foot, great toe", "anatomic"),
    **{f"T{i}": (f"{['Left', 'Left', 'Left', 'Left', 'Right', 'Right', 'Right', 'Right', 'Right'][i - 1]} foot, "
                 f"{['second', 'third', 'fourth', 'fifth', 'great', 'second', 'third', 'fourth', 'fifth'][i - 1]} digit",
                 "anatomic") for i in range(1, 10)},
    "LC": ("Left circumflex coronary artery", "anatomic"), "LD": ("Left anterior descending coronary artery", "anatomic"),
    "LM": ("Left main coronary artery", "anatomic"), "RC": ("Right coronary artery", "anatomic"),
    "RI": ("Ramus intermedius coronary artery", "anatomic"),
    "26": ("Professional component", "none"), "TC": ("Technical component", "none"),
    "50": ("Bilateral procedure", "none"), "51": ("Multiple procedures", "none"),
    "76": ("Repeat procedure by the same physician", "none"), "GA": ("Waiver of liability on file", "none"),
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

    existing = {code: description for code, description in model.objects.values_list("code", "description")}
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
                new[code] = model(code=code, description=description, start_date=_parse_date(row.get("start_date", "")),
                                  stop_date=_parse_date(row.get("stop_date", "")))
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
        GroupCode.objects.get_or_create(code=code, defaults={"description": text})[1] for code, text in GROUP_CODES.items()
    )
    counts["modifier"] = sum(
        Modifier.objects.get_or_create(code=code, defaults={"description": text, "bypass_group": group})[1]
        for code, (text, group) in MODIFIERS.items()
    )
    return counts


def bypass_modifiers() -> frozenset[str]:
    """The modifiers that may bypass a PTP edit with indicator 1, as admins keep them."""
    return frozenset(Modifier.objects.exclude(bypass_group=Modifier.BypassGroup.NONE).values_list("code", flat=True))
