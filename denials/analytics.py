"""Denial figures for the managers' dashboard and ``/api/analytics/denials/``, from stored rows
only, aggregated in the database. ``appeals.analytics`` holds the
appeal figures; this module never imports ``appeals``.

The figures read copies of the denials with every key below already worked out
(``denials.analytics_models.DenialFact``, and ``ClaimFigure`` for the claims billed), which
``denials.analytics_rollup`` keeps up to date with these rules (``remittance_date_expr``,
``specialty_case``), mostly through those copies added up per month (``DenialCell``, read by
``denial_sums``: whole months from the cells, the days a date range cuts from the copies); an
answer is kept (``cached_figure``) until the figures next change.

Definitions (each figure has one home, here):

- **Which denials**: the ones the user may see (``denials_visible_to``: a manager's teams,
  an admin's all), narrowed by the filters below.
- **Date** of a denial: its **remittance date** (the 835's payment date, else its production
  date: ``Remittance.remittance_date``), the day the payer told us. The date range and the
  month use it, as the worklist's "age" does. A denial whose remittance has neither date is
  left out of date-filtered figures and shown under "no date" in monthly ones.
- **Filters**: ``from``/``to`` (remittance date, inclusive), ``payer`` (the denial's payer),
  ``team`` (the team owning the denial's work queue), ``setting`` (the NCCI setting triage
  recorded: only bundling denials have one), ``specialty`` (of the denied line's procedure
  code by ``ncci.specialties.specialty_for`` over the admin-edited ranges; a claim-level
  denial has no line and is "Unmapped").
- **Denial rate** (``denial_rate``): denied over billed, for claims answered in the period.
  By count: claim payments with at least one counted denial over claim payments received;
  by dollars: the counted denials' amounts over the claim payments' billed charges.
  Claim payments are CLP loops, reversals (status 22) excluded; a claim the payer answered
  twice counts twice. The numerator honours every filter and the user's teams; the
  denominator is every claim payment of the period, honouring only the filters a claim has
  (dates, payer; specialty: its lines of that specialty, by count of claims and by line
  charges), because a claim nobody denied sits in no team's queue. So a manager reads "the
  denials my teams work, as a share of everything billed"; with every team in scope it is
  the organisation's denial rate, the figure the reference lines compare with.
- **Write-offs**: denials written off, by the reason the coder gave (as typed, trimmed).
- **Days to resolve**: for denials finished (corrected claim, written off, billed to the
  patient, resolved: paid on appeal), days from the remittance date to when the outcome was
  recorded (``worked_at``); the average over those with both dates.
- **Aging**: work still to do (``ACTIVE_STATUSES``) by days since the remittance date:
  0-30, 31-60, 61-90, over 90 (the worklist's "age" buckets, so a bucket links to its rows).
- **Prevention**: ``bundling-not-appealable`` and ``bundling-modifier-may-apply`` denials by
  NCCI pair and rendering provider (name and NPI from the claim), in dollars: what a scrubber
  rule or a documentation prompt would have saved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar, cast

from django.db import DatabaseError, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from denials import vocabulary
from denials.analytics_models import (
    EVERY,
    PREVENTION_CATEGORIES,
    ClaimFigure,
    DenialCell,
    DenialFact,
    FigureCache,
    FiguresState,
    PreventionCell,
)
from denials.models import Payer, Team, WorkQueue
from denials.selectors import AGE_BUCKETS, queues_visible_to

T = TypeVar("T")
ZERO = Decimal("0")
#: Statuses where the work on a denial is finished (days to resolve reads these).
FINISHED_STATUSES: tuple[str, ...] = (
    vocabulary.STATUS_CORRECTED,
    vocabulary.STATUS_WRITTEN_OFF,
    vocabulary.STATUS_BILLED_PATIENT,
    vocabulary.STATUS_RESOLVED,
)
#: Claim status code of a reversal: not a claim billed.
REVERSAL_STATUS = "22"
DENIAL_GROUPINGS: tuple[str, ...] = ("category", "payer", "month", "carc")
NO_DATE = "no date"
#: The longest date range a request may ask for (monthly figures are filled month by month).
MAX_MONTHS = 240


# --- Filters ----------------------------------------------------------------------------------
class FilterError(ValueError):
    """A bad filter value: ``param`` names the query parameter, the message says why."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    payer_id: int | None = None
    team_id: int | None = None
    setting: str = ""
    specialty: str = ""

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (for links and the form), only those set."""
        params = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "payer": str(self.payer_id) if self.payer_id else "",
            "team": str(self.team_id) if self.team_id else "",
            "setting": self.setting,
            "specialty": self.specialty,
        }
        return {k: v for k, v in params.items() if v}


FILTER_PARAMS: tuple[str, ...] = ("from", "to", "payer", "team", "setting", "specialty")


def _date(params: Mapping[str, Any], name: str) -> dt.date | None:
    text = str(params.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FilterError(name, f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-31.") from None


def _id(params: Mapping[str, Any], name: str) -> int | None:
    text = str(params.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise FilterError(name, f"{text!r} is not an id (a positive whole number).")
    return int(text)


def teams_for(*, user: Any) -> QuerySet[Team]:
    """The teams whose figures the user may read: an admin's all, a manager's own."""
    from denials.roles import is_admin

    teams = Team.objects.order_by("name")
    return teams if is_admin(user) else teams.filter(members=user)


def filters_parse(*, params: Mapping[str, Any], user: Any) -> Filters:
    """Read the dashboard's and the API's filters; ``FilterError`` names the first bad one."""
    from ncci.models import Setting

    date_from, date_to = _date(params, "from"), _date(params, "to")
    if date_from and date_to and date_to < date_from:
        raise FilterError("to", f"{date_to.isoformat()} is before the start date {date_from.isoformat()}.")
    if date_from and date_to and (date_to.year - date_from.year) * 12 + date_to.month - date_from.month >= MAX_MONTHS:
        raise FilterError("to", f"the range is longer than {MAX_MONTHS // 12} years.")
    payer_id = _id(params, "payer")
    if payer_id is not None and not Payer.objects.filter(pk=payer_id).exists():
        raise FilterError("payer", f"no payer has id {payer_id}.")
    team_id = _id(params, "team")
    if team_id is not None and not teams_for(user=user).filter(pk=team_id).exists():
        raise FilterError("team", f"{team_id} is not one of the teams you may see.")
    setting = str(params.get("setting") or "").strip().lower()
    if setting and setting not in Setting.values:
        raise FilterError("setting", f"{setting!r} is not an NCCI setting; use one of {', '.join(Setting.values)}.")
    specialty = str(params.get("specialty") or "").strip()
    if specialty:
        known = specialty_names()
        match = next((name for name in known if name.lower() == specialty.lower()), None)
        if match is None:
            raise FilterError("specialty", f"{specialty!r} is not a specialty; use one of {', '.join(known)}.")
        specialty = match
    return Filters(date_from, date_to, payer_id, team_id, setting, specialty)


# --- Answers kept until the figures change ----------------------------------------------------------
def _scope_key(user: Any) -> str:
    """Which copies the user sees (``facts_in_scope``): everything, nothing, or these queues."""
    from denials.roles import has_role, is_admin

    if is_admin(user):
        return "all"
    if not has_role(user):
        return "none"
    queues = WorkQueue.objects.filter(team__members=user).order_by("pk").values_list("pk", flat=True)
    return ",".join(str(pk) for pk in queues)


def cached_figure(func: Callable[..., T]) -> Callable[..., T]:
    """Keep a selector's answer (``FigureCache``) for its scope, filters, other arguments and day,
    until a refresh changes the figures (``FiguresState.version``): the same question asked again
    before then is answered from the cache, exactly as computed (two queries). Before the first
    refresh there is nothing to keep."""
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def answer(*, user: Any, filters: Filters, **kwargs: Any) -> T:
        parts = (_scope_key(user), name, filters, sorted(kwargs.items()), timezone.localdate())
        key = hashlib.sha256(repr(parts).encode()).hexdigest()
        current = FiguresState.objects.order_by("pk").values("version")[:1]
        kept = FigureCache.objects.filter(key=key, version=Subquery(current)).values_list("value", flat=True).first()
        if kept is not None:
            return cast(T, pickle.loads(bytes(kept)))  # noqa: S301  (written by this function, below)
        version = FiguresState.objects.order_by("pk").values_list("version", flat=True).first()
        found = func(user=user, filters=filters, **kwargs)
        if version:
            _keep(key, version, found)
        return found

    return answer


def _keep(key: str, version: int, found: Any) -> None:
    """Keep an answer for the next asker, best effort: the answer is given whether or not it could
    be kept (the dashboard's sections ask at once, and SQLite may refuse a second writer)."""
    try:
        with transaction.atomic():
            FigureCache.objects.bulk_create(
                [FigureCache(key=key, version=version, value=pickle.dumps(found))],
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=["version", "value"],
            )
    except DatabaseError:
        return


# --- Specialty: the pure rule over the admin-edited ranges, applied to the codes present -----
def specialty_names() -> list[str]:
    """Every specialty the ranges name, and "Unmapped" (a code no range holds)."""
    from ncci.selectors import specialty_ranges
    from ncci.specialties import UNMAPPED

    return [*sorted({r.specialty for r in specialty_ranges()}), UNMAPPED]


def specialties_of(codes: Iterable[str | None]) -> dict[str, str]:
    """Each code's specialty by ``ncci.specialties.specialty_for`` (a missing code: "")."""
    from ncci.selectors import specialty_ranges
    from ncci.specialties import specialty_for

    ranges = specialty_ranges()
    return {code or "": specialty_for(code or "", ranges) for code in codes}


def specialty_case(code_field: str, mapping: Mapping[str, str]) -> Case:
    """A SQL expression naming the specialty of ``code_field`` from ``mapping`` (code -> specialty),
    so the database can GROUP BY it; a code not in the mapping (or none) is "Unmapped"."""
    from ncci.specialties import UNMAPPED

    by_specialty: dict[str, list[str]] = {}
    for code, specialty in mapping.items():
        if code and specialty != UNMAPPED:
            by_specialty.setdefault(specialty, []).append(code)
    whens = [
        When(**{f"{code_field}__in": sorted(codes)}, then=Value(name)) for name, codes in sorted(by_specialty.items())
    ]
    if not whens:
        return Case(default=Value(UNMAPPED), output_field=CharField())
    return Case(*whens, default=Value(UNMAPPED), output_field=CharField())


def codes_of_specialty(codes: Iterable[str | None], specialty: str) -> list[str]:
    return sorted(code for code, name in specialties_of(codes).items() if name == specialty)


# --- The denials behind every figure -----------------------------------------------------------
def remittance_date_expr() -> Coalesce:
    """A denial's remittance date as SQL over ``Denial`` rows (the refresh copies it into ``DenialFact``)."""
    return Coalesce("claim__remittance__payment_date", "claim__remittance__production_date", output_field=DateField())


def facts_in_scope(facts: QuerySet[Any], *, user: Any, filters: Filters) -> QuerySet[Any]:
    """Rows of a figures table (``DenialFact``, ``appeals.AppealLineFact``: each carries its denial's
    ``queue_id``, ``setting`` and ``specialty``) the user may see, narrowed by the payer, team,
    setting and specialty filters (the payer and the dates: by the caller, whose columns differ).

    Who sees what is ``denials.selectors.queues_visible_to``, the rule ``denials_visible_to``
    applies to the denials (``tests/test_analytics_rollup.py`` holds the two to the same rows)."""
    queues = queues_visible_to(user=user)
    if queues is not None:
        facts = facts.filter(queue_id__in=queues)
    if filters.team_id:
        facts = facts.filter(queue_id__in=WorkQueue.objects.filter(team_id=filters.team_id).values("id"))
    if filters.setting:
        facts = facts.filter(setting=filters.setting)
    if filters.specialty:
        facts = facts.filter(specialty=filters.specialty)
    return facts


def denials_for_figures(*, user: Any, filters: Filters, dates: bool = True) -> QuerySet[DenialFact]:
    """The user's denials (their copies in ``DenialFact``) narrowed by the filters."""
    facts = facts_in_scope(DenialFact.objects.order_by(), user=user, filters=filters)
    if dates and filters.date_from:
        facts = facts.filter(remit_date__gte=filters.date_from)
    if dates and filters.date_to:
        facts = facts.filter(remit_date__lte=filters.date_to)
    if filters.payer_id:
        facts = facts.filter(payer_id=filters.payer_id)
    return facts


#: Days from the remittance date to the recorded outcome, as SQL over ``DenialFact`` rows.
RESOLVE_DAYS = ExpressionWrapper(F("worked_on") - F("remit_date"), output_field=DurationField())
RESOLVED = Q(worked_on__isnull=False, remit_date__isnull=False)


@dataclass(frozen=True)
class Sums:
    """Denials added up: how many, their dollars, and of those with an outcome day and a
    remittance date how many and the days between added up."""

    n: int = 0
    amount: Decimal = ZERO
    #: The claims of those denials, counted once, but for split claims (``DenialFact.claim_split``).
    claims: int = 0
    resolved: int = 0
    resolved_days: dt.timedelta = dt.timedelta(0)

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.n + other.n,
            self.amount + other.amount,
            self.claims + other.claims,
            self.resolved + other.resolved,
            self.resolved_days + other.resolved_days,
        )


