"""Load test: 50 coders and 5 managers on gunicorn + PostgreSQL over loopback, then again while
20,000-claim 835 files ingest through a Celery worker.

    python bench/load/run.py [--keep] [--run-time 5m] [--workers 6] [--threads 1] [--lock /tmp/bench.lock]

Data: ``bench/analytics.py``'s loader at a tenth of its size (100,000 denials, 20,000 appeals,
240,000 claims) in a database of its own (``overturn_bench_load``), completed by
``bench/load/data.py`` (adjustments and remarks as an ingest stores them; 50 coders over three
teams, 5 managers), migrated, figures rebuilt (``manage.py figures_rebuild``), vacuumed.
``--keep`` reuses it when its row counts match. Each run works on a fresh copy of it
(``overturn_bench_load_run``, ``CREATE DATABASE ... TEMPLATE``), so the saves and ingests of
one run never change the next run's starting point.

Servers: gunicorn with ``config/gunicorn.py`` on 127.0.0.1:8101 and a Celery worker (Redis
db 3), both with production settings (DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL).
Plain HTTP on loopback, so the documented switches for a TLS proxy in front are used:
SECURE_SSL_REDIRECT=0, SESSION_COOKIE_SECURE=0, CSRF_COOKIE_SECURE=0 (a Secure cookie is never
sent back over http) and SECURE_HSTS_SECONDS=0. No Celery beat: the figures stay as rebuilt.

Phase 1: locust headless (``bench/load/locustfile.py``), ``--users 55 --spawn-rate 10`` for
``--run-time``. Phase 2: the same again; once every user has signed in, 20,000-claim 835 files
(``bench/ingest.py``'s generator, a new seed each) are received with ``manage.py ingest_835``
and ingested by the worker one after the other until the phase ends.

Figures come from every request's own record (``LOAD_RECORDS``): per kind and overall,
requests, server errors (5xx or no answer), 409s (a save on a stale version: expected, counted
apart), other 4xx, p50/p95/p99 in milliseconds as locust's client saw them. Phase 1 counts the
requests sent after the ramp (all users signed in); phase 2 those sent while a file was
ingesting. The sign-in requests and everything else sent during the ramp are shown apart.
gunicorn's own request time (its access log) is printed beside them, and what PostgreSQL's
backends did (``pg_stat_activity`` every second: wait events of the web's and of the ingest's
backends, lock waits and who blocks them; the ingest's share of PostgreSQL's CPU). Targets: p95 under
300 ms, no server error, p95 while ingesting at most twice phase 1's. A missed target prints
"target not met"; the exit status is non-zero only for a server error or a broken run.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import analytics
from bench._setup import BENCH_SECRET_KEY, ROOT, database_url, django_setup, fresh_database
from bench.load import data

URL = database_url("load")
RUN_URL = database_url("load_run")
HOST, PORT = "127.0.0.1", 8101
BROKER = "redis://127.0.0.1:6379/3"
BIN = Path(sys.executable).parent
TARGET_P95_MS = 300.0
TARGET_RATIO = 2.0
INGEST_CLAIMS = 20_000
SIGN_IN = ("sign-in form", "sign in")
AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


# --- the data set -------------------------------------------------------------------------
def _step(name: str) -> None:
    subprocess.run([sys.executable, __file__, "--step", name], cwd=ROOT, check=True)


def _manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": BENCH_SECRET_KEY, "SECURE_SSL_REDIRECT": "0"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def prepare(keep: bool) -> None:
    """Load (or keep) the data set, migrate it, rebuild the figures, vacuum."""
    existing = analytics.loaded_counts(URL) if keep else None
    if existing and existing["scale"] == data.SCALE and data.completed(URL):
        print(f"Keeping the loaded database: {existing['denials']:,} denials, {existing['appeals']:,} appeals")
    else:
        start = time.perf_counter()
        os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY
        os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
        fresh_database(URL)
        _step("load")
        _step("complete")
        print(f"Loaded in {time.perf_counter() - start:.0f} s")
    _manage(URL, "migrate", "-v0", "--no-input")
    repaired = data.queue_counts_repair(URL)
    if repaired:
        print(f"Queue counters re-seeded from the denials ({repaired} queue/status pairs disagreed)")
    # Statistics first: right after the bulk load, the rebuild's plans on stale statistics took
    # over 11 minutes instead of 16 s. VACUUM also sets the visibility map (index-only scans),
    # as autovacuum soon does in production.
    _vacuum()
    start = time.perf_counter()
    _manage(URL, "figures_rebuild")
    print(f"Figures rebuilt in {time.perf_counter() - start:.0f} s")
    _vacuum()


def _vacuum() -> None:
    import psycopg

    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def copy_for_run() -> None:
    """A fresh copy of the loaded database for this run (no connection may be open on it)."""
    import psycopg

    source, name = URL.rsplit("/", 1)[1], RUN_URL.rsplit("/", 1)[1]
    admin = URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')


# --- the servers --------------------------------------------------------------------------
def server_env(work: Path) -> dict[str, str]:
    """Production settings, over plain HTTP on loopback (see the module docstring)."""
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "DATABASE_URL": RUN_URL,
        "CELERY_BROKER_URL": BROKER,
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "OVERTURN_VAR_DIR": str(work / "var"),
        "LOG_LEVEL": "WARNING",
    }


class Servers:
    """gunicorn and a Celery worker, started together and stopped together."""

    def __init__(self, work: Path, workers: int, threads: int, ingest_nice: int, ingest_idle: bool = False) -> None:
        self.work = work
        self.env = server_env(work)
        self.access_log = work / "gunicorn.log"
        gunicorn = [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--config",
            "config/gunicorn.py",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        # As `make serve` does: the worker runs at a lower CPU priority (in the idle class too with
        # --ingest-sched idle, as WORKER_SCHED=idle), so people's requests go first.
        worker = [
            *(["chrt", "--idle", "0"] if ingest_idle else []),
            *(["nice", "-n", str(ingest_nice)] if ingest_nice else []),
            *[str(BIN / "celery"), "-A", "config", "worker", "--loglevel=WARNING", "--concurrency=2"],
        ]
        # As `make serve` does: WhiteNoise serves what collectstatic gathered.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=self.env, check=True
        )
        self.processes = [
            self._start(gunicorn, self.access_log),
            self._start(worker, work / "celery.log"),
        ]
        self._wait_healthy()

    def _start(self, command: list[str], log: Path) -> subprocess.Popen[bytes]:
        out = log.open("ab")
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def _wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=5) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(1)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {self.access_log}")

    def check(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                command = process.args if isinstance(process.args, list) else [process.args]
                raise RuntimeError(f"{command[0]!s} exited with {process.returncode}; logs in {self.work}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()


# --- the ingest beside the load ---------------------------------------------------------
class Ingests(threading.Thread):
    """20,000-claim files received and ingested one after the other until told to stop."""

    def __init__(self, work: Path, env: dict[str, str], nice: int = 0, idle: bool = False) -> None:
        super().__init__(daemon=True)
        self.work, self.env, self.nice, self.idle = work, env, nice, idle
        self.start_at = 0.0  # set before start()
        self.stop_at = math.inf  # no new file after this (--after: phase 3 runs without ingest)
        self.stop_asked = threading.Event()
        self.windows: list[dict[str, Any]] = []
        self.failure = ""
        # The first file is written now, before locust starts (nothing is measured yet), so
        # that phase 2 starts with its ingest on time even on a slow machine.
        self.seed = 1401
        self.path = self._write(self.seed)

    def _write(self, seed: int) -> Path:
        from bench.ingest import bench_file

        path = self.work / f"load-{seed}.835"
        path.write_bytes(bench_file(INGEST_CLAIMS, 1, seed))
        return path

    def run(self) -> None:
        # Writing each file and receiving it (``ingest_835`` is started from this thread and
        # inherits its priority) is background work like the worker's: below people's requests.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        if self.idle:
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
        if self.stop_asked.wait(max(0.0, self.start_at - time.time())):
            return
        while not self.stop_asked.is_set() and time.time() < self.stop_at:
            try:
                self.windows.append(self._ingest(self.path))
            except Exception as exc:
                self.failure = repr(exc)
                return
            self.path.unlink()
            self.seed += 1
            if not self.stop_asked.is_set() and time.time() < self.stop_at:
                self.path = self._write(self.seed)

    def _ingest(self, path: Path) -> dict[str, Any]:
        import psycopg

        start = time.time()
        out = subprocess.run(
            [sys.executable, "manage.py", "ingest_835", str(path), "--json"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        file_id = json.loads(out.strip().splitlines()[-1])["id"]
        with psycopg.connect(RUN_URL, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "SELECT status, claim_count, denial_count, error FROM denials_remittancefile WHERE id = %s",
                    [file_id],
                ).fetchone()
                assert row is not None
                if row[0] in ("ingested", "failed", "duplicate"):
                    break
                time.sleep(0.5)
        if row[0] != "ingested":
            raise RuntimeError(f"{path.name}: {row[0]}: {row[3]}")
        return {"start": start, "end": time.time(), "claims": row[1], "denials": row[2]}


# --- locust, and what the machine did meanwhile --------------------------------------------
def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree(root: int) -> set[int]:
    """``root`` and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parents[int(entry.name)] = int(_stat(entry.name)[1])
    found, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grown = bool(more)
    return found


