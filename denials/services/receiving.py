"""Receiving 835 files and running their ingestion: store the bytes, claim the file with a
conditional update, read it with the pure reader, store each ST/SE, finish or fail it."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from denials.detection import AdjustmentClassifier
from denials.models import (
    Adjustment,
    AdjustmentRule,
    ClaimPayment,
    Denial,
    Remittance,
    RemittanceFile,
    ServiceLine,
)
from denials.services.audit import audit_record
from denials.services.queueing import INGEST_FILE, VALIDATE_FILE, queue_after_commit
from denials.services.storing import parsed_file_check, remittance_store, safe_text
from denials.services.triaging import IngestTriage, denials_triage
from denials.signals import remittance_file_stored
from denials.x12 import parsed as x12
from denials.x12.reader import SUPPORTED_VERSIONS, read_835

logger = logging.getLogger(__name__)
Status = RemittanceFile.Status
MAX_FINDINGS_SHOWN = 50
MAX_ERROR_CHARS = 4000  # of an exception's text kept on the file


def remittance_file_receive(
    *,
    name: str,
    content: bytes,
    source: str,
    uploaded_by: User | None = None,
    queue: bool = True,
) -> RemittanceFile:
    """Store a received 835 byte for byte and queue its ingestion (after commit).

    The same bytes received again are recorded as a duplicate of the first copy and
    change nothing else; if that first copy had failed, it is retried instead (and returned,
    unless the sender could not open it, someone else's upload: they get the duplicate record).
    """
    digest = hashlib.sha256(content).hexdigest()
    name = name.replace("\x00", "")  # a file name is text; PostgreSQL cannot store a NUL in it
    user = uploaded_by if uploaded_by is not None and uploaded_by.is_authenticated else None
    with transaction.atomic():
        existing = RemittanceFile.objects.filter(sha256=digest).exclude(status=Status.DUPLICATE).first()
        if existing is None:
            try:
                with transaction.atomic():
                    new_file = RemittanceFile.objects.create(
                        original_name=name[:255],
                        content=content,
                        sha256=digest,
                        size=len(content),
                        source=source,
                        uploaded_by=user,
                    )
            except IntegrityError:
                # Another request stored the same bytes a moment ago.
                existing = RemittanceFile.objects.filter(sha256=digest).exclude(status=Status.DUPLICATE).get()
            else:
                audit_record(
                    actor=user,
                    action="remittance_file.received",
                    target=new_file,
                    new={"status": new_file.status, "source": source, "sha256": digest},
                )
                if queue:
                    _queue_ingest(new_file)
                return new_file

        if existing.status == Status.FAILED and not remittance_file_retry_refusal(existing):
            remittance_file_retry(file=existing, actor=user, queue=queue)
            if _may_follow(user, existing):
                return existing
            # Someone else's failed upload: it is retried, and this sender gets a receipt of their
            # own below (the other file's page would answer them 404).
        duplicate = RemittanceFile.objects.create(
            original_name=name[:255],
            content=b"",  # the bytes are kept once, on the first copy
            sha256=digest,
            size=len(content),
            source=source,
            uploaded_by=user,
            status=Status.DUPLICATE,
            duplicate_of=existing,
            error=f"The same file was already received as #{existing.pk} ({existing.original_name}).",
            finished_at=timezone.now(),
        )
        audit_record(
            actor=user,
            action="remittance_file.duplicate",
            target=duplicate,
            new={"status": Status.DUPLICATE, "duplicate_of": existing.pk},
        )
        return duplicate


def _may_follow(user: User | None, file: RemittanceFile) -> bool:
    """Whether the sender can open ``file``'s page (no sender, as from the inbox: nobody to tell)."""
    from denials.selectors import remittance_files_visible_to

    return user is None or remittance_files_visible_to(user=user).filter(pk=file.pk).exists()


def _queue_ingest(file: RemittanceFile) -> None:
    queue_after_commit(INGEST_FILE, file.pk)


class RetryRefused(ValueError):
    """A failed file that no retry can fix; the message says why, for the person asking."""


def remittance_file_retry_refusal(file: RemittanceFile) -> str:
    """Why retrying this file can never succeed, or "" when a retry may help.

    Only a file refused for its X12 version qualifies: the reader supports 5010 835s only
    (``SUPPORTED_VERSIONS``), so a 4010 file fails the same way every time. Other failures
    (a worker killed, a database error, a bug since fixed) may pass on a retry.
    """
    version = (file.x12_version or "").strip()
    if not version or version in SUPPORTED_VERSIONS:
        return ""
    era = "a 4010 remittance" if version.startswith(("004010", "003")) else "not a 5010 835 remittance"
    return (
        f"{file.original_name} cannot be retried: its X12 version {version} is {era}, and Overturn reads "
        "5010 835 remittances (005010X221A1) only, so it would fail the same way again. Ask the payer or "
        "clearinghouse for the 5010 version of this remittance and upload that."
    )


def remittance_file_retry(*, file: RemittanceFile, actor: User | None, queue: bool = True) -> bool:
    """Put a failed file back in line, with a fresh count of attempts. Returns False when it
    was not failed; raises ``RetryRefused`` when it failed in a way no retry can fix."""
    refusal = remittance_file_retry_refusal(file)
    if refusal:
        raise RetryRefused(refusal)
    with transaction.atomic():
        changed = RemittanceFile.objects.filter(pk=file.pk, status=Status.FAILED).update(
            status=Status.RECEIVED, error="", worker_task_id="", lease_expires_at=None, finished_at=None, attempts=0
        )
        if not changed:
            return False
        audit_record(
            actor=actor,
            action="remittance_file.retry",
            target=file,
            old={"status": Status.FAILED},
            new={"status": Status.RECEIVED},
        )
        if queue:
            _queue_ingest(file)
    file.refresh_from_db()
    return True


# --- Claiming and ingesting ----------------------------------------------------------
def remittance_file_claim(*, file_id: int, task_id: str) -> str:
    """Take a file for ingestion with one conditional update. Returns the holder token the
    attempt renews its lease and finishes with, or "" when someone else has the file.

    Claimable: a received file, or a processing file whose holder's lease ran out (its
    worker died or hung). A live lease is never taken over, not even by a redelivery of the
    same task: with ``acks_late`` the broker hands a message that outlived its visibility
    timeout to a second worker while the first still runs it. The token is new for every
    attempt, so an attempt whose lease was taken over can no longer renew or finish.
    """
    now = timezone.now()
    holder = f"{task_id[:48]}/{secrets.token_hex(6)}"
    claimable = Q(status=Status.RECEIVED) | Q(status=Status.PROCESSING, lease_expires_at__lt=now)
    claimed = RemittanceFile.objects.filter(claimable, pk=file_id).update(
        status=Status.PROCESSING,
        worker_task_id=holder,
        lease_expires_at=now + dt.timedelta(seconds=settings.INGEST_LEASE_SECONDS),
        started_at=now,
        attempts=F("attempts") + 1,
    )
    return holder if claimed else ""


def _renew_lease(file_id: int, holder: str, done: int) -> bool:
    lease = timezone.now() + dt.timedelta(seconds=settings.INGEST_LEASE_SECONDS)
    return bool(
        RemittanceFile.objects.filter(pk=file_id, status=Status.PROCESSING, worker_task_id=holder).update(
            transactions_done=done, lease_expires_at=lease
        )
    )


def _findings_text(findings: Iterable[x12.Finding]) -> str:
    items = list(findings)
    lines = [str(f) for f in items[:MAX_FINDINGS_SHOWN]]
    if len(items) > MAX_FINDINGS_SHOWN:
        lines.append(f"... and {len(items) - MAX_FINDINGS_SHOWN} more")
    return "\n".join(lines)


def _finish(file_id: int, holder: str, *, status: str, **fields: Any) -> bool:
    # Text read from the file may hold NUL bytes, which PostgreSQL cannot store: a file
    # must never stick in "processing" because its own error message could not be saved.
    for name, value in fields.items():
        if isinstance(value, str):
            fields[name] = safe_text(value)
    if "warnings" in fields:
        fields["warnings"] = [safe_text(w) for w in fields["warnings"]]
    updated = RemittanceFile.objects.filter(pk=file_id, status=Status.PROCESSING, worker_task_id=holder).update(
        status=status, finished_at=timezone.now(), lease_expires_at=None, **fields
    )
    if updated:
        file = RemittanceFile.objects.defer("content").get(pk=file_id)  # the audit row names it: not its bytes
        audit_record(
            actor=None,
            actor_label="ingest worker",
            action=f"remittance_file.{status}",
            target=file,
            old={"status": Status.PROCESSING},
            new={"status": status, "error": fields.get("error", "")},
        )
    return bool(updated)


def adjustment_classifier() -> AdjustmentClassifier:
    return AdjustmentClassifier.from_rows(AdjustmentRule.objects.values_list("group_code", "carc", "kind"))


def remittance_file_ingest(*, file_id: int, task_id: str) -> RemittanceFile:
    """Read and store one file, if it can be claimed. Safe to run twice: transaction sets
    already stored are skipped.

    A file whose content is wrong (unreadable, or a value no column can hold) fails at
    once with nothing stored. Anything unexpected (a database error, a bug) fails only
    this attempt: it is recorded on the file, the transaction set being stored is rolled
    back, and the file goes back in line until ``INGEST_MAX_ATTEMPTS`` attempts failed.
    """
    holder = remittance_file_claim(file_id=file_id, task_id=task_id)
    if not holder:
        return RemittanceFile.objects.defer("content").get(pk=file_id)
    file = RemittanceFile.objects.get(pk=file_id)
    if file.attempts > settings.INGEST_MAX_ATTEMPTS:
        # Earlier attempts never reported back: their worker died with the file (killed,
        # out of memory). A file that takes its worker down every time stops here.
        _finish(
            file_id,
            holder,
            status=Status.FAILED,
            error=f"Ingestion was attempted {file.attempts - 1} times and never finished: the worker stopped "
            f"(killed or out of memory?). {file.error}".strip()
            + " Use Retry once the cause is fixed.",
        )
        return RemittanceFile.objects.defer("content").get(pk=file_id)
    try:
        _ingest_claimed(file, holder)
    except Exception as exc:
        logger.exception("ingesting remittance file %s failed (attempt %s)", file_id, file.attempts)
        _attempt_failed(file_id, holder, attempt=file.attempts, exc=exc)
    return RemittanceFile.objects.defer("content").get(pk=file_id)


def remittance_file_ingest_here(*, file_id: int, task_id: str) -> RemittanceFile:
    """Ingest now, in this process, with the same attempts a worker would make (for the
    ``ingest_835 --sync`` and ``load_demo`` commands, which have no task to retry them).
    Ends with the file ingested, duplicate or failed, or held by someone else."""
    while True:
        file = remittance_file_ingest(file_id=file_id, task_id=task_id)
        if file.status != Status.RECEIVED or not file.attempts:
            return file


def _attempt_failed(file_id: int, holder: str, *, attempt: int, exc: Exception) -> None:
    """Record a failed attempt; after the last allowed one the file is failed for good."""
    maximum = settings.INGEST_MAX_ATTEMPTS
    reason = safe_text(f"{type(exc).__name__}: {exc}", limit=MAX_ERROR_CHARS)
    if attempt >= maximum:
        _finish(
            file_id,
            holder,
            status=Status.FAILED,
            error=f"Ingestion failed {attempt} times and is not retried again (Retry once the cause is fixed). "
            f"Last error: {reason}",
        )
        return
    with transaction.atomic():
        released = RemittanceFile.objects.filter(pk=file_id, status=Status.PROCESSING, worker_task_id=holder).update(
            status=Status.RECEIVED,
            worker_task_id="",
            lease_expires_at=None,
            error=f"Attempt {attempt} of {maximum} failed and will be retried: {reason}",
        )
        if released:
            audit_record(
                actor=None,
                actor_label="ingest worker",
                action="remittance_file.attempt_failed",
                target=RemittanceFile.objects.only("original_name").get(pk=file_id),
                old={"status": Status.PROCESSING},
                new={"status": Status.RECEIVED, "attempt": attempt, "error": reason},
            )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one file is read and stored.

    A big remittance keeps hundreds of thousands of parsed objects alive while its rows are
    stored, and every collection would scan them again: about a sixth of the worker's time
    on a 5,000-claim file. Storing builds no reference cycles worth collecting (rows are
    tuples and strings, freed by reference counting); the collector runs again afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ingest_claimed(file: RemittanceFile, holder: str) -> None:
    if settings.INGEST_BACKEND_NICE:
        database_backend_niced()
    with _collector_paused():
        _read_and_store(file, holder)


def database_backend_niced() -> int | None:
    """Give this process's PostgreSQL backend this process's CPU niceness, and its scheduling
    class when the worker runs as the machine's idle work (``SCHED_IDLE``: ``make serve``'s
    WORKER_SCHED=idle); returns the backend's pid when it has them (now or already), None when
    that cannot be done here.

    The worker runs niced (``make serve``: WORKER_NICE) so that people's requests go first, but
    much of an ingest's CPU time is PostgreSQL's, in the backend serving the worker's connection
    (COPY, indexes, foreign keys, the queue counters' triggers), at the server's own priority.
    Done only when it is certainly that backend: PostgreSQL over TCP on this machine (the
    backend's client port is this connection's port, and the process with the backend's pid
    holds that connection's other end), and only if this process may (root, CAP_SYS_NICE, or
    PostgreSQL's own user). A backend serves one connection for its life, so the niceness goes
    when the connection does. Not done through a pooler, over a Unix socket, or for a server in
    another machine or container: nothing is changed there.
    """
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    idle = runs_idle(0)
    if connection.vendor != "postgresql" or (nice <= 0 and not idle):
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), inet_server_port(), inet_client_port()")
        pid, server_port, client_port = cursor.fetchone()
    try:
        sock = socket.socket(fileno=os.dup(connection.connection.pgconn.socket))
        with sock:
            local_port = sock.getsockname()[1] if sock.family in (socket.AF_INET, socket.AF_INET6) else None
        if client_port is None or local_port != client_port or not _holds_connection(pid, server_port, local_port):
            return None
        if os.getpriority(os.PRIO_PROCESS, pid) < nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
        if idle and not runs_idle(pid):
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    except OSError as exc:  # not permitted, or no /proc: the backend keeps its priority
        logger.debug("PostgreSQL backend %s not reniced: %s", pid, exc)
        return None
    if in_another_autogroup(int(pid)):
        _autogroups_warned()
    return int(pid)


