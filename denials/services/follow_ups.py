"""The denials-side writes of an appeal follow-up: what a later 835 answering an appeal does
to the denials it created.

The appeals app calls these while reading a follow-up remittance (``appeals.followups``),
so ``denials`` never imports ``appeals``: a line denied again under an appeal is attached to
that appeal instead of waiting in a queue as fresh work, through the same versioned, audited
write path the worklist uses (``worklist._denial_update``).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from denials.models import Denial
from denials.services.worklist import _denial_update


def denial_attach_to_appeal(*, denial: Denial, appeal_id: int, note: str = "", actor: User | None = None) -> Denial:
    """Take a re-denial (a line the payer denied again while an appeal of it was pending) out
    of the work queues: status "Sent to appeal", audited as attached to appeal ``appeal_id``.

    The denial keeps its queue, triage and amount (its team still sees it, and the appeal's
    page links it); only its status moves, so it is not worked twice: the appeal, and the
    next level it suggests, is where the line is worked. Reads the current version under a
    row lock, like ``appeal_outcomes.denial_record_appeal_outcome``: the payer's answer is a
    fact, and a concurrent edit must not make recording it fail. A denial already "Sent to
    appeal" is returned unchanged, with no audit row (the same file read twice changes nothing).
    """
    with transaction.atomic():
        current = Denial.objects.select_for_update().get(pk=denial.pk)
        if current.status == Denial.Status.APPEALED:
            return current
        return _denial_update(
            denial=current,
            expected_version=current.version,
            actor=actor,
            action="attached_to_appeal",
            note=note or f"Denied again under appeal {appeal_id}: attached to the appeal, not queued.",
            status=Denial.Status.APPEALED,
            worked_at=timezone.now(),
        )