def _cpu(pids: set[int]) -> dict[int, float]:
    """CPU seconds of each process so far."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(pid)
            found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _run_delay(pids: set[int]) -> dict[int, float]:
    """Seconds each process has spent runnable but waiting for a CPU (``/proc/<pid>/schedstat``)."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            found[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    return found


def _autogroups() -> bool:
    """Whether Linux groups processes by session for CPU time (``sched_autogroup_enabled``): then
    niceness counts only against processes of the same session, and a PostgreSQL backend competes
    as part of the server's session, whatever its own niceness."""
    try:
        return AUTOGROUP.read_text().strip() == "1"
    except OSError:
        return False


@contextlib.contextmanager
def autogroups_as(wanted: str):  # type: ignore[no-untyped-def]
    """--autogroups off (the default): Linux's scheduler autogroups off for the run, as the
    README's *PostgreSQL on the web's machine* recommends, and back as they were afterwards. With
    them on, PostgreSQL's backends share one CPU share (the server's session), so the ingest's
    backend, niced, still competed with gunicorn at the server's full weight: phase 2 p95 2.24x
    phase 1 with them on, 1.05x off. Processes started meanwhile (gunicorn, the worker, every
    backend of the run) are placed as the setting is when they start. Needs root; otherwise
    the run says so and measures the machine as it is."""
    if wanted == "as-is" or not AUTOGROUP.exists():
        yield
        return
    before = AUTOGROUP.read_text().strip()
    try:
        AUTOGROUP.write_text("0")
    except OSError as exc:
        print(f"Could not turn the scheduler's autogroups off ({exc}); measuring the machine as it is")
        yield
        return
    try:
        yield
    finally:
        AUTOGROUP.write_text(before)


