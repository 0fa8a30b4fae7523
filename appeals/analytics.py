"""Appeal figures for the managers' dashboard and ``/api/analytics/appeal-success/``, aggregated in
the database (one GROUP BY per figure). Denial figures live in ``denials.analytics``, whose
filters (``Filters``, ``filters_parse``) these share.

Definitions:

- **Which appeals, which lines**: the rows are an appeal's denied lines
  (``Appeal.denials.through``) whose denials the user may see (a manager's teams, an admin's
  all) and the filters keep (payer, team, setting, specialty: as in ``denials.analytics``).
- **Date** of an appeal: the day it was started (``created_at``); ``from``/``to`` and the month
  grouping use it, so a month's row follows the appeals started then to whatever became of
  them. "Recovered by month" is the exception: it is money, counted in the month the payer
  decided (``decided_on``).
- **Counting**: an appeal counts once in a group however many of its lines are in it, and its
  money is summed over those lines; for groupings of the appeal itself (payer, level, coder,
  month) that is all its lines. Grouped by a line's edit, CARC, category, specialty or modifier,
  an appeal with lines in two groups counts once in each, with the money of its lines there.
  A denial appealed at two levels is two appeals, each counted once.
- **Outcomes**: ``won`` = decided overturned; ``partial`` = decided partially paid; ``lost`` =
  decided upheld; ``pending`` = draft, ready or submitted; ``withdrawn`` (withdrawn before a
  decision, or decided "withdrawn") is reported on its own and is neither pending nor decided.
  ``appeals`` = won + partial + lost + pending + withdrawn.
- **success_rate** = (won + partial) / (won + partial + lost), a fraction 0-1; None (shown as
  "no decisions yet") when nothing in the group is decided.
- **amount_at_stake**: the lines' denied amounts, every appeal of the group; **decided_at_stake**:
  the same for decided appeals only; **amount_recovered**: each line's share of its appeal's
  recovered amount (``appeals.recovery``: largest line first, the rule that hands outcomes to the
  denials), decided appeals only. **Recovery yield** = recovered / decided_at_stake.
- **Modifier used**: for an appeal that was sent, the modifier its package asked the payer to
  read on that line's corrected line, kept when it was sent (``appeals.models.SentModifier``);
  for one not sent yet (or sent before those were kept), the modifier the team chose on the
  denial (``Denial.chosen_modifier``, which the package takes first). Blank is "No modifier
  recorded". ``modifier_used_sql`` is the one expression; the appeals list filters on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DateField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth

from appeals import vocabulary as v
from appeals.models import Appeal
from appeals.recovery import recovered_share_sql
from denials import vocabulary as denial_words
from denials.analytics import (
    NO_DATE,
    FilterError,
    Filters,
    denials_for_figures,
    month_key,
    month_span,
    specialties_of,
    specialty_case,
)

ZERO = Decimal("0")
APPEAL_GROUPINGS: tuple[str, ...] = (
    "edit",
    "carc",
    "category",
    "payer",
    "modifier",
    "level",
    "coder",
    "specialty",
    "month",
)
GROUPING_LABELS: dict[str, str] = {
    "edit": "NCCI edit",
    "carc": "CARC",
    "category": "Category",
    "payer": "Payer",
    "modifier": "Modifier used",
    "level": "Level",
    "coder": "Coder",
    "specialty": "Specialty",
    "month": "Month started",
}
#: Groupings read from the line (the others are the appeal's own).
LINE_GROUPINGS = frozenset({"edit", "carc", "category", "modifier", "specialty"})

DECIDED = Q(appeal__status=v.STATUS_DECIDED) & ~Q(appeal__outcome=v.OUTCOME_WITHDRAWN)
WON = Q(appeal__status=v.STATUS_DECIDED, appeal__outcome=v.OUTCOME_OVERTURNED)
PARTIAL = Q(appeal__status=v.STATUS_DECIDED, appeal__outcome=v.OUTCOME_PARTIALLY_PAID)
LOST = Q(appeal__status=v.STATUS_DECIDED, appeal__outcome=v.OUTCOME_UPHELD)
PENDING = Q(appeal__status__in=v.OPEN_STATUSES)
WITHDRAWN = Q(appeal__status=v.STATUS_WITHDRAWN) | Q(
    appeal__status=v.STATUS_DECIDED, appeal__outcome=v.OUTCOME_WITHDRAWN
)


@dataclass(frozen=True)
class SuccessRow:
    """One group's appeal figures. ``keys``: the group's keys as the API names them
    (``column1``/``column2`` for an edit, ``carc``, ``payer_id``...); ``label``: in words."""

    keys: dict[str, Any]
    label: str
    appeals: int
    won: int
    partial: int
    lost: int
    pending: int
    withdrawn: int
    amount_at_stake: Decimal
    decided_at_stake: Decimal
    amount_recovered: Decimal

    @property
    def decided(self) -> int:
        return self.won + self.partial + self.lost

    @property
    def success_rate(self) -> float | None:
        return round((self.won + self.partial) / self.decided, 4) if self.decided else None

    @property
    def recovery_yield(self) -> float | None:
        return round(float(self.amount_recovered / self.decided_at_stake), 4) if self.decided_at_stake > 0 else None


def modifier_used_sql(appeal: str = "appeal_id", denial: str = "denial_id") -> Any:
    """ "Modifier used" of one appeal's line (see the module docstring), as SQL over rows naming the
    appeal and the denial (``Appeal.denials.through`` by default)."""
    from django.db.models import CharField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from appeals.models import SentModifier

    sent = SentModifier.objects.filter(appeal_id=OuterRef(appeal), denial_id=OuterRef(denial)).values("modifier")[:1]
    return Coalesce(Subquery(sent, output_field=CharField()), F("denial__chosen_modifier"), output_field=CharField())


def appeal_lines_for_figures(*, user: Any, filters: Filters, by_decision: bool = False) -> QuerySet[Any]:
    """The appeals' lines behind every appeal figure: visible, filtered denials' through rows,
    of appeals started (or, ``by_decision``, decided) in the date range."""
    denials = denials_for_figures(user=user, filters=filters, dates=False)
    lines = Appeal.denials.through.objects.filter(denial_id__in=denials.values("pk"))
    field = "appeal__decided_on" if by_decision else "appeal__created_at__date"
    if filters.date_from:
        lines = lines.filter(**{f"{field}__gte": filters.date_from})
    if filters.date_to:
        lines = lines.filter(**{f"{field}__lte": filters.date_to})
    return lines.order_by()


def _figures() -> dict[str, Any]:
    share = recovered_share_sql()
    return {
        "n": Count("appeal_id", distinct=True),
        "won": Count("appeal_id", distinct=True, filter=WON),
        "partial": Count("appeal_id", distinct=True, filter=PARTIAL),
        "lost": Count("appeal_id", distinct=True, filter=LOST),
        "pending": Count("appeal_id", distinct=True, filter=PENDING),
        "withdrawn": Count("appeal_id", distinct=True, filter=WITHDRAWN),
        "at_stake": Sum("denial__amount"),
        "decided_at_stake": Sum("denial__amount", filter=DECIDED),
        "recovered": Sum(share, filter=DECIDED),
    }


def _money(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _row(keys: dict[str, Any], label: str, r: dict[str, Any] | None) -> SuccessRow:
    r = r or {}
    return SuccessRow(
        keys=keys,
        label=label,
        appeals=r.get("n") or 0,
        won=r.get("won") or 0,
        partial=r.get("partial") or 0,
        lost=r.get("lost") or 0,
        pending=r.get("pending") or 0,
        withdrawn=r.get("withdrawn") or 0,
        amount_at_stake=_money(r.get("at_stake")),
        decided_at_stake=_money(r.get("decided_at_stake")),
        amount_recovered=_money(r.get("recovered")),
    )


def appeal_success(*, user: Any, filters: Filters, by: str, limit: int | None = None) -> list[SuccessRow]:
    """Appeal figures per group (see the module docstring); most appeals first (months in order,
    every month of the range, empty ones zero). One GROUP BY (and one look-up of names or codes)."""
    if by not in APPEAL_GROUPINGS:
        raise FilterError("by", f"{by!r} is not a grouping; use one of {', '.join(APPEAL_GROUPINGS)}.")
    lines = appeal_lines_for_figures(user=user, filters=filters)
    fields: tuple[str, ...]
    if by == "edit":
        lines = lines.exclude(denial__ncci_column1="").exclude(denial__ncci_column2="")
        fields = ("denial__ncci_column1", "denial__ncci_column2")
    elif by == "carc":
        fields = ("denial__group_code", "denial__carc")
    elif by == "category":
        fields = ("denial__category",)
    elif by == "modifier":
        lines = lines.annotate(modifier_used=modifier_used_sql())
        fields = ("modifier_used",)
    elif by == "payer":
        fields = ("appeal__claim__payer_id",)
    elif by == "level":
        fields = ("appeal__level",)
    elif by == "coder":
        fields = ("appeal__created_by_id",)
    elif by == "specialty":
        codes = lines.values_list("denial__line__procedure_code", flat=True).distinct()
        lines = lines.annotate(specialty=specialty_case("denial__line__procedure_code", specialties_of(codes)))
        fields = ("specialty",)
    else:
        lines = lines.annotate(m=TruncMonth(TruncDate("appeal__created_at"), output_field=DateField()))
        fields = ("m",)
    found = list(lines.values(*fields).annotate(**_figures()))
    rows = [_row(*_keys_and_label(by, r), r) for r in found]
    if by == "month":
        by_month = {row.keys["month"]: row for row in rows}
        months = month_span(filters, by_month)
        out = [by_month.get(m) or _row({"month": m}, m, None) for m in months]
        if NO_DATE in by_month:
            out.append(by_month[NO_DATE])
        return out
    _name_people_and_payers(by, rows)
    rows.sort(key=lambda r: (-r.appeals, -r.amount_at_stake, r.label))
    return rows[:limit] if limit is not None else rows


def _keys_and_label(by: str, r: dict[str, Any]) -> tuple[dict[str, Any], str]:
    if by == "edit":
        c1, c2 = r["denial__ncci_column1"], r["denial__ncci_column2"]
        return {"column1": c1, "column2": c2}, f"{c1} / {c2}"
    if by == "carc":
        group, carc = r["denial__group_code"], r["denial__carc"]
        return {"group_code": group, "carc": carc}, f"{group}-{carc}"
    if by == "category":
        slug = r["denial__category"] or ""
        return {"category": slug}, denial_words.category_label(slug)
    if by == "modifier":
        modifier = r["modifier_used"] or ""
        return {"modifier": modifier}, modifier or "No modifier recorded"
    if by == "payer":
        return {"payer_id": r["appeal__claim__payer_id"]}, ""
    if by == "level":
        return {"level": r["appeal__level"]}, v.label(v.LEVELS, r["appeal__level"])
    if by == "coder":
        return {"coder_id": r["appeal__created_by_id"]}, ""
    if by == "specialty":
        return {"specialty": r["specialty"]}, r["specialty"]
    month = month_key(r["m"])
    return {"month": month}, month


def _name_people_and_payers(by: str, rows: list[SuccessRow]) -> None:
    """Payer names and usernames for the payer and coder groupings: one query for all rows."""
    if by not in ("payer", "coder"):
        return
    from django.contrib.auth import get_user_model

    from denials.models import Payer

    key = "payer_id" if by == "payer" else "coder_id"
    ids = [r.keys[key] for r in rows if r.keys[key] is not None]
    if by == "payer":
        names = dict(Payer.objects.filter(pk__in=ids).values_list("pk", "name"))
    else:
        user_model = get_user_model()
        names = dict(user_model.objects.filter(pk__in=ids).values_list("pk", user_model.USERNAME_FIELD))
    for i, row in enumerate(rows):
        ident = row.keys[key]
        label = names.get(ident, "") if ident is not None else ("No one recorded" if by == "coder" else "")
        rows[i] = SuccessRow(**{**row.__dict__, "label": label or f"#{ident}"})


@dataclass(frozen=True)
class RecoveredMonth:
    month: str
    appeals_decided: int
    amount_recovered: Decimal
    decided_at_stake: Decimal

    @property
    def recovery_yield(self) -> float | None:
        return round(float(self.amount_recovered / self.decided_at_stake), 4) if self.decided_at_stake > 0 else None


def recovered_by_month(*, user: Any, filters: Filters) -> list[RecoveredMonth]:
    """Money recovered by the month the payer decided, with the amount at stake of the appeals
    decided then (their yield); every month of the range, empty ones zero. One GROUP BY."""
    lines = (
        appeal_lines_for_figures(user=user, filters=filters, by_decision=True)
        .filter(DECIDED, appeal__decided_on__isnull=False)
        .annotate(m=TruncMonth("appeal__decided_on", output_field=DateField()))
    )
    share = recovered_share_sql()
    found = {
        month_key(r["m"]): r
        for r in lines.values("m").annotate(
            n=Count("appeal_id", distinct=True), recovered=Sum(share), at_stake=Sum(F("denial__amount"))
        )
    }
    return [
        RecoveredMonth(
            month=m,
            appeals_decided=(found.get(m) or {}).get("n") or 0,
            amount_recovered=_money((found.get(m) or {}).get("recovered")),
            decided_at_stake=_money((found.get(m) or {}).get("at_stake")),
        )
        for m in month_span(filters, found)
    ]


#: First levels of every ladder: where the published bundling success rate applies.
FIRST_LEVELS: tuple[str, ...] = (v.LEVEL_FIRST, v.LEVEL_REDETERMINATION, v.LEVEL_REOPENING)


def bundling_first_level_success(*, user: Any, filters: Filters) -> SuccessRow:
    """First-level appeals of bundling denials as one row: the figure the published 50-70%
    first-level bundling success (``appeals.reference_lines``) compares with."""
    found = (
        appeal_lines_for_figures(user=user, filters=filters)
        .filter(denial__category__in=denial_words.BUNDLING_CATEGORIES, appeal__level__in=FIRST_LEVELS)
        .aggregate(**_figures())
    )
    return _row({}, "First-level appeals of bundling denials", found)


def appeal_totals(*, user: Any, filters: Filters) -> SuccessRow:
    """Every appeal in scope as one row (the dashboard's headline and overall yield)."""
    found = appeal_lines_for_figures(user=user, filters=filters).aggregate(**_figures())
    return _row({}, "All appeals", found)
