"""The load test's data set: ``bench/analytics.py``'s loader at a tenth of its size (100,000
denials, 20,000 appeals), completed with what the coder's pages read and the loader leaves out,
and the people who sign in.

The analytics loader writes claims, lines, denials and appeals by COPY, but no CAS adjustments
and no remark codes: the denial page lists every line's adjustments and the claim's remarks, so
without them it would render less than it does on an ingested claim. ``complete`` adds them as
an ingest of the same claims would have stored them: one adjustment per denial (its group code,
CARC and amount, on its line or on the claim), CO-45 (contractual) and PR-2 (coinsurance) on
every paid line, and each denial's RARCs as line (LQ) or claim (MOA) remarks.

People: 50 coders spread over the loader's three teams (17, 17, 16; a coder sees only their
team's queues), each with 40 open denials of their team assigned to them (their "My work"),
and 5 managers: one per team, one over two teams, one over all three. All share one password,
hashed once.
"""

from __future__ import annotations

from typing import Any

SCALE = 0.1  # of bench/analytics.py's 1,000,000 denials and 200,000 appeals
CODERS = 50
MANAGERS = 5
ASSIGNED_PER_CODER = 40
PASSWORD = "load-test-password-not-a-secret"
# Which teams (0-based, in the loader's order) each manager answers for.
MANAGER_TEAMS = ((0,), (1,), (2,), (0, 1), (0, 1, 2))


def coder_name(n: int) -> str:
    return f"load-coder-{n:02d}"


def manager_name(n: int) -> str:
    return f"load-manager-{n}"


ADJUSTMENTS_SQL = """
INSERT INTO denials_adjustment (claim_id, line_id, sequence, group_code, reason_code, amount, quantity)
SELECT claim_id, line_id, row_number() OVER (PARTITION BY claim_id ORDER BY line_sequence, kind, ref),
       group_code, reason_code, amount, NULL
FROM (
    SELECT d.claim_id, d.line_id, COALESCE(l.sequence, 0) AS line_sequence, 0 AS kind, d.id AS ref,
           d.group_code, d.carc AS reason_code, d.amount
    FROM denials_denial d LEFT JOIN denials_serviceline l ON l.id = d.line_id
    UNION ALL
    SELECT l.claim_id, l.id, l.sequence, 1, l.id, 'CO', '45', l.charge - l.allowed
    FROM denials_serviceline l
    WHERE l.allowed IS NOT NULL AND l.charge > l.allowed
      AND NOT EXISTS (SELECT 1 FROM denials_denial d WHERE d.line_id = l.id)
    UNION ALL
    SELECT l.claim_id, l.id, l.sequence, 2, l.id, 'PR', '2', l.allowed - l.paid
    FROM denials_serviceline l
    WHERE l.allowed IS NOT NULL AND l.allowed > l.paid
      AND NOT EXISTS (SELECT 1 FROM denials_denial d WHERE d.line_id = l.id)
) rows
"""

REMARKS_SQL = """
INSERT INTO denials_remarkcode (claim_id, line_id, sequence, code, source)
SELECT d.claim_id, d.line_id, row_number() OVER (PARTITION BY d.claim_id ORDER BY d.id, r.position),
       r.code, CASE WHEN d.line_id IS NULL THEN 'MOA' ELSE 'LQ' END
FROM denials_denial d, unnest(string_to_array(d.rarcs, ' ')) WITH ORDINALITY AS r(code, position)
WHERE d.rarcs <> ''
"""


