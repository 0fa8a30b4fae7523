"""A plain install (migrate, load_codes, import_ncci; no load_demo) finds and triages denials
exactly as the demo install does, and the shipped defaults never overwrite an admin's rows.

Each test starts from the state ``migrate`` leaves, on purpose rebuilt inside the test: the
shipped rows are wiped, then ``migrate`` runs again (it emits post_migrate, as on a new
database), so the test proves that ``migrate`` itself seeds them.
"""

from __future__ import annotations

import re
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from denials.demo.remittances import generate_835
from denials.detection import DEFAULT_ADJUSTMENT_RULES, AdjustmentClassifier, find_denials
from denials.models import (
    Adjustment,
    AdjustmentRule,
    CategoryRule,
    Denial,
    QueueRule,
    RemittanceFile,
    ShippedDefaults,
    Team,
    WorkQueue,
)
from denials.services import remittance_file_ingest, remittance_file_receive
from denials.services.defaults import defaults_ensure, role_permissions
from denials.triage import DEFAULT_CATEGORY_RULES
from denials.x12.reader import read_835
from ncci.models import Carc
from ncci.services import DEMO_NCCI_DIR

pytestmark = pytest.mark.django_db

ROUTINE = {("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3")}


def _wipe_shipped_defaults() -> None:
    """What a brand-new database holds before post_migrate: no roles, no rules."""
    CategoryRule.objects.all().delete()
    AdjustmentRule.objects.all().delete()
    ShippedDefaults.objects.all().delete()
    Group.objects.all().delete()
    Carc.objects.update(default_category="")


def _migrate(verbosity: int = 0) -> str:
    out = StringIO()
    call_command("migrate", verbosity=verbosity, interactive=False, stdout=out)
    return out.getvalue()


def _demo_ncci_files() -> list[Path]:
    files = sorted(
        str(p)
        for p in DEMO_NCCI_DIR.iterdir()
        if p.suffix.lower() in {".txt", ".csv"} and "procedure_codes" not in p.name
    )
    assert files, DEMO_NCCI_DIR
    return files


def _plain_install() -> None:
    """The README's production install, minus the web server: migrate, load_codes, import_ncci."""
    _wipe_shipped_defaults()
    _migrate()
    call_command("load_codes", stdout=StringIO())
    call_command("import_ncci", *_demo_ncci_files(), stdout=StringIO())


def _ingest(content: bytes) -> RemittanceFile:
    file = remittance_file_receive(name=f"{uuid.uuid4()}.835", content=content, source="command", queue=False)
    file = remittance_file_ingest(file_id=file.pk, task_id=f"test-{uuid.uuid4()}")
    assert file.status == "ingested", file.error
    return file


def _snapshot(file: RemittanceFile) -> list[tuple[object, ...]]:
    """Each denial of the file by what identifies it, with its triage."""
    return sorted(
        Denial.objects.filter(claim__remittance__file=file).values_list(
            "claim__patient_control_number",
            "line__sequence",
            "kind",
            "group_code",
            "carc",
            "amount",
            "category",
            "action",
        ),
        key=repr,
    )


SYNTHETIC = generate_835(claims=300, seed=8)


def test_migrate_alone_seeds_the_roles_the_routine_rules_and_the_category_rules():
    _wipe_shipped_defaults()
    said = _migrate(verbosity=1)

    assert re.search(
        r"Shipped defaults applied: roles \(\d+ rows\), adjustment-rules \(12 rows\), category-rules", said
    )

    assert set(AdjustmentRule.objects.values_list("group_code", "carc", "kind")) == {
        (g, c, k) for g, c, k, _ in DEFAULT_ADJUSTMENT_RULES
    }
    assert CategoryRule.objects.count() == len(DEFAULT_CATEGORY_RULES)
    assert set(CategoryRule.objects.values_list("carc", "category")) >= {("45", "contractual"), ("97", "bundling")}
    assert set(Group.objects.values_list("name", flat=True)) == {"coder", "manager", "admin"}
    coder = Group.objects.get(name="coder")
    assert coder.permissions.filter(codename="view_denial").exists()
    assert not coder.permissions.filter(codename__startswith="change_").exists()
    admin_perms = set(Group.objects.get(name="admin").permissions.values_list("pk", flat=True))
    every = set(
        Permission.objects.filter(content_type__app_label__in=["ncci", "denials", "appeals", "auth"]).values_list(
            "pk", flat=True
        )
    )
    assert every and admin_perms == every
    assert set(ShippedDefaults.objects.filter(version=1).values_list("name", flat=True)) >= {
        "roles",
        "adjustment-rules",
        "category-rules",
    }


