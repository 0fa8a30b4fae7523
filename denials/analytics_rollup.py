"""Bring the figures' tables (``denials.analytics_models``) up to date with the rows they copy.

The denial side of the refresh; ``appeals.analytics_rollup.figures_refresh`` runs it, then the
appeal lines, in one transaction, and stamps ``FiguresState.refreshed_at``.

What counts as changed, without trusting a clock (a long ingest commits rows stamped minutes
earlier than a refresh that ran meanwhile, so a time watermark would miss them):

- **A denial** whose copy is missing, or was taken at another ``version`` / ``updated_at`` /
  ``triaged_at`` / ``worked_at``: every service write bumps the version and ``updated_at``, triage
  stamps ``triaged_at``, and the demo's history sets ``worked_at`` afterwards. One anti-join of
  the denials with their copies finds them (a write that goes round the services with a bare
  ``QuerySet.update`` is not seen: ``figures_rebuild`` then).
  A deleted denial takes its copy with it (the copy's foreign key cascades).
- **A remittance** with no claim figures yet (remittances are stored once and never changed).
- **The specialty ranges** (``ncci.SpecialtyRange``, edited by admins): their fingerprint is kept
  with the figures; another fingerprint re-derives every specialty.

The copies are written by ``INSERT ... SELECT`` from querysets that apply the rules of
``denials.analytics`` (``remittance_date_expr``, ``specialty_case``): the rules stay in one home.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from denials.analytics import (
    RESOLVE_DAYS,
    REVERSAL_STATUS,
    claim_marks,
    remittance_date_expr,
    specialties_of,
    specialty_case,
)
from denials.analytics_models import (
    EVERY,
    PREVENTION_CATEGORIES,
    ClaimFigure,
    DenialCell,
    DenialFact,
    FiguresState,
    PreventionCell,
)
from denials.models import ClaimPayment, Denial, Remittance, ServiceLine
from denials.vocabulary import STATUS_WRITTEN_OFF

#: ``source_triaged_at`` of a denial never triaged (a NULL would never compare equal).
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def specialty_fingerprint() -> str:
    """The admin's specialty ranges as one hash: another value means specialties must be derived again."""
    from ncci.selectors import specialty_ranges

    text = "\n".join(f"{r.specialty}|{r.first}|{r.last}|{r.position}" for r in specialty_ranges())
    return hashlib.sha256(text.encode()).hexdigest()


def figures_state() -> FiguresState:
    state = FiguresState.objects.order_by("pk").first()
    return state if state is not None else FiguresState.objects.create()


def analyze(model: Any) -> None:
    """Let PostgreSQL's planner know a table it just saw filled (inside the refresh's transaction,
    before autovacuum could): the marks' correlated look-ups then use their index instead of
    reading the whole table once per row."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def insert_select(model: Any, columns: list[str], rows: QuerySet[Any]) -> int:
    """``INSERT INTO model (columns) SELECT ...``: ``rows`` is a ``values()`` queryset whose every
    column is an annotation made in ``columns``' order (so the SELECT lists them in that order)."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. ``pk__in=[]``: nothing to insert
        return 0
    table = model._meta.db_table
    names = ", ".join(f'"{model._meta.get_field(c).column}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{table}" ({names}) {sql}', params)
        return int(cursor.rowcount or 0)


# --- Denials ------------------------------------------------------------------------------------
FACT_COLUMNS = [
    "denial",
    "claim_id",
    "payer_id",
    "queue_id",
    "remit_date",
    "remit_month",
    "category",
    "group_code",
    "carc",
    "setting",
    "procedure_code",
    "specialty",
    "status",
    "amount",
    "reversal",
    "resolution_reason",
    "worked_on",
    "column1",
    "column2",
    "provider_name",
    "provider_npi",
    "source_version",
    "source_updated_at",
    "source_triaged_at",
    "source_worked_at",
    "copied_at",
]


