"""The coder's worklist actions: assign, take next, outcomes, bulk actions, notes.
Every write is versioned (a stale version is refused) and audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from denials import outcomes, vocabulary
from denials.models import (
    AuditEvent,
    Denial,
    RemittanceFile,
)
from denials.services.audit import _denial_content_type, audit_record

Status = RemittanceFile.Status


# --- Working denials (the coder's worklist) -------------------------------------------
class DenialConflict(Exception):
    """Someone else changed the denial since the page was loaded: nothing was saved."""

    def __init__(self, current: Denial) -> None:
        self.current = current
        who = ""
        last = (
            AuditEvent.objects.filter(target_type=_denial_content_type(), target_id=str(current.pk))
            .select_related("actor")
            .first()
        )
        if last is not None:
            who = f" {last.actor or last.actor_label or 'someone'} {last.action.split('.', 1)[-1].replace('_', ' ')}"
            who += f" at {timezone.localtime(last.at):%H:%M:%S}."
        super().__init__(
            f"This denial was changed by someone else after you opened it.{who} Nothing was saved; "
            f"the page now shows the current state (status {current.get_status_display().lower()}"
            f"{', assigned to ' + str(current.assignee) if current.assignee_id else ''})."
        )


class DenialActionRefused(Exception):
    """The action is not allowed for this denial (a rule, not a conflict)."""


# What a coder may record, and the status each outcome leads to: defined in the vocabulary.
OUTCOME_ACTIONS: dict[str, str] = vocabulary.OUTCOME_STATUSES
AUDITED_FIELDS = ("status", "assignee_id", "chosen_modifier", "resolution_reason", "outcome", "recovered_amount")


def _check_version(denial: Denial, expected_version: int) -> None:
    """A page that is out of date hears about the conflict before any rule about the action."""
    if denial.version != expected_version:
        raise DenialConflict(Denial.objects.select_related("assignee").get(pk=denial.pk))


def _snapshot(denial: Denial) -> dict[str, Any]:
    return {f: (str(getattr(denial, f)) if getattr(denial, f) is not None else None) for f in AUDITED_FIELDS}


def _denial_update(
    *,
    denial: Denial,
    expected_version: int,
    actor: User | None,
    action: str,
    note: str = "",
    **changes: Any,
) -> Denial:
    """The one write path for a denial a person works: versioned, atomic, audited.

    The UPDATE only matches the version the person saw, so a concurrent change makes it
    match nothing and the save is refused with the current state, never merged silently.
    """
    with transaction.atomic():
        old = _snapshot(denial)
        updated = Denial.objects.filter(pk=denial.pk, version=expected_version).update(
            version=F("version") + 1, updated_at=timezone.now(), **changes
        )
        current = Denial.objects.select_related("assignee").get(pk=denial.pk)
        if not updated:
            raise DenialConflict(current)
        audit_record(actor=actor, action=f"denial.{action}", target=current, old=old, new=_snapshot(current), note=note)
        return current


def denial_assign(*, denial: Denial, assignee: User | None, actor: User, expected_version: int) -> Denial:
    """Assign (or unassign, with None). Coders may only take work for themselves;
    managers and admins may hand it to anyone on the queue's team."""
    from denials.roles import is_manager

    _check_version(denial, expected_version)
    if assignee is not None and assignee.pk != actor.pk and not is_manager(actor):
        raise DenialActionRefused("Only a manager can assign a denial to someone else.")
    if denial.assignee_id and denial.assignee_id != actor.pk and not is_manager(actor):
        raise DenialActionRefused(f"{denial.assignee} is working this denial; ask a manager to reassign it.")
    queue = denial.queue
    if (
        assignee is not None
        and queue is not None
        and not is_manager(assignee)
        and not queue.team.members.filter(pk=assignee.pk).exists()
    ):
        raise DenialActionRefused(f"{assignee} is not on the {queue.team} team that owns this queue.")
    status = denial.status
    if assignee is not None and status == Denial.Status.OPEN:
        status = Denial.Status.IN_PROGRESS
    elif assignee is None and status == Denial.Status.IN_PROGRESS:
        status = Denial.Status.OPEN  # released: back in line for "next denial"
    return _denial_update(
        denial=denial,
        expected_version=expected_version,
        actor=actor,
        action="assigned" if assignee else "unassigned",
        assignee=assignee,
        status=status,
    )


