"""The demo NCCI tables (``load_demo``): a few real CMS rows plus illustrative demo edits."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from ncci.models import (
    NcciImport,
    ProcedureCode,
)
from ncci.services.codes import DATA_DIR
from ncci.services.imports import ncci_file_import

# ---------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------

DEMO_NCCI_DIR = DATA_DIR / "demo"


def _demo_procedure_codes(path: Path) -> int:
    created = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            _, was_created = ProcedureCode.objects.get_or_create(
                code=row["code"].strip().upper(),
                defaults={
                    "short_description": row["short_description"].strip(),
                    "description": row.get("description", "").strip(),
                },
            )
            created += was_created
    return created


def ncci_demo_load(*, directory: Path = DEMO_NCCI_DIR) -> dict[str, Any]:
    """Load the demo PTP and MUE tables through the real importer, and plain-words
    descriptions of the demo codes. Safe to run again: a re-import changes nothing."""
    report: dict[str, Any] = {"procedure codes added": _demo_procedure_codes(directory / "procedure_codes.csv")}
    files = sorted(p for p in directory.iterdir() if p.is_file() and re.search(r"ccipra|ccioph|mcr_mue", p.name, re.I))
    for path in files:
        record = ncci_file_import(path=path)
        if record.status == NcciImport.Status.DONE:
            report[path.name] = f"added {record.added}, changed {record.changed}, unchanged {record.unchanged}"
        else:
            report[path.name] = f"{record.status}: {record.error}"
    return report
