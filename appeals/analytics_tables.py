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
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import get_script_prefix, reverse

from appeals import analytics as appeal_figures
from appeals import reference_lines
from appeals.analytics import APPEAL_GROUPINGS, GROUPING_LABELS, SuccessRow
from denials import analytics as denial_figures
from denials.analytics import Filters, cached_figure

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
def _list_url(name: str) -> str:
    """``reverse(name)`` of a list without arguments, worked out once per script prefix (a page
    builds thousands of links to the same three lists)."""
    return _reversed(name, get_script_prefix())


@functools.cache
def _reversed(name: str, prefix: str) -> str:
    return reverse(name)


def _clip(filters: Filters, first: dt.date | None, last: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """A group's own date range (a month) inside the filter's range."""
    low = max((d for d in (first, filters.date_from) if d is not None), default=None)
    high = min((d for d in (last, filters.date_to) if d is not None), default=None)
    return low, high


def month_range(month: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of "YYYY-MM" (None for anything else, e.g. "no date")."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        return None
    following = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def worklist_link(
    filters: Filters,
    *,
    active_only: bool = False,
    params: dict[str, str] | None = None,
    dates: tuple[dt.date | None, dt.date | None] | None = None,
    **more: str,
) -> str:
    """The worklist showing exactly the denials a number counts: every queue the user may see,
    any status (``active_only``: the work still to do), the dashboard's filters (remittance
    dates, payer, team, setting, specialty) and the group's own keys. ``dates``: the group's
    own remittance-date range (a month), kept inside the filter's."""
    low, high = _clip(filters, *(dates or (None, None)))
    query = {"queue": "all", **({} if active_only else {"status": "all"})}
    query.update(
        {
            "remitted_from": low.isoformat() if low else "",
            "remitted_to": high.isoformat() if high else "",
            "payer": str(filters.payer_id) if filters.payer_id else "",
            "team": str(filters.team_id) if filters.team_id else "",
            "setting": filters.setting,
            "specialty": filters.specialty,
        }
    )
    query.update({**(params or {}), **more})
    return f"{_list_url('denials:worklist')}?{urlencode({k: v for k, v in query.items() if v})}"


def appeals_link(
    filters: Filters,
    *,
    by_decision: bool = False,
    dates: tuple[dt.date | None, dt.date | None] | None = None,
    **params: str,
) -> str:
    """The appeals list showing exactly the appeals a number counts: the dashboard's filters
    (start date, or with ``by_decision`` the decision date; payer, team, setting, specialty) and
    the group's own keys (``appeals.filters``)."""
    low, high = _clip(filters, *(dates or (None, None)))
    prefix = "decided" if by_decision else "started"
    query = {
        f"{prefix}_from": low.isoformat() if low else "",
        f"{prefix}_to": high.isoformat() if high else "",
        "payer": str(filters.payer_id) if filters.payer_id else "",
        "team": str(filters.team_id) if filters.team_id else "",
        "setting": filters.setting,
        "specialty": filters.specialty,
        **params,
    }
    query = {k: v for k, v in query.items() if v}
    return f"{_list_url('appeals:list')}?{urlencode(query)}" if query else _list_url("appeals:list")


def scrubber_link(*, column1: str, column2: str, setting: str) -> str:
    """The scrubber with the pair on two lines (the GET prefill is requested in the merge note)."""
    query = {"line-0-code": column1, "line-1-code": column2}
    if setting:
        query["setting"] = setting
    return f"{_list_url('ncci:scrub')}?{urlencode(query)}"


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


def _appeal_link_params(by: str, row: SuccessRow) -> dict[str, Any] | None:
    """The appeals list's filters for one group, or None for a group no list can show (an appeal
    nobody is recorded as starting; a month with no date)."""
    keys = row.keys
    if by == "edit":
        return {"column1": keys["column1"], "column2": keys["column2"]}
    if by == "carc":
        return {"carc": f"{keys['group_code']}-{keys['carc']}" if keys["group_code"] else keys["carc"]}
    if by == "category":
        return {"category": keys["category"]} if keys["category"] else None
    if by == "modifier":
        return {"modifier": keys["modifier"] or "none"}
    if by == "payer":
        return {"payer": str(keys["payer_id"])}
    if by == "level":
        return {"level": keys["level"]}
    if by == "coder":
        return {"created_by": str(keys["coder_id"])} if keys["coder_id"] is not None else None
    if by == "specialty":
        return {"specialty": keys["specialty"]}
    span = month_range(keys["month"])
    return {"dates": span} if span is not None else None


def _success_cells(row: SuccessRow, link: Any) -> list[Cell]:
    """``link(outcome)``: the list behind a cell ("" for none); rates and recovered money count
    the decided appeals, at stake every appeal of the group."""
    return [
        Cell(row.appeals, link("")),
        Cell(row.won, link("overturned")),
        Cell(row.partial, link("partially-paid")),
        Cell(row.lost, link("upheld")),
        Cell(row.pending, link("pending")),
        Cell(row.withdrawn, link("withdrawn")),
        Cell(row.success_rate, link("decided")),
        Cell(row.amount_at_stake, link("")),
        Cell(row.amount_recovered, link("decided")),
    ]


def _success_link(filters: Filters, params: dict[str, Any] | None) -> Any:
    def link(outcome: str) -> str:
        if params is None:
            return ""
        extra = {k: v for k, v in params.items() if k != "dates"}
        if outcome:
            extra["outcome"] = outcome
        return appeals_link(filters, dates=params.get("dates"), **extra)

    return link


def appeal_success_table(*, user: Any, filters: Filters, by: str) -> Table:
    rows = appeal_figures.appeal_success(user=user, filters=filters, by=by)
    keys = (
        [Column("column1", "Column 1"), Column("column2", "Column 2")]
        if by == "edit"
        else [Column("group", GROUPING_LABELS[by])]
    )
    table = Table(
        id=f"appeal-success-{by}",
        title=table_title(f"appeal-success-{by}"),
        columns=[*keys, *SUCCESS_COLUMNS],
        page_limit=TOP_EDITS if by == "edit" else None,
        note=_months_note(filters) if by == "month" else "",
    )
    for i, row in enumerate(rows):
        # Rows past the page's length are in the CSV only, which has no links: none built for them.
        shown_on_page = table.page_limit is None or i < table.page_limit
        link = _success_link(filters, _appeal_link_params(by, row) if shown_on_page else None)
        key_cells = [Cell(row.keys["column1"]), Cell(row.keys["column2"])] if by == "edit" else [Cell(row.label)]
        table.rows.append([*key_cells, *_success_cells(row, link)])
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
        title=table_title(f"denials-{by}"),
        columns=[
            Column("group", DENIAL_TITLES[by]),
            Column("count", "Denials", "int"),
            Column("amount", "Dollars", "money"),
        ],
        note=_months_note(filters) if by == "month" else "",
    )
    for row in rows:
        if by == "month":
            span = month_range(row.key)
            href = worklist_link(filters, dates=span) if span is not None else ""
        else:
            param = {"category": "category", "payer": "payer", "carc": "carc"}[by]
            href = worklist_link(filters, params={param: row.key}) if row.key else ""
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
        title=table_title("denial-trend"),
        columns=[
            Column("month", "Month (remittance date)"),
            *(Column(key or "none", label, "money") for key, label in series.keys),
            Column("total", "All categories", "money"),
        ],
        note=_months_note(filters),
    )
    links: dict[tuple[str, str], str] = {}
    for month in series.months:
        span = month_range(month)
        for key, _label in series.keys:
            links[(key, month)] = worklist_link(filters, dates=span, category=key) if key else ""
        amounts = [series.cells.get(key, {}).get(month, zero)[1] for key, _label in series.keys]
        table.rows.append(
            [
                Cell(month),
                *(Cell(a, links[(key, month)]) for a, (key, _label) in zip(amounts, series.keys, strict=True)),
                Cell(sum(amounts, Decimal("0")), worklist_link(filters, dates=span)),
            ]
        )
    table.chart = {
        "type": "bar",
        "stacked": True,
        "format": "money",
        "labels": series.months,
        "datasets": [
            {"label": label, "data": [str(series.cells.get(key, {}).get(m, zero)[1]) for m in series.months]}
            for key, label in series.keys
        ],
        # One list per dataset (category), one link per month.
        "links": [[links[(key, m)] for m in series.months] for key, _label in series.keys],
    }
    return table


