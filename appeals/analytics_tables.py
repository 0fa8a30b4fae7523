"""The dashboard's tables, built once from ``denials.analytics`` and ``appeals.analytics`` and read
by the page (HTML table, chart data) and the CSV export alike, so the three cannot disagree.

A cell may link to the rows behind it: the worklist (``/worklist/?queue=all&status=all&...``)
or the appeals list (``/appeals/?...``), but only when that list can apply every filter in force
and the group's own key; otherwise the number is shown without a link rather than linking to a
list that would show other rows. What the lists cannot filter yet (remittance or start date,
team, setting, specialty; on the appeals list also CARC, category and modifier) is listed in
/tmp/merge/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from appeals import analytics as appeal_figures
from appeals import reference_lines
from appeals.analytics import APPEAL_GROUPINGS, GROUPING_LABELS, SuccessRow
from denials import analytics as denial_figures
from denials.analytics import Filters

#: The edit table's length on the page (the CSV has every row).
TOP_EDITS = 20
MONTHS_NOTE = (
    f"Without a start date, the last {denial_figures.DEFAULT_MONTHS} months up to the latest month with data; "
    "set From for earlier months."
)


TITLE_WORDS = {
    "edit": "NCCI edit",
    "carc": "CARC",
    "category": "category",
    "payer": "payer",
    "modifier": "modifier used",
    "level": "level",
    "coder": "coder",
    "specialty": "specialty",
    "month": "month started",
}


def _months_note(filters: Filters) -> str:
    return "" if filters.date_from else MONTHS_NOTE


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: str = "text"  # text, int, money, rate, days

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass(frozen=True)
class Cell:
    value: Any
    href: str = ""


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    #: Rows the page shows (the CSV has them all); None: every row.
    page_limit: int | None = None
    chart: dict[str, Any] | None = None

    @property
    def page_rows(self) -> list[list[Cell]]:
        return self.rows[: self.page_limit] if self.page_limit is not None else self.rows

    @property
    def page_cells(self) -> list[list[tuple[Cell, Column]]]:
        """The page's rows with each cell's column (the template formats by the column's kind)."""
        return [list(zip(row, self.columns, strict=True)) for row in self.page_rows]


# --- Links -------------------------------------------------------------------------------------
def _unfilterable(filters: Filters, supported: set[str]) -> bool:
    used = set(filters.as_params())
    return bool(used - supported)


def worklist_link(
    filters: Filters, *, active_only: bool = False, params: dict[str, str] | None = None, **more: str
) -> str:
    """The worklist with these filters (every queue the user may see), or "" when a filter in
    force has no worklist equivalent."""
    if _unfilterable(filters, {"payer"}):
        return ""
    query = {"queue": "all", **({} if active_only else {"status": "all"})}
    if filters.payer_id:
        query["payer"] = str(filters.payer_id)
    query.update({k: v for k, v in {**(params or {}), **more}.items() if v})
    return f"{reverse('denials:worklist')}?{urlencode(query)}"


def appeals_link(filters: Filters, **params: str) -> str:
    """The appeals list with these filters, or "" when one has no equivalent there."""
    if _unfilterable(filters, {"payer"}):
        return ""
    query = {"payer": str(filters.payer_id)} if filters.payer_id else {}
    query.update({k: v for k, v in params.items() if v})
    return f"{reverse('appeals:list')}?{urlencode(query)}" if query else reverse("appeals:list")


def scrubber_link(*, column1: str, column2: str, setting: str) -> str:
    """The scrubber with the pair on two lines (the GET prefill is requested in the merge note)."""
    query = {"line-0-code": column1, "line-1-code": column2}
    if setting:
        query["setting"] = setting
    return f"{reverse('ncci:scrub')}?{urlencode(query)}"


# --- Appeal success ----------------------------------------------------------------------------
SUCCESS_COLUMNS = [
    Column("appeals", "Appeals", "int"),
    Column("won", "Won", "int"),
    Column("partial", "Partly won", "int"),
    Column("lost", "Lost", "int"),
    Column("pending", "Pending", "int"),
    Column("withdrawn", "Withdrawn", "int"),
    Column("success_rate", "Success rate", "rate"),
    Column("amount_at_stake", "At stake", "money"),
    Column("amount_recovered", "Recovered", "money"),
]


def _appeal_link_params(by: str, row: SuccessRow) -> dict[str, str] | None:
    """The appeals list's filters for one group, or None when the list has no such filter."""
    if by == "edit":
        return {"column1": row.keys["column1"], "column2": row.keys["column2"]}
    if by == "payer":
        return {"payer": str(row.keys["payer_id"])}
    if by == "level":
        return {"level": row.keys["level"]}
    return None  # CARC, category, modifier, specialty, month; "coder" there also means assignee


def _success_cells(row: SuccessRow, href: str) -> list[Cell]:
    return [
        Cell(row.appeals, href),
        Cell(row.won),
        Cell(row.partial),
        Cell(row.lost),
        Cell(row.pending),
        Cell(row.withdrawn),
        Cell(row.success_rate),
        Cell(row.amount_at_stake),
        Cell(row.amount_recovered),
    ]


def appeal_success_table(*, user: Any, filters: Filters, by: str) -> Table:
    rows = appeal_figures.appeal_success(user=user, filters=filters, by=by)
    keys = (
        [Column("column1", "Column 1"), Column("column2", "Column 2")]
        if by == "edit"
        else [Column("group", GROUPING_LABELS[by])]
    )
    table = Table(
        id=f"appeal-success-{by}",
        title=f"Appeal success by {TITLE_WORDS[by]}",
        columns=[*keys, *SUCCESS_COLUMNS],
        page_limit=TOP_EDITS if by == "edit" else None,
        note=_months_note(filters) if by == "month" else "",
    )
    for row in rows:
        params = _appeal_link_params(by, row)
        href = appeals_link(filters, **params) if params is not None else ""
        key_cells = [Cell(row.keys["column1"]), Cell(row.keys["column2"])] if by == "edit" else [Cell(row.label)]
        table.rows.append([*key_cells, *_success_cells(row, href)])
    shown = rows[: table.page_limit] if table.page_limit else rows
    table.chart = {
        "type": "bar",
        "format": "rate",
        "labels": [r.label for r in shown],
        "datasets": [{"label": "Success rate", "data": [r.success_rate for r in shown]}],
        "links": [row[len(keys)].href for row in table.page_rows],
    }
    if by == "edit":
        table.note = (
            f"The {TOP_EDITS} edits with the most appeals; the CSV has all {len(rows)}."
            if len(rows) > TOP_EDITS
            else ""
        )
    return table


# --- Denials -----------------------------------------------------------------------------------
DENIAL_TITLES = {"category": "Category", "payer": "Payer", "month": "Month (remittance date)", "carc": "CARC"}


def denials_table(*, user: Any, filters: Filters, by: str) -> Table:
    rows = denial_figures.denial_counts(user=user, filters=filters, by=by)
    table = Table(
        id=f"denials-{by}",
        title=f"Denials by {DENIAL_TITLES[by].split(' (')[0].lower()}",
        columns=[
            Column("group", DENIAL_TITLES[by]),
            Column("count", "Denials", "int"),
            Column("amount", "Dollars", "money"),
        ],
        note=_months_note(filters) if by == "month" else "",
    )
    for row in rows:
        if by == "month":
            href = ""
        else:
            param = {"category": "category", "payer": "payer", "carc": "carc"}[by]
            href = worklist_link(filters, params={param: row.key}) if row.key else ""
            if by == "payer" and filters.payer_id and str(filters.payer_id) != row.key:
                href = ""
        table.rows.append([Cell(row.label), Cell(row.count, href), Cell(row.amount, href)])
    table.chart = {
        "type": "bar",
        "format": "money",
        "labels": [r.label for r in rows],
        "datasets": [{"label": "Dollars denied", "data": [str(r.amount) for r in rows]}],
        "links": [row[1].href for row in table.rows],
    }
    return table


def denial_trend_table(*, user: Any, filters: Filters) -> Table:
    """Dollars denied per month (rows) and category (columns), with each month's total."""
    series = denial_figures.denial_trend(user=user, filters=filters, by="category")
    zero = (0, Decimal("0"))
    table = Table(
        id="denial-trend",
        title="Dollars denied by category and month",
        columns=[
            Column("month", "Month (remittance date)"),
            *(Column(key or "none", label, "money") for key, label in series.keys),
            Column("total", "All categories", "money"),
        ],
        note=_months_note(filters),
    )
    for month in series.months:
        amounts = [series.cells.get(key, {}).get(month, zero)[1] for key, _label in series.keys]
        table.rows.append([Cell(month), *(Cell(a) for a in amounts), Cell(sum(amounts, Decimal("0")))])
    table.chart = {
        "type": "bar",
        "stacked": True,
        "format": "money",
        "labels": series.months,
        "datasets": [
            {"label": label, "data": [str(series.cells.get(key, {}).get(m, zero)[1]) for m in series.months]}
            for key, label in series.keys
        ],
        "links": [],
    }
    return table


def _reference_words(figure: str) -> str:
    lines = reference_lines.for_figure(figure)
    return "; ".join(f"{line.words}: {line.label} ({line.source})" for line in lines)


def denial_rate_table(*, user: Any, filters: Filters) -> Table:
    rate = denial_figures.denial_rate(user=user, filters=filters)
    table = Table(
        id="denial-rate",
        title="Denial rate",
        columns=[
            Column("denied_claims", "Claims with a denial", "int"),
            Column("claims", "Claims answered", "int"),
            Column("claim_rate", "Rate by claims", "rate"),
            Column("denied", "Dollars denied", "money"),
            Column("billed", "Dollars billed", "money"),
            Column("dollar_rate", "Rate by dollars", "rate"),
            Column("reference_claims", "Published, by claims"),
            Column("reference_dollars", "Published, by charges"),
        ],
        note=(
            "Denied: the denials in scope (your teams' unless you are an admin). Billed: every claim the "
            "payers answered in the period (reversals excluded), whichever team works it."
        ),
    )
    table.rows.append(
        [
            Cell(rate.denied_claims),
            Cell(rate.claims),
            Cell(rate.count_rate),
            Cell(rate.denied),
            Cell(rate.billed),
            Cell(rate.dollar_rate),
            Cell(_reference_words("denial-rate-claims")),
            Cell(_reference_words("denial-rate-dollars")),
        ]
    )
    published = {line.figure: line for line in reference_lines.reference_lines()}
    claims_ref, dollars_ref = published.get("denial-rate-claims"), published.get("denial-rate-dollars")
    table.chart = {
        "type": "bar",
        "format": "rate",
        "labels": ["By claims", "By dollars"],
        "datasets": [
            {"label": "Yours", "data": [rate.count_rate, rate.dollar_rate]},
            {
                "label": "Published (see the sources in the table)",
                "data": [claims_ref.high if claims_ref else None, dollars_ref.high if dollars_ref else None],
            },
        ],
        "links": [],
    }
    return table


def write_offs_table(*, user: Any, filters: Filters) -> Table:
    table = Table(
        id="write-offs",
        title="Write-offs by reason",
        columns=[
            Column("reason", "Reason given"),
            Column("count", "Denials", "int"),
            Column("amount", "Dollars", "money"),
        ],
    )
    for row in denial_figures.write_offs(user=user, filters=filters):
        table.rows.append([Cell(row.label), Cell(row.count), Cell(row.amount)])
    return table


def days_table(*, user: Any, filters: Filters) -> Table:
    days = denial_figures.days_to_resolve(user=user, filters=filters)
    table = Table(
        id="days-to-resolve",
        title="Days to resolve",
        columns=[Column("denials", "Denials finished", "int"), Column("average_days", "Average days", "days")],
        note="From the remittance date to the day the outcome was recorded: corrected, written off, "
        "billed to the patient, or paid on appeal.",
    )
    table.rows.append([Cell(days.denials), Cell(days.average_days)])
    return table


def aging_table(*, user: Any, filters: Filters, today: dt.date | None = None) -> Table:
    table = Table(
        id="aging",
        title="Open work by age",
        columns=[
            Column("age", "Days since the remittance"),
            Column("count", "Denials", "int"),
            Column("amount", "Dollars", "money"),
        ],
    )
    buckets = denial_figures.aging(user=user, filters=filters, today=today)
    for bucket in buckets:
        href = worklist_link(filters, active_only=True, age=bucket.key) if bucket.key != denial_figures.NO_DATE else ""
        table.rows.append([Cell(bucket.label), Cell(bucket.count, href), Cell(bucket.amount, href)])
    table.chart = {
        "type": "bar",
        "format": "money",
        "labels": [b.label for b in buckets],
        "datasets": [{"label": "Dollars still open", "data": [str(b.amount) for b in buckets]}],
        "links": [row[1].href for row in table.rows],
    }
    return table


def recovered_table(*, user: Any, filters: Filters) -> Table:
    months = appeal_figures.recovered_by_month(user=user, filters=filters)
    table = Table(
        id="recovered",
        title="Recovered by month of decision",
        columns=[
            Column("month", "Month decided"),
            Column("decided", "Appeals decided", "int"),
            Column("recovered", "Recovered", "money"),
            Column("at_stake", "At stake (decided)", "money"),
            Column("yield", "Recovery yield", "rate"),
        ],
        note="Recovery yield: dollars recovered over dollars at stake on the appeals the payers decided. "
        + _months_note(filters),
    )
    for m in months:
        table.rows.append(
            [
                Cell(m.month),
                Cell(m.appeals_decided),
                Cell(m.amount_recovered),
                Cell(m.decided_at_stake),
                Cell(m.recovery_yield),
            ]
        )
    table.chart = {
        "type": "bar",
        "format": "money",
        "labels": [m.month for m in months],
        "datasets": [{"label": "Recovered", "data": [str(m.amount_recovered) for m in months]}],
        "links": [],
    }
    return table


def prevention_table(*, user: Any, filters: Filters) -> Table:
    table = Table(
        id="prevention",
        title="What prevention would save",
        columns=[
            Column("category", "Why denied"),
            Column("column1", "Column 1"),
            Column("column2", "Column 2"),
            Column("setting", "Setting"),
            Column("provider", "Rendering provider"),
            Column("npi", "NPI"),
            Column("count", "Denials", "int"),
            Column("amount", "Dollars", "money"),
        ],
        note="Not appealable (modifier indicator 0): a scrubber rule would have stopped the claim. "
        "Modifier may apply: a documentation prompt would have added the modifier. Each pair opens in the scrubber.",
        page_limit=50,
    )
    from ncci.models import Setting

    setting_words = dict(Setting.choices)
    for row in denial_figures.prevention(user=user, filters=filters):
        scrub = scrubber_link(column1=row.column1, column2=row.column2, setting=row.setting) if row.column1 else ""
        listed = worklist_link(filters, category=row.category, column1=row.column1, column2=row.column2)
        table.rows.append(
            [
                Cell(row.category_label),
                Cell(row.column1, scrub),
                Cell(row.column2, scrub),
                Cell(setting_words.get(row.setting, row.setting)),
                Cell(row.provider_name or "Not on the remittance"),
                Cell(row.provider_npi),
                Cell(row.count, listed),
                Cell(row.amount, listed),
            ]
        )
    return table


def bundling_table(*, user: Any, filters: Filters) -> Table:
    row = appeal_figures.bundling_first_level_success(user=user, filters=filters)
    lines = reference_lines.for_figure("appeal-success-bundling-first-level")
    table = Table(
        id="bundling-first-level",
        title="First-level appeals of bundling denials",
        columns=[*SUCCESS_COLUMNS, Column("reference", "Published figure")],
    )
    table.rows.append([*_success_cells(row, ""), Cell(_reference_words("appeal-success-bundling-first-level"))])
    ref = lines[0] if lines else None
    table.chart = {
        "type": "bar",
        "format": "rate",
        "labels": ["Success rate"],
        "datasets": [
            {"label": "Yours", "data": [row.success_rate]},
            *(
                [{"label": "Published, low", "data": [ref.low]}, {"label": "Published, high", "data": [ref.high]}]
                if ref
                else []
            ),
        ],
        "links": [],
    }
    return table


# --- All of them -----------------------------------------------------------------------------------
def table_ids() -> list[str]:
    return [
        *(f"appeal-success-{by}" for by in APPEAL_GROUPINGS),
        "bundling-first-level",
        *(f"denials-{by}" for by in denial_figures.DENIAL_GROUPINGS),
        "denial-trend",
        "denial-rate",
        "write-offs",
        "days-to-resolve",
        "aging",
        "recovered",
        "prevention",
    ]


def build_table(*, table_id: str, user: Any, filters: Filters, today: dt.date | None = None) -> Table:
    """One table by its id (``table_ids``); ``KeyError`` for an unknown id."""
    if table_id.startswith("appeal-success-") and table_id.removeprefix("appeal-success-") in APPEAL_GROUPINGS:
        return appeal_success_table(user=user, filters=filters, by=table_id.removeprefix("appeal-success-"))
    if table_id.startswith("denials-") and table_id.removeprefix("denials-") in denial_figures.DENIAL_GROUPINGS:
        return denials_table(user=user, filters=filters, by=table_id.removeprefix("denials-"))
    builders = {
        "bundling-first-level": bundling_table,
        "denial-trend": denial_trend_table,
        "denial-rate": denial_rate_table,
        "write-offs": write_offs_table,
        "days-to-resolve": days_table,
        "recovered": recovered_table,
        "prevention": prevention_table,
    }
    if table_id == "aging":
        return aging_table(user=user, filters=filters, today=today)
    return builders[table_id](user=user, filters=filters)


def csv_value(cell: Cell, column: Column) -> str:
    """A cell as the CSV holds it: money with two decimals, rates as fractions, blanks for none."""
    value = cell.value
    if value is None:
        return ""
    if column.kind == "money" or isinstance(value, Decimal):
        return f"{Decimal(value):.2f}"
    return str(value)
