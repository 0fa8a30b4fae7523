"""Two people saving the same thing at the same moment, on PostgreSQL, 200 trials each: two coders
recording outcomes on one denial, and two managers deciding one appeal. Each trial starts both
saves together (a barrier, each in its own thread and database connection, both from the version
they loaded); exactly one wins, the other is refused with a conflict, and nothing is lost: the
stored row is the winner's, its version went up by exactly one, and one audit event records it.

``CONCURRENT_TRIALS`` changes the number of trials (``make faults`` runs more).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import close_old_connections, connection

from denials.models import AuditEvent, Denial

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TRIALS = int(os.environ.get("CONCURRENT_TRIALS", "200"))


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("races are proven on PostgreSQL: run via `make test`")


def _race(first: Callable[[], Any], second: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run both at once (each thread its own connection); each result is ("ok", value) or
    ("error", exception)."""
    barrier = threading.Barrier(2)
    results: list[tuple[str, Any]] = [("", None), ("", None)]

    def run(index: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", action())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _team_with_denials(ingest: Callable[..., Any], team: Any, claims: int) -> list[Denial]:
    from denials.models import QueueRule, WorkQueue
    from tests.factories import remittance_835

    queue = WorkQueue.objects.create(name="Races", team=team)
    QueueRule.objects.create(queue=queue, category="")
    pcns = tuple(f"R{n:04d}" for n in range(claims))
    file = ingest(remittance_835(tag="RACE", serial=9301, pcns=pcns, lines=2), name="races.835")
    denials = list(Denial.objects.filter(claim__remittance__file=file).order_by("pk"))
    assert len(denials) == claims
    return denials


def test_two_coders_saving_one_denial_exactly_one_wins_every_time(ingest, team, coder, teammate):
    _require_postgresql()
    from denials.services import DenialConflict, denial_record_outcome

    denial = _team_with_denials(ingest, team, 1)[0]
    reopen_by = coder
    wins = {"first": 0, "second": 0}
    for trial in range(TRIALS):
        denial.refresh_from_db()
        seen = denial.version
        events_before = AuditEvent.objects.filter(target_id=str(denial.pk), action__startswith="denial.").count()
        results = _race(
            lambda seen=seen: denial_record_outcome(
                denial=Denial.objects.get(pk=denial.pk),
                action="corrected-claim",
                modifier="XS",
                actor=coder,
                expected_version=seen,
            ),
            lambda seen=seen, trial=trial: denial_record_outcome(
                denial=Denial.objects.get(pk=denial.pk),
                action="request-info",
                reason=f"Need the operative note (trial {trial})",
                actor=teammate,
                expected_version=seen,
            ),
        )
        outcomes = [kind for kind, _ in results]
        assert sorted(outcomes) == ["error", "ok"], (trial, results)
        loser = next(value for kind, value in results if kind == "error")
        assert isinstance(loser, DenialConflict), (trial, loser)
        winner_index = outcomes.index("ok")
        wins["first" if winner_index == 0 else "second"] += 1
        denial.refresh_from_db()
        assert denial.version == seen + 1, trial  # one save, never two, never none
        expected_status = "corrected" if winner_index == 0 else "info-requested"
        assert denial.status == expected_status, (trial, denial.status)
        assert (denial.chosen_modifier == "XS") == (winner_index == 0)
        assert (
            AuditEvent.objects.filter(target_id=str(denial.pk), action__startswith="denial.").count()
            == events_before + 1
        )
        denial_record_outcome(denial=denial, action="reopen", actor=reopen_by, expected_version=denial.version)
    # Both sides won some races: the test really raced them (not one always first).
    assert wins["first"] + wins["second"] == TRIALS
    print(f"\n{TRIALS} denial races: first won {wins['first']}, second won {wins['second']}, 0 lost updates")


def test_two_managers_deciding_one_appeal_exactly_one_wins_every_time(ingest, team, coder, manager):
    _require_postgresql()
    from appeals import vocabulary as v
    from appeals.models import Appeal
    from appeals.services import AppealConflict, appeal_create, appeal_update
    from tests.conftest import _user

    other_manager = _user("manager", [team])
    denials = _team_with_denials(ingest, team, TRIALS)
    wins = {"first": 0, "second": 0}
    for trial, denial in enumerate(denials):
        appeal = appeal_create(denials=[denial], actor=coder)
        appeal = appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status=v.STATUS_READY)
        appeal = appeal_update(
            appeal=appeal,
            expected_version=appeal.version,
            actor=coder,
            status=v.STATUS_SUBMITTED,
            submitted_on=appeal.created_at.date(),
        )
        seen = appeal.version
        results = _race(
            lambda appeal=appeal, seen=seen: appeal_update(
                appeal=appeal,
                expected_version=seen,
                actor=manager,
                status=v.STATUS_DECIDED,
                outcome=v.OUTCOME_OVERTURNED,
                amount_recovered=Decimal("100.00"),
                decided_on=appeal.created_at.date(),
            ),
            lambda appeal=appeal, seen=seen: appeal_update(
                appeal=appeal,
                expected_version=seen,
                actor=other_manager,
                status=v.STATUS_DECIDED,
                outcome=v.OUTCOME_UPHELD,
                amount_recovered=Decimal("0"),
                decided_on=appeal.created_at.date(),
            ),
        )
        outcomes = [kind for kind, _ in results]
        assert sorted(outcomes) == ["error", "ok"], (trial, results)
        loser = next(value for kind, value in results if kind == "error")
        assert isinstance(loser, AppealConflict), (trial, loser)
        winner_index = outcomes.index("ok")
        wins["first" if winner_index == 0 else "second"] += 1
        stored = Appeal.objects.get(pk=appeal.pk)
        assert stored.version == seen + 1, trial
        assert stored.outcome == (v.OUTCOME_OVERTURNED if winner_index == 0 else v.OUTCOME_UPHELD), trial
        decided_events = AuditEvent.objects.filter(target_id=str(appeal.pk), action=f"appeal.{v.STATUS_DECIDED}")
        assert decided_events.count() == 1, trial
        # The outcome reached the denial once, as the winner decided it.
        denial.refresh_from_db()
        assert denial.outcome == stored.outcome, (trial, denial.outcome, stored.outcome)
        assert denial.status == ("resolved" if winner_index == 0 else "open"), (trial, denial.status)
    assert wins["first"] + wins["second"] == TRIALS
    print(f"\n{TRIALS} appeal races: first won {wins['first']}, second won {wins['second']}, 0 lost updates")
