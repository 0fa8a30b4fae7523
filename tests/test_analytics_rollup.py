"""The figures tables (issue 11's speed): every figure the dashboard and the API read from
``DenialFact`` / ``ClaimFigure`` / ``AppealLineFact`` equals what the join-based selectors computed
before (``tests/analytics_reference.py``, kept verbatim), on seeded random rows, for an admin and a
manager, under every filter; after a full rebuild, after an incremental refresh that followed
writes made the way the services make them, after a specialty range changed, a new remittance
arrived and a denial was deleted. And who sees which copies is ``denials_visible_to``'s rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from appeals import analytics as appeal_figures
from appeals.analytics_models import AppealCell, AppealLineFact
from appeals.analytics_rollup import COPIES_COUNTED, FIRST_MARKS, figures_as_of, figures_refresh
from appeals.models import Appeal, SentModifier
from denials import analytics as denial_figures
from denials import vocabulary as words
from denials.analytics import Filters
from denials.analytics_models import EVERY, ClaimFigure, DenialCell, DenialFact, PreventionCell
from denials.models import ClaimPayment, Denial, Provider, Remittance, RemittanceFile, ServiceLine, WorkQueue
from denials.selectors import denials_visible_to
from ncci.models import SpecialtyRange
from tests import analytics_reference as reference
from tests.factories import PayerFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = dt.date(2026, 6, 30)
#: Procedure codes of several specialties (shipped ranges), one nobody maps, and none (claim level).
CODES = ("99213", "99214", "11102", "17000", "20610", "64483", "93308", "71046", "80053", "0591T", "A0425")
CATEGORY_CARCS = {
    words.BUNDLING_MODIFIER_MAY_APPLY: ("CO", "97"),
    words.BUNDLING_NOT_APPEALABLE: ("CO", "97"),
    words.BUNDLING_APPEALABLE: ("CO", "B15"),
    words.MISSING_INFORMATION: ("CO", "16"),
    words.MEDICAL_NECESSITY: ("CO", "50"),
    words.DUPLICATE: ("OA", "18"),
}
STATUSES = (
    words.STATUS_OPEN,
    words.STATUS_IN_PROGRESS,
    words.STATUS_WRITTEN_OFF,
    words.STATUS_CORRECTED,
    words.STATUS_RESOLVED,
    words.STATUS_APPEALED,
    words.STATUS_INFO_REQUESTED,
)
REASONS = ("Timely filing limit passed", "Timely  filing limit passed ", "Below the appeal threshold", "")


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


class World:
    """Seeded random rows: remittances over six months (one with no date), claims (some reversals),
    lines over several specialties, denials in two teams' queues and in none, appeals of every
    status and outcome with one to three lines, some sent with a modifier."""

    def __init__(self, *, seed: int, team: Any, other_team: Any, users: list[Any]) -> None:
        self.rng = rng = random.Random(seed)
        self.users = users
        self.queues = [
            WorkQueue.objects.create(name=f"Q{seed}a", team=team),
            WorkQueue.objects.create(name=f"Q{seed}b", team=team),
            WorkQueue.objects.create(name=f"Q{seed}c", team=other_team),
            None,
        ]
        self.payers = [PayerFactory(name=f"Payer {i}") for i in range(3)]
        self.payee = Provider.objects.create(name="Clinic", npi="1234567893")
        self.file = RemittanceFile.objects.create(original_name="w.835", content=b"", sha256="w" * 64, source="command")
        self.serial = 0
        for i in range(8):
            day = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 170))
            self.remittance(day if i else None, production=day if i == 1 else None)

    def remittance(self, day: dt.date | None, *, production: dt.date | None = None, claims: int = 5) -> Remittance:
        rng = self.rng
        self.serial += 1
        payer = rng.choice(self.payers)
        remittance = Remittance.objects.create(
            file=self.file,
            dedupe_key=f"w{self.serial}",
            payer=payer,
            payee=self.payee,
            payment_amount=D("0"),
            payment_date=None if production else day,
            production_date=production,
        )
        for c in range(claims):
            reversal = rng.random() < 0.1
            claim = ClaimPayment.objects.create(
                remittance=remittance,
                sequence=c + 1,
                payer=payer,
                patient_control_number=f"P{self.serial}-{c}",
                status_code="22" if reversal else rng.choice(["1", "2", "4"]),
                charge=D(rng.randint(100, 3000)),
                paid=D("0"),
                rendering_provider_name=rng.choice(["Dr Ames", "Dr Bell", ""]),
                rendering_provider_npi=rng.choice(["111", "222", ""]),
            )
            lines = [
                ServiceLine.objects.create(
                    claim=claim,
                    sequence=n + 1,
                    procedure_code=code,
                    charge=D(rng.randint(20, 900)),
                    paid=D("0"),
                )
                for n, code in enumerate(rng.sample(CODES, rng.randint(1, 4)))
            ]
            if rng.random() < 0.15:
                self.denial(claim, None)
            else:
                for line in lines:
                    if rng.random() < 0.6:
                        self.denial(claim, line)
        return remittance

    def denial(self, claim: ClaimPayment, line: ServiceLine | None) -> Denial:
        rng = self.rng
        category = rng.choice(list(CATEGORY_CARCS))
        group, carc = CATEGORY_CARCS[category]
        status = rng.choice(STATUSES)
        bundling = category in words.BUNDLING_CATEGORIES
        queue = rng.choice(self.queues)
        remitted = claim.remittance.payment_date or claim.remittance.production_date or dt.date(2026, 1, 1)
        worked = remitted + dt.timedelta(days=rng.randint(0, 60)) if status != words.STATUS_OPEN else None
        return Denial.objects.create(
            claim=claim,
            line=line,
            payer=claim.payer,
            kind=Denial.Kind.LINE_DENIED if line else Denial.Kind.CLAIM_DENIED,
            group_code=group,
            carc=carc,
            amount=D(rng.randint(0, 800)) + D(rng.choice(["0", "0.5", "0.25"])),
            category=category,
            queue=queue,
            status=status,
            ncci_column1=rng.choice(["17000", "20605"]) if bundling else "",
            ncci_column2=(line.procedure_code[:5] if line else "") if bundling else "",
            ncci_setting=rng.choice(["practitioner", "hospital"]) if bundling else "",
            resolution_reason=rng.choice(REASONS) if status == words.STATUS_WRITTEN_OFF else "",
            chosen_modifier=rng.choice(["", "", "59", "XS"]),
            worked_at=_at(worked, rng.choice([1, 12, 23])) if worked else None,
        )

    def appeals(self, count: int) -> None:
        rng = self.rng
        claims = list(ClaimPayment.objects.filter(denials__isnull=False).distinct().order_by("pk"))
        for _ in range(count):
            claim = rng.choice(claims)
            denials = list(claim.denials.order_by("pk"))
            covered = rng.sample(denials, rng.randint(1, min(3, len(denials))))
            self.appeal(claim, covered)

    def appeal(self, claim: ClaimPayment, covered: list[Denial]) -> Appeal:
        rng = self.rng
        status = rng.choice(["draft", "ready", "submitted", "decided", "decided", "withdrawn"])
        outcome = rng.choice(["overturned", "partially-paid", "upheld", "withdrawn"]) if status == "decided" else ""
        at_stake = sum((d.amount for d in covered), D("0"))
        recovered = {
            "overturned": at_stake,
            "partially-paid": (at_stake * D(rng.choice(["0.3", "0.5", "0.9"]))).quantize(D("0.01")),
        }.get(outcome, D("0"))
        started = dt.date(2026, 1, 10) + dt.timedelta(days=rng.randint(0, 160))
        appeal = Appeal.objects.create(
            claim=claim,
            level=rng.choice(["first-level", "second-level", "redetermination", "reconsideration"]),
            status=status if status != "draft" or not Appeal.objects.filter(claim=claim, status="draft") else "ready",
            outcome=outcome,
            amount_recovered=recovered,
            decided_on=started + dt.timedelta(days=rng.randint(5, 90)) if status == "decided" else None,
            created_by=rng.choice([*self.users, None]),
        )
        Appeal.objects.filter(pk=appeal.pk).update(created_at=_at(started, rng.choice([0, 12, 23])))
        appeal.denials.set(covered)
        if status in ("submitted", "decided") and rng.random() < 0.7:
            for d in covered:
                SentModifier.objects.create(appeal=appeal, denial=d, modifier=rng.choice(["", "59", "XU"]))
        return appeal


# --- Comparing the fast path with the oracle --------------------------------------------------------
def _value(found: Any) -> Any:
    if isinstance(found, list):
        return [_value(x) for x in found]
    if dataclasses.is_dataclass(found):
        return dataclasses.astuple(found)  # type: ignore[arg-type]
    return found


def _without_phantom_rows(by: str, rows: list[Any]) -> list[Any]:
    """The old specialty grouping answered one "Unmapped" row of zeros when no line matched (its
    GROUP BY was a constant the ORM dropped, so the aggregate ran over nothing): that row was never
    a group of appeals, and the new path rightly has none. Months keep their empty rows."""
    return rows if by == "month" else [r for r in rows if r.appeals]


def _filter_sets(world: World, team: Any) -> list[Filters]:
    payer = world.payers[0].pk
    return [
        Filters(),
        Filters(date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 4, 30)),
        Filters(date_from=dt.date(2026, 3, 14)),
        Filters(payer_id=payer),
        Filters(team_id=team.pk),
        Filters(setting="practitioner"),
        Filters(specialty="Dermatology"),
        Filters(specialty="E/M", payer_id=payer),
        Filters(specialty="Unmapped"),
        Filters(date_to=dt.date(2026, 5, 1), team_id=team.pk, specialty="Orthopedics"),
    ]


def _assert_every_figure_as_before(world: World, users: list[Any], team: Any) -> int:
    """Every figure, for each user and filter set, equal to the oracle's; returns how many compared."""
    compared = 0
    for user in users:
        for filters in _filter_sets(world, team):
            where = (user.username, filters)
            for by in denial_figures.DENIAL_GROUPINGS:
                assert _value(denial_figures.denial_counts(user=user, filters=filters, by=by)) == _value(
                    reference.denial_counts(user=user, filters=filters, by=by)
                ), (where, by)
            for by in ("category", "payer"):
                assert _value(denial_figures.denial_trend(user=user, filters=filters, by=by)) == _value(
                    reference.denial_trend(user=user, filters=filters, by=by)
                ), (where, by)
            for name in ("denial_rate", "write_offs", "days_to_resolve", "prevention"):
                assert _value(getattr(denial_figures, name)(user=user, filters=filters)) == _value(
                    getattr(reference, name)(user=user, filters=filters)
                ), (where, name)
            assert _value(denial_figures.aging(user=user, filters=filters, today=TODAY)) == _value(
                reference.aging(user=user, filters=filters, today=TODAY)
            ), where
            for by in appeal_figures.APPEAL_GROUPINGS:
                assert _value(appeal_figures.appeal_success(user=user, filters=filters, by=by)) == _value(
                    _without_phantom_rows(by, reference.appeal_success(user=user, filters=filters, by=by))
                ), (where, by)
            for name in ("recovered_by_month", "bundling_first_level_success", "appeal_totals"):
                assert _value(getattr(appeal_figures, name)(user=user, filters=filters)) == _value(
                    getattr(reference, name)(user=user, filters=filters)
                ), (where, name)
            compared += 1
    return compared


