"""Triage orchestration: read denials in chunks, apply the pure rules, write the results.

``denials_triage`` is the steps in order: which denials, what every chunk shares (rules,
routing, modifier groups, outcome counts), then per chunk: the denials, their claims' lines,
the PTP facts (``ncci.selectors``), the pure rules (``denials.triage`` over ``ncci.ptp``),
due dates and probabilities, and one write of the rows with their audit events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from denials import triage as rules_core
from denials.bulk import bulk_update_fields, insert_values
from denials.models import (
    AuditEvent,
    CategoryRule,
    Denial,
    QueueRule,
    RemittanceFile,
    ServiceLine,
    WorkQueue,
)
from denials.services.audit import _denial_content_type
from denials.triage import DenialFacts, LineFacts, TriageResult
from denials.vocabulary import category_matches
from ncci import selectors as ncci_selectors
from ncci.ptp import ModifierGroups, PtpEditFact

Status = RemittanceFile.Status


TRIAGE_CHUNK = 2000
HOSPITAL_FACILITY_PREFIX = "13"  # CLP08 13x: hospital outpatient


def _pure_category_rules() -> list[Any]:
    return [
        rules_core.CategoryRule(
            category=r.category,
            group_code=r.group_code,
            carc=r.carc,
            rarc=r.rarc,
            payer_id=str(r.payer_id or ""),
            procedure_code=r.procedure_code,
            priority=r.priority,
        )
        for r in CategoryRule.objects.all()
    ]


def _queue_router() -> Any:
    """A function (category, payer_id) -> queue id, most specific rule first."""
    rules = sorted(
        QueueRule.objects.values_list("queue_id", "category", "payer_id", "priority"),
        key=lambda r: (-(bool(r[1]) + bool(r[2])), r[3]),
    )

    def route(category: str, payer_id: int) -> int | None:
        for queue_id, rule_category, rule_payer, _ in rules:
            if rule_category and not category_matches(rule_category, category):
                continue
            if rule_payer and rule_payer != payer_id:
                continue
            return queue_id
        return None

    return route


class _TriageRow:
    """What triage reads of a denial, its claim and payer, and what it writes back.

    A plain object instead of a model instance: triage handles hundreds of thousands of
    denials, and building ORM instances cost more than the triage itself.
    """

    #: (query path, attribute) for what is read; the order of ``values_list(*SOURCE)``.
    FIELDS = (
        ("id", "pk"),
        ("claim_id", "claim_id"),
        ("line_id", "line_id"),
        ("payer_id", "payer_id"),
        ("group_code", "group_code"),
        ("carc", "carc"),
        ("rarcs", "rarcs"),
        ("amount", "amount"),
        ("category", "category"),
        ("action", "action"),
        ("queue_id", "queue_id"),
        ("claim__status_code", "claim_status"),
        ("claim__frequency_code", "frequency_code"),
        ("claim__facility_type", "facility_type"),
        ("claim__remittance__payment_date", "payment_date"),
        ("claim__remittance__production_date", "production_date"),
        ("payer__appeal_window_days", "appeal_window_days"),
    )
    SOURCE = tuple(path for path, _ in FIELDS)
    __slots__ = (
        "action",
        "action_modifier",
        "amount",
        "appeal_window_days",
        "carc",
        "category",
        "claim_id",
        "claim_status",
        "due_date",
        "expected_recovery",
        "explanation",
        "facility_type",
        "frequency_code",
        "group_code",
        "line_id",
        "ncci_column1",
        "ncci_column2",
        "ncci_deletion_date",
        "ncci_effective_date",
        "ncci_modifier_indicator",
        "ncci_quarter",
        "ncci_rationale",
        "ncci_setting",
        "pair_line_id",
        "payer_id",
        "payment_date",
        "pk",
        "priority",
        "production_date",
        "ptp_edit_id",
        "queue_id",
        "rarcs",
        "success_probability",
        "triaged_at",
    )

    def __init__(self, *values: Any) -> None:
        for (_, name), value in zip(self.FIELDS, values, strict=True):
            setattr(self, name, value)


def _outcome_stats(team_ids: set[int]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """This team's decided outcomes: wins and decisions, by NCCI pair and by CARC + payer."""
    decided = Denial.objects.filter(queue__team_id__in=team_ids).exclude(outcome__in=["", Denial.Outcome.WITHDRAWN])
    wins = Q(outcome__in=[Denial.Outcome.OVERTURNED, Denial.Outcome.PARTIALLY_PAID])
    stats: dict[tuple[Any, ...], tuple[int, int]] = {}
    for row in (
        decided.exclude(ncci_column1="")
        .values("queue__team_id", "ncci_column1", "ncci_column2")
        .annotate(n=Count("id"), won=Count("id", filter=wins))
    ):
        stats[("edit", row["queue__team_id"], row["ncci_column1"], row["ncci_column2"])] = (row["won"], row["n"])
    for by_carc in decided.values("queue__team_id", "carc", "payer_id").annotate(
        n=Count("id"), won=Count("id", filter=wins)
    ):
        stats[("carc", by_carc["queue__team_id"], by_carc["carc"], by_carc["payer_id"])] = (
            by_carc["won"],
            by_carc["n"],
        )
    return stats