def _reference_words(figure: str, shown: list[reference_lines.ReferenceLine]) -> str:
    """The published figures for a cell: short ("about 15%"); the table's note names them."""
    return "; ".join(line.words for line in reference_lines.for_figure(figure, shown))


def _reference_note(figures: list[str], shown: list[reference_lines.ReferenceLine]) -> str:
    """What each published figure is and who published it, for a table's note."""
    lines = [line for figure in figures for line in reference_lines.for_figure(figure, shown)]
    return " ".join(f"Published {line.words}: {line.label} ({line.source})." for line in lines)


def denial_rate_table(*, user: Any, filters: Filters) -> Table:
    rate = denial_figures.denial_rate(user=user, filters=filters)
    denied = worklist_link(filters)
    table = Table(
        id="denial-rate",
        title=table_title("denial-rate"),
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
    shown = reference_lines.reference_lines()
    table.note += " " + _reference_note(
        [reference_lines.DENIAL_RATE_CLAIMS, reference_lines.DENIAL_RATE_DOLLARS], shown
    )
    table.rows.append(
        [
            Cell(rate.denied_claims),  # claims, not the list's rows (denials): the dollars link
            Cell(rate.claims),
            Cell(rate.count_rate),
            Cell(rate.denied, denied),
            Cell(rate.billed),
            Cell(rate.dollar_rate),
            Cell(_reference_words(reference_lines.DENIAL_RATE_CLAIMS, shown)),
            Cell(_reference_words(reference_lines.DENIAL_RATE_DOLLARS, shown)),
        ]
    )
    published = {line.figure: line for line in shown}
    claims_ref, dollars_ref = (
        published.get(reference_lines.DENIAL_RATE_CLAIMS),
        published.get(reference_lines.DENIAL_RATE_DOLLARS),
    )
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
        title=table_title("write-offs"),
        columns=[
            Column("reason", "Reason given"),
            Column("count", "Denials", "int"),
            Column("amount", "Dollars", "money"),
        ],
    )
    for row in denial_figures.write_offs(user=user, filters=filters):
        href = worklist_link(filters, status="written-off", reason_given=row.key) if row.key else ""
        table.rows.append([Cell(row.label), Cell(row.count, href), Cell(row.amount, href)])
    return table


