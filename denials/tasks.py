"""Celery tasks: small, take ids, safe to run twice. The work lives in services."""

from __future__ import annotations

import logging
import uuid

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def ingest_remittance_file(self, file_id: int) -> str:  # type: ignore[no-untyped-def]
    """Ingest one stored 835 file.

    After a failed attempt (recorded on the file, which went back to "received") the task
    tries again after a pause. A delivery that finds the file held by a live lease (the
    broker redelivered a message whose first run is still going, or whose worker was
    killed) checks back when that lease runs out: if the holder is alive it has renewed
    it, and if not this delivery takes the file over.
    """
    from django.conf import settings
    from django.db import OperationalError
    from django.utils import timezone

    from denials.models import RemittanceFile
    from denials.services import remittance_file_ingest

    task_id = self.request.id or f"local-{uuid.uuid4()}"
    try:
        file = remittance_file_ingest(file_id=file_id, task_id=task_id)
    except OperationalError as exc:  # the database is briefly unavailable: nothing was recorded, try again
        raise self.retry(exc=exc, countdown=5) from exc
    if file.status == RemittanceFile.Status.RECEIVED and file.attempts:
        raise self.retry(countdown=min(60, 5 * 2 ** (file.attempts - 1)), max_retries=None)
    if file.status == RemittanceFile.Status.PROCESSING and file.lease_expires_at and not self.request.is_eager:
        wait = int((file.lease_expires_at - timezone.now()).total_seconds()) + 1
        # A countdown past the broker's visibility timeout would be delivered twice.
        visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
        raise self.retry(countdown=max(1, min(wait, visibility - 5)), max_retries=None)
    return file.status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def validate_remittance_file(file_id: int) -> str:
    """pyx12's strict 5010 implementation-guide check and 999, stored with the file."""
    from django.conf import settings

    from denials.models import RemittanceFile
    from denials.services import remittance_file_record_validation, remittance_file_skip_validation
    from denials.x12.strict import validate_strict

    file = RemittanceFile.objects.only("content", "size").get(pk=file_id)
    if file.size > settings.STRICT_X12_VALIDATION_MAX_BYTES:
        remittance_file_skip_validation(file_id=file_id)
        return "skipped"
    result = validate_strict(bytes(file.content))
    remittance_file_record_validation(
        file_id=file_id,
        ok=result.ok,
        findings=[
            {
                "segment_number": f.segment_number,
                "segment_id": f.segment_id,
                "code": f.code,
                "message": f.message,
                "severity": f.severity,
            }
            for f in result.findings
        ],
        ack_999=result.ack_999,
        error=result.error,
    )
    return "passed" if result.ok else "findings"


@shared_task
def sweep_stuck_remittance_files() -> list[int]:
    from denials.services import remittance_files_sweep_stuck

    return remittance_files_sweep_stuck()


@shared_task
def scan_inbox() -> int:
    from denials.inbox import inbox_scan

    return len(inbox_scan())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def retriage_open_denials() -> int:
    """Re-triage every denial not yet worked (rules, NCCI tables or outcomes changed)."""
    from denials.services import denials_triage

    return denials_triage(only_unworked=True)
