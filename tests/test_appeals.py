"""Appeals: creating drafts, the status life, the payer's decision handed back to the
denials, and the API (201, 400 naming the field, 404 for another team, 409 when stale)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.urls import include, path
from django.utils import timezone
from rest_framework.test import APIClient

from appeals import services
from appeals import vocabulary as v
from appeals.models import Appeal
from config.urls import _api_urls
from config.urls import urlpatterns as project_urlpatterns
from denials import vocabulary as denial_words
from denials.models import AuditEvent, Denial, Payer

# Until config/urls.py mounts ``appeals.api_urls``, these tests mount it themselves.
urlpatterns = [
    *project_urlpatterns,
    path("api/", include((_api_urls(__import__("appeals.api_urls").api_urls.urlpatterns), "appeals_api"))),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

REMITTANCE_DATE = dt.date(2026, 10, 1)  # BPR16 of tests.factories.remittance_835


@pytest.fixture
def team_a(team_files):
    """Team A's claim: two denied lines of $100 (11102 CO-97 and 99213 CO-16)."""
    denials = list(Denial.objects.filter(claim__remittance__file=team_files["A"]).order_by("pk"))
    assert len(denials) == 2
    return denials


@pytest.fixture
def team_b(team_files):
    denials = list(Denial.objects.filter(claim__remittance__file=team_files["B"]).order_by("pk"))
    assert len(denials) == 2
    return denials


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _audit(appeal: Appeal) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            target_type=ContentType.objects.get_for_model(Appeal), target_id=str(appeal.pk)
        ).order_by("at", "id")
    )


def _submitted(appeal: Appeal, actor) -> Appeal:
    appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=actor, status="ready")
    return services.appeal_update(
        appeal=appeal,
        expected_version=appeal.version,
        actor=actor,
        status="submitted",
        method="portal",
        submitted_on=dt.date(2026, 10, 20),
    )


# --- Creating ---------------------------------------------------------------------------------------
def test_appeal_create_makes_a_draft_at_the_first_level_due_from_the_payers_window(team_a, coder):
    payer = team_a[0].claim.payer
    Payer.objects.filter(pk=payer.pk).update(appeal_window_days=90)
    appeal = services.appeal_create(denials=[team_a[0]], actor=coder)
    assert appeal.status == v.STATUS_DRAFT and appeal.level == v.LEVEL_FIRST
    assert appeal.due_date == REMITTANCE_DATE + dt.timedelta(days=90)
    assert appeal.claim_id == team_a[0].claim_id and appeal.created_by == coder
    assert [e.action for e in _audit(appeal)] == ["appeal.created"]


def test_a_medicare_payers_appeal_starts_as_a_redetermination_due_125_days_after_the_remittance(team_a, coder):
    Payer.objects.filter(pk=team_a[0].claim.payer_id).update(kind=Payer.Kind.MEDICARE, appeal_window_days=30)
    appeal = services.appeal_create(denials=team_a, actor=coder)
    assert appeal.level == v.LEVEL_REDETERMINATION
    assert appeal.due_date == REMITTANCE_DATE + dt.timedelta(days=125)


def test_appealing_a_second_line_adds_it_to_the_claims_draft(team_a, coder, teammate):
    first = services.appeal_create(denials=[team_a[0]], actor=coder)
    second = services.appeal_create(denials=[team_a[1].pk], actor=teammate)
    assert second.pk == first.pk
    assert sorted(second.denials.values_list("pk", flat=True)) == [d.pk for d in team_a]
    assert second.version == first.version + 1
    added = _audit(second)[-1]
    assert added.action == "appeal.denials_added"
    assert added.old == {"denials": [team_a[0].pk]} and added.new == {"denials": [d.pk for d in team_a]}
    # The same line again changes nothing and writes nothing.
    again = services.appeal_create(denials=[team_a[1]], actor=coder)
    assert again.version == second.version and len(_audit(again)) == 2


def test_the_database_allows_one_draft_per_claim(team_a, coder):
    services.appeal_create(denials=[team_a[0]], actor=coder)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(claim=team_a[0].claim, level=v.LEVEL_FIRST)


