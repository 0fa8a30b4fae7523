"""A whole worker dies mid-file (its main process and its pool process, as when a machine
or container goes down): a new worker finishes the file within the stated bound, exactly
as a clean run would have stored it.

Runs against PostgreSQL and Redis with real worker processes (see test_celery_worker.py).
The lease is 5 s here; this test plays beat's part with a fast sweep (one every poll).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from denials.models import Adjustment, ClaimPayment, Denial, Remittance, RemittanceFile, ServiceLine
from tests.integration.test_celery_worker import _wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEASE = 5


def _expected(content: bytes) -> dict[str, object]:
    """What a clean run stores: counted from the parsed file and the denial rules."""
    from denials.detection import find_denials
    from denials.services import adjustment_classifier
    from denials.x12.reader import read_835

    parsed = read_835(content)
    assert parsed.ok, parsed.errors
    classifier = adjustment_classifier()
    claims = [c for t in parsed.transactions for c in t.claims]
    return {
        "remittances": len(parsed.transactions),
        "claims": len(claims),
        "lines": sum(len(c.service_lines) for c in claims),
        "adjustments": sum(len(c.adjustments) + sum(len(ln.adjustments) for ln in c.service_lines) for c in claims),
        "denials": sum(len(find_denials(c, classifier)) for c in claims),
        "paid": sum((c.paid for c in claims), Decimal(0)),
        "charge": sum((c.charge for c in claims), Decimal(0)),
        "per_trace": {t.trace_number: len(t.claims) for t in parsed.transactions},
    }


def _stored(file: RemittanceFile) -> dict[str, object]:
    claims = ClaimPayment.objects.filter(remittance__file=file)
    sums = claims.aggregate(paid=Sum("paid"), charge=Sum("charge"))
    return {
        "remittances": Remittance.objects.filter(file=file).count(),
        "claims": claims.count(),
        "lines": ServiceLine.objects.filter(claim__remittance__file=file).count(),
        "adjustments": Adjustment.objects.filter(claim__remittance__file=file).count(),
        "denials": Denial.objects.filter(claim__remittance__file=file).count(),
        "paid": sums["paid"],
        "charge": sums["charge"],
    }


def test_whole_worker_killed_mid_file_is_finished_by_a_new_worker_exactly_once(start_worker, adjustment_rules):
    from denials.demo.remittances import generate_835
    from denials.services import remittance_file_receive, remittance_files_sweep_stuck

    worker = start_worker("doomed", INGEST_LEASE_SECONDS=str(LEASE))
    # Several interchanges, so the kill lands after some transaction sets were stored.
    content = b"".join(generate_835(claims=1500, seed=300 + i) for i in range(4))
    expected = _expected(content)
    file = remittance_file_receive(name="big.835", content=content, source="api")

    deadline = time.time() + 120
    while time.time() < deadline:
        row = RemittanceFile.objects.get(pk=file.pk)
        if row.status == "processing" and row.transactions_done >= 1:
            break
        time.sleep(0.05)
    assert row.status == "processing" and 1 <= row.transactions_done < 4, "no kill mid-file possible"
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker has no pool process to kill"
    for pid in [worker.pid, *map(int, children)]:
        os.kill(pid, signal.SIGKILL)  # the whole worker goes down at once: nobody acks, nobody cleans up
    worker.wait(timeout=10)
    killed_at = time.time()
    row = RemittanceFile.objects.get(pk=file.pk)
    assert row.status == "processing" and row.attempts == 1
    partly = Remittance.objects.filter(file=file).count()
    assert partly < 4

    start_worker("rescuer", INGEST_LEASE_SECONDS=str(LEASE))
    [done] = _wait_for([file.pk], timeout=180, tick=remittance_files_sweep_stuck)
    recovered_in = time.time() - killed_at
    print(f"\nwhole worker killed: the file finished {recovered_in:.1f} s after the kill (bound {LEASE + 90} s)")

    assert done.status == "ingested", done.error
    assert done.attempts == 2  # taken up once more, not more
    assert done.transactions_skipped == 0 and done.duplicate_of_id is None
    stored = _stored(done)
    assert stored == {k: v for k, v in expected.items() if k != "per_trace"}
    assert len(expected["per_trace"]) == 4  # type: ignore[arg-type]
    assert (done.claim_count, done.service_line_count, done.adjustment_count, done.denial_count) == (
        expected["claims"],
        expected["lines"],
        expected["adjustments"],
        expected["denials"],
    )
    assert (done.total_paid, done.total_charge) == (expected["paid"], expected["charge"])
    # No remittance stored twice and none short: each trace number holds its claims once.
    per_trace = dict(Remittance.objects.filter(file=done).annotate(n=Count("claims")).values_list("trace_number", "n"))
    assert per_trace == expected["per_trace"]
    # The bound: the lease runs out, the next sweep re-queues, the new worker stores the
    # rest. Generous for a busy machine, far below the broker's one-hour redelivery.
    assert recovered_in < LEASE + 90, recovered_in
