"""python manage.py retriage [--all] [--file ID]: re-run triage on denials."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Re-run triage. By default only denials not yet worked (open, unassigned)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Also denials already being worked")
        parser.add_argument("--file", type=int, default=None, help="Only the denials of this remittance file")

    def handle(self, *args: Any, **options: Any) -> None:
        from denials.services import denials_triage

        changed = denials_triage(file_id=options["file"], only_unworked=not options["all"])
        self.stdout.write(self.style.SUCCESS(f"Triage done: {changed} denial(s) changed category, queue or action."))
