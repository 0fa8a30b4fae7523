"""Faults under real PostgreSQL, Redis and Celery workers (issue 14):

- the worker's pool process is killed (SIGKILL, as an OOM kill) at a random point of a
  20,000-claim file, ``FAULT_TRIALS`` times (5 in ``make test``, 20 in ``make faults``): every
  trial ends exactly as a clean run would (counts, sums, no natural key twice, nothing stuck);
- Redis restarts while files wait in the queue: every file is ingested once (the broker keeps
  nothing here, so the lost messages are re-queued by the sweep beat runs);
- the same file arrives by upload and by the inbox at the same moment: stored and ingested once;
- twenty files across two workers: each ingested once.

Kill points are random; the seed is printed, and ``FAULT_SEED`` replays a run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.db.models import Count

from denials.models import ClaimPayment, Remittance, RemittanceFile
from tests.integration.test_celery_worker import _wait_for
from tests.integration.test_worker_crash import _expected, _stored

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TRIALS = int(os.environ.get("FAULT_TRIALS", "5"))
SEED = int(os.environ.get("FAULT_SEED", str(int(time.time()))))


def _big_file(seed: int) -> bytes:
    """20,000 claims in four interchanges of 5,000, so a kill can land inside one or between two."""
    from denials.demo.remittances import generate_835

    return b"".join(generate_835(claims=5000, seed=seed * 10 + i) for i in range(4))


def _no_natural_key_twice() -> None:
    """No remittance stored twice under another file (same trace number and payer), and no claim
    of one remittance twice (same patient control number and sequence): the database's unique
    keys hold within a remittance; these catch a second copy stored beside the first."""
    traces = Remittance.objects.values("trace_number", "payer_id").annotate(n=Count("id")).filter(n__gt=1)
    assert not traces.exists(), list(traces[:5])
    claims = (
        ClaimPayment.objects.values("remittance__trace_number", "patient_control_number", "sequence")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not claims.exists(), list(claims[:5])


def _nothing_stuck() -> None:
    stuck = RemittanceFile.objects.filter(status__in=["received", "processing"])
    assert not stuck.exists(), list(stuck.values_list("pk", "status"))


def _kill_pool(worker: subprocess.Popen[bytes]) -> int:
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    return len(children)


def test_pool_killed_at_random_points_of_a_20000_claim_file_ends_as_a_clean_run(start_worker, adjustment_rules):
    from denials.services import remittance_file_receive

    rng = random.Random(SEED)
    print(f"\nfault trials: {TRIALS}, seed {SEED} (FAULT_SEED={SEED} replays the kill points)")
    worker = start_worker("w1")
    # A clean run first: how long a 20,000-claim file takes here, so the kills land inside it.
    clean = remittance_file_receive(name="clean.835", content=_big_file(seed=1), source="api")
    began = time.time()
    [clean] = _wait_for([clean.pk], timeout=300)
    clean_seconds = time.time() - began
    assert clean.status == "ingested" and clean.attempts == 1, clean.error
    figures: list[str] = [f"clean run: {clean_seconds:.1f}s for 20,000 claims"]
    killed_mid_file = 0
    for trial in range(TRIALS):
        content = _big_file(seed=1000 + trial + SEED % 1000 * 100)
        expected = _expected(content)
        started = time.time()
        file = remittance_file_receive(name=f"trial-{trial}.835", content=content, source="api")
        while RemittanceFile.objects.get(pk=file.pk).status == "received" and time.time() - started < 60:
            time.sleep(0.02)
        # A random point of the clean run's time: some land in the first set, some between sets.
        delay = rng.uniform(0.05, 0.9) * clean_seconds
        time.sleep(delay)
        row = RemittanceFile.objects.get(pk=file.pk)
        was_processing = row.status == "processing"
        done_sets = row.transactions_done
        if was_processing:
            assert _kill_pool(worker) >= 1, "the worker has no pool process to kill"
            killed_mid_file += 1
        [done] = _wait_for([file.pk], timeout=300)
        took = time.time() - started
        assert done.status == "ingested", (trial, done.error)
        stored = _stored(done)
        assert stored == {k: v for k, v in expected.items() if k != "per_trace"}, trial
        per_trace = dict(
            Remittance.objects.filter(file=done).annotate(n=Count("claims")).values_list("trace_number", "n")
        )
        assert per_trace == expected["per_trace"], trial
        assert (done.claim_count, done.denial_count) == (expected["claims"], expected["denials"])
        if was_processing:
            assert done.attempts >= 2, (trial, done.attempts)  # really taken up again
        figures.append(
            f"trial {trial}: kill after {delay:.1f}s "
            + (f"({done_sets}/4 sets stored), " if was_processing else "(file already finished), ")
            + f"finished after {took:.1f}s, attempts {done.attempts}"
        )
    _no_natural_key_twice()
    _nothing_stuck()
    assert ClaimPayment.objects.count() == 20000 * (TRIALS + 1)
    print("\n".join(figures))
    assert killed_mid_file >= max(1, TRIALS // 2), f"only {killed_mid_file} kills landed mid-file"


def _restart_redis() -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True).returncode:
            break
        time.sleep(0.1)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
        capture_output=True,
    )
    for _ in range(100):
        if (
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True).stdout
            == b"PONG\n"
        ):
            return
        time.sleep(0.1)
    raise AssertionError("Redis did not come back")


def test_redis_restarted_while_files_are_queued_every_file_is_ingested_once(start_worker, adjustment_rules, settings):
    from denials.demo.remittances import generate_835
    from denials.services import remittance_file_receive, remittance_files_sweep_stuck

    # Queued with no worker running: the messages wait in Redis, then Redis restarts (it keeps
    # nothing on disk here, so they are gone).
    files = [
        remittance_file_receive(name=f"q{i}.835", content=generate_835(claims=200, seed=500 + i), source="api")
        for i in range(8)
    ]
    _restart_redis()
    start_worker("after-restart", INGEST_LEASE_SECONDS="5")
    # Beat's sweep finds files never picked up (received more than a lease ago) and queues them
    # again; the lease is 5 s here instead of 300.
    settings.INGEST_LEASE_SECONDS = 5
    done = _wait_for([f.pk for f in files], timeout=240, tick=remittance_files_sweep_stuck)
    assert [f.status for f in done] == ["ingested"] * 8
    assert ClaimPayment.objects.count() == 1600
    assert Remittance.objects.count() == 8
    _no_natural_key_twice()
    _nothing_stuck()


def test_the_same_file_by_upload_and_inbox_at_once_is_ingested_once(start_worker, adjustment_rules, tmp_path):
    from denials.demo.remittances import generate_835
    from denials.inbox import inbox_scan
    from denials.services import remittance_file_receive

    start_worker("w1")
    content = generate_835(claims=400, seed=777)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "remit.835").write_bytes(content)
    old = time.time() - 3600
    os.utime(inbox / "remit.835", (old, old))  # settled: the scanner takes it
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def upload() -> None:
        barrier.wait(timeout=10)
        try:
            results["upload"] = remittance_file_receive(name="remit.835", content=content, source="upload")
        finally:
            close_old_connections()
            connection.close()

    def scan() -> None:
        barrier.wait(timeout=10)
        try:
            results["inbox"] = inbox_scan(str(inbox))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=upload), threading.Thread(target=scan)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert "upload" in results and results["inbox"], results
    ids = {results["upload"].pk, *(f.pk for f in results["inbox"])}
    done = _wait_for(sorted(ids), timeout=120)
    ingested = [f for f in done if f.status == "ingested"]
    assert len(ingested) == 1, [(f.pk, f.status, f.source) for f in done]
    assert {f.status for f in done} <= {"ingested", "duplicate"}
    assert ClaimPayment.objects.count() == 400
    assert Remittance.objects.count() == 1
    _nothing_stuck()


def test_twenty_files_across_two_workers_are_each_ingested_once(start_worker, adjustment_rules):
    from denials.demo.remittances import generate_835
    from denials.services import remittance_file_receive
    from denials.tasks import ingest_remittance_file

    start_worker("w1")
    start_worker("w2")
    files = [
        remittance_file_receive(name=f"t{i}.835", content=generate_835(claims=250, seed=900 + i), source="api")
        for i in range(20)
    ]
    for f in files[::2]:  # half of them queued twice: the extra message must change nothing
        ingest_remittance_file.delay(f.pk)
    done = _wait_for([f.pk for f in files], timeout=300)
    assert [f.status for f in done] == ["ingested"] * 20
    assert ClaimPayment.objects.count() == 5000
    assert Remittance.objects.count() == 20
    assert sum(f.claim_count for f in done) == 5000
    _no_natural_key_twice()
    _nothing_stuck()
