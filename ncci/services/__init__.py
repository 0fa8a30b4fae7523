"""Writes for reference data, one module per kind of work.

- ``codes``: the shipped CARC, RARC, group-code and modifier lists (``codes_load``).
- ``imports``: NCCI quarterly imports: create, upload, claim, run, report.
- ``staging``: streaming PTP rows into a staging table and merging them; merging MUE rows.
- ``demo``: the demo NCCI tables ``load_demo`` uses.

Callers import from here.
"""

from __future__ import annotations

from ncci.services.codes import (
    DATA_DIR,
    GROUP_CODES,
    bypass_modifiers,
    codes_load,
)
from ncci.services.demo import (
    DEMO_NCCI_DIR,
    ncci_demo_load,
)
from ncci.services.imports import (
    MUE_BYTES_PER_ROW,
    PTP_BYTES_PER_ROW,
    PTP_SETTINGS,
    TABLE_WORDS,
    UPLOAD_DIR_NAME,
    NcciImportRefused,
    ncci_file_import,
    ncci_import_claim,
    ncci_import_create,
    ncci_import_report_lines,
    ncci_import_requeue,
    ncci_import_run,
    ncci_import_upload,
)
from ncci.services.staging import (
    IMPORT_BATCH_ROWS,
    REJECTS_KEPT,
    ImportTally,
)

__all__ = [
    "DATA_DIR",
    "DEMO_NCCI_DIR",
    "GROUP_CODES",
    "IMPORT_BATCH_ROWS",
    "MUE_BYTES_PER_ROW",
    "PTP_BYTES_PER_ROW",
    "PTP_SETTINGS",
    "REJECTS_KEPT",
    "TABLE_WORDS",
    "UPLOAD_DIR_NAME",
    "ImportTally",
    "NcciImportRefused",
    "bypass_modifiers",
    "codes_load",
    "ncci_demo_load",
    "ncci_file_import",
    "ncci_import_claim",
    "ncci_import_create",
    "ncci_import_report_lines",
    "ncci_import_requeue",
    "ncci_import_run",
    "ncci_import_upload",
]
