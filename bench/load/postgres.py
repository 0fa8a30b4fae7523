"""The load test's own PostgreSQL server, configured as the README's production section says.

    python bench/load/postgres.py start   # prints the server's URL: postgres://postgres@127.0.0.1:5433
    python bench/load/postgres.py stop

A machine's own PostgreSQL may be set up for test suites rather than for a team: this one runs
with autovacuum off, 128 MB of shared buffers and 1 GB of WAL between checkpoints. With those,
the load test's phase 2 (27 files of 20,000 claims in five minutes) forced a checkpoint every
40 seconds, and the grown tables were never analyzed: the pages stayed slower after the ingests
had stopped (phase 3 p95 146 ms against 95 ms before them; 106 ms on this server). So the load
test runs on a server of its own, created here with ``initdb`` in ``DATA`` and the settings
below (the README's *PostgreSQL settings*), on 127.0.0.1:5433 with trust authentication on
loopback only. ``start`` is idempotent: it creates the server once, starts it when it is not
running, and prints its URL for ``BENCH_POSTGRES``. Run as root, it runs PostgreSQL as the
``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(os.environ.get("BENCH_POSTGRES_DATA", "/var/tmp/overturn-bench-pg"))
PORT = int(os.environ.get("BENCH_POSTGRES_PORT", "5433"))
URL = f"postgres://postgres@127.0.0.1:{PORT}"
# The README's "PostgreSQL settings" for a server that ingests 835s while people work.
SETTINGS = {
    "shared_buffers": "2GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "autovacuum": "on",
}


def _bindir() -> Path:
    """The newest PostgreSQL server binaries installed (Debian's layout first, then PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    sys.exit("no PostgreSQL server binaries (initdb, pg_ctl) found: install PostgreSQL's server package")


def _as_owner(command: list[str]) -> list[str]:
    """``command`` as the ``postgres`` user when run as root (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        sys.exit("running as root needs a 'postgres' user to run PostgreSQL as")
    return ["runuser", "-u", "postgres", "--", *command]


def _running(bindir: Path) -> bool:
    ready = bindir / "pg_isready"
    return subprocess.run([str(ready), "-q", "-h", "127.0.0.1", "-p", str(PORT)], check=False).returncode == 0


def start() -> str:
    bindir = _bindir()
    if not (DATA / "PG_VERSION").exists():
        DATA.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(DATA, "postgres", "postgres")
        subprocess.run(
            _as_owner([str(bindir / "initdb"), "-D", str(DATA), "-A", "trust", "-U", "postgres", "--no-sync"]),
            check=True,
            stdout=subprocess.DEVNULL,
            cwd="/",
        )
        settings = {
            "port": str(PORT),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{DATA}'",
            **SETTINGS,
        }
        with (DATA / "postgresql.conf").open("a") as conf:
            conf.write("\n# bench/load/postgres.py\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
    if not _running(bindir):
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(DATA), "-l", str(DATA / "server.log"), "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
            cwd="/",
        )
    return URL


def stop() -> None:
    bindir = _bindir()
    if (DATA / "PG_VERSION").exists() and _running(bindir):
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(DATA), "-w", "stop"]), check=True, cwd="/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    args = parser.parse_args()
    if args.action == "start":
        print(start())
    else:
        stop()


if __name__ == "__main__":
    main()
