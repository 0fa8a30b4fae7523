"""Celery tasks of the appeals app: small, safe to run twice. Registered by name when the app
is ready (``AppealsConfig.ready`` imports this module); beat runs ``appeals_daily_check``."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task

logger = logging.getLogger(__name__)

#: The task's registered name, for the beat schedule and ``queueing.queue_after_commit``.
DAILY_CHECK = "appeals.tasks.appeals_daily_check"
#: A denial whose appeal window closes within this many days, with no open appeal, is listed.
WINDOW_WARNING_DAYS = 7
ACTOR_LABEL = "daily appeal check"


def appeals_mark_overdue(*, today: dt.date) -> dict[str, int]:
    """Stamp ``overdue_since`` (the day after the due date) on every unsent appeal (draft or
    ready) past its due date, and clear it on an unsent appeal whose due date moved to today
    or later (or was removed). One audit event per appeal newly overdue.

    The stamp is the check's record, not the team's data: it neither bumps the appeal's
    version (a coder editing the appeal meanwhile is not refused) nor changes a sent appeal
    (one submitted late keeps the stamp as the record that it was late). Each write is
    conditional on the row still being as read, so a concurrent change is never undone.
    """
    from django.db import transaction

    from appeals import vocabulary as v
    from appeals.models import Appeal
    from denials.services import audit_record

    unsent = Appeal.objects.filter(status__in=v.UNSENT_STATUSES)
    newly = restamped = 0
    for pk, due, since in unsent.filter(due_date__lt=today).values_list("pk", "due_date", "overdue_since"):
        stamp = due + dt.timedelta(days=1) if due is not None else None
        if stamp is None or since == stamp:
            continue
        with transaction.atomic():
            changed = unsent.filter(pk=pk, due_date=due, overdue_since=since).update(overdue_since=stamp)
            if not changed:
                continue
            if since is None:
                newly += 1
                appeal = Appeal.objects.get(pk=pk)
                audit_record(
                    actor=None,
                    actor_label=ACTOR_LABEL,
                    action="appeal.overdue",
                    target=appeal,
                    old={"overdue_since": None},
                    new={"overdue_since": str(stamp), "due_date": str(due), "status": appeal.status},
                    note=f"Not sent by its due date {due:%Y-%m-%d}.",
                )
            else:
                restamped += 1  # the due date moved to another past day
    cleared = (
        unsent.filter(overdue_since__isnull=False)
        .exclude(due_date__lt=today)  # due today or later, or no due date any more
        .update(overdue_since=None)
    )
    overdue = unsent.filter(due_date__lt=today).count()
    return {"newly_overdue": newly, "restamped": restamped, "cleared": cleared, "overdue": overdue}


def denials_appeal_window_closing(*, today: dt.date, days: int = WINDOW_WARNING_DAYS) -> list[int]:
    """Denials still to work whose appeal window (``Denial.due_date``) closes between today
    and ``days`` days from now, with no open appeal (draft, ready or submitted) covering them:
    their ids, soonest first."""
    from appeals import vocabulary as v
    from appeals.models import Appeal
    from denials.models import ACTIVE_STATUSES, Denial

    covered = Appeal.denials.through.objects.filter(appeal__status__in=v.OPEN_STATUSES).values("denial_id")
    return list(
        Denial.objects.filter(
            status__in=ACTIVE_STATUSES,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=days),
        )
        .exclude(pk__in=covered)
        .order_by("due_date", "-amount", "pk")
        .values_list("pk", flat=True)
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def appeals_daily_check(today: str | None = None) -> dict[str, Any]:
    """Mark unsent appeals past their due date overdue (``appeals_mark_overdue``) and list the
    denials whose appeal window closes within 7 days with no open appeal. Returns (and logs)
    the counts and those denials' ids. ``today`` (YYYY-MM-DD) is for tests and catch-up runs."""
    from django.utils import timezone

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    result: dict[str, Any] = appeals_mark_overdue(today=day)
    closing = denials_appeal_window_closing(today=day)
    result["windows_closing"] = len(closing)
    result["closing_denial_ids"] = closing
    logger.info(
        "daily appeal check %s: %s newly overdue, %s overdue in all, %s cleared; %s denials' appeal window "
        "closes within %s days with no open appeal",
        day,
        result["newly_overdue"],
        result["overdue"],
        result["cleared"],
        len(closing),
        WINDOW_WARNING_DAYS,
    )
    return result


#: The figures' refresh (``appeals.analytics_rollup``): beat runs it every five minutes.
REFRESH_FIGURES = "appeals.tasks.refresh_figures"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_figures(full: bool = False) -> dict[str, Any] | None:
    """Bring the managers' figures up to date with what changed since the last refresh (``full``:
    rebuild them all), then, when they changed, answer the unfiltered dashboard and API once per
    scope so managers read them from the cache. Safe to run twice at once: the second finds the
    first's lock and returns None."""
    from appeals.analytics_rollup import figures_refresh, figures_warm

    changed = figures_refresh(full=full)
    if changed is not None:
        logger.info("figures refreshed: %s", changed)
        if changed["moved"]:
            changed["warmed"] = figures_warm()
    return changed