def _fact_rows(denials: QuerySet[Denial], *, now: dt.datetime) -> QuerySet[Any]:
    """The copies of ``denials``, one row each, every column in ``FACT_COLUMNS``' order."""
    codes = denials.order_by().values_list("line__procedure_code", flat=True).distinct()
    remit = remittance_date_expr()
    values = {
        "f_denial": F("pk"),
        "f_claim": F("claim_id"),
        "f_payer": F("payer_id"),
        "f_queue": F("queue_id"),
        "f_remit_date": remit,
        "f_remit_month": TruncMonth(remittance_date_expr(), output_field=DateField()),
        "f_category": F("category"),
        "f_group_code": F("group_code"),
        "f_carc": F("carc"),
        "f_setting": F("ncci_setting"),
        "f_code": Coalesce("line__procedure_code", Value(""), output_field=CharField()),
        "f_specialty": specialty_case("line__procedure_code", specialties_of(codes)),
        "f_status": F("status"),
        "f_amount": F("amount"),
        "f_reversal": Case(
            When(claim__status_code=REVERSAL_STATUS, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        "f_reason": F("resolution_reason"),
        "f_worked_on": TruncDate("worked_at"),
        "f_column1": F("ncci_column1"),
        "f_column2": F("ncci_column2"),
        "f_provider_name": F("claim__rendering_provider_name"),
        "f_provider_npi": F("claim__rendering_provider_npi"),
        "f_version": F("version"),
        "f_updated": F("updated_at"),
        "f_triaged": Coalesce("triaged_at", Value(EPOCH), output_field=DateTimeField()),
        "f_worked": Coalesce("worked_at", Value(EPOCH), output_field=DateTimeField()),
        "f_copied": Value(now, output_field=DateTimeField()),
    }
    return denials.order_by().annotate(**values).values(*values)


def _copy_matches_denial() -> Exists:
    """The copy (outer row: a ``DenialFact``) was taken of its denial as the denial is now."""
    return Exists(
        Denial.objects.filter(
            pk=OuterRef("denial_id"),
            version=OuterRef("source_version"),
            updated_at=OuterRef("source_updated_at"),
        )
        .annotate(
            triaged=Coalesce("triaged_at", Value(EPOCH), output_field=DateTimeField()),
            worked=Coalesce("worked_at", Value(EPOCH), output_field=DateTimeField()),
        )
        .filter(triaged=OuterRef("source_triaged_at"), worked=OuterRef("source_worked_at"))
    )


def denial_facts_refresh(*, now: dt.datetime, full: bool = False, specialties_changed: bool = False) -> dict[str, int]:
    """Copy again every denial changed since its copy (``full``: every denial), and derive every
    specialty again when the ranges changed; then add up again the months of ``DenialCell`` the
    copies removed or written touch. Rows written are stamped ``copied_at=now``.
    Run inside the caller's transaction (``appeals.analytics_rollup.figures_refresh``)."""
    touched: set[dt.date | None] = set()
    claims: set[int] = set()
    if full:
        removed, _ = DenialFact.objects.all().delete()
    else:
        stale = list(
            DenialFact.objects.filter(~_copy_matches_denial()).values_list("denial_id", "remit_month", "claim_id")
        )
        touched.update(month for _pk, month, _claim in stale)
        claims.update(claim for _pk, _month, claim in stale)
        removed = 0
        for start in range(0, len(stale), 5000):
            chunk = [pk for pk, _month, _claim in stale[start : start + 5000]]
            removed += DenialFact.objects.filter(denial_id__in=chunk).delete()[0]
    missing = Denial.objects.filter(~Exists(DenialFact.objects.filter(denial_id=OuterRef("pk"))))
    copied = insert_select(DenialFact, FACT_COLUMNS, _fact_rows(missing, now=now))
    derived = 0
    if specialties_changed and not full:  # a full copy derived them with the ranges as they are
        codes = DenialFact.objects.order_by().values_list("procedure_code", flat=True).distinct()
        derived = DenialFact.objects.update(
            specialty=specialty_case("procedure_code", specialties_of(codes)), copied_at=now
        )
    if full or derived:
        analyze(DenialFact)
        _mark_claims(DenialFact.objects.all())
        cells = denial_cells_refresh(months=None)
    else:
        written = DenialFact.objects.filter(copied_at=now).order_by()
        touched.update(written.values_list("remit_month", flat=True).distinct())
        claims.update(written.values_list("claim_id", flat=True).distinct())
        # A deleted denial leaves its month short of copies, and its claim's marks to set again.
        short = _months_short_of_copies()
        if short:
            _mark_claims(DenialFact.objects.filter(_in_months(short)))
        ordered = sorted(claims)
        for start in range(0, len(ordered), 5000):
            _mark_claims(DenialFact.objects.filter(claim_id__in=ordered[start : start + 5000]))
        touched.update(short)
        cells = denial_cells_refresh(months=touched) if touched else 0
    return {
        "denials_removed": int(removed or 0),
        "denials_copied": copied,
        "specialties_derived": derived,
        "denial_cells_written": cells,
    }


def _mark_claims(facts: QuerySet[DenialFact]) -> None:
    """Set the claim marks (``DenialFact.claim_first*``, ``claim_split*``) of ``facts``, which hold
    every copy of their claims, from the copies of the same claim."""
    same_claim = DenialFact.objects.filter(claim_id=OuterRef("claim_id"))
    earlier = same_claim.filter(denial_id__lt=OuterRef("denial_id"))
    no_queue = Value(0)
    elsewhere = same_claim.annotate(q=Coalesce("queue_id", no_queue)).filter(
        ~Q(q=Coalesce(OuterRef("queue_id"), no_queue)) | ~Q(payer_id=OuterRef("payer_id"))
    )
    facts.update(
        claim_first=~Exists(earlier),
        claim_first_setting=~Exists(earlier.filter(setting=OuterRef("setting"))),
        claim_first_specialty=~Exists(earlier.filter(specialty=OuterRef("specialty"))),
        claim_split=Exists(elsewhere),
        claim_split_setting=Exists(elsewhere.filter(setting=OuterRef("setting"))),
        claim_split_specialty=Exists(elsewhere.filter(specialty=OuterRef("specialty"))),
    )


def _in_months(months: set[dt.date | None]) -> Q:
    in_months = Q(remit_month__in=sorted(m for m in months if m is not None))
    return in_months | Q(remit_month__isnull=True) if None in months else in_months


# --- Denials added up per month (``DenialCell``) ------------------------------------------------------
CELL_COLUMNS = [
    "remit_month",
    "payer_id",
    "queue_id",
    "setting",
    "specialty",
    "category",
    "group_code",
    "carc",
    "status",
    "reversal",
    "resolution_reason",
    "n",
    "amount",
    "claims",
    "resolved",
    "resolved_days",
]
#: The slices of ``DenialCell``: the setting and specialty each row keeps (``EVERY``: added up).
CELL_SLICES: tuple[tuple[bool, bool], ...] = ((False, False), (True, False), (False, True))


def _cell_rows(facts: QuerySet[DenialFact], *, by_setting: bool, by_specialty: bool) -> QuerySet[Any]:
    """``facts`` added up into ``DenialCell`` rows of one slice, every column in ``CELL_COLUMNS``' order."""
    resolved = Q(worked_on__isnull=False, remit_date__isnull=False)
    keys = {
        "c_month": F("remit_month"),
        "c_payer": F("payer_id"),
        "c_queue": F("queue_id"),
        "c_setting": F("setting") if by_setting else Value(EVERY, output_field=CharField()),
        "c_specialty": F("specialty") if by_specialty else Value(EVERY, output_field=CharField()),
        "c_category": F("category"),
        "c_group_code": F("group_code"),
        "c_carc": F("carc"),
        "c_status": F("status"),
        "c_reversal": F("reversal"),
        "c_reason": Case(
            When(status=STATUS_WRITTEN_OFF, then=F("resolution_reason")),
            default=Value(""),
            output_field=CharField(),
        ),
    }
    first, split = claim_marks(by_setting=by_setting, by_specialty=by_specialty)
    sums = {
        "c_n": Count("*"),
        "c_amount": Sum("amount"),
        "c_claims": Count("pk", filter=Q(**{first: True, split: False})),
        "c_resolved": Count("pk", filter=resolved),
        "c_resolved_days": Coalesce(
            Sum(RESOLVE_DAYS, filter=resolved), Value(dt.timedelta(0)), output_field=DurationField()
        ),
    }
    if by_setting:  # only bundling denials have a setting: the others are in the every-setting slice
        facts = facts.exclude(setting="")
    return facts.order_by().annotate(**keys).values(*keys).annotate(**sums)


def _months_short_of_copies() -> set[dt.date | None]:
    """Months whose cells count other denials than the copies do: a denial deleted took its copy
    with it (the foreign key cascades, no stamp tells), so its month must be added up again. (A
    month where a copy was also written is added up again anyway.)"""
    counted = dict(
        DenialCell.objects.filter(setting=EVERY, specialty=EVERY)
        .order_by()
        .values_list("remit_month")
        .annotate(n=Sum("n"))
    )
    copies = dict(DenialFact.objects.order_by().values_list("remit_month").annotate(n=Count("*")))
    return {month for month in {*counted, *copies} if counted.get(month) != copies.get(month)}


def denial_cells_refresh(*, months: set[dt.date | None] | None) -> int:
    """Add up again the ``DenialCell`` rows of ``months`` (None: every month) from the copies."""
    cells = DenialCell.objects.all()
    facts = DenialFact.objects.all()
    if months is not None:
        cells, facts = cells.filter(_in_months(months)), facts.filter(_in_months(months))
    cells.delete()
    written = sum(
        insert_select(DenialCell, CELL_COLUMNS, _cell_rows(facts, by_setting=setting, by_specialty=specialty))
        for setting, specialty in CELL_SLICES
    )
    prevention = PreventionCell.objects.all()
    if months is not None:
        prevention = prevention.filter(_in_months(months))
    prevention.delete()
    return written + insert_select(PreventionCell, PREVENTION_CELL_COLUMNS, _prevention_rows(facts))


#: ``PreventionCell``'s columns: its keys (``PREVENTION_KEYS``' order after the month and queue), then the sums.
PREVENTION_KEYS: tuple[str, ...] = ("category", "column1", "column2", "setting", "provider_name", "provider_npi")
PREVENTION_CELL_COLUMNS = ["remit_month", "queue_id", *PREVENTION_KEYS, "n", "amount"]


def _prevention_rows(facts: QuerySet[DenialFact]) -> QuerySet[Any]:
    """``facts`` of the prevention categories added up into ``PreventionCell`` rows."""
    keys = {f"p_{name}": F(name) for name in ("remit_month", "queue_id", *PREVENTION_KEYS)}
    return (
        facts.filter(category__in=PREVENTION_CATEGORIES)
        .order_by()
        .annotate(**keys)
        .values(*keys)
        .annotate(p_n=Count("*"), p_amount=Sum("amount"))
    )


# --- Claims billed (the denial rate's denominator) -------------------------------------------------
CLAIM_COLUMNS = ["remittance", "payer_id", "remit_date", "specialty", "claims", "charge"]


def _claims_billed(remittances: QuerySet[Remittance]) -> QuerySet[ClaimPayment]:
    return ClaimPayment.objects.filter(remittance__in=remittances).exclude(status_code=REVERSAL_STATUS)


def _claim_totals(remittances: QuerySet[Remittance]) -> QuerySet[Any]:
    keys = {
        "f_remittance": F("remittance_id"),
        "f_payer": F("payer_id"),
        "f_date": Coalesce("remittance__payment_date", "remittance__production_date", output_field=DateField()),
        "f_specialty": Value("", output_field=CharField()),
    }
    return (
        _claims_billed(remittances)
        .order_by()
        .annotate(**keys)
        .values(*keys)
        .annotate(f_claims=Count("*"), f_charge=Sum("charge"))
    )


def _claim_specialties(remittances: QuerySet[Remittance]) -> QuerySet[Any]:
    lines = ServiceLine.objects.filter(claim__in=_claims_billed(remittances))
    codes = lines.order_by().values_list("procedure_code", flat=True).distinct()
    keys = {
        "f_remittance": F("claim__remittance_id"),
        "f_payer": F("claim__payer_id"),
        "f_date": Coalesce(
            "claim__remittance__payment_date", "claim__remittance__production_date", output_field=DateField()
        ),
        "f_specialty": specialty_case("procedure_code", specialties_of(codes)),
    }
    return (
        lines.order_by()
        .annotate(**keys)
        .values(*keys)
        .annotate(f_claims=Count("claim_id", distinct=True), f_charge=Sum("charge"))
    )


def claim_figures_refresh(*, full: bool = False, specialties_changed: bool = False) -> dict[str, int]:
    """Count the claims billed on every remittance not counted yet (``full``: all of them); when
    the specialty ranges changed, count every remittance's claims by specialty again."""
    if full:
        ClaimFigure.objects.all().delete()
    elif specialties_changed:
        ClaimFigure.objects.exclude(specialty="").delete()
    new = Remittance.objects.filter(~Exists(ClaimFigure.objects.filter(remittance_id=OuterRef("pk"))))
    new_ids = list(new.values_list("pk", flat=True))
    if not new_ids and not specialties_changed:
        return {"remittances_counted": 0}
    counted = Remittance.objects.filter(pk__in=new_ids)
    insert_select(ClaimFigure, CLAIM_COLUMNS, _claim_totals(counted))
    by_specialty = Remittance.objects.all() if specialties_changed and not full else counted
    insert_select(ClaimFigure, CLAIM_COLUMNS, _claim_specialties(by_specialty))
    # A remittance with nothing billed (only reversals, or no claims) still gets its row of zeros.
    empty = Remittance.objects.filter(pk__in=new_ids).filter(
        ~Exists(ClaimFigure.objects.filter(remittance_id=OuterRef("pk")))
    )
    ClaimFigure.objects.bulk_create(
        ClaimFigure(
            remittance_id=r.pk,
            payer_id=r.payer_id,
            remit_date=r.remittance_date,
            specialty="",
            claims=0,
            charge=0,
        )
        for r in empty
    )
    return {"remittances_counted": len(new_ids)}