def test_an_indicator_0_bundling_write_off_is_refused_with_the_reason(team_a, coder):
    Denial.objects.filter(pk=team_a[0].pk).update(category=denial_words.BUNDLING_NOT_APPEALABLE)
    with pytest.raises(services.AppealRefused, match="modifier indicator is 0") as refused:
        services.appeal_create(denials=team_a, actor=coder)
    assert refused.value.field == "denials"
    assert not Appeal.objects.exists()


def test_a_modifier_may_apply_bundling_denial_is_appealable(team_a, coder):
    Denial.objects.filter(pk=team_a[0].pk).update(category=denial_words.BUNDLING_MODIFIER_MAY_APPLY)
    assert services.appeal_create(denials=[team_a[0]], actor=coder).denials.count() == 1


def test_denials_of_two_claims_are_refused(team_a, team_files, admin_user):
    other_claim = Denial.objects.filter(claim__remittance__file=team_files["B"]).first()
    with pytest.raises(services.AppealRefused, match="one claim"):
        services.appeal_create(denials=[team_a[0], other_claim], actor=admin_user)
    assert not Appeal.objects.exists()


def test_another_teams_denial_is_not_found_as_if_it_did_not_exist(team_a, outsider):
    with pytest.raises(services.DenialsNotFound, match=str(team_a[0].pk)):
        services.appeal_create(denials=[team_a[0]], actor=outsider)
    assert not Appeal.objects.exists()


def test_a_denial_under_a_sent_appeal_cannot_start_another(team_a, coder):
    _submitted(services.appeal_create(denials=[team_a[0]], actor=coder), coder)
    with pytest.raises(services.AppealRefused, match="already under appeal"):
        services.appeal_create(denials=[team_a[0]], actor=coder)


def test_a_medicare_coder_may_choose_a_clerical_error_reopening_due_in_one_year(team_a, coder):
    Payer.objects.filter(pk=team_a[0].claim.payer_id).update(kind=Payer.Kind.MEDICARE)
    appeal = services.appeal_create(denials=[team_a[0]], actor=coder, level=v.LEVEL_REOPENING)
    assert appeal.level == v.LEVEL_REOPENING and appeal.due_date == dt.date(2027, 10, 1)


@pytest.mark.parametrize(
    ("kind", "level"),
    [("medicare", v.LEVEL_RECONSIDERATION), ("commercial", v.LEVEL_REOPENING), ("commercial", v.LEVEL_SECOND)],
)
def test_a_new_appeal_cannot_start_above_the_first_level(team_a, coder, kind, level):
    Payer.objects.filter(pk=team_a[0].claim.payer_id).update(kind=kind)
    with pytest.raises(services.AppealRefused, match=level) as refused:
        services.appeal_create(denials=[team_a[0]], actor=coder, level=level)
    assert refused.value.field == "level" and not Appeal.objects.exists()


def _decided(appeal: Appeal, actor, outcome: str, amount: str = "0", on: dt.date | None = None) -> Appeal:
    appeal = _submitted(appeal, actor)
    return services.appeal_update(
        appeal=appeal,
        expected_version=appeal.version,
        actor=actor,
        status="decided",
        outcome=outcome,
        amount_recovered=Decimal(amount),
        decided_on=on or dt.date(2026, 11, 2),
    )


def test_an_upheld_medicare_redetermination_goes_to_reconsideration_due_185_days_after_the_decision(team_a, coder):
    Payer.objects.filter(pk=team_a[0].claim.payer_id).update(kind=Payer.Kind.MEDICARE)
    first = _decided(services.appeal_create(denials=team_a, actor=coder), coder, "upheld")
    upper = services.appeal_next_level(appeal=first, actor=coder)
    assert upper.level == v.LEVEL_RECONSIDERATION and upper.previous_id == first.pk
    assert upper.status == v.STATUS_DRAFT and upper.due_date == dt.date(2026, 11, 2) + dt.timedelta(days=185)
    assert sorted(upper.denials.values_list("pk", flat=True)) == [d.pk for d in team_a]
    assert _audit(upper)[0].new["previous"] == first.pk
    with pytest.raises(services.AppealRefused, match="already"):
        services.appeal_next_level(appeal=first, actor=coder)