def _processes(wanted: Callable[[str], bool]) -> set[int]:
    """The processes on this machine whose command line (as ``ps`` shows it) ``wanted`` accepts."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if wanted((entry / "cmdline").read_bytes().decode(errors="replace")):
                    pids.add(int(entry.name))
    return pids


def _database_backends() -> set[int]:
    """PostgreSQL's processes serving the run's database (on this machine)."""
    name = RUN_URL.rsplit("/", 1)[1]
    return _processes(lambda command: command.startswith("postgres:") and f" {name} " in command)


def _autovacuum_workers() -> set[int]:
    """PostgreSQL's autovacuum workers (any database): they run at normal priority after big inserts."""
    return _processes(lambda command: "autovacuum worker" in command)


def _socket_ports(pids: set[int]) -> set[int]:
    """Local TCP ports of the sockets these processes hold (their PostgreSQL connections)."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class Waits(threading.Thread):
    """Every second: what PostgreSQL's backends for the run's database are doing (pg_stat_activity),
    the ingest's backends (connected from the Celery worker or ``ingest_835``) told apart from the
    web's, and who blocks a backend waiting for a lock (pg_blocking_pids)."""

    def __init__(self, ingest_roots: list[int]) -> None:
        super().__init__(daemon=True)
        self.ingest_roots = ingest_roots
        self.ingest_pids: set[int] = set()
        self.samples: list[tuple[float, list[tuple[Any, ...]]]] = []
        self.stop_asked = threading.Event()

    def run(self) -> None:
        import psycopg

        name = RUN_URL.rsplit("/", 1)[1]
        with psycopg.connect(RUN_URL, autocommit=True) as conn:
            while not self.stop_asked.wait(1):
                ports = _socket_ports(set().union(*(_tree(root) for root in self.ingest_roots)))
                rows = conn.execute(
                    "SELECT pid, client_port, state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), "
                    "pg_blocking_pids(pid), left(regexp_replace(query, '\\s+', ' ', 'g'), 70) "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [name],
                ).fetchall()
                for row in rows:
                    if row[1] in ports:
                        self.ingest_pids.add(row[0])
                self.samples.append((time.time(), rows))

    def summary(self, windows: list[tuple[float, float]]) -> str:
        """Web backends' samples while active, by wait event; lock waits and their blockers."""
        inside = [rows for t, rows in self.samples if any(a <= t <= b for a, b in windows)]
        if not inside:
            return "pg_stat_activity: no samples"
        web: dict[str, int] = {}
        ingest: dict[str, int] = {}
        blocked: dict[str, int] = {}
        for rows in inside:
            for pid, _port, state, kind, event, blockers, query in rows:
                if state != "active":
                    continue
                key = f"{kind}:{event}" if kind else "CPU"
                into = ingest if pid in self.ingest_pids else web
                into[key] = into.get(key, 0) + 1
                if blockers:
                    by = "ingest" if any(b in self.ingest_pids for b in blockers) else "web"
                    what = f"{'ingest' if pid in self.ingest_pids else 'web'} blocked by {by}: {query}"
                    blocked[what] = blocked.get(what, 0) + 1

        def top(found: dict[str, int]) -> str:
            return ", ".join(f"{k} {v / len(inside):.2f}" for k, v in sorted(found.items(), key=lambda i: -i[1])[:6])

        lines = [
            f"pg_stat_activity, {len(inside)} samples (1 s): active backends on average by wait event: "
            f"web: {top(web) or 'none'}; ingest: {top(ingest) or 'none'}",
            f"  lock waits: {sum(blocked.values())} backend-samples"
            + "".join(f"\n    {n} x {k}" for k, n in sorted(blocked.items(), key=lambda i: -i[1])[:8]),
        ]
        return "\n".join(lines)


