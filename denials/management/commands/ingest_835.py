"""python manage.py ingest_835 PATH... [--sync] [--json]"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from denials.models import RemittanceFile


class Command(BaseCommand):
    help = "Receive 835 remittance files (or folders of them) and ingest them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="835 files, or folders holding them")
        parser.add_argument("--sync", action="store_true", help="Ingest here and now instead of queueing")
        parser.add_argument("--json", action="store_true", help="Print one line of JSON per file")

    def handle(self, *args: Any, **options: Any) -> None:
        from denials.services import remittance_file_receive
        from denials.services.receiving import remittance_file_ingest_here

        paths: list[Path] = []
        for raw in options["paths"]:
            path = Path(raw)
            if path.is_dir():
                paths.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
            elif path.is_file():
                paths.append(path)
            else:
                raise CommandError(f"{raw}: no such file or folder")
        failed = 0
        for path in paths:
            file = remittance_file_receive(
                name=path.name,
                content=path.read_bytes(),
                source=RemittanceFile.Source.COMMAND,
                queue=not options["sync"],
            )
            if options["sync"] and file.status == RemittanceFile.Status.RECEIVED:
                file = remittance_file_ingest_here(file_id=file.pk, task_id=f"command-{uuid.uuid4()}")
            file.refresh_from_db()
            failed += file.status == RemittanceFile.Status.FAILED
            self._report(path, file, as_json=options["json"])
        if failed:
            raise CommandError(f"{failed} of {len(paths)} file(s) failed")

    def _report(self, path: Path, file: RemittanceFile, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "file": str(path),
                        "id": file.pk,
                        "status": file.status,
                        "claims": file.claim_count,
                        "service_lines": file.service_line_count,
                        "adjustments": file.adjustment_count,
                        "denials": file.denial_count,
                        "error": file.error,
                        "warnings": len(file.warnings),
                    }
                )
            )
            return
        line = (
            f"{path}: {file.status} (#{file.pk}) — {file.claim_count} claims, {file.service_line_count} "
            f"service lines, {file.adjustment_count} adjustments, {file.denial_count} denials"
        )
        style = self.style.ERROR if file.status == RemittanceFile.Status.FAILED else self.style.SUCCESS
        self.stdout.write(style(line))
        if file.error:
            self.stdout.write(f"  {file.error}")
        for warning in file.warnings[:5]:
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
