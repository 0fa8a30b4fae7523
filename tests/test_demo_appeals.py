"""The demo's appeals (``manage.py load_demo_appeals`` after ``load_demo``): every state is
there, the demo follow-up 835 decided one appeal by itself, and a second run adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from appeals import vocabulary as v
from appeals.demo import TAG
from appeals.models import Appeal, AppealFollowUp
from denials.models import Payer, RemittanceFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", "--synthetic-files", "6", "--claims-per-file", "30", stdout=StringIO())
        out = StringIO()
        call_command("load_demo_appeals", stdout=out)
    return out.getvalue()


def test_the_demo_has_appeals_in_every_state_and_one_decided_by_a_follow_up(demo):
    statuses = set(Appeal.objects.values_list("status", flat=True))
    assert statuses == set(v.STATUSES), demo
    outcomes = set(Appeal.objects.filter(status=v.STATUS_DECIDED).values_list("outcome", flat=True))
    assert outcomes >= {v.OUTCOME_OVERTURNED, v.OUTCOME_PARTIALLY_PAID, v.OUTCOME_UPHELD}
    assert any(a.is_overdue for a in Appeal.objects.filter(status__in=v.UNSENT_STATUSES))
    upper = Appeal.objects.filter(previous__isnull=False).get()
    assert upper.previous is not None and upper.previous.outcome == v.OUTCOME_UPHELD
    assert upper.status == v.STATUS_DRAFT

    answered = Appeal.objects.get(notes__startswith=TAG.format(role="answered"))
    assert answered.status == v.STATUS_DECIDED
    assert answered.outcome == v.OUTCOME_OVERTURNED
    follow_up = AppealFollowUp.objects.get(appeal=answered)
    assert follow_up.kind == AppealFollowUp.Kind.PAID
    assert answered.amount_recovered == follow_up.amount > 0
    assert follow_up.claim.remittance.file.original_name == f"demo-follow-up-appeal-{answered.pk}.835"
    assert "decided the appeal" in demo


def test_demo_payers_get_their_kind_and_appeals_address(demo):
    medicare = Payer.objects.get(payer_key="2U:GPMAC")
    assert medicare.kind == v.PAYER_MEDICARE
    assert "Attn: Appeals" in medicare.appeal_address and "Omaha" in medicare.appeal_address


def test_loading_the_demo_appeals_again_adds_nothing(demo):
    before = (Appeal.objects.count(), AppealFollowUp.objects.count(), RemittanceFile.objects.count())
    out = StringIO()
    call_command("load_demo_appeals", stdout=out)
    assert (Appeal.objects.count(), AppealFollowUp.objects.count(), RemittanceFile.objects.count()) == before
    assert "none (already there)" in out.getvalue()


def test_without_the_demo_the_command_says_to_load_it_first():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_demo_appeals", stdout=StringIO())


def test_the_demo_history_spans_its_months_with_outcomes_and_consistent_dates(demo):
    from appeals.demo import HISTORY_TAG
    from appeals.models import SentModifier
    from denials.models import Denial

    history = list(Appeal.objects.filter(notes__startswith=TAG.format(role=HISTORY_TAG)).prefetch_related("denials"))
    assert len(history) >= 10, demo
    assert "Demo appeal history:" in demo
    months = {a.created_at.date().strftime("%Y-%m") for a in history}
    assert len(months) >= 2  # the demo's remittances span Sep-Nov 2026: see /tmp/merge note for 12 months
    outcomes = {a.outcome for a in history if a.status == v.STATUS_DECIDED}
    assert outcomes, demo  # some decided already (the newest stay pending)
    for appeal in history:
        remitted = min(d.claim.remittance.remittance_date for d in appeal.denials.all())
        started = appeal.created_at.date()
        assert remitted < started, appeal.pk
        if appeal.submitted_on:
            assert started <= appeal.submitted_on, appeal.pk
            assert SentModifier.objects.filter(appeal=appeal).count() == appeal.denials.count()
        if appeal.decided_on:
            assert appeal.submitted_on is not None and appeal.submitted_on <= appeal.decided_on, appeal.pk
            if appeal.outcome in (v.OUTCOME_OVERTURNED, v.OUTCOME_PARTIALLY_PAID):
                worked = {d.worked_at.date() if d.worked_at else None for d in Denial.objects.filter(appeals=appeal)}
                assert worked == {appeal.decided_on}


def test_the_demo_history_is_made_once(demo):
    from appeals.demo import HISTORY_TAG

    count = Appeal.objects.filter(notes__startswith=TAG.format(role=HISTORY_TAG)).count()
    out = StringIO()
    call_command("load_demo_appeals", stdout=out)
    assert Appeal.objects.filter(notes__startswith=TAG.format(role=HISTORY_TAG)).count() == count
    assert "history: already there" in out.getvalue()
