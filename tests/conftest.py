from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from tests.factories import TeamFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "835"


@pytest.fixture
def sample_bytes():
    def read(name: str) -> bytes:
        return (SAMPLES / name).read_bytes()

    return read


@pytest.fixture
def adjustment_rules(db):
    from denials.services import adjustment_rules_load_defaults

    adjustment_rules_load_defaults()


@pytest.fixture
def code_lists(db):
    from ncci.services import codes_load

    codes_load()


@pytest.fixture
def team(db):
    return TeamFactory(name="Cardiology billing")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Orthopedics billing")


def _user(role: str, teams=()):
    user = UserFactory(username=f"{role}-{UserFactory._meta.model.objects.count()}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for t in teams:
        t.members.add(user)
    if role == "admin":
        user.is_staff = True
        user.save()
    return user


@pytest.fixture
def coder(team):
    """The owner persona: a coder on the team that owns the work."""
    return _user("coder", [team])


@pytest.fixture
def teammate(team):
    return _user("coder", [team])


@pytest.fixture
def outsider(other_team):
    """A coder on another team: must never see the first team's work."""
    return _user("coder", [other_team])


@pytest.fixture
def manager(team):
    return _user("manager", [team])


@pytest.fixture
def admin_user(db):
    return _user("admin")


@pytest.fixture
def norole(team):
    """Signed in, on a team, but in no role group: sees nothing but their own account."""
    user = UserFactory(username=f"norole-{UserFactory._meta.model.objects.count()}")
    team.members.add(user)
    return user


@pytest.fixture
def other_manager(other_team):
    return _user("manager", [other_team])


@pytest.fixture
def team_queue(db, team):
    """The team's catch-all work queue: every denial triaged from now on lands in it, so the
    team's coders see those denials, their claims and their files."""
    from denials.models import QueueRule, WorkQueue

    queue = WorkQueue.objects.create(name="Everything", team=team)
    QueueRule.objects.create(queue=queue, category="")
    return queue


@pytest.fixture
def admin_client_(client, admin_user):
    """Signed in as an admin: sees every file and claim (content tests that are not about who sees what)."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def coder_client(client, coder):
    client.force_login(coder)
    return client


@pytest.fixture
def ingest(db, adjustment_rules):
    """Receive and ingest bytes through the real services, synchronously, like a worker would."""
    import uuid

    from denials.models import RemittanceFile
    from denials.services import remittance_file_ingest, remittance_file_receive

    def run(content: bytes, name: str = "test.835", source: str = RemittanceFile.Source.COMMAND) -> RemittanceFile:
        file = remittance_file_receive(name=name, content=content, source=source, queue=False)
        if file.status == RemittanceFile.Status.RECEIVED:
            file = remittance_file_ingest(file_id=file.pk, task_id=f"test-{uuid.uuid4()}")
        file.refresh_from_db()
        return file

    return run


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Unit and page tests run tasks in-process even when a broker is configured (the
    PostgreSQL run sets one); only tests marked `integration` talk to a real worker."""
    from config.celery import app

    eager = request.node.get_closest_marker("integration") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def team_files(db, adjustment_rules, team, other_team, ingest):
    """Each team's own remittance file (one claim of two denials, routed to the team's queue),
    one file holding a claim of each team, and a file of paid claims nobody denied.

    Returns {"A": file, "B": file, "mixed": file, "paid": file}. Patient strings:
    ALPHA... for the first team (``team``), BRAVO... for ``other_team``.
    """
    from denials.models import Denial, WorkQueue
    from tests.factories import remittance_835

    queues = {
        "A": WorkQueue.objects.create(name="Queue A", team=team),
        "B": WorkQueue.objects.create(name="Queue B", team=other_team),
    }
    files = {
        "A": ingest(remittance_835(tag="ALPHA", serial=8101), name="alpha-remittance.835"),
        "B": ingest(remittance_835(tag="BRAVO", serial=8102), name="bravo-remittance.835"),
        "mixed": ingest(remittance_835(tag="MIXED", serial=8103, pcns=("A", "B")), name="mixed-remittance.835"),
        "paid": ingest(remittance_835(tag="PAID", serial=8104, lines=1), name="paid-remittance.835"),
    }
    for key in ("A", "B"):
        assert files[key].status == "ingested", files[key].error
        Denial.objects.filter(claim__remittance__file=files[key]).update(queue=queues[key])
    Denial.objects.filter(claim__patient_control_number="MIXEDPCN8103A").update(queue=queues["A"])
    Denial.objects.filter(claim__patient_control_number="MIXEDPCN8103B").update(queue=queues["B"])
    assert Denial.objects.filter(queue__isnull=True).count() == 0
    return files
