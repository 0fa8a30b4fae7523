"""The managers' figures as ``denials.analytics`` and ``appeals.analytics`` computed them before the
figures tables (issue 11): straight from the denials, claims and appeals, with joins, on every
request. Kept verbatim (both modules, one after the other) as the oracle
``tests/test_analytics_rollup.py`` holds the fast path to on seeded random rows; the product never
calls them. Compare results by value (``dataclasses.astuple``): the dataclasses are these copies.
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

from appeals import vocabulary as v
from appeals.models import Appeal
from appeals.recovery import recovered_share_sql
from denials import vocabulary as denial_words

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from denials import vocabulary
from denials.models import ClaimPayment, Denial, Payer, ServiceLine, Team
from denials.selectors import AGE_BUCKETS, denials_visible_to

ZERO = Decimal("0")
#: Statuses where the work on a denial is finished (days to resolve reads these).
FINISHED_STATUSES: tuple[str, ...] = (
    vocabulary.STATUS_CORRECTED,
    vocabulary.STATUS_WRITTEN_OFF,
    vocabulary.STATUS_BILLED_PATIENT,
    vocabulary.STATUS_RESOLVED,
)
#: The categories prevention reports: what a scrubber rule (indicator 0) or a documentation
#: prompt (indicator 1, the modifier was missing) would have saved.
PREVENTION_CATEGORIES: tuple[str, ...] = (
    vocabulary.BUNDLING_NOT_APPEALABLE,
    vocabulary.BUNDLING_MODIFIER_MAY_APPLY,
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
    return Coalesce("claim__remittance__payment_date", "claim__remittance__production_date", output_field=DateField())


def denials_for_figures(*, user: Any, filters: Filters, dates: bool = True) -> QuerySet[Denial]:
    """The user's denials narrowed by the filters, with ``remit_date`` annotated."""
    denials = denials_visible_to(user=user).annotate(remit_date=remittance_date_expr())
    if dates and filters.date_from:
        denials = denials.filter(remit_date__gte=filters.date_from)
    if dates and filters.date_to:
        denials = denials.filter(remit_date__lte=filters.date_to)
    if filters.payer_id:
        denials = denials.filter(payer_id=filters.payer_id)
    if filters.team_id:
        denials = denials.filter(queue__team_id=filters.team_id)
    if filters.setting:
        denials = denials.filter(ncci_setting=filters.setting)
    if filters.specialty:
        present = denials.order_by().values_list("line__procedure_code", flat=True).distinct()
        codes = codes_of_specialty(present, filters.specialty)
        from ncci.specialties import UNMAPPED

        if filters.specialty == UNMAPPED:
            denials = denials.filter(Q(line__isnull=True) | Q(line__procedure_code__in=codes))
        else:
            denials = denials.filter(line__procedure_code__in=codes)
    return denials


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


def denial_counts(*, user: Any, filters: Filters, by: str) -> list[DenialRow]:
    """Count and dollars of denials per category, payer, month or CARC, largest first (months in
    order, every month of the range, empty ones zero). One GROUP BY."""
    if by not in DENIAL_GROUPINGS:
        raise FilterError("by", f"{by!r} is not a grouping; use one of {', '.join(DENIAL_GROUPINGS)}.")
    denials = denials_for_figures(user=user, filters=filters).order_by()
    if by == "month":
        denials = denials.annotate(k=TruncMonth("remit_date", output_field=DateField()))
    elif by == "payer":
        denials = denials.annotate(k=F("payer_id"))
    else:
        denials = denials.annotate(k=F(by))
    rows = list(denials.values("k").annotate(n=Count("*"), total=Sum("amount")))
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


def denial_trend(*, user: Any, filters: Filters, by: str) -> MonthlySeries:
    """Count and dollars per month for each category (or payer): one GROUP BY (month, key); every
    month of the range, empty ones zero. Denials without a remittance date are left out."""
    if by not in ("category", "payer"):
        raise FilterError("by", f"{by!r} is not a trend grouping; use category or payer.")
    key = "payer_id" if by == "payer" else "category"
    rows = list(
        denials_for_figures(user=user, filters=filters)
        .filter(remit_date__isnull=False)  # type: ignore[misc]  # annotated by denials_for_figures
        .order_by()
        .annotate(m=TruncMonth("remit_date", output_field=DateField()))
        .values("m", key)
        .annotate(n=Count("*"), total=Sum("amount"))
    )
    cells: dict[str, dict[str, tuple[int, Decimal]]] = {}
    for r in rows:
        cells.setdefault(str(r[key] or ""), {})[month_key(r["m"])] = (r["n"], _money(r["total"]))
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


