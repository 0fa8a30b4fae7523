"""python manage.py import_ncci PATH... [--table ptp|mue] [--setting ...] [--quarter 2026Q1]

Imports CMS NCCI quarterly files as CMS publishes them (zip, TXT, CSV or XLSX) and prints
each file's report. Table, setting and quarter are detected from the names and headers
when not given; when given, a file that says otherwise is refused and nothing changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ncci.management.file_imports import files_import


class Command(BaseCommand):
    help = "Import CMS NCCI PTP/MUE files (zip, txt, csv or xlsx) and print what changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--table", choices=["ptp", "mue"], default="", help="default: detect")
        parser.add_argument(
            "--setting", choices=["practitioner", "hospital", "dme"], default="", help="default: detect"
        )
        parser.add_argument("--quarter", default="", help="e.g. 2026Q1; default: from the file name")
        parser.add_argument(
            "--queue", action="store_true", help="queue the imports on the Celery worker instead of running them here"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from ncci.models import NcciImport
        from ncci.services import ncci_import_create, ncci_import_report_lines
        from ncci.tasks import import_ncci_file

        files_import(
            self,
            options["paths"],
            create=lambda path: ncci_import_create(
                filename=path.name,
                path=path.resolve(),
                table=options["table"],
                setting=options["setting"],
                quarter=options["quarter"],
            ),
            task=import_ncci_file,
            report_lines=ncci_import_report_lines,
            done=NcciImport.Status.DONE,
            queue=options["queue"],
        )