def complete() -> dict[str, Any]:
    """Adjustments, remarks and people (Django set up on the load database)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from denials.models import Denial, Team

    users = get_user_model()
    password = make_password(PASSWORD)
    teams = list(Team.objects.order_by("pk"))
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("coder", "manager")}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ADJUSTMENTS_SQL)
        adjustments = cursor.rowcount
        cursor.execute(REMARKS_SQL)
        remarks = cursor.rowcount
        for n in range(1, CODERS + 1):
            coder = users.objects.create(username=coder_name(n), first_name=f"Coder {n}", password=password)
            coder.groups.add(groups["coder"])
            team = teams[(n - 1) % len(teams)]
            team.members.add(coder)
            mine = Denial.objects.filter(queue__team=team, status=Denial.Status.OPEN, assignee__isnull=True).order_by(
                "pk"
            )[:ASSIGNED_PER_CODER]
            Denial.objects.filter(pk__in=list(mine.values_list("pk", flat=True))).update(
                assignee=coder, status=Denial.Status.IN_PROGRESS
            )
        for n, team_indexes in enumerate(MANAGER_TEAMS, start=1):
            manager = users.objects.create(username=manager_name(n), first_name=f"Manager {n}", password=password)
            manager.groups.add(groups["manager"])
            for t in team_indexes:
                teams[t].members.add(manager)
    return {"adjustments": adjustments, "remarks": remarks, "coders": CODERS, "managers": MANAGERS}


# The queue tabs' counters (migration 0012's triggers keep them) from the denials themselves:
# the analytics loader writes its denials with ``session_replication_role = replica``, which
# skips every trigger, so its denials are missing from the counters. Without this the counts
# went negative as soon as coders saved (a queue tab then answered 500: a page slice below 0).
QUEUE_COUNTS_WRONG_SQL = """
SELECT count(*) FROM (
    SELECT queue_id, status, count(*) AS n, sum(amount) AS amount FROM denials_denial GROUP BY queue_id, status
) denials
FULL JOIN (
    SELECT queue_id, status, sum(n) AS n, sum(amount) AS amount FROM denials_queuecount GROUP BY queue_id, status
    HAVING sum(n) <> 0 OR sum(amount) <> 0
) counters USING (queue_id, status)
WHERE denials.n IS DISTINCT FROM counters.n OR denials.amount IS DISTINCT FROM counters.amount
"""
QUEUE_COUNTS_SEED_SQL = """
DELETE FROM denials_queuecount;
INSERT INTO denials_queuecount (queue_id, status, n, amount)
SELECT queue_id, status, count(*), sum(amount) FROM denials_denial GROUP BY queue_id, status
"""


def queue_counts_repair(url: str) -> int:
    """Re-seed the queue counters when they disagree with the denials; returns the (queue,
    status) pairs that disagreed (0: nothing done)."""
    import psycopg

    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("LOCK TABLE denials_denial IN SHARE MODE")
        wrong = conn.execute(QUEUE_COUNTS_WRONG_SQL).fetchone()[0]  # type: ignore[index]
        if wrong:
            for statement in QUEUE_COUNTS_SEED_SQL.strip().split(";\n"):
                conn.execute(statement)
    return int(wrong)


def completed(url: str) -> bool:
    """Whether ``complete`` ran on this database (its last account exists, and adjustments)."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            user = conn.execute("SELECT 1 FROM auth_user WHERE username = %s", [manager_name(MANAGERS)]).fetchone()
            adjustment = conn.execute("SELECT 1 FROM denials_adjustment LIMIT 1").fetchone()
    except psycopg.Error:
        return False
    return user is not None and adjustment is not None


def counts(url: str) -> dict[str, int]:
    """Row counts of the data set, for the report."""
    import psycopg

    tables = {
        "claims": "denials_claimpayment",
        "service lines": "denials_serviceline",
        "adjustments": "denials_adjustment",
        "remarks": "denials_remarkcode",
        "denials": "denials_denial",
        "appeals": "appeals_appeal",
        "remittances": "denials_remittance",
        "payers": "denials_payer",
        "work queues": "denials_workqueue",
    }
    with psycopg.connect(url) as conn:
        found = {name: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for name, table in tables.items()}  # type: ignore[index]
        found["open denials"] = conn.execute(  # type: ignore[index]
            "SELECT COUNT(*) FROM denials_denial WHERE status IN ('open', 'in-progress')"
        ).fetchone()[0]
    return found