class Machine(threading.Thread):
    """Every 5 s: the 1-minute load average, the whole machine's busy CPU, and the CPU seconds of
    gunicorn, the Celery worker, locust and PostgreSQL's backends for the run's database."""

    def __init__(self, roots: dict[str, int], waits: Waits | None = None) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.waits = waits
        self.samples: list[dict[str, Any]] = []
        self.stop_asked = threading.Event()

    def sample(self) -> dict[str, Any]:
        busy = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        trees = {name: _tree(pid) for name, pid in self.roots.items()}
        found: dict[str, Any] = {name: _cpu(pids) for name, pids in trees.items()}
        backends = _database_backends()
        ingest = self.waits.ingest_pids if self.waits else set()
        found["gunicorn_wait"] = _run_delay(trees["gunicorn"])
        found["postgres_web_wait"] = _run_delay(backends - ingest)
        found["postgres"] = _cpu(backends)
        found["postgres_ingest"] = _cpu(backends & ingest)
        found["autovacuum"] = _cpu(_autovacuum_workers())
        found["machine"] = (sum(busy) - busy[3] - busy[4]) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait
        # /proc/stat's user (niceness <= 0), nice (niced: the ingest), system and steal (the
        # hypervisor ran someone else on our vCPU) columns.
        for column, index in (("user", 0), ("nice", 1), ("system", 2), ("steal", 7)):
            found[f"cpu_{column}"] = busy[index] / os.sysconf("SC_CLK_TCK")
        found["load"] = float(Path("/proc/loadavg").read_text().split()[0])
        found["t"] = time.time()
        return found

    @staticmethod
    def _used(samples: list[dict[str, Any]], name: str) -> float:
        """CPU seconds over the samples, process by process and sample to sample: one that
        started meanwhile counts from zero (PostgreSQL backends come and go with gunicorn's
        CONN_MAX_AGE); one that ended loses at most its last interval."""
        return sum(
            seconds - before[name].get(pid, 0.0)
            for before, after in itertools.pairwise(samples)
            for pid, seconds in after[name].items()
        )

    def run(self) -> None:
        self.samples.append(self.sample())
        while not self.stop_asked.wait(5):
            self.samples.append(self.sample())

    def summary(self, start: float, end: float) -> str:
        inside = [s for s in self.samples if start - 5 <= s["t"] <= end + 5]
        if len(inside) < 2:
            return "load average: too short a window to sample"
        first, last = inside[0], inside[-1]
        seconds = last["t"] - first["t"]
        kinds = (*self.roots, "postgres", "postgres_ingest", "autovacuum", "gunicorn_wait", "postgres_web_wait")
        used = {k: self._used(inside, k) / seconds for k in kinds}
        used["machine"] = (last["machine"] - first["machine"]) / seconds
        split = ", ".join(
            f"{column} {(last[f'cpu_{column}'] - first[f'cpu_{column}']) / seconds:.2f}"
            for column in ("user", "nice", "system", "steal")
        )
        loads = [s["load"] for s in inside]
        return (
            f"1-min load average: mean {sum(loads) / len(loads):.2f}, max {max(loads):.2f}. "
            f"CPU cores busy: machine {used['machine']:.2f} of {os.cpu_count()}, of which gunicorn "
            f"{used['gunicorn']:.2f}, PostgreSQL (this database) {used['postgres']:.2f} (the ingest's backends "
            f"{used['postgres_ingest']:.2f}), Celery worker "
            f"{used['celery']:.2f}, locust {used['locust']:.2f}, autovacuum {used['autovacuum']:.2f}; "
            f"by /proc/stat column: {split}. Waiting for a CPU (schedstat run delay, in cores): gunicorn "
            f"{used['gunicorn_wait']:.2f}, the web's PostgreSQL backends {used['postgres_web_wait']:.2f}; "
            f"scheduler autogroups {'on' if _autogroups() else 'off'}"
        )