AUTOGROUP_SWITCH = Path("/proc/sys/kernel/sched_autogroup_enabled")


def in_another_autogroup(pid: int) -> bool:
    """Whether Linux's scheduler autogroups are on and put process ``pid`` in another group than
    this one. Each group (each session: PostgreSQL's server, the worker's) gets an equal share of
    the CPUs, and niceness counts only inside a group: a niced backend alone in PostgreSQL's
    group competes with the web at the whole server's share. The load test measured phase 2's p95
    at 2.24x phase 1's with autogroups on, 1.05x with them off (README, *PostgreSQL on the web's
    machine*). False where there are no autogroups or /proc cannot tell."""
    try:
        if AUTOGROUP_SWITCH.read_text().strip() != "1":
            return False
        return _autogroup(pid) != _autogroup(os.getpid())
    except (OSError, IndexError):
        return False


def _autogroup(pid: int) -> str:
    return Path(f"/proc/{pid}/autogroup").read_text().split()[0]


@cache
def _autogroups_warned() -> None:
    """Once per worker process: the niceness given to the backend will not put it behind the web."""
    logger.warning(
        "Linux's scheduler autogroups are on (kernel.sched_autogroup_enabled=1) and PostgreSQL runs in "
        "another session: the ingest's backend is niced, but competes with the web's requests at the "
        "whole PostgreSQL server's CPU share. Set kernel.sched_autogroup_enabled=0 on this machine "
        "(README: PostgreSQL on the web's machine)."
    )


