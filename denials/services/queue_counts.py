"""Upkeep of the queue tabs' counters (``QueueCount``).

The database triggers of migration 0012 add a row of changes for every write to a denial;
nothing here needs calling for the counts to be right. Folding keeps the rows few: it
replaces the rows it saw with one row per queue and status, in one transaction, so a reader
sees the same sums before and after, and rows added meanwhile are left for the next fold.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction

from denials.models import QueueCount

#: Fold once a set of queues holds more change rows than this: summing a few hundred rows
#: costs well under a millisecond, while every fold is a write.
FOLD_AFTER_ROWS = 500
_DELETE_BATCH = 900  # ids per DELETE: under SQLite's older limit of 999 parameters


def queue_counts_compact() -> int:
    """Fold every queue's change rows into one row per queue and status; returns the rows removed."""
    with transaction.atomic():
        # Locked first: a second fold at the same time waits, then skips the rows this one removed.
        rows = list(
            QueueCount.objects.select_for_update().order_by("id").values_list("id", "queue_id", "status", "n", "amount")
        )
        if not rows:
            return 0
        counts: dict[tuple[int, str], int] = defaultdict(int)
        amounts: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        for _, queue_id, status, n, amount in rows:
            counts[queue_id, status] += n
            amounts[queue_id, status] += amount
        ids = [row[0] for row in rows]
        for start in range(0, len(ids), _DELETE_BATCH):
            QueueCount.objects.filter(id__in=ids[start : start + _DELETE_BATCH]).delete()
        kept = [
            QueueCount(queue_id=queue_id, status=status, n=n, amount=amounts[queue_id, status])
            for (queue_id, status), n in counts.items()
            if n or amounts[queue_id, status]
        ]
        QueueCount.objects.bulk_create(kept)
    return len(rows) - len(kept)
