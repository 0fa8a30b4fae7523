"""Bring every figures table up to date: the denial side (``denials.analytics_rollup``), then the
appeal lines (``AppealLineFact``), in one transaction, and stamp ``FiguresState.refreshed_at``.

- ``figures_refresh()``: incremental; beat runs it every five minutes (``appeals.tasks.refresh_figures``).
  Two at once never both work: the second finds the state row locked and returns.
- ``figures_refresh(full=True)``: rebuild from scratch (``manage.py figures_rebuild``), after a
  write that went round the services (a bare ``QuerySet.update`` bumps no version).
- ``figures_refresh_on_read()``: the dashboard and the API call it first; it refreshes only in
  development and tests (``DEBUG``/``TESTING``), where a figure must follow the row just written.
  In production the page says how fresh the figures are ("Figures as of 14:05") instead.

An appeal's lines are copied again, all of them, when the appeal changed (its ``version``,
``updated_at`` or ``created_at`` moved: the demo dates its history afterwards), when one of its
denials was copied again, or when a line was added or taken away; the line's money, result and
"modifier used" follow ``appeals.analytics`` and ``appeals.recovery`` (the SQL forms of the rules,
so each rule keeps one home). A refresh that copied any line adds every ``AppealCell`` up again; one
that finds a month started whose copies the cells counted otherwise (a deleted appeal or denial took
its lines with it) copies that month's appeals again first.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
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
from django.utils import timezone

from appeals import analytics as rules
from appeals.analytics_models import LOST as LOST_RESULT
from appeals.analytics_models import PARTIAL, PENDING, WITHDRAWN, WON, AppealCell, AppealLineFact
from appeals.models import Appeal
from appeals.recovery import recovered_share_sql
from denials.analytics_models import FigureCache, FiguresState
from denials.analytics_rollup import (
    analyze,
    claim_figures_refresh,
    denial_facts_refresh,
    figures_state,
    insert_select,
    specialty_fingerprint,
)
from denials.vocabulary import BUNDLING_CATEGORIES

#: More appeals than this to copy again: copy them all (one statement, no id lists).
REBUILD_ABOVE = 20_000

LINE_COLUMNS = [
    "appeal",
    "denial",
    "started_on",
    "started_month",
    "decided_on",
    "decided_month",
    "result",
    "level",
    "coder_id",
    "payer_id",
    "denial_payer_id",
    "queue_id",
    "setting",
    "specialty",
    "category",
    "group_code",
    "carc",
    "column1",
    "column2",
    "modifier",
    "amount",
    "recovered",
    "source_version",
    "source_updated_at",
    "source_created_at",
    "copied_at",
]


def _line_rows(lines: QuerySet[Any], *, now: dt.datetime) -> QuerySet[Any]:
    """The copies of ``Appeal.denials.through`` rows, every column in ``LINE_COLUMNS``' order."""
    result = Case(
        When(rules.WON, then=Value(WON)),
        When(rules.PARTIAL, then=Value(PARTIAL)),
        When(rules.LOST, then=Value(LOST_RESULT)),
        When(rules.PENDING, then=Value(PENDING)),
        When(rules.WITHDRAWN, then=Value(WITHDRAWN)),
        default=Value(""),
        output_field=CharField(),
    )
    values = {
        "f_appeal": F("appeal_id"),
        "f_denial": F("denial_id"),
        "f_started": TruncDate("appeal__created_at"),
        "f_started_month": TruncMonth(TruncDate("appeal__created_at"), output_field=DateField()),
        "f_decided": F("appeal__decided_on"),
        "f_decided_month": TruncMonth("appeal__decided_on", output_field=DateField()),
        "f_result": result,
        "f_level": F("appeal__level"),
        "f_coder": F("appeal__created_by_id"),
        "f_payer": F("appeal__claim__payer_id"),
        "f_denial_payer": F("denial__payer_id"),
        "f_queue": F("denial__queue_id"),
        "f_setting": F("denial__ncci_setting"),
        "f_specialty": F("denial__figures__specialty"),
        "f_category": F("denial__category"),
        "f_group_code": F("denial__group_code"),
        "f_carc": F("denial__carc"),
        "f_column1": F("denial__ncci_column1"),
        "f_column2": F("denial__ncci_column2"),
        "f_modifier": rules.modifier_used_sql(),
        "f_amount": F("denial__amount"),
        "f_recovered": recovered_share_sql(),
        "f_version": F("appeal__version"),
        "f_updated": F("appeal__updated_at"),
        "f_created": F("appeal__created_at"),
        "f_copied": Value(now, output_field=DateTimeField()),
    }
    return lines.order_by().annotate(**values).values(*values)