def denial_take_next(*, user: User, queue_id: int | None = None) -> Denial | None:
    """Claim the highest-priority open, unassigned denial the user may work.

    A conditional update claims it; if a colleague took it a moment earlier, try the next.
    """
    from denials.selectors import denials_visible_to

    candidates = denials_visible_to(user=user).filter(status=Denial.Status.OPEN, assignee__isnull=True)
    if queue_id:
        candidates = candidates.filter(queue_id=queue_id)
    for _ in range(10):
        pick = candidates.order_by("-priority", "due_date", "id").values_list("pk", "version").first()
        if pick is None:
            return None
        try:
            return denial_assign(
                denial=Denial.objects.get(pk=pick[0]), assignee=user, actor=user, expected_version=pick[1]
            )
        except DenialConflict:
            continue
    return None


def denial_record_outcome(
    *,
    denial: Denial,
    action: str,
    actor: User,
    expected_version: int,
    modifier: str = "",
    reason: str = "",
) -> Denial:
    """Mark what was done: corrected claim, appeal, write-off, bill patient, request
    information, escalate, or reopen. Refuses what the rules forbid, with the reason."""
    _check_version(denial, expected_version)
    if action not in OUTCOME_ACTIONS:
        raise DenialActionRefused(f"Unknown action {action!r}.")
    modifier = modifier.strip().upper()
    reason = reason.strip()
    changes: dict[str, Any] = {"status": OUTCOME_ACTIONS[action], "worked_at": timezone.now()}
    # The refusals are ``denials.outcomes``' rules, the same ones the denial page asks.
    if action == vocabulary.OUTCOME_CORRECTED_CLAIM:
        from ncci.selectors import modifier_groups

        refusal = outcomes.corrected_claim_refusal(
            modifier_indicator=denial.ncci_modifier_indicator,
            modifier=modifier,
            bypass_modifiers=modifier_groups().bypass if modifier else (),
            column1=denial.ncci_column1,
            column2=denial.ncci_column2,
        )
        if refusal:
            raise DenialActionRefused(refusal)
        changes["chosen_modifier"] = modifier
    elif action == vocabulary.OUTCOME_WRITE_OFF:
        if not reason:
            raise DenialActionRefused("A write-off needs a reason.")
        changes["resolution_reason"] = reason[:300]
    elif action == vocabulary.OUTCOME_BILL_PATIENT:
        refusal = outcomes.bill_patient_refusal(group_code=denial.group_code, carc=denial.carc)
        if refusal:
            raise DenialActionRefused(refusal)
    elif action in (vocabulary.OUTCOME_ESCALATE, vocabulary.OUTCOME_REQUEST_INFO):
        if not reason:
            raise DenialActionRefused("Say what you need (a short note for the person who picks it up).")
        changes["resolution_reason"] = reason[:300]
    elif action == vocabulary.OUTCOME_REOPEN:
        refusal = outcomes.reopen_refusal(status=denial.status)
        if refusal:
            raise DenialActionRefused(refusal)
        changes.update(outcome="", worked_at=None, resolution_reason="", chosen_modifier="")
    return _denial_update(
        denial=denial,
        expected_version=expected_version,
        actor=actor,
        action=action.replace("-", "_"),
        note=reason,
        **changes,
    )


def denials_bulk_assign(*, denial_ids: list[int], assignee: User, actor: User) -> int:
    """Assign several denials at their current versions; the ones that changed meanwhile are skipped."""
    from denials.selectors import denials_visible_to

    done = 0
    for denial in denials_visible_to(user=actor).filter(pk__in=denial_ids).select_related("queue__team", "assignee"):
        try:
            denial_assign(denial=denial, assignee=assignee, actor=actor, expected_version=denial.version)
            done += 1
        except (DenialConflict, DenialActionRefused):
            continue
    return done


def denials_bulk_write_off(*, denial_ids: list[int], reason: str, actor: User) -> int:
    if not reason.strip():
        raise DenialActionRefused("A write-off needs a reason.")
    from denials.selectors import denials_visible_to

    done = 0
    for denial in denials_visible_to(user=actor).filter(
        pk__in=denial_ids, status__in=[Denial.Status.OPEN, Denial.Status.IN_PROGRESS]
    ):
        try:
            denial_record_outcome(
                denial=denial,
                action=vocabulary.OUTCOME_WRITE_OFF,
                actor=actor,
                expected_version=denial.version,
                reason=reason,
            )
            done += 1
        except (DenialConflict, DenialActionRefused):
            continue
    return done


def denial_add_note(*, denial: Denial, author: User, body: str) -> Any:
    from denials.models import DenialNote

    body = body.strip()
    if not body:
        raise DenialActionRefused("A note cannot be empty.")
    with transaction.atomic():
        note = DenialNote.objects.create(denial=denial, author=author, body=body)
        audit_record(actor=author, action="denial.note_added", target=denial, new={"note": body[:200]})
    return note
