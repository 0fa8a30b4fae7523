"""PostgreSQL + Redis + real Celery worker processes (run by `make test`'s second pass).

These tests start workers as separate processes against the test database, send them work
through the real broker, and kill one in the middle of a file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from denials.models import ClaimPayment, Remittance, RemittanceFile, ServiceLine

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The start_worker fixture lives in conftest.py (test_worker_crash.py uses it too).


def _wait_for(
    file_ids: list[int], timeout: float = 120, *, tick: Callable[[], object] | None = None
) -> list[RemittanceFile]:
    """Wait until every file finished; ``tick`` runs on each poll (e.g. a fast sweeper)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        files = list(RemittanceFile.objects.filter(pk__in=file_ids).order_by("pk"))
        if all(f.is_finished for f in files):
            return files
        if tick is not None:
            tick()
        time.sleep(0.3)
    raise AssertionError(f"not finished in {timeout}s: {[(f.pk, f.status, f.error) for f in files]}")


def test_uploaded_files_are_ingested_by_a_real_worker_through_redis(start_worker, adjustment_rules, sample_bytes):
    from denials.services import remittance_file_receive

    start_worker("w1")
    files = [
        remittance_file_receive(name=n, content=sample_bytes(n), source="api")
        for n in [
            "edi835parser__emedny_sample.txt",
            "oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt",
            "oopfactory__4010_Example1_reversals_plb.txt",
        ]
    ]
    done = _wait_for([f.pk for f in files])
    assert [f.status for f in done] == ["ingested", "ingested", "failed"]
    assert [f.claim_count for f in done] == [3, 56, 0]
    assert "4010" in done[2].error


def test_two_workers_never_ingest_the_same_file_twice(start_worker, adjustment_rules):
    from denials.demo.remittances import generate_835
    from denials.services import remittance_file_receive

    start_worker("w1")
    start_worker("w2")
    files = [
        remittance_file_receive(name=f"s{i}.835", content=generate_835(claims=300, seed=100 + i), source="api")
        for i in range(6)
    ]
    # The same files queued a second time: whichever worker gets the extra message finds
    # the file already claimed or done and writes nothing.
    from denials.tasks import ingest_remittance_file

    for f in files:
        ingest_remittance_file.delay(f.pk)
    done = _wait_for([f.pk for f in files])
    assert {f.status for f in done} == {"ingested"}
    assert sum(f.claim_count for f in done) == 1800
    assert ClaimPayment.objects.count() == 1800
    assert Remittance.objects.count() == 6


def test_worker_killed_mid_file_loses_nothing_and_the_file_is_finished(start_worker, adjustment_rules):
    from denials.demo.remittances import generate_835
    from denials.services import remittance_file_receive

    worker = start_worker("w1")
    # Several interchanges in one file, so the kill lands between or inside transactions.
    content = b"".join(generate_835(claims=1500, seed=200 + i) for i in range(4))
    file = remittance_file_receive(name="big.835", content=content, source="api")
    deadline = time.time() + 60
    while time.time() < deadline:
        row = RemittanceFile.objects.get(pk=file.pk)
        if row.status == "processing":
            break
        time.sleep(0.05)
    time.sleep(0.5)
    assert RemittanceFile.objects.get(pk=file.pk).status == "processing", "the file finished before the kill"
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker has no child process to kill"
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)  # the pool process dies mid-file, like an OOM kill

    [done] = _wait_for([file.pk], timeout=180)
    assert done.status == "ingested", done.error
    assert done.attempts >= 2  # it really was taken up again
    assert done.claim_count == 6000
    assert ClaimPayment.objects.filter(remittance__file=done).count() == 6000
    assert Remittance.objects.filter(file=done).count() == 4
    assert ServiceLine.objects.filter(claim__remittance__file=done).count() == done.service_line_count
