"""Reads for the denials app: every page and API endpoint gets its rows from here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from denials.models import ACTIVE_STATUSES as ACTIVE_DENIAL_STATUSES
from denials.models import (
    Adjustment,
    AuditEvent,
    ClaimPayment,
    Denial,
    Remittance,
    RemittanceFile,
    ServiceLine,
)

# --- Who sees what ------------------------------------------------------------------------
# One visibility rule per kind of object, used by every page, partial, API endpoint and
# download. A denial is seen through its work queue; a claim through its denials; a file
# through its claims. Each is a semi-join on a handful of queue ids, never a join through
# team membership for every row.


def _team_queue_ids(user: Any) -> QuerySet[Any]:
    from denials.models import WorkQueue

    return WorkQueue.objects.filter(team__members=user).values("id")


def queues_visible_to(*, user: Any) -> QuerySet[Any] | None:
    """The one place that decides which denials a user may see, as the work queues they sit in
    (a subquery of ids), or None for every denial whatever its queue.

    Admins (and superusers) see every denial; coders and managers see the denials in
    their teams' work queues, and nothing else (another team's id answers 404). An
    account with no role sees none, whatever team it is on. ``denials_visible_to`` applies
    it to the denials, ``denials.analytics.facts_in_scope`` to the figures' copies.
    """
    from denials.models import WorkQueue
    from denials.roles import has_role, is_admin

    if is_admin(user):
        return None
    if not has_role(user):
        return WorkQueue.objects.none().values("id")
    return _team_queue_ids(user)


def denials_visible_to(*, user: Any) -> QuerySet[Denial]:
    """The denials a user may see (``queues_visible_to``)."""
    queues = queues_visible_to(user=user)
    denials = Denial.objects.all()
    return denials if queues is None else denials.filter(queue_id__in=queues)


def claims_visible_to(*, user: Any) -> QuerySet[ClaimPayment]:
    """Claims with at least one denial the user may see (admins: every claim).

    A claim nobody denied (paid in full) sits in no queue: only admins see it. Coders
    work denials, and a claim's page is where they read the rest of it.
    """
    from denials.roles import is_admin

    claims = ClaimPayment.objects.all()
    if is_admin(user):
        return claims
    return claims.filter(pk__in=denials_visible_to(user=user).values("claim_id"))


def remittance_files_visible_to(*, user: Any) -> QuerySet[RemittanceFile]:
    """Files with at least one claim the user may see, and the files they uploaded
    themselves (so an upload can be followed, and retried if it failed); admins see all,
    failed and empty ones included."""
    from django.db.models import Exists, OuterRef

    from denials.roles import has_role, is_admin

    files = RemittanceFile.objects.all()
    if is_admin(user):
        return files
    if not has_role(user):
        return files.none()
    # EXISTS per file: a list page reads the newest files first and stops at the first
    # visible denial of each, instead of collecting every claim of the team.
    seen = denials_visible_to(user=user).filter(claim__remittance__file_id=OuterRef("pk"))
    return files.filter(Q(Exists(seen)) | Q(uploaded_by=user))


def remittance_file_reports_visible_to(*, user: Any, file: RemittanceFile) -> bool:
    """A file's own reports (error, warnings, strict findings, 999, PLB references) name
    claims by patient control number, every team's alike: admins and the uploader read them."""
    from denials.roles import is_admin

    return is_admin(user) or (file.uploaded_by_id is not None and file.uploaded_by_id == user.pk)


def remittance_file_list(*, user: Any) -> QuerySet[RemittanceFile]:
    # The stored bytes can be megabytes each: never load them for a list.
    return (
        remittance_files_visible_to(user=user)
        .select_related("payer", "duplicate_of")
        .defer("content", "acknowledgement_999")
    )


def remittance_file_get(*, user: Any, file_id: int) -> RemittanceFile:
    """One file the user may see; DoesNotExist for any other id."""
    return (
        remittance_files_visible_to(user=user)
        .select_related("payer", "duplicate_of", "uploaded_by")
        .defer("content")
        .get(pk=file_id)
    )


def remittance_list_for_file(*, user: Any, file: RemittanceFile) -> QuerySet[Remittance]:
    """The file's remittances; for someone who may not read the whole file, only those
    holding a claim they may see."""
    remittances = file.remittances.select_related("payer", "payee").prefetch_related("provider_adjustments")
    if remittance_file_reports_visible_to(user=user, file=file):
        return remittances
    return remittances.filter(pk__in=claims_visible_to(user=user).filter(remittance__file=file).values("remittance_id"))


