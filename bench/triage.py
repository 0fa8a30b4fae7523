"""Triage benchmark: 100,000 denials on PostgreSQL, batched NCCI lookups.

    python bench/triage.py [--denials 100000]

Builds the denials through the real ingest pipeline (synthetic 835s with a high denial
rate), loads a practitioner PTP table (the demo pairs plus 300,000 filler edits), then
re-triages every denial in a fresh process and reports time, peak memory and the number
of queries (which must not grow with the number of denials).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, database_url, django_setup, fresh_database, peak_rss_mb


def build(url: str, target: int) -> dict[str, float]:
    django_setup(url)
    import datetime as dt
    import random
    import uuid

    from denials.bulk import insert_values
    from denials.demo.remittances import NCCI_PAIRS, generate_835
    from denials.models import Denial, QueueRule, Team, WorkQueue
    from denials.services import (
        adjustment_rules_load_defaults,
        category_rules_load_defaults,
        remittance_file_ingest,
        remittance_file_receive,
    )
    from ncci.models import PtpEdit
    from ncci.services import codes_load

    codes_load()
    adjustment_rules_load_defaults()
    category_rules_load_defaults()
    team = Team.objects.create(name="Bench team")
    QueueRule.objects.create(queue=WorkQueue.objects.create(name="Bench", team=team), category="")
    rng = random.Random(7)
    rows = [
        ("practitioner", c1, c2, False, dt.date(2020, 1, 1), None, "1" if i % 3 else "0", "Bench", "2026Q3", "")
        for i, (c1, c2) in enumerate(NCCI_PAIRS)
    ]
    seen = set(NCCI_PAIRS)
    while len(rows) < 300_000:
        pair = (f"{rng.randint(10000, 99499)}", f"{rng.randint(10000, 99499)}")
        if pair not in seen:
            seen.add(pair)
            rows.append(
                ("practitioner", *pair, False, dt.date(2019, 1, 1), None, rng.choice("0119"), "Bench", "2026Q3", "")
            )
    from django.db import transaction

    with transaction.atomic():
        insert_values(
            PtpEdit,
            [
                "setting",
                "column1",
                "column2",
                "prior_1996",
                "effective_date",
                "deletion_date",
                "modifier_indicator",
                "rationale",
                "quarter",
                "source_file",
            ],
            rows,
        )
    start = time.perf_counter()
    seed = 0
    while Denial.objects.count() < target:
        seed += 1
        content = generate_835(claims=5000, seed=50_000 + seed, denial_rate=1.0)
        file = remittance_file_receive(name=f"bench-{seed}.835", content=content, source="command", queue=False)
        remittance_file_ingest(file_id=file.pk, task_id=f"bench-{uuid.uuid4()}")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does soon after a bulk load in production
    return {"denials": Denial.objects.count(), "build_s": time.perf_counter() - start}


def measure(url: str) -> dict[str, float]:
    django_setup(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from denials.models import Denial
    from denials.services import denials_triage

    count = Denial.objects.count()
    Denial.objects.update(category="")  # so every denial counts as changed and is audited
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        changed = denials_triage(only_unworked=False)
    elapsed = time.perf_counter() - start
    by_category = dict(
        Denial.objects.values_list("category")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        .order_by("-n")[:6]
    )
    return {
        "denials": count,
        "changed": changed,
        "seconds": elapsed,
        "denials_per_s": count / elapsed,
        "queries": len(queries.captured_queries),
        "peak_rss_mb": peak_rss_mb(),
        "bundling_with_edit": Denial.objects.exclude(ncci_column1="").count(),
        "top_categories": by_category,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--denials", type=int, default=100_000)
    parser.add_argument("--step", choices=["build", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = database_url("triage")
    if args.step == "build":
        print(json.dumps(build(url, args.denials)))
        return
    if args.step == "measure":
        print(json.dumps(measure(url)))
        return
    fresh_database(url)
    built = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--step", "build", "--denials", str(args.denials)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
    )
    result = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--step", "measure"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.splitlines()[-1]
    )
    print(f"Triage benchmark on {url.split('@')[-1]}")
    print(f"  built {built['denials']:,} denials through the ingest pipeline in {built['build_s']:.0f} s")
    print(
        f"  triage of {result['denials']:,} denials: {result['seconds']:.1f} s "
        f"({result['denials_per_s']:,.0f}/s), peak {result['peak_rss_mb']:.0f} MB, "
        f"{result['queries']} queries in all"
    )
    print(
        f"  denials with an NCCI edit found: {result['bundling_with_edit']:,}; top categories: "
        f"{result['top_categories']}"
    )
    print("targets: 100,000 denials under 60 s, under 300 MB, no query per denial")


if __name__ == "__main__":
    main()