@pytest.fixture
def world(team, other_team, manager, other_manager, admin_user):
    built = World(seed=11, team=team, other_team=other_team, users=[manager, other_manager])
    built.appeals(25)
    return built


def _added_up() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What the figures add up besides the copies: every ``DenialCell``, ``AppealCell`` and
    ``PreventionCell`` row, and each appeal line's counting marks."""
    cells = sorted(
        DenialCell.objects.values_list(*(f.name for f in DenialCell._meta.fields if f.name != "id")),
        key=repr,
    )
    appeal_cells = sorted(
        [
            *AppealCell.objects.values_list(*(f.name for f in AppealCell._meta.fields if f.name != "id")),
            *PreventionCell.objects.values_list(*(f.name for f in PreventionCell._meta.fields if f.name != "id")),
        ],
        key=repr,
    )
    marks = list(
        AppealLineFact.objects.order_by("appeal_id", "denial_id").values_list(
            "appeal_id", "denial_id", "mixed", "split_queue", "first_bundling", *FIRST_MARKS
        )
    )
    return cells, appeal_cells, marks


def test_every_figure_from_a_full_rebuild_equals_the_join_based_figures(world, team, manager, admin_user):
    figures_refresh(full=True)
    assert DenialFact.objects.count() == Denial.objects.count() > 50
    assert AppealLineFact.objects.count() == Appeal.denials.through.objects.count() > 25
    # Both ways of counting appeals and every slice of the cells are exercised.
    assert AppealLineFact.objects.filter(mixed=True).exists() and AppealLineFact.objects.filter(mixed=False).exists()
    assert (
        DenialFact.objects.filter(claim_split=True).exists() and DenialFact.objects.filter(claim_split=False).exists()
    )
    assert {(c.setting == EVERY, c.specialty == EVERY) for c in DenialCell.objects.all()} == {
        (True, True),
        (False, True),
        (True, False),
    }
    every = DenialCell.objects.filter(setting=EVERY, specialty=EVERY)
    assert sum(every.values_list("n", flat=True)) == DenialFact.objects.count() > every.count()
    prevention = DenialFact.objects.filter(category__in=denial_figures.PREVENTION_CATEGORIES).count()
    assert sum(PreventionCell.objects.values_list("n", flat=True)) == prevention > 0
    # The appeal cells: every grouping, the appeals in one queue (the split ones are counted apart).
    assert set(AppealCell.objects.values_list("grouping", flat=True)) == {
        *appeal_figures.CELL_GROUPINGS,
        COPIES_COUNTED,
    }
    in_one_queue = AppealLineFact.objects.filter(split_queue=False)
    assert in_one_queue.exists() and AppealLineFact.objects.filter(split_queue=True).exists()
    every_appeal = AppealCell.objects.filter(grouping=appeal_figures.ALL_CELLS)
    assert sum(every_appeal.values_list("lines", flat=True)) == in_one_queue.count()
    assert sum(every_appeal.values_list("n", flat=True)) == in_one_queue.values("appeal_id").distinct().count()
    assert _assert_every_figure_as_before(world, [admin_user, manager], team) == 20