def claim_list(
    *,
    user: Any,
    patient_control_number: str = "",
    payer_claim_number: str = "",
    payer_id: int | None = None,
    status: str = "",
    file_id: int | None = None,
) -> QuerySet[ClaimPayment]:
    """The claims the user may see, filtered."""
    claims = claims_visible_to(user=user).select_related("payer", "remittance")
    if patient_control_number:
        claims = claims.filter(patient_control_number=patient_control_number.strip())
    if payer_claim_number:
        claims = claims.filter(payer_claim_number=payer_claim_number.strip())
    if payer_id:
        claims = claims.filter(payer_id=payer_id)
    if status:
        claims = claims.filter(status_code=status)
    if file_id:
        claims = claims.filter(remittance__file_id=file_id)
    # Newest first by primary key: an index scan, fast with hundreds of thousands of claims.
    return claims.order_by("-id")


#: A remittance file's stored bytes and reports: megabytes, never needed beside a claim or denial.
FILE_HEAVY_FIELDS = ("content", "acknowledgement_999", "validation_findings", "warnings")


def claim_detail_queryset(*, user: Any) -> QuerySet[ClaimPayment]:
    """Claims the user may see, with everything a claim page or the API detail shows: the
    lines with their adjustments and remarks, and the denials the user may see (another
    team's denial of the same claim stays out of sight), in a fixed number of queries."""
    return (
        claims_visible_to(user=user)
        .select_related("payer", "remittance__file", "remittance__payee", "previous_payment", "reverses")
        .defer(*(f"remittance__file__{f}" for f in FILE_HEAVY_FIELDS))
        .prefetch_related(
            Prefetch(
                "service_lines",
                queryset=ServiceLine.objects.prefetch_related("adjustments", "remarks").order_by("sequence"),
            ),
            Prefetch("adjustments", queryset=Adjustment.objects.filter(line__isnull=True), to_attr="claim_adjustments"),
            "remarks",
            Prefetch(
                "denials",
                queryset=denials_visible_to(user=user).select_related("line").order_by("id"),
                to_attr="visible_denials",
            ),
        )
    )


def claim_get(*, user: Any, claim_id: int) -> ClaimPayment:
    """One claim the user may see; DoesNotExist for any other id."""
    return claim_detail_queryset(user=user).get(pk=claim_id)


def claim_ids_visible_to(*, user: Any, claim_ids: list[int]) -> set[int]:
    """The ids among ``claim_ids`` the user may open (a claim's history links only those)."""
    from denials.roles import is_admin

    if is_admin(user):
        return set(claim_ids)
    return set(claims_visible_to(user=user).filter(pk__in=claim_ids).values_list("pk", flat=True))


def claim_history(*, claim: ClaimPayment) -> list[ClaimPayment]:
    """Every payment of the same claim by the same payer, oldest first, this one included."""
    return list(
        ClaimPayment.objects.filter(
            Q(patient_control_number=claim.patient_control_number, payer_claim_number=claim.payer_claim_number)
            | Q(pk=claim.pk),
            payer_id=claim.payer_id,
        )
        .select_related("remittance")
        .order_by("remittance__payment_date", "id")
    )


def code_descriptions(*, carcs: set[str], rarcs: set[str], with_group_codes: bool = False) -> dict[str, str]:
    """{'CARC:97': words, 'RARC:M15': ..., 'GROUP:CO': ...} for the codes asked, in one query:
    Overturn's plain-words summary first, the official description after it (``ncci.selectors.CodeWords``)."""
    from ncci.selectors import code_words

    return dict(code_words(carcs=carcs, rarcs=rarcs, with_group_codes=with_group_codes))


def modifier_descriptions(*, codes: set[str]) -> dict[str, str]:
    """{'LT': 'Left side', ...} for the modifiers asked, as admins keep them: one query (none
    for no codes). A modifier without words has no entry (the page says so)."""
    from ncci.models import Modifier

    wanted = {c.strip().upper() for c in codes if c and c.strip()}
    if not wanted:
        return {}
    return {
        code: text for code, text in Modifier.objects.filter(code__in=wanted).values_list("code", "description") if text
    }


def audit_events_for(*, target_type_id: int, target_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type_id=target_type_id, target_id=str(target_id)).select_related("actor")


def access_events_for(*, target: Any, limit: int = 20) -> list[Any]:
    """The latest looks at one object (who opened or downloaded it), newest first."""
    from django.contrib.contenttypes.models import ContentType

    from denials.models import AccessEvent

    return list(
        AccessEvent.objects.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
        ).select_related("actor")[:limit]
    )


