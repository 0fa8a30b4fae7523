"""python manage.py import_codes --list carc|rarc|procedure FILE...

Imports the current official CARC or RARC list, or a procedure-code file (a practice's
licensed CPT file, CMS's HCPCS Level II file saved as a spreadsheet), from CSV, TSV or XLSX,
and prints each file's report. The same file twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ncci.management.file_imports import files_import


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

        files_import(
            self,
            options["paths"],
            create=lambda path: code_list_import_create(
                code_list=options["code_list"],
                filename=path.name,
                path=path.resolve(),
                skip_refused=options["skip_refused"],
            ),
            task=import_code_list_file,
            report_lines=code_list_import_report_lines,
            done=CodeListImport.Status.DONE,
            queue=options["queue"],
            noun="code list import",
        )