def _service_write(model: Any, pk: int, **changes: Any) -> None:
    """A write as the services make it: the change, a version bump, ``updated_at`` now."""
    from django.db.models import F

    model.objects.filter(pk=pk).update(**changes, version=F("version") + 1, updated_at=timezone.now())


def test_an_incremental_refresh_follows_every_kind_of_change(world, team, manager, admin_user, other_team):
    figures_refresh(full=True)
    rng = random.Random(5)
    denials = list(Denial.objects.order_by("pk"))
    # Outcomes recorded, work moved to another queue, a reason typed.
    for denial in rng.sample(denials, 12):
        _service_write(
            Denial,
            denial.pk,
            status=rng.choice(STATUSES),
            queue=rng.choice(world.queues),
            resolution_reason=rng.choice(REASONS),
            worked_at=_at(dt.date(2026, 5, rng.randint(1, 28))),
        )
    # Triage again: a new category and pair, stamped triaged_at (no version bump).
    for denial in rng.sample(denials, 5):
        Denial.objects.filter(pk=denial.pk).update(
            category=words.BUNDLING_NOT_APPEALABLE,
            ncci_column1="20605",
            ncci_setting="hospital",
            triaged_at=timezone.now(),
        )
    # Appeals decided and withdrawn; a line added to one; a new appeal; one deleted.
    appeals = list(Appeal.objects.order_by("pk"))
    decided = appeals[0]
    _service_write(
        Appeal,
        decided.pk,
        status="decided",
        outcome="overturned",
        decided_on=dt.date(2026, 6, 2),
        amount_recovered=sum((d.amount for d in decided.denials.all()), D("0")),
    )
    _service_write(Appeal, appeals[1].pk, status="withdrawn", outcome="")
    grown = next(a for a in appeals[2:] if a.claim.denials.exclude(pk__in=a.denials.all()).exists())
    grown.denials.add(grown.claim.denials.exclude(pk__in=grown.denials.all()).first())
    world.appeal(appeals[3].claim, list(appeals[3].claim.denials.all()[:1]))
    appeals[4].delete()
    # A denial deleted (its appeals' lines go with it), and a new 835.
    Denial.objects.filter(pk=denials[-1].pk).delete()
    world.remittance(dt.date(2026, 6, 20), claims=4)

    changed = figures_refresh()
    assert changed is not None and changed["denials_copied"] >= 17 and changed["remittances_counted"] == 1
    assert changed["appeals_recopied"] >= 4 and changed["denial_cells_written"] > 0
    assert _assert_every_figure_as_before(world, [admin_user, manager], team) == 20
    # The cells and marks the refresh kept are what a rebuild from scratch adds up.
    kept = _added_up()
    figures_refresh(full=True)
    assert _added_up() == kept