def denial_rate(*, user: Any, filters: Filters) -> DenialRate:
    """Denied over billed (see the module docstring for exactly what is counted): two queries."""
    claims = ClaimPayment.objects.exclude(status_code=REVERSAL_STATUS).annotate(
        remit_date=Coalesce("remittance__payment_date", "remittance__production_date", output_field=DateField())
    )
    if filters.date_from:
        claims = claims.filter(remit_date__gte=filters.date_from)
    if filters.date_to:
        claims = claims.filter(remit_date__lte=filters.date_to)
    if filters.payer_id:
        claims = claims.filter(payer_id=filters.payer_id)
    if filters.specialty:
        lines = ServiceLine.objects.filter(claim__in=claims.values("pk"))
        present = lines.order_by().values_list("procedure_code", flat=True).distinct()
        lines = lines.filter(procedure_code__in=codes_of_specialty(present, filters.specialty))
        billed = lines.aggregate(n=Count("claim_id", distinct=True), total=Sum("charge"))
    else:
        billed = claims.aggregate(n=Count("*"), total=Sum("charge"))
    denied = (
        denials_for_figures(user=user, filters=filters)
        .exclude(claim__status_code=REVERSAL_STATUS)
        .aggregate(n=Count("claim_id", distinct=True), total=Sum("amount"))
    )
    return DenialRate(
        claims=billed["n"] or 0,
        denied_claims=denied["n"] or 0,
        billed=_money(billed["total"]),
        denied=_money(denied["total"]),
    )


# --- Write-offs, days to resolve, aging, prevention ------------------------------------------------
def write_offs(*, user: Any, filters: Filters) -> list[DenialRow]:
    """Denials written off, by the reason given (count and dollars), largest first."""
    rows = (
        denials_for_figures(user=user, filters=filters)
        .filter(status=vocabulary.STATUS_WRITTEN_OFF)
        .order_by()
        .values("resolution_reason")
        .annotate(n=Count("*"), total=Sum("amount"))
    )
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


def days_to_resolve(*, user: Any, filters: Filters) -> DaysToResolve:
    """Average days from the remittance date to the recorded outcome, over finished denials."""
    done = (
        denials_for_figures(user=user, filters=filters)
        .filter(status__in=FINISHED_STATUSES, worked_at__isnull=False, remit_date__isnull=False)  # type: ignore[misc]
        .annotate(done_on=TruncDate("worked_at"))
        .annotate(took=ExpressionWrapper(F("done_on") - F("remit_date"), output_field=DurationField()))
    )
    found = done.aggregate(n=Count("*"), average=Avg("took", output_field=DurationField()))
    average = found["average"]
    days = round(average.total_seconds() / 86400, 1) if average is not None else None
    return DaysToResolve(denials=found["n"] or 0, average_days=days)


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


def aging(*, user: Any, filters: Filters, today: dt.date | None = None) -> list[AgingBucket]:
    """Work still to do by days since its remittance date, in the worklist's age buckets; one query.
    Work with no remittance date is a bucket of its own ("no date")."""
    today = today or timezone.localdate()
    active = denials_for_figures(user=user, filters=filters).filter(status__in=vocabulary.ACTIVE_STATUSES)
    aggregates: dict[str, Any] = {}
    for key, (low, high) in AGE_BUCKETS.items():
        q = Q()
        if low is not None:
            q &= Q(remit_date__lte=today - dt.timedelta(days=low))
        if high is not None:
            q &= Q(remit_date__gte=today - dt.timedelta(days=high))
        aggregates[f"n{key}"] = Count("pk", filter=q)
        aggregates[f"a{key}"] = Sum("amount", filter=q)
    aggregates["nnone"] = Count("pk", filter=Q(remit_date__isnull=True))
    aggregates["anone"] = Sum("amount", filter=Q(remit_date__isnull=True))
    found = active.aggregate(**aggregates)
    buckets = [
        AgingBucket(key, AGING_LABELS[key], found[f"n{key}"] or 0, _money(found[f"a{key}"])) for key in AGE_BUCKETS
    ]
    if found["nnone"]:
        buckets.append(AgingBucket(NO_DATE, "No remittance date", found["nnone"], _money(found["anone"])))
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


def prevention(*, user: Any, filters: Filters, limit: int | None = None) -> list[PreventionRow]:
    """Indicator-0 and missing-modifier bundling denials by NCCI pair and rendering provider, in
    dollars, largest first."""
    rows = (
        denials_for_figures(user=user, filters=filters)
        .filter(category__in=PREVENTION_CATEGORIES)
        .order_by()
        .values(
            "category",
            "ncci_column1",
            "ncci_column2",
            "ncci_setting",
            "claim__rendering_provider_name",
            "claim__rendering_provider_npi",
        )
        .annotate(n=Count("*"), total=Sum("amount"))
        .order_by("-total", "-n", "ncci_column1", "ncci_column2", "claim__rendering_provider_name")
    )
    if limit is not None:
        rows = rows[:limit]
    return [
        PreventionRow(
            category=r["category"],
            category_label=vocabulary.category_label(r["category"]),
            column1=r["ncci_column1"],
            column2=r["ncci_column2"],
            setting=r["ncci_setting"],
            provider_name=r["claim__rendering_provider_name"],
            provider_npi=r["claim__rendering_provider_npi"],
            count=r["n"],
            amount=_money(r["total"]),
        )
        for r in rows
    ]


# === appeals.analytics, before ==================================================================
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
