"""Analytics benchmark: the managers' dashboard and analytics API on PostgreSQL with
1,000,000 denials and 200,000 appeals.

    python bench/analytics.py [--keep] [--rebuild] [--no-refresh] [--scale 1.0] [--runs 20] [--only NAME]

Loads its own database (``bench._setup.database_url("analytics")``, fresh and migrated)
straight with COPY, not through the 835 ingest (a million denials through the real pipeline
would take hours): 24 months of weekly remittances from 40 payers of mixed kinds, 3 teams
with 2 queues each, claims with their billed lines (about 10 lines billed for every line
denied, so a denial rate over billed is meaningful), 1,000,000 denials with a realistic mix of
categories and CARCs (bundling denials carry an NCCI Column 1 / Column 2 pair out of 432
loaded PTP edits, with its modifier indicator and setting), procedure codes spread over the
shipped specialty ranges, and 200,000 appeals covering 1 to 3 denials of one claim each, at
first, second and third levels, with outcomes and amounts recovered that follow the rules
(upheld recovers 0; recovered never exceeds the amount at stake; decided on or after
submitted). Then ANALYZE.

Then it migrates (a kept database may predate the figures tables) and times the figures'
refresh (``appeals.analytics_rollup``): a full rebuild the first time (or with ``--rebuild``),
one with nothing changed, one after 1,000 denials are written off through the versioned path
and a new 835 arrives (taken away again afterwards), and the task's answering of the unfiltered
page and API once per scope. ``--no-refresh`` skips this.

It then requests, in a fresh process with Django's test client (server time, like
``bench/pages.py``), every analytics API call and the dashboard page, as a manager of one
team and as an admin: once **cold** (the figure cache emptied first), then ``--runs`` times
each after 2 warm-ups, and prints cold, p50 / p95 / max and the most queries per call against
the target (p95 under 500 ms). The slowest query of each
call over the target is run once more under EXPLAIN ANALYZE and summarised. Calls whose URL
does not exist yet are skipped with a message.

``--keep`` keeps a database an earlier run loaded when its row counts match, so
iterations on the queries take seconds, not minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import BENCH_SECRET_KEY, ROOT, database_url, django_setup, fresh_database, peak_rss_mb

SEED = 11
MARKER = "bench-analytics-v1"
DENIALS = 1_000_000
APPEALS = 200_000
CLAIMS = 2_400_000  # about 9.8 million billed lines: ~10 lines billed for every line denied
END = dt.date(2026, 10, 31)  # the last remittance date
WEEKS = 104  # 24 months of weekly remittances
TARGET_MS = 500.0

# --- Payers: 40 of mixed kinds, big ones first (volume falls off like a real payer mix) --------
PAYER_KINDS = ["medicare"] * 2 + ["medicare-advantage"] * 8 + ["medicaid"] * 5 + ["commercial"] * 22 + ["other"] * 3
FILING = {"medicare": "MB", "medicare-advantage": "16", "medicaid": "MC", "commercial": "CI", "other": "12"}
WINDOW = {"medicare": 120, "medicare-advantage": 65, "medicaid": 90, "commercial": 180, "other": 180}
FIRST_LEVEL = {"medicare": "redetermination"}
SECOND_LEVEL = {"medicare": "reconsideration"}
THIRD_LEVEL = {"medicare": "alj-hearing"}

# --- Specialties (names from ncci.specialties.SHIPPED_SPECIALTY_RANGES) and their weight ------
SPECIALTIES = {
    "E/M": 18,
    "Orthopedics": 12,
    "Dermatology": 9,
    "Pain management": 8,
    "Cardiology": 9,
    "Radiology": 12,
    "Pathology and laboratory": 10,
    "Gastroenterology": 5,
    "Ophthalmology": 4,
    "Physical medicine and rehabilitation": 6,
    "Surgery (other)": 4,
    "Medicine (other)": 3,
}
PRICE = {  # charge per line in dollars, low and high
    "E/M": (95, 320),
    "Orthopedics": (180, 4200),
    "Dermatology": (90, 900),
    "Pain management": (250, 1800),
    "Cardiology": (150, 2600),
    "Radiology": (80, 1400),
    "Pathology and laboratory": (12, 160),
    "Gastroenterology": (400, 2400),
    "Ophthalmology": (120, 2200),
    "Physical medicine and rehabilitation": (35, 140),
    "Surgery (other)": (300, 5000),
    "Medicine (other)": (40, 400),
}

# --- Teams and queues: which categories each queue works -------------------------------------
BUNDLING_CATEGORIES = (
    "bundling-modifier-may-apply",
    "bundling-appealable",
    "bundling-not-appealable",
    "bundling-edit-not-in-force",
    "bundling-no-ptp-pair",
)
TEAMS: dict[str, dict[str, tuple[str, ...]]] = {
    "Coding team": {
        "Bundling and modifiers": BUNDLING_CATEGORIES,
        "Coding and documentation": ("coding", "medical-necessity", "missing-information"),
    },
    "Front desk team": {
        "Eligibility and authorization": ("eligibility", "authorization"),
        "Coordination of benefits": ("coordination-of-benefits",),
    },
    "Follow-up team": {
        "Timely filing and duplicates": ("timely-filing", "duplicate"),
        "Coverage and other": ("non-covered", "plan-procedures", "other"),
    },
}
CODERS_PER_TEAM = 8

# category: (weight, claim level share, group code, [(CARC, weight)], RARCs, action, success probability,
#            first-level (won, partly won) probabilities, appeal probability)
CATEGORIES: dict[str, tuple[float, float, str, list[tuple[str, int]], str, str, float, tuple[float, float], float]] = {
    "bundling-modifier-may-apply": (
        14,
        0,
        "CO",
        [("97", 9), ("B15", 1)],
        "M80",
        "corrected-claim",
        0.62,
        (0.50, 0.12),
        0.40,
    ),
    "bundling-appealable": (4, 0, "CO", [("97", 1)], "M80", "appeal", 0.66, (0.55, 0.12), 0.55),
    "bundling-not-appealable": (6, 0, "CO", [("97", 1)], "M80", "write-off", 0.05, (0.05, 0.02), 0.0),
    "bundling-edit-not-in-force": (1, 0, "CO", [("97", 1)], "", "appeal", 0.70, (0.65, 0.10), 0.50),
    "bundling-no-ptp-pair": (2, 0, "CO", [("97", 1)], "", "review", 0.40, (0.35, 0.10), 0.20),
    "coding": (8, 0, "CO", [("4", 5), ("11", 3), ("182", 2)], "", "review-coding", 0.45, (0.38, 0.12), 0.20),
    "medical-necessity": (12, 0.05, "CO", [("50", 8), ("167", 2)], "N115", "appeal", 0.35, (0.30, 0.10), 0.30),
    "missing-information": (
        10,
        0.30,
        "CO",
        [("16", 8), ("252", 2)],
        "M127 N706",
        "send-documentation",
        0.55,
        (0.50, 0.10),
        0.15,
    ),
    "authorization": (
        9,
        0.30,
        "CO",
        [("197", 6), ("15", 2), ("198", 2)],
        "N54",
        "verify-authorization",
        0.30,
        (0.28, 0.08),
        0.25,
    ),
    "eligibility": (
        10,
        0.80,
        "CO",
        [("27", 5), ("31", 3), ("109", 2)],
        "",
        "verify-eligibility",
        0.20,
        (0.20, 0.05),
        0.05,
    ),
    "duplicate": (6, 0.40, "OA", [("18", 1)], "", "review", 0.10, (0.15, 0.05), 0.03),
    "timely-filing": (4, 0.70, "CO", [("29", 1)], "", "appeal", 0.15, (0.18, 0.04), 0.15),
    "coordination-of-benefits": (5, 0.60, "OA", [("22", 7), ("23", 3)], "MA04", "check-cob", 0.40, (0.40, 0.10), 0.08),
    "non-covered": (5, 0.10, "CO", [("96", 6), ("204", 4)], "N130", "review", 0.15, (0.15, 0.05), 0.10),
    "plan-procedures": (2, 0.20, "CO", [("242", 6), ("B7", 4)], "", "review", 0.20, (0.22, 0.05), 0.10),
    "other": (2, 0.20, "CO", [("45", 1), ("A1", 1)], "", "review", 0.25, (0.25, 0.05), 0.05),
}
WRITE_OFF_REASONS = (
    "Below the appeal threshold",
    "Timely filing limit passed",
    "Payer policy excludes the service",
    "No documentation supports a modifier",
    "Upheld on appeal",
)
PATIENT_LAST = ("Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Lopez", "Kim", "Davis", "Wilson")
PATIENT_FIRST = ("Ana", "John", "Mai", "Robert", "Priya", "Linda", "Jose", "Min", "Sarah", "David")


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _weighted(rng: random.Random, items: list[Any], weights: list[int] | list[float]) -> Any:
    return rng.choices(items, weights)[0]


class _Picker:
    """A weighted choice with its cumulative weights computed once (the load's hot loop)."""

    def __init__(self, items: list[Any], weights: list[int] | list[float]) -> None:
        from itertools import accumulate

        self.items = items
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> Any:
        from bisect import bisect

        return self.items[bisect(self.cumulative, rng.random() * self.total)]


# ============================================================================================
# Loading
# ============================================================================================


def _code_lists(rng: random.Random) -> dict[str, list[str]]:
    """24 procedure codes per specialty, each in its specialty by the shipped rule."""
    from ncci.specialties import SHIPPED_SPECIALTY_RANGES, specialty_for

    codes: dict[str, list[str]] = {}
    for name in SPECIALTIES:
        ranges = [r for r in SHIPPED_SPECIALTY_RANGES if r.specialty == name]
        found: set[str] = set()
        while len(found) < 24:
            r = rng.choice(ranges)
            code = f"{rng.randint(int(r.first), int(r.last)):05d}"
            if specialty_for(code, SHIPPED_SPECIALTY_RANGES) == name:
                found.add(code)
        codes[name] = sorted(found)
    return codes


def _pairs(rng: random.Random, codes: dict[str, list[str]]) -> list[dict[str, Any]]:
    """432 PTP pairs: per specialty, 12 Column 1 codes with 3 Column 2 codes each."""
    pairs: list[dict[str, Any]] = []
    for name, pool in codes.items():
        column1s = rng.sample(pool, 12)
        for c1 in column1s:
            for c2 in rng.sample([c for c in pool if c != c1], 3):
                pairs.append(
                    {
                        "specialty": name,
                        "column1": c1,
                        "column2": c2,
                        "indicator": _weighted(rng, ["1", "0", "9"], [62, 30, 8]),
                        "setting": "hospital" if rng.random() < 0.15 else "practitioner",
                        "deleted": rng.random() < 0.06,
                    }
                )
    return pairs


def load(url: str, scale: float) -> dict[str, Any]:
    """Build the whole data set; returns counts and timings."""
    django_setup(url)
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from appeals.models import Appeal
    from denials.bulk import insert_values
    from denials.models import Denial, Payer, Provider, Remittance, RemittanceFile, Team, WorkQueue
    from denials.services import adjustment_rules_load_defaults, category_rules_load_defaults
    from ncci.models import PtpEdit
    from ncci.services import codes_load

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    rng = random.Random(SEED)
    n_denials = int(DENIALS * scale)
    n_appeals = int(APPEALS * scale)
    n_claims = int(CLAIMS * scale)

    codes_load()
    adjustment_rules_load_defaults()
    category_rules_load_defaults()

    # --- people, teams, queues -----------------------------------------------------------
    users = get_user_model()
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("coder", "manager", "admin")}
    admin = users.objects.create(username="bench-admin", is_superuser=True, is_staff=True)
    admin.groups.add(groups["admin"])
    team_rows: list[Team] = []
    queue_of: dict[str, tuple[int, int]] = {}  # category -> (queue id, team index)
    coders: list[list[int]] = []
    for t, (team_name, queues) in enumerate(TEAMS.items()):
        team = Team.objects.create(name=team_name)
        team_rows.append(team)
        manager = users.objects.create(username=f"bench-manager-{t + 1}", first_name="Manager", last_name=team_name)
        manager.groups.add(groups["manager"])
        team.members.add(manager)
        for queue_name, categories in queues.items():
            queue = WorkQueue.objects.create(name=queue_name, team=team)
            for category in categories:
                queue_of[category] = (queue.pk, t)
        members = []
        for c in range(CODERS_PER_TEAM):
            coder = users.objects.create(username=f"bench-coder-{t + 1}-{c + 1}", first_name=f"Coder {c + 1}")
            coder.groups.add(groups["coder"])
            members.append(coder.pk)
        team.members.add(*members)
        coders.append(members)

    # --- payers, payees, files, remittances -----------------------------------------------
    payers: list[Payer] = []
    for i, kind in enumerate(PAYER_KINDS):
        payers.append(
            Payer.objects.create(
                payer_key=f"BENCH{i + 1:02d}",
                name=f"{'Medicare' if kind == 'medicare' else 'Bench'} payer {i + 1:02d} ({kind.replace('-', ' ')})",
                identifier=f"BP{i + 1:03d}",
                kind=kind,
                appeal_window_days=WINDOW[kind],
            )
        )
    payer_weight = [1 / (1 + i) ** 0.7 for i in range(len(payers))]
    rng.shuffle(payer_weight)
    payees = [
        Provider.objects.create(name=f"Bench practice {i + 1}", npi=f"19{i:08d}", tin=f"99{i:07d}") for i in range(4)
    ]
    first_week = END - dt.timedelta(weeks=WEEKS - 1)
    weeks = [first_week + dt.timedelta(weeks=w) for w in range(WEEKS)]
    files = {}
    for month in sorted({(d.year, d.month) for d in weeks}):
        files[month] = RemittanceFile.objects.create(
            original_name=f"{MARKER}-{month[0]}-{month[1]:02d}.835",
            content=b"",
            sha256=f"{MARKER}-{month[0]}-{month[1]:02d}",
            source="command",
            status="ingested",
        )
    # Claims per (week, payer): the payer's share, volume growing ~25% over the two years.
    plan: list[tuple[int, int, dt.date, int]] = []  # payer index, payee index, date, claims
    total_weight = sum(payer_weight) * sum(1 + 0.25 * w / WEEKS for w in range(WEEKS))
    for w, day in enumerate(weeks):
        for p in range(len(payers)):
            expected = n_claims * payer_weight[p] * (1 + 0.25 * w / WEEKS) / total_weight
            count = max(1, int(expected * rng.uniform(0.85, 1.15)))
            plan.append((p, p % len(payees), day, count))
    scaled = n_claims / sum(c for *_, c in plan)  # exactly n_claims in all
    counts = [max(1, int(c * scaled)) for *_, c in plan]
    for i in rng.sample(range(len(counts)), max(0, n_claims - sum(counts))):  # the rounding's remainder, spread
        counts[i] += 1
    with transaction.atomic():
        remittance_ids = insert_values(
            Remittance,
            [
                "file_id",
                "dedupe_key",
                "payer_id",
                "payee_id",
                "payment_amount",
                "payment_method",
                "payment_date",
                "production_date",
                "trace_number",
                "claim_count",
            ],
            [
                (
                    files[(day.year, day.month)].pk,
                    f"{MARKER}-{p}-{day.isoformat()}",
                    payers[p].pk,
                    payees[e].pk,
                    Decimal("0"),
                    "ACH",
                    day,
                    day - dt.timedelta(days=2),
                    f"BT{p:02d}{day:%Y%m%d}",
                    n,
                )
                for (p, e, day, _), n in zip(plan, counts, strict=True)
            ],
        )

    # --- NCCI edits -------------------------------------------------------------------------
    codes = _code_lists(rng)
    pairs = _pairs(rng, codes)
    with transaction.atomic():
        edit_ids = insert_values(
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
            [
                (
                    p["setting"],
                    p["column1"],
                    p["column2"],
                    False,
                    dt.date(2019, 1, 1),
                    dt.date(2023, 12, 31) if p["deleted"] else None,
                    p["indicator"],
                    "Standards of medical / surgical practice",
                    "2026Q4",
                    "bench",
                )
                for p in pairs
            ],
        )
    for edit, pk in zip(pairs, edit_ids, strict=True):
        edit["id"] = pk
    pairs_by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for edit in pairs:
        kind = "deleted" if edit["deleted"] else {"0": "0", "1": "1", "9": "1"}[edit["indicator"]]
        pairs_by.setdefault((edit["specialty"], kind), []).append(edit)
    price = {
        code: rng.randint(*PRICE[name]) * 100 + rng.choice((0, 0, 50, 99))
        for name, pool in codes.items()
        for code in pool
    }
    providers = {
        name: [
            (f"{PATIENT_LAST[(i * 3 + k) % 10]}, Dr {chr(65 + k)}", f"1{i * 1000 + k * 97 + 11:09d}") for k in range(4)
        ]
        for i, name in enumerate(SPECIALTIES)
    }
    timings["setup_s"] = time.perf_counter() - clock

    # --- which claims are denied, and how many lines each --------------------------------------
    clock = time.perf_counter()
    ks: list[int] = []
    pick_k = _Picker([1, 2, 3], [76, 16, 8])
    total = 0
    while total < n_denials:
        ks.append(pick_k(rng))
        total += ks[-1]
    ks[-1] -= total - n_denials
    if ks[-1] == 0:
        ks.pop()
    denied_k = dict(zip(rng.sample(range(n_claims), len(ks)), ks, strict=True))
    category_names = list(CATEGORIES)
    category_weights = [CATEGORIES[c][0] for c in category_names]
    line_only = [c for c in category_names if CATEGORIES[c][1] < 1]
    pick_specialty = _Picker(list(SPECIALTIES), list(SPECIALTIES.values()))
    pick_lines = _Picker([1, 2, 3, 4, 5, 6, 7, 8], [10, 18, 20, 18, 14, 9, 6, 5])
    pick_category = _Picker(category_names, category_weights)

    # One compact row per denial, finished once appeals are decided:
    # [claim id, line id, pair line id, amount cents, category, carc, pair, queue id, team,
    #  payer index, remittance date, service date, kind, modifier on line, specialty]
    denials: list[list[Any]] = []
    claim_denials: list[tuple[int, list[int]]] = []  # claim id, indexes into ``denials``
    line_id = 0
    claim_id = 0
    cursor = connection.cursor()
    cursor.execute("SET session_replication_role = replica")  # no FK trigger per COPY row
    claim_buffer: list[str] = []
    line_buffer: list[str] = []

    def flush() -> None:
        with cursor.cursor.copy(
            'COPY "denials_claimpayment" ("id", "remittance_id", "sequence", "payer_id", "patient_control_number", '
            '"status_code", "charge", "paid", "patient_responsibility", "filing_indicator", "payer_claim_number", '
            '"facility_type", "frequency_code", "drg_code", "patient_last_name", "patient_first_name", '
            '"patient_member_id", "insured_member_id", "rendering_provider_name", "rendering_provider_npi", '
            '"statement_from", "statement_to", "balanced", "warnings") FROM STDIN'
        ) as copy:
            copy.write("".join(claim_buffer))
        with cursor.cursor.copy(
            'COPY "denials_serviceline" ("id", "claim_id", "sequence", "qualifier", "procedure_code", "modifier1", '
            '"modifier2", "modifier3", "modifier4", "revenue_code", "original_procedure_code", "units", "charge", '
            '"paid", "allowed", "service_date", "line_control_number") FROM STDIN'
        ) as copy:
            copy.write("".join(line_buffer))
        claim_buffer.clear()
        line_buffer.clear()

    index = 0
    with transaction.atomic():
        for r, ((p, _e, day, _), n) in enumerate(zip(plan, counts, strict=True)):
            payer = payers[p]
            ratio = 0.45 + (p % 7) * 0.05  # allowed / charge for this payer
            for seq in range(1, n + 1):
                claim_id += 1
                k = denied_k.get(index, 0)
                index += 1
                specialty = pick_specialty(rng)
                pool = codes[specialty]
                service = day - dt.timedelta(days=rng.randint(14, 60))
                n_lines = pick_lines(rng)
                category = ""
                claim_level = False
                pair_rows: list[dict[str, Any]] = []
                if k:
                    category = pick_category(rng)
                    if k > 1 and CATEGORIES[category][1] >= 1:
                        category = rng.choice(line_only)
                    claim_level = k == 1 and rng.random() < CATEGORIES[category][1]
                    if category.startswith("bundling") and category != "bundling-no-ptp-pair":
                        wanted = {"bundling-not-appealable": "0", "bundling-edit-not-in-force": "deleted"}.get(
                            category, "1"
                        )
                        candidates = pairs_by.get((specialty, wanted)) or pairs_by[(specialty, "1")]
                        first = rng.choice(candidates)
                        same = [c for c in candidates if c["column1"] == first["column1"]] or [first]
                        pair_rows = [rng.choice(same) for _ in range(k)]
                        n_lines = max(n_lines, k + 1)
                    else:
                        n_lines = max(n_lines, k)
                line_codes = [rng.choice(pool) for _ in range(n_lines)]
                denied_positions: list[int] = []
                if pair_rows:
                    line_codes[0] = pair_rows[0]["column1"]
                    for j, pair in enumerate(pair_rows):
                        line_codes[1 + j] = pair["column2"]
                    denied_positions = list(range(1, k + 1))
                elif k and not claim_level:
                    denied_positions = list(range(n_lines - k, n_lines))
                first_line = line_id + 1
                charge_total = paid_total = resp_total = 0
                amounts: dict[int, tuple[int, str]] = {}
                for j, code in enumerate(line_codes):
                    line_id += 1
                    units = 1 if rng.random() < 0.9 else rng.randint(2, 4)
                    charge = price[code] * units
                    modifier = ""
                    if j in denied_positions and category == "bundling-appealable":
                        modifier = rng.choice(("59", "XS", "XU", "XE"))
                    elif rng.random() < 0.08:
                        modifier = rng.choice(("25", "LT", "RT", "26", "TC"))
                    if claim_level or j in denied_positions:
                        partial = not claim_level and rng.random() < 0.12
                        allowed = charge * ratio if partial else None
                        paid = int(allowed * 0.5) if allowed else 0
                        amounts[j] = (charge - paid, modifier)
                        allowed_text = _money(int(allowed)) if allowed else "\\N"
                    else:
                        allowed_int = int(charge * ratio)
                        paid = int(allowed_int * 0.8)
                        resp_total += allowed_int - paid
                        allowed_text = _money(allowed_int)
                    charge_total += charge
                    paid_total += paid
                    line_buffer.append(
                        f"{line_id}\t{claim_id}\t{j + 1}\tHC\t{code}\t{modifier}\t\t\t\t\t\t{units}\t{_money(charge)}\t"
                        f"{_money(paid)}\t{allowed_text}\t{service.isoformat()}\t\n"
                    )
                rendering = rng.choice(providers[specialty])
                claim_buffer.append(
                    f"{claim_id}\t{remittance_ids[r]}\t{seq}\t{payer.pk}\tPCN{claim_id:09d}\t"
                    f"{'4' if claim_level else '1'}\t"
                    f"{_money(charge_total)}\t{_money(paid_total)}\t{_money(resp_total)}\t{FILING[payer.kind]}\t"
                    f"PCL{claim_id:010d}\t\t1\t\t{PATIENT_LAST[claim_id % 10]}\t{PATIENT_FIRST[claim_id // 10 % 10]}\t"
                    f"M{claim_id * 7 % 10**9:09d}\t\t{rendering[0]}\t{rendering[1]}\t{service.isoformat()}\t"
                    f"{service.isoformat()}\tt\t[]\n"
                )
                if k:
                    queue_id, team_index = queue_of[category]
                    spec = CATEGORIES[category]
                    carcs = [c for c, _ in spec[3]]
                    carc_weights = [w for _, w in spec[3]]
                    indexes = []
                    targets: list[tuple[int | None, int, str, dict[str, Any] | None]]
                    if claim_level:
                        targets = [(None, charge_total, "", None)]
                    else:
                        targets = [
                            (first_line + j, amounts[j][0], amounts[j][1], pair_rows[t] if pair_rows else None)
                            for t, j in enumerate(denied_positions)
                        ]
                    for line, amount, modifier, edit_row in targets:
                        indexes.append(len(denials))
                        denials.append(
                            [
                                claim_id,
                                line,
                                first_line if edit_row else None,
                                amount,
                                category,
                                _weighted(rng, carcs, carc_weights),
                                edit_row,
                                queue_id,
                                team_index,
                                p,
                                day,
                                service,
                                "claim-denied" if claim_level else ("line-denied" if amount else "zero-pay"),
                                modifier,
                                specialty,
                            ]
                        )
                    claim_denials.append((claim_id, indexes))
            if len(line_buffer) > 200_000:
                flush()
        flush()
    cursor.execute("SET session_replication_role = origin")
    cursor.execute("SELECT setval(pg_get_serial_sequence('denials_claimpayment', 'id'), %s)", [claim_id])
    cursor.execute("SELECT setval(pg_get_serial_sequence('denials_serviceline', 'id'), %s)", [line_id])
    cursor.execute(
        "UPDATE denials_remittance r SET payment_amount = s.paid, claim_count = s.n FROM "
        "(SELECT remittance_id, SUM(paid) AS paid, COUNT(*) AS n FROM denials_claimpayment GROUP BY 1) s "
        "WHERE r.id = s.remittance_id"
    )
    timings["claims_lines_s"] = time.perf_counter() - clock

    # --- appeals: which claims, which levels, what the payers decided -------------------------
    clock = time.perf_counter()
    appeals, links = _plan_appeals(rng, denials, claim_denials, payers, coders, n_appeals)
    timings["appeal_plan_s"] = time.perf_counter() - clock

    # --- denials ----------------------------------------------------------------------------
    clock = time.perf_counter()
    denial_columns = [
        "claim_id",
        "line_id",
        "pair_line_id",
        "payer_id",
        "kind",
        "group_code",
        "carc",
        "rarcs",
        "amount",
        "service_date",
        "status",
        "created_at",
        "updated_at",
        "version",
        "category",
        "action",
        "action_modifier",
        "explanation",
        "queue_id",
        "assignee_id",
        "success_probability",
        "expected_recovery",
        "priority",
        "due_date",
        "triaged_at",
        "ptp_edit_id",
        "ncci_column1",
        "ncci_column2",
        "ncci_modifier_indicator",
        "ncci_effective_date",
        "ncci_deletion_date",
        "ncci_quarter",
        "ncci_setting",
        "ncci_rationale",
        "outcome",
        "recovered_amount",
        "resolution_reason",
        "chosen_modifier",
        "worked_at",
    ]
    denial_ids: list[int] = []
    utc = dt.UTC
    with transaction.atomic():
        cursor.execute("SET session_replication_role = replica")
        for start in range(0, len(denials), 100_000):
            rows: list[tuple[Any, ...]] = []
            for d in denials[start : start + 100_000]:
                (
                    claim,
                    line,
                    pair_line,
                    amount,
                    category,
                    carc,
                    pair,
                    queue_id,
                    team,
                    p,
                    day,
                    service,
                    kind,
                    modifier,
                    _sp,
                ) = d[:15]
                status, outcome, recovered, assignee, worked, reason, chosen = d[15:22]
                spec = CATEGORIES[category]
                created = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), utc)
                worked_at = dt.datetime.combine(worked, dt.time(15), utc) if worked else None
                probability = spec[6]
                rows.append(
                    (
                        claim,
                        line,
                        pair_line,
                        payers[p].pk,
                        kind,
                        spec[2],
                        carc,
                        spec[4],
                        _money(amount),
                        service,
                        status,
                        created,
                        worked_at or created,
                        1 + (status != "open") + (outcome != ""),
                        category,
                        spec[5],
                        chosen if category == "bundling-modifier-may-apply" else "",
                        "",
                        queue_id,
                        assignee,
                        f"{probability:.4f}",
                        _money(int(amount * probability)),
                        _money(int(amount * probability)),
                        day + dt.timedelta(days=WINDOW[payers[p].kind]),
                        created,
                        pair["id"] if pair else None,
                        pair["column1"] if pair else "",
                        pair["column2"] if pair else "",
                        pair["indicator"] if pair else "",
                        dt.date(2019, 1, 1) if pair else None,
                        dt.date(2023, 12, 31) if pair and pair["deleted"] else None,
                        "2026Q4" if pair else "",
                        pair["setting"] if pair else "",
                        "Standards of medical / surgical practice" if pair else "",
                        outcome,
                        _money(recovered) if recovered is not None else None,
                        reason,
                        chosen,
                        worked_at,
                    )
                )
            denial_ids.extend(insert_values(Denial, denial_columns, rows))
        cursor.execute("SET session_replication_role = origin")
    timings["denials_s"] = time.perf_counter() - clock

    # --- appeals and their denials ----------------------------------------------------------
    clock = time.perf_counter()
    appeal_columns = [
        "claim_id",
        "level",
        "status",
        "due_date",
        "submitted_on",
        "method",
        "payer_reference",
        "outcome",
        "amount_recovered",
        "decided_on",
        "notes",
        "version",
        "created_at",
        "updated_at",
        "created_by_id",
        "previous_id",
    ]
    appeal_ids: list[int] = [0] * len(appeals)
    with transaction.atomic():
        for tier in (1, 2, 3):
            chosen_rows = [i for i, a in enumerate(appeals) if a["tier"] == tier]
            appeal_rows: list[tuple[Any, ...]] = []
            for i in chosen_rows:
                a = appeals[i]
                created = dt.datetime.combine(a["created"], dt.time(10), utc)
                decided = a["decided_on"] or a["submitted_on"] or a["created"]
                appeal_rows.append(
                    (
                        a["claim"],
                        a["level"],
                        a["status"],
                        a["due"],
                        a["submitted_on"],
                        a["method"],
                        f"APL{i:07d}" if a["submitted_on"] else "",
                        a["outcome"],
                        _money(a["recovered"]),
                        a["decided_on"],
                        "",
                        a["version"],
                        created,
                        dt.datetime.combine(decided, dt.time(16), utc),
                        a["created_by"],
                        appeal_ids[a["previous"]] if a["previous"] is not None else None,
                    )
                )
            for i, pk in zip(chosen_rows, insert_values(Appeal, appeal_columns, appeal_rows), strict=True):
                appeal_ids[i] = pk
        insert_values(
            Appeal.denials.through,
            ["appeal_id", "denial_id"],
            [(appeal_ids[a], denial_ids[d]) for a, d in links],
        )
        RemittanceFile.objects.create(
            original_name=f"{MARKER} scale={scale} denials={len(denial_ids)} appeals={len(appeal_ids)}",
            content=b"",
            sha256=f"{MARKER}-marker",
            source="command",
            status="ingested",
        )
    timings["appeals_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    cursor.execute("ANALYZE")
    timings["analyze_s"] = time.perf_counter() - clock
    cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
    size = cursor.fetchone()[0]
    return {
        "claims": claim_id,
        "lines": line_id,
        "denials": len(denial_ids),
        "appeals": len(appeal_ids),
        "links": len(links),
        "appeal_levels": {t: sum(1 for a in appeals if a["tier"] == t) for t in (1, 2, 3)},
        "database_size": size,
        "peak_rss_mb": peak_rss_mb(),
        **timings,
    }


def _plan_appeals(
    rng: random.Random,
    denials: list[list[Any]],
    claim_denials: list[tuple[int, list[int]]],
    payers: list[Any],
    coders: list[list[int]],
    n_appeals: int,
) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Appeals over the denied claims, and each denial's final state (appended to its row:
    status, outcome, recovered cents, assignee, worked date, write-off reason, modifier).

    The rules kept: an appeal covers 1-3 denials of one claim; upheld recovers 0; overturned
    recovers the whole amount at stake, partly won a share of it; decided on or after
    submitted; a second level appeals an upheld first level (``previous``) on the same denials,
    a third level an upheld second."""
    second_share, third_share = 0.085, 0.0075
    n_third = int(n_appeals * third_share)
    n_second = int(n_appeals * second_share)
    n_first = n_appeals - n_second - n_third
    latest_day = END - dt.timedelta(days=7)
    # Weighted choice without replacement (a random key per claim, the largest win).
    keyed = []
    for claim, indexes in claim_denials:
        first = denials[indexes[0]]
        weight = CATEGORIES[first[4]][8]
        if weight and first[10] <= latest_day:
            keyed.append((rng.random() ** (1 / weight), claim, indexes))
    keyed.sort(reverse=True)
    appeals: list[dict[str, Any]] = []
    links: list[tuple[int, int]] = []
    latest: dict[int, int] = {}  # denial index -> its latest appeal

    def decide(appeal: dict[str, Any], category: str, tier: int) -> None:
        won, partly = CATEGORIES[category][7]
        if tier > 1:
            won, partly = won * 0.55, partly * 0.8
        submitted = appeal["created"] + dt.timedelta(days=rng.randint(0, 8))
        if appeal["created"] > END - dt.timedelta(days=12) and rng.random() < 0.6:
            appeal.update(
                status=rng.choice(("draft", "ready")),
                submitted_on=None,
                decided_on=None,
                version=1 + (rng.random() < 0.5),
            )
            return
        if rng.random() < 0.02:
            appeal.update(status="withdrawn", submitted_on=submitted, decided_on=None, version=3)
            return
        decided = submitted + dt.timedelta(days=rng.randint(18, 110))
        if decided > END:
            appeal.update(status="submitted", submitted_on=submitted, decided_on=None, version=3)
            return
        draw = rng.random()
        at_stake = appeal["at_stake"]
        if draw < won:
            outcome, recovered = "overturned", at_stake
        elif draw < won + partly:
            outcome, recovered = "partially-paid", int(at_stake * rng.uniform(0.25, 0.85))
        else:
            outcome, recovered = "upheld", 0
        appeal.update(
            status="decided",
            submitted_on=submitted,
            decided_on=decided,
            outcome=outcome,
            recovered=recovered,
            version=4,
        )

    def new_appeal(claim: int, indexes: list[int], tier: int, created: dt.date, previous: int | None) -> dict[str, Any]:
        first = denials[indexes[0]]
        kind = payers[first[9]].kind
        if tier == 1:
            level = FIRST_LEVEL.get(kind, "first-level")
            if kind == "medicare" and first[4] == "bundling-modifier-may-apply" and rng.random() < 0.2:
                level = "reopening"
        elif tier == 2:
            level = SECOND_LEVEL.get(kind, "second-level")
        else:
            level = THIRD_LEVEL.get(kind, "external-review")
        appeal = {
            "claim": claim,
            "tier": tier,
            "level": level,
            "created": created,
            "due": created + dt.timedelta(days=rng.randint(10, 60)),
            "method": _weighted(rng, ["portal", "fax", "mail", "clearinghouse"], [50, 25, 15, 10]),
            "outcome": "",
            "recovered": 0,
            "previous": previous,
            "created_by": rng.choice(coders[first[8]]),
            "at_stake": sum(denials[i][3] for i in indexes),
            "denials": indexes,
        }
        decide(appeal, first[4], tier)
        appeals.append(appeal)
        for i in indexes:
            links.append((len(appeals) - 1, i))
            latest[i] = len(appeals) - 1
        return appeal

    for _, claim, indexes in keyed[:n_first]:
        covered = indexes if len(indexes) == 1 or rng.random() < 0.75 else indexes[: len(indexes) - 1]
        day = denials[covered[0]][10]
        created = min(day + dt.timedelta(days=rng.randint(5, 45)), END)
        new_appeal(claim, covered, 1, created, None)
    for tier, count in ((2, n_second), (3, n_third)):
        below = [
            i
            for i, a in enumerate(appeals)
            if a["tier"] == tier - 1 and a["outcome"] == "upheld" and a["decided_on"] < END - dt.timedelta(days=20)
        ]
        for i in rng.sample(below, min(count, len(below))):
            lower = appeals[i]
            created = min(lower["decided_on"] + dt.timedelta(days=rng.randint(5, 40)), END)
            new_appeal(lower["claim"], lower["denials"], tier, created, i)

    # Each denial's final state.
    for index, d in enumerate(denials):
        category, day, team = d[4], d[10], d[8]
        age = (END - day).days
        coder = rng.choice(coders[team])
        status, outcome, recovered, assignee, worked, reason = "open", "", None, None, None, ""
        chosen = ""
        if index in latest:
            a = appeals[latest[index]]
            assignee = a["created_by"]
            worked = a["created"]
            if category == "bundling-modifier-may-apply":
                chosen = rng.choice(("XS", "59", "XU", "XE", "LT", "RT"))
            if a["status"] == "decided":
                outcome = a["outcome"]
                share = denials[index][3] * a["recovered"] // a["at_stake"] if a["at_stake"] else 0
                recovered = share
                worked = a["decided_on"]
                if outcome == "upheld":
                    status = (
                        "written-off" if (END - a["decided_on"]).days > 45 and rng.random() < 0.6 else "in-progress"
                    )
                    reason = "Upheld on appeal" if status == "written-off" else ""
                else:
                    status = "resolved"
            elif a["status"] == "submitted":
                status = "appealed"
            else:
                status = "in-progress"
        else:
            draw = rng.random()
            done = min(0.92, age / 120)
            if draw < done:
                status = _weighted(
                    rng,
                    ["written-off", "corrected", "resolved", "info-requested", "escalated"],
                    [40, 30, 20, 6, 4],
                )
                if category == "bundling-modifier-may-apply" and status == "corrected":
                    chosen = rng.choice(("XS", "59", "XU", "XE", "LT", "RT"))
                if status == "written-off":
                    reason = rng.choice(WRITE_OFF_REASONS[:4])
                assignee = coder
                worked = min(day + dt.timedelta(days=rng.randint(3, 90)), END)
            elif draw < done + (1 - done) * 0.35:
                status, assignee = "in-progress", coder
        d.extend([status, outcome, recovered, assignee, worked, reason, chosen])
    # Partial outcomes: the appeal's recovered amount is the sum over its denials (the shares
    # are rounded down; the remainder goes on the first denial, which always has room).
    for a_index, a in enumerate(appeals):
        if a["status"] != "decided" or latest.get(a["denials"][0]) != a_index:
            continue
        total = sum(denials[i][17] or 0 for i in a["denials"])
        first = denials[a["denials"][0]]
        first[17] = (first[17] or 0) + a["recovered"] - total
        assert 0 <= first[17] <= first[3], (a, first)
    return appeals, links


def loaded_counts(url: str) -> dict[str, int] | None:
    """The counts the last complete load recorded, if they still match the tables."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT original_name FROM denials_remittancefile WHERE sha256 = %s", [f"{MARKER}-marker"]
            ).fetchone()
            if row is None:
                return None
            recorded = dict(part.split("=") for part in row[0].split()[1:])
            denials = conn.execute("SELECT COUNT(*) FROM denials_denial").fetchone()[0]  # type: ignore[index]
            appeals = conn.execute("SELECT COUNT(*) FROM appeals_appeal").fetchone()[0]  # type: ignore[index]
    except psycopg.Error:
        return None
    if int(recorded["denials"]) != denials or int(recorded["appeals"]) != appeals:
        return None
    return {"denials": denials, "appeals": appeals, "scale": float(recorded["scale"])}  # type: ignore[dict-item]


