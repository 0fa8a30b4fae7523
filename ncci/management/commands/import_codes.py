"""python manage.py import_codes --list carc|rarc|procedure FILE...

Imports the current official CARC or RARC list, or a procedure-code file (a practice's
licensed CPT file, CMS's HCPCS Level II file saved as a spreadsheet), from CSV, TSV or XLSX,
and prints each file's report. The same file twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Import the current CARC, RARC or procedure-code list (CSV, TSV or XLSX with a header row) "
        "and print what changed. Refuses the whole file when a row cannot be read, unless --skip-refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--list", dest="code_list", required=True, choices=["carc", "rarc", "procedure"])
        parser.add_argument(
            "--skip-refused", action="store_true", help="import the good rows even when some rows are refused"
        )
        parser.add_argument("--queue", action="store_true", help="queue the imports on the Celery worker instead")

    def handle(self, *args: Any, **options: Any) -> None:
        from ncci.models import CodeListImport
        from ncci.services import code_list_import_create, code_list_import_report_lines
        from ncci.tasks import import_code_list_file

        failed = 0
        for path in options["paths"]:
            if not path.is_file():
                self.stderr.write(self.style.ERROR(f"{path}: no such file"))
                failed += 1
                continue
            record = code_list_import_create(
                code_list=options["code_list"],
                filename=path.name,
                path=path.resolve(),
                skip_refused=options["skip_refused"],
            )
            if options["queue"]:
                import_code_list_file.delay(record.pk)
                self.stdout.write(f"{path.name}: queued as code list import #{record.pk}")
                continue
            import_code_list_file(record.pk)
            record.refresh_from_db()
            lines = code_list_import_report_lines(record)
            style = self.style.SUCCESS if record.status == CodeListImport.Status.DONE else self.style.ERROR
            self.stdout.write(style(lines[0]))
            for line in lines[1:]:
                self.stdout.write(line)
            failed += record.status != CodeListImport.Status.DONE
        if failed:
            raise CommandError(f"{failed} of {len(options['paths'])} file(s) were not imported")
