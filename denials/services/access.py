"""The access trail: one append-only row per look at patient data (a claim, denial or
file opened, a document downloaded, an export or PDF made).

HIPAA's audit-control standard asks who looked at which record and when, not only who
changed it; state changes have their own trail (``audit.audit_record``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from denials.models import AccessEvent

#: ``AccessEvent.path`` holds this many characters; longer paths are cut, never refused.
PATH_MAX = AccessEvent._meta.get_field("path").max_length or 300


def access_record(*, actor: Any, action: str, target: models.Model, path: str) -> AccessEvent:
    """Write one access row: ``actor`` looked at ``target`` through ``path``.

    Called by the view or API endpoint that shows the object, once per response, after
    the permission check (a refused request showed nothing, so it records nothing).
    List pages record nothing: a row in a list is not a look at that patient's record.
    The username is copied into ``actor_label`` so the trail still reads after the
    account is renamed or removed.
    """
    if action not in AccessEvent.Action.values:
        raise ValueError(f"access_record: action {action!r} is not one of {', '.join(AccessEvent.Action.values)}")
    signed_in = actor is not None and actor.is_authenticated
    return AccessEvent.objects.create(
        actor=actor if signed_in else None,
        actor_label=actor.get_username() if signed_in else "anonymous",
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        path=(path or "")[:PATH_MAX],
    )