def runs_idle(pid: int) -> bool:
    """Whether process ``pid`` (0: this one) runs in Linux's SCHED_IDLE class: it gets a CPU
    only when no ordinary process wants it, and an ordinary process that wakes takes the CPU
    from it at once (niceness only shares the CPU out unevenly, and a woken request may wait
    its turn). False where the class does not exist."""
    idle = getattr(os, "SCHED_IDLE", None)
    return idle is not None and os.sched_getscheduler(pid) == idle


def _holds_connection(pid: int, server_port: int, client_port: int) -> bool:
    """Whether process ``pid`` here is a PostgreSQL process holding the TCP connection from
    ``client_port`` to ``server_port`` (Linux /proc; False anywhere else)."""
    try:
        if not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres"):
            return False
        inodes = {
            target[8:-1]
            for fd in Path(f"/proc/{pid}/fd").iterdir()
            if (target := os.readlink(fd)).startswith("socket:[")
        }
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = (
                    int(fields[1].rsplit(":", 1)[1], 16),
                    int(fields[2].rsplit(":", 1)[1], 16),
                    fields[9],
                )
                if inode in inodes and (local, remote) == (server_port, client_port):
                    return True
    except OSError:
        return False
    return False


def _read_and_store(file: RemittanceFile, holder: str) -> None:
    file_id = file.pk
    content = bytes(file.content)
    parsed = read_835(content)
    if not parsed.ok:
        _finish(
            file_id,
            holder,
            status=Status.FAILED,
            error=_findings_text(parsed.errors),
            warnings=[str(w) for w in parsed.warnings[:MAX_FINDINGS_SHOWN]],
            x12_version=parsed.version[:20],
        )
        return
    classifier = adjustment_classifier()
    # The whole file is checked before any transaction set is stored: a value that does
    # not fit fails the file with nothing written (rounded amounts only warn).
    fit = parsed_file_check(parsed=parsed, classifier=classifier, nul_possible=b"\x00" in content)
    parsed.warnings.extend(fit.warnings)
    if not fit.ok:
        _finish(
            file_id,
            holder,
            status=Status.FAILED,
            error="Nothing was stored: the file holds values the database cannot store.\n" + _findings_text(fit.errors),
            warnings=[str(w) for w in parsed.warnings[:MAX_FINDINGS_SHOWN]],
            x12_version=parsed.version[:20],
        )
        return

    RemittanceFile.objects.filter(pk=file_id).update(
        transactions_total=len(parsed.transactions), x12_version=parsed.version[:20]
    )
    # Each set commits on its own (not one commit per file, even for a small one): a worker
    # that dies mid-file keeps the sets it stored, and the next attempt skips them.
    if _store_sets(file, holder, parsed, classifier):
        _after_ingest(file_id)