@dataclass(frozen=True)
class _TriageContext:
    """What every chunk reads once: rules, routing, modifier groups, outcome counts, texts."""

    rules_by_carc: dict[str, list[Any]]
    route: Callable[[str, int], int | None]
    modifier_groups: ModifierGroups
    queue_team: dict[int, int]
    stats: dict[tuple[Any, ...], tuple[int, int]]
    descriptions: dict[str, str]
    today: dt.date
    now: dt.datetime
    denial_type_id: int
    actor_id: int | None
    actor_label: str


_WRITTEN_FIELDS = [
    "category",
    "action",
    "action_modifier",
    "explanation",
    "queue",
    "success_probability",
    "expected_recovery",
    "priority",
    "due_date",
    "triaged_at",
    "ptp_edit",
    "pair_line",
    "ncci_column1",
    "ncci_column2",
    "ncci_modifier_indicator",
    "ncci_effective_date",
    "ncci_deletion_date",
    "ncci_quarter",
    "ncci_setting",
    "ncci_rationale",
]
_AUDIT_COLUMNS = ["actor_id", "actor_label", "action", "target_type_id", "target_id", "target_repr", "old", "new"]


def denials_triage(
    *,
    denial_ids: Iterable[int] | None = None,
    file_id: int | None = None,
    only_unworked: bool = True,
    actor: User | None = None,
    untriaged_only: bool = False,
) -> int:
    """Triage denials: category, queue, next action, explanation, priority and due date.

    Batched: per chunk of denials, one query for the denials, one for the claims' lines and
    one for the PTP edits between their codes (through ``ncci.selectors``); no query per
    denial. Worked denials are left alone unless ``only_unworked`` is False; with
    ``untriaged_only`` only denials never triaged are. Returns how many denials changed
    (category, queue or action).
    """
    ids = _denial_ids(
        denial_ids=denial_ids, file_id=file_id, only_unworked=only_unworked, untriaged_only=untriaged_only
    )
    if not ids:
        return 0
    context = _triage_context(actor=actor)
    changed = 0
    for start in range(0, len(ids), TRIAGE_CHUNK):
        chunk = _chunk_rows(ids[start : start + TRIAGE_CHUNK])
        audit_rows = _triage_chunk(chunk, _lines_by_claim({d.claim_id for d in chunk}), context)
        changed += len(audit_rows)
        _write_chunk(chunk, audit_rows)
    return changed


def _triage_chunk(
    chunk: list[Any], lines_by_claim: dict[int, list[LineFacts]], context: _TriageContext
) -> list[tuple[Any, ...]]:
    """Triage a chunk of rows in place (one query for the PTP facts between their claims'
    codes); returns the audit rows of those whose category, queue or action changed."""
    codes = {ln.procedure_code for lines in lines_by_claim.values() for ln in lines}
    edits_by_pair = ncci_selectors.ptp_edit_facts_by_pair(codes=codes)
    audit_rows: list[tuple[Any, ...]] = []
    for denial in chunk:
        old = (denial.category, denial.queue_id, denial.action)
        result = _apply_rules(denial, lines_by_claim.get(denial.claim_id, []), edits_by_pair, context)
        _apply_result(denial, result, context)
        if (denial.category, denial.queue_id, denial.action) != old:
            audit_rows.append(_audit_row(denial, old, context))
    return audit_rows


