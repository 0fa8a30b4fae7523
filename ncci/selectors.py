"""Reads of the NCCI reference data: lookups for a claim's lines, search, API lists.

The claim lookups make one query for the PTP edits (``column1__in=codes, column2__in=codes``,
one setting) and one for the MUEs, then decide in Python with the pure rules of ``ncci.ptp``
(through ``ncci.scrubber``). The lists that must filter in the database (API, search page)
use ``ptp_in_force_q``, the SQL twin of ``ncci.ptp.row_in_force``, checked against it on
random rows (tests/test_ptp_agreement.py), so the database and the rules never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from ncci import ptp, scrubber, specialties
from ncci.models import (
    Carc,
    CodeListImport,
    GroupCode,
    Modifier,
    Mue,
    NcciImport,
    ProcedureCode,
    PtpEdit,
    Rarc,
    Setting,
    SpecialtyRange,
)
from ncci.ptp import ModifierGroups, PtpEditFact
from ncci.scrubber import ClaimLine, MueFact, PtpFlag, ScrubResult

ALL_SETTINGS: tuple[str, ...] = tuple(Setting.values)


def _code(value: str) -> str:
    return (value or "").strip().upper()


def _codes(lines: Iterable[ClaimLine]) -> list[str]:
    return sorted({_code(line.code) for line in lines if _code(line.code)})


def _settings(setting: str | None) -> list[str]:
    # Without a setting, ``setting IN (all three)`` still lets PostgreSQL use the
    # (setting, column1, ...) natural-key index; a bare ``column1 = X`` could not.
    return [setting] if setting else list(ALL_SETTINGS)


def ptp_fact(edit: PtpEdit) -> PtpEditFact:
    return PtpEditFact(
        column1=edit.column1,
        column2=edit.column2,
        effective_date=edit.effective_date,
        deletion_date=edit.deletion_date,
        modifier_indicator=edit.modifier_indicator,
        rationale=edit.rationale,
        quarter=edit.quarter,
        setting=edit.setting,
        edit_id=edit.pk,
    )


_PTP_FACT_FIELDS = (
    "pk",
    "column1",
    "column2",
    "effective_date",
    "deletion_date",
    "modifier_indicator",
    "rationale",
    "quarter",
    "setting",
)


def ptp_edit_facts_for_codes(*, codes: Iterable[str], setting: str = Setting.PRACTITIONER) -> list[PtpEditFact]:
    """Every PTP edit, whatever its dates, between any two of ``codes``: one query.

    ``setting = %s AND column1 IN (...) AND column2 IN (...)``, served by the natural-key
    index. Written as SQL rather than a queryset: this runs for every claim scrubbed and
    every denial triaged, and the ORM's query building was two thirds of its time.
    """
    wanted = sorted({_code(c) for c in codes if _code(c)})
    if len(wanted) < 2:
        return []
    marks = ", ".join(["%s"] * len(wanted))
    sql = (
        "SELECT id, column1, column2, effective_date, deletion_date, modifier_indicator, rationale, quarter, "  # noqa: S608
        f"setting FROM {PtpEdit._meta.db_table} WHERE setting = %s AND column1 IN ({marks}) AND column2 IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [setting, *wanted, *wanted])
        rows = cursor.fetchall()
    return [
        PtpEditFact(
            column1=c1,
            column2=c2,
            effective_date=_as_date(eff),
            deletion_date=_as_date(deleted) if deleted is not None else None,
            modifier_indicator=indicator,
            rationale=rationale,
            quarter=quarter,
            setting=row_setting,
            edit_id=pk,
        )
        for pk, c1, c2, eff, deleted, indicator, rationale, quarter, row_setting in rows
    ]


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def ptp_edit_facts_by_pair(*, codes: Iterable[str]) -> dict[tuple[str, str, str], list[PtpEditFact]]:
    """Every PTP edit between any two of ``codes``, in every setting, whatever its dates,
    keyed by (setting, Column 1, Column 2): one query, for triage's chunks of denials."""
    wanted = sorted({_code(c) for c in codes if _code(c)})
    found: dict[tuple[str, str, str], list[PtpEditFact]] = {}
    if len(wanted) < 2:
        return found
    rows = PtpEdit.objects.filter(column1__in=wanted, column2__in=wanted).values_list(*_PTP_FACT_FIELDS)
    for pk, c1, c2, eff, deleted, indicator, rationale, quarter, row_setting in rows:
        found.setdefault((row_setting, c1, c2), []).append(
            PtpEditFact(
                column1=c1,
                column2=c2,
                effective_date=eff,
                deletion_date=deleted,
                modifier_indicator=indicator,
                rationale=rationale,
                quarter=quarter,
                setting=row_setting,
                edit_id=pk,
            )
        )
    return found


