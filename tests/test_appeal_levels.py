"""Appeal levels and deadlines as rows admins edit (``AppealLevelRule``), seeded once from
``levels.SHIPPED_LEVEL_RULES`` by the shipped defaults, read by ``level_table()``.

Each test starts from a table without the shipped rows (and without their markers), then
seeds it the way an install does, so the seeding itself is under test.
"""

from __future__ import annotations

import datetime as dt
import sys
import types
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from appeals import levels
from appeals import vocabulary as v
from appeals.defaults import (
    LETTERS_SET,
    LEVEL_RULES_SET,
    REFERENCE_LINES_SET,
    appeal_default_sets,
    appeal_defaults_apply,
    appeal_defaults_connect,
)
from appeals.level_table import level_table
from appeals.models import AppealLevelRule, LetterTemplate
from denials.models import ShippedDefaults
from denials.services.defaults import DefaultSet, default_sets_register, registered_default_sets

pytestmark = pytest.mark.django_db

D = dt.date
REMITTANCE = D(2026, 3, 2)


@pytest.fixture(autouse=True)
def _wired():
    """What ``AppealsConfig.ready()`` does (idempotent: the same dispatch uid and app label)."""
    appeal_defaults_connect(apps.get_app_config("appeals"))


def _wipe() -> None:
    AppealLevelRule.objects.all().delete()
    LetterTemplate.objects.all().delete()
    ShippedDefaults.objects.filter(name__in=[LEVEL_RULES_SET, LETTERS_SET]).delete()


@pytest.fixture
def seeded():
    _wipe()
    report = appeal_defaults_apply(actor_label="test")
    assert report[LEVEL_RULES_SET] == len(levels.SHIPPED_LEVEL_RULES)
    return level_table()


def _due(table, kind, level, window=None, decided=REMITTANCE):
    return levels.appeal_due_date(
        payer_kind=kind, level=level, decision_date=decided, payer_window_days=window, table=table
    )


# --- The deadlines the seeded rows give ----------------------------------------------------------
@pytest.mark.parametrize(
    ("level", "days"),
    [
        (v.LEVEL_REDETERMINATION, 5 + 120),  # 42 CFR 405.942: receipt presumed 5 days after the remittance
        (v.LEVEL_RECONSIDERATION, 5 + 180),
        (v.LEVEL_ALJ_HEARING, 5 + 60),
        (v.LEVEL_APPEALS_COUNCIL, 5 + 60),
        (v.LEVEL_FEDERAL_COURT, 5 + 60),
    ],
)
def test_medicare_levels_from_the_seeded_rows(seeded, level, days):
    assert _due(seeded, "medicare", level, window=30) == REMITTANCE + dt.timedelta(days=days)


def test_medicare_redetermination_is_remittance_plus_5_plus_120(seeded):
    assert _due(seeded, "medicare", v.LEVEL_REDETERMINATION) == D(2026, 7, 5)


def test_medicare_reopening_is_one_year_and_a_route_beside_the_ladder(seeded):
    assert _due(seeded, "medicare", v.LEVEL_REOPENING) == D(2027, 3, 2)
    assert levels.starting_levels(payer_kind="medicare", table=seeded) == (
        v.LEVEL_REDETERMINATION,
        v.LEVEL_REOPENING,
    )
    assert levels.next_level(payer_kind="medicare", level=v.LEVEL_REOPENING, table=seeded) is None


def test_medicare_minimum_amounts_come_from_the_rows(seeded):
    refusal = levels.amount_in_controversy_refusal(
        payer_kind="medicare", level=v.LEVEL_ALJ_HEARING, amount=Decimal("189.99"), table=seeded
    )
    assert "at least $190 in controversy (2025)" in refusal
    AppealLevelRule.objects.filter(payer_kind="medicare", level=v.LEVEL_ALJ_HEARING).update(
        minimum_amount=Decimal("200"), minimum_amount_year=2026
    )
    refusal = levels.amount_in_controversy_refusal(
        payer_kind="medicare", level=v.LEVEL_ALJ_HEARING, amount=Decimal("190"), table=level_table()
    )
    assert "$200" in refusal and "2026" in refusal


@pytest.mark.parametrize("kind", ["commercial", "medicare-advantage", "medicaid", "other"])
@pytest.mark.parametrize("level", [v.LEVEL_FIRST, v.LEVEL_SECOND, v.LEVEL_EXTERNAL_REVIEW])
def test_other_payer_kinds_use_the_payers_window_or_180_days(seeded, kind, level):
    assert _due(seeded, kind, level, window=90) == REMITTANCE + dt.timedelta(days=90)
    assert _due(seeded, kind, level, window=None) == REMITTANCE + dt.timedelta(days=180)


def test_the_seeded_ladders_match_the_shipped_table(seeded):
    assert seeded.ladders == levels.SHIPPED_TABLE.ladders
    assert seeded.routes == levels.SHIPPED_TABLE.routes
    assert set(AppealLevelRule.objects.values_list("source", flat=True)) >= {"42 CFR 405.942", "42 CFR 405.980(b)(1)"}