def test_a_line_never_appealed_is_not_added_to_a_next_level_draft(team_a, coder):
    first = _decided(services.appeal_create(denials=[team_a[0]], actor=coder), coder, "upheld")
    upper = services.appeal_next_level(appeal=first, actor=coder)
    with pytest.raises(services.AppealRefused, match="send or withdraw it") as refused:
        services.appeal_create(denials=[team_a[1]], actor=coder)
    assert refused.value.field == "denials"
    assert list(upper.denials.values_list("pk", flat=True)) == [team_a[0].pk]
    # The line already in it: nothing to add, nothing refused.
    assert services.appeal_create(denials=[team_a[0]], actor=coder).pk == upper.pk


def test_an_alj_hearing_needs_190_dollars_in_controversy(team_a, coder):
    Payer.objects.filter(pk=team_a[0].claim.payer_id).update(kind=Payer.Kind.MEDICARE)
    first = _decided(services.appeal_create(denials=team_a, actor=coder), coder, "upheld")
    second = _decided(services.appeal_next_level(appeal=first, actor=coder), coder, "partially-paid", "10.01")
    with pytest.raises(services.AppealRefused, match=r"\$190 in controversy") as refused:
        services.appeal_next_level(appeal=second, actor=coder)  # $200 at stake - $10.01 paid = $189.99
    assert refused.value.field == "level"


def test_an_overturned_appeal_and_the_top_of_the_ladder_go_no_higher(team_a, coder):
    won = _decided(services.appeal_create(denials=[team_a[0]], actor=coder), coder, "overturned", "100")
    with pytest.raises(services.AppealRefused, match="upheld or partially paid"):
        services.appeal_next_level(appeal=won, actor=coder)
    appeal = _decided(services.appeal_create(denials=[team_a[1]], actor=coder), coder, "upheld")
    appeal = _decided(services.appeal_next_level(appeal=appeal, actor=coder), coder, "upheld")
    assert appeal.level == v.LEVEL_SECOND
    appeal = _decided(services.appeal_next_level(appeal=appeal, actor=coder), coder, "upheld")
    assert appeal.level == v.LEVEL_EXTERNAL_REVIEW
    with pytest.raises(services.AppealRefused, match="no level above"):
        services.appeal_next_level(appeal=appeal, actor=coder)


def test_post_may_choose_a_reopening_for_a_medicare_payer(team_a, coder):
    Payer.objects.filter(pk=team_a[0].claim.payer_id).update(kind=Payer.Kind.MEDICARE)
    response = _api(coder).post("/api/appeals/", {"denials": [team_a[0].pk], "level": "reopening"}, format="json")
    assert response.status_code == 201 and response.json()["level"] == "reopening"


# --- Status life ---------------------------------------------------------------------------------
def test_the_status_moves_draft_ready_submitted_decided_each_audited(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    assert appeal.status == v.STATUS_SUBMITTED and appeal.method == "portal"
    assert appeal.submitted_on == dt.date(2026, 10, 20)
    appeal = services.appeal_update(
        appeal=appeal,
        expected_version=appeal.version,
        actor=coder,
        status="decided",
        outcome="partially-paid",
        amount_recovered=Decimal("150.00"),
    )
    assert appeal.status == v.STATUS_DECIDED and appeal.decided_on is not None
    events = _audit(appeal)
    assert [e.action for e in events] == ["appeal.created", "appeal.ready", "appeal.submitted", "appeal.decided"]
    assert events[-1].old["status"] == "submitted" and events[-1].new["status"] == "decided"
    assert events[-1].old["amount_recovered"] == "0.00" and events[-1].new["amount_recovered"] == "150.00"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["ready", "submitted", "decided"], "draft"),
        (["ready", "submitted", "decided"], "withdrawn"),
        ([], "submitted"),
        ([], "decided"),
        (["withdrawn"], "draft"),
    ],
)
def test_illegal_transitions_are_refused_naming_the_status(team_a, coder, path, target):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    for step in path:
        extra = {"outcome": "upheld"} if step == "decided" else {}
        appeal = services.appeal_update(
            appeal=appeal, expected_version=appeal.version, actor=coder, status=step, **extra
        )
    before = (appeal.status, appeal.version, len(_audit(appeal)))
    with pytest.raises(services.AppealRefused) as refused:
        services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status=target)
    assert refused.value.field in {"status", "outcome"}
    appeal.refresh_from_db()
    assert (appeal.status, appeal.version, len(_audit(appeal))) == before


