"""python manage.py import_ncci PATH... [--table ptp|mue] [--setting ...] [--quarter 2026Q1]

Imports CMS NCCI quarterly files as CMS publishes them (zip, TXT, CSV or XLSX) and prints
each file's report. Table, setting and quarter are detected from the names and headers
when not given; when given, a file that says otherwise is refused and nothing changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


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

        failed = 0
        for path in options["paths"]:
            if not path.is_file():
                self.stderr.write(self.style.ERROR(f"{path}: no such file"))
                failed += 1
                continue
            try:
                record = ncci_import_create(
                    filename=path.name,
                    path=path.resolve(),
                    table=options["table"],
                    setting=options["setting"],
                    quarter=options["quarter"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            if options["queue"]:
                import_ncci_file.delay(record.pk)
                self.stdout.write(f"{path.name}: queued as import #{record.pk}")
                continue
            # The same task a worker runs, in this process, so the report can be printed.
            import_ncci_file(record.pk)
            record.refresh_from_db()
            lines = ncci_import_report_lines(record)
            style = self.style.SUCCESS if record.status == NcciImport.Status.DONE else self.style.ERROR
            self.stdout.write(style(lines[0]))
            for line in lines[1:]:
                self.stdout.write(line)
            failed += record.status != NcciImport.Status.DONE
        if failed:
            raise CommandError(f"{failed} of {len(options['paths'])} file(s) were not imported")