# --- Admins edit the rows ----------------------------------------------------------------------------
def test_an_admin_edit_changes_the_next_due_date(seeded):
    before = _due(seeded, "medicare", v.LEVEL_REDETERMINATION)
    row = AppealLevelRule.objects.get(payer_kind="medicare", level=v.LEVEL_REDETERMINATION)
    row.days = 100
    row.save()
    assert _due(level_table(), "medicare", v.LEVEL_REDETERMINATION) == before - dt.timedelta(days=20)
    assert row.history.count() == 2  # the seed and the edit, both recorded


def test_an_admin_gives_commercial_first_level_its_own_days(seeded):
    AppealLevelRule.objects.filter(payer_kind="commercial", level=v.LEVEL_FIRST).update(days=60)
    table = level_table()
    assert _due(table, "commercial", v.LEVEL_FIRST, window=90) == REMITTANCE + dt.timedelta(days=60)
    assert _due(table, "medicaid", v.LEVEL_FIRST, window=90) == REMITTANCE + dt.timedelta(days=90)


def test_reranking_changes_the_ladder(seeded):
    AppealLevelRule.objects.filter(payer_kind="commercial", level=v.LEVEL_SECOND).update(rank=9)
    table = level_table()
    assert levels.levels_for(payer_kind="commercial", table=table) == (
        v.LEVEL_FIRST,
        v.LEVEL_EXTERNAL_REVIEW,
        v.LEVEL_SECOND,
    )
    assert levels.next_level(payer_kind="commercial", level=v.LEVEL_FIRST, table=table) == v.LEVEL_EXTERNAL_REVIEW


def test_a_deleted_level_is_no_longer_offered(seeded):
    AppealLevelRule.objects.filter(payer_kind="medicare", level=v.LEVEL_REOPENING).delete()
    table = level_table()
    assert levels.starting_levels(payer_kind="medicare", table=table) == (v.LEVEL_REDETERMINATION,)
    with pytest.raises(levels.UnknownLevel, match=r"'reopening' is not a level for a medicare payer"):
        _due(table, "medicare", v.LEVEL_REOPENING)


def test_a_payer_kind_without_rows_says_where_to_add_them(seeded):
    AppealLevelRule.objects.filter(payer_kind="medicare", rank__gt=0).delete()
    with pytest.raises(levels.NoLevelsSetUp) as raised:
        levels.first_level(payer_kind="medicare", table=level_table())
    assert str(raised.value) == (
        "No appeal levels are set up for Medicare (Part A/B) payers; an admin adds them under Appeals \u203a Level rules."
    )
    # The other payer kinds are untouched.
    assert levels.first_level(payer_kind="commercial", table=level_table()) == v.LEVEL_FIRST


def test_an_empty_table_refuses_every_kind_and_an_unknown_kind_is_named():
    _wipe()
    table = level_table()
    for kind in v.PAYER_KINDS:
        with pytest.raises(levels.NoLevelsSetUp, match="an admin adds them"):
            levels.levels_for(payer_kind=kind, table=table)
    with pytest.raises(levels.UnknownLevel, match="Unknown payer kind 'tricare'"):
        levels.first_level(payer_kind="tricare", table=table)


# --- Seeding: once, never overwriting, never restoring -------------------------------------------------
def test_seeds_are_applied_once_and_an_edit_survives_a_rerun(seeded):
    AppealLevelRule.objects.filter(payer_kind="medicare", level=v.LEVEL_RECONSIDERATION).update(days=170)
    AppealLevelRule.objects.filter(payer_kind="commercial", level=v.LEVEL_EXTERNAL_REVIEW).delete()
    count = AppealLevelRule.objects.count()

    assert appeal_defaults_apply(actor_label="test") == {}
    call_command("ensure_defaults", stdout=StringIO())

    assert AppealLevelRule.objects.count() == count
    assert AppealLevelRule.objects.get(payer_kind="medicare", level=v.LEVEL_RECONSIDERATION).days == 170
    assert not AppealLevelRule.objects.filter(payer_kind="commercial", level=v.LEVEL_EXTERNAL_REVIEW).exists()
    assert ShippedDefaults.objects.filter(name=LEVEL_RULES_SET).count() == 1


def test_ensure_defaults_applies_the_registered_appeal_sets():
    _wipe()
    out = StringIO()
    call_command("ensure_defaults", stdout=out)
    assert f"{LEVEL_RULES_SET}: {len(levels.SHIPPED_LEVEL_RULES)} row(s) added" in out.getvalue()
    assert AppealLevelRule.objects.count() == len(levels.SHIPPED_LEVEL_RULES)