# --- The coder's worklist --------------------------------------------------------------
# Work still to do: a queue page shows these unless the person asks for another status.
ACTIVE_STATUSES = ACTIVE_DENIAL_STATUSES
MY_WORK = ""
ALL_QUEUES = "all"

# Aging buckets billing teams report on: days since the remittance that denied the amount.
AGE_BUCKETS: dict[str, tuple[int | None, int | None]] = {
    "0-30": (0, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "91-": (91, None),
}
# Deadline filters: days from today to the appeal due date.
DUE_WINDOWS: dict[str, tuple[int | None, int | None]] = {
    "overdue": (None, -1),
    "7": (0, 7),
    "30": (0, 30),
    "90": (0, 90),
}
WORKLIST_SORTS: dict[str, tuple[Any, ...]] = {
    "priority": ("-priority", F("due_date").asc(nulls_last=True), "id"),
    "due": (F("due_date").asc(nulls_last=True), "-priority", "id"),
    "amount": ("-amount", "-priority", "id"),
    "recovery": ("-expected_recovery", "-priority", "id"),
    "age": (F("remit_date").asc(nulls_last=True), "-priority", "id"),
    "dos": (F("service_date").desc(nulls_last=True), "-priority", "id"),
    "payer": ("payer__name", "-priority", "id"),
    "patient": ("claim__patient_last_name", "claim__patient_first_name", "id"),
}


@dataclass(frozen=True)
class QueueSummary:
    """One tab of the worklist: "My work", a team queue, or every queue the user may see."""

    key: str
    name: str
    team: str
    count: int
    amount: Decimal


def _active_counts_by_queue(user: Any) -> dict[int | None, tuple[int, Decimal]]:
    """{queue id: (active denials, their amount)} over the queues whose denials the user may
    see (``queues_visible_to``; admins' include None, denials in no queue), read from the
    counters (``QueueCount``), not by counting denials."""
    from denials.models import QueueCount
    from denials.services.queue_counts import FOLD_AFTER_ROWS, queue_counts_compact

    counts = QueueCount.objects.filter(status__in=ACTIVE_STATUSES)
    queues = queues_visible_to(user=user)
    if queues is not None:
        counts = counts.filter(queue_id__in=queues)
    rows = list(counts.values("queue_id").annotate(n=Sum("n"), total=Sum("amount"), changes=Count("*")).order_by())
    if sum(row["changes"] for row in rows) > FOLD_AFTER_ROWS:
        # Upkeep, not a change of data: the sums read the same after the fold.
        queue_counts_compact()
    return {row["queue_id"]: (row["n"] or 0, row["total"] or Decimal("0")) for row in rows}


def worklist_queues(*, user: Any) -> list[QueueSummary]:
    """My work, each queue the user may see, and all of them, with the open count and dollars.

    The queues' figures come from the counters the database keeps (``QueueCount``): counting
    a busy queue's denials on every page was the page's largest query."""
    from denials.models import WorkQueue
    from denials.roles import is_admin

    queues = WorkQueue.objects.select_related("team").order_by("team__name", "name")
    if not is_admin(user):
        queues = queues.filter(team__members=user)
    per_queue = _active_counts_by_queue(user)
    active = denials_visible_to(user=user).filter(status__in=ACTIVE_STATUSES)
    mine = active.filter(assignee=user).aggregate(n=Count("*"), total=Sum("amount"))
    summaries = [QueueSummary(MY_WORK, "My work", "", mine["n"], mine["total"] or Decimal("0"))]
    summaries += [QueueSummary(str(q.pk), q.name, q.team.name, *per_queue.get(q.pk, (0, Decimal("0")))) for q in queues]
    summaries.append(
        QueueSummary(
            ALL_QUEUES,
            "All queues",
            "",
            sum(n for n, _ in per_queue.values()),
            sum((total for _, total in per_queue.values()), Decimal("0")),
        )
    )
    return summaries


def worklist_payers(*, user: Any) -> QuerySet[Any]:
    """Payers for the payer filter."""
    from denials.models import Payer

    # Every payer: a short table, where asking which ones occur among the user's denials
    # would scan all of them on every page.
    return Payer.objects.order_by("name")


#: The worklist's "finished" status: work done, its outcome recorded (the dashboard's "days to
#: resolve" counts these).
FINISHED = "finished"
FINISHED_STATUSES: tuple[str, ...] = (
    Denial.Status.CORRECTED,
    Denial.Status.WRITTEN_OFF,
    Denial.Status.BILLED_PATIENT,
    Denial.Status.RESOLVED,
)


def worklist_teams(*, user: Any) -> QuerySet[Any]:
    """Teams for the team filter: an admin's all, anyone else's own."""
    from denials.models import Team
    from denials.roles import is_admin

    teams = Team.objects.order_by("name")
    return teams if is_admin(user) else teams.filter(members=user)


def worklist_specialties() -> list[str]:
    """Specialty names for the specialty filter: every one the admin-edited procedure-code ranges
    name, and "Unmapped" (``ncci.specialties``)."""
    from ncci.selectors import specialty_ranges
    from ncci.specialties import UNMAPPED

    return [*sorted({r.specialty for r in specialty_ranges()}), UNMAPPED]


def _with_specialty(denials: QuerySet[Denial], specialty: str) -> QuerySet[Denial]:
    """Denials whose line's procedure code the ranges put in ``specialty``
    (``ncci.specialties.specialty_for``, the rule the dashboard counts with); a claim-level
    denial has no line and is "Unmapped"."""
    from ncci.selectors import specialty_ranges
    from ncci.specialties import UNMAPPED, specialty_for

    ranges = specialty_ranges()
    present = denials.order_by().values_list("line__procedure_code", flat=True).distinct()
    codes = sorted({code or "" for code in present if specialty_for(code or "", ranges) == specialty})
    if specialty == UNMAPPED:
        return denials.filter(Q(line__isnull=True) | Q(line__procedure_code__in=codes))
    return denials.filter(line__procedure_code__in=codes)


def worklist_people(*, user: Any) -> QuerySet[Any]:
    """People the user's work can be assigned to: the members of their teams (everyone on a team, for admins)."""
    from django.contrib.auth import get_user_model

    from denials.roles import is_admin

    people = get_user_model().objects.filter(teams__isnull=False)
    if not is_admin(user):
        people = people.filter(teams__members=user)
    return people.distinct().order_by("username")


def _with_rarc(rarc: str) -> Q:
    # RARCs are stored space-separated: match the whole code, never a prefix of another.
    return (
        Q(rarcs=rarc) | Q(rarcs__startswith=f"{rarc} ") | Q(rarcs__endswith=f" {rarc}") | Q(rarcs__contains=f" {rarc} ")
    )


def with_rarc(rarc: str) -> Q:
    """Denials carrying the RARC (a whole code of their space-separated list)."""
    return _with_rarc(rarc.strip().upper())


def _search(term: str) -> Q:
    """Patient name (any order, "Doe, Jane" or "jane doe"), member id, patient control number
    or payer claim number."""
    term = " ".join(term.replace(",", " ").split())
    identifiers = (
        Q(claim__patient_member_id__iexact=term)
        | Q(claim__insured_member_id__iexact=term)
        | Q(claim__patient_control_number__iexact=term)
        | Q(claim__payer_claim_number__iexact=term)
    )
    name = Q()
    for word in term.split():
        name &= Q(claim__patient_last_name__istartswith=word) | Q(claim__patient_first_name__istartswith=word)
    return identifiers | name


def denial_worklist(
    *,
    user: Any,
    queue: str = MY_WORK,
    search: str = "",
    category: str = "",
    payer_id: int | None = None,
    carc: str = "",
    rarc: str = "",
    column1: str = "",
    column2: str = "",
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
    age: str = "",
    due: str = "",
    status: str = "",
    assignee: str = "",
    remitted_from: dt.date | None = None,
    remitted_to: dt.date | None = None,
    team_id: int | None = None,
    setting: str = "",
    specialty: str = "",
    reason: str = "",
    npi: str = "",
    sort: str = "priority",
    today: dt.date | None = None,
) -> QuerySet[Denial]:
    """The rows of a worklist view, with everything a row shows joined in (no query per row).

    ``queue``: "" for the user's own work, "all" for every queue they may see, or a queue id.
    ``status``: "" for active work, "all" for any status, "finished" (``FINISHED_STATUSES``,
    outcome recorded), or one status.
    ``assignee``: "" anyone, "me", "none" (unassigned) or a user id.
    ``remitted_from``/``remitted_to``: the remittance date (payment date, else production date),
    inclusive. ``team_id``: the team of the denial's work queue. ``setting``: the NCCI setting
    triage recorded. ``specialty``: of the line's procedure code (``_with_specialty``).
    ``reason``: the reason given (a write-off's), whole. ``npi``: the claim's rendering provider
    NPI ("none": the remittance named none).
    A ``search`` looks through everything the user may see, whatever the queue and status.
    """
    today = today or timezone.localdate()
    denials = denials_visible_to(user=user).select_related("claim__remittance", "line", "payer", "queue", "assignee")
    if age in AGE_BUCKETS or sort == "age" or remitted_from or remitted_to:
        # Only then: the annotation joins claims and remittances into the page's COUNT too.
        denials = denials.annotate(
            remit_date=Coalesce("claim__remittance__payment_date", "claim__remittance__production_date")
        )
    if search.strip():
        denials = denials.filter(_search(search.strip()))
    else:
        if queue == MY_WORK:
            denials = denials.filter(assignee=user)
        elif queue != ALL_QUEUES:
            denials = denials.filter(queue_id=int(queue))
        if status == "":
            denials = denials.filter(status__in=ACTIVE_STATUSES)
        elif status == FINISHED:
            denials = denials.filter(status__in=FINISHED_STATUSES, worked_at__isnull=False)
        elif status != "all":
            denials = denials.filter(status=status)
    filters: dict[str, Any] = {}
    if category:
        filters["category"] = category
    if payer_id:
        filters["payer_id"] = payer_id
    if carc:
        filters["carc"] = carc.strip().upper()
    if column1:
        filters["ncci_column1"] = column1.strip().upper()
    if column2:
        filters["ncci_column2"] = column2.strip().upper()
    if amount_min is not None:
        filters["amount__gte"] = amount_min
    if amount_max is not None:
        filters["amount__lte"] = amount_max
    if assignee == "me":
        filters["assignee"] = user
    elif assignee == "none":
        filters["assignee__isnull"] = True
    elif assignee:
        filters["assignee_id"] = int(assignee)
    if age in AGE_BUCKETS:
        low, high = AGE_BUCKETS[age]
        if low is not None:
            filters["remit_date__lte"] = today - dt.timedelta(days=low)
        if high is not None:
            filters["remit_date__gte"] = today - dt.timedelta(days=high)
    if remitted_from:
        filters["remit_date__gte"] = remitted_from
    if remitted_to:
        filters["remit_date__lte"] = remitted_to
    if team_id:
        filters["queue__team_id"] = team_id
    if setting:
        filters["ncci_setting"] = setting
    if reason.strip():
        filters["resolution_reason"] = " ".join(reason.split())
    if npi:
        filters["claim__rendering_provider_npi"] = "" if npi == "none" else npi.strip()
    if due in DUE_WINDOWS:
        low, high = DUE_WINDOWS[due]
        if low is not None:
            filters["due_date__gte"] = today + dt.timedelta(days=low)
        if high is not None:
            filters["due_date__lte"] = today + dt.timedelta(days=high)
    denials = denials.filter(**filters)
    if rarc:
        denials = denials.filter(_with_rarc(rarc.strip().upper()))
    if specialty:
        denials = _with_specialty(denials, specialty)
    return denials.order_by(*WORKLIST_SORTS.get(sort, WORKLIST_SORTS["priority"]))


def denial_ids_visible_to(*, user: Any, denial_ids: list[int]) -> list[int]:
    """The ids among ``denial_ids`` the user may work: bulk actions never reach another team's denial."""
    return list(denials_visible_to(user=user).filter(pk__in=denial_ids).values_list("pk", flat=True))


#: The most denials one bulk action covers ("every denial matching the view" included).
BULK_MAX_ROWS = 2000


def denial_ids_for_bulk(
    *,
    user: Any,
    denial_ids: list[int],
    all_matching: bool = False,
    search: str = "",
    filters: dict[str, Any] | None = None,
    limit: int = BULK_MAX_ROWS,
) -> list[int]:
    """Which denials a bulk action covers: the ticked ones the user may work or, with
    ``all_matching``, every denial the worklist view shows (``filters`` are
    ``denial_worklist``'s keyword arguments), in the view's order, at most ``limit``."""
    if all_matching:
        rows = denial_worklist(user=user, search=search, **(filters or {}))
        return list(rows.values_list("pk", flat=True)[:limit])
    return denial_ids_visible_to(user=user, denial_ids=denial_ids[:limit])


def person_by_id(*, person_id: str) -> Any:
    """The account with id ``person_id`` (the digits a form posted), or None.

    Whether that person may take the work is the service's rule (``denial_assign`` checks
    the queue's team), so this only finds them."""
    from django.contrib.auth import get_user_model

    if not person_id.isdigit():
        return None
    return get_user_model().objects.filter(pk=int(person_id)).first()


def passage_offsets(*, text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` occurs in a document's ``text`` as (start, end), whatever the
    whitespace and case between its words; None when it does not occur (or is blank)."""
    import re

    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None


#: What the denial page (and its pane) shows of a denial, read with it in one query.
DENIAL_PAGE_RELATED = (
    "claim__remittance__file",
    "claim__remittance__payee",
    "claim__payer",
    "line",
    "pair_line",
    "payer",
    "queue__team",
    "assignee",
    "ptp_edit",
)


def denial_for_user(*, user: Any, denial_id: int, related: tuple[str, ...] = DENIAL_PAGE_RELATED) -> Denial:
    """One denial the user may see, with what its page shows; DoesNotExist for any other id.

    A part of the page that shows less names what it reads (``related``; empty: the denial
    alone): PostgreSQL takes about 5 ms to plan the page's twelve-table join, under 1 ms for
    one or two.
    """
    denials = denials_visible_to(user=user)
    if related:  # select_related() with no names would follow every foreign key
        denials = denials.select_related(*related)
    if "claim__remittance__file" in related:
        denials = denials.defer(*(f"claim__remittance__file__{f}" for f in FILE_HEAVY_FIELDS))
    return denials.get(pk=denial_id)


@dataclass(frozen=True)
class DenialWords:
    """The denial page's words, rendered at read time from what triage recorded: the one-line
    headline, the full explanation (quoting the code words as admins keep them now), and the
    corrected-claim modifier the saved evidence supports with which modifier groups fit."""

    headline: str
    explanation: str
    modifier: str
    modifier_reason: str
    open_groups: frozenset[str]


def _line_facts(line: ServiceLine) -> Any:
    from denials.triage import LineFacts

    return LineFacts(
        line_id=line.pk,
        procedure_code=line.procedure_code,
        modifiers=tuple(line.modifiers),
        service_date=line.service_date,
        units=line.units,
    )


def denial_plain_words(
    *,
    denial: Denial,
    lines: list[ServiceLine],
    descriptions: dict[str, str],
    evidence_kinds: list[str],
    modifier_groups: Any,
) -> DenialWords:
    """Headline, explanation and modifier prefill of one denial, with no query of its own.

    Triage's explanation is stored when triage runs, quoting the code descriptions of that
    moment; a worked denial is never re-triaged, so the page builds it again here with the
    same pure functions (``denials.triage.explain``, ``denials.plain_words.headline``) from the
    facts triage recorded (category, action, the NCCI edit copied onto the denial) and today's
    code words. A denial with no known category keeps its stored text.
    """
    from denials import triage as t
    from denials.modifiers import ANATOMIC, DISTINCT, GLOBAL_SURGERY, corrected_line_modifier, modifier_fit
    from denials.plain_words import headline

    by_id = {ln.pk: ln for ln in lines}
    line = by_id.get(denial.line_id) if denial.line_id else None
    line_fact = _line_facts(line) if line is not None else None
    claim = denial.claim
    facts = t.DenialFacts(
        group_code=denial.group_code,
        carc=denial.carc,
        rarcs=tuple(denial.rarc_list),
        amount=denial.amount,
        payer_id=str(denial.payer_id),
        claim_status=claim.status_code,
        line=line_fact,
        other_lines=tuple(_line_facts(ln) for ln in lines if ln.pk != denial.line_id),
        frequency_code=claim.frequency_code,
    )
    modifier, reason = corrected_line_modifier(
        chosen=denial.chosen_modifier, evidence_kinds=evidence_kinds, triage_modifier=denial.action_modifier
    )
    if denial.modifier_cannot_bypass:
        modifier, reason = "", "modifier indicator 0: no modifier bypasses this edit"
    pair = by_id.get(denial.pair_line_id) if denial.pair_line_id else None
    fit = modifier_fit(
        code=line.procedure_code if line is not None else "",
        modifiers=line.modifiers if line is not None else (),
        pair_code=pair.procedure_code if pair is not None else "",
        pair_modifiers=pair.modifiers if pair is not None else (),
        groups=modifier_groups,
        no_ptp_pair=denial.category == t.BUNDLING_NO_PTP_PAIR,
    )
    open_groups = set(fit.open_groups)
    if modifier in modifier_groups.anatomic:
        open_groups.add(ANATOMIC)
    elif modifier in modifier_groups.global_surgery:
        open_groups.add(GLOBAL_SURGERY)
    open_groups.add(DISTINCT)
    category, action = denial.category, denial.action
    if category not in t.CATEGORIES or action not in t.ACTIONS:
        first = "" if category else "Not triaged yet: review it."
        return DenialWords(first, denial.explanation, modifier, reason, frozenset(open_groups))

    finding = None
    if category in t.BUNDLING_CATEGORIES and line_fact is not None and denial.ncci_effective_date is not None:
        edit = t.PtpEditFact(
            column1=denial.ncci_column1,
            column2=denial.ncci_column2,
            effective_date=denial.ncci_effective_date,
            deletion_date=denial.ncci_deletion_date,
            modifier_indicator=denial.ncci_modifier_indicator,
            rationale=denial.ncci_rationale,
            quarter=denial.ncci_quarter,
            setting=denial.ncci_setting or "practitioner",
            edit_id=denial.ptp_edit_id,
        )
        finding = t.find_ptp_finding(
            line=line_fact, other_lines=facts.other_lines, edits=[edit], modifier_groups=modifier_groups
        )
    explanation = t.explain(
        facts=facts,
        category=category,
        action=action,
        usual_action=t.usual_action(category=category, facts=facts),
        finding=finding,
        descriptions=descriptions,
    )
    result = t.TriageResult(
        category=category,
        action=action,
        action_modifier=denial.action_modifier,
        explanation=explanation,
        finding=finding,
        rule=None,
        appealable=action == t.APPEAL,
        write_off=action == t.WRITE_OFF,
    )
    suggested = modifier if reason.startswith("from the kind") else ""
    return DenialWords(
        headline=headline(result=result, facts=facts, suggested_modifier=suggested),
        explanation=explanation,
        modifier=modifier,
        modifier_reason=reason,
        open_groups=frozenset(open_groups),
    )


@dataclass
class DenialWorkspace:
    """Everything the denial page shows besides the denial itself, read in a fixed number of queries."""

    lines: list[ServiceLine]
    claim_adjustments: list[Adjustment]
    claim_remarks: list[Any]
    descriptions: dict[str, str]
    procedure_descriptions: dict[str, str]
    history: list[ClaimPayment]
    documents: list[Any]
    evidence: list[Any]
    notes: list[Any]
    events: list[AuditEvent]
    people: dict[str, str]
    queue_names: dict[str, str]
    modifiers: list[Any]
    words: DenialWords
    team_members: list[Any] = field(default_factory=list)

    @property
    def modifier_words(self) -> dict[str, str]:
        """{'LT': 'Left side', ...} from the modifier rows the outcome form already read."""
        return {m.code: m.description for m in self.modifiers if m.description}

    @property
    def bypass_modifiers(self) -> list[Any]:
        return [m for m in self.modifiers if m.bypass_group != "none"]

    @property
    def evidence_kinds(self) -> list[tuple[str, str]]:
        from denials.models import Evidence

        return list(Evidence.Kind.choices)


def denial_workspace(*, denial: Denial, with_team: bool = False) -> DenialWorkspace:
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    from denials.models import ClinicalDocument, DenialNote, Evidence
    from ncci.models import ProcedureCode

    claim = denial.claim
    from denials.models import RemarkCode

    # The claim's lines, then all its adjustments and remarks in one query each, handed
    # out to their lines here (prefetching per line and per claim would take five queries).
    lines = list(ServiceLine.objects.filter(claim=claim).order_by("sequence"))
    adjustments = list(Adjustment.objects.filter(claim=claim).order_by("sequence"))
    remarks = list(RemarkCode.objects.filter(claim=claim).order_by("sequence"))
    for line in lines:
        # Django's own prefetch cache (not a declared attribute, hence through __dict__):
        # ``line.adjustments.all()`` in the template then reads these lists, no query.
        line.__dict__["_prefetched_objects_cache"] = {
            "adjustments": [a for a in adjustments if a.line_id == line.pk],
            "remarks": [r for r in remarks if r.line_id == line.pk],
        }
    claim_adjustments = [a for a in adjustments if a.line_id is None]
    claim_remarks = [r for r in remarks if r.line_id is None]
    carcs = {a.reason_code for a in adjustments} | {denial.carc}
    rarcs = {r.code for r in remarks} | set(denial.rarc_list)
    descriptions = code_descriptions(carcs=carcs, rarcs=rarcs, with_group_codes=True)
    codes = {ln.procedure_code for ln in lines} | {c for c in (denial.ncci_column1, denial.ncci_column2) if c}
    procedure_descriptions = {
        code: short or long
        for code, short, long in ProcedureCode.objects.filter(code__in=codes).values_list(
            "code", "short_description", "description"
        )
    }
    evidence = list(
        Evidence.objects.filter(denial=denial).select_related("document", "created_by").order_by("document_id", "start")
    )
    documents = list(
        ClinicalDocument.objects.filter(claim=claim)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("uploaded_at", "id")
    )
    for document in documents:
        # The passages of this denial, for the highlighted text (other denials of the claim keep theirs).
        setattr(document, "denial_evidence", [e for e in evidence if e.document_id == document.pk])  # noqa: B010
    notes = list(DenialNote.objects.filter(denial=denial).select_related("author"))
    types = ContentType.objects.get_for_models(Denial, ClaimPayment)
    events = list(
        AuditEvent.objects.filter(
            Q(target_type=types[Denial], target_id=str(denial.pk))
            | Q(target_type=types[ClaimPayment], target_id=str(claim.pk), action="document.uploaded")
        ).select_related("actor")[:100]
    )
    people_ids = {
        v
        for e in events
        for snap in (e.old, e.new)
        if isinstance(snap, dict)
        for k, v in snap.items()
        if k == "assignee_id" and v
    }
    people = (
        {str(pk): name for pk, name in get_user_model().objects.filter(pk__in=people_ids).values_list("pk", "username")}
        if people_ids
        else {}
    )
    # Triage rows name queues by id: their names, for the history in words.
    queue_ids = {
        v for e in events for snap in (e.old, e.new) if isinstance(snap, dict) for k, v in snap.items() if k == "queue"
    }
    queue_ids.discard(None)
    # Usually only the denial's own queue (already read with it): no query then.
    queue_names = {str(denial.queue_id): denial.queue.name} if denial.queue is not None else {}
    if {str(q) for q in queue_ids} - set(queue_names):
        from denials.models import WorkQueue

        queue_names |= {
            str(pk): name for pk, name in WorkQueue.objects.filter(pk__in=queue_ids).values_list("pk", "name")
        }
    team_members: list[Any] = []
    if with_team and denial.queue is not None:
        team_members = list(denial.queue.team.members.order_by("username"))
    modifiers = modifier_choices()
    words = denial_plain_words(
        denial=denial,
        lines=lines,
        descriptions=descriptions,
        evidence_kinds=[e.kind for e in evidence],
        modifier_groups=_groups_of(modifiers),
    )
    return DenialWorkspace(
        lines=lines,
        claim_adjustments=claim_adjustments,
        claim_remarks=claim_remarks,
        descriptions=descriptions,
        procedure_descriptions=procedure_descriptions,
        history=claim_history(claim=claim),
        documents=documents,
        evidence=evidence,
        notes=notes,
        events=events,
        people=people,
        queue_names=queue_names,
        modifiers=modifiers,
        words=words,
        team_members=team_members,
    )


def _groups_of(modifiers: list[Any]) -> Any:
    """The NCCI modifier groups of the rows ``modifier_choices`` read (no second query)."""
    from ncci.ptp import DEFAULT_MODIFIER_GROUPS, ModifierGroups

    groups = ModifierGroups.from_rows((m.code, m.bypass_group) for m in modifiers)
    return groups if groups else DEFAULT_MODIFIER_GROUPS


def modifier_choices() -> list[Any]:
    """Modifiers a corrected claim may carry, NCCI bypass modifiers first, as admins keep them.

    Falls back to the built-in list of NCCI-associated modifiers when the table is empty.
    """
    from types import SimpleNamespace

    from denials.triage import ANATOMIC_MODIFIERS, BYPASS_MODIFIERS, GLOBAL_SURGERY_MODIFIERS
    from ncci.models import Modifier

    rows: list[Any] = list(Modifier.objects.order_by("code"))
    if not rows:

        def group(code: str) -> str:
            if code in ANATOMIC_MODIFIERS:
                return "anatomic"
            return "global-surgery" if code in GLOBAL_SURGERY_MODIFIERS else "other"

        rows = [SimpleNamespace(code=c, description="", bypass_group=group(c)) for c in sorted(BYPASS_MODIFIERS)]
    order = {"other": 0, "anatomic": 1, "global-surgery": 2, "none": 3}
    distinct_first = {"XS": 0, "XE": 1, "XP": 2, "XU": 3, "59": 4}
    return sorted(rows, key=lambda m: (order.get(m.bypass_group, 9), distinct_first.get(m.code, 9), m.code))


def document_for_denial(*, denial: Denial, document_id: int) -> Any:
    """A document of the denial's claim (DoesNotExist for any other)."""
    from denials.models import ClinicalDocument

    return ClinicalDocument.objects.get(pk=document_id, claim_id=denial.claim_id)


def evidence_for_denial(*, denial: Denial, evidence_id: int) -> Any:
    from denials.models import Evidence

    return Evidence.objects.select_related("denial").get(pk=evidence_id, denial=denial)
