"""Writes to the tables triage reads: payers (the appeal window sets due dates; rules may
name a payer), category rules and queue rules.

Any change to one of them re-triages the denials not yet worked, whoever makes it (the
admin, a command, a test): the re-triage belongs to the change, not to the screen it was
made on. The re-triage is a Celery task queued once the change commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from denials.models import CategoryRule, Payer, QueueRule
from denials.services.audit import audit_record
from denials.services.queueing import RETRIAGE_OPEN, queue_after_commit

_ACTION_PREFIX: dict[type[models.Model], str] = {Payer: "payer", CategoryRule: "category_rule", QueueRule: "queue_rule"}


def reference_rules_changed() -> None:
    """Re-triage the denials not yet worked, once the current transaction commits."""
    queue_after_commit(RETRIAGE_OPEN)


def _snapshot(obj: models.Model) -> dict[str, Any]:
    return {f.attname: (None if (v := getattr(obj, f.attname)) is None else str(v)) for f in obj._meta.concrete_fields}


def _reference_save(*, obj: models.Model, actor: User | None, action: str) -> None:
    """Validate, save, audit (old and new values) and re-triage: the one write path of the three tables."""
    obj.full_clean()
    with transaction.atomic():
        old = None
        if obj.pk is not None:
            before = type(obj)._default_manager.filter(pk=obj.pk).first()
            old = _snapshot(before) if before is not None else None
        obj.save()
        new = _snapshot(obj)
        if old != new:
            audit_record(actor=actor, action=action, target=obj, old=old, new=new)
            reference_rules_changed()


def _reference_delete(*, obj: models.Model, actor: User | None, action: str) -> None:
    reference_rows_delete(rows=[obj], actor=actor)


def reference_rows_delete(*, rows: Iterable[models.Model], actor: User | None = None) -> int:
    """Delete payers or category or queue rules (the admin's bulk delete): each audited, one re-triage."""
    done = 0
    with transaction.atomic():
        for obj in rows:
            action = f"{_ACTION_PREFIX[type(obj)]}.deleted"
            audit_record(actor=actor, action=action, target=obj, old=_snapshot(obj))
            obj.delete()
            done += 1
        if done:
            reference_rules_changed()
    return done


def payer_save(*, payer: Payer, actor: User | None = None) -> Payer:
    """Create or change a payer (its appeal window sets the due dates of its denials)."""
    _reference_save(obj=payer, actor=actor, action="payer.saved")
    return payer


def category_rule_save(*, rule: CategoryRule, actor: User | None = None) -> CategoryRule:
    """Create or change a category rule; its category must be one of ``denials.vocabulary``'s."""
    _reference_save(obj=rule, actor=actor, action="category_rule.saved")
    return rule


def category_rule_delete(*, rule: CategoryRule, actor: User | None = None) -> None:
    _reference_delete(obj=rule, actor=actor, action="category_rule.deleted")


def queue_rule_save(*, rule: QueueRule, actor: User | None = None) -> QueueRule:
    """Create or change a queue rule; its category, when given, must be one triage returns."""
    _reference_save(obj=rule, actor=actor, action="queue_rule.saved")
    return rule


def queue_rule_delete(*, rule: QueueRule, actor: User | None = None) -> None:
    _reference_delete(obj=rule, actor=actor, action="queue_rule.deleted")


def payer_delete(*, payer: Payer, actor: User | None = None) -> None:
    _reference_delete(obj=payer, actor=actor, action="payer.deleted")
