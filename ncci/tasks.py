"""Celery tasks of the ncci app: small, take ids, safe to run twice. The work lives in services."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def import_ncci_file(self, import_id: int) -> str:  # type: ignore[no-untyped-def]
    """Import one stored NCCI file (an NcciImport row).

    A second delivery finds the row claimed or finished and does nothing; the import itself
    is one transaction, so a worker lost halfway leaves nothing half-written, and the row is
    claimed again once its heartbeat is stale. A database that is briefly unavailable puts
    the row back in the queue and retries.
    """
    from django.db import OperationalError

    from ncci.services import ncci_import_requeue, ncci_import_run

    try:
        return ncci_import_run(import_id=import_id).status
    except OperationalError as exc:
        if self.request.retries < self.max_retries and ncci_import_requeue(import_id=import_id):
            raise self.retry(exc=exc, countdown=30) from exc
        raise


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_code_list_file(import_id: int) -> str:
    """Import one stored code-list file (a CodeListImport row): CARC, RARC or procedure codes.

    A second delivery finds the row claimed or finished and does nothing; the merge is one
    transaction, so nothing is half-written.
    """
    from ncci.services import code_list_import_run

    return code_list_import_run(import_id=import_id).status
