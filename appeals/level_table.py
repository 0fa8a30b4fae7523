"""The appeal levels as admins set them: ``AppealLevelRule`` rows read into a ``levels.LevelTable``.

The rows are the truth (seeded once from ``levels.SHIPPED_LEVEL_RULES`` by
``appeals.defaults``); nothing falls back to the shipped table. A payer kind whose rows an
admin deleted gets ``levels.NoLevelsSetUp``, which says where to add them.
"""

from __future__ import annotations

from appeals import levels
from appeals.models import AppealLevelRule


def level_row(rule: AppealLevelRule) -> levels.LevelRow:
    """One stored row as the pure table's row."""
    return levels.LevelRow(
        payer_kind=rule.payer_kind,
        rank=rule.rank,
        rule=levels.LevelRule(
            level=rule.level,
            days=rule.days,
            receipt_days=rule.receipt_days,
            minimum_amount=rule.minimum_amount,
            minimum_amount_year=rule.minimum_amount_year,
            years=rule.years,
            source=rule.source,
        ),
    )


def level_table() -> levels.LevelTable:
    """Every payer kind's levels as stored now (one query; ladders ordered by rank)."""
    rows = AppealLevelRule.objects.order_by("payer_kind", "rank", "level", "pk")
    return levels.LevelTable.from_rows(level_row(rule) for rule in rows)
