"""Writes for the appeals app: create a draft appeal, move it through its life, record the
payer's decision. Every change is versioned (a stale version is refused) and audited; a
decision is handed back to the denials through ``denials.services.appeal_outcomes``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from appeals import levels
from appeals import vocabulary as v
from appeals.level_table import level_table
from appeals.models import Appeal
from appeals.recovery import recovered_shares
from denials import vocabulary as denial_words
from denials.bulk import changed_copy, versioned_rows_update
from denials.models import Denial
from denials.selectors import denials_visible_to
from denials.services import DenialActionRefused, audit_record
from denials.services.appeal_outcomes import (
    AppealOutcome,
    denials_record_appeal_outcomes,
    denials_return_from_appeal,
    denials_send_to_appeal,
)
from denials.services.audit import audit_row, audit_rows_insert


class AppealRefused(Exception):
    """The change breaks a rule: ``field`` names what, the message says why. Nothing was saved."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class DenialsNotFound(AppealRefused):
    """A denial that does not exist, or that the user may not see (the same answer for both)."""


class AppealConflict(Exception):
    """Someone changed the appeal since the caller read it: nothing was saved."""

    def __init__(self, current: Appeal) -> None:
        self.current = current
        super().__init__(
            f"This appeal was changed by someone else (it is now at version {current.version}, "
            f"status {v.label(v.STATUSES, current.status).lower()}). Nothing was saved."
        )


#: What ``appeal_update`` may change.
EDITABLE_FIELDS = (
    "status",
    "outcome",
    "amount_recovered",
    "submitted_on",
    "method",
    "payer_reference",
    "notes",
    "decided_on",
)
#: What may still change once the payer has decided or the team withdrew: the record, not the facts.
FINAL_EDITABLE_FIELDS = frozenset({"payer_reference", "notes"})


def _snapshot(appeal: Appeal, fields: Iterable[str]) -> dict[str, Any]:
    return {f: (str(getattr(appeal, f)) if getattr(appeal, f) is not None else None) for f in fields}


def appeal_amount_at_stake(*, appeal: Appeal) -> Decimal:
    """What the appeal asks for: the sum of its denials' amounts."""
    total = appeal.denials.aggregate(total=Sum("amount"))["total"]
    return (total if total is not None else Decimal("0")).quantize(Decimal("0.01"))


def _appeal_due_date(*, claim: Any, level: str, table: levels.LevelTable) -> dt.date | None:
    """The first level's deadline counts from the remittance date; without one, none is known."""
    decision_date = claim.remittance.remittance_date
    if decision_date is None:
        return None
    payer = claim.payer
    return levels.appeal_due_date(
        payer_kind=payer.kind,
        level=level,
        decision_date=decision_date,
        payer_window_days=payer.appeal_window_days,
        table=table,
    )


def denial_appeal_refusal(*, denial: Denial, check_appeals: bool = True) -> str:
    """Why ``denial`` cannot be appealed now ("" when it can): the rule ``appeal_create``
    enforces and the denial page's Appeal button asks, so the button is never offered when
    the service would refuse.

    An NCCI indicator-0 bundling write-off: no modifier bypasses the edit, so the payer will
    not pay it on appeal. With ``check_appeals``: a denial already under an appeal that is
    ready or sent and not yet decided (``appeal_create`` checks that for a batch at once).
    """
    if denial.category == denial_words.BUNDLING_NOT_APPEALABLE:
        return (
            f"Denial {denial.pk} is an NCCI bundling write-off: the edit's modifier indicator is 0, so no "
            f"modifier can bypass it and the payer will not pay it on appeal. Write it off instead."
        )
    if check_appeals:
        busy = denial.appeals.filter(status__in=(v.STATUS_READY, v.STATUS_SUBMITTED)).order_by("pk").first()  # type: ignore[attr-defined]
        if busy is not None:
            return f"Denial {denial.pk} is already under appeal {busy.pk} ({v.label(v.STATUSES, busy.status).lower()})."
    return ""