# ============================================================================================
# The figures' refresh (appeals.analytics_rollup)
# ============================================================================================

#: The new 835 of the incremental refresh: a copy of the busiest payer's last remittance, a week later.
NEW_835_DAYS = 7
CHANGED_DENIALS = 1_000


def _new_835(cursor: Any) -> dict[str, int]:
    """A new remittance as ingest leaves it: a copy of the busiest payer's last remittance (its
    claims, lines and denials, new ids past the last ones), dated a week after it."""
    cursor.execute(
        "SELECT r.id FROM denials_remittance r JOIN denials_denial d ON d.payer_id = r.payer_id "
        "GROUP BY r.id ORDER BY r.payment_date DESC, COUNT(*) DESC LIMIT 1"
    )
    source = cursor.fetchone()[0]
    cursor.execute("SELECT MAX(id) FROM denials_claimpayment")
    claim_shift = cursor.fetchone()[0]
    cursor.execute("SELECT MAX(id) FROM denials_serviceline")
    line_shift = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO denials_remittance (file_id, dedupe_key, payer_id, payee_id, interchange_control_number, "
        "group_control_number, transaction_control_number, sender_id, handling_code, payment_amount, credit_debit, "
        "payment_method, payment_date, production_date, trace_number, claim_count, warnings) "
        "SELECT file_id, dedupe_key || '-new', payer_id, payee_id, interchange_control_number, group_control_number, "
        "transaction_control_number, sender_id, handling_code, payment_amount, credit_debit, payment_method, "
        "payment_date + %s, production_date + %s, trace_number || 'N', claim_count, warnings "
        "FROM denials_remittance WHERE id = %s RETURNING id",
        [NEW_835_DAYS, NEW_835_DAYS, source],
    )
    new = cursor.fetchone()[0]
    cursor.execute(
        "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
        "WHERE table_name = 'denials_claimpayment' AND column_name NOT IN ('id', 'remittance_id')"
    )
    claim_columns = cursor.fetchone()[0]
    cursor.execute(
        f"INSERT INTO denials_claimpayment (id, remittance_id, {claim_columns}) "
        f"SELECT id + %s, %s, {claim_columns} FROM denials_claimpayment WHERE remittance_id = %s",
        [claim_shift, new, source],
    )
    claims = cursor.rowcount
    cursor.execute(
        "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
        "WHERE table_name = 'denials_serviceline' AND column_name NOT IN ('id', 'claim_id')"
    )
    line_columns = cursor.fetchone()[0]
    cursor.execute(
        f"INSERT INTO denials_serviceline (id, claim_id, {line_columns}) "
        f"SELECT l.id + %s, l.claim_id + %s, {', '.join('l.' + c for c in line_columns.split(', '))} "
        "FROM denials_serviceline l "
        "JOIN denials_claimpayment c ON c.id = l.claim_id WHERE c.remittance_id = %s",
        [line_shift, claim_shift, source],
    )
    cursor.execute(
        "SELECT string_agg('d.' || quote_ident(column_name), ', ') FROM information_schema.columns "
        "WHERE table_name = 'denials_denial' AND column_name NOT IN "
        "('id', 'claim_id', 'line_id', 'pair_line_id', 'created_at', 'updated_at', 'triaged_at', 'status', "
        "'outcome', 'recovered_amount', 'worked_at', 'resolution_reason', 'version')"
    )
    denial_columns = cursor.fetchone()[0]
    plain = denial_columns.replace("d.", "")
    cursor.execute(
        f"INSERT INTO denials_denial (claim_id, line_id, pair_line_id, created_at, updated_at, triaged_at, status, "
        f"outcome, recovered_amount, worked_at, resolution_reason, version, {plain}) "
        f"SELECT d.claim_id + %s, d.line_id + %s, d.pair_line_id + %s, now(), now(), now(), 'open', '', NULL, NULL, "
        f"'', 1, {denial_columns} FROM denials_denial d JOIN denials_claimpayment c ON c.id = d.claim_id "
        "WHERE c.remittance_id = %s",
        [claim_shift, line_shift, line_shift, source],
    )
    return {"remittance": new, "claims": claims, "denials": cursor.rowcount}