def test_every_shipped_role_permission_exists():
    names = {name for names in role_permissions().values() for name in names}
    assert len(names) > 10
    found = {
        f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    assert names - found == set()


def test_plain_install_finds_the_denials_and_categories_the_demo_install_finds(django_capture_on_commit_callbacks):
    _plain_install()
    assert not WorkQueue.objects.exists() and not Team.objects.exists()
    plain_file = _ingest(SYNTHETIC)
    plain = _snapshot(plain_file)

    # Routine adjustments are in the file and are not denials.
    assert Adjustment.objects.filter(claim__remittance__file=plain_file, group_code="CO", reason_code="45").count() > 50
    assert Adjustment.objects.filter(claim__remittance__file=plain_file, group_code="PR").count() > 20
    assert not Denial.objects.filter(
        claim__remittance__file=plain_file, kind__in=["line-denied", "partial"], group_code="CO", carc="45"
    ).exists()
    for group, carc in ROUTINE:
        assert not Denial.objects.filter(
            claim__remittance__file=plain_file, kind__in=["line-denied", "partial"], group_code=group, carc=carc
        ).exists(), (group, carc)

    # The count is what the pure detection gives with the shipped rules, and far below what an
    # install without them gave (every adjustment a denial): the file does exercise the rules.
    claims = [c for t in read_835(SYNTHETIC).transactions for c in t.claims]
    shipped = AdjustmentClassifier.from_rows((g, c, k) for g, c, k, _ in DEFAULT_ADJUSTMENT_RULES)
    without_rules = AdjustmentClassifier.from_rows([])
    expected = sum(len(find_denials(c, shipped)) for c in claims)
    assert len(plain) == expected
    assert sum(len(find_denials(c, without_rules)) for c in claims) > 2 * expected

    categories = {row[6] for row in plain}
    assert len(categories) >= 4 and "" not in categories
    assert sum(row[6] == "other" for row in plain) < len(plain) / 4
    assert Denial.objects.filter(claim__remittance__file=plain_file, queue__isnull=True).count() == len(plain)

    # The same file on a demo install (load_demo's teams, queues, users and NCCI tables).
    RemittanceFile.objects.filter(pk=plain_file.pk).delete()
    _wipe_shipped_defaults()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", "--synthetic-files", "0", stdout=StringIO())
    demo_file = _ingest(SYNTHETIC)
    demo = _snapshot(demo_file)
    assert Denial.objects.filter(claim__remittance__file=demo_file, queue__isnull=False).count() == len(demo)
    assert plain == demo


def test_a_plain_install_gets_queues_when_a_team_is_added(django_capture_on_commit_callbacks, admin_user, client):
    from tests.conftest import _user

    _plain_install()
    file = _ingest(generate_835(claims=40, seed=3))
    denials = Denial.objects.filter(claim__remittance__file=file)
    assert denials.count() > 3 and not denials.filter(queue__isnull=False).exists()
    assert not denials.filter(category="").exists() and not denials.filter(action="").exists()

    # An admin sees unqueued denials; nothing breaks on a denial without a queue.
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get(f"/denials/{denials.first().pk}/").status_code == 200

    coder = _user("coder")
    out = StringIO()
    call_command("add_team", "Professional billing", "--member", coder.username, stdout=out)
    assert f"{denials.count()} open denial(s) re-triaged" in out.getvalue()
    team = Team.objects.get(name="Professional billing")
    assert set(team.members.all()) == {coder}
    assert set(WorkQueue.objects.filter(team=team).values_list("name", flat=True)) == {
        "Professional billing: Bundling and NCCI",
        "Professional billing: Coding corrections",
        "Professional billing: General denials",
    }
    assert not denials.filter(queue__isnull=True).exists()
    assert denials.filter(queue__name="Professional billing: General denials").exists()
    if denials.filter(category__startswith="bundling").exists():
        assert (
            not denials.filter(category__startswith="bundling")
            .exclude(queue__name="Professional billing: Bundling and NCCI")
            .exists()
        )

    # Running it again adds nothing.
    out = StringIO()
    call_command("add_team", "Professional billing", stdout=out)
    assert "already set up" in out.getvalue()
    assert QueueRule.objects.count() == 3


def test_admin_creating_a_queue_rule_puts_open_denials_in_the_queue(
    django_capture_on_commit_callbacks, admin_user, client
):
    _plain_install()
    file = _ingest(generate_835(claims=30, seed=5))
    denials = Denial.objects.filter(claim__remittance__file=file)
    assert denials.exists() and not denials.filter(queue__isnull=False).exists()
    queue = WorkQueue.objects.create(name="Everything", team=Team.objects.create(name="Billing"))
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/denials/queuerule/add/", {"queue": queue.pk, "category": "", "priority": "100"})
    assert response.status_code == 302, response.content[:500]
    assert denials.count() == denials.filter(queue=queue).count()


def test_add_team_refuses_a_second_catch_all_team_and_changes_nothing():
    call_command("add_team", "First", stdout=StringIO())
    before = (Team.objects.count(), WorkQueue.objects.count(), QueueRule.objects.count())
    with pytest.raises(CommandError, match="already go to the queue 'First: Bundling and NCCI'"):
        call_command("add_team", "Second", stdout=StringIO())
    assert (Team.objects.count(), WorkQueue.objects.count(), QueueRule.objects.count()) == before
    with pytest.raises(CommandError, match="--member nobody: no such user"):
        call_command("add_team", "Third", "--member", "nobody", stdout=StringIO())
    with pytest.raises(CommandError, match="--payer 999999: no payer"):
        call_command("add_team", "Third", "--payer", "999999", stdout=StringIO())
    assert not Team.objects.filter(name__in=["Second", "Third"]).exists()


def _rows() -> tuple[object, ...]:
    return (
        sorted(AdjustmentRule.objects.values_list("group_code", "carc", "kind", "note")),
        sorted(CategoryRule.objects.values_list("category", "group_code", "carc", "rarc", "priority"), key=repr),
        sorted((g.name, sorted(g.permissions.values_list("pk", flat=True))) for g in Group.objects.all()),
        sorted(ShippedDefaults.objects.values_list("name", "version", "rows_added")),
    )


def test_ensure_defaults_twice_changes_nothing():
    _wipe_shipped_defaults()
    first = StringIO()
    call_command("ensure_defaults", stdout=first)
    assert "category-rules: " in first.getvalue()
    rows = _rows()
    out = StringIO()
    call_command("ensure_defaults", stdout=out)
    _migrate()
    assert "already applied" in out.getvalue()
    assert _rows() == rows


def test_an_admins_edits_survive_ensure_defaults_and_migrate():
    _wipe_shipped_defaults()
    _migrate()
    AdjustmentRule.objects.filter(group_code="PR", carc="3").update(kind="denial", note="we work copays")
    rule = CategoryRule.objects.get(carc="97", rarc="", group_code="")
    rule.category, rule.priority = "coding", 7
    rule.save()
    Group.objects.get(name="coder").permissions.clear()

    call_command("ensure_defaults", stdout=StringIO())
    _migrate()

    assert AdjustmentRule.objects.get(group_code="PR", carc="3").kind == "denial"
    assert AdjustmentRule.objects.get(group_code="PR", carc="3").note == "we work copays"
    rule.refresh_from_db()
    assert (rule.category, rule.priority) == ("coding", 7)
    assert CategoryRule.objects.filter(carc="97", rarc="", group_code="").count() == 1
    assert not Group.objects.get(name="coder").permissions.exists()


def test_a_deleted_default_rule_is_not_brought_back():
    _wipe_shipped_defaults()
    _migrate()
    AdjustmentRule.objects.filter(group_code="CO", carc="253").delete()
    CategoryRule.objects.filter(carc="97", rarc="", group_code="").delete()
    Group.objects.filter(name="manager").delete()

    assert defaults_ensure() == {}
    _migrate()

    assert not AdjustmentRule.objects.filter(group_code="CO", carc="253").exists()
    assert not CategoryRule.objects.filter(carc="97", rarc="", group_code="").exists()
    assert not Group.objects.filter(name="manager").exists()


def test_a_later_version_adds_only_its_new_rows(monkeypatch):
    from denials import detection
    from denials.services import defaults

    _wipe_shipped_defaults()
    _migrate()
    AdjustmentRule.objects.filter(group_code="PR", carc="3").delete()  # an admin's choice
    monkeypatch.setattr(
        detection,
        "DEFAULT_ADJUSTMENT_RULES",
        (*DEFAULT_ADJUSTMENT_RULES, ("CO", "B99", "routine", "shipped in version 2")),
    )
    monkeypatch.setattr(defaults, "ADJUSTMENT_RULES_VERSION", 2)
    monkeypatch.setattr(defaults, "ADJUSTMENT_RULES_ADDED_IN", {("CO", "B99"): 2})

    assert defaults_ensure() == {"adjustment-rules": 1}

    assert AdjustmentRule.objects.filter(group_code="CO", carc="B99", kind="routine").exists()
    assert not AdjustmentRule.objects.filter(group_code="PR", carc="3").exists()
    assert ShippedDefaults.objects.get(name="adjustment-rules", version=2).rows_added == 1
    assert defaults_ensure() == {}


def test_the_test_fixtures_loaders_still_fill_a_bare_table():
    from denials.services import adjustment_rules_load_defaults, category_rules_load_defaults

    _wipe_shipped_defaults()
    assert adjustment_rules_load_defaults() == len(DEFAULT_ADJUSTMENT_RULES)
    assert category_rules_load_defaults() == len(DEFAULT_CATEGORY_RULES)
    assert adjustment_rules_load_defaults() == 0 and category_rules_load_defaults() == 0


def test_a_new_code_list_gets_its_suggested_categories_when_ncci_signals_it():
    from ncci.services import codes_load
    from ncci.signals import reference_data_changed

    Carc.objects.all().delete()
    codes_load()
    Carc.objects.update(default_category="")
    reference_data_changed.send(sender=Carc, table="codes")
    assert Carc.objects.get(code="97").default_category == "bundling"
    assert Carc.objects.get(code="45").default_category == "contractual"


def test_load_codes_after_migrate_fills_the_carcs_suggested_categories(django_capture_on_commit_callbacks):
    Carc.objects.all().delete()
    _wipe_shipped_defaults()
    _migrate()
    with django_capture_on_commit_callbacks(execute=True):  # ncci signals on commit
        call_command("load_codes", stdout=StringIO())
    assert Carc.objects.get(code="97").default_category == "bundling"


def test_a_later_roles_version_adds_only_its_permissions_and_no_deleted_role(monkeypatch):
    from denials.services import defaults

    _wipe_shipped_defaults()
    _migrate()
    Group.objects.filter(name="manager").delete()
    coder = Group.objects.get(name="coder")
    coder.permissions.remove(Permission.objects.get(codename="view_denial"))
    monkeypatch.setattr(defaults, "_CODER_VIEWS", (*defaults._CODER_VIEWS, "denials.view_queuerule"))
    monkeypatch.setattr(defaults, "_MANAGER_VIEWS", (*defaults._MANAGER_VIEWS, "denials.view_shippeddefaults"))
    monkeypatch.setattr(defaults, "ROLES_VERSION", 2)
    monkeypatch.setattr(
        defaults,
        "ROLE_PERMISSIONS_ADDED_IN",
        {("coder", "denials.view_queuerule"): 2, ("manager", "denials.view_shippeddefaults"): 2},
    )

    assert defaults_ensure() == {"roles": 1}

    assert coder.permissions.filter(codename="view_queuerule").exists()
    assert not coder.permissions.filter(codename="view_denial").exists()
    assert not Group.objects.filter(name="manager").exists()
