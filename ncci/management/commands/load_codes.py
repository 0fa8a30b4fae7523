"""python manage.py load_codes: CARC, RARC, group codes and NCCI modifiers, from ncci/data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Load the code lists shipped in ncci/data (or another folder). Never overwrites admin edits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-dir", default="", help="Folder with carc_*.csv and rarc_*.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        from ncci.services import DATA_DIR, codes_load

        counts = codes_load(data_dir=Path(options["data_dir"]) if options["data_dir"] else DATA_DIR)
        self.stdout.write(
            self.style.SUCCESS(
                "Added " + ", ".join(f"{n} {kind} code{'s' if n != 1 else ''}" for kind, n in counts.items())
            )
        )