def refresh(url: str, rebuild: bool) -> dict[str, Any]:
    """Time the figures' refresh: a full rebuild (the first time, or ``rebuild``), then an
    incremental one after 1,000 denials changed through the versioned path and a new 835 arrived,
    and one with nothing to do. The new 835 is taken away again afterwards (and the figures
    refreshed), so the loaded database keeps its counts for ``--keep``."""
    django_setup(url)
    from django.db import connection, transaction
    from django.utils import timezone

    from appeals.analytics_rollup import figures_as_of, figures_refresh, figures_warm

    timings: dict[str, Any] = {"load_before": os.getloadavg()}
    if rebuild or figures_as_of() is None:
        start = time.perf_counter()
        timings["full"] = figures_refresh(full=True)
        timings["full_s"] = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE denials_denialfact, denials_claimfigure, appeals_appeallinefact, appeals_appealcell"
            )
    start = time.perf_counter()
    timings["nothing_changed"] = figures_refresh()
    timings["nothing_changed_s"] = time.perf_counter() - start
    rng = random.Random(SEED + 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM denials_denial WHERE status = 'open' ORDER BY id")
        open_ids = [r[0] for r in cursor.fetchall()]
        changed = rng.sample(open_ids, CHANGED_DENIALS)
        # As the services write: the outcome, a version bump, updated_at.
        cursor.execute(
            "UPDATE denials_denial SET status = 'written-off', resolution_reason = 'Below the appeal threshold', "
            "worked_at = %s, version = version + 1, updated_at = %s WHERE id = ANY(%s)",
            [timezone.now(), timezone.now(), changed],
        )
        timings["new_835"] = _new_835(cursor)
    start = time.perf_counter()
    timings["incremental"] = figures_refresh()
    timings["incremental_s"] = time.perf_counter() - start
    timings["warm"] = figures_warm()
    new = timings["new_835"]["remittance"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM denials_denialfact WHERE denial_id IN (SELECT d.id FROM denials_denial d "
            "JOIN denials_claimpayment c ON c.id = d.claim_id WHERE c.remittance_id = %s)",
            [new],
        )
        cursor.execute(
            "DELETE FROM denials_denial WHERE claim_id IN "
            "(SELECT id FROM denials_claimpayment WHERE remittance_id = %s)",
            [new],
        )
        cursor.execute(
            "DELETE FROM denials_serviceline WHERE claim_id IN "
            "(SELECT id FROM denials_claimpayment WHERE remittance_id = %s)",
            [new],
        )
        cursor.execute("DELETE FROM denials_claimpayment WHERE remittance_id = %s", [new])
        cursor.execute("DELETE FROM denials_claimfigure WHERE remittance_id = %s", [new])
        cursor.execute("DELETE FROM denials_remittance WHERE id = %s", [new])
    figures_refresh()
    timings["load_after"] = os.getloadavg()
    return timings


# ============================================================================================
# Measuring
# ============================================================================================

#: (label, path, URL names to try with ``reverse``, query string)
ENDPOINTS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "appeal-success",
        "/api/analytics/appeal-success/",
        (
            "appeals_api:analytics-appeal-success",
            "appeals_api:appeal-success",
            "analytics_api:appeal-success",
            "analytics:appeal-success",
        ),
    ),
    (
        "denials",
        "/api/analytics/denials/",
        (
            "appeals_api:analytics-denials",
            "analytics_api:denials",
            "analytics:denials",
        ),
    ),
    (
        "dashboard",
        "/analytics/",
        (
            "analytics:dashboard",
            "appeals:analytics",
            "analytics-dashboard",
            "analytics",
        ),
    ),
]