def modifier_groups() -> ModifierGroups:
    """The NCCI-associated modifiers by group, as admins keep them in the ``Modifier`` table.

    DOMAIN.md §5's lists (``ncci.ptp.DEFAULT_MODIFIER_GROUPS``) only while the table has no
    bypass modifier at all (a fresh database before ``load_codes``): an admin who empties one
    group keeps that choice, an empty table is a missing load.
    """
    with connection.cursor() as cursor:  # SQL for the same reason as the PTP lookup: it runs per claim
        cursor.execute(
            f"SELECT code, bypass_group FROM {Modifier._meta.db_table} WHERE bypass_group <> %s",  # noqa: S608
            [Modifier.BypassGroup.NONE.value],
        )
        rows = cursor.fetchall()
    return ModifierGroups.from_rows(rows) if rows else ptp.DEFAULT_MODIFIER_GROUPS


class CodeWords(str):
    """What a code means: Overturn's plain-words summary first, then the official description.

    A ``str`` (the summary, or the official text when there is no summary), so every caller
    that wants one line of words keeps working; the template tags read both parts to show
    the summary first and the official text after it.
    """

    summary: str
    official: str

    def __new__(cls, summary: str = "", official: str = "") -> CodeWords:
        summary, official = (summary or "").strip(), (official or "").strip()
        words = super().__new__(cls, summary or official)
        words.summary, words.official = summary, official
        return words

    def __reduce__(self) -> tuple[Any, ...]:  # the cache pickles it
        return (CodeWords, (self.summary, self.official))


def code_words(
    *, carcs: Iterable[str] | None = None, rarcs: Iterable[str] | None = None, with_group_codes: bool = False
) -> dict[str, CodeWords]:
    """{'CARC:97': CodeWords, 'RARC:M15': ..., 'GROUP:CO': ...} in one query.

    ``None`` means every code of the list; an empty set means none. A code without words has
    no entry (the pages say "no description loaded").
    """
    from django.db.models import CharField

    def tagged(model: Any, kind: str, codes: Iterable[str] | None) -> QuerySet[Any]:
        rows = model.objects.all() if codes is None else model.objects.filter(code__in={_code(c) for c in codes if c})
        return (
            rows.order_by()
            .annotate(kind=Value(kind, output_field=CharField()))
            .values_list("kind", "code", "summary", "description")
        )

    parts = [tagged(Carc, "CARC", carcs), tagged(Rarc, "RARC", rarcs)]
    if with_group_codes:
        parts.append(tagged(GroupCode, "GROUP", None))
    query = parts[0].union(*parts[1:], all=True)
    return {
        f"{kind}:{code}": CodeWords(summary, description)
        for kind, code, summary, description in query
        if summary or description
    }


def code_descriptions() -> dict[str, str]:
    """'CARC:97' / 'RARC:M15' -> the code's words (summary first; see ``CodeWords``), for
    triage's explanations: one query."""
    return dict(code_words())


def ptp_edits_for_lines(
    *,
    lines: Sequence[ClaimLine],
    date_of_service: dt.date,
    setting: str = Setting.PRACTITIONER,
    groups: ModifierGroups | None = None,
) -> list[PtpFlag]:
    """Every PTP edit in force on the date between two of the claim's lines.

    Each flag says which line is Column 2 (``column2_index``), the bypass modifier on it if
    any (``bypass_modifier``), and whether the indicator allows one (``bypass_allowed``).
    """
    return scrubber.ptp_flags(
        lines,
        ptp_edit_facts_for_codes(codes=_codes(lines), setting=setting),
        date_of_service=date_of_service,
        modifier_groups=modifier_groups() if groups is None else groups,
        include_not_in_force=False,
    )