#: The keys of each grouping's ``first_<grouping>`` mark (``AppealLineFact``): a line is first in its
#: group when no line of the same appeal with the same keys has a lower denial id.
FIRST_MARKS: dict[str, tuple[str, ...]] = {
    "first_appeal": (),
    "first_edit": ("column1", "column2"),
    "first_carc": ("group_code", "carc"),
    "first_category": ("category",),
    "first_modifier": ("modifier",),
    "first_specialty": ("specialty",),
}
#: What the filters read from a line: an appeal whose lines differ in one of these is ``mixed``.
FILTERED_KEYS: tuple[str, ...] = ("queue_id", "setting", "specialty", "denial_payer_id")


def _mark_lines(copied: QuerySet[AppealLineFact]) -> None:
    """Set the counting marks (``first_*``, ``mixed``) of the lines just copied, from the lines of
    the same appeal (an appeal's lines are always copied together, so they are all in ``copied``)."""
    same_appeal = AppealLineFact.objects.filter(appeal_id=OuterRef("appeal_id"))
    marks: dict[str, Any] = {
        mark: ~Exists(same_appeal.filter(denial_id__lt=OuterRef("denial_id"), **{key: OuterRef(key) for key in keys}))
        for mark, keys in FIRST_MARKS.items()
    }
    no_queue = Value(0)
    differs = ~Q(setting=OuterRef("setting")) | ~Q(specialty=OuterRef("specialty"))
    differs |= ~Q(denial_payer_id=OuterRef("denial_payer_id")) | ~Q(q=Coalesce(OuterRef("queue_id"), no_queue))
    marks["mixed"] = Exists(same_appeal.annotate(q=Coalesce("queue_id", no_queue)).filter(differs))
    marks["first_bundling"] = ~Exists(
        same_appeal.filter(denial_id__lt=OuterRef("denial_id"), category__in=BUNDLING_CATEGORIES)
    )
    marks["split_queue"] = Exists(
        same_appeal.annotate(q=Coalesce("queue_id", no_queue)).filter(~Q(q=Coalesce(OuterRef("queue_id"), no_queue)))
    )
    copied.update(**marks)


def appeal_line_facts_refresh(*, now: dt.datetime, full: bool = False) -> dict[str, int]:
    """Copy again the lines of every appeal changed since its copy (see the module docstring).
    Runs after ``denial_facts_refresh`` (it reads the denials' copies made at ``now``)."""
    through = Appeal.denials.through.objects
    if not full:
        stamp_moved = ~Exists(
            AppealLineFact.objects.filter(
                appeal_id=OuterRef("pk"),
                source_version=OuterRef("version"),
                source_updated_at=OuterRef("updated_at"),
                source_created_at=OuterRef("created_at"),
            )
        )
        denial_copied = through.filter(denial__figures__copied_at=now).values("appeal_id")
        line_added = through.filter(
            ~Exists(AppealLineFact.objects.filter(appeal_id=OuterRef("appeal_id"), denial_id=OuterRef("denial_id")))
        ).values("appeal_id")
        line_removed = AppealLineFact.objects.filter(
            ~Exists(through.filter(appeal_id=OuterRef("appeal_id"), denial_id=OuterRef("denial_id")))
        ).values("appeal_id")
        # A deleted denial takes its lines with it, leaving its appeal's other lines with marks and
        # recovered shares worked out with it: every appeal of a month short of copies again.
        short = _months_short_of_copies()
        of_short_months = AppealLineFact.objects.filter(started_month__in=short).values("appeal_id")
        affected = list(
            Appeal.objects.filter(
                Q(stamp_moved)
                | Q(pk__in=denial_copied)
                | Q(pk__in=line_added)
                | Q(pk__in=line_removed)
                | Q(pk__in=of_short_months)
            ).values_list("pk", flat=True)
        )
        full = len(affected) > REBUILD_ABOVE
    if full:
        AppealLineFact.objects.all().delete()
        copied = insert_select(AppealLineFact, LINE_COLUMNS, _line_rows(through.all(), now=now))
        analyze(AppealLineFact)
        _mark_lines(AppealLineFact.objects.all())
        return {"appeal_lines_copied": copied}
    copied = 0
    for start in range(0, len(affected), 2000):
        chunk = affected[start : start + 2000]
        AppealLineFact.objects.filter(appeal_id__in=chunk).delete()
        copied += insert_select(AppealLineFact, LINE_COLUMNS, _line_rows(through.filter(appeal_id__in=chunk), now=now))
        _mark_lines(AppealLineFact.objects.filter(appeal_id__in=chunk))
    return {"appeals_recopied": len(affected), "appeal_lines_copied": copied}


