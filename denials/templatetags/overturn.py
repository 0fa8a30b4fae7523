"""Small template helpers: money, code meanings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def money(value: Any) -> str:
    """$1,234.56 (negative amounts as -$1,234.56); blank for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def lookup(mapping: Any, key: str) -> Any:
    if not mapping:
        return ""
    return mapping.get(key, "")


@register.simple_tag
def code_chip(kind: str, code: str, descriptions: dict[str, str] | None = None, label: str = "") -> str:
    """A code with its meaning on hover and focus, e.g. CO-97 with the CARC 97 description."""
    meaning = (descriptions or {}).get(f"{kind}:{code}", "") or "No description on file"
    return format_html('<abbr class="code" tabindex="0" title="{}">{}</abbr>', meaning, label or code)


@register.simple_tag
def describe(kind: str, code: str, descriptions: dict[str, str] | None = None) -> str:
    """The plain-words meaning of a code, or a note that none is on file."""
    return (descriptions or {}).get(f"{kind}:{code}", "") or "no description on file"
