"""Page benchmark: the coder's queue page and denial page with 200,000 denials on PostgreSQL.

    python bench/pages.py [--denials 200000] [--reuse]

Builds denials through the real ingest pipeline (see bench/triage.py), then requests the
pages in-process with Django's test client as a coder on the team that owns the queue,
and reports server time (p50, p95, max) and the number of SQL queries per page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, database_url, django_setup, fresh_database


def measure(url: str) -> dict[str, dict[str, float]]:
    django_setup(url)
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from denials.models import Denial, Team, WorkQueue

    team = Team.objects.get(name="Bench team")
    queue = WorkQueue.objects.get(team=team)
    user, _ = get_user_model().objects.get_or_create(username="bench-coder")
    user.groups.add(Group.objects.get_or_create(name="coder")[0])
    team.members.add(user)
    # Give the coder some work of their own, as on a real day (once: a --reuse run keeps it).
    if not Denial.objects.filter(assignee=user).exists():
        mine = list(Denial.objects.filter(queue=queue, assignee__isnull=True).values_list("pk", flat=True)[:150])
        Denial.objects.filter(pk__in=mine).update(assignee=user, status="in-progress")
    client = Client()
    client.force_login(user)
    rng = random.Random(3)
    ids = list(Denial.objects.values_list("pk", flat=True))
    pages = {
        "queue page 1 (priority)": lambda: f"/worklist/?queue={queue.pk}",
        "queue page 40, filtered": lambda: f"/worklist/?queue={queue.pk}&category=bundling-modifier-may-apply&page=40",
        "queue sorted by due date": lambda: f"/worklist/?queue={queue.pk}&sort=due",
        "my work": lambda: "/worklist/",
        "queue row swap (htmx)": lambda: f"/worklist/?queue={queue.pk}&page=3",
        "denial page": lambda: f"/denials/{rng.choice(ids)}/",
        "denial pane (htmx)": lambda: f"/denials/{rng.choice(ids)}/",
    }
    results: dict[str, dict[str, float]] = {}
    for name, make_url in pages.items():
        headers = {"HTTP_HX_REQUEST": "true"} if "htmx" in name else {}
        client.get(make_url(), **headers)  # warm up
        times: list[float] = []
        queries: list[int] = []
        for _ in range(60):
            target = make_url()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(target, **headers)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (target, response.status_code)
            queries.append(len(captured.captured_queries))
        times.sort()
        results[name] = {
            "p50_ms": statistics.median(times),
            "p95_ms": times[int(len(times) * 0.95) - 1],
            "max_ms": times[-1],
            "max_queries": max(queries),
        }
    results["_denials"] = {"count": Denial.objects.count()}
    return results


def _vacuum(url: str) -> None:
    """What autovacuum does soon after a bulk load in production: VACUUM sets the visibility
    map, without which PostgreSQL cannot answer the queue tabs' counts and sums from the
    covering index ``denial_active_queue_amount`` (index-only scan) and reads the table."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--denials", type=int, default=200_000)
    parser.add_argument("--reuse", action="store_true", help="Keep the database built by an earlier run")
    parser.add_argument("--step", choices=["measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = database_url("pages")
    if args.step == "measure":
        print(json.dumps(measure(url)))
        return
    if not args.reuse:
        fresh_database(url)
        env_url = {"BENCH_DATABASE_URL": url}
        import os

        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "triage.py"), "--step", "build", "--denials", str(args.denials)],
            cwd=ROOT,
            check=True,
            env={**os.environ, **env_url},
            stdout=subprocess.DEVNULL,
        )
    _vacuum(url)
    out = subprocess.run(
        [sys.executable, __file__, "--step", "measure"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    results = json.loads(out.splitlines()[-1])
    count = results.pop("_denials")["count"]
    print(f"Page benchmark on {url.split('@')[-1]}: {count:,} denials, Django test client (server time)")
    print(f"{'page':<28} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'queries':>8}")
    for name, r in results.items():
        print(f"{name:<28} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} {r['max_ms']:>7.1f} {r['max_queries']:>8}")
    print("targets: p95 under 150 ms, at most 15 queries per page")


if __name__ == "__main__":
    main()