def test_withdrawn_is_allowed_from_every_status_before_a_decision(team_a, coder):
    for steps in ([], ["ready"], ["ready", "submitted"]):
        Appeal.objects.all().delete()
        appeal = services.appeal_create(denials=team_a, actor=coder)
        for step in steps:
            appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status=step)
        appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status="withdrawn")
        assert appeal.status == v.STATUS_WITHDRAWN


def test_submitting_without_a_date_records_today(team_a, coder):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status="ready")
    before = timezone.localdate()
    appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status="submitted")
    assert before <= appeal.submitted_on <= timezone.localdate()  # today, even across midnight


def test_a_decision_dated_before_the_submission_is_refused(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    with pytest.raises(services.AppealRefused, match="before the appeal was submitted") as refused:
        services.appeal_update(
            appeal=appeal,
            expected_version=appeal.version,
            actor=coder,
            status="decided",
            outcome="upheld",
            decided_on=dt.date(2026, 10, 19),
        )
    assert refused.value.field == "decided_on"


def test_an_outcome_without_decided_is_refused(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    with pytest.raises(services.AppealRefused, match="only when the appeal is decided") as refused:
        services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, outcome="overturned")
    assert refused.value.field == "outcome"


def test_deciding_needs_an_outcome(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    with pytest.raises(services.AppealRefused, match="needs its outcome"):
        services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status="decided")


@pytest.mark.parametrize(
    ("amount", "why"), [(Decimal("-0.01"), "cannot be negative"), (Decimal("200.01"), "more than the 200.00")]
)
def test_the_amount_recovered_is_between_zero_and_the_amount_at_stake(team_a, coder, amount, why):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    with pytest.raises(services.AppealRefused, match=why) as refused:
        services.appeal_update(
            appeal=appeal,
            expected_version=appeal.version,
            actor=coder,
            status="decided",
            outcome="overturned",
            amount_recovered=amount,
        )
    assert refused.value.field == "amount_recovered"
    appeal.refresh_from_db()
    assert appeal.status == v.STATUS_SUBMITTED


def test_the_database_refuses_a_negative_amount_and_an_outcome_before_a_decision(team_a, coder):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.filter(pk=appeal.pk).update(amount_recovered=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.filter(pk=appeal.pk).update(outcome="upheld")


def test_a_stale_version_is_a_conflict_and_saves_nothing(team_a, coder, teammate):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    seen = appeal.version
    services.appeal_update(appeal=appeal, expected_version=seen, actor=teammate, notes="called the payer")
    with pytest.raises(services.AppealConflict) as conflict:
        services.appeal_update(appeal=appeal, expected_version=seen, actor=coder, status="ready")
    assert conflict.value.current.notes == "called the payer"
    appeal.refresh_from_db()
    assert appeal.status == v.STATUS_DRAFT and appeal.version == seen + 1


def test_nothing_changed_writes_nothing(team_a, coder):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    same = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status="draft", notes="")
    assert same.version == appeal.version and len(_audit(appeal)) == 1


def test_a_decided_appeal_keeps_its_facts_but_takes_notes(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    appeal = services.appeal_update(
        appeal=appeal, expected_version=appeal.version, actor=coder, status="decided", outcome="upheld"
    )
    with pytest.raises(services.AppealRefused, match="next level") as refused:
        services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, outcome="overturned")
    assert refused.value.field == "outcome"
    appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, notes="next level")
    assert appeal.notes == "next level"


# --- The decision goes back to the denials -------------------------------------------------------
def test_a_partly_paid_decision_is_recorded_on_each_denial_with_its_share(team_a, coder):
    Denial.objects.filter(pk=team_a[1].pk).update(amount=Decimal("40.00"))
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    before = Denial.objects.get(pk=team_a[0].pk).version  # "Sent to appeal" bumped it once already
    services.appeal_update(
        appeal=appeal,
        expected_version=appeal.version,
        actor=coder,
        status="decided",
        outcome="partially-paid",
        amount_recovered=Decimal("120.00"),
    )
    big, small = (Denial.objects.get(pk=d.pk) for d in team_a)
    assert (big.outcome, big.recovered_amount, big.status) == ("partially-paid", Decimal("100.00"), "resolved")
    assert (small.outcome, small.recovered_amount, small.status) == ("partially-paid", Decimal("20.00"), "resolved")
    assert big.version == before + 1
    event = AuditEvent.objects.filter(action="denial.appeal_outcome", target_id=str(big.pk)).get()
    assert event.actor == coder and event.new["outcome"] == "partially-paid" and event.old["outcome"] == ""


