"""How the dashboard prints a figure, by its column's kind (``appeals.analytics_tables.Column``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def figure(value: Any, kind: str) -> str:
    """Money as $1,234.56, counts with thousands separators, rates as 67%, days as 31.5; a
    missing figure (nothing decided, nothing billed) as an em dash."""
    if value is None or value == "":
        return "—" if kind != "text" else ""
    if kind == "money":
        amount = Decimal(value)
        return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{float(value) * 100:.0f}%"
    if kind == "days":
        return f"{float(value):.1f}"
    return str(value)