def _locate(path: str, names: tuple[str, ...]) -> str | None:
    """The URL of an endpoint: by name when one of ``names`` reverses, else ``path`` itself
    when it resolves; None when neither exists (yet)."""
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    try:
        resolve(path)
    except Resolver404:
        return None
    return path


def _plan_summary(plan: list[str]) -> dict[str, Any]:
    """What the plan says in a few words: total time, the scans finishing last (a node's "done at"
    is when its last row came out, counted from the start of the query, so it includes the
    time of the nodes it waited on), and sorts that spilled to disk."""
    import re

    summary: dict[str, Any] = {"execution_ms": None, "scans": [], "disk": []}
    for line in plan:
        m = re.search(r"Execution Time: ([\d.]+) ms", line)
        if m:
            summary["execution_ms"] = float(m.group(1))
        m = re.search(
            r"(Parallel )?(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)( using \S+)? on (\S+)"
            r".*actual time=[\d.]+\.\.([\d.]+) rows=(\d+) loops=(\d+)",
            line,
        )
        if m:
            summary["scans"].append(
                (
                    float(m.group(5)),
                    f"{m.group(2)}{m.group(3) or ''} on {m.group(4)}: "
                    f"{int(m.group(6)) * int(m.group(7)):,} rows, done at {m.group(5)} ms",
                )
            )
        if "Disk:" in line or "external merge" in line:
            summary["disk"].append(line.strip())
    summary["scans"] = [text for _, text in sorted(summary["scans"], reverse=True)[:4]]
    return summary


