"""NCCI quarterly imports: an NcciImport row per file, claimed, run, reported."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ncci import files as ncci_files
from ncci.files import MueRow, NcciFileError, SourceInfo, parse_quarter
from ncci.models import (
    NcciImport,
    Setting,
)
from ncci.services.staging import (
    ImportTally,
    _merge_mue,
    _PtpStaging,
    _read_mue_rows,
    _refresh_statistics,
    _stage_ptp_rows,
)
from ncci.signals import reference_data_changed

# ---------------------------------------------------------------------------------------
# NCCI quarterly imports
# ---------------------------------------------------------------------------------------
#
# One NcciImport row per file (a zip counts as one file, whatever it holds). The rows stream
# from the file into a TEMP staging table in batches (COPY on PostgreSQL, executemany on
# SQLite), outside any transaction so the progress counter is visible while it runs; then
# one transaction compares the staging table with the PTP table on the natural key
# (setting, column1, column2, effective_date) and updates the changed rows and inserts the
# new ones, set-based. Importing the same quarter again therefore writes nothing. Bulk
# imports write no simple_history rows: the NcciImport report is their record.

logger = logging.getLogger(__name__)

UPLOAD_DIR_NAME = "ncci_uploads"
TABLE_WORDS = {"ptp": "PTP (procedure-to-procedure)", "mue": "MUE (medically unlikely edit)"}
PTP_SETTINGS = ("practitioner", "hospital")


class NcciImportRefused(Exception):
    """The file cannot be imported as it is (wrong table, unknown quarter, mostly rejected
    rows...): nothing was changed, and the message says why."""


def _normal_hints(table: str, setting: str, quarter: str) -> tuple[str, str, str]:
    table, setting, quarter = (table or "").strip().lower(), (setting or "").strip().lower(), (quarter or "").strip()
    if table and table not in TABLE_WORDS:
        raise ValueError(f"table must be ptp or mue, not {table!r}")
    if setting and setting not in Setting.values:
        raise ValueError(f"setting must be one of {', '.join(Setting.values)}, not {setting!r}")
    if quarter:
        year, q = parse_quarter(quarter)
        quarter = f"{year}Q{q}"
    return table, setting, quarter


def ncci_import_create(
    *,
    filename: str,
    path: str | Path,
    table: str = "",
    setting: str = "",
    quarter: str = "",
    created_by: Any = None,
) -> NcciImport:
    """Record a file to import. ``table``/``setting``/``quarter`` are what the caller says the
    file is; blank means "detect it from the name and header"."""
    table, setting, quarter = _normal_hints(table, setting, quarter)
    return NcciImport.objects.create(
        filename=Path(filename).name[:255],
        path=str(path),
        table=table,
        setting=setting,
        quarter=quarter,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )


def _safe_upload_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._") or "upload"
    return base[-120:]


@transaction.atomic
def ncci_import_upload(
    *,
    upload: UploadedFile,
    table: str = "",
    setting: str = "",
    quarter: str = "",
    created_by: Any = None,
) -> NcciImport:
    """Keep an uploaded file under MEDIA_ROOT/ncci_uploads/ and queue its import (after commit)."""

    directory = Path(settings.MEDIA_ROOT) / UPLOAD_DIR_NAME
    directory.mkdir(parents=True, exist_ok=True)
    original = upload.name or "upload"
    target = directory / f"{uuid.uuid4().hex[:12]}-{_safe_upload_name(original)}"
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    record = ncci_import_create(
        filename=original, path=target, table=table, setting=setting, quarter=quarter, created_by=created_by
    )
    # By name: ncci.tasks imports this module, never the reverse (registered in NcciConfig.ready).
    current_app.tasks["ncci.tasks.import_ncci_file"].delay_on_commit(record.pk)
    return record


def ncci_import_claim(*, import_id: int) -> bool:
    """Take a queued import (or one whose worker stopped reporting) for this worker.

    A conditional update, so two deliveries of the same task cannot both run it: zero rows
    updated means another worker has it, or it is finished.
    """
    now = timezone.now()
    lease = getattr(settings, "NCCI_IMPORT_LEASE_SECONDS", 900)
    stale = Q(status=NcciImport.Status.RUNNING, heartbeat_at__lt=now - dt.timedelta(seconds=lease))
    claimed = NcciImport.objects.filter(Q(status=NcciImport.Status.QUEUED) | stale, pk=import_id).update(
        status=NcciImport.Status.RUNNING, started_at=now, heartbeat_at=now, rows_read=0, error=""
    )
    return claimed == 1


def ncci_import_requeue(*, import_id: int) -> bool:
    """Put a failed import back in the queue (for a retry after a transient error)."""
    return (
        NcciImport.objects.filter(pk=import_id, status=NcciImport.Status.FAILED).update(
            status=NcciImport.Status.QUEUED, finished_at=None
        )
        == 1
    )


def ncci_import_run(*, import_id: int, progress: Callable[[ImportTally], None] | None = None) -> NcciImport:
    """Claim and run one import; record its report (or why it failed) on the NcciImport row.

    Safe to call twice: the second call finds the row claimed or finished and does nothing.
    """
    if not ncci_import_claim(import_id=import_id):
        return NcciImport.objects.get(pk=import_id)
    record = NcciImport.objects.get(pk=import_id)
    try:
        _import_file(record, progress)
    except (NcciFileError, NcciImportRefused, ValueError) as exc:
        _import_failed(record, str(exc))
    except Exception as exc:
        if _unreadable(exc):
            _import_failed(record, f"{record.filename} could not be read ({exc}): nothing was imported.")
            return NcciImport.objects.get(pk=import_id)
        logger.exception("NCCI import %s failed", import_id)
        _import_failed(record, f"The import stopped on an unexpected error; nothing was changed. {exc!r}"[:2000])
        raise
    record.refresh_from_db()
    if record.status == NcciImport.Status.DONE:
        _discard_upload(record)
    return record


def ncci_file_import(
    *,
    path: str | Path,
    table: str = "",
    setting: str = "",
    quarter: str = "",
    created_by: Any = None,
    progress: Callable[[ImportTally], None] | None = None,
) -> NcciImport:
    """Import one file (or zip) now, in this process: create its record and run it."""
    path = Path(path)
    record = ncci_import_create(
        filename=path.name, path=path.resolve(), table=table, setting=setting, quarter=quarter, created_by=created_by
    )
    return ncci_import_run(import_id=record.pk, progress=progress)


def _unreadable(exc: Exception) -> bool:
    """A broken or mislabelled file (not a bug, not the database): a refusal like the others."""
    if isinstance(exc, (zipfile.BadZipFile, csv.Error, EOFError)) or (
        isinstance(exc, OSError) and not isinstance(exc, ConnectionError)
    ):
        return True
    return type(exc).__module__.startswith("openpyxl")


def _import_failed(record: NcciImport, message: str) -> None:
    NcciImport.objects.filter(pk=record.pk).update(
        status=NcciImport.Status.FAILED, error=message, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )


def _discard_upload(record: NcciImport) -> None:
    """An uploaded file is kept only until it is imported (a failed one stays for a look)."""
    if not record.path:
        return
    uploads = (Path(settings.MEDIA_ROOT) / UPLOAD_DIR_NAME).resolve()
    path = Path(record.path).resolve()
    if uploads in path.parents:
        path.unlink(missing_ok=True)
        NcciImport.objects.filter(pk=record.pk).update(path="")


def _open_sources(path: Path, hint: SourceInfo | None) -> Iterator[tuple[SourceInfo, Iterator[Any]]]:
    """(source, rows) for each table in the file; ``hint`` speaks for a file whose name and
    header do not say what it is (it never overrides what they do say)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise NcciImportRefused(f"{path.name}: no such file")
    if suffix == ".zip" or hint is None:
        yield from ncci_files.open_ncci_sources(path)
    elif suffix in (".txt", ".csv"):
        with open(path, encoding=ncci_files.ENCODING, newline="") as stream:
            yield ncci_files._text_source(stream, path.name, hint)
    elif suffix == ".xlsx":
        yield ncci_files._xlsx_source(path, path.name, hint)
    else:
        raise NcciFileError(f"{path.name}: expected a CMS .zip, .txt, .csv or .xlsx file")