def duration(text: str) -> float:
    """Seconds in locust's notation: 30s, 5m, 1h30m."""
    parts = re.findall(r"(\d+)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise SystemExit(f"--run-time {text!r}: say 30s, 5m or 1h30m")
    return float(sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts))


def start_locust(work: Path, args: argparse.Namespace, seconds: float) -> subprocess.Popen[bytes]:
    """One headless locust run for the ramp and both phases."""
    env = {**os.environ, "LOAD_RECORDS": str(work / "records.jsonl"), "PYTHONPATH": str(ROOT)}
    command = [
        str(BIN / "locust"),
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--host",
        f"http://{HOST}:{PORT}",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{math.ceil(seconds)}s",
        "--stop-timeout",
        "10",
        "--only-summary",
    ]
    log = (work / "locust.log").open("wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


def figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    times = [r["ms"] for r in records]
    return {
        "requests": len(records),
        "server_errors": sum(1 for r in records if r["status"] >= 500 or r["status"] == 0),
        "conflicts": sum(1 for r in records if r["conflict"]),
        "other_4xx": sum(1 for r in records if 400 <= r["status"] < 500 and not r["conflict"]),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
    }


def table(title: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Print the figures per kind and overall; return the overall ones."""
    print(f"\n{title}")
    print(
        f"{'request kind':<30} {'requests':>8} {'5xx':>5} {'409':>5} {'4xx':>5} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for kind in sorted({r["kind"] for r in records}):
        _row(kind, figures([r for r in records if r["kind"] == kind]))
    overall = figures(records)
    _row("overall", overall)
    return overall


def _row(name: str, f: dict[str, Any]) -> None:
    print(
        f"{name:<30} {f['requests']:>8,} {f['server_errors']:>5} {f['conflicts']:>5} {f['other_4xx']:>5} "
        f"{f['p50']:>7.0f} {f['p95']:>7.0f} {f['p99']:>7.0f}"
    )


ACCESS = re.compile(r'\[(\d+/\w+/\d+:\d+:\d+:\d+ [+-]\d+)\] "\w+ [^"]*" (\d+) \S+ (\d+)ms$')


def server_times(log: Path, windows: list[tuple[float, float]]) -> str:
    """gunicorn's own request time (access log, second resolution) for requests in the windows."""
    import datetime as dt

    times: list[float] = []
    for line in log.read_text(errors="replace").splitlines():
        found = ACCESS.search(line)
        if not found:
            continue
        at = dt.datetime.strptime(found.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
        if any(start - 1 <= at <= end + 1 for start, end in windows):
            times.append(float(found.group(3)))
    return (
        f"gunicorn's own time for the same requests (access log): {len(times):,} requests, "
        f"p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms, p99 {percentile(times, 99):.0f} ms"
    )


def _within(records: list[dict[str, Any]], windows: list[tuple[float, float]]) -> list[dict[str, Any]]:
    return [r for r in records if any(start <= r["t"] <= end for start, end in windows)]


def measure(work: Path, servers: Servers, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Sign everyone in (the ramp), phase 1, then phase 2 with the ingests; print both."""
    ramp_s = args.users / args.spawn_rate + 15
    phase_s = duration(args.run_time)
    total = ramp_s + phase_s * (1 if args.no_ingest else 3 if args.after else 2)
    ingests = None if args.no_ingest else Ingests(work, servers.env, args.ingest_nice, args.ingest_sched == "idle")
    locust = start_locust(work, args, total)
    started = time.time()
    waits = Waits([servers.processes[1].pid])
    waits.start()
    machine = Machine(
        {"gunicorn": servers.processes[0].pid, "celery": servers.processes[1].pid, "locust": locust.pid}, waits
    )
    machine.start()
    if ingests:
        ingests.start_at = started + ramp_s + phase_s
        if args.after:
            ingests.stop_at = started + ramp_s + 2 * phase_s
        ingests.start()
    locust.wait()
    machine.stop_asked.set()
    waits.stop_asked.set()
    if ingests:
        ingests.stop_asked.set()
        ingests.join()
        if ingests.failure:
            raise RuntimeError(f"an ingest failed: {ingests.failure}")
    servers.check()
    records_path = work / "records.jsonl"
    if not records_path.exists():
        raise RuntimeError(f"locust wrote no records; see {work / 'locust.log'}")
    records = [json.loads(line) for line in records_path.read_text().splitlines()]
    ramp = [r for r in records if r["t"] < started + ramp_s or r["kind"] in SIGN_IN]
    print(
        f"\nRamp ({ramp_s:.0f} s: {args.users} people signing in, then starting work; not in the tables): "
        f"{len(ramp):,} requests, {figures(ramp)['server_errors']} 5xx; sign in p95 "
        f"{figures([r for r in records if r['kind'] == 'sign in'])['p95']:.0f} ms"
    )
    one_window = [(started + ramp_s, started + ramp_s + phase_s)]
    one = _phase("Phase 1: every request after the ramp", records, one_window, servers, machine, waits)
    one["run_server_errors"] = figures(records)["server_errors"]  # the ramp's and the gaps' too
    if not ingests:
        return one, None
    windows = [(w["start"], min(w["end"], started + total)) for w in ingests.windows]
    two = _phase(
        f"Phase 2: requests sent while a 20,000-claim file was ingesting ({len(windows)} files, one after another)",
        records,
        windows,
        servers,
        machine,
        waits,
    )
    for w in ingests.windows:
        print(f"  ingest: {w['claims']:,} claims, {w['denials']:,} denials in {w['end'] - w['start']:.1f} s")
    if args.after:
        # The same again once the last file is in: the data has grown by the phase's files, but
        # nothing ingests. Phase 3 near phase 2 means the growth slowed the pages; near phase 1,
        # the ingest running beside them did.
        after_start = max(windows[-1][1] if windows else 0.0, started + ramp_s + 2 * phase_s)
        _phase(
            "Phase 3: after the ingests, nothing ingesting",
            records,
            [(after_start, started + total)],
            servers,
            machine,
            waits,
        )
    return one, two


def _phase(
    title: str,
    records: list[dict[str, Any]],
    windows: list[tuple[float, float]],
    servers: Servers,
    machine: Machine,
    waits: Waits,
) -> dict[str, Any]:
    measured = [r for r in _within(records, windows) if r["kind"] not in SIGN_IN]
    seconds = sum(end - start for start, end in windows)
    overall = table(f"{title}, {seconds:.0f} s, {len(measured) / max(seconds, 1):.1f} requests/s", measured)
    print(server_times(servers.access_log, windows))
    print(machine.summary(windows[0][0], windows[-1][1]))
    print(waits.summary(windows))
    return {"overall": overall, "server_errors": overall["server_errors"]}


def report_targets(one: dict[str, Any], two: dict[str, Any] | None) -> None:
    p95 = one["overall"]["p95"]
    print()
    print(f"p95 under {TARGET_P95_MS:.0f} ms: {p95:.0f} ms: target {'met' if p95 < TARGET_P95_MS else 'not met'}")
    errors = one["run_server_errors"]
    print(
        f"No server error (5xx or no answer) in the whole run: {errors}: target {'met' if errors == 0 else 'not met'}"
    )
    if two:
        ratio = two["overall"]["p95"] / p95 if p95 else float("inf")
        print(
            f"p95 while ingesting at most {TARGET_RATIO:.0f}x phase 1: {two['overall']['p95']:.0f} / {p95:.0f} ms = "
            f"{ratio:.2f}x: target {'met' if ratio <= TARGET_RATIO else 'not met'}"
        )


@contextlib.contextmanager
def held(lock: str):  # type: ignore[no-untyped-def]
    """The shared machine's benchmark lock, for the timed part only (none when not asked)."""
    if not lock:
        yield
        return
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Reuse the loaded database when its row counts match")
    parser.add_argument("--run-time", default="5m", help="Each phase's length, as locust takes it (30s, 5m)")
    parser.add_argument("--users", type=int, default=55, help="Simulated people: 5 managers, the rest coders")
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument(
        "--workers", type=int, default=6, help="gunicorn worker processes (6: the README's Load section says why)"
    )
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread when > 1)")
    parser.add_argument("--no-ingest", action="store_true", help="Phase 1 only")
    parser.add_argument(
        "--after", action="store_true", help="A phase 3 with no ingest after phase 2 (contention or data growth?)"
    )
    parser.add_argument(
        "--ingest-nice", type=int, default=10, help="CPU niceness of the worker and the files' receiving (0: none)"
    )
    parser.add_argument(
        "--ingest-sched",
        choices=["idle", "normal"],
        default="normal",
        help="idle: the worker and the files' receiving in Linux's SCHED_IDLE class too (make serve WORKER_SCHED=idle)",
    )
    parser.add_argument(
        "--autogroups",
        choices=["off", "as-is"],
        default="off",
        help="off: Linux's scheduler autogroups off for the run, as the README recommends (needs root)",
    )
    parser.add_argument("--lock", default="", help="Hold this flock while measuring (a shared machine)")
    parser.add_argument("--step", choices=["load", "complete"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    duration(args.run_time)  # refused now rather than after the data set is ready
    if args.step == "load":
        print(json.dumps(analytics.load(URL, data.SCALE), default=str))
        return
    if args.step == "complete":
        django_setup(URL)
        print(json.dumps(data.complete()))
        return
    prepare(args.keep)
    copy_for_run()
    print("Data set: " + ", ".join(f"{k} {v:,}" for k, v in data.counts(RUN_URL).items()))
    work = Path(tempfile.mkdtemp(prefix="overturn-load-"))
    print(
        f"gunicorn config/gunicorn.py, {args.workers} workers x {args.threads} thread(s), on {HOST}:{PORT}; "
        f"Celery worker on {BROKER} (niceness {args.ingest_nice}, {args.ingest_sched} class); "
        f"{args.users} users, spawn rate {args.spawn_rate:g}/s, {args.run_time} per phase; "
        f"think time 1-5 s; logs in {work}"
    )
    with held(args.lock), autogroups_as(args.autogroups):
        print(f"Scheduler autogroups: {'on' if _autogroups() else 'off'}; PostgreSQL: {URL.rsplit('/', 1)[0]}")
        servers = Servers(work, args.workers, args.threads, args.ingest_nice, args.ingest_sched == "idle")
        try:
            one, two = measure(work, servers, args)
        finally:
            servers.stop()
    report_targets(one, two)
    if one["run_server_errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