# --- Appeal lines added up per month (``AppealCell``) ------------------------------------------------
#: The counts and money of ``AppealCell``, in ``insert_select``'s column order after the keys.
CELL_SUMS: tuple[str, ...] = (
    "lines",
    "n",
    "won",
    "partial",
    "lost",
    "pending",
    "withdrawn",
    "at_stake",
    "decided_at_stake",
    "recovered",
)


def _cell_rows(grouping: str) -> tuple[list[str], QuerySet[Any]]:
    """The copies of appeals in one queue added up into the ``AppealCell`` rows of ``grouping``
    (``rules.CELL_GROUPINGS``: its keys, its mark, which lines): the columns and the rows."""
    fields, mark, where = rules.CELL_GROUPINGS[grouping]
    month = "decided_month" if grouping == rules.DECIDED_CELLS else "started_month"
    keys: dict[str, Any] = {
        "c_grouping": Value(grouping, output_field=CharField()),
        "c_month": F(month),
        "c_queue": F("queue_id"),
        **{f"c_{name}": F(name) for name in fields if name != month},
    }
    counted = Q(**{mark: True})
    zero = Value(0, output_field=AppealCell._meta.get_field("at_stake"))
    sums: dict[str, Any] = {
        "c_lines": Count("*"),
        "c_n": Count("pk", filter=counted),
        **{f"c_{name}": Count("pk", filter=counted & Q(result=r)) for name, r in rules.RESULT_COLUMNS.items()},
        "c_at_stake": Sum("amount"),
        "c_decided_at_stake": Coalesce(Sum("amount", filter=rules.LINE_DECIDED), zero),
        "c_recovered": Coalesce(Sum("recovered", filter=rules.LINE_DECIDED), zero),
    }
    columns = ["grouping", month, "queue_id", *(name for name in fields if name != month), *CELL_SUMS]
    lines = AppealLineFact.objects.filter(where, split_queue=False).order_by()
    return columns, lines.annotate(**keys).values(*keys).annotate(**sums)


#: ``AppealCell.grouping`` of the cells that only count every copy per month started (split
#: appeals included), so a refresh sees a copy taken away by a deletion; no figure reads them.
COPIES_COUNTED = "copies"


def appeal_cells_refresh() -> int:
    """Add every ``AppealCell`` up again from the copies (a few seconds at 250,000 lines)."""
    AppealCell.objects.all().delete()
    written = 0
    for grouping in rules.CELL_GROUPINGS:
        columns, rows = _cell_rows(grouping)
        written += insert_select(AppealCell, columns, rows)
    zero = Value(0)
    counts = {"c_grouping": Value(COPIES_COUNTED, output_field=CharField()), "c_month": F("started_month")}
    per_month = (
        AppealLineFact.objects.order_by()
        .annotate(**counts)
        .values(*counts)
        .annotate(c_lines=Count("*"), **{f"c_{name}": zero for name in CELL_SUMS if name != "lines"})
    )
    written += insert_select(AppealCell, ["grouping", "started_month", *CELL_SUMS], per_month)
    analyze(AppealCell)
    return written


def _months_short_of_copies() -> set[dt.date]:
    """Months started whose copies the cells count otherwise: a deleted appeal or denial took its
    copies with it (the foreign keys cascade) and no stamp tells."""
    counted = dict(
        AppealCell.objects.filter(grouping=COPIES_COUNTED)
        .order_by()
        .values_list("started_month")
        .annotate(n=Sum("lines"))
    )
    copies = dict(AppealLineFact.objects.order_by().values_list("started_month").annotate(n=Count("*")))
    return {month for month in {*counted, *copies} if counted.get(month) != copies.get(month)}


def figures_refresh(*, full: bool = False) -> dict[str, Any] | None:
    """Bring the figures up to date (see the module docstring); what changed and how long it took,
    or None when another refresh holds the state row."""
    started = time.perf_counter()
    with transaction.atomic():
        figures_state()  # the row exists before anyone locks it
        state = FiguresState.objects.select_for_update(skip_locked=True).order_by("pk").first()
        if state is None:
            return None
        _batch_memory()
        now = timezone.now()
        fingerprint = specialty_fingerprint()
        specialties_changed = state.specialty_fingerprint != fingerprint
        changed: dict[str, Any] = {"full": full}
        changed.update(denial_facts_refresh(now=now, full=full, specialties_changed=specialties_changed))
        changed.update(claim_figures_refresh(full=full, specialties_changed=specialties_changed))
        changed.update(appeal_line_facts_refresh(now=now, full=full))
        lines_moved = full or changed.get("appeal_lines_copied") or changed.get("appeals_recopied")
        cells = appeal_cells_refresh() if lines_moved or _months_short_of_copies() else 0
        changed["appeal_cells_written"] = cells
        moved = full or specialties_changed or any(n for name, n in changed.items() if name != "full")
        version = state.version + 1 if moved else state.version
        if moved:  # the answers kept for the figures as they were are stale now
            FigureCache.objects.filter(version__lt=version).delete()
        seconds = round(time.perf_counter() - started, 3)
        changed["seconds"] = seconds
        changed["version"] = version
        changed["moved"] = moved
        if full:
            compact()
        FiguresState.objects.filter(pk=state.pk).update(
            refreshed_at=now,
            version=version,
            specialty_fingerprint=fingerprint,
            last_seconds=seconds,
            last_changed=changed,
        )
    if full:
        vacuum()
    return changed