def _reconcile(info: SourceInfo, record: NcciImport, first: SourceInfo | None) -> SourceInfo:
    """Check what the file says it is against what the caller said; fill in what is missing."""
    name = info.filename
    if record.table and info.table != record.table:
        raise NcciImportRefused(
            f"{name} is a {TABLE_WORDS[info.table]} file, not the {TABLE_WORDS[record.table]} file it was given as: "
            "nothing was imported."
        )
    if record.setting and info.setting != record.setting:
        raise NcciImportRefused(
            f"{name} holds the {info.setting} table, not the {record.setting} one it was given as: "
            "nothing was imported."
        )
    quarter = info.quarter
    if record.quarter:
        if quarter and quarter != record.quarter:
            raise NcciImportRefused(
                f"{name} is for {quarter}, not {record.quarter} as given: nothing was imported. Leave the quarter "
                "blank to take it from the file name."
            )
        quarter = record.quarter
    if not quarter:
        raise NcciImportRefused(
            f"Cannot tell which quarter {name} is for from its name: give the quarter (e.g. --quarter 2026Q3)."
        )
    if info.table == "ptp" and info.setting not in PTP_SETTINGS:
        raise NcciImportRefused(f"{name}: CMS publishes PTP tables for practitioners and hospitals only.")
    info = replace(info, quarter=quarter)
    if first is not None and (info.table, info.setting, info.quarter) != (first.table, first.setting, first.quarter):
        raise NcciImportRefused(
            f"{record.filename} mixes tables: {first.filename} is {first.table} {first.setting} {first.quarter}, "
            f"{name} is {info.table} {info.setting} {info.quarter}. Import them as separate files."
        )
    return info


# Bytes per row of the CMS text files (CRLF included): ~61 in the real practitioner PTP
# files, ~70 in the synthetic ones (ncci/demo/cms_files.py); MUE rows are shorter. Only for
# the progress bar.
PTP_BYTES_PER_ROW = 65
MUE_BYTES_PER_ROW = 55


