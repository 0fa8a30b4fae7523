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
    Exists,
    F,
    OuterRef,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from denials.analytics import (
    REVERSAL_STATUS,
    remittance_date_expr,
    specialties_of,
    specialty_case,
)
from denials.analytics_models import ClaimFigure, DenialFact, FiguresState
from denials.models import ClaimPayment, Denial, Remittance, ServiceLine

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
    specialty again when the ranges changed. Rows written are stamped ``copied_at=now``.
    Run inside the caller's transaction (``appeals.analytics_rollup.figures_refresh``)."""
    if full:
        removed, _ = DenialFact.objects.all().delete()
    else:
        removed, _ = DenialFact.objects.filter(~_copy_matches_denial()).delete()
    missing = Denial.objects.filter(~Exists(DenialFact.objects.filter(denial_id=OuterRef("pk"))))
    copied = insert_select(DenialFact, FACT_COLUMNS, _fact_rows(missing, now=now))
    derived = 0
    if specialties_changed and not full:  # a full copy derived them with the ranges as they are
        codes = DenialFact.objects.order_by().values_list("procedure_code", flat=True).distinct()
        derived = DenialFact.objects.update(
            specialty=specialty_case("procedure_code", specialties_of(codes)), copied_at=now
        )
    return {"denials_removed": int(removed or 0), "denials_copied": copied, "specialties_derived": derived}


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