def claim_marks(*, by_setting: bool, by_specialty: bool) -> tuple[str, str]:
    """The ``DenialFact`` marks that count claims once in a slice of ``DenialCell`` (the slice of a
    setting, of a specialty, or of neither): its "first" and its "split" mark."""
    suffix = "_setting" if by_setting else "_specialty" if by_specialty else ""
    return f"claim_first{suffix}", f"claim_split{suffix}"


def _month_after(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def split_dates(
    date_from: dt.date | None, date_to: dt.date | None
) -> tuple[tuple[dt.date | None, dt.date | None] | None, list[tuple[dt.date, dt.date]]]:
    """A date range as the whole months inside it (their first days, inclusive, None for open;
    None when no month is whole) and the days around them: ``DenialCell`` adds up whole months,
    the days a range cuts out of a month are read from the copies."""
    first = date_from if date_from is None or date_from.day == 1 else _month_after(date_from)
    last = None
    if date_to is not None:
        month = date_to.replace(day=1)
        last = (
            month
            if _month_after(date_to) == date_to + dt.timedelta(days=1)
            else (month - dt.timedelta(days=1)).replace(day=1)
        )
    if first is not None and last is not None and first > last:
        return None, [(date_from, date_to)] if date_from and date_to else []
    edges: list[tuple[dt.date, dt.date]] = []
    if date_from is not None and first is not None and date_from < first:
        edges.append((date_from, first - dt.timedelta(days=1)))
    if date_to is not None and last is not None and date_to >= _month_after(last):
        edges.append((_month_after(last), date_to))
    return (first, last), edges


def _cells_in_scope(*, user: Any, filters: Filters) -> QuerySet[DenialCell] | None:
    """The ``DenialCell`` slice the filters read, in the user's scope (dates: by the caller); None
    when the filters name a setting and a specialty both (no slice has both: the copies)."""
    if filters.setting and filters.specialty:
        return None
    scope = dataclasses.replace(filters, setting="", specialty="")
    cells = facts_in_scope(DenialCell.objects.order_by(), user=user, filters=scope)
    cells = cells.filter(setting=filters.setting or EVERY, specialty=filters.specialty or EVERY)
    return cells.filter(payer_id=filters.payer_id) if filters.payer_id else cells


def _add_up(rows: QuerySet[Any], by: tuple[str, ...], sums: dict[str, Any]) -> dict[tuple[Any, ...], Sums]:
    found = [rows.aggregate(**sums)] if not by else rows.values(*by).annotate(**sums)
    return {
        tuple(r[k] for k in by): Sums(
            r["s_n"] or 0,
            _money(r["s_amount"]),
            r["s_claims"] or 0,
            r["s_resolved"] or 0,
            r["s_days"] or dt.timedelta(0),
        )
        for r in found
        if r["s_n"]
    }


def denial_sums(
    *, user: Any, filters: Filters, by: tuple[str, ...] = (), where: Q | None = None
) -> dict[tuple[Any, ...], Sums]:
    """The user's denials the filters keep (``denials_for_figures``), narrowed by ``where`` and
    added up per ``by`` (columns ``DenialFact`` and ``DenialCell`` share), from the cells of the
    whole months of the range and the copies of the days around them: the same sums as adding up
    the copies, reading a few hundred rows a month instead of tens of thousands."""
    where = where or Q()
    parts: list[dict[tuple[Any, ...], Sums]] = []
    cells = _cells_in_scope(user=user, filters=filters)
    whole, edges = split_dates(filters.date_from, filters.date_to)
    if cells is None:
        whole, edges = None, [(filters.date_from, filters.date_to)]  # type: ignore[list-item]
    if whole is not None and cells is not None:
        first, last = whole
        if filters.date_from or filters.date_to:
            cells = cells.filter(remit_month__isnull=False)
        if first is not None:
            cells = cells.filter(remit_month__gte=first)
        if last is not None:
            cells = cells.filter(remit_month__lte=last)
        cell_sums = {
            "s_claims": Sum("claims"),
            "s_n": Sum("n"),
            "s_amount": Sum("amount"),
            "s_resolved": Sum("resolved"),
            "s_days": Sum("resolved_days"),
        }
        parts.append(_add_up(cells.filter(where), by, cell_sums))
    first_mark, split_mark = claim_marks(by_setting=bool(filters.setting), by_specialty=bool(filters.specialty))
    fact_sums = {
        "s_n": Count("*"),
        "s_claims": Count("pk", filter=Q(**{first_mark: True, split_mark: False})),
        "s_amount": Sum("amount"),
        "s_resolved": Count("pk", filter=RESOLVED),
        "s_days": Sum(RESOLVE_DAYS, filter=RESOLVED),
    }
    for low, high in edges:
        days = dataclasses.replace(filters, date_from=low, date_to=high)
        parts.append(_add_up(denials_for_figures(user=user, filters=days).filter(where), by, fact_sums))
    total: dict[tuple[Any, ...], Sums] = {}
    for part in parts:
        for key, sums in part.items():
            total[key] = total[key] + sums if key in total else sums
    return total


# --- Months --------------------------------------------------------------------------------------
def month_key(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return NO_DATE
    return f"{value.year:04d}-{value.month:02d}"


def months_between(first: dt.date, last: dt.date) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive, as "YYYY-MM" (empty months included)."""
    months: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month) and len(months) < MAX_MONTHS:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


#: Without a date range, monthly figures show at most this many months, up to the last month with
#: data (sample files and old remittances can reach back decades); older months are left out of the
#: monthly tables only, and the page says so.
DEFAULT_MONTHS = 24


def month_span(filters: Filters, seen: Iterable[str]) -> list[str]:
    """The months a monthly figure shows: the filter's range when given, else from the first month
    with data to the last; without a start date at most ``DEFAULT_MONTHS``, the latest ones. Every
    month in between, so an empty one shows zero."""
    dated = sorted(m for m in seen if m != NO_DATE)
    first = filters.date_from or (dt.date.fromisoformat(dated[0] + "-01") if dated else None)
    last = filters.date_to or (dt.date.fromisoformat(dated[-1] + "-01") if dated else None)
    if first is None or last is None:
        return []
    if filters.date_from is None:
        # Only the latest DEFAULT_MONTHS are shown: never walk from a decades-old first month
        # (months_between stops after MAX_MONTHS, which would cut the latest months off).
        back = last.year * 12 + last.month - 1 - (DEFAULT_MONTHS - 1)
        first = max(first, dt.date(back // 12, back % 12 + 1, 1))
    months = months_between(first, last)
    return months if filters.date_from else months[-DEFAULT_MONTHS:]


# --- Denials by category, payer, month, CARC ------------------------------------------------------
@dataclass(frozen=True)
class DenialRow:
    key: str
    label: str
    count: int
    amount: Decimal
    extra: dict[str, Any] = field(default_factory=dict)


def _money(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


@cached_figure
def denial_counts(*, user: Any, filters: Filters, by: str) -> list[DenialRow]:
    """Count and dollars of denials per category, payer, month or CARC, largest first (months in
    order, every month of the range, empty ones zero), added up by ``denial_sums``."""
    if by not in DENIAL_GROUPINGS:
        raise FilterError("by", f"{by!r} is not a grouping; use one of {', '.join(DENIAL_GROUPINGS)}.")
    column = {"month": "remit_month", "payer": "payer_id"}.get(by, by)
    rows = [
        {"k": key, "n": sums.n, "total": sums.amount}
        for (key,), sums in denial_sums(user=user, filters=filters, by=(column,)).items()
    ]
    if by == "month":
        found = {month_key(r["k"]): r for r in rows}
        months = month_span(filters, found)
        out = [
            DenialRow(m, m, found[m]["n"] if m in found else 0, _money(found[m]["total"]) if m in found else ZERO)
            for m in months
        ]
        if NO_DATE in found and not (filters.date_from or filters.date_to):
            out.append(DenialRow(NO_DATE, "No remittance date", found[NO_DATE]["n"], _money(found[NO_DATE]["total"])))
        return out
    if by == "payer":
        names = dict(Payer.objects.filter(pk__in=[r["k"] for r in rows]).values_list("pk", "name"))
        out = [DenialRow(str(r["k"]), names.get(r["k"], ""), r["n"], _money(r["total"])) for r in rows]
    elif by == "category":
        out = [
            DenialRow(r["k"] or "", vocabulary.category_label(r["k"] or ""), r["n"], _money(r["total"])) for r in rows
        ]
    else:
        out = [DenialRow(r["k"] or "", r["k"] or "", r["n"], _money(r["total"])) for r in rows]
    return sorted(out, key=lambda r: (-r.amount, -r.count, r.key))


@dataclass(frozen=True)
class MonthlySeries:
    """Denials per month and per key (category or payer): ``cells[key][month] = (count, amount)``."""

    months: list[str]
    keys: list[tuple[str, str]]
    cells: dict[str, dict[str, tuple[int, Decimal]]]


@cached_figure
def denial_trend(*, user: Any, filters: Filters, by: str) -> MonthlySeries:
    """Count and dollars per month for each category (or payer), added up per (month, key); every
    month of the range, empty ones zero. Denials without a remittance date are left out."""
    if by not in ("category", "payer"):
        raise FilterError("by", f"{by!r} is not a trend grouping; use category or payer.")
    key = "payer_id" if by == "payer" else "category"
    found = denial_sums(user=user, filters=filters, by=("remit_month", key), where=Q(remit_month__isnull=False))
    cells: dict[str, dict[str, tuple[int, Decimal]]] = {}
    for (month, k), sums in found.items():
        cells.setdefault(str(k or ""), {})[month_key(month)] = (sums.n, sums.amount)
    months = month_span(filters, {m for per in cells.values() for m in per})
    if by == "payer":
        names = dict(Payer.objects.filter(pk__in=[int(k) for k in cells if k]).values_list("pk", "name"))
        labels = {k: names.get(int(k), "") for k in cells if k}
    else:
        labels = {k: vocabulary.category_label(k) for k in cells}
    totals = {k: sum((a for _n, a in per.values()), ZERO) for k, per in cells.items()}
    keys = sorted(labels.items(), key=lambda kv: (-totals[kv[0]], kv[1]))
    return MonthlySeries(months=months, keys=keys, cells=cells)


# --- Denial rate ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DenialRate:
    claims: int
    denied_claims: int
    billed: Decimal
    denied: Decimal

    @property
    def count_rate(self) -> float | None:
        return round(self.denied_claims / self.claims, 4) if self.claims else None

    @property
    def dollar_rate(self) -> float | None:
        return round(float(self.denied / self.billed), 4) if self.billed > 0 else None


@cached_figure
def denial_rate(*, user: Any, filters: Filters) -> DenialRate:
    """Denied over billed (see the module docstring for exactly what is counted): the billed side
    from the claims counted per remittance (``ClaimFigure``), the denied side from the cells
    (``denial_sums``), whose claims are counted once by the copies' marks (``claim_marks``), and
    the claims whose denials sit in several queues one by one."""
    claims = ClaimFigure.objects.filter(specialty=filters.specialty)  # blank: every claim
    if filters.date_from:
        claims = claims.filter(remit_date__gte=filters.date_from)
    if filters.date_to:
        claims = claims.filter(remit_date__lte=filters.date_to)
    if filters.payer_id:
        claims = claims.filter(payer_id=filters.payer_id)
    billed = claims.aggregate(n=Sum("claims"), total=Sum("charge"))
    billed_claims = ~Q(reversal=True)
    denied = denial_sums(user=user, filters=filters, where=billed_claims).get((), Sums())
    one_by_one = denials_for_figures(user=user, filters=filters).filter(billed_claims)
    if filters.setting and filters.specialty:  # no slice has both: every claim one by one
        counted = 0
    else:  # the claims the marks counted once, and the split ones one by one
        _first, split = claim_marks(by_setting=bool(filters.setting), by_specialty=bool(filters.specialty))
        counted, one_by_one = denied.claims, one_by_one.filter(**{split: True})
    counted += one_by_one.aggregate(n=Count("claim_id", distinct=True))["n"] or 0
    return DenialRate(
        claims=billed["n"] or 0,
        denied_claims=counted,
        billed=_money(billed["total"]),
        denied=denied.amount,
    )


# --- Write-offs, days to resolve, aging, prevention ------------------------------------------------
@cached_figure
def write_offs(*, user: Any, filters: Filters) -> list[DenialRow]:
    """Denials written off, by the reason given (count and dollars), largest first."""
    found = denial_sums(
        user=user, filters=filters, by=("resolution_reason",), where=Q(status=vocabulary.STATUS_WRITTEN_OFF)
    )
    rows = [{"resolution_reason": reason, "n": sums.n, "total": sums.amount} for (reason,), sums in found.items()]
    merged: dict[str, tuple[int, Decimal]] = {}
    for r in rows:  # "Duplicate " and "Duplicate" are one reason
        reason = " ".join((r["resolution_reason"] or "").split())
        n, total = merged.get(reason, (0, ZERO))
        merged[reason] = (n + r["n"], total + _money(r["total"]))
    out = [DenialRow(reason, reason or "No reason recorded", n, total) for reason, (n, total) in merged.items()]
    return sorted(out, key=lambda r: (-r.amount, -r.count, r.key))


@dataclass(frozen=True)
class DaysToResolve:
    denials: int
    average_days: float | None


@cached_figure
def days_to_resolve(*, user: Any, filters: Filters) -> DaysToResolve:
    """Average days from the remittance date to the recorded outcome, over finished denials."""
    found = denial_sums(user=user, filters=filters, where=Q(status__in=FINISHED_STATUSES)).get((), Sums())
    average = found.resolved_days / found.resolved if found.resolved else None
    days = round(average.total_seconds() / 86400, 1) if average is not None else None
    return DaysToResolve(denials=found.resolved, average_days=days)


@dataclass(frozen=True)
class AgingBucket:
    key: str
    label: str
    count: int
    amount: Decimal


AGING_LABELS: dict[str, str] = {
    "0-30": "0 to 30 days",
    "31-60": "31 to 60 days",
    "61-90": "61 to 90 days",
    "91-": "Over 90 days",
}


@cached_figure
def aging(*, user: Any, filters: Filters, today: dt.date | None = None) -> list[AgingBucket]:
    """Work still to do by days since its remittance date, in the worklist's age buckets (each a
    date range ``denial_sums`` adds up). Work with no remittance date is a bucket of its own
    ("no date")."""
    today = today or timezone.localdate()
    active = Q(status__in=vocabulary.ACTIVE_STATUSES)
    buckets = []
    for key, (low, high) in AGE_BUCKETS.items():
        oldest = today - dt.timedelta(days=high) if high is not None else None
        newest = today - dt.timedelta(days=low) if low is not None else None
        first = max((d for d in (oldest, filters.date_from) if d is not None), default=None)
        last = min((d for d in (newest, filters.date_to) if d is not None), default=None)
        found = Sums()
        if first is None or last is None or first <= last:
            bucket = dataclasses.replace(filters, date_from=first, date_to=last)
            found = denial_sums(user=user, filters=bucket, where=active).get((), Sums())
        buckets.append(AgingBucket(key, AGING_LABELS[key], found.n, found.amount))
    if not (filters.date_from or filters.date_to):  # a date range leaves work with no date out
        undated = denial_sums(user=user, filters=filters, where=active & Q(remit_month__isnull=True)).get((), Sums())
        if undated.n:
            buckets.append(AgingBucket(NO_DATE, "No remittance date", undated.n, undated.amount))
    return buckets


@dataclass(frozen=True)
class PreventionRow:
    category: str
    category_label: str
    column1: str
    column2: str
    setting: str
    provider_name: str
    provider_npi: str
    count: int
    amount: Decimal


#: What prevention groups on (``PreventionCell``'s keys), and its order: dollars, then count.
PREVENTION_KEYS: tuple[str, ...] = ("category", "column1", "column2", "setting", "provider_name", "provider_npi")
PREVENTION_ORDER = "total DESC, n DESC, column1, column2, provider_name"


@cached_figure
def prevention(*, user: Any, filters: Filters, limit: int | None = None) -> list[PreventionRow]:
    """Indicator-0 and missing-modifier bundling denials by NCCI pair and rendering provider, in
    dollars, largest first: the whole months of the range from ``PreventionCell`` and the days
    around them from the copies, added up in one query (all from the copies when a filter names a
    payer or a specialty, which the cells do not keep)."""

    def from_copies(within: Filters) -> QuerySet[Any]:
        return (
            denials_for_figures(user=user, filters=within)
            .filter(category__in=PREVENTION_CATEGORIES)
            .order_by()
            .values(*PREVENTION_KEYS)
            .annotate(p_n=Count("*"), p_total=Sum("amount"))
        )

    parts: list[QuerySet[Any]] = []
    if filters.payer_id or filters.specialty:
        parts.append(from_copies(filters))
    else:
        whole, edges = split_dates(filters.date_from, filters.date_to)
        if whole is not None:
            first, last = whole
            cells = facts_in_scope(PreventionCell.objects.order_by(), user=user, filters=filters)
            if filters.date_from or filters.date_to:
                cells = cells.filter(remit_month__isnull=False)
            if first is not None:
                cells = cells.filter(remit_month__gte=first)
            if last is not None:
                cells = cells.filter(remit_month__lte=last)
            parts.append(cells.values(*PREVENTION_KEYS).annotate(p_n=Sum("n"), p_total=Sum("amount")))
        parts.extend(from_copies(dataclasses.replace(filters, date_from=low, date_to=high)) for low, high in edges)
    return [
        PreventionRow(
            category=r["category"],
            category_label=vocabulary.category_label(r["category"]),
            column1=r["column1"],
            column2=r["column2"],
            setting=r["setting"],
            provider_name=r["provider_name"],
            provider_npi=r["provider_npi"],
            count=int(r["n"]),
            amount=Decimal(str(r["total"])).quantize(Decimal("0.01")),
        )
        for r in _added_up_in_order(parts, limit)
    ]


def _added_up_in_order(parts: list[QuerySet[Any]], limit: int | None) -> list[dict[str, Any]]:
    """The rows of ``parts`` (each: ``PREVENTION_KEYS``, ``p_n``, ``p_total``) added up per key, in
    ``PREVENTION_ORDER``, at most ``limit``: one query (``UNION ALL``), so the order is the database's."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    selects: list[str] = []
    params: list[Any] = []
    for part in parts:
        try:
            sql, part_params = part.query.sql_with_params()
        except EmptyResultSet:  # e.g. a user who sees no queue
            continue
        selects.append(f"SELECT * FROM ({sql}) p{len(selects)}")  # noqa: S608  (the ORM's own SQL)
        params.extend(part_params)
    if not selects:
        return []
    keys = ", ".join(PREVENTION_KEYS)
    sql = (
        f"SELECT {keys}, SUM(p_n) AS n, SUM(p_total) AS total FROM ({' UNION ALL '.join(selects)}) t "  # noqa: S608
        f"GROUP BY {keys} ORDER BY {PREVENTION_ORDER}" + (" LIMIT %s" if limit is not None else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *([limit] if limit is not None else [])])
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
