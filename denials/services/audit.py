"""The audit trail: one append-only row per state change (who, when, what, old, new)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models

from denials.bulk import insert_values
from denials.models import (
    AuditEvent,
    Denial,
)

#: The audit columns a batched write fills (``denials.bulk.insert_values``); ``at`` is now.
AUDIT_COLUMNS = (
    "actor_id",
    "actor_label",
    "action",
    "target_type_id",
    "target_id",
    "target_repr",
    "old",
    "new",
    "note",
)


def audit_row(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    old: Any = None,
    new: Any = None,
    note: str = "",
    actor_label: str = "",
) -> tuple[Any, ...]:
    """The row ``audit_record`` would write, as values in ``AUDIT_COLUMNS`` order, for a write
    of many rows at once (``audit_rows_insert``)."""
    return (
        actor.pk if actor is not None and actor.is_authenticated else None,
        actor_label or ("" if actor is not None else "system"),
        action,
        ContentType.objects.get_for_model(target).pk,
        str(target.pk),
        str(target)[:200],
        old,
        new,
        note,
    )


def audit_rows_insert(rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert audit rows made by ``audit_row``: one statement however many (inside the
    transaction that makes the changes)."""
    insert_values(AuditEvent, AUDIT_COLUMNS, rows)


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    old: Any = None,
    new: Any = None,
    note: str = "",
    actor_label: str = "",
) -> AuditEvent:
    """Write one audit row. Called inside the transaction that makes the change."""
    values = audit_row(actor=actor, action=action, target=target, old=old, new=new, note=note, actor_label=actor_label)
    return AuditEvent.objects.create(**dict(zip(AUDIT_COLUMNS, values, strict=True)))


def _denial_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Denial)
