"""Appeal figures for the managers' dashboard and ``/api/analytics/appeal-success/``, aggregated in
the database. Denial figures live in ``denials.analytics``, whose
filters (``Filters``, ``filters_parse``) these share.

The figures read ``appeals.analytics_models.AppealLineFact``: one copy per appeal line with its
result (from ``WON``... below), money, recovered share and "modifier used" worked out by
``appeals.analytics_rollup`` with these rules, mostly through those copies added up per month
started and work queue (``AppealCell``: whole months from the cells, the days a date range cuts
and the appeals split across queues from the copies, ``_added_up``); an answer is kept until the
figures next change.

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

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Field, Q, QuerySet, Sum

from appeals import vocabulary as v
from appeals.analytics_models import DECIDED_RESULTS, AppealCell, AppealLineFact
from appeals.analytics_models import LOST as LOST_RESULT
from appeals.analytics_models import PARTIAL as PARTIAL_RESULT
from appeals.analytics_models import PENDING as PENDING_RESULT
from appeals.analytics_models import WITHDRAWN as WITHDRAWN_RESULT
from appeals.analytics_models import WON as WON_RESULT
from denials import vocabulary as denial_words
from denials.analytics import (
    NO_DATE,
    FilterError,
    Filters,
    cached_figure,
    facts_in_scope,
    month_key,
    month_span,
    split_dates,
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


def appeal_lines_for_figures(*, user: Any, filters: Filters, by_decision: bool = False) -> QuerySet[AppealLineFact]:
    """The appeals' lines behind every appeal figure (their copies in ``AppealLineFact``): lines of
    denials the user may see and the filters keep, of appeals started (or, ``by_decision``,
    decided) in the date range."""
    lines = facts_in_scope(AppealLineFact.objects.order_by(), user=user, filters=filters)
    if filters.payer_id:
        lines = lines.filter(denial_payer_id=filters.payer_id)
    field = "decided_on" if by_decision else "started_on"
    if filters.date_from:
        lines = lines.filter(**{f"{field}__gte": filters.date_from})
    if filters.date_to:
        lines = lines.filter(**{f"{field}__lte": filters.date_to})
    return lines


#: The lines' results (``AppealLineFact.result``, worked out with the Q objects above).
LINE_DECIDED = Q(result__in=DECIDED_RESULTS)


def _figures(
    lines: QuerySet[AppealLineFact], fields: tuple[str, ...] = (), mark: str | None = "first_appeal"
) -> list[dict[str, Any]]:
    """The figures of each group of ``fields`` (none: one row for all the lines), counting an
    appeal once per group and summing its lines' money.

    ``mark`` names the ``AppealLineFact`` mark of the grouping (``first_edit``...; ``first_appeal``
    for a grouping of the appeal itself): the appeals whose lines a filter keeps all or none of
    (not ``mixed``, nearly all) are counted in one pass by summing the marks; the mixed ones by
    ``_figures_appeal_by_appeal``, and the two added up. ``mark=None``: every line appeal by appeal
    (for a filter on a line's own keys, such as its category, which may keep part of an appeal)."""
    if mark is None:
        return _figures_appeal_by_appeal(lines, fields)
    counted = Q(**{mark: True})
    aggregates: dict[str, Any] = {
        "n": Count("pk", filter=counted),
        **{name: Count("pk", filter=counted & Q(result=result)) for name, result in RESULT_COLUMNS.items()},
        "at_stake": Sum("amount"),
        "decided_at_stake": Sum("amount", filter=LINE_DECIDED),
        "recovered": Sum("recovered", filter=LINE_DECIDED),
    }
    simple = lines.filter(mixed=False)
    if fields:
        found = [dict(r) for r in simple.values(*fields).annotate(**aggregates)]
    else:
        totals = simple.aggregate(**aggregates)
        found = [totals] if totals["n"] else []
    return _merged([found, _figures_appeal_by_appeal(lines.filter(mixed=True), fields)], fields)


def _merged(parts: list[list[dict[str, Any]]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Figures of disjoint sets of appeals (``_figures``' rows) added up group by group."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        for r in part:
            if not r or not r.get("n"):  # no lines at all
                continue
            key = tuple(r[f] for f in fields)
            if key not in merged:
                merged[key] = dict(r)
                continue
            kept = merged[key]
            for name in ("n", *RESULT_COLUMNS):
                kept[name] = (kept[name] or 0) + (r[name] or 0)
            for money in ("at_stake", "decided_at_stake", "recovered"):
                if r[money] is not None:
                    kept[money] = _money(kept[money]) + r[money]
    if not fields:
        return list(merged.values()) or [{}]
    return list(merged.values())


#: ``AppealCell.grouping`` of the cells that add up every appeal (grouped by nothing, or by the
#: month started), of those dated by decision (``recovered_by_month``), of first-level bundling.
ALL_CELLS, DECIDED_CELLS, BUNDLING_CELLS = "all", "decided", "bundling"


def _cell_groupings() -> dict[str, tuple[tuple[str, ...], str, Q]]:
    """Each ``AppealCell`` grouping: the line keys it keeps (besides the month and the queue), the
    counting mark it sums, and which lines it adds up (the figure's own narrowing)."""
    groupings: dict[str, tuple[tuple[str, ...], str, Q]] = {
        ALL_CELLS: ((), "first_appeal", Q()),
        DECIDED_CELLS: (("decided_month",), "first_appeal", LINE_DECIDED & Q(decided_on__isnull=False)),
        BUNDLING_CELLS: ((), "first_bundling", FIRST_LEVEL_BUNDLING),
    }
    for by in APPEAL_GROUPINGS:
        if by != "month":  # the month started: the ``all`` cells by month
            fields, mark, where = _grouping(by)
            groupings[by] = (fields, mark, where)
    return groupings


def _grouping(by: str) -> tuple[tuple[str, ...], str, Q]:
    """``appeal_success``'s grouping ``by``: the keys it groups on, its mark, which lines it counts."""
    mark = f"first_{by}" if by in LINE_GROUPINGS else "first_appeal"
    if by == "edit":
        return ("column1", "column2"), mark, ~Q(column1="") & ~Q(column2="")
    fields = {
        "carc": ("group_code", "carc"),
        "payer": ("payer_id",),
        "coder": ("coder_id",),
        "month": ("started_month",),
    }.get(by, (by,))  # category, modifier, level, specialty: a column of that name
    return fields, mark, Q()


def _cells_in_scope(*, user: Any, filters: Filters, grouping: str) -> QuerySet[AppealCell] | None:
    """The ``AppealCell`` rows of ``grouping`` in the user's scope and team (dates: by the caller);
    None when a filter names what the cells do not keep (a payer, a setting, a specialty)."""
    if filters.payer_id or filters.setting or filters.specialty:
        return None
    return facts_in_scope(AppealCell.objects.order_by(), user=user, filters=filters).filter(grouping=grouping)


def _cell_figures(cells: QuerySet[AppealCell], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    sums: dict[str, Any] = {
        name: Sum(name) for name in ("n", *RESULT_COLUMNS, "at_stake", "decided_at_stake", "recovered")
    }
    if not fields:
        return [cells.aggregate(**sums)]
    return [dict(r) for r in cells.values(*fields).annotate(**sums)]


def _month_end(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1) - dt.timedelta(days=1)


def _added_up(
    *, user: Any, filters: Filters, grouping: str, fields: tuple[str, ...], by_decision: bool = False
) -> list[dict[str, Any]]:
    """``_figures`` of the lines in the user's scope the filters keep, of one ``AppealCell``
    grouping: the whole months from the cells, plus, from the copies, the appeals split across
    queues in those months and every appeal of the days a date range cuts from a month. When a
    filter names what the cells do not keep, all from the copies."""
    _keys, mark, where = CELL_GROUPINGS[grouping]

    def lines(within: Filters) -> QuerySet[AppealLineFact]:
        return appeal_lines_for_figures(user=user, filters=within, by_decision=by_decision).filter(where)

    cells = _cells_in_scope(user=user, filters=filters, grouping=grouping)
    if cells is None:
        return _figures(lines(filters), fields, mark)
    month = "decided_month" if by_decision else "started_month"
    whole, edges = split_dates(filters.date_from, filters.date_to)
    parts: list[list[dict[str, Any]]] = []
    if whole is not None:
        first, last = whole
        if first is not None:
            cells = cells.filter(**{f"{month}__gte": first})
        if last is not None:
            cells = cells.filter(**{f"{month}__lte": last})
        months = dataclasses.replace(filters, date_from=first, date_to=_month_end(last) if last else None)
        parts.append(_cell_figures(cells, fields))
        parts.append(_figures_appeal_by_appeal(lines(months).filter(split_queue=True), fields))
    for low, high in edges:
        parts.append(_figures(lines(dataclasses.replace(filters, date_from=low, date_to=high)), fields, mark))
    return _merged(parts, fields)


#: The count columns of ``_figures``' rows and the result each counts.
RESULT_COLUMNS: dict[str, str] = {
    "won": WON_RESULT,
    "partial": PARTIAL_RESULT,
    "lost": LOST_RESULT,
    "pending": PENDING_RESULT,
    "withdrawn": WITHDRAWN_RESULT,
}


def _figures_appeal_by_appeal(lines: QuerySet[AppealLineFact], fields: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """``_figures`` without the marks. Two steps, so no COUNT(DISTINCT): first one row per group
    and appeal (all of an appeal's lines share its result), then the groups."""
    per_appeal = lines.values(*fields, "appeal_id", "result").annotate(
        at_stake=Sum("amount"),
        decided_at_stake=Sum("amount", filter=LINE_DECIDED),
        recovered=Sum("recovered", filter=LINE_DECIDED),
    )
    try:
        inner, params = per_appeal.query.sql_with_params()
    except EmptyResultSet:
        inner, params = "", ()
    if not inner:
        return [] if fields else [{}]
    keys = ", ".join(f"t.{connection.ops.quote_name(_column(f))}" for f in fields)
    counts = ", ".join(f"SUM(CASE WHEN t.result = %s THEN 1 ELSE 0 END) AS {name}" for name in RESULT_COLUMNS)
    sql = (
        f"SELECT {keys + ', ' if keys else ''}COUNT(*) AS n, {counts}, SUM(t.at_stake) AS at_stake, "  # noqa: S608
        f"SUM(t.decided_at_stake) AS decided_at_stake, SUM(t.recovered) AS recovered FROM ({inner}) t"
        + (f" GROUP BY {keys}" if keys else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*RESULT_COLUMNS.values(), *params])
        names = [c[0] for c in cursor.description]
        found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    cents = Decimal("0.01")
    for row in found:
        for money in ("at_stake", "decided_at_stake", "recovered"):  # SQLite's raw SUM is a float
            if row[money] is not None:
                row[money] = Decimal(str(row[money])).quantize(cents)
        # The key columns under the fields' names (a foreign key's column ends in _id).
        for f in fields:
            if _column(f) != f:
                row[f] = row.pop(_column(f))
    return found


def _column(name: str) -> str:
    field = AppealLineFact._meta.get_field(name)
    assert isinstance(field, Field)
    return str(field.column)


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


@cached_figure
def appeal_success(*, user: Any, filters: Filters, by: str, limit: int | None = None) -> list[SuccessRow]:
    """Appeal figures per group (see the module docstring); most appeals first (months in order,
    every month of the range, empty ones zero). Whole months from the cells, the rest from the
    copies (``_added_up``), and one look-up of names or codes."""
    if by not in APPEAL_GROUPINGS:
        raise FilterError("by", f"{by!r} is not a grouping; use one of {', '.join(APPEAL_GROUPINGS)}.")
    fields, _mark, _where = _grouping(by)
    grouping = ALL_CELLS if by == "month" else by
    found = _added_up(user=user, filters=filters, grouping=grouping, fields=fields)
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
        c1, c2 = r["column1"], r["column2"]
        return {"column1": c1, "column2": c2}, f"{c1} / {c2}"
    if by == "carc":
        group, carc = r["group_code"], r["carc"]
        return {"group_code": group, "carc": carc}, f"{group}-{carc}"
    if by == "category":
        slug = r["category"] or ""
        return {"category": slug}, denial_words.category_label(slug)
    if by == "modifier":
        modifier = r["modifier"] or ""
        return {"modifier": modifier}, modifier or "No modifier recorded"
    if by == "payer":
        return {"payer_id": r["payer_id"]}, ""
    if by == "level":
        return {"level": r["level"]}, v.label(v.LEVELS, r["level"])
    if by == "coder":
        return {"coder_id": r["coder_id"]}, ""
    if by == "specialty":
        return {"specialty": r["specialty"]}, r["specialty"]
    month = month_key(r["started_month"])
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


@cached_figure
def recovered_by_month(*, user: Any, filters: Filters) -> list[RecoveredMonth]:
    """Money recovered by the month the payer decided, with the amount at stake of the appeals
    decided then (their yield); every month of the range, empty ones zero (``_figures``)."""
    found: dict[str, dict[str, Any]] = {
        month_key(r["decided_month"]): {"n": r["n"], "recovered": r["recovered"], "at_stake": r["decided_at_stake"]}
        for r in _added_up(
            user=user, filters=filters, grouping=DECIDED_CELLS, fields=("decided_month",), by_decision=True
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
#: The lines of the first-level bundling figure (``bundling_first_level_success``).
FIRST_LEVEL_BUNDLING = Q(category__in=denial_words.BUNDLING_CATEGORIES, level__in=FIRST_LEVELS)
#: ``AppealCell``'s groupings (``_cell_groupings``), read by ``_added_up`` and written by
#: ``appeals.analytics_rollup``.
CELL_GROUPINGS: dict[str, tuple[tuple[str, ...], str, Q]] = _cell_groupings()


@cached_figure
def bundling_first_level_success(*, user: Any, filters: Filters) -> SuccessRow:
    """First-level appeals of bundling denials as one row: the figure the published 50-70%
    first-level bundling success (``appeals.reference_lines``) compares with."""
    found = _added_up(user=user, filters=filters, grouping=BUNDLING_CELLS, fields=())[0]
    return _row({}, "First-level appeals of bundling denials", found)


@cached_figure
def appeal_totals(*, user: Any, filters: Filters) -> SuccessRow:
    """Every appeal in scope as one row (the dashboard's headline and overall yield)."""
    found = _added_up(user=user, filters=filters, grouping=ALL_CELLS, fields=())[0]
    return _row({}, "All appeals", found)