def test_plain_migrate_seeds_the_level_rules():
    _wipe()
    out = StringIO()
    call_command("migrate", verbosity=1, interactive=False, stdout=out)
    assert AppealLevelRule.objects.count() == len(levels.SHIPPED_LEVEL_RULES)
    assert f"{LEVEL_RULES_SET} ({len(levels.SHIPPED_LEVEL_RULES)} rows)" in out.getvalue()
    assert level_table().ladders == levels.SHIPPED_TABLE.ladders
    # A second migrate adds nothing.
    call_command("migrate", verbosity=0, interactive=False, stdout=StringIO())
    assert AppealLevelRule.objects.count() == len(levels.SHIPPED_LEVEL_RULES)


# --- Letter templates ----------------------------------------------------------------------------------
FAKE_LETTERS = (
    {"name": "Bundling appeal", "category": "bundling", "subject": "Appeal of {{ claim }}", "body": "Dear payer"},
    {"name": "Any denial", "category": "", "subject": "Appeal", "body": "To whom it may concern"},
)


@pytest.fixture
def fake_letters(monkeypatch):
    """``appeals.letters`` as another module writes it: only ``SHIPPED_LETTERS`` matters here."""
    module = types.ModuleType("appeals.letters")
    module.SHIPPED_LETTERS = FAKE_LETTERS  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "appeals.letters", module)
    import appeals

    monkeypatch.setattr(appeals, "letters", module, raising=False)
    return module


def test_letters_are_seeded_once_and_an_edit_survives(fake_letters):
    _wipe()
    report = appeal_defaults_apply(actor_label="test")
    assert report[LETTERS_SET] == 2
    assert set(LetterTemplate.objects.values_list("category", "name", "payer")) == {
        ("bundling", "Bundling appeal", None),
        ("", "Any denial", None),
    }
    LetterTemplate.objects.filter(name="Bundling appeal").update(body="Our own words")
    LetterTemplate.objects.filter(name="Any denial").delete()
    assert appeal_defaults_apply(actor_label="test") == {}
    assert list(LetterTemplate.objects.values_list("name", "body")) == [("Bundling appeal", "Our own words")]


def test_the_shipped_letters_are_seeded_for_every_payer():
    letters = pytest.importorskip("appeals.letters")
    shipped = letters.SHIPPED_LETTERS
    _wipe()
    assert appeal_defaults_apply(actor_label="test")[LETTERS_SET] == len(shipped)
    assert set(LetterTemplate.objects.values_list("category", "name", "subject", "payer")) == {
        (letter["category"], letter["name"], letter["subject"], None) for letter in shipped
    }


def test_without_shipped_letters_no_letter_set_is_offered(monkeypatch):
    module = types.ModuleType("appeals.letters")  # no SHIPPED_LETTERS yet
    monkeypatch.setitem(sys.modules, "appeals.letters", module)
    import appeals

    monkeypatch.setattr(appeals, "letters", module, raising=False)
    assert [s.name for s in appeal_default_sets()] == [LEVEL_RULES_SET, REFERENCE_LINES_SET]


def test_a_registered_set_may_not_take_a_denials_set_name():
    default_sets_register(app_label="intruder", sets=lambda: [DefaultSet("roles", 1, lambda since: 0)])
    try:
        with pytest.raises(ValueError, match=r"intruder.*'roles'"):
            registered_default_sets()
    finally:
        from denials.services import defaults

        defaults._REGISTERED_SETS.pop("intruder")


# --- Through the services: the rows, not the shipped table, decide -------------------------------------
def test_appeal_create_and_next_level_use_the_edited_rows(seeded, team_files, coder):
    from appeals import services
    from denials.models import Denial, Payer

    denial = Denial.objects.filter(claim__remittance__file=team_files["A"]).order_by("pk").first()
    Payer.objects.filter(pk=denial.claim.payer_id).update(kind="medicare")
    AppealLevelRule.objects.filter(payer_kind="medicare", level=v.LEVEL_REDETERMINATION).update(days=100)
    AppealLevelRule.objects.filter(payer_kind="medicare", level=v.LEVEL_RECONSIDERATION).update(days=150)

    appeal = services.appeal_create(denials=[denial], actor=coder)
    remittance_date = denial.claim.remittance.remittance_date
    assert appeal.level == v.LEVEL_REDETERMINATION
    assert appeal.due_date == remittance_date + dt.timedelta(days=5 + 100)

    for status in ("ready", "submitted"):
        appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=coder, status=status)
    appeal = services.appeal_update(
        appeal=appeal, expected_version=appeal.version, actor=coder, status="decided", outcome="upheld"
    )
    upper = services.appeal_next_level(appeal=appeal, actor=coder)
    assert upper.level == v.LEVEL_RECONSIDERATION
    assert upper.due_date == appeal.decided_on + dt.timedelta(days=5 + 150)


def test_the_admin_lists_the_level_rules_where_the_refusal_says():
    from django.contrib import admin

    from appeals.models import Appeal

    assert AppealLevelRule in admin.site._registry
    place = (
        f"{Appeal._meta.app_config.verbose_name} \u203a {str(AppealLevelRule._meta.verbose_name_plural).capitalize()}"
    )
    assert place == levels.ADMIN_PLACE == "Appeals \u203a Level rules"
