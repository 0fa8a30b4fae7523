"""What an appeal's decision does to the denials it covered.

The appeals app calls this when a payer decides an appeal, so ``denials`` never imports
``appeals``: the denial learns its outcome (which triage's success rates read) through the
same versioned, audited write path the worklist uses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from denials.bulk import changed_copy, versioned_rows_update
from denials.models import Denial
from denials.services.audit import audit_row, audit_rows_insert
from denials.services.worklist import DenialActionRefused, _denial_update, _snapshot

#: Where each payer decision leaves the denial. Paid (in full or in part): resolved. Upheld or
#: withdrawn: back among the work still to do, for the next level, a corrected claim or a write-off.
OUTCOME_STATUS: dict[str, str] = {
    Denial.Outcome.OVERTURNED: Denial.Status.RESOLVED,
    Denial.Outcome.PARTIALLY_PAID: Denial.Status.RESOLVED,
    Denial.Outcome.UPHELD: Denial.Status.IN_PROGRESS,
    Denial.Outcome.WITHDRAWN: Denial.Status.IN_PROGRESS,
}


def appeal_outcome_changes(*, denial: Denial, outcome: str, amount: Decimal) -> dict[str, Any]:
    """What a payer's decision on an appeal does to one denial it covered: its outcome, the
    amount recovered on it and the status that follows (``OUTCOME_STATUS``; an unassigned
    denial sent back to work is open rather than in progress). The one home of the rule: the
    single write and the batched one both apply it. ``DenialActionRefused`` names what is wrong."""
    if outcome not in OUTCOME_STATUS:
        raise DenialActionRefused(
            f"Unknown appeal outcome {outcome!r}; expected one of {', '.join(str(o) for o in OUTCOME_STATUS)}."
        )
    if amount < 0:
        raise DenialActionRefused(f"The amount recovered is {amount}; it cannot be negative.")
    amount = amount.quantize(Decimal("0.01"))  # as stored: a batched write records what a re-read shows
    if amount > denial.amount:
        raise DenialActionRefused(
            f"The amount recovered ({amount}) is more than the {denial.amount} at stake on this denial."
        )
    status: str = OUTCOME_STATUS[outcome]
    if status == Denial.Status.IN_PROGRESS and denial.assignee_id is None:
        status = Denial.Status.OPEN
    return {"outcome": outcome, "recovered_amount": amount, "status": status}


def denial_record_appeal_outcome(*, denial: Denial, outcome: str, amount: Decimal, actor: User | None) -> Denial:
    """Record a payer's decision on an appealed denial (``appeal_outcome_changes``).

    The caller is deciding the appeal in the same transaction, so this reads the denial's
    current version under a row lock instead of asking the caller for the one a page showed:
    the decision is the payer's, and a coder's concurrent edit must not make it fail.
    """
    with transaction.atomic():
        current = Denial.objects.select_for_update().get(pk=denial.pk)
        changes = appeal_outcome_changes(denial=current, outcome=outcome, amount=amount)
        return _denial_update(
            denial=current,
            expected_version=current.version,
            actor=actor,
            action="appeal_outcome",
            note=f"Appeal {outcome}",
            **changes,
        )


# --- Many at once: a remittance deciding many appeals -----------------------------------------
def denials_lock(ids: Iterable[int]) -> dict[int, Denial]:
    """The denials by id, locked until the transaction ends (their rows only, not their
    claims'), with the claim their audit rows name. Call inside ``transaction.atomic()``."""
    return {
        d.pk: d
        for d in Denial.objects.select_for_update(of=("self",))
        .select_related("claim")
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    }


@dataclass(frozen=True)
class AppealOutcome:
    """One denial's share of an appeal's decision. ``group``: what the denial is decided with
    (the appeal): a refusal on any denial of a group leaves the whole group unwritten."""

    group: Hashable
    denial_id: int
    outcome: str
    amount: Decimal


def denials_record_appeal_outcomes(
    *, outcomes: Sequence[AppealOutcome], actor: User | None
) -> dict[Hashable, DenialActionRefused]:
    """Record many payer decisions at once, with the same rule (``appeal_outcome_changes``),
    version bumps and audit rows as ``denial_record_appeal_outcome`` applied one by one in
    order, in a fixed number of queries: the denials locked (``select_for_update``), one
    conditional UPDATE, one INSERT of the audit rows.

    All or nothing per group: a refused outcome (or a denial that no longer exists) leaves its
    group's denials unwritten and is returned by group; the other groups are written.
    """
    if not outcomes:
        return {}
    refused: dict[Hashable, DenialActionRefused] = {}
    with transaction.atomic():
        ids = sorted({o.denial_id for o in outcomes})
        locked = denials_lock(ids)
        read_version = {pk: d.version for pk, d in locked.items()}
        by_group: dict[Hashable, list[AppealOutcome]] = defaultdict(list)
        for o in outcomes:
            by_group[o.group].append(o)
        now = timezone.now()
        audit: list[tuple[Any, ...]] = []
        for group, items in by_group.items():
            trial: dict[int, Denial] = {}
            rows: list[tuple[Any, ...]] = []
            try:
                for item in items:
                    if item.denial_id not in locked:
                        raise DenialActionRefused(f"Denial {item.denial_id} no longer exists.")
                    current = trial.get(item.denial_id) or locked[item.denial_id]
                    changes = appeal_outcome_changes(denial=current, outcome=item.outcome, amount=item.amount)
                    fresh = changed_copy(current, changes, now=now)
                    trial[item.denial_id] = fresh
                    rows.append(
                        audit_row(
                            actor=actor,
                            action="denial.appeal_outcome",
                            target=fresh,
                            old=_snapshot(current),
                            new=_snapshot(fresh),
                            note=f"Appeal {item.outcome}",
                        )
                    )
            except DenialActionRefused as exc:
                refused[group] = exc
                continue
            locked.update(trial)
            audit.extend(rows)
        changed = [(d, read_version[pk]) for pk, d in locked.items() if d.version != read_version[pk]]
        versioned_rows_update(Denial, changed, ("outcome", "recovered_amount", "status"))
        audit_rows_insert(audit)
    return refused


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