def test_a_deleted_denial_leaves_its_month_of_cells(world, admin_user):
    """A deleted denial takes its copy with it and no stamp says so: its month is added up again."""
    figures_refresh(full=True)
    gone = DenialFact.objects.exclude(remit_month=None).order_by("pk").first()
    assert gone is not None
    Denial.objects.filter(pk=gone.denial_id).delete()
    changed = figures_refresh()
    assert changed is not None and changed["denials_copied"] == 0 and changed["denial_cells_written"] > 0
    kept = _added_up()
    figures_refresh(full=True)
    assert _added_up() == kept
    following = (gone.remit_month + dt.timedelta(days=32)).replace(day=1)
    month = Filters(date_from=gone.remit_month, date_to=following - dt.timedelta(days=1))  # a whole month: cells
    assert _value(denial_figures.denial_counts(user=admin_user, filters=month, by="category")) == _value(
        reference.denial_counts(user=admin_user, filters=month, by="category")
    )


def test_a_deleted_appeal_leaves_the_appeal_cells(world, team, manager, admin_user):
    """A deleted appeal takes its copies with it and no stamp says so: the cells count fewer lines
    than the copies, and are added up again (and the figures move on)."""
    figures_refresh(full=True)
    kept_line = AppealLineFact.objects.filter(split_queue=False).order_by("appeal_id").first()
    assert kept_line is not None
    Appeal.objects.filter(pk=kept_line.appeal_id).delete()
    changed = figures_refresh()
    assert changed is not None and changed["appeal_cells_written"] > 0
    assert changed["moved"]
    for user in (admin_user, manager):
        for filters in (Filters(), Filters(team_id=team.pk)):
            for by in ("payer", "category"):
                assert _value(appeal_figures.appeal_success(user=user, filters=filters, by=by)) == _value(
                    _without_phantom_rows(by, reference.appeal_success(user=user, filters=filters, by=by))
                )
            assert _value(appeal_figures.appeal_totals(user=user, filters=filters)) == _value(
                reference.appeal_totals(user=user, filters=filters)
            )
    kept = _added_up()
    figures_refresh(full=True)
    assert _added_up() == kept


