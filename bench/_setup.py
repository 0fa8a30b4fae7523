"""Shared set-up for the benchmarks: a PostgreSQL database of their own, migrated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The PostgreSQL server the benchmarks use (BENCH_POSTGRES, without a database name), e.g. the
# load test's own tuned server (bench/load/postgres.py) on another port.
SERVER_URL = (os.environ.get("BENCH_POSTGRES") or "postgres://postgres@127.0.0.1:5432").rstrip("/")
DEFAULT_URL = SERVER_URL + "/overturn_bench_{name}"
# Production settings (DEBUG off) need a key; this one is only ever used by the benchmarks.
BENCH_SECRET_KEY = "overturn-benchmark-only-key-not-a-secret-0123456789abcdef"


def database_url(name: str) -> str:
    """Each benchmark has a database of its own, so two can run at once."""
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL.format(name=name))


def fresh_database(url: str) -> None:
    """Drop and re-create the benchmark database, then migrate it (PostgreSQL only)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"], cwd=ROOT, env=env, check=True)


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["STRICT_X12_VALIDATION"] = "0"  # a background check, not part of ingest
    # Production settings (DEBUG off), measured in-process over plain HTTP: no HTTPS redirect,
    # and a key that is only ever used here.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