def test_an_upheld_decision_sends_the_denials_back_to_work(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    services.appeal_update(
        appeal=appeal, expected_version=appeal.version, actor=coder, status="decided", outcome="upheld"
    )
    for denial in Denial.objects.filter(pk__in=[d.pk for d in team_a]):
        assert denial.outcome == "upheld" and denial.recovered_amount == Decimal("0.00")
        assert denial.status in denial_words.ACTIVE_STATUSES


def test_an_upheld_decision_recovers_nothing(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    with pytest.raises(services.AppealRefused, match="recovers nothing"):
        services.appeal_update(
            appeal=appeal,
            expected_version=appeal.version,
            actor=coder,
            status="decided",
            outcome="upheld",
            amount_recovered=Decimal("10"),
        )


def test_denials_does_not_import_appeals():
    import ast
    from pathlib import Path

    import denials

    root = Path(denials.__file__).parent
    offenders = []
    for source in root.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{source}: {n}" for n in names if n.split(".")[0] == "appeals"]
    assert offenders == []


# --- API -----------------------------------------------------------------------------------------
def test_post_creates_a_draft_201(team_a, coder):
    response = _api(coder).post("/api/appeals/", {"denials": [d.pk for d in team_a]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["level"] == "first-level"
    assert body["denials"] == [d.pk for d in team_a]
    assert Decimal(body["amount_at_stake"]) == Decimal("200.00")
    assert body["due_date"] == "2027-01-29"  # 120-day default window from 2026-10-01
    assert isinstance(body["days_left"], int)


def test_post_with_an_indicator_0_write_off_is_a_400_naming_denials(team_a, coder):
    Denial.objects.filter(pk=team_a[0].pk).update(category=denial_words.BUNDLING_NOT_APPEALABLE)
    response = _api(coder).post("/api/appeals/", {"denials": [team_a[0].pk]}, format="json")
    assert response.status_code == 400
    assert "modifier indicator is 0" in response.json()["denials"][0]


def test_post_with_another_teams_denial_is_a_404_and_writes_nothing(team_a, outsider):
    response = _api(outsider).post("/api/appeals/", {"denials": [team_a[0].pk]}, format="json")
    assert response.status_code == 404
    assert not Appeal.objects.exists()


def test_post_with_no_denials_is_a_400(coder, team_a):
    response = _api(coder).post("/api/appeals/", {"denials": []}, format="json")
    assert response.status_code == 400 and "denials" in response.json()


def test_another_teams_appeal_is_404_to_read_and_to_change(team_a, coder, outsider):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    client = _api(outsider)
    assert client.get(f"/api/appeals/{appeal.pk}/").status_code == 404
    response = client.patch(f"/api/appeals/{appeal.pk}/", {"status": "ready", "version": 1}, format="json")
    assert response.status_code == 404
    appeal.refresh_from_db()
    assert appeal.status == "draft" and appeal.version == 1
    assert client.get("/api/appeals/").json()["count"] == 0


def test_the_list_is_team_scoped_and_filters(team_a, team_b, coder, outsider, admin_user):
    mine = services.appeal_create(denials=team_a, actor=coder)
    theirs = services.appeal_create(denials=team_b, actor=outsider)
    Appeal.objects.filter(pk=theirs.pk).update(due_date=dt.date(2020, 1, 1))
    assert [a["id"] for a in _api(coder).get("/api/appeals/").json()["results"]] == [mine.pk]
    admin = _api(admin_user)
    assert {a["id"] for a in admin.get("/api/appeals/").json()["results"]} == {mine.pk, theirs.pk}
    assert [a["id"] for a in admin.get("/api/appeals/?overdue=true").json()["results"]] == [theirs.pk]
    assert [a["id"] for a in admin.get("/api/appeals/?overdue=false").json()["results"]] == [mine.pk]
    assert [a["id"] for a in admin.get("/api/appeals/?due_before=2021-01-01").json()["results"]] == [theirs.pk]
    assert admin.get("/api/appeals/?status=submitted").json()["count"] == 0
    assert admin.get("/api/appeals/?level=first-level").json()["count"] == 2
    assert admin.get("/api/appeals/?level=redetermination").json()["count"] == 0
    payer = team_a[0].claim.payer_id
    assert admin.get(f"/api/appeals/?payer={payer}").json()["count"] == 2
    assert admin.get(f"/api/appeals/?payer={payer + 999}").json()["count"] == 0


def test_the_list_reads_in_a_fixed_number_of_queries(team_a, team_b, admin_user, django_assert_max_num_queries):
    services.appeal_create(denials=team_a, actor=admin_user)
    services.appeal_create(denials=team_b, actor=admin_user)
    with django_assert_max_num_queries(8):
        assert _api(admin_user).get("/api/appeals/").json()["count"] == 2


def test_detail_shows_the_appeal_and_records_the_look(team_a, coder):
    from denials.models import AccessEvent

    appeal = services.appeal_create(denials=team_a, actor=coder)
    response = _api(coder).get(f"/api/appeals/{appeal.pk}/")
    assert response.status_code == 200 and response.json()["id"] == appeal.pk
    assert AccessEvent.objects.filter(target_id=str(appeal.pk), actor=coder).count() == 1


def test_patch_moves_the_status_and_answers_the_new_version(team_a, coder):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    client = _api(coder)
    response = client.patch(
        f"/api/appeals/{appeal.pk}/", {"status": "ready", "notes": "letter attached", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready" and response.json()["version"] == 2


def test_patch_with_a_stale_version_is_a_409_with_the_current_state(team_a, coder):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    client = _api(coder)
    assert client.patch(f"/api/appeals/{appeal.pk}/", {"notes": "a", "version": 1}, format="json").status_code == 200
    response = client.patch(f"/api/appeals/{appeal.pk}/", {"status": "ready", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["version"] == 2 and response.json()["current"]["status"] == "draft"


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ({"status": "draft"}, "status", "cannot become draft"),
        ({"outcome": "overturned"}, "outcome", "only when the appeal is decided"),
        ({"status": "decided", "outcome": "overturned", "amount_recovered": "-1.00"}, "amount_recovered", "negative"),
        ({"status": "decided", "outcome": "overturned", "amount_recovered": "200.01"}, "amount_recovered", "200.00"),
        ({"status": "sent"}, "status", ""),
        ({"method": "pigeon"}, "method", ""),
    ],
)
def test_patch_refusals_are_400_naming_the_field_and_why(team_a, coder, body, field, why):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    response = _api(coder).patch(f"/api/appeals/{appeal.pk}/", {**body, "version": appeal.version}, format="json")
    assert response.status_code == 400, response.content
    assert why in response.json()[field][0]
    appeal.refresh_from_db()
    assert appeal.status == "submitted" and appeal.outcome == ""


def test_patch_deciding_hands_the_outcome_to_the_denials(team_a, coder):
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    response = _api(coder).patch(
        f"/api/appeals/{appeal.pk}/",
        {"status": "decided", "outcome": "overturned", "amount_recovered": "200.00", "version": appeal.version},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "overturned"
    assert set(Denial.objects.filter(pk__in=[d.pk for d in team_a]).values_list("outcome", "status")) == {
        ("overturned", "resolved")
    }


def test_anonymous_and_roleless_callers_are_refused(team_a, coder, norole):
    appeal = services.appeal_create(denials=team_a, actor=coder)
    assert APIClient().get("/api/appeals/").status_code == 401
    assert _api(norole).get(f"/api/appeals/{appeal.pk}/").status_code in (403, 404)
    assert _api(norole).post("/api/appeals/", {"denials": [team_a[0].pk]}, format="json").status_code == 403


def test_payer_kinds_are_the_kinds_the_level_table_knows():
    from appeals import levels

    assert dict(Payer.Kind.choices) == v.PAYER_KINDS
    assert set(levels.SHIPPED_TABLE.ladders) == set(Payer.Kind.values)
    assert Payer._meta.get_field("kind").default == v.PAYER_COMMERCIAL


def test_appeal_outcome_slugs_are_the_denial_outcome_slugs():
    """appeals/vocabulary.py is pure, so it repeats the slugs of Denial.Outcome: they must agree."""
    from appeals import vocabulary
    from denials.models import Denial

    assert set(vocabulary.OUTCOMES) <= set(Denial.Outcome.values)