def days_table(*, user: Any, filters: Filters) -> Table:
    days = denial_figures.days_to_resolve(user=user, filters=filters)
    table = Table(
        id="days-to-resolve",
        title=table_title("days-to-resolve"),
        columns=[Column("denials", "Denials finished", "int"), Column("average_days", "Average days", "days")],
        note="From the remittance date to the day the outcome was recorded: corrected, written off, "
        "billed to the patient, or paid on appeal.",
    )
    href = worklist_link(filters, status="finished")
    table.rows.append([Cell(days.denials, href), Cell(days.average_days, href)])
    return table


def aging_table(*, user: Any, filters: Filters, today: dt.date | None = None) -> Table:
    table = Table(
        id="aging",
        title=table_title("aging"),
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
        title=table_title("recovered"),
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
        span = month_range(m.month)
        href = appeals_link(filters, by_decision=True, dates=span, outcome="decided") if span else ""
        table.rows.append(
            [
                Cell(m.month),
                Cell(m.appeals_decided, href),
                Cell(m.amount_recovered, href),
                Cell(m.decided_at_stake, href),
                Cell(m.recovery_yield, href),
            ]
        )
    table.chart = {
        "type": "bar",
        "format": "money",
        "labels": [m.month for m in months],
        "datasets": [{"label": "Recovered", "data": [str(m.amount_recovered) for m in months]}],
        "links": [row[1].href for row in table.rows],
    }
    return table


#: The prevention table's length on the page (the CSV has every row).
PREVENTION_ON_PAGE = 50


def prevention_table(*, user: Any, filters: Filters, whole: bool = False) -> Table:
    """The largest ``PREVENTION_ON_PAGE`` pairs and providers (``whole``: all of them, for the CSV):
    1,640 groups in the benchmark's million denials (README), which the page never shows."""
    table = Table(
        id="prevention",
        title=table_title("prevention"),
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
        "Modifier may apply: a documentation prompt would have added the modifier. Each pair opens in the scrubber. "
        f"The {PREVENTION_ON_PAGE} largest; the CSV has them all.",
        page_limit=PREVENTION_ON_PAGE,
    )
    from ncci.models import Setting

    setting_words = dict(Setting.choices)
    limit = None if whole else PREVENTION_ON_PAGE
    for i, row in enumerate(denial_figures.prevention(user=user, filters=filters, limit=limit)):
        scrub = listed = ""
        if table.page_limit is None or i < table.page_limit:  # the CSV has no links: only the page's rows get them
            scrub = scrubber_link(column1=row.column1, column2=row.column2, setting=row.setting) if row.column1 else ""
            listed = worklist_link(
                filters,
                category=row.category,
                column1=row.column1,
                column2=row.column2,
                setting=row.setting,
                npi=row.provider_npi or "none",
            )
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
    shown = reference_lines.reference_lines()
    lines = reference_lines.for_figure(reference_lines.BUNDLING_FIRST_LEVEL_SUCCESS, shown)
    table = Table(
        id="bundling-first-level",
        title=table_title("bundling-first-level"),
        columns=[*SUCCESS_COLUMNS, Column("reference", "Published figure")],
        note=_reference_note([reference_lines.BUNDLING_FIRST_LEVEL_SUCCESS], shown),
    )
    link = _success_link(filters, {"bundling": "true", "first_level": "true"})
    table.rows.append(
        [*_success_cells(row, link), Cell(_reference_words(reference_lines.BUNDLING_FIRST_LEVEL_SUCCESS, shown))]
    )
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
TITLES: dict[str, str] = {
    "bundling-first-level": "First-level appeals of bundling denials",
    "denial-trend": "Dollars denied by category and month",
    "denial-rate": "Denial rate",
    "write-offs": "Write-offs by reason",
    "days-to-resolve": "Days to resolve",
    "aging": "Open work by age",
    "recovered": "Recovered by month of decision",
    "prevention": "What prevention would save",
}


def table_title(table_id: str) -> str:
    """A table's title from its id, without building it (the page's placeholders name their table)."""
    if table_id.startswith("appeal-success-"):
        return f"Appeal success by {TITLE_WORDS[table_id.removeprefix('appeal-success-')]}"
    if table_id.startswith("denials-"):
        return f"Denials by {DENIAL_TITLES[table_id.removeprefix('denials-')].split(' (')[0].lower()}"
    return TITLES[table_id]


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


def build_table(
    *, table_id: str, user: Any, filters: Filters, today: dt.date | None = None, whole: bool = False
) -> Table:
    """One table by its id (``table_ids``); ``KeyError`` for an unknown id. ``whole``: every row,
    for the CSV (the page's prevention table holds only the rows it shows)."""
    if table_id == "prevention":
        return prevention_table(user=user, filters=filters, whole=whole)
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


def kept_table(*, table_id: str, user: Any, filters: Filters, references: list[Any], whole: bool = False) -> Table:
    """``build_table``, kept like the figures it shows (``denials.analytics.cached_figure``): for
    the user's scope, the filters, the day and the published reference lines as the page read
    them (``references``: an admin's edit is a new question), until the figures change."""
    return _kept_table(user=user, filters=filters, table_id=table_id, references=tuple(references), whole=whole)


@cached_figure
def _kept_table(*, user: Any, filters: Filters, table_id: str, references: tuple[Any, ...], whole: bool) -> Table:
    return build_table(table_id=table_id, user=user, filters=filters, whole=whole)
