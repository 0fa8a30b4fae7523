"""What ``import_ncci`` and ``import_codes`` share: for each file named on the command line,
create its import record, then either queue it for a worker or run the worker's own task
here and print the import's report; fail the command when any file was not imported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


def files_import(
    command: BaseCommand,
    paths: Sequence[Path],
    *,
    create: Callable[[Path], Any],
    task: Any,
    report_lines: Callable[[Any], list[str]],
    done: str,
    queue: bool,
    noun: str = "import",
) -> None:
    """``create(path)`` makes the import record (a ``ValueError`` from it stops the command
    with its message); ``task`` is the Celery task taking the record's id; ``done`` the
    record status of a file imported whole."""
    failed = 0
    for path in paths:
        if not path.is_file():
            command.stderr.write(command.style.ERROR(f"{path}: no such file"))
            failed += 1
            continue
        try:
            record = create(path)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if queue:
            task.delay(record.pk)
            command.stdout.write(f"{path.name}: queued as {noun} #{record.pk}")
            continue
        # The same task a worker runs, in this process, so the report can be printed.
        task(record.pk)
        record.refresh_from_db()
        lines = report_lines(record)
        style = command.style.SUCCESS if record.status == done else command.style.ERROR
        command.stdout.write(style(lines[0]))
        for line in lines[1:]:
            command.stdout.write(line)
        failed += record.status != done
    if failed:
        raise CommandError(f"{failed} of {len(paths)} file(s) were not imported")
