"""The denials-side writes of an appeal follow-up: what a later 835 answering an appeal does
to the denials it created.

The appeals app calls these while reading a follow-up remittance (``appeals.followups``),
so ``denials`` never imports ``appeals``: a line denied again under an appeal is attached to
that appeal instead of waiting in a queue as fresh work, versioned and audited like every
denial write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from denials.bulk import changed_copy, versioned_rows_update
from denials.models import Denial
from denials.services.appeal_outcomes import denials_lock
from denials.services.audit import audit_row, audit_rows_insert
from denials.services.worklist import _snapshot


@dataclass(frozen=True)
class Attachment:
    """A re-denial to attach to appeal ``appeal_id``, with the audit note saying why."""

    denial_id: int
    appeal_id: int
    note: str = ""


def denials_attach_to_appeals(*, attachments: Sequence[Attachment], actor: User | None = None) -> list[Denial]:
    """Take re-denials (lines the payer denied again while an appeal of them was pending) out
    of the work queues: status "Sent to appeal", audited as attached to their appeal. Returns
    the denials that changed.

    A denial keeps its queue, triage and amount (its team still sees it, and the appeal's
    page links it); only its status moves, so it is not worked twice: the appeal, and the
    next level it suggests, is where the line is worked. The denials are locked
    (``select_for_update``) and written at the version read under the lock: the payer's
    answer is a fact, and a concurrent edit must not make recording it fail. A denial
    already "Sent to appeal" (or named twice) is left unchanged, with no audit row, so the
    same file read twice changes nothing. A fixed number of queries however many.
    """
    if not attachments:
        return []
    with transaction.atomic():
        locked = denials_lock(a.denial_id for a in attachments)
        now = timezone.now()
        changed: list[tuple[Denial, int]] = []
        audit = []
        for item in attachments:
            current = locked.get(item.denial_id)
            if current is None or current.status == Denial.Status.APPEALED:
                continue
            fresh = changed_copy(current, {"status": Denial.Status.APPEALED, "worked_at": now}, now=now)
            locked[item.denial_id] = fresh
            changed.append((fresh, current.version))
            audit.append(
                audit_row(
                    actor=actor,
                    action="denial.attached_to_appeal",
                    target=fresh,
                    old=_snapshot(current),
                    new=_snapshot(fresh),
                    note=item.note
                    or f"Denied again under appeal {item.appeal_id}: attached to the appeal, not queued.",
                )
            )
        versioned_rows_update(Denial, changed, ("status", "worked_at"))
        audit_rows_insert(audit)
    return [fresh for fresh, _ in changed]


def denial_attach_to_appeal(*, denial: Denial, appeal_id: int, note: str = "", actor: User | None = None) -> Denial:
    """Attach one re-denial to appeal ``appeal_id`` (``denials_attach_to_appeals``); returns
    the denial as it now is (unchanged, with no audit row, when already "Sent to appeal")."""
    changed = denials_attach_to_appeals(
        attachments=[Attachment(denial_id=denial.pk, appeal_id=appeal_id, note=note)], actor=actor
    )
    return changed[0] if changed else Denial.objects.get(pk=denial.pk)