def ptp_edit_for_pair(
    *, column1: str, column2: str, date_of_service: dt.date, setting: str = Setting.PRACTITIONER
) -> PtpEdit | None:
    """The edit with Column 1 ``column1`` and Column 2 ``column2`` in force on the date, or None.

    One query for the pair's rows; ``ncci.ptp.edit_for_date`` says which one is in force.
    """
    edits = list(PtpEdit.objects.filter(setting=setting, column1=_code(column1), column2=_code(column2)))
    edit, in_force = ptp.edit_for_date(edits, date_of_service)
    return edit if in_force else None


def mue_facts_for_codes(
    *, codes: Iterable[str], date_of_service: dt.date, setting: str = Setting.PRACTITIONER
) -> dict[str, MueFact]:
    """The MUE in force for each code on the date: one query (SQL, like the PTP lookup).

    MUE tables have no dates of their own: each quarter's file is the table from its first
    day on. A code's MUE on a date is the one from the latest imported quarter that starts on
    or before it and lists the code.
    """
    wanted = sorted({_code(c) for c in codes if _code(c)})
    if not wanted:
        return {}
    marks = ", ".join(["%s"] * len(wanted))
    sql = (
        "SELECT id, code, mue_value, adjudication_indicator, adjudication_text, rationale, quarter, effective_date, "  # noqa: S608
        f"setting FROM {Mue._meta.db_table} WHERE setting = %s AND code IN ({marks}) AND effective_date <= %s "
        "ORDER BY code, effective_date"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [setting, *wanted, date_of_service])
        rows = cursor.fetchall()
    latest: dict[str, MueFact] = {}
    for pk, code, value, indicator, text, rationale, quarter, effective, row_setting in rows:
        # Ordered by date: the last one seen for a code wins.
        latest[code] = MueFact(
            code=code,
            mue_value=value,
            adjudication_indicator=indicator,
            adjudication_text=text,
            rationale=rationale,
            quarter=quarter,
            effective_date=_as_date(effective),
            setting=row_setting,
            mue_id=pk,
        )
    return latest


def mues_for_codes(
    *, codes: Iterable[str], date_of_service: dt.date, setting: str = Setting.PRACTITIONER
) -> dict[str, MueFact]:
    return mue_facts_for_codes(codes=codes, date_of_service=date_of_service, setting=setting)


def mue_flags_for_lines(
    *, lines: Sequence[ClaimLine], date_of_service: dt.date, setting: str = Setting.PRACTITIONER
) -> list[scrubber.MueFlag]:
    """Every MUE the lines' units exceed."""
    mues = mue_facts_for_codes(codes=_codes(lines), date_of_service=date_of_service, setting=setting)
    return scrubber.mue_flags(lines, mues, date_of_service=date_of_service)


def scrub_claim(
    *,
    lines: Sequence[ClaimLine],
    date_of_service: dt.date,
    setting: str = Setting.PRACTITIONER,
) -> ScrubResult:
    """The flags a claim would hit (DOMAIN.md §8): three queries whatever the claim's size."""
    codes = _codes(lines)
    return scrubber.scrub(
        lines,
        date_of_service=date_of_service,
        edits=ptp_edit_facts_for_codes(codes=codes, setting=setting),
        mues=mue_facts_for_codes(codes=codes, date_of_service=date_of_service, setting=setting),
        modifier_groups=modifier_groups(),
    )


# ---------------------------------------------------------------------------------------
# Lists: API and search page
# ---------------------------------------------------------------------------------------


