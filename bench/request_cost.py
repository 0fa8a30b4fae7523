"""What one request of each kind the load test sends costs, in CPU: Django's and PostgreSQL's.

    python bench/request_cost.py [--rounds 40] [--database overturn_bench_load]

The load test (``bench/load/run.py``) measures latency on a saturated two-core machine, where
a request mostly waits for a CPU, and the machine's speed moves from minute to minute. This
script measures what each request costs instead, so two versions of the code (or two settings)
can be compared in alternating runs: for every kind the load test sends (the worklist and its
htmx swaps, the denial pane and page, the appeal box, tabs and news, a save, a note, the
dashboard and its tables, the analytics API), it replays the same requests in-process with
Django's test client, signed in as one of the load test's coders or managers, and prints per
kind: SQL queries per request, the Django process's CPU ms (``process_time``), the PostgreSQL
backend's CPU ms (``/proc/<pid>/schedstat`` of the connection's backend) and their sum, median
over the rounds. The last line weighs the kinds as the load test's people send them.

It works on a copy of the load test's database (``CREATE DATABASE ... TEMPLATE``; build it with
``python bench/load/run.py --keep`` first), with production settings (DEBUG off). Settings to
compare are read from the environment as in production, e.g. ``DATABASE_SERVER_SIDE_BINDING``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import SERVER_URL, django_setup

HX = {"HTTP_HX_REQUEST": "true"}
ROW = re.compile(r'data-row="(\d+)"')
QUEUE_TAB = re.compile(r'hx-get="/worklist/\?queue=(\d+)"')
LOADS_ITSELF = re.compile(r'<[^>]*\bhx-trigger="load"[^>]*>')
HX_GET = re.compile(r'\bhx-get="([^"]*)"')
PANE_VERSION = re.compile(r'data-denial-id="(\d+)" data-version="(\d+)"')
# How often each kind is sent in the load test (its task weights, with the fragments each brings).
WEIGHTS = {
    "worklist page (full)": 1,
    "appeal tabs (htmx)": 1,
    "appeal news (htmx)": 1,
    "worklist tab (htmx)": 3,
    "worklist page N (htmx)": 2,
    "worklist filter (htmx)": 2,
    "worklist sort (htmx)": 1,
    "denial pane (htmx)": 6,
    "appeal box (htmx)": 8,
    "denial page (full)": 1,
    "save outcome (htmx)": 3,
    "list after save (htmx)": 3,
    "add note (htmx)": 1,
    "dashboard": 0.5,
    "dashboard table (htmx)": 2,
    "api appeal-success": 0.3,
    "api denials": 0.3,
}


def _copy_database(template: str) -> str:
    import psycopg

    name = f"{template}_cost"
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return f"{SERVER_URL}/{name}"


class Meter:
    """CPU of this process and of the PostgreSQL backend serving it, around one request."""

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pid = cursor.fetchone()[0]

    def backend_ns(self) -> int:
        return int(Path(f"/proc/{self.pid}/schedstat").read_text().split()[0])

    def run(self, call):
        from django.db import connection, reset_queries

        reset_queries()
        before_cpu, before_pg, before_wall = time.process_time(), self.backend_ns(), time.perf_counter()
        response = call()
        after_cpu, after_pg, after_wall = time.process_time(), self.backend_ns(), time.perf_counter()
        return response, {
            "django": (after_cpu - before_cpu) * 1000,
            "postgres": (after_pg - before_pg) / 1e6,
            "wall": (after_wall - before_wall) * 1000,
            "queries": len(connection.queries),
        }


def measure(rounds: int, seed: int) -> dict[str, dict[str, float]]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.load.data import coder_name, manager_name

    # Count queries without DEBUG's other costs: the debug cursor only records them.
    connection.force_debug_cursor = True
    settings.DEBUG = False
    users = get_user_model().objects
    coder, manager = Client(), Client()
    coder.force_login(users.get(username=coder_name(1)))
    manager.force_login(users.get(username=manager_name(5)))
    meter = Meter()
    rng = random.Random(seed)
    samples: dict[str, list[dict[str, float]]] = {}

    def hit(name: str, call, *args, **kwargs) -> str:
        response, cost = meter.run(lambda: call(*args, **kwargs))
        if response.status_code >= 500:
            raise SystemExit(f"{name}: {response.status_code}")
        samples.setdefault(name, []).append(cost)
        return response.content.decode() if response.status_code == 200 else ""

    def fragments(page: str, names: dict[str, str], client: Client, base: str) -> None:
        for tag in LOADS_ITSELF.findall(page):
            url = HX_GET.search(tag)
            if not url:
                continue
            href = html.unescape(url.group(1))
            href = base.split("?")[0] + href if href.startswith("?") else href
            name = next((n for prefix, n in names.items() if href.startswith(prefix)), None)
            if name:
                hit(name, client.get, href, **HX)

    coder_fragments = {
        "/appeals/denial/": "appeal box (htmx)",
        "/appeals/tabs/": "appeal tabs (htmx)",
        "/appeals/news/": "appeal news (htmx)",
    }
    page = hit("worklist page (full)", coder.get, "/worklist/")
    queues = sorted(set(QUEUE_TAB.findall(page)))
    for _ in range(rounds):
        queue = rng.choice(queues)
        page = hit("worklist page (full)", coder.get, f"/worklist/?queue={queue}")
        fragments(page, coder_fragments, coder, "/worklist/")
        rows = ROW.findall(page)
        hit("worklist tab (htmx)", coder.get, f"/worklist/?queue={queue}", **HX)
        hit("worklist page N (htmx)", coder.get, f"/worklist/?queue={queue}&page={rng.randint(2, 12)}", **HX)
        hit("worklist filter (htmx)", coder.get, f"/worklist/?queue={queue}&due=30", **HX)
        hit("worklist sort (htmx)", coder.get, f"/worklist/?queue={queue}&sort=amount", **HX)
        denial = rng.choice(rows[:15])
        pane = hit("denial pane (htmx)", coder.get, f"/denials/{denial}/", **HX)
        fragments(pane, coder_fragments, coder, f"/denials/{denial}/")
        hit("denial page (full)", coder.get, f"/denials/{denial}/")
        found = PANE_VERSION.search(pane)
        if found:
            form = {"version": found.group(2), "action": "request-info", "modifier": "", "reason": "Asked for notes"}
            hit("save outcome (htmx)", coder.post, f"/denials/{denial}/outcome/", form, **HX)
            hit("list after save (htmx)", coder.get, f"/worklist/?queue={queue}", **HX)
            form = {"version": str(int(found.group(2)) + 1), "body": "Called the payer: reference 48213."}
            hit("add note (htmx)", coder.post, f"/denials/{denial}/notes/", form, **HX)
        dashboard = hit("dashboard", manager.get, "/analytics/")
        fragments(dashboard, {"/analytics/": "dashboard table (htmx)"}, manager, "/analytics/")
        hit("api appeal-success", manager.get, "/api/analytics/appeal-success/?by=edit")
        hit("api denials", manager.get, "/api/analytics/denials/?by=category")
    result = {}
    for name, costs in samples.items():
        result[name] = {
            "n": len(costs),
            **{key: statistics.median(c[key] for c in costs) for key in ("queries", "django", "postgres", "wall")},
        }
        result[name]["cpu"] = result[name]["django"] + result[name]["postgres"]
    return result


def report(result: dict[str, dict[str, float]]) -> None:
    print(f"{'kind':<26}{'n':>5}{'queries':>9}{'django ms':>11}{'postgres ms':>13}{'cpu ms':>9}{'wall ms':>9}")
    for name, row in result.items():
        print(
            f"{name:<26}{row['n']:>5}{row['queries']:>9.0f}{row['django']:>11.1f}{row['postgres']:>13.1f}"
            f"{row['cpu']:>9.1f}{row['wall']:>9.1f}"
        )
    weight = sum(WEIGHTS.get(name, 0) for name in result)
    mixed = {key: sum(WEIGHTS.get(n, 0) * r[key] for n, r in result.items()) / weight for key in ("django", "postgres")}
    print(
        f"weighted as the load test sends them: django {mixed['django']:.1f} ms + postgres "
        f"{mixed['postgres']:.1f} ms = {mixed['django'] + mixed['postgres']:.1f} CPU ms per request"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="overturn_bench_load", help="Template database to copy")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    django_setup(_copy_database(args.database))
    result = measure(args.rounds, args.seed)
    if args.json:
        print(json.dumps(result))
    report(result)


if __name__ == "__main__":
    main()
