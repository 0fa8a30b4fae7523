"""Re-triage, now, the open denials a reference change can affect, and say how many.

An admin who changes a category rule, a queue rule, a payer, a code's words or a modifier's
NCCI group wants to know what it did: "37 open denials were re-triaged". The change's own
service (``denials.services.reference``, the NCCI signals) still queues the background
re-triage of every open denial; this module re-triages at once the open denials the change
*can* affect (those the old or the new row matches: nothing outside that scope can change),
so the answer is a count, not a promise. Above ``RETRIAGE_NOW_LIMIT`` denials the work is
left to the background re-triage and the message says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q

from denials import vocabulary
from denials.models import CategoryRule, Denial, Payer, QueueRule
from denials.selectors import with_rarc
from denials.services.queueing import RETRIAGE_OPEN, queue_after_commit
from denials.services.triaging import denials_triage

#: At most this many denials are re-triaged inside the admin's request. Measured on the demo
#: (PostgreSQL, 2 shared cores): about 0.15 s to set up plus 1 ms per denial, so 2,000 keep the
#: admin's save near 2 s; a wider change is left to the background re-triage.
RETRIAGE_NOW_LIMIT = 2000

NOTHING = Q(pk__in=[])
#: A rule with every field blank matches every denial. (An empty ``Q()`` would not do: OR-ed with
#: another Q it is dropped, as "no condition".)
EVERYTHING = Q(pk__isnull=False)


@dataclass(frozen=True)
class RetriageReport:
    retriaged: int
    changed: int
    #: More open denials than ``RETRIAGE_NOW_LIMIT`` may be affected: left to the background.
    deferred: bool = False

    @property
    def message(self) -> str:
        if self.deferred:
            return (
                f"More than {RETRIAGE_NOW_LIMIT:,} open denials may be affected: "
                "they are being re-triaged in the background."
            )
        if not self.retriaged:
            return "No open denial was affected."
        n = self.retriaged
        head = f"{n:,} open denial{'s were' if n != 1 else ' was'} re-triaged"
        if not self.changed:
            return f"{head}; none changed category, queue or next step."
        return f"{head}; {self.changed:,} changed category, queue or next step."


def category_rule_scope(rule: CategoryRule) -> Q:
    """The denials a category rule matches (blank fields match anything)."""
    q = EVERYTHING
    if rule.group_code.strip():
        q &= Q(group_code__iexact=rule.group_code.strip())
    if rule.carc.strip():
        q &= Q(carc__iexact=rule.carc.strip())
    if rule.rarc.strip():
        q &= with_rarc(rule.rarc)
    if rule.payer_id:
        q &= Q(payer_id=rule.payer_id)
    if rule.procedure_code.strip():
        q &= Q(line__procedure_code__iexact=rule.procedure_code.strip())
    return q


def queue_rule_scope(rule: QueueRule) -> Q:
    """The denials a queue rule routes (its category, the generic bundling one covering all five)."""
    q = EVERYTHING
    if rule.category == vocabulary.BUNDLING:
        q &= Q(category__in=vocabulary.BUNDLING_CATEGORIES)
    elif rule.category:
        q &= Q(category=rule.category)
    if rule.payer_id:
        q &= Q(payer_id=rule.payer_id)
    return q


def payer_scope(payer: Payer) -> Q:
    return Q(payer_id=payer.pk) if payer.pk else NOTHING


def code_scope(*, kind: str, code: str) -> Q:
    """The denials quoting a CARC or RARC in their explanation."""
    code = (code or "").strip()
    if not code:
        return NOTHING
    return Q(carc__iexact=code) if kind == "CARC" else with_rarc(code)


def bundling_scope() -> Q:
    """A modifier's NCCI group decides how a bundling denial is resolved."""
    return Q(category__in=vocabulary.BUNDLING_CATEGORIES)


def scope_of(obj: Any) -> Q:
    """The denials a reference row can affect, whatever its kind."""
    from ncci.models import Carc, Modifier, Rarc

    if isinstance(obj, CategoryRule):
        return category_rule_scope(obj)
    if isinstance(obj, QueueRule):
        return queue_rule_scope(obj)
    if isinstance(obj, Payer):
        return payer_scope(obj)
    if isinstance(obj, Carc):
        return code_scope(kind="CARC", code=obj.code)
    if isinstance(obj, Rarc):
        return code_scope(kind="RARC", code=obj.code)
    if isinstance(obj, Modifier):
        return bundling_scope()
    raise TypeError(f"no re-triage scope for {type(obj).__name__}")


def scope_of_rows(rows: Iterable[Any]) -> Q:
    """The denials any of ``rows`` can affect: pass the old and the new version of a changed row
    (a row's old version matched denials its new one may no longer match). Read it before a
    delete: a deleted row has no id left."""
    scope = NOTHING
    for row in rows:
        if row is not None:
            scope |= scope_of(row)
    return scope


def open_denials_retriage(*, scope: Q, actor: User | None = None) -> RetriageReport:
    """Re-triage now the open denials not yet worked in ``scope``; how many, and how many changed
    (category, queue or next step). Wider than ``RETRIAGE_NOW_LIMIT``: queued instead."""
    ids = list(
        Denial.objects.filter(status=Denial.Status.OPEN, assignee__isnull=True)
        .filter(scope)
        .order_by("pk")
        .values_list("pk", flat=True)[: RETRIAGE_NOW_LIMIT + 1]
    )
    if len(ids) > RETRIAGE_NOW_LIMIT:
        queue_after_commit(RETRIAGE_OPEN)
        return RetriageReport(retriaged=0, changed=0, deferred=True)
    if not ids:
        return RetriageReport(retriaged=0, changed=0)
    changed = denials_triage(denial_ids=ids, only_unworked=True, actor=actor)
    return RetriageReport(retriaged=len(ids), changed=changed)