def _applied_later_rows() -> QuerySet[PtpEdit]:
    """The outer row's newer siblings that ever applied: the rows that supersede it
    (``ncci.ptp.current_edit``; indicator 9 and edits deleted on their effective date do not)."""
    return PtpEdit.objects.filter(
        Q(deletion_date__isnull=True) | Q(deletion_date__gt=F("effective_date")),
        setting=OuterRef("setting"),
        column1=OuterRef("column1"),
        column2=OuterRef("column2"),
        effective_date__gt=OuterRef("effective_date"),
    ).exclude(modifier_indicator=ptp.NOT_APPLICABLE)


def ptp_next_effective_date() -> Subquery:
    """Annotation: when a newer row of the same pair supersedes this one (None: nothing does).

    What ``PtpEdit.in_force_on`` reads, so a list can say "in force" row by row without a
    query per row. Served by the natural-key index (setting, column1, column2, effective_date).
    """
    return Subquery(_applied_later_rows().order_by("effective_date").values("effective_date")[:1])


def ptp_in_force_q(on: dt.date) -> Q:
    """SQL twin of ``ncci.ptp.row_in_force`` for list filters that must paginate in the database.

    The row's own dates (``ncci.ptp.edit_in_force``): effective on or before the date, not
    indicator 9, and either no deletion date or one after the effective date that is on or
    after the date (inclusive); and no newer row of the pair that ever applied has taken
    effect by the date (the latest effective date wins, ``ncci.ptp.current_edit``).
    """
    own_dates = (
        Q(effective_date__lte=on)
        & ~Q(modifier_indicator=ptp.NOT_APPLICABLE)
        & (Q(deletion_date__isnull=True) | (Q(deletion_date__gte=on) & Q(deletion_date__gt=F("effective_date"))))
    )
    superseded = Exists(_applied_later_rows().filter(effective_date__lte=on))
    return own_dates & ~Q(superseded)


def ptp_edit_list(
    *,
    column1: str = "",
    column2: str = "",
    setting: str = "",
    on: dt.date | None = None,
    modifier_indicator: str = "",
    quarter: str = "",
) -> QuerySet[PtpEdit]:
    edits = PtpEdit.objects.filter(setting__in=_settings(setting))
    if column1:
        edits = edits.filter(column1=_code(column1))
    if column2:
        edits = edits.filter(column2=_code(column2))
    if on is not None:
        edits = edits.filter(ptp_in_force_q(on))
    if modifier_indicator:
        edits = edits.filter(modifier_indicator=modifier_indicator)
    if quarter:
        edits = edits.filter(quarter=quarter.upper())
    return edits.order_by("setting", "column1", "column2", "effective_date")


def mue_in_force_q(on: dt.date) -> Q:
    """The MUE rows in force on a date: no later quarter on or before it lists the code."""
    newer = Mue.objects.filter(
        setting=OuterRef("setting"),
        code=OuterRef("code"),
        effective_date__gt=OuterRef("effective_date"),
        effective_date__lte=on,
    )
    return Q(effective_date__lte=on) & ~Q(Exists(newer))


def mue_list(*, code: str = "", setting: str = "", on: dt.date | None = None, quarter: str = "") -> QuerySet[Mue]:
    mues = Mue.objects.filter(setting__in=_settings(setting))
    if code:
        mues = mues.filter(code=_code(code))
    if quarter:
        mues = mues.filter(quarter=quarter.upper())
    if on is not None:
        mues = mues.filter(mue_in_force_q(on))
    return mues.order_by("setting", "code", "-effective_date")


DIRECTIONS = ("both", "column1", "column2")


def ptp_edits_for_code(
    *, code: str, setting: str = "", direction: str = "both", in_force_on: dt.date | None = None
) -> QuerySet[PtpEdit]:
    """A code's edits as Column 1, as Column 2, or both (Column 1 first), for the search page."""
    code = _code(code)
    edits = PtpEdit.objects.filter(setting__in=_settings(setting))
    if direction == "column1":
        edits = edits.filter(column1=code)
    elif direction == "column2":
        edits = edits.filter(column2=code)
    else:
        edits = edits.filter(Q(column1=code) | Q(column2=code))
    if in_force_on is not None:
        edits = edits.filter(ptp_in_force_q(in_force_on))
    role = Case(When(column1=code, then=Value(1)), default=Value(2), output_field=IntegerField())
    # next_effective_date: what PtpEdit.in_force_on reads, so the page asks no query per row.
    return edits.annotate(role=role, next_effective_date=ptp_next_effective_date()).order_by(
        "role", "column1", "column2", "setting", "-effective_date"
    )


