"""python manage.py watch_inbox [--once]: ingest files dropped in INBOX_DIR."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Watch INBOX_DIR and ingest each complete file dropped there."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Scan once and exit")
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--dir", default="", help="Folder to watch (default: INBOX_DIR)")

    def handle(self, *args: Any, **options: Any) -> None:
        from denials.inbox import inbox_scan

        directory = options["dir"] or settings.INBOX_DIR
        if not directory:
            raise CommandError("Set INBOX_DIR (or pass --dir) to the folder to watch.")
        self.stdout.write(f"Watching {directory} (complete files are ingested; see processed/ and failed/)")
        while True:
            for file in inbox_scan(directory):
                self.stdout.write(f"received {file.original_name}: {file.status} (#{file.pk})")
            if options["once"]:
                return
            time.sleep(options["interval"])