def appeal_create(*, denials: Iterable[Denial | int], actor: User, level: str | None = None) -> Appeal:
    """Start an appeal for denied lines of one claim, or add them to the claim's draft.

    ``level`` defaults to the payer kind's first level; a coder may instead choose a route
    beside the ladder (``levels.starting_levels``: a Medicare clerical-error reopening).

    Refuses (``AppealRefused``, field ``denials``): an empty list; denials of more than one
    claim; an NCCI indicator-0 bundling write-off, which no modifier can bypass; a denial
    already under an appeal that has been sent and not yet decided. A denial the actor may
    not see is reported as not found (``DenialsNotFound``), exactly like one that does not exist.
    """
    ids = sorted({d.pk if isinstance(d, Denial) else int(d) for d in denials})
    if not ids:
        raise AppealRefused("denials", "Name at least one denial to appeal.")
    found = list(denials_visible_to(user=actor).filter(pk__in=ids).select_related("claim__remittance", "claim__payer"))
    missing = sorted(set(ids) - {d.pk for d in found})
    if missing:
        raise DenialsNotFound("denials", f"No denial {', '.join(map(str, missing))} was found.")
    claims = {d.claim_id for d in found}
    if len(claims) > 1:
        raise AppealRefused(
            "denials",
            f"An appeal covers one claim; these denials are on {len(claims)} claims "
            f"({', '.join(sorted(d.claim.patient_control_number for d in found))}).",
        )
    for denial in found:
        refusal = denial_appeal_refusal(denial=denial, check_appeals=False)
        if refusal:
            raise AppealRefused("denials", refusal)
    busy = (
        Appeal.denials.through.objects.filter(
            denial_id__in=ids, appeal__status__in=(v.STATUS_READY, v.STATUS_SUBMITTED)
        )
        .select_related("appeal")
        .first()
    )
    if busy is not None:
        raise AppealRefused(
            "denials",
            f"Denial {busy.denial_id} is already under appeal {busy.appeal_id} "
            f"({v.label(v.STATUSES, busy.appeal.status).lower()}).",
        )
    claim = found[0].claim
    table = level_table()
    try:
        starts = levels.starting_levels(payer_kind=claim.payer.kind, table=table)
    except levels.UnknownLevel as exc:  # an admin removed the payer kind's levels
        raise AppealRefused("level", str(exc)) from exc
    if level is not None and level not in starts:
        raise AppealRefused(
            "level",
            f"A new appeal to a {v.label(v.PAYER_KINDS, claim.payer.kind)} payer starts at "
            f"{' or '.join(starts)}, not {level}: a higher level appeals a decided appeal.",
        )
    for _ in range(2):
        try:
            with transaction.atomic():
                draft = Appeal.objects.select_for_update().filter(claim=claim, status=v.STATUS_DRAFT).first()
                if draft is not None:
                    if level is not None and level != draft.level:
                        raise AppealRefused(
                            "level",
                            f"The claim's draft appeal {draft.pk} is a {v.label(v.LEVELS, draft.level).lower()}; "
                            f"the lines are added to it, so they cannot start a {level}.",
                        )
                    newcomers = set(ids) - set(draft.denials.values_list("pk", flat=True))
                    if draft.previous_id is not None and newcomers:
                        # A higher level appeals a decision on its own lines; a line never appealed starts lower.
                        raise AppealRefused(
                            "denials",
                            f"The claim's draft appeal {draft.pk} is a {v.label(v.LEVELS, draft.level).lower()} "
                            f"of appeal {draft.previous_id}; send or withdraw it before appealing other lines.",
                        )
                    return _appeal_add_denials(appeal=draft, denials=found, actor=actor)
                start = level or starts[0]
                appeal = Appeal.objects.create(
                    claim=claim,
                    level=start,
                    due_date=_appeal_due_date(claim=claim, level=start, table=table),
                    created_by=actor,
                )
                appeal.denials.set(found)
                audit_record(
                    actor=actor,
                    action="appeal.created",
                    target=appeal,
                    new={**_snapshot(appeal, ("level", "status", "due_date")), "denials": ids},
                )
                # The denials leave the active queue: the appeal is now where they are worked.
                denials_send_to_appeal(denials=found, actor=actor, appeal_id=appeal.pk)
                return appeal
        except IntegrityError:
            # A colleague created the claim's draft a moment ago: add to theirs instead.
            continue
    raise AppealRefused("denials", "The claim's draft appeal changed while adding to it; try again.")


