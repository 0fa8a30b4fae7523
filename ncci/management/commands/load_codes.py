"""python manage.py load_codes: CARC, RARC, group codes and NCCI modifiers, from ncci/data.

The CARC and RARC lists ship as codes only, with Overturn's own plain-words summaries; the
official descriptions come from the current lists an admin imports (``import_codes``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Load the code lists and plain-words summaries shipped in ncci/data. Never overwrites admin edits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-dir", default="", help="Folder with carc_*.csv, rarc_*.csv and code_summaries.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        from ncci.services import DATA_DIR, codes_load

        counts = codes_load(data_dir=Path(options["data_dir"]) if options["data_dir"] else DATA_DIR)
        summaries = counts.pop("summary", 0)
        added = ", ".join(f"{n} {kind} code{'s' if n != 1 else ''}" for kind, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Added {added}; set {summaries} plain-words summar{'ies' if summaries != 1 else 'y'}")
        )