def _store_sets(file: RemittanceFile, holder: str, parsed: x12.ParsedFile, classifier: AdjustmentClassifier) -> bool:
    """Store every transaction set, then finish the file; False when it was taken over."""
    file_id = file.pk
    elsewhere: list[int] = []
    # Each set's new denials are triaged as they are stored (their rows go in triaged);
    # the rules and counts triage reads are read once for the file.
    triage = IngestTriage()
    for index, txn in enumerate(parsed.transactions, start=1):
        stored_in = remittance_store(file=file, transaction_set=txn, classifier=classifier, triage=triage)
        txn.claims = []  # stored: its rows need not stay in memory while the next set is stored
        if stored_in is not None and stored_in != file.pk:
            elsewhere.append(stored_in)
        if not _renew_lease(file_id, holder, index):
            logger.warning("file %s was taken over by another worker; stopping", file_id)
            return False

    warnings = [str(w) for w in parsed.warnings[:MAX_FINDINGS_SHOWN]]
    if len(parsed.warnings) > MAX_FINDINGS_SHOWN:
        warnings.append(f"... and {len(parsed.warnings) - MAX_FINDINGS_SHOWN} more warnings")
    # One transaction for the end: the file is "ingested" exactly when its denials are
    # triaged and its totals written, and a failure here leaves nothing half-done.
    with transaction.atomic():
        totals = _file_totals(file_id)
        if elsewhere and len(elsewhere) == len(parsed.transactions):
            first = elsewhere[0]
            _finish(
                file_id,
                holder,
                status=Status.DUPLICATE,
                duplicate_of_id=first,
                warnings=warnings,
                error=f"Every remittance in this file was already ingested from file #{first}; nothing new was stored.",
                transactions_skipped=len(elsewhere),
                **totals,
            )
            return False
        if elsewhere:
            warnings.insert(
                0,
                f"{len(elsewhere)} remittance(s) were already ingested from file(s) "
                f"{', '.join('#' + str(i) for i in sorted(set(elsewhere)))} and were skipped.",
            )
        # Triage is part of the same work: a file is "ingested" once its denials are triaged.
        # The store triaged every denial it wrote; this catches any left untriaged (stored by
        # an earlier attempt that ran an older version).
        denials_triage(file_id=file_id, untriaged_only=True)
        remittance_file_stored.send(sender=RemittanceFile, file_id=file_id)
        finished = _finish(
            file_id,
            holder,
            status=Status.INGESTED,
            warnings=warnings,
            error="",
            transactions_skipped=len(elsewhere),
            **totals,
        )
    return finished


