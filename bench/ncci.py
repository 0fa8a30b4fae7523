"""NCCI import and lookup benchmark.

    python bench/ncci.py                  # PostgreSQL (BENCH_DATABASE_URL, default overturn_bench_ncci), 2.7 M rows
    python bench/ncci.py --rows 300000 --sqlite    # the SQLite path, smaller

What it measures, on a synthetic quarter in the exact CMS layout (ncci/demo/cms_files.py: four
PTP files of ~675k rows each plus a 15k-row MUE table):

1. first import of the quarter into empty tables;
2. re-import of the same quarter (must change nothing);
3. import of the next quarter with 1% of the rows changed (half get a deletion date, half
   are new edits);
4. peak memory of this process (ru_maxrss): the files are generated in a child process so
   the figure is the importer's own;
5. lookup latency for a 10-line claim (selectors.scrub_claim: PTP edits between the lines,
   their MUEs and the bypass modifiers; 3 queries), median and p95 over 200 runs.

Targets (issue 3): first import < 90 s, re-import < 60 s, peak memory < 400 MB, lookup < 5 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, database_url, peak_rss_mb

TARGETS = {"first_import_s": 90.0, "reimport_s": 60.0, "peak_rss_mb": 400.0, "lookup_p95_ms": 5.0}
BASE_QUARTER = "2026Q2"
NEXT_QUARTER = "2026Q3"
MUE_ROWS = 15_000


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark database if it is missing, then migrate it."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    migrate({"DATABASE_URL": url})


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )


def generate(directory: Path, *, rows: int, quarter: str, changed: float = 0.0) -> list[Path]:
    """Write a quarter with ncci.demo.cms_files in a child process (its memory is not ours)."""
    command = [
        sys.executable,
        "-m",
        "ncci.demo.cms_files",
        str(directory),
        "--rows",
        str(rows),
        "--quarter",
        quarter,
        "--mue-rows",
        str(MUE_ROWS),
        "--seed",
        "0",
    ]
    if changed:
        command += ["--changed", str(changed), "--base-seed", "0"]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [Path(line) for line in out.split() if line]


def clear_tables() -> None:
    from django.db import connection

    from ncci.models import Mue, NcciImport, PtpEdit

    if connection.vendor == "postgresql":
        tables = ", ".join(m._meta.db_table for m in (PtpEdit, Mue, NcciImport))
        with connection.cursor() as cursor:
            # CASCADE: denials point at PTP edits (SET NULL); a benchmark database has none worth keeping.
            cursor.execute(f"TRUNCATE {tables} CASCADE")
    else:
        for model in (PtpEdit, Mue, NcciImport):
            model.objects.all().delete()


def import_all(paths: list[Path]) -> tuple[float, dict[str, int]]:
    from ncci.models import NcciImport
    from ncci.services import ncci_file_import

    totals = {"rows_read": 0, "added": 0, "changed": 0, "unchanged": 0, "rejected": 0}
    started = time.perf_counter()
    for path in paths:
        record = ncci_file_import(path=path)
        if record.status != NcciImport.Status.DONE:
            raise SystemExit(f"{path.name}: {record.status}: {record.error}")
        for key in totals:
            totals[key] += getattr(record, key)
        print(
            f"    {path.name}: {record.duration:.1f} s, added {record.added:,}, changed {record.changed:,}, "
            f"unchanged {record.unchanged:,}",
            flush=True,
        )
    return time.perf_counter() - started, totals


def claim_lines() -> list:
    """A 10-line claim whose codes have PTP edits between them: a busy Column 1 code and nine
    of its Column 2 codes, as a coder's claim with many bundling candidates would be."""
    from django.db.models import Count

    from ncci.models import PtpEdit
    from ncci.scrubber import ClaimLine

    busiest = (
        PtpEdit.objects.filter(setting="practitioner", deletion_date__isnull=True)
        .values("column1")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    column2 = list(
        PtpEdit.objects.filter(setting="practitioner", column1=busiest["column1"], deletion_date__isnull=True)
        .order_by("column2")
        .values_list("column2", flat=True)[:9]
    )
    codes = [busiest["column1"], *column2]
    return [
        ClaimLine(code=code, modifiers=("XS",) if i % 3 == 0 else (), units=1 + i % 2) for i, code in enumerate(codes)
    ]


def lookup_latency(runs: int = 200) -> dict[str, float]:
    import datetime as dt

    from ncci import selectors

    lines = claim_lines()
    on = dt.date(2026, 8, 3)
    for _ in range(10):
        result = selectors.scrub_claim(lines=lines, date_of_service=on)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = selectors.scrub_claim(lines=lines, date_of_service=on)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "lookup_median_ms": statistics.median(timings),
        "lookup_p95_ms": timings[int(len(timings) * 0.95) - 1],
        "lookup_ptp_flags": len(result.ptp),
        "lookup_mue_flags": len(result.mue),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_700_000, help="PTP rows per quarter (default 2,700,000)")
    parser.add_argument("--sqlite", action="store_true", help="run on a fresh SQLite file instead of PostgreSQL")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the synthetic files")
    args = parser.parse_args(argv)

    os.environ.pop("CELERY_BROKER_URL", None)  # the re-triage the import signals runs in-process
    sqlite_dir: Path | None = None
    if args.sqlite:
        sqlite_dir = Path(tempfile.mkdtemp(prefix="ncci-bench-"))
        sqlite_path = sqlite_dir / "bench.sqlite3"
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(sqlite_path)
        migrate({"SQLITE_PATH": str(sqlite_path)})
        where = f"SQLite {sqlite_path}"
    else:
        url = database_url("ncci")
        ensure_postgres_database(url)
        os.environ["DATABASE_URL"] = url
        where = f"PostgreSQL {url}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    with tempfile.TemporaryDirectory(prefix="ncci-bench-", dir=args.workdir) as tmp:
        work = Path(tmp)
        print(f"Writing the synthetic quarters ({args.rows:,} PTP rows each) ...", flush=True)
        base = generate(work / BASE_QUARTER, rows=args.rows, quarter=BASE_QUARTER)
        following = generate(work / NEXT_QUARTER, rows=args.rows, quarter=NEXT_QUARTER, changed=0.01)
        clear_tables()
        print(f"Database: {where}\n1. First import of {BASE_QUARTER}", flush=True)
        first_s, first = import_all(base)
        print(f"2. Re-import of {BASE_QUARTER}", flush=True)
        again_s, again = import_all(base)
        print(f"3. Import of {NEXT_QUARTER} (1% changed)", flush=True)
        next_s, following_totals = import_all(following)
        print("4. Lookup latency, 10-line claim, 200 runs", flush=True)
        lookups = lookup_latency()

    figures = {
        "database": "sqlite" if args.sqlite else "postgresql",
        "ptp_rows": args.rows,
        "first_import_s": round(first_s, 1),
        "first_import_rows_per_s": round(first["rows_read"] / first_s),
        "first_import_added": first["added"],
        "reimport_s": round(again_s, 1),
        "reimport_changes": again["added"] + again["changed"],
        "next_quarter_s": round(next_s, 1),
        "next_quarter_added": following_totals["added"],
        "next_quarter_changed": following_totals["changed"],
        "next_quarter_unchanged": following_totals["unchanged"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in lookups.items()},
    }
    print("\nFigures")
    for key, value in figures.items():
        print(f"  {key:<26} {value:>14,}" if isinstance(value, (int, float)) else f"  {key:<26} {value:>14}")
    if again["added"] or again["changed"]:
        print("  !! the re-import changed rows: it must not")
    print("\nTargets")
    for key, target in TARGETS.items():
        value = figures[key]
        verdict = "ok" if value < target else f"MISSED by {value - target:.1f}"
        print(f"  {key:<26} {value:>10} < {target:<8} {verdict}")
    print(json.dumps(figures))
    if sqlite_dir is not None:
        shutil.rmtree(sqlite_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
