"""The product's shipped reference rows: routine/denial adjustment rules and category rules."""

from __future__ import annotations

from denials.models import (
    AdjustmentRule,
    CategoryRule,
)


def adjustment_rules_load_defaults() -> int:
    """Seed the routine/denial table with the shipped defaults; existing rows are kept."""
    from denials.detection import DEFAULT_ADJUSTMENT_RULES

    created = 0
    for group, carc, kind, note in DEFAULT_ADJUSTMENT_RULES:
        _, was_created = AdjustmentRule.objects.get_or_create(
            group_code=group, carc=carc, defaults={"kind": kind, "note": note}
        )
        created += was_created
    return created


def category_rules_load_defaults() -> int:
    """Seed the category rule table (admin-editable) from the triage module's defaults,
    and each CARC's suggested category. Existing rules are kept."""
    from denials.triage import DEFAULT_CATEGORY_RULES
    from ncci.models import Carc

    created = 0
    if not CategoryRule.objects.exists():
        CategoryRule.objects.bulk_create(
            CategoryRule(
                category=r.category,
                group_code=r.group_code,
                carc=r.carc,
                rarc=r.rarc,
                procedure_code=r.procedure_code,
                priority=r.priority,
            )
            for r in DEFAULT_CATEGORY_RULES
        )
        created = len(DEFAULT_CATEGORY_RULES)
    by_carc = {r.carc: r.category for r in DEFAULT_CATEGORY_RULES if r.carc and not r.rarc and not r.group_code}
    stale = list(Carc.objects.filter(default_category="", code__in=by_carc))
    for carc in stale:
        carc.default_category = by_carc[carc.code]
    Carc.objects.bulk_update(stale, ["default_category"])
    return created
