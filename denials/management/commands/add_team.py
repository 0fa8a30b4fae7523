"""python manage.py add_team NAME [--member USERNAME]... [--payer PAYER]... [--queue-prefix TEXT]

Creates a billing team with the three standard work queues (Bundling and NCCI, Coding
corrections, General denials) and the queue rules that route triaged denials to them,
adds the members, then re-triages the open denials so they land in the new queues.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q


class Command(BaseCommand):
    help = "Create a team with the standard work queues and routing rules, then re-triage open denials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The team's name, e.g. 'Professional billing'")
        parser.add_argument(
            "--member",
            action="append",
            default=[],
            metavar="USERNAME",
            help="A user to add to the team (repeat for several)",
        )
        parser.add_argument(
            "--payer",
            action="append",
            default=[],
            metavar="PAYER",
            help="Route only this payer's denials to the team (payer key, identifier or id; "
            "repeat for several). Without it the team takes every payer's denials.",
        )
        parser.add_argument(
            "--queue-prefix",
            default=None,
            help="Prefix of the queue names (default: the team name and a colon; '' for none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from denials.models import Payer
        from denials.services import denials_triage
        from denials.services.teams import TeamSetupRefused, team_add

        User = get_user_model()
        members = []
        for username in options["member"]:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"--member {username}: no such user (create it first: createsuperuser or the admin)")
            members.append(user)
        payers = []
        for text in options["payer"]:
            match = Q(payer_key=text) | Q(identifier=text)
            if text.isdigit():
                match |= Q(pk=int(text))
            found = list(Payer.objects.filter(match)[:2])
            if len(found) != 1:
                raise CommandError(
                    f"--payer {text}: {'no payer' if not found else 'more than one payer'} matches "
                    "(use the payer's id from the admin)"
                )
            payers.append(found[0])
        try:
            setup = team_add(name=options["name"], members=members, payers=payers, queue_prefix=options["queue_prefix"])
        except TeamSetupRefused as exc:
            raise CommandError(str(exc)) from exc
        for line in setup.created:
            self.stdout.write(f"  added {line}")
        if not setup.created:
            self.stdout.write(f"Team {setup.team.name}: already set up, nothing added.")
        changed = denials_triage(only_unworked=True)
        self.stdout.write(
            self.style.SUCCESS(
                f"Team {setup.team.name}: queues {', '.join(q.name for q in setup.queues)}; "
                f"{changed} open denial(s) re-triaged."
            )
        )
