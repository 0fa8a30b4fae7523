"""What an appeal's decision does to the denials it covered.

The appeals app calls this when a payer decides an appeal, so ``denials`` never imports
``appeals``: the denial learns its outcome (which triage's success rates read) through the
same versioned, audited write path the worklist uses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

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
