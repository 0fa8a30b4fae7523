"""Writes for reference data, one module per kind of work.

- ``codes``: the shipped CARC, RARC, group-code and modifier lists and summaries (``codes_load``).
- ``code_lists``: the importer for the current CARC, RARC and procedure-code lists.
- ``imports``: NCCI quarterly imports: create, upload, claim, run, report.
- ``staging``: streaming PTP rows into a staging table and merging them; merging MUE rows.
- ``demo``: the demo NCCI tables ``load_demo`` uses.

Callers import from here.
"""

from __future__ import annotations

from ncci.services.code_lists import (
    CodeListRefused,
    accepted_headers_text,
    code_list_file_import,
    code_list_import_create,
    code_list_import_report_lines,
    code_list_import_run,
    code_list_import_upload,
    parse_code_list,
)
from ncci.services.codes import (
    DATA_DIR,
    GROUP_CODES,
    SHIPPED_CODE_FILES,
    SUMMARIES_FILE,
    bypass_modifiers,
    codes_load,
    shipped_summaries,
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
    "SHIPPED_CODE_FILES",
    "SUMMARIES_FILE",
    "TABLE_WORDS",
    "UPLOAD_DIR_NAME",
    "CodeListRefused",
    "ImportTally",
    "NcciImportRefused",
    "accepted_headers_text",
    "bypass_modifiers",
    "code_list_file_import",
    "code_list_import_create",
    "code_list_import_report_lines",
    "code_list_import_run",
    "code_list_import_upload",
    "codes_load",
    "ncci_demo_load",
    "ncci_file_import",
    "ncci_import_claim",
    "ncci_import_create",
    "ncci_import_report_lines",
    "ncci_import_requeue",
    "ncci_import_run",
    "ncci_import_upload",
    "parse_code_list",
    "shipped_summaries",
]