class IngestTriage:
    """Triage of new denials while their transaction set is stored, before their rows exist.

    The store hands each chunk of new denials with their claims' lines as it has them in
    memory (``new_row``, ``LineFacts``); their rows then go in triaged, with their audit
    events, so ingestion never reads them back nor UPDATEs them. The rules, routing,
    modifier groups and outcome counts are read once per file; PTP facts once per chunk.
    """

    #: The triage columns of a denial row, in ``written_values`` order (attnames).
    COLUMNS = tuple(Denial._meta.get_field(name).attname for name in _WRITTEN_FIELDS)  # type: ignore[union-attr]

    def __init__(self, *, actor: User | None = None) -> None:
        self.context = _triage_context(actor=actor)

    @staticmethod
    def new_row(**values: Any) -> Any:
        """A new denial as triage reads it: every ``_TriageRow.FIELDS`` attribute by name,
        category, action and queue still empty."""
        values.setdefault("category", "")
        values.setdefault("action", "")
        values.setdefault("queue_id", None)
        return _TriageRow(*(values[name] for _, name in _TriageRow.FIELDS))

    def triage(self, rows: list[Any], lines_by_claim: dict[int, list[LineFacts]]) -> list[tuple[Any, ...]]:
        """Triage the rows in place; returns their audit rows (``write_audit``)."""
        return _triage_chunk(rows, lines_by_claim, self.context)

    def written_values(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, name) for name in self.COLUMNS)

    @staticmethod
    def write_audit(audit_rows: list[tuple[Any, ...]]) -> None:
        insert_values(AuditEvent, _AUDIT_COLUMNS, audit_rows)


def _denial_ids(
    *, denial_ids: Iterable[int] | None, file_id: int | None, only_unworked: bool, untriaged_only: bool = False
) -> list[int]:
    denials = Denial.objects.all()
    if untriaged_only:
        denials = denials.filter(triaged_at__isnull=True)
    if denial_ids is not None:
        denials = denials.filter(pk__in=list(denial_ids))
    if file_id is not None:
        denials = denials.filter(claim__remittance__file_id=file_id)
    if only_unworked:
        denials = denials.filter(status=Denial.Status.OPEN, assignee__isnull=True)
    return list(denials.order_by("pk").values_list("pk", flat=True))


def _triage_context(*, actor: User | None) -> _TriageContext:
    # Index the rules by CARC so each denial is matched against a handful, not hundreds.
    rules_by_carc: dict[str, list[Any]] = {}
    for rule in _pure_category_rules():
        rules_by_carc.setdefault(rule.carc, []).append(rule)
    queue_team = dict(WorkQueue.objects.values_list("pk", "team_id"))
    return _TriageContext(
        rules_by_carc=rules_by_carc,
        route=_queue_router(),
        modifier_groups=ncci_selectors.modifier_groups(),
        queue_team=queue_team,
        stats=_outcome_stats(set(queue_team.values())),
        descriptions=ncci_selectors.code_descriptions(),
        today=timezone.localdate(),
        now=timezone.now(),
        denial_type_id=_denial_content_type().pk,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        actor_label="" if actor is not None else "triage",
    )


def _chunk_rows(ids: list[int]) -> list[Any]:  # _TriageRow: its attributes are set from FIELDS
    return [_TriageRow(*row) for row in Denial.objects.filter(pk__in=ids).values_list(*_TriageRow.SOURCE)]


_MODIFIER_FIELDS = ("modifier1", "modifier2", "modifier3", "modifier4")


def _lines_by_claim(claim_ids: set[int]) -> dict[int, list[LineFacts]]:
    """The claims' lines as plain facts, not model instances: a chunk's claims hold thousands."""
    lines_by_claim: dict[int, list[LineFacts]] = {}
    rows = (
        ServiceLine.objects.filter(claim_id__in=claim_ids)
        .order_by("claim_id", "sequence")
        .values_list(
            "id",
            "claim_id",
            "procedure_code",
            "modifier1",
            "modifier2",
            "modifier3",
            "modifier4",
            "service_date",
            "units",
        )
    )
    for pk, claim_id, code, m1, m2, m3, m4, service_date, units in rows:
        lines_by_claim.setdefault(claim_id, []).append(
            LineFacts(
                line_id=pk,
                procedure_code=code,
                modifiers=tuple(m for m in (m1, m2, m3, m4) if m),
                service_date=service_date,
                units=units,
            )
        )
    return lines_by_claim


