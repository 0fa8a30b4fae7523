"""The watched inbox folder (INBOX_DIR): files dropped there are ingested once complete.

A file counts as complete when it has not changed for INBOX_SETTLE_SECONDS and its name
is not a temporary one (``.part``, ``.tmp``, dot-files). It is claimed by an atomic rename
into ``.claimed/`` (so two scanners never take the same file), received into the
database, and moved to ``processed/`` or ``failed/`` once its ingestion finished.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings

from denials.models import RemittanceFile

logger = logging.getLogger(__name__)

TEMPORARY_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart")
SETTLE_SECONDS = float(os.environ.get("INBOX_SETTLE_SECONDS", "3"))


def _folders(inbox: Path) -> dict[str, Path]:
    folders = {name: inbox / name for name in (".claimed", "processed", "failed")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def _is_complete(path: Path, now: float) -> bool:
    name = path.name
    if name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES):
        return False
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    return now - stat.st_mtime >= SETTLE_SECONDS


def inbox_scan(inbox_dir: str | None = None) -> list[RemittanceFile]:
    """Receive every complete file waiting in the inbox, then file away finished ones."""
    from denials.services import remittance_file_receive

    directory = inbox_dir or settings.INBOX_DIR
    if not directory:
        return []
    inbox = Path(directory)
    inbox.mkdir(parents=True, exist_ok=True)
    folders = _folders(inbox)
    received: list[RemittanceFile] = []
    now = time.time()
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):
        if not _is_complete(path, now):
            continue
        claimed = folders[".claimed"] / f"{uuid.uuid4().hex[:8]}__{path.name}"
        try:
            path.rename(claimed)  # atomic on one filesystem: only one scanner wins
        except FileNotFoundError:
            continue
        file = remittance_file_receive(name=path.name, content=claimed.read_bytes(), source=RemittanceFile.Source.INBOX)
        RemittanceFile.objects.filter(pk=file.pk).update(inbox_path=str(claimed))
        received.append(file)
    inbox_file_finished(inbox_dir=str(inbox))
    return received


def inbox_file_finished(*, inbox_dir: str) -> int:
    """Move claimed files whose ingestion finished to processed/ or failed/."""
    folders = _folders(Path(inbox_dir))
    moved = 0
    claimed_paths = {str(p) for p in folders[".claimed"].iterdir() if p.is_file()}
    if not claimed_paths:
        return 0
    waiting = RemittanceFile.objects.filter(inbox_path__in=claimed_paths)
    for file in waiting.only("status", "inbox_path", "original_name"):
        if not file.is_finished:
            continue
        target_dir = folders["failed"] if file.status == RemittanceFile.Status.FAILED else folders["processed"]
        source = Path(file.inbox_path)
        target = target_dir / file.original_name
        if target.exists():
            target = target_dir / f"{target.stem}.{file.pk}{target.suffix}"
        source.rename(target)
        RemittanceFile.objects.filter(pk=file.pk).update(inbox_path=str(target))
        if file.status == RemittanceFile.Status.FAILED:
            # Leave the reason beside the file, for whoever looks in the folder.
            target.with_name(target.name + ".error.txt").write_text(
                RemittanceFile.objects.values_list("error", flat=True).get(pk=file.pk) + "\n"
            )
        moved += 1
    return moved
