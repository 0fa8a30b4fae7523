"""Celery tasks of the ncci app: small, take ids, safe to run twice. The work lives in services."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_ncci_file(import_id: int) -> str:
    """Import one stored NCCI file (NcciImport row). A second delivery finds the row claimed
    or finished and does nothing; the import itself is one transaction, so a worker lost
    halfway leaves nothing half-written for the next claim to trip on."""
    from ncci.services import ncci_import_run

    return ncci_import_run(import_id=import_id).status
