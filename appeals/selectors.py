"""Reads for the appeals app: which appeals a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from appeals.models import Appeal
from denials.selectors import denials_visible_to


def appeals_visible_to(*, user: Any) -> QuerySet[Appeal]:
    """An appeal is visible to whoever may see its denials (``denials_visible_to``): its
    team's coders and managers, and admins. Another team's appeal answers 404."""
    visible = denials_visible_to(user=user).values("pk")
    through = Appeal.denials.through.objects.filter(denial_id__in=visible).values("appeal_id")
    return Appeal.objects.filter(pk__in=through)