def _after_ingest(file_id: int) -> None:
    """Follow-up work once a file is stored: the strict 5010 check, in the background."""
    if settings.STRICT_X12_VALIDATION:
        queue_after_commit(VALIDATE_FILE, file_id)


def _file_totals(file_id: int) -> dict[str, Any]:
    claims = ClaimPayment.objects.filter(remittance__file_id=file_id)
    agg = claims.aggregate(n=Count("id"), paid=Sum("paid"), charge=Sum("charge"))
    first_payer = Remittance.objects.filter(file_id=file_id).order_by("id").values_list("payer_id", flat=True).first()
    return {
        "claim_count": agg["n"] or 0,
        "total_paid": agg["paid"] or Decimal("0"),
        "total_charge": agg["charge"] or Decimal("0"),
        "service_line_count": ServiceLine.objects.filter(claim__remittance__file_id=file_id).count(),
        "adjustment_count": Adjustment.objects.filter(claim__remittance__file_id=file_id).count(),
        "denial_count": Denial.objects.filter(claim__remittance__file_id=file_id).count(),
        "payer_id": first_payer,
    }


def remittance_file_record_validation(
    *, file_id: int, ok: bool, findings: list[dict[str, Any]], ack_999: str, error: str = ""
) -> None:
    status = RemittanceFile.Validation.PASSED if ok else RemittanceFile.Validation.FINDINGS
    if error and not findings:
        findings = [{"segment_number": None, "segment_id": "", "code": "", "message": error, "severity": "error"}]
    RemittanceFile.objects.filter(pk=file_id).update(
        validation_status=status, validation_findings=findings[:200], acknowledgement_999=ack_999
    )


