"""python manage.py load_demo: code lists, demo users per role, teams and queues, NCCI rows and 835 files.

The roles, routine-adjustment rules and category rules are not demo data: ``migrate``
applies them (``denials.services.defaults``), so a plain install works the same way.

Idempotent: run it again and it adds only what is missing. The 835 files go through the
real pipeline (receive, then the same ingest service a Celery worker runs).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo_835"

# username, password, role, staff
DEMO_USERS = (
    ("coder", "coder-demo-2026", "coder", False),
    ("manager", "manager-demo-2026", "manager", False),
    ("admin", "admin-demo-2026", "admin", True),
)
DEMO_TEAMS = ("Professional billing", "Hospital outpatient billing")


class Command(BaseCommand):
    help = "Load code lists, demo users (one per role), teams, NCCI demo tables and demo 835 files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--synthetic-files", type=int, default=12, help="Synthetic 835 files to generate")
        parser.add_argument("--claims-per-file", type=int, default=40)

    def handle(self, *args: Any, **options: Any) -> None:
        from denials.services.defaults import defaults_ensure
        from ncci.services import codes_load

        codes = codes_load()
        # The roles and rules are shipped defaults that ``migrate`` applies; this only makes
        # sure (a database migrated before they existed) and fills the new CARCs' categories.
        defaults = defaults_ensure(actor_label="load_demo")
        self.stdout.write(f"Code lists: {codes}; shipped defaults applied now: {defaults or 'none (already there)'}")
        self._users_and_teams()
        self._queues()
        self._ncci()
        self._files(options["synthetic_files"], options["claims_per_file"])
        self._print_logins()

    @transaction.atomic
    def _users_and_teams(self) -> None:
        """One demo user per role. The groups and their permissions are shipped defaults
        (``denials.services.defaults``); a demo database whose group was deleted gets it back."""
        from denials.models import Team
        from denials.roles import ADMIN

        teams = [Team.objects.get_or_create(name=name)[0] for name in DEMO_TEAMS]
        User = get_user_model()
        for username, password, role, staff in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": staff})
            if created:
                user.set_password(password)
                user.email = f"{username}@overturn.invalid"
                user.save()
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            if role != ADMIN:
                teams[0].members.add(user)

    def _queues(self) -> None:
        """Demo work queues: the standard three for the first team (``add_team``'s, without a
        prefix), and one queue with no rule for the second team."""
        from denials.models import Team, WorkQueue
        from denials.services.teams import team_add

        team_add(name=DEMO_TEAMS[0], queue_prefix="")
        hospital = Team.objects.get(name=DEMO_TEAMS[1])
        WorkQueue.objects.get_or_create(
            name="Hospital outpatient", defaults={"team": hospital, "description": "Another team's work"}
        )

    def _ncci(self) -> None:
        try:
            from ncci.services import ncci_demo_load
        except ImportError:
            return
        report = ncci_demo_load()
        self.stdout.write(f"NCCI demo tables: {report}")

    def _files(self, synthetic: int, claims_per_file: int) -> None:
        from denials.models import RemittanceFile
        from denials.services import remittance_file_receive
        from denials.services.receiving import remittance_file_ingest_here

        files: list[tuple[str, bytes]] = [
            (p.name, p.read_bytes()) for p in sorted(DEMO_DIR.glob("*")) if p.is_file() and p.suffix != ".md"
        ]
        try:
            from denials.demo.remittances import generate_demo_files

            files += generate_demo_files(count=synthetic, claims_per_file=claims_per_file)
        except ImportError:
            pass
        import hashlib

        known = set(RemittanceFile.objects.values_list("sha256", flat=True))
        added = 0
        for name, content in files:
            if hashlib.sha256(content).hexdigest() in known:
                continue
            file = remittance_file_receive(
                name=name, content=content, source=RemittanceFile.Source.COMMAND, queue=False
            )
            if file.status == RemittanceFile.Status.RECEIVED:
                file = remittance_file_ingest_here(file_id=file.pk, task_id=f"demo-{uuid.uuid4()}")
            added += 1
            self.stdout.write(f"  {name}: {file.status}, {file.claim_count} claims, {file.denial_count} denials")
        self.stdout.write(f"Demo 835 files ingested: {added} new, {len(files) - added} already there")
        if not added:
            from denials.services import denials_triage

            denials_triage()  # rules or NCCI rows may be newer than the files

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("\nDemo logins (http://127.0.0.1:8000/):"))
        for username, password, role, _ in DEMO_USERS:
            self.stdout.write(f"  {role:<8} username: {username:<8} password: {password}")
        self.stdout.write("")