def measure(url: str, runs: int, only: str, slow_ms: float = 4000.0) -> dict[str, Any]:
    django_setup(url)
    # What a gunicorn worker does when it starts, before its first request: import the WSGI module
    # (and whatever it warms). What it does not load there, the first call below pays for.
    start = time.perf_counter()
    import config.wsgi  # noqa: F401

    worker_start_ms = (time.perf_counter() - start) * 1000
    # Then the URL configuration (every view module), which Django imports on the first request;
    # the calls below are located by name, so it is loaded here, before any call is timed.
    from django.urls import get_resolver

    start = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018
    urlconf_ms = (time.perf_counter() - start) * 1000
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from appeals.models import Appeal
    from denials.analytics_models import FigureCache
    from denials.models import Denial, Payer, Team

    users = get_user_model()
    manager = users.objects.get(username="bench-manager-1")
    admin = users.objects.get(username="bench-admin")
    team = Team.objects.get(name="Coding team")
    with connection.cursor() as cursor:
        cursor.execute("SELECT payer_id FROM denials_denial GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1")
        payer_id = cursor.fetchone()[0]
    payer = Payer.objects.get(pk=payer_id)
    located = {label: _locate(path, names) for label, path, names in ENDPOINTS}
    missing = [f"{label} ({path})" for label, path, _ in ENDPOINTS if located[label] is None]

    three_months = f"from={(END.replace(day=1) - dt.timedelta(days=32)).replace(day=1)}&to={END}"
    filters = {
        "3 months": three_months,
        "one payer": f"payer={payer.pk}",
        "one team": f"team={team.pk}",
        "one specialty": "specialty=Orthopedics",
    }
    calls: list[tuple[str, str, str]] = []  # (name, endpoint label, query)
    for by in ("edit", "carc", "category", "payer", "modifier", "level", "coder", "specialty"):
        calls.append((f"appeal-success by={by}", "appeal-success", f"by={by}"))
    for by in ("category", "payer", "month", "carc"):
        calls.append((f"denials by={by}", "denials", f"by={by}"))
    from appeals.analytics_views import DEFAULT_GROUPING, dashboard_table_ids

    # The dashboard is a shell whose tables each arrive in a request of their own (htmx): the shell
    # and every one of those requests is a call of its own.
    tables = dashboard_table_ids(DEFAULT_GROUPING)
    calls.append(("dashboard", "dashboard", ""))
    calls.extend((f"dashboard table={t}", "dashboard", f"table={t}") for t in tables)
    calls.append(("dashboard CSV, edits table", "dashboard", "format=csv&table=appeal-success-edit"))
    for label, query in filters.items():
        calls.append((f"dashboard, {label}", "dashboard", query))
        calls.extend((f"dashboard, {label}, table={t}", "dashboard", f"{query}&table={t}") for t in tables)
        calls.append((f"appeal-success by=edit, {label}", "appeal-success", f"by=edit&{query}"))
        calls.append((f"denials by=month, {label}", "denials", f"by=month&{query}"))

    results: dict[str, Any] = {
        "_data": {
            "load_before": os.getloadavg(),
            "worker_start_ms": worker_start_ms,
            "urlconf_ms": urlconf_ms,
            "denials": Denial.objects.count(),
            "appeals": Appeal.objects.count(),
            "payer": payer.name,
            "team": team.name,
            "missing": missing,
        }
    }
    clients = {}
    for who, user in (("manager", manager), ("admin", admin)):
        client = Client()
        client.force_login(user)
        clients[who] = client
    for name, label, query in calls:
        if only and only not in name:
            continue
        base = located[label]
        if base is None:
            continue
        target = f"{base}?{query}" if query else base
        # A table of the dashboard is asked for by its placeholder, an htmx request.
        headers = {"HX-Request": "true"} if "table=" in query and "format=csv" not in query else {}
        for who, client in clients.items():
            # Cold: nothing kept from an earlier call (``FigureCache`` emptied), as the first
            # manager asking this after a refresh that changed the figures finds it.
            FigureCache.objects.all().delete()
            start = time.perf_counter()
            response = client.get(target, headers=headers)
            cold_ms = (time.perf_counter() - start) * 1000
            for _ in range(2):
                start = time.perf_counter()
                response = client.get(target, headers=headers)
                warm_ms = (time.perf_counter() - start) * 1000
                if warm_ms > slow_ms:
                    break  # one warm-up is enough for a call this slow
            if response.status_code != 200:
                results[f"{name} [{who}]"] = {"error": f"{target} answered {response.status_code}"}
                continue
            times: list[float] = []
            queries: list[int] = []
            slowest: tuple[float, str] = (0.0, "")
            # A call far over the target gets 3 runs (its p95 is then the second slowest):
            # 20 runs of a 10-second page would take the benchmark hours.
            runs_here = runs if warm_ms < slow_ms else min(runs, 3)
            for _ in range(runs_here):
                connection.queries_log.clear()
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    response = client.get(target, headers=headers)
                    times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (target, response.status_code)
                queries.append(len(captured.captured_queries))
                for q in captured.captured_queries:
                    slowest = max(slowest, (float(q["time"]), q["sql"]))
            times.sort()
            row: dict[str, Any] = {
                "url": target,
                "runs": runs_here,
                "cold_ms": cold_ms,
                "p50_ms": statistics.median(times),
                "p95_ms": times[max(0, int(len(times) * 0.95) - 1)],
                "max_ms": times[-1],
                "max_queries": max(queries),
                "slowest_query_ms": slowest[0] * 1000,
                "slowest_sql": slowest[1][:300],
            }
            if row["p95_ms"] > TARGET_MS and slowest[1].lstrip().upper().startswith(("SELECT", "WITH")):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1])
                    plan = [r[0] for r in cursor.fetchall()]
                row["plan"] = _plan_summary(plan)
                row["plan_text"] = plan[:60]
            results[f"{name} [{who}]"] = row
    results["_data"]["load_after"] = os.getloadavg()
    return results