def remittance_file_skip_validation(*, file_id: int) -> None:
    """Record that the strict 5010 check was not run on this file (too large for pyx12 to
    read in reasonable time and memory, ``STRICT_X12_VALIDATION_MAX_BYTES``), so the file
    page says "skipped" rather than "not checked yet" forever."""
    RemittanceFile.objects.filter(pk=file_id).update(validation_status=RemittanceFile.Validation.SKIPPED)


def remittance_files_sweep_stuck() -> list[int]:
    """Re-queue files whose worker stopped reporting (lease expired) or that were never
    picked up. Returns their ids.

    A file that already used its ``INGEST_MAX_ATTEMPTS`` is not re-queued: it is failed
    here, with the reason, so it neither sticks in "processing" nor loops forever.
    """
    now = timezone.now()
    maximum = settings.INGEST_MAX_ATTEMPTS
    expired = Q(status=Status.PROCESSING, lease_expires_at__lt=now)
    error = (
        f"Ingestion was attempted {maximum} times and never finished: the worker stopped reporting "
        "(killed or out of memory?). Use Retry once the cause is fixed."
    )
    for file_id in RemittanceFile.objects.filter(expired, attempts__gte=maximum).values_list("pk", flat=True):
        with transaction.atomic():
            if RemittanceFile.objects.filter(expired, pk=file_id).update(
                status=Status.FAILED, finished_at=now, lease_expires_at=None, error=error
            ):
                audit_record(
                    actor=None,
                    actor_label="sweeper",
                    action="remittance_file.failed",
                    target=RemittanceFile.objects.only("original_name").get(pk=file_id),
                    old={"status": Status.PROCESSING},
                    new={"status": Status.FAILED, "error": error},
                )
    stuck = list(RemittanceFile.objects.filter(expired).values_list("pk", flat=True))
    stuck += list(
        # Received long ago but never picked up: the queue lost the message, or the retry
        # message of a failed attempt was lost.
        RemittanceFile.objects.filter(
            status=Status.RECEIVED, received_at__lt=now - dt.timedelta(seconds=settings.INGEST_LEASE_SECONDS)
        ).values_list("pk", flat=True)
    )
    for file_id in stuck:
        transaction.on_commit(partial(_requeue, file_id))
        logger.info("re-queueing stuck remittance file %s", file_id)
    return stuck


def _requeue(file_id: int) -> None:
    queue_after_commit(INGEST_FILE, file_id)
