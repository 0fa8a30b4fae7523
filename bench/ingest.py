"""Ingestion benchmark: parse speed, end-to-end ingest speed, peak memory, linearity.

    python bench/ingest.py            # PostgreSQL (BENCH_DATABASE_URL), sizes 1k, 5k, 20k claims

Each measurement runs in a fresh process so its peak memory is its own. End-to-end means
what a worker does: read the file, store every row in one transaction per ST/SE, find
the denials and triage them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, database_url, django_setup, fresh_database, peak_rss_mb


def one(path: str, url: str) -> dict[str, float]:
    django_setup(url)
    import uuid

    from denials.models import RemittanceFile
    from denials.services import (
        adjustment_rules_load_defaults,
        category_rules_load_defaults,
        remittance_file_ingest,
        remittance_file_receive,
    )
    from denials.x12.reader import read_835

    adjustment_rules_load_defaults()
    category_rules_load_defaults()
    content = Path(path).read_bytes()
    best_parse = min(_timed(lambda: read_835(content)) for _ in range(3))
    parsed = read_835(content)
    claims = parsed.claim_count
    start = time.perf_counter()
    file = remittance_file_receive(name=Path(path).name, content=content, source="command", queue=False)
    file = remittance_file_ingest(file_id=file.pk, task_id=f"bench-{uuid.uuid4()}")
    elapsed = time.perf_counter() - start
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    return {
        "claims": claims,
        "lines": file.service_line_count,
        "denials": file.denial_count,
        "bytes": len(content),
        "parse_s": best_parse,
        "parse_claims_per_s": claims / best_parse,
        "ingest_s": elapsed,
        "ingest_claims_per_s": claims / elapsed,
        "peak_rss_mb": peak_rss_mb(),
    }


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = database_url("ingest")
    if args.one:
        print(json.dumps(one(args.one, url)))
        return
    from denials.demo.remittances import generate_835

    fresh_database(url)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, size in enumerate(int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"bench-{size}.835"
            path.write_bytes(generate_835(claims=size, seed=9000 + i))
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(path)], cwd=ROOT, check=True, capture_output=True, text=True
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"Ingest benchmark on {url.split('@')[-1]} (synthetic balanced 835s; strict pyx12 check off)")
    print(
        f"{'claims':>7} {'lines':>7} {'denials':>7} {'MB':>6} {'parse s':>8} {'parse c/s':>10} "
        f"{'ingest s':>9} {'ingest c/s':>11} {'peak MB':>8}"
    )
    for r in rows:
        print(
            f"{r['claims']:>7} {r['lines']:>7} {r['denials']:>7} {r['bytes'] / 1e6:>6.1f} {r['parse_s']:>8.3f} "
            f"{r['parse_claims_per_s']:>10,.0f} {r['ingest_s']:>9.2f} {r['ingest_claims_per_s']:>11,.0f} "
            f"{r['peak_rss_mb']:>8.0f}"
        )
    if len(rows) > 1:
        per_claim = [r["ingest_s"] / r["claims"] * 1000 for r in rows]
        print("ms per claim by size (flat = linear): " + ", ".join(f"{p:.3f}" for p in per_claim))
    print("targets: parse >= 10,000 claims/s; ingest >= 2,000 claims/s; peak < 300 MB")


if __name__ == "__main__":
    main()