# ============================================================================================


def _kind(name: str) -> str:
    if name.startswith("dashboard CSV"):
        return "dashboard CSV"
    if name.startswith("dashboard"):
        return "dashboard table" if "table=" in name else "dashboard shell"
    return "API"


def _cold_summary(results: dict[str, Any]) -> None:
    """Cold calls of each kind taken together (every filter set, both users): their p95 and worst,
    and the worst p95 of the repeated calls."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for name, r in results.items():
        if "error" not in r:
            kinds.setdefault(_kind(name), []).append(r)
    print(f"\n{'kind':<16} {'calls':>5} {'cold p50':>9} {'cold p95':>9} {'cold max':>9} {'worst p95':>10}")
    for kind, rows in kinds.items():
        cold = sorted(r["cold_ms"] for r in rows)
        p95 = cold[max(0, int(len(cold) * 0.95) - 1)] if len(cold) >= 20 else cold[-1]
        print(
            f"{kind:<16} {len(rows):>5} {statistics.median(cold):>9.0f} {p95:>9.0f} {cold[-1]:>9.0f} "
            f"{max(r['p95_ms'] for r in rows):>10.0f}"
        )
    print("(cold p95: over every cold call of that kind; under 20 calls, the worst)")


def _benchmark_env() -> None:
    """The settings django_setup uses, for the migrate run by fresh_database too."""
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY


def _refresh_report(rebuild: bool) -> None:
    """Time the figures' refresh in a process of its own (``refresh``) and print the figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--step", "refresh", *(["--rebuild"] if rebuild else [])],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    refreshed = json.loads(out.strip().splitlines()[-1])
    print(
        "Refresh timed at load average (1, 5, 15 min) {:.2f} {:.2f} {:.2f} before, {:.2f} {:.2f} {:.2f} after".format(
            *refreshed["load_before"], *refreshed["load_after"]
        )
    )
    if "full_s" in refreshed:
        print(f"Figures rebuilt from scratch in {refreshed['full_s']:.1f} s: {refreshed['full']}")
    print(f"Figures refreshed with nothing changed in {refreshed['nothing_changed_s']:.2f} s")
    print(
        f"Figures refreshed after {CHANGED_DENIALS:,} denials changed and a new 835 "
        f"({refreshed['new_835']['claims']:,} claims, {refreshed['new_835']['denials']:,} denials) "
        f"in {refreshed['incremental_s']:.2f} s: {refreshed['incremental']}"
    )
    print(
        f"Then the unfiltered dashboard and API answered once per scope (cache warmed) in "
        f"{refreshed['warm']['seconds']:.1f} s for {refreshed['warm']['scopes']} scopes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Reuse the loaded database when its row counts match")
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the full size (1.0: 1,000,000 denials)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="Only the calls whose name contains this")
    parser.add_argument("--load-only", action="store_true", help="Load, do not measure")
    parser.add_argument("--step", choices=["load", "refresh", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the figures from scratch (timed)")
    parser.add_argument("--no-refresh", action="store_true", help="Measure the calls only (figures already built)")
    parser.add_argument("--plans", action="store_true", help="Print the whole EXPLAIN ANALYZE plans")
    parser.add_argument("--json", default="", help="Also write the raw figures to this file")
    parser.add_argument(
        "--slow-ms", type=float, default=4000.0, help="A call slower than this gets one warm-up and 3 runs"
    )
    args = parser.parse_args()
    _benchmark_env()
    url = database_url("analytics")
    if args.step == "load":
        print(json.dumps(load(url, args.scale), default=str))
        return
    if args.step == "refresh":
        print(json.dumps(refresh(url, args.rebuild), default=str))
        return
    if args.step == "measure":
        print(json.dumps(measure(url, args.runs, args.only, args.slow_ms), default=str))
        return
    existing = loaded_counts(url) if args.keep else None
    if existing and existing["scale"] == args.scale:
        print(f"Keeping the loaded database: {existing['denials']:,} denials, {existing['appeals']:,} appeals")
    else:
        start = time.perf_counter()
        fresh_database(url)
        out = subprocess.run(
            ["nice", "-n", "10", sys.executable, __file__, "--step", "load", "--scale", str(args.scale)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        loaded = json.loads(out.strip().splitlines()[-1])
        print(f"Loaded in {time.perf_counter() - start:.0f} s: " + ", ".join(f"{k} {v}" for k, v in loaded.items()))
    if args.load_only:
        return
    # The figures' tables: migrate (a kept database may predate them), then time the refresh.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    if not args.no_refresh:
        _refresh_report(args.rebuild)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--step",
            "measure",
            "--runs",
            str(args.runs),
            "--only",
            args.only,
            "--slow-ms",
            str(args.slow_ms),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    results = json.loads(out.strip().splitlines()[-1])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    data = results.pop("_data")
    print(
        f"Analytics benchmark on {url.split('@')[-1]}: {data['denials']:,} denials, {data['appeals']:,} appeals; "
        f"Django test client, server time, {args.runs} runs after 2 warm-ups"
    )
    print(f"filters: one payer = {data['payer']}, one team = {data['team']}, 3 months = Aug-Oct 2026")
    print(
        "load average (1, 5, 15 min) before the calls: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
            *data["load_before"], *data.get("load_after", (0, 0, 0))
        )
    )
    print(
        f"worker start (config.wsgi imported, as gunicorn does before a worker's first request; it loads the "
        f"URL configuration and the dashboard's template): {data['worker_start_ms']:.0f} ms; the URL "
        f"configuration afterwards: {data['urlconf_ms']:.0f} ms (what a first request would still pay)"
    )
    for missing in data["missing"]:
        print(f"SKIPPED: {missing} does not exist yet (no URL by that path or name)")
    print(
        f"{'call':<52} {'runs':>4} {'cold ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
        f"{'queries':>8}  slowest query"
    )
    over = []
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<52} ERROR {r['error']}")
            continue
        flag = " *" if r["p95_ms"] > TARGET_MS else ""
        cold_flag = "!" if r["cold_ms"] > TARGET_MS else " "
        print(
            f"{name:<52} {r['runs']:>4} {r['cold_ms']:>7.0f}{cold_flag} "
            f"{r['p50_ms']:>7.0f} {r['p95_ms']:>7.0f} {r['max_ms']:>7.0f} "
            f"{r['max_queries']:>8}  "
            f"{r['slowest_query_ms']:.0f} ms{flag}"
        )
        if flag:
            over.append((name, r))
    print(
        f"target: p95 under {TARGET_MS:.0f} ms (* = over). cold: the first call with nothing cached "
        "(the figure cache emptied first; ! = over the target); p50/p95/max: repeated calls, read from the cache "
        "while the figures do not change"
    )
    _cold_summary(results)
    for name, r in over:
        print(f"\n--- {name}: slowest query {r['slowest_query_ms']:.0f} ms")
        print(f"    {r['slowest_sql'][:300]}")
        plan = r.get("plan")
        if plan:
            print(f"    EXPLAIN ANALYZE: {plan['execution_ms']} ms; biggest scans: {'; '.join(plan['scans'])}")
            for line in plan["disk"][:3]:
                print(f"    on disk: {line}")
            if args.plans:
                print("\n".join("      " + line for line in r["plan_text"]))


if __name__ == "__main__":
    main()
