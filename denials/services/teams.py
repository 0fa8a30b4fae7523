"""Setting up a billing team with the standard work queues (``manage.py add_team``, the demo).

A plain install has no teams or queues, so its denials are triaged but sit in no queue
(admins see them; coders see only their teams' queues). Creating a team with queues and
queue rules, here or in the Django admin, re-triages the open denials into the queues.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from denials import vocabulary
from denials.models import Payer, QueueRule, Team, WorkQueue
from denials.services.audit import audit_record


@dataclass(frozen=True)
class StandardQueue:
    """A queue every team starts with, and the triage category routed to it ('' = the rest)."""

    name: str
    category: str
    description: str
    priority: int = 100


#: Bundling (split by NCCI into the bundling-* categories) and coding get their own queues;
#: everything else goes to a general queue through a catch-all rule ranked last.
STANDARD_QUEUES: tuple[StandardQueue, ...] = (
    StandardQueue("Bundling and NCCI", vocabulary.BUNDLING, "CARC 97/236, M15, N381"),
    StandardQueue("Coding corrections", vocabulary.CODING, "N657, CARC 4/11, modifiers"),
    StandardQueue("General denials", "", "Everything else", priority=1000),
)


class TeamSetupRefused(Exception):
    """The team cannot be set up as asked (a queue or routing rule belongs to someone else);
    nothing was changed, and the message says what is in the way."""


@dataclass
class TeamSetup:
    """What ``team_add`` found and created."""

    team: Team
    created: list[str] = field(default_factory=list)
    queues: list[WorkQueue] = field(default_factory=list)


def team_add(
    *,
    name: str,
    members: Iterable[User] = (),
    payers: Sequence[Payer] = (),
    queue_prefix: str | None = None,
    actor: User | None = None,
) -> TeamSetup:
    """Create (or complete) a team with the three standard queues and their routing rules.

    Queue names are unique across teams, so they are prefixed with the team's name unless
    ``queue_prefix`` says otherwise ('' for none). Queue rules are unique per (category,
    payer): without ``payers`` the team takes every payer's denials, so a second team needs
    ``payers`` (its rules then win for those payers, being more specific). Running it again
    adds only what is missing; a queue or rule that already belongs to another team refuses
    the whole setup. The caller re-triages afterwards (``denials_triage``).
    """
    name = name.strip()
    if not name:
        raise TeamSetupRefused("A team needs a name.")
    prefix = f"{name}: " if queue_prefix is None else queue_prefix
    with transaction.atomic():
        team, team_created = Team.objects.get_or_create(name=name)
        setup = TeamSetup(team=team)
        if team_created:
            setup.created.append(f"team {team.name}")
            audit_record(actor=actor, action="team.created", target=team, new={"name": team.name})
        for spec in STANDARD_QUEUES:
            queue_name = f"{prefix}{spec.name}"
            queue = WorkQueue.objects.filter(name=queue_name).first()
            if queue is None:
                queue = WorkQueue.objects.create(name=queue_name, team=team, description=spec.description)
                setup.created.append(f"queue {queue.name}")
                audit_record(
                    actor=actor, action="queue.created", target=queue, new={"name": queue.name, "team": team.pk}
                )
            elif queue.team_id != team.pk:
                raise TeamSetupRefused(
                    f"The queue {queue.name!r} belongs to the team {queue.team}; choose another queue prefix."
                )
            setup.queues.append(queue)
            targets: list[Payer | None] = list(payers) or [None]
            for payer in targets:
                rule = QueueRule.objects.filter(category=spec.category, payer=payer).select_related("queue").first()
                what = f"{spec.category or 'any category'} / {payer or 'any payer'}"
                if rule is None:
                    rule = QueueRule.objects.create(
                        queue=queue, category=spec.category, payer=payer, priority=spec.priority
                    )
                    setup.created.append(f"rule {what} -> {queue.name}")
                    audit_record(
                        actor=actor,
                        action="queue_rule.created",
                        target=rule,
                        new={"queue": queue.pk, "category": spec.category, "payer": payer.pk if payer else None},
                    )
                elif rule.queue_id != queue.pk:
                    raise TeamSetupRefused(
                        f"Denials of {what} already go to the queue {rule.queue.name!r}; "
                        "give this team its payers (--payer) or change that rule in the admin."
                    )
        for user in members:
            if not team.members.filter(pk=user.pk).exists():
                team.members.add(user)  # type: ignore[arg-type]  # AUTH_USER_MODEL is auth.User
                setup.created.append(f"member {user}")
                audit_record(actor=actor, action="team.member_added", target=team, new={"user": user.pk})
    return setup