def test_a_deleted_denial_an_appeal_covered_has_its_appeal_counted_again(world, team, manager, admin_user):
    """Deleting a denial takes its appeal lines with it and bumps no appeal's version; the appeal's
    other lines had their marks (and recovered shares) worked out with it. The month the copies
    fell short in is copied again, so the appeal is still counted, as a rebuild counts it."""
    figures_refresh(full=True)
    lines = AppealLineFact.objects.filter(first_appeal=True).order_by("appeal_id")
    first = next(x for x in lines if AppealLineFact.objects.filter(appeal_id=x.appeal_id).count() > 1)
    Denial.objects.filter(pk=first.denial_id).delete()
    changed = figures_refresh()
    assert changed is not None and changed["appeals_recopied"] >= 1
    assert AppealLineFact.objects.filter(appeal_id=first.appeal_id, first_appeal=True).count() == 1
    for user in (admin_user, manager):
        for filters in (Filters(), Filters(team_id=team.pk), Filters(payer_id=world.payers[0].pk)):
            assert _value(appeal_figures.appeal_totals(user=user, filters=filters)) == _value(
                reference.appeal_totals(user=user, filters=filters)
            )
            assert _value(appeal_figures.appeal_success(user=user, filters=filters, by="carc")) == _value(
                _without_phantom_rows("carc", reference.appeal_success(user=user, filters=filters, by="carc"))
            )
    kept = _added_up()
    figures_refresh(full=True)
    assert _added_up() == kept


