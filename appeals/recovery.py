"""How an appeal's recovered amount is shared among the denied lines it covered.

The rule: the largest denials are filled first (ties: the lower denial id first), none beyond
its own amount, so the shares add up to the appeal's amount exactly (the amount recovered is
never more than the amount at stake: ``appeals.services._validate`` refuses it).

This module is the one home of the rule, in two forms kept side by side so they cannot drift
apart unnoticed (``tests/test_analytics.py`` compares them on the same rows, and with what the
denials stored through both decision paths):

- ``recovered_shares``: pure; ``appeals.services`` calls it when a payer decides an appeal
  (``appeal_update`` and the batched ``appeals_decide_many``), and hands each share to the
  denial (``denials.services.appeal_outcomes``).
- ``recovered_share_sql``: the same rule as a SQL expression over ``Appeal.denials.through``
  rows, so the dashboard can sum shares per group in the database.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)


def recovered_shares(*, recovered: Decimal, lines: Iterable[tuple[K, Decimal, Any]]) -> dict[K, Decimal]:
    """Each line's share of ``recovered``. ``lines``: ``(key, amount, tie_breaker)``; the largest
    amount is filled first, equal amounts in ``tie_breaker`` order (the denial id)."""
    if recovered < 0:
        raise ValueError(f"The amount recovered is {recovered}; it cannot be negative.")
    left = recovered
    shares: dict[K, Decimal] = {}
    for key, amount, _tie in sorted(lines, key=lambda line: (-line[1], line[2])):
        share = min(left, amount) if left > 0 else Decimal("0")
        shares[key] = share
        left -= share
    return shares


def recovered_share_sql() -> Any:
    """The share of the appeal's ``amount_recovered`` that falls to one ``Appeal.denials.through``
    row: ``max(0, min(amount, recovered - amounts of the appeal's lines filled before it))``.

    "Before it": a larger amount, or the same amount and a lower denial id. Every line of the
    appeal counts there, not only the ones a filter keeps, because the share depends on the
    whole appeal. Use it on a queryset of through rows (fields ``appeal``, ``denial``).
    """
    from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
    from django.db.models.functions import Coalesce, Greatest, Least

    from appeals.models import Appeal
    from denials.models import MONEY_DIGITS, MONEY_PLACES

    money = DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)
    through = Appeal.denials.through.objects
    before = (
        through.filter(appeal_id=OuterRef("appeal_id"))
        .filter(
            Q(denial__amount__gt=OuterRef("denial__amount"))
            | Q(denial__amount=OuterRef("denial__amount"), denial_id__lt=OuterRef("denial_id"))
        )
        .order_by()
        .values("appeal_id")
        .annotate(total=Sum("denial__amount"))
        .values("total")  # type: ignore[misc]  # django-stubs cannot see a name made by annotate()
    )
    filled = Coalesce(Subquery(before, output_field=money), Value(Decimal("0")), output_field=money)
    return Greatest(
        Least(F("denial__amount"), F("appeal__amount_recovered") - filled, output_field=money),
        Value(Decimal("0")),
        output_field=money,
    )