def _apply_rules(
    denial: Any,
    lines: list[LineFacts],
    edits_by_pair: dict[tuple[str, str, str], list[PtpEditFact]],
    context: _TriageContext,
) -> TriageResult:
    """The pure rules (``denials.triage``, ``ncci.ptp``) on one denial and its claim's lines."""
    setting = "hospital" if denial.facility_type.startswith(HOSPITAL_FACILITY_PREFIX) else "practitioner"
    line_fact = next((ln for ln in lines if ln.line_id == denial.line_id), None) if denial.line_id else None
    others = tuple(ln for ln in lines if ln.line_id != denial.line_id)
    candidate_edits: list[PtpEditFact] = []
    if line_fact is not None:
        code = line_fact.procedure_code
        for other in others:
            candidate_edits += edits_by_pair.get((setting, other.procedure_code, code), [])
            candidate_edits += edits_by_pair.get((setting, code, other.procedure_code), [])
    facts = DenialFacts(
        group_code=denial.group_code,
        carc=denial.carc,
        rarcs=tuple(denial.rarcs.split()),
        amount=denial.amount,
        payer_id=str(denial.payer_id),
        claim_status=denial.claim_status,
        line=line_fact,
        other_lines=others,
        frequency_code=denial.frequency_code,
    )
    rules = context.rules_by_carc.get(denial.carc.strip().upper(), []) + context.rules_by_carc.get("", [])
    return rules_core.triage(
        facts=facts,
        rules=rules,
        edits=candidate_edits,
        modifier_groups=context.modifier_groups,
        descriptions=context.descriptions,
    )


def _apply_result(denial: Any, result: TriageResult, context: _TriageContext) -> None:
    """Queue, success probability, expected recovery, due date and priority, onto the row."""
    queue_id = context.route(result.category, denial.payer_id)
    team_id = context.queue_team.get(queue_id) if queue_id else None
    finding = result.finding
    if finding is not None:
        key: tuple[Any, ...] = ("edit", team_id, finding.column1_code, finding.column2_code)
    else:
        key = ("carc", team_id, denial.carc, denial.payer_id)
    won, decided = context.stats.get(key, (0, 0))
    probability = rules_core.success_probability(category=result.category, wins=won, decided=decided)
    if result.write_off or result.action == rules_core.WRITE_OFF:
        probability = Decimal("0")
    remitted = denial.payment_date or denial.production_date
    due = remitted + dt.timedelta(days=denial.appeal_window_days) if remitted else None
    days_to_due = (due - context.today).days if due else None
    denial.category = result.category
    denial.action = result.action
    denial.action_modifier = result.action_modifier[:2]
    denial.explanation = result.explanation
    denial.queue_id = queue_id
    denial.success_probability = probability.quantize(Decimal("0.0001"))
    denial.expected_recovery = (denial.amount * probability).quantize(Decimal("0.01"))
    denial.priority = rules_core.priority_score(
        amount=denial.amount, probability=probability, days_to_due=days_to_due
    ).quantize(Decimal("0.0001"))
    denial.due_date = due
    denial.triaged_at = context.now
    _apply_finding(denial, finding)


def _audit_row(denial: Any, old: tuple[str, int | None, str], context: _TriageContext) -> tuple[Any, ...]:
    old_category, old_queue, old_action = old
    new = {"category": denial.category, "queue": denial.queue_id, "action": denial.action}
    return (
        context.actor_id,
        context.actor_label,
        "denial.triaged",
        context.denial_type_id,
        str(denial.pk),
        f"{denial.group_code}-{denial.carc} {denial.amount}",
        {"category": old_category, "queue": old_queue, "action": old_action} if old_category else None,
        new,
    )


def _write_chunk(chunk: list[Any], audit_rows: list[tuple[Any, ...]]) -> None:
    """The chunk's rows and their audit events, together or not at all."""
    with transaction.atomic():
        bulk_update_fields(chunk, _WRITTEN_FIELDS, model=Denial)
        insert_values(AuditEvent, _AUDIT_COLUMNS, audit_rows)


def _apply_finding(denial: Any, finding: Any) -> None:
    if finding is None:
        denial.ptp_edit_id = denial.pair_line_id = None
        denial.ncci_column1 = denial.ncci_column2 = denial.ncci_modifier_indicator = ""
        denial.ncci_effective_date = denial.ncci_deletion_date = None
        denial.ncci_quarter = denial.ncci_setting = denial.ncci_rationale = ""
        return
    edit = finding.edit
    denial.ptp_edit_id = edit.edit_id
    denial.pair_line_id = finding.other_line.line_id
    denial.ncci_column1 = edit.column1
    denial.ncci_column2 = edit.column2
    denial.ncci_modifier_indicator = edit.modifier_indicator
    denial.ncci_effective_date = edit.effective_date
    denial.ncci_deletion_date = edit.deletion_date
    denial.ncci_quarter = edit.quarter
    denial.ncci_setting = edit.setting
    denial.ncci_rationale = edit.rationale[:120]
