"""What an appeal's decision does to the denials it covered.

The appeals app calls this when a payer decides an appeal, so ``denials`` never imports
``appeals``: the denial learns its outcome (which triage's success rates read) through the
same versioned, audited write path the worklist uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from denials.models import Denial
from denials.services.worklist import DenialActionRefused, _denial_update

#: Where each payer decision leaves the denial. Paid (in full or in part): resolved. Upheld or
#: withdrawn: back among the work still to do, for the next level, a corrected claim or a write-off.
OUTCOME_STATUS: dict[str, str] = {
    Denial.Outcome.OVERTURNED: Denial.Status.RESOLVED,
    Denial.Outcome.PARTIALLY_PAID: Denial.Status.RESOLVED,
    Denial.Outcome.UPHELD: Denial.Status.IN_PROGRESS,
    Denial.Outcome.WITHDRAWN: Denial.Status.IN_PROGRESS,
}


def denial_record_appeal_outcome(*, denial: Denial, outcome: str, amount: Decimal, actor: User | None) -> Denial:
    """Record a payer's decision on an appealed denial: its outcome, the amount recovered on
    it and the status that follows (see ``OUTCOME_STATUS``; an unassigned denial sent back to
    work is open rather than in progress).

    The caller is deciding the appeal in the same transaction, so this reads the denial's
    current version under a row lock instead of asking the caller for the one a page showed:
    the decision is the payer's, and a coder's concurrent edit must not make it fail.
    """
    if outcome not in OUTCOME_STATUS:
        raise DenialActionRefused(
            f"Unknown appeal outcome {outcome!r}; expected one of {', '.join(str(o) for o in OUTCOME_STATUS)}."
        )
    if amount < 0:
        raise DenialActionRefused(f"The amount recovered is {amount}; it cannot be negative.")
    with transaction.atomic():
        current = Denial.objects.select_for_update().get(pk=denial.pk)
        if amount > current.amount:
            raise DenialActionRefused(
                f"The amount recovered ({amount}) is more than the {current.amount} at stake on this denial."
            )
        status = OUTCOME_STATUS[outcome]
        if status == Denial.Status.IN_PROGRESS and current.assignee_id is None:
            status = Denial.Status.OPEN
        changes: dict[str, Any] = {"outcome": outcome, "recovered_amount": amount, "status": status}
        return _denial_update(
            denial=current,
            expected_version=current.version,
            actor=actor,
            action="appeal_outcome",
            note=f"Appeal {outcome}",
            **changes,
        )


def _appeal_status_change(*, denials: Iterable[Denial], actor: User | None, target: str | None, note: str) -> int:
    """Move each denial to ``target`` (None: back to work, in progress when assigned, else open)
    at its current version under a row lock; unchanged denials write nothing. Returns how many changed."""
    changed = 0
    with transaction.atomic():
        ids = sorted(d.pk for d in denials)
        for current in Denial.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            status: str
            if target is None:
                if current.status != Denial.Status.APPEALED:
                    continue  # decided, written off or reopened meanwhile: not ours to move back
                status = Denial.Status.IN_PROGRESS if current.assignee_id else Denial.Status.OPEN
            else:
                status = target
            if current.status == status:
                continue
            _denial_update(
                denial=current,
                expected_version=current.version,
                actor=actor,
                action="appealed" if target else "appeal_withdrawn",
                note=note,
                status=status,
                worked_at=timezone.now() if target else current.worked_at,
            )
            changed += 1
    return changed


def denials_send_to_appeal(*, denials: Iterable[Denial], actor: User | None, appeal_id: int) -> int:
    """Denials now covered by an appeal leave the active queue: status "Sent to appeal".

    Called by ``appeals.services`` when an appeal is created or lines are added to it (and
    for a next-level appeal). Reads each denial's current version under a row lock, like
    ``denial_record_appeal_outcome``: the appeal is the coder's decision already made, and a
    colleague's concurrent edit of the denial must not undo it. Returns how many changed.
    """
    return _appeal_status_change(
        denials=denials, actor=actor, target=Denial.Status.APPEALED, note=f"Appeal {appeal_id}"
    )


def denials_return_from_appeal(*, denials: Iterable[Denial], actor: User | None, appeal_id: int) -> int:
    """An appeal withdrawn before the payer decided: its denials still "Sent to appeal" go back
    to work (in progress when someone is assigned, open otherwise). Denials whose status moved
    on meanwhile are left alone. Returns how many changed."""
    return _appeal_status_change(denials=denials, actor=actor, target=None, note=f"Appeal {appeal_id} withdrawn")
