"""Real Celery worker processes against the test database (PostgreSQL) and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _require_services() -> None:
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.skip("needs DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis): run via `make test`")


@pytest.fixture
def start_worker(tmp_path):
    _require_services()
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # no stale messages from earlier runs
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "STRICT_X12_VALIDATION": "0",
        # Short enough that a redelivery finding a dead holder's lease takes the file back
        # within the test's patience; long enough to store one transaction set on a busy machine.
        "INGEST_LEASE_SECONDS": "20",
    }
    if not os.environ.get("SECRET_KEY"):
        env["DEBUG"] = "1"  # the development key, for a worker that lives as long as the test
    workers: list[subprocess.Popen[bytes]] = []

    def start(name: str, **env_overrides: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env={**env, **env_overrides},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append(proc)
        deadline = time.time() + 60
        while time.time() < deadline:
            if b"ready." in (tmp_path / f"{name}.log").read_bytes():
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"worker {name} did not start:\n{(tmp_path / f'{name}.log').read_text()[-3000:]}")

    yield start
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
