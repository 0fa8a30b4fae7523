"""Writes for the denials app, one module per kind of work; every state change is audited.

- ``audit``: the audit trail (``audit_record``).
- ``access``: the access trail, one row per look at patient data (``access_record``).
- ``receiving``: receiving 835 files and running their ingestion (claim, read, finish, retry, sweep).
- ``storing``: storing one ST/SE transaction set, all or nothing.
- ``defaults``: the shipped adjustment and category rules.
- ``reference``: the tables triage reads (payers, category and queue rules); a change re-triages.
- ``triaging``: triage orchestration over the pure rules in ``denials.triage``.
- ``worklist``: the coder's actions on denials (assign, next, outcomes, bulk, notes).
- ``documents``: clinical documents and evidence passages.

Callers import from here; the names below are the public surface.
"""

from __future__ import annotations

from denials.services.access import (
    access_record,
)
from denials.services.audit import (
    audit_record,
)
from denials.services.defaults import (
    adjustment_rules_load_defaults,
    category_rules_load_defaults,
)
from denials.services.documents import (
    document_upload,
    evidence_delete,
    evidence_save,
)
from denials.services.receiving import (
    adjustment_classifier,
    remittance_file_claim,
    remittance_file_ingest,
    remittance_file_receive,
    remittance_file_record_validation,
    remittance_file_retry,
    remittance_file_skip_validation,
    remittance_files_sweep_stuck,
)
from denials.services.reference import (
    category_rule_delete,
    category_rule_save,
    payer_save,
    queue_rule_delete,
    queue_rule_save,
    reference_rows_delete,
    reference_rules_changed,
)
from denials.services.storing import (
    remittance_store,
)
from denials.services.triaging import (
    denials_triage,
)
from denials.services.worklist import (
    DenialActionRefused,
    DenialConflict,
    denial_add_note,
    denial_assign,
    denial_record_outcome,
    denial_take_next,
    denials_bulk_assign,
    denials_bulk_write_off,
)

__all__ = [
    "DenialActionRefused",
    "DenialConflict",
    "access_record",
    "adjustment_classifier",
    "adjustment_rules_load_defaults",
    "audit_record",
    "category_rule_delete",
    "category_rule_save",
    "category_rules_load_defaults",
    "denial_add_note",
    "denial_assign",
    "denial_record_outcome",
    "denial_take_next",
    "denials_bulk_assign",
    "denials_bulk_write_off",
    "denials_triage",
    "document_upload",
    "evidence_delete",
    "evidence_save",
    "payer_save",
    "queue_rule_delete",
    "queue_rule_save",
    "reference_rows_delete",
    "reference_rules_changed",
    "remittance_file_claim",
    "remittance_file_ingest",
    "remittance_file_receive",
    "remittance_file_record_validation",
    "remittance_file_retry",
    "remittance_file_skip_validation",
    "remittance_files_sweep_stuck",
    "remittance_store",
]
