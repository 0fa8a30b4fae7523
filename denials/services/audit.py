"""The audit trail: one append-only row per state change (who, when, what, old, new)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models

from denials.models import (
    AuditEvent,
    Denial,
)


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
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or ("" if actor is not None else "system"),
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        old=old,
        new=new,
        note=note,
    )


def _denial_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Denial)
