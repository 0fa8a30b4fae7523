"""Reads for the appeals app: which appeals a user may see, the list with its figures, the
worklist's tab counts, an appeal's page, and the automatic decisions shown in My work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from appeals import levels
from appeals import vocabulary as v
from appeals.level_table import level_table
from appeals.models import Appeal, AppealFollowUp
from denials.models import MONEY_DIGITS, MONEY_PLACES, AuditEvent, Denial
from denials.selectors import denials_visible_to

#: "Due soon" on the list and the worklist tab: an unsent appeal due within this many days.
DUE_SOON_DAYS = 7


def appeals_visible_to(*, user: Any) -> QuerySet[Appeal]:
    """An appeal is visible to whoever may see its denials (``denials_visible_to``): its
    team's coders and managers, and admins. Another team's appeal answers 404."""
    visible = denials_visible_to(user=user).values("pk")
    through = Appeal.denials.through.objects.filter(denial_id__in=visible).values("appeal_id")
    return Appeal.objects.filter(pk__in=through)


def _amount_at_stake() -> Coalesce:
    """The sum of an appeal's denials' amounts, as a subquery (sortable, one query for the list)."""
    through = Appeal.denials.through.objects.filter(appeal_id=OuterRef("pk"))
    # django-stubs cannot see a name made by annotate() in the values() after it.
    total = through.order_by().values("appeal_id").annotate(total=Sum("denial__amount")).values("total")  # type: ignore[misc]
    money = DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)
    return Coalesce(Subquery(total, output_field=money), Value(Decimal("0")), output_field=money)


def appeal_list(*, user: Any) -> QuerySet[Appeal]:
    """The appeals a user may see, with ``amount_at_stake`` annotated (sortable) and what a row
    shows joined or prefetched: claim, payer, creator, denials with their lines and assignees.
    Default order: soonest due first (no due date last), then newest."""
    return (
        appeals_visible_to(user=user)
        .annotate(amount_at_stake=_amount_at_stake())
        .select_related("claim__payer", "created_by")
        .prefetch_related("denials__line", "denials__assignee")
        .order_by("due_date", "-created_at", "id")
    )


def days_left(appeal: Appeal, *, today: dt.date | None = None) -> int | None:
    """Days until the due date (negative once passed); None without one."""
    if appeal.due_date is None:
        return None
    return (appeal.due_date - (today or timezone.localdate())).days


def with_days_left(appeals: list[Appeal]) -> list[Appeal]:
    """Set ``days_left`` (and ``days_overdue``, positive once past due) on each appeal of a page."""
    today = timezone.localdate()
    for appeal in appeals:
        left = days_left(appeal, today=today)
        appeal.days_left = left  # type: ignore[attr-defined]
        appeal.days_overdue = -left if left is not None and left < 0 else 0  # type: ignore[attr-defined]
    return appeals


def due_soon_q(*, today: dt.date | None = None) -> Q:
    """Not yet sent, due today or within ``DUE_SOON_DAYS`` days (a submitted appeal has met its deadline)."""
    today = today or timezone.localdate()
    return Q(
        status__in=v.UNSENT_STATUSES,
        due_date__gte=today,
        due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS),
    )


def overdue_q(*, today: dt.date | None = None) -> Q:
    """Not yet sent and past its due date (``Appeal.is_overdue``, as a query)."""
    return Q(status__in=v.UNSENT_STATUSES, due_date__lt=today or timezone.localdate())


@dataclass(frozen=True)
class TabCounts:
    due_soon: int
    overdue: int


def appeal_tab_counts(*, user: Any) -> TabCounts:
    """The worklist's two appeal tabs, counted in one query.

    Both tabs hold unsent appeals due no later than ``DUE_SOON_DAYS`` from today, so those are
    picked first (a few hundred among tens of thousands) and only they are checked for
    visibility: counting over every visible appeal made PostgreSQL gather all the team's
    denials first (about 60 ms a request at 100,000 denials, against 6-12 ms now)."""
    from django.db.models import Count

    today = timezone.localdate()
    candidates = appeals_visible_to(user=user).filter(
        status__in=v.UNSENT_STATUSES, due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS)
    )
    counts = candidates.aggregate(
        due_soon=Count("pk", filter=due_soon_q(today=today)), overdue=Count("pk", filter=overdue_q(today=today))
    )
    return TabCounts(due_soon=counts["due_soon"] or 0, overdue=counts["overdue"] or 0)


def appeal_news_for(*, user: Any, limit: int = 10) -> list[AppealFollowUp]:
    """What later 835s said about the user's appeals, newest first: automatic decisions and
    re-denials. "The user's": appeals they created, or covering a denial assigned to them,
    among the appeals they may see."""
    visible = appeals_visible_to(user=user)
    mine = visible.filter(
        Q(created_by=user) | Q(pk__in=Appeal.denials.through.objects.filter(denial__assignee=user).values("appeal_id"))
    )
    return list(
        AppealFollowUp.objects.filter(appeal__in=mine.values("pk"))
        .select_related("appeal", "line", "claim__payer", "redenial")
        .order_by("-recorded_at", "-id")[:limit]
    )


def appeal_for_user(*, user: Any, appeal_id: int) -> Appeal:
    """One appeal the user may see (``Appeal.DoesNotExist`` otherwise), with what its page shows."""
    return (
        appeals_visible_to(user=user)
        .annotate(amount_at_stake=_amount_at_stake())
        .select_related("claim__payer", "claim__remittance", "created_by", "previous")
        .get(pk=appeal_id)
    )


def appeals_for_denial(*, denial: Denial) -> list[Appeal]:
    """The appeals covering a denial, newest first (the denial page's appeal box)."""
    return list(denial.appeals.select_related("previous").order_by("-created_at", "-id"))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NextLevel:
    """The level an upheld or partially paid appeal may go to next, and by when."""

    level: str
    label: str
    due_date: dt.date | None
    #: Why the level would not hear it ("" when it would): Medicare's minimum amounts.
    refusal: str = ""


def next_level_suggestion(*, appeal: Appeal, table: levels.LevelTable | None = None) -> NextLevel | None:
    """The level suggested for appealing a decision, with its deadline counted from the
    decision date and Medicare's amount-in-controversy refusal, read from the admin-edited
    level rules (``table``: the caller's ``level_table()``, else read here).

    None when there is nothing to suggest: an appeal not decided, or decided overturned or
    withdrawn; the top of the ladder or a route beside it; levels no longer set up for the
    payer kind (the suggestion is advice: it never fails a page or an ingest). The amount in
    controversy is the amount at stake (``amount_at_stake`` when the appeal row carries it)
    less what was recovered."""
    if appeal.status != v.STATUS_DECIDED or appeal.outcome not in (v.OUTCOME_UPHELD, v.OUTCOME_PARTIALLY_PAID):
        return None
    table = level_table() if table is None else table
    payer = appeal.claim.payer
    try:
        level = levels.next_level(payer_kind=payer.kind, level=appeal.level, table=table)
        if level is None:
            return None
        due = None
        if appeal.decided_on is not None:
            due = levels.appeal_due_date(
                payer_kind=payer.kind,
                level=level,
                decision_date=appeal.decided_on,
                payer_window_days=payer.appeal_window_days,
                table=table,
            )
        at_stake = getattr(appeal, "amount_at_stake", None)
        if at_stake is None:
            at_stake = appeal.denials.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        refusal = levels.amount_in_controversy_refusal(
            payer_kind=payer.kind, level=level, amount=at_stake - appeal.amount_recovered, table=table
        )
    except levels.UnknownLevel:
        return None
    return NextLevel(level=level, label=v.label(v.LEVELS, level), due_date=due, refusal=refusal)


@dataclass(frozen=True)
class LadderStep:
    level: str
    label: str
    days: str
    current: bool
    suggested: bool
    route: bool


@dataclass(frozen=True)
class AppealPage:
    """Everything the appeal page shows beyond the appeal row itself."""

    denials: list[Denial]
    ladder: list[LadderStep]
    next_level: str | None
    next_level_label: str
    next_level_refusal: str
    next_level_due: dt.date | None
    follow_ups: list[AppealFollowUp]
    history: list[HistoryItem]
    transitions: list[tuple[str, str]]
    next_levels: list[Appeal]


def _days_words(rule: Any, *, payer_window_days: int | None) -> str:
    """How long there is to file at a level, in words (the payer's own window when the rule has none)."""
    if rule.years:
        return f"{rule.years} year{'s' if rule.years != 1 else ''}"
    if rule.days is None:
        if payer_window_days:
            return f"{payer_window_days} days (the payer's appeal window)"
        return f"{levels.DEFAULT_WINDOW_DAYS} days (no window on file for the payer; the ERISA minimum)"
    if rule.receipt_days:
        return f"{rule.days} days (+{rule.receipt_days} for receipt)"
    return f"{rule.days} days"


def appeal_page(*, appeal: Appeal) -> AppealPage:
    """The appeal page's reads: its lines, the payer kind's ladder with this level marked and
    the next level suggested (once upheld or partly paid), follow-ups, history."""
    kind = appeal.claim.payer.kind
    table = level_table()
    suggestion = next_level_suggestion(appeal=appeal, table=table)
    suggested = suggestion.level if suggestion is not None else None
    ladder: list[LadderStep] = []
    try:
        ladder_levels = levels.levels_for(payer_kind=kind, table=table)
        routes = set(ladder_levels) - set(_ladder_only(kind, table))
        for level in ladder_levels:
            rule = levels.level_rule(payer_kind=kind, level=level, table=table)
            ladder.append(
                LadderStep(
                    level=level,
                    label=v.label(v.LEVELS, level),
                    days=_days_words(rule, payer_window_days=appeal.claim.payer.appeal_window_days),
                    current=level == appeal.level,
                    suggested=level == suggested,
                    route=level in routes,
                )
            )
    except levels.UnknownLevel:
        ladder = []  # the page says the levels are not set up for this payer kind
    events = list(
        AuditEvent.objects.filter(
            target_type=ContentType.objects.get_for_model(Appeal), target_id=str(appeal.pk)
        ).select_related("actor")[:50]
    )
    return AppealPage(
        denials=list(appeal.denials.select_related("line", "assignee", "claim").order_by("line__sequence", "pk")),
        ladder=ladder,
        next_level=suggested,
        next_level_label=suggestion.label if suggestion is not None else "",
        next_level_refusal=suggestion.refusal if suggestion is not None else "",
        next_level_due=suggestion.due_date if suggestion is not None else None,
        follow_ups=list(appeal.follow_ups.select_related("line", "redenial", "claim__remittance")),
        history=appeal_history(events),
        transitions=[(s, v.label(v.STATUSES, s)) for s in v.STATUSES if s in v.TRANSITIONS.get(appeal.status, ())],
        next_levels=list(appeal.next_levels.order_by("pk")),
    )


def _ladder_only(kind: str, table: levels.LevelTable) -> tuple[str, ...]:
    """The payer kind's ladder without the routes beside it (the ladder is what ``next_level`` climbs)."""
    ladder: list[str] = []
    level: str | None = levels.first_level(payer_kind=kind, table=table)
    while level is not None and level not in ladder:
        ladder.append(level)
        level = levels.next_level(payer_kind=kind, level=level, table=table)
    return tuple(ladder)


def appeal_payers_for(*, user: Any) -> QuerySet[Any]:
    """The payers of the user's appeals, for the list's payer filter."""
    from denials.models import Payer

    return Payer.objects.filter(pk__in=appeals_visible_to(user=user).values("claim__payer_id")).order_by("name")


def appeal_people_for(*, user: Any) -> QuerySet[Any]:
    """Who works the user's appeals (creators and assignees of their denials), for the coder filter."""
    from django.contrib.auth import get_user_model

    visible = appeals_visible_to(user=user)
    assignees = Appeal.denials.through.objects.filter(appeal_id__in=visible.values("pk")).values("denial__assignee_id")
    return (
        get_user_model()
        .objects.filter(Q(pk__in=visible.values("created_by_id")) | Q(pk__in=assignees))
        .order_by("username")
    )


def claim_draft_appeal(*, claim_id: int) -> Appeal | None:
    """The claim's draft appeal, which the Appeal button adds a line to (one per claim)."""
    return Appeal.objects.filter(claim_id=claim_id, status=v.STATUS_DRAFT).first()


@dataclass(frozen=True)
class Route:
    """A way to start an appeal of a denial, as the denial page's Appeal button offers it."""

    level: str
    label: str
    recommended: bool
    why: str


def starting_routes(*, denial: Denial) -> list[Route]:
    """Where an appeal of ``denial`` may start, and which one this payer takes for it.

    Medicare offers a clerical-error reopening beside the redetermination: a missing modifier
    (``bundling-modifier-may-apply``: the line needed one the claim did not carry) is a
    clerical error Medicare fixes by reopening; anything else goes to redetermination.
    Every other payer kind starts at its first level.
    """
    from denials import vocabulary as denial_words

    kind = denial.claim.payer.kind
    try:
        starts = levels.starting_levels(payer_kind=kind, table=level_table())
    except levels.UnknownLevel:  # no levels set up for the payer kind: the page says so
        return []
    missing_modifier = denial.category == denial_words.BUNDLING_MODIFIER_MAY_APPLY
    if len(starts) == 1:
        return [Route(starts[0], v.label(v.LEVELS, starts[0]), True, "")]
    routes = []
    for level in starts:
        if level == v.LEVEL_REOPENING:
            why = (
                "Medicare corrects a missing modifier as a clerical error by reopening the claim "
                "(ask within one year of the remittance)."
            )
            recommended = missing_modifier
        else:
            why = (
                "Medicare's first level of appeal for everything a reopening does not fix "
                "(within 120 days of receiving the remittance)."
                if kind == v.PAYER_MEDICARE
                else ""
            )
            recommended = not missing_modifier
        routes.append(Route(level, v.label(v.LEVELS, level), recommended, why))
    return routes


# --- History in words ---------------------------------------------------------------------------
ACTION_WORDS: dict[str, str] = {
    "appeal.created": "started the appeal",
    "appeal.denials_added": "added lines to it",
    "appeal.draft": "moved it back to draft",
    "appeal.ready": "marked it ready to send",
    "appeal.submitted": "recorded it as sent",
    "appeal.decided": "recorded the payer's decision",
    "appeal.withdrawn": "withdrew it",
    "appeal.updated": "changed it",
    "appeal.overdue": "marked it overdue",
}
FIELD_WORDS: dict[str, tuple[str, dict[str, str] | None]] = {
    "status": ("Status", v.STATUSES),
    "level": ("Level", v.LEVELS),
    "outcome": ("Decision", v.OUTCOMES),
    "method": ("Sent by", v.METHODS),
    "submitted_on": ("Sent on", None),
    "decided_on": ("Decided on", None),
    "due_date": ("Due", None),
    "amount_recovered": ("Recovered", None),
    "payer_reference": ("Payer's reference", None),
    "notes": ("Notes", None),
    "denials": ("Denial ids", None),
    "previous": ("Appeals the decision of appeal", None),
    "overdue_since": ("Overdue since", None),
}


@dataclass(frozen=True)
class HistoryItem:
    at: Any
    who: str
    what: str
    changes: list[tuple[str, str, str]]
    note: str


def _value_words(value: Any, words: dict[str, str] | None) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(x) for x in value)
    if words is not None:
        return v.label(words, str(value))
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def appeal_history(events: list[AuditEvent]) -> list[HistoryItem]:
    """Audit rows of an appeal as a billing team reads them: who, what, and each change old → new."""
    items = []
    for event in events:
        old = event.old if isinstance(event.old, dict) else {}
        new = event.new if isinstance(event.new, dict) else {}
        changes = []
        for key in [k for k in FIELD_WORDS if k in old or k in new]:
            label, words = FIELD_WORDS[key]
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            changes.append((label, _value_words(before, words), _value_words(after, words)))
        who = event.actor.get_username() if event.actor else (event.actor_label or "Overturn (automatic)")
        what = ACTION_WORDS.get(event.action, event.action.split(".", 1)[-1].replace("_", " "))
        items.append(HistoryItem(at=event.at, who=who, what=what, changes=changes, note=event.note))
    return items