def _rows_expected(path: Path) -> int:
    """A guess at the row count from the file's (uncompressed) size; 0 when there is none."""
    try:
        suffix = path.suffix.lower()
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                sizes = [
                    (m.filename, m.file_size)
                    for m in archive.infolist()
                    if m.filename.lower().endswith((".txt", ".csv"))
                ]
        elif suffix in (".txt", ".csv"):
            sizes = [(path.name, path.stat().st_size)]
        else:
            return 0
    except (OSError, zipfile.BadZipFile):
        return 0
    return sum(
        size // (MUE_BYTES_PER_ROW if name.lower().endswith(".csv") else PTP_BYTES_PER_ROW) for name, size in sizes
    )


def _hint(record: NcciImport) -> SourceInfo | None:
    if record.table and record.setting:
        return SourceInfo(record.table, record.setting, record.quarter, "", None, record.filename)  # type: ignore[arg-type]
    return None


def _check_rows(tally: ImportTally, name: str, table: str) -> None:
    if tally.rows_read == 0:
        raise NcciImportRefused(f"{name} holds no {table.upper()} rows below its header: nothing was imported.")
    if tally.valid == 0 or tally.rejected > tally.valid:
        first = tally.rejects[0] if tally.rejects else None
        example = f" (line {first['line']}: {first['reason']})" if first else ""
        raise NcciImportRefused(
            f"{tally.rejected:,} of {tally.rows_read:,} rows of {name} were rejected{example}: this does not look "
            f"like a CMS {TABLE_WORDS[table]} file. Nothing was imported."
        )


def _import_file(record: NcciImport, progress: Callable[[ImportTally], None] | None) -> None:
    path = Path(record.path)
    tally = ImportTally()
    first: SourceInfo | None = None
    names: list[str] = []
    staging: _PtpStaging | None = None
    mue_rows: dict[str, tuple[MueRow, int]] = {}

    def report_progress() -> None:
        NcciImport.objects.filter(pk=record.pk).update(rows_read=tally.rows_read, heartbeat_at=timezone.now())
        if progress is not None:
            progress(tally)

    NcciImport.objects.filter(pk=record.pk).update(rows_expected=_rows_expected(path))
    try:
        for info, rows in _open_sources(path, _hint(record)):
            info = _reconcile(info, record, first)
            if first is None:
                first = info
                NcciImport.objects.filter(pk=record.pk).update(
                    table=info.table, setting=info.setting, quarter=info.quarter
                )
            source_index = len(names)
            names.append(info.filename)
            if info.table == "ptp":
                if staging is None:
                    staging = _PtpStaging(f"ncci_stage_ptp_{record.pk}")
                _stage_ptp_rows(rows, staging, source_index, info.filename, tally, report_progress)
            else:
                _read_mue_rows(rows, mue_rows, source_index, info.filename, tally)
                report_progress()
        if first is None:
            raise NcciImportRefused(f"{record.filename} holds no CMS NCCI file.")
        _check_rows(tally, record.filename, first.table)
        with transaction.atomic():
            if first.table == "ptp":
                assert staging is not None
                added, changed = staging.merge(setting=first.setting, quarter=first.quarter, sources=names, tally=tally)
            else:
                added, changed = _merge_mue(mue_rows, setting=first.setting, quarter=first.quarter, sources=names)
            unchanged = tally.valid - added - changed
            NcciImport.objects.filter(pk=record.pk).update(
                status=NcciImport.Status.DONE,
                table=first.table,
                setting=first.setting,
                quarter=first.quarter,
                sources=names,
                rows_read=tally.rows_read,
                added=added,
                changed=changed,
                unchanged=unchanged,
                rejected=tally.rejected,
                rejects=tally.rejects,
                error="",
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
            )
            if added or changed:
                table = first.table
                transaction.on_commit(lambda: reference_data_changed.send(sender=NcciImport, table=table))
        if first.table == "ptp":
            _refresh_statistics(added)
    finally:
        if staging is not None:
            staging.drop()


def ncci_import_report_lines(record: NcciImport) -> list[str]:
    """The report of one import, as the command prints it."""
    what = " ".join(x for x in (record.table.upper(), record.setting, record.quarter) if x) or "NCCI file"
    took = ""
    if record.started_at and record.finished_at:
        took = f" in {(record.finished_at - record.started_at).total_seconds():.1f} s"
    lines = [f"{record.filename}: {what}: {record.get_status_display().lower()}{took}"]
    if record.status == NcciImport.Status.FAILED:
        lines.append(f"  {record.error}")
        return lines
    lines.append(
        f"  rows read {record.rows_read:,}; added {record.added:,}; changed {record.changed:,}; "
        f"unchanged {record.unchanged:,}; rejected {record.rejected:,}"
    )
    for reject in record.rejects:
        source = f"{reject['source']} " if len(record.sources) > 1 else ""
        lines.append(f"  rejected {source}line {reject['line']}: {reject['reason']}")
    if record.rejected > len(record.rejects):
        lines.append(f"  ... and {record.rejected - len(record.rejects):,} more rejected rows")
    return lines