def ptp_edit_counts_for_code(*, code: str, setting: str = "", on: dt.date) -> dict[str, int]:
    """How many edits a code has as Column 1 and as Column 2, and how many are in force: one query."""
    code = _code(code)
    in_force = ptp_in_force_q(on)
    return PtpEdit.objects.filter(Q(column1=code) | Q(column2=code), setting__in=_settings(setting)).aggregate(
        as_column1=Count("pk", filter=Q(column1=code)),
        as_column2=Count("pk", filter=Q(column2=code)),
        as_column1_in_force=Count("pk", filter=Q(column1=code) & in_force),
        as_column2_in_force=Count("pk", filter=Q(column2=code) & in_force),
    )


def procedure_descriptions(*, codes: Iterable[str]) -> dict[str, str]:
    """Short descriptions (else the long one) of the codes known to the ProcedureCode table:
    one query. A code without words has no entry (pages say "no description loaded")."""
    wanted = {_code(c) for c in codes if c}
    if not wanted:
        return {}
    return {
        code: short or long
        for code, short, long in ProcedureCode.objects.filter(code__in=wanted).values_list(
            "code", "short_description", "description"
        )
        if short or long
    }


def procedure_code_suggestions(*, text: str, limit: int = 10) -> list[ProcedureCode]:
    """Codes whose code starts with, or whose description contains, what was typed."""
    text = text.strip()
    if not text:
        return []
    query = Q(code__istartswith=text) | Q(short_description__icontains=text) | Q(description__icontains=text)
    return list(ProcedureCode.objects.filter(query).order_by("code")[:limit])


def ncci_import_list(*, limit: int = 30) -> list[NcciImport]:
    return list(NcciImport.objects.select_related("created_by").order_by("-created_at", "-pk")[:limit])


def code_list_import_list(*, limit: int = 30) -> list[CodeListImport]:
    return list(CodeListImport.objects.select_related("created_by").order_by("-created_at", "-pk")[:limit])


def code_list_import_get(*, import_id: int) -> CodeListImport:
    return CodeListImport.objects.select_related("created_by").get(pk=import_id)


def ncci_import_get(*, import_id: int) -> NcciImport:
    return NcciImport.objects.select_related("created_by").get(pk=import_id)


def mues_for_code_by_setting(*, code: str, date_of_service: dt.date, setting: str = "") -> list[MueFact]:
    """A code's MUE in force on the date, per setting (one query), practitioner first."""
    rows = (
        Mue.objects.filter(code=_code(code), setting__in=_settings(setting), effective_date__lte=date_of_service)
        .order_by("setting", "effective_date")
        .values_list(
            "pk",
            "code",
            "mue_value",
            "adjudication_indicator",
            "adjudication_text",
            "rationale",
            "quarter",
            "effective_date",
            "setting",
        )
    )
    latest: dict[str, MueFact] = {}
    for pk, row_code, value, indicator, text, rationale, quarter, effective, row_setting in rows:
        latest[row_setting] = MueFact(
            code=row_code,
            mue_value=value,
            adjudication_indicator=indicator,
            adjudication_text=text,
            rationale=rationale,
            quarter=quarter,
            effective_date=effective,
            setting=row_setting,
            mue_id=pk,
        )
    return [latest[s] for s in ALL_SETTINGS if s in latest]


def specialty_ranges() -> list[specialties.CodeRange]:
    """The admin-edited procedure code ranges, as ``ncci.specialties.specialty_for`` reads them."""
    return [
        specialties.CodeRange(specialty=r.specialty, first=r.first, last=r.last, position=r.position)
        for r in SpecialtyRange.objects.order_by("position", "id")
    ]