#: PostgreSQL's ``work_mem`` for the refresh's transaction: the copies join a million denials to
#: their lines and claims. With the default 4 MB the hash of the denials spills to disk in batches,
#: and the claim-level denials (no line: one NULL key) cannot be split across batches, so the
#: batches multiply without end (a rebuild that took 5 minutes ran for 20 and 259,000 temporary
#: files). A batch job's memory, for one transaction, not the server's default.
REFRESH_WORK_MEM = "256MB"


def _batch_memory() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{REFRESH_WORK_MEM}'")


def compact() -> None:
    """After a rebuild (PostgreSQL): rewrite the copies in date order (the cells by slice) without
    the row versions the marks' UPDATE and the deletes left behind, so a date range reads a few
    pages, not one per row across a table twice its size. Inside the rebuild's transaction
    (readers wait for its end, a minute or so)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the copies' deferred foreign key checks first
        cursor.execute('CLUSTER "denials_denialfact" USING "denialfact_date"')
        cursor.execute('CLUSTER "appeals_appeallinefact" USING "appeallinefact_started"')
        cursor.execute('CLUSTER "denials_denialcell" USING "denialcell_slice"')
        cursor.execute('ANALYZE "denials_denialfact", "appeals_appeallinefact", "denials_denialcell"')


def vacuum() -> None:
    """After a rebuild (PostgreSQL, outside any transaction): mark the rewritten copies' pages
    all-visible, so the covering indexes (prevention's) are read without visiting the table; until
    then autovacuum would, some time later. Not possible inside a transaction (the tests'): skipped."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for table in ("denials_denialfact", "appeals_appeallinefact", "denials_denialcell", "appeals_appealcell"):
            cursor.execute(f'VACUUM "{table}"')


def figures_refresh_on_read() -> None:
    """Development and tests: refresh before reading, so a figure follows the row just written.
    Production reads what the beat task last wrote, and the page says when that was."""
    if settings.DEBUG or getattr(settings, "TESTING", False):
        figures_refresh()


def figures_as_of() -> dt.datetime | None:
    """When the figures were last brought up to date (None: never)."""
    state = FiguresState.objects.order_by("pk").first()
    return state.refreshed_at if state is not None else None


def figures_warm() -> dict[str, Any]:
    """Answer, once, what managers open first after the figures change: the dashboard without
    filters and every grouping of the API, for each scope of visible queues (each manager's
    teams, and every team for admins), so those reads come from the cache (``cached_figure``).
    The beat task runs it after a refresh that changed the figures."""
    from django.contrib.auth import get_user_model

    from appeals import analytics_tables as tables
    from appeals.analytics_views import DEFAULT_GROUPING, dashboard_table_ids
    from appeals.reference_lines import reference_lines
    from denials.analytics import DENIAL_GROUPINGS, Filters, _scope_key, denial_counts
    from denials.roles import ADMIN, MANAGER

    started = time.perf_counter()
    users = get_user_model().objects.filter(Q(groups__name__in=[MANAGER, ADMIN]) | Q(is_superuser=True), is_active=True)
    scopes: dict[str, Any] = {}
    for user in users.distinct().order_by("pk"):
        scopes.setdefault(_scope_key(user), user)
    filters = Filters()
    references = reference_lines()
    for user in scopes.values():
        for table_id in dashboard_table_ids(DEFAULT_GROUPING):
            tables.kept_table(table_id=table_id, user=user, filters=filters, references=references)
        for by in rules.APPEAL_GROUPINGS:
            rules.appeal_success(user=user, filters=filters, by=by)
        for by in DENIAL_GROUPINGS:
            denial_counts(user=user, filters=filters, by=by)
    return {"scopes": len(scopes), "seconds": round(time.perf_counter() - started, 3)}