def _appeal_add_denials(*, appeal: Appeal, denials: list[Denial], actor: User) -> Appeal:
    old = sorted(appeal.denials.values_list("pk", flat=True))
    new = sorted({*old, *(d.pk for d in denials)})
    if new == old:
        return appeal  # nothing to add: no version bump, no audit row
    appeal.denials.add(*denials)
    Appeal.objects.filter(pk=appeal.pk).update(version=F("version") + 1, updated_at=timezone.now())
    appeal.refresh_from_db()
    audit_record(actor=actor, action="appeal.denials_added", target=appeal, old={"denials": old}, new={"denials": new})
    denials_send_to_appeal(denials=denials, actor=actor, appeal_id=appeal.pk)
    return appeal


def _money(value: Any) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise AppealRefused("amount_recovered", f"{value!r} is not an amount of money.") from exc
    if not amount.is_finite():
        raise AppealRefused("amount_recovered", f"{value!r} is not an amount of money.")
    return amount.quantize(Decimal("0.01"))


def _validate(*, appeal: Appeal, changes: dict[str, Any], at_stake: Decimal | None = None) -> dict[str, Any]:
    """The changes as they will be stored, or ``AppealRefused`` naming the first broken rule.
    ``at_stake``: the appeal's amount at stake when the caller read it already (else read here)."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise AppealRefused(unknown[0], f"{unknown[0]!r} cannot be changed on an appeal.")
    changes = {f: value for f, value in changes.items() if getattr(appeal, f) != value}
    old_status = appeal.status
    if old_status not in (v.STATUS_DRAFT, v.STATUS_READY, v.STATUS_SUBMITTED):
        fixed = sorted(set(changes) - FINAL_EDITABLE_FIELDS)
        if fixed:
            raise AppealRefused(
                fixed[0],
                f"A {old_status} appeal is final: only its payer reference and notes may change"
                + (" (appeal the decision at the next level instead)." if old_status == v.STATUS_DECIDED else "."),
            )
    status = changes.get("status", old_status)
    if status not in v.STATUSES:
        raise AppealRefused("status", f"Unknown status {status!r}; expected one of {', '.join(v.STATUSES)}.")
    if status != old_status and status not in v.TRANSITIONS[old_status]:
        allowed = ", ".join(sorted(v.TRANSITIONS[old_status])) or "nothing (it is final)"
        raise AppealRefused("status", f"A {old_status} appeal cannot become {status}; it may become {allowed}.")
    if "method" in changes and changes["method"] not in ("", *v.METHODS):
        raise AppealRefused("method", f"Unknown method {changes['method']!r}; expected one of {', '.join(v.METHODS)}.")
    outcome = changes.get("outcome", appeal.outcome)
    if outcome not in ("", *v.OUTCOMES):
        raise AppealRefused("outcome", f"Unknown outcome {outcome!r}; expected one of {', '.join(v.OUTCOMES)}.")
    if outcome and status != v.STATUS_DECIDED:
        raise AppealRefused("outcome", "An outcome is recorded only when the appeal is decided (status decided).")
    if status == v.STATUS_DECIDED and not outcome:
        raise AppealRefused("outcome", "A decided appeal needs its outcome.")
    amount = appeal.amount_recovered
    if "amount_recovered" in changes:
        amount = changes["amount_recovered"] = _money(changes["amount_recovered"])
        if amount < 0:
            raise AppealRefused("amount_recovered", f"The amount recovered is {amount}; it cannot be negative.")
        if at_stake is None:
            at_stake = appeal_amount_at_stake(appeal=appeal)
        if amount > at_stake:
            raise AppealRefused(
                "amount_recovered", f"The amount recovered ({amount}) is more than the {at_stake} at stake."
            )
    if amount and outcome in (v.OUTCOME_UPHELD, v.OUTCOME_WITHDRAWN):
        raise AppealRefused("amount_recovered", f"An appeal {outcome} recovers nothing; the amount must be 0.")
    today = timezone.localdate()
    if status == v.STATUS_SUBMITTED and old_status != v.STATUS_SUBMITTED and not changes.get("submitted_on"):
        changes.setdefault("submitted_on", appeal.submitted_on or today)
    if status == v.STATUS_DECIDED and old_status != v.STATUS_DECIDED and not changes.get("decided_on"):
        changes["decided_on"] = appeal.decided_on or today
    submitted_on = changes.get("submitted_on", appeal.submitted_on)
    decided_on = changes.get("decided_on", appeal.decided_on)
    if submitted_on and decided_on and decided_on < submitted_on:
        raise AppealRefused(
            "decided_on", f"The decision date {decided_on} is before the appeal was submitted ({submitted_on})."
        )
    return changes


def appeal_update(*, appeal: Appeal, expected_version: int, actor: User | None, **changes: Any) -> Appeal:
    """Change an appeal: its status along ``vocabulary.TRANSITIONS``, the payer's outcome and
    the amount recovered (only with status decided; never negative or above the amount at
    stake), how and when it was sent, the payer's reference, notes.

    A version other than the stored one raises ``AppealConflict`` before any rule is checked;
    a broken rule raises ``AppealRefused``; either way nothing is saved. Nothing changed:
    nothing written. Deciding the appeal records the outcome on each of its denials.
    """
    with transaction.atomic():
        current = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if current.version != expected_version:
            raise AppealConflict(current)
        changes = _validate(appeal=current, changes=changes)
        if not changes:
            return current
        old = _snapshot(current, changes)
        updated = Appeal.objects.filter(pk=current.pk, version=expected_version).update(
            version=F("version") + 1, updated_at=timezone.now(), **changes
        )
        if not updated:
            raise AppealConflict(Appeal.objects.get(pk=current.pk))
        fresh = Appeal.objects.get(pk=current.pk)
        action = f"appeal.{changes['status']}" if "status" in changes else "appeal.updated"
        audit_record(actor=actor, action=action, target=fresh, old=old, new=_snapshot(fresh, changes))
        if changes.get("status") == v.STATUS_SUBMITTED:
            appeal_record_sent_modifiers(appeal=fresh)
        if changes.get("status") == v.STATUS_DECIDED:
            _hand_outcome_to_denials(appeal=fresh, actor=actor)
        elif changes.get("status") == v.STATUS_WITHDRAWN:
            # Withdrawn before the payer decided: the denials go back to the work still to do.
            denials_return_from_appeal(denials=list(fresh.denials.all()), actor=actor, appeal_id=fresh.pk)
        return fresh


def appeal_record_sent_modifiers(*, appeal: Appeal) -> int:
    """Keep, for each denial the appeal covers, the modifier its package asked the payer to read on
    the corrected line (``package.corrected_line_modifier``; blank when none): what the dashboard's
    "modifier used" reports. Called when the appeal is sent; a row already kept for a denial is
    never changed (sent is sent). Returns how many rows were added."""
    from appeals.models import SentModifier
    from appeals.package import appeal_package

    package = appeal_package(appeal=appeal, with_content=False)
    kept = set(SentModifier.objects.filter(appeal=appeal).values_list("denial_id", flat=True))
    new = [
        SentModifier(
            appeal=appeal, denial_id=facts.id, modifier=facts.corrected_line.modifier if facts.corrected_line else ""
        )
        for facts in package.denials
        if facts.id not in kept
    ]
    SentModifier.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _decision_outcomes(*, appeal: Appeal, denials: Iterable[tuple[int, Decimal]]) -> list[AppealOutcome]:
    """What a decided appeal hands to each of its denials (``(id, amount)``): the outcome and
    its share of the amount recovered (``recovery.recovered_shares``: largest first, none
    beyond its own amount)."""
    shares = recovered_shares(recovered=appeal.amount_recovered, lines=((pk, amount, pk) for pk, amount in denials))
    return [
        AppealOutcome(group=appeal.pk, denial_id=denial_id, outcome=appeal.outcome, amount=share)
        for denial_id, share in shares.items()
    ]


def _hand_outcome_to_denials(*, appeal: Appeal, actor: User | None) -> None:
    """Each denial gets the appeal's outcome and its share of the amount recovered
    (``_decision_outcomes``); a refusal undoes the decision (the caller's transaction)."""
    denials = appeal.denials.values_list("pk", "amount")
    refused = denials_record_appeal_outcomes(outcomes=_decision_outcomes(appeal=appeal, denials=denials), actor=actor)
    if appeal.pk in refused:
        raise refused[appeal.pk]


@dataclass(frozen=True)
class Decision:
    """A payer's decision on a submitted appeal, for ``appeals_decide_many``."""

    appeal: Appeal
    expected_version: int
    outcome: str
    amount_recovered: Decimal
    decided_on: dt.date | None = None


#: What deciding writes on an appeal (the fields ``_validate`` may set for a decision).
_DECISION_FIELDS = ("status", "outcome", "amount_recovered", "decided_on", "submitted_on")


def appeals_decide_many(
    *, decisions: Sequence[Decision], actor: User | None
) -> list[Appeal | AppealRefused | AppealConflict | DenialActionRefused]:
    """Record many payer decisions at once (a remittance answering many appeals): the same
    rules, version bumps and audit rows as ``appeal_update(status="decided", outcome=...,
    amount_recovered=..., decided_on=...)`` for each in turn, and the same hand-off to the
    denials, in a fixed number of queries however many decisions.

    The appeals are locked (``select_for_update``); a decision whose expected version is not
    the stored one is refused (``AppealConflict``), never merged; a broken rule
    (``AppealRefused``) or a refusal on one of its denials (``DenialActionRefused``) leaves
    that appeal and its denials unwritten. Returns, for each decision in order, the appeal as
    now stored or why it was not decided; the others are written (one conditional UPDATE per
    table, one INSERT of audit rows).
    """
    results: list[Appeal | AppealRefused | AppealConflict | DenialActionRefused | None] = [None] * len(decisions)
    if not decisions:
        return []
    with transaction.atomic():
        ids = sorted({d.appeal.pk for d in decisions})
        locked = {a.pk: a for a in Appeal.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        read_version = {pk: a.version for pk, a in locked.items()}
        covered: dict[int, list[tuple[int, Decimal]]] = {pk: [] for pk in ids}
        for appeal_id, denial_id, amount in (
            Appeal.denials.through.objects.filter(appeal_id__in=ids)
            .order_by("appeal_id", "denial_id")
            .values_list("appeal_id", "denial_id", "denial__amount")
        ):
            covered[appeal_id].append((denial_id, amount))
        now = timezone.now()
        planned: dict[int, tuple[Appeal, tuple[Any, ...]]] = {}  # decision index -> (appeal, audit row)
        for i, decision in enumerate(decisions):
            current = locked.get(decision.appeal.pk)
            if current is None:
                results[i] = AppealRefused("appeal", f"Appeal {decision.appeal.pk} no longer exists.")
                continue
            if current.version != decision.expected_version:
                results[i] = AppealConflict(current)
                continue
            changes: dict[str, Any] = {
                "status": v.STATUS_DECIDED,
                "outcome": decision.outcome,
                "amount_recovered": decision.amount_recovered,
            }
            if decision.decided_on is not None:
                changes["decided_on"] = decision.decided_on
            at_stake = sum((amount for _, amount in covered[current.pk]), Decimal("0")).quantize(Decimal("0.01"))
            try:
                changes = _validate(appeal=current, changes=changes, at_stake=at_stake)
            except AppealRefused as exc:
                results[i] = exc
                continue
            if not changes:
                results[i] = current
                continue
            fresh = changed_copy(current, changes, now=now)
            locked[current.pk] = fresh
            action = f"appeal.{changes['status']}" if "status" in changes else "appeal.updated"
            row = audit_row(
                actor=actor,
                action=action,
                target=fresh,
                old=_snapshot(current, changes),
                new=_snapshot(fresh, changes),
            )
            planned[i] = (fresh, row)
        outcomes = [
            outcome
            for fresh, _ in planned.values()
            if fresh.status == v.STATUS_DECIDED
            for outcome in _decision_outcomes(appeal=fresh, denials=covered[fresh.pk])
        ]
        refused = denials_record_appeal_outcomes(outcomes=outcomes, actor=actor)
        written: dict[int, Appeal] = {}
        audit = []
        for i, (fresh, row) in planned.items():
            if fresh.pk in refused:
                results[i] = refused[fresh.pk]
                continue
            written[fresh.pk] = fresh  # the last decision of an appeal named twice holds its final state
            audit.append(row)
            results[i] = fresh
        versioned_rows_update(Appeal, [(a, read_version[pk]) for pk, a in written.items()], _DECISION_FIELDS)
        audit_rows_insert(audit)
    return [r for r in results if r is not None]


def appeal_next_level(*, appeal: Appeal, actor: User) -> Appeal:
    """Appeal a decision one level up: a draft at the next level of the payer kind's ladder,
    on the same denials, linked to this appeal (``previous``), due from its decision date.

    Refused (``AppealRefused``): an appeal not decided, or decided overturned (nothing left to
    ask for); the top of the ladder or a route beside it; a Medicare level whose minimum
    amount in controversy the unpaid amount does not reach; a claim that already has a draft;
    a decision already appealed.
    """
    with transaction.atomic():
        current = Appeal.objects.select_for_update().select_related("claim__payer").get(pk=appeal.pk)
        if current.status != v.STATUS_DECIDED or current.outcome not in (v.OUTCOME_UPHELD, v.OUTCOME_PARTIALLY_PAID):
            raise AppealRefused(
                "status", "Only a decided appeal that was upheld or partially paid can go to the next level."
            )
        kind = current.claim.payer.kind
        table = level_table()
        try:
            level = levels.next_level(payer_kind=kind, level=current.level, table=table)
        except levels.UnknownLevel as exc:  # an admin removed this level or the payer kind's levels
            raise AppealRefused("level", str(exc)) from exc
        if level is None:
            raise AppealRefused("level", f"{v.label(v.LEVELS, current.level)} has no level above it.")
        in_controversy = appeal_amount_at_stake(appeal=current) - current.amount_recovered
        refusal = levels.amount_in_controversy_refusal(payer_kind=kind, level=level, amount=in_controversy, table=table)
        if refusal:
            raise AppealRefused("level", refusal)
        if current.next_levels.exclude(status=v.STATUS_WITHDRAWN).exists():
            raise AppealRefused("level", f"Appeal {current.pk}'s decision is already appealed.")
        if Appeal.objects.filter(claim_id=current.claim_id, status=v.STATUS_DRAFT).exists():
            raise AppealRefused("denials", "The claim already has a draft appeal: send or withdraw it first.")
        decided = current.decided_on or timezone.localdate()
        payer = current.claim.payer
        upper = Appeal.objects.create(
            claim_id=current.claim_id,
            level=level,
            previous=current,
            due_date=levels.appeal_due_date(
                payer_kind=kind,
                level=level,
                decision_date=decided,
                payer_window_days=payer.appeal_window_days,
                table=table,
            ),
            created_by=actor,
        )
        ids = sorted(current.denials.values_list("pk", flat=True))
        upper.denials.set(ids)
        audit_record(
            actor=actor,
            action="appeal.created",
            target=upper,
            new={**_snapshot(upper, ("level", "status", "due_date")), "denials": ids, "previous": current.pk},
        )
        denials_send_to_appeal(denials=list(upper.denials.all()), actor=actor, appeal_id=upper.pk)
        return upper