def test_a_specialty_range_edited_by_an_admin_derives_every_specialty_again(world, team, manager, admin_user):
    figures_refresh(full=True)
    SpecialtyRange.objects.create(specialty="Mohs surgery", first="17000", last="17004", position=1)
    changed = figures_refresh()
    assert changed is not None and changed["specialties_derived"] == DenialFact.objects.count()
    assert set(DenialFact.objects.filter(procedure_code="17000").values_list("specialty", flat=True)) <= {
        "Mohs surgery"
    }
    assert (
        ClaimFigure.objects.filter(specialty="Mohs surgery").exists()
        == ServiceLine.objects.filter(procedure_code="17000", claim__status_code__in=["1", "2", "4"]).exists()
    )
    for filters in (Filters(specialty="Mohs surgery"), Filters(specialty="Dermatology")):
        for user in (admin_user, manager):
            assert _value(denial_figures.denial_rate(user=user, filters=filters)) == _value(
                reference.denial_rate(user=user, filters=filters)
            )
            assert _value(denial_figures.denial_counts(user=user, filters=filters, by="carc")) == _value(
                reference.denial_counts(user=user, filters=filters, by="carc")
            )
            assert _value(appeal_figures.appeal_success(user=user, filters=filters, by="specialty")) == _value(
                _without_phantom_rows("specialty", reference.appeal_success(user=user, filters=filters, by="specialty"))
            )


def test_a_refresh_with_nothing_changed_writes_nothing_and_moves_the_time(world):
    figures_refresh(full=True)
    first = figures_as_of()
    changed = figures_refresh()
    assert changed is not None
    assert (changed["denials_copied"], changed["denials_removed"], changed["remittances_counted"]) == (0, 0, 0)
    assert changed["appeals_recopied"] == 0
    assert first is not None and figures_as_of() > first  # type: ignore[operator]


@pytest.mark.parametrize("persona", ["admin_user", "manager", "coder", "outsider", "norole"])
def test_the_copies_a_user_sees_are_the_denials_they_may_see(world, persona, request):
    figures_refresh(full=True)
    user = request.getfixturevalue(persona)
    seen = set(denial_figures.denials_for_figures(user=user, filters=Filters()).values_list("denial_id", flat=True))
    assert seen == set(denials_visible_to(user=user).values_list("pk", flat=True))
    if persona == "norole":
        assert seen == set()
    else:
        assert seen  # every persona with a role sees some of the world (the loop above compared something)


def test_an_answer_is_kept_until_a_refresh_changes_the_figures(world, admin_user):
    from denials.analytics_models import FigureCache

    figures_refresh(full=True)
    first = denial_figures.denial_counts(user=admin_user, filters=Filters(), by="category")
    assert FigureCache.objects.count() == 1
    assert denial_figures.denial_counts(user=admin_user, filters=Filters(), by="category") == first
    denial = Denial.objects.exclude(category=words.DUPLICATE).order_by("pk").first()
    assert denial is not None
    _service_write(Denial, denial.pk, category=words.DUPLICATE)
    figures_refresh()
    assert FigureCache.objects.count() == 0  # the kept answers of the figures as they were are gone
    after = denial_figures.denial_counts(user=admin_user, filters=Filters(), by="category")
    assert _value(after) == _value(reference.denial_counts(user=admin_user, filters=Filters(), by="category"))
    assert after != first
    figures_refresh()  # nothing changed: what was kept stays
    assert FigureCache.objects.count() == 1


def test_after_a_change_the_unfiltered_dashboard_is_answered_once_per_scope(
    world, manager, other_manager, admin_user, client, settings, django_assert_max_num_queries
):
    from appeals.analytics_rollup import figures_warm
    from denials.analytics_models import FigureCache

    figures_refresh(full=True)
    warmed = figures_warm()
    assert warmed["scopes"] == 3  # the two teams' managers and the admins
    kept = FigureCache.objects.count()
    assert kept > 0
    settings.TESTING = False  # read as production does
    for user in (manager, other_manager, admin_user):
        client.force_login(user)
        with django_assert_max_num_queries(45):  # each figure: the user's queues and a look-up
            assert client.get("/analytics/").status_code == 200
    assert FigureCache.objects.count() == kept  # every figure on the page was already answered
