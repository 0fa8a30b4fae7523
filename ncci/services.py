"""Writes for reference data: code lists, PTP and MUE imports."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ncci import files as ncci_files
from ncci import ptp
from ncci.files import MueRow, NcciFileError, PtpRow, RejectedRow, SourceInfo, parse_quarter, quarter_start
from ncci.models import (
    Carc,
    CodeDefinition,
    GroupCode,
    Modifier,
    Mue,
    NcciImport,
    ProcedureCode,
    PtpEdit,
    Rarc,
    Setting,
)
from ncci.signals import reference_data_changed

DATA_DIR = Path(__file__).resolve().parent / "data"

GROUP_CODES = {
    "CO": "Contractual obligation: the provider absorbs it; never billed to the patient",
    "PR": "Patient responsibility: the patient owes it if valid",
    "OA": "Other adjustment: often coordination of benefits; review",
    "PI": "Payer-initiated reduction: no contract basis; review, often appealable",
    "CR": "Correction or reversal of a prior claim (4010 only)",
}

_DIGITS_HAND = ("second", "third", "fourth", "fifth", "thumb", "second", "third", "fourth", "fifth")
_DIGITS_FOOT = ("second", "third", "fourth", "fifth", "great", "second", "third", "fourth", "fifth")

#: What each modifier means, for the NCCI-associated ones (shared/DOMAIN.md §5) and the few
#: others coders use. Their bypass group is ``ncci.ptp``'s, the one list of them.
_MODIFIER_DESCRIPTIONS: dict[str, str] = {
    "59": "Distinct procedural service",
    "XE": "Separate encounter",
    "XS": "Separate structure (organ or site)",
    "XP": "Separate practitioner",
    "XU": "Unusual non-overlapping service",
    "27": "Multiple outpatient hospital E/M encounters on the same date",
    "91": "Repeat clinical diagnostic laboratory test",
    "24": "Unrelated E/M service during a postoperative period",
    "25": "Significant, separately identifiable E/M service on the day of a procedure",
    "57": "Decision for surgery",
    "58": "Staged or related procedure during the postoperative period",
    "78": "Unplanned return to the operating room during the postoperative period",
    "79": "Unrelated procedure during the postoperative period",
    "LT": "Left side",
    "RT": "Right side",
    "E1": "Upper left eyelid",
    "E2": "Lower left eyelid",
    "E3": "Upper right eyelid",
    "E4": "Lower right eyelid",
    "FA": "Left hand, thumb",
    **{
        f"F{i}": f"{['Left', 'Left', 'Left', 'Left', 'Right', 'Right', 'Right', 'Right', 'Right'][i - 1]} hand, "
        f"{_DIGITS_HAND[i - 1]} digit"
        for i in range(1, 10)
    },
    "TA": "Left foot, great toe",
    **{
        f"T{i}": f"{['Left', 'Left', 'Left', 'Left', 'Right', 'Right', 'Right', 'Right', 'Right'][i - 1]} foot, "
        f"{_DIGITS_FOOT[i - 1]} digit"
        for i in range(1, 10)
    },
    "LC": "Left circumflex coronary artery",
    "LD": "Left anterior descending coronary artery",
    "LM": "Left main coronary artery",
    "RC": "Right coronary artery",
    "RI": "Ramus intermedius coronary artery",
    "26": "Professional component",
    "TC": "Technical component",
    "50": "Bilateral procedure",
    "51": "Multiple procedures",
    "76": "Repeat procedure by the same physician",
    "GA": "Waiver of liability on file",
}


#: (description, bypass group) of every modifier ``codes_load`` seeds the admin table with.
MODIFIERS: dict[str, tuple[str, str]] = {
    code: (text, ptp.DEFAULT_MODIFIER_GROUPS.group_of(code)) for code, text in _MODIFIER_DESCRIPTIONS.items()
}


def _parse_date(value: str) -> dt.date | None:
    value = (value or "").strip()
    return dt.date.fromisoformat(value) if value else None


def _load_code_csv(model: type[Carc] | type[Rarc], path: Path) -> int:
    """Add the codes of a CSV (code, description, start_date, stop_date, source) not yet known.

    Existing rows keep an admin's edits: only a blank description is filled in. New rows
    are created in bulk with their history rows (django-simple-history).
    """
    from simple_history.utils import bulk_create_with_history

    existing = dict(model.objects.values_list("code", "description"))
    new: dict[str, CodeDefinition] = {}
    fill: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["code"].strip().upper()
            description = (row.get("description") or "").strip()
            if not code:
                continue
            if code in existing:
                if not existing[code] and description:
                    fill[code] = description
                continue
            if code not in new:
                new[code] = model(
                    code=code,
                    description=description,
                    start_date=_parse_date(row.get("start_date", "")),
                    stop_date=_parse_date(row.get("stop_date", "")),
                )
    if new:
        bulk_create_with_history(list(new.values()), model, batch_size=500)
    for code, description in fill.items():
        obj = model.objects.get(code=code)
        obj.description = description
        obj.save(update_fields=["description"])
    return len(new)


@transaction.atomic
def codes_load(*, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Load the CARC, RARC, group-code and modifier lists shipped with the project.

    Idempotent, and it never overwrites what an admin changed (see ``_load_code_csv``).
    The RARC list with descriptions goes first; the codes-only list adds the codes it lacks.
    """
    counts = {
        "carc": _load_code_csv(Carc, data_dir / "carc_tigershark_0.3.4.csv"),
        "rarc": _load_code_csv(Rarc, data_dir / "rarc_tigershark_0.3.4.csv"),
    }
    counts["rarc"] += _load_code_csv(Rarc, data_dir / "rarc_codes_only_pyx12_4.0.0.csv")
    counts["group"] = sum(
        GroupCode.objects.get_or_create(code=code, defaults={"description": text})[1]
        for code, text in GROUP_CODES.items()
    )
    counts["modifier"] = sum(
        Modifier.objects.get_or_create(code=code, defaults={"description": text, "bypass_group": group})[1]
        for code, (text, group) in MODIFIERS.items()
    )
    if counts["carc"]:
        # The denials app fills the new CARCs' suggested categories from its category rules.
        transaction.on_commit(lambda: reference_data_changed.send(sender=Carc, table="codes"))
    return counts


def bypass_modifiers() -> frozenset[str]:
    """The modifiers that may bypass a PTP edit with indicator 1, as admins keep them.

    Kept for the callers that have not moved yet: a read, so it is
    ``ncci.selectors.modifier_groups().bypass`` (with the anatomic group triage needs).
    """
    from ncci.selectors import modifier_groups

    return modifier_groups().bypass


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

IMPORT_BATCH_ROWS = 50_000
REJECTS_KEPT = 200
UPLOAD_DIR_NAME = "ncci_uploads"
TABLE_WORDS = {"ptp": "PTP (procedure-to-procedure)", "mue": "MUE (medically unlikely edit)"}
PTP_SETTINGS = ("practitioner", "hospital")


class NcciImportRefused(Exception):
    """The file cannot be imported as it is (wrong table, unknown quarter, mostly rejected
    rows...): nothing was changed, and the message says why."""


@dataclass
class ImportTally:
    """What the rows of one import looked like while they were read."""

    rows_read: int = 0
    valid: int = 0
    rejected: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: RejectedRow, source: str) -> None:
        self.rejected += 1
        if len(self.rejects) < REJECTS_KEPT:
            self.rejects.append({"source": source, "line": row.line_number, "reason": row.reason, "raw": row.raw[:200]})


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
# files, ~70 in the synthetic ones; MUE rows are shorter. Only for the progress bar.
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


def _refresh_statistics(added: int) -> None:
    """ANALYZE the PTP table after a load that grew it by half or more (a first import).

    Autovacuum gets there eventually; until it does, PostgreSQL plans lookups for the table
    it last measured (a few rows) and picks the wrong index: a code search took 0.8 s
    instead of 2 ms on the benchmark's 2.7 M rows.
    """
    if connection.vendor != "postgresql" or not added:
        return
    table = PtpEdit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
        measured = max(float(row[0]) if row else 0.0, 0.0)
        if added >= 0.5 * measured:
            cursor.execute(f"ANALYZE {table}")


def _stage_ptp_rows(
    rows: Iterator[Any],
    staging: _PtpStaging,
    source_index: int,
    source_name: str,
    tally: ImportTally,
    report_progress: Callable[[], None],
) -> None:
    # CMS files are sorted by Column 1, so a duplicate natural key sits inside one Column 1
    # group: remembering only the current group's keys finds it without holding the file.
    batch: list[PtpRow] = []
    group = ""
    seen: dict[tuple[str, dt.date], int] = {}
    for row in rows:
        tally.rows_read += 1
        if type(row) is PtpRow:
            if row.column1 != group:
                if row.column1 < group:
                    staging.sorted = False
                group = row.column1
                seen.clear()
            key = (row.column2, row.effective_date)
            earlier = seen.get(key)
            if earlier is not None:
                tally.reject(
                    RejectedRow(
                        row.line_number,
                        f"duplicate of line {earlier}: the same Column 1, Column 2 and effective date",
                        f"{row.column1}\t{row.column2}\t{row.effective_date:%Y%m%d}",
                    ),
                    source_name,
                )
                continue
            seen[key] = row.line_number
            tally.valid += 1
            batch.append(row)
            if len(batch) >= IMPORT_BATCH_ROWS:
                staging.write(batch, source_index)
                batch = []
                report_progress()
        else:
            tally.reject(row, source_name)
    if batch:
        staging.write(batch, source_index)
    report_progress()


class _PtpStaging:
    """TEMP tables holding one import's PTP rows until they are merged.

    The SQL below is assembled from model table names and the staging table names made
    here from an integer id (never from input): values always go in as parameters.

    ``write`` streams batches in; ``merge`` finds, in one join, the rows that are new or
    differ from the stored ones (a second TEMP table, empty on a re-import), then updates
    and inserts from that small set.
    """

    COLUMNS = (
        "src, line_number, column1, column2, prior_1996, effective_date, deletion_date, modifier_indicator, rationale"
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.diff = f"{name}_diff"
        self.postgresql = connection.vendor == "postgresql"
        # The Column 1 range the rows cover (lets the join read only that slice of the
        # index), and whether each source was sorted by Column 1 as CMS sorts it (then the
        # reader's per-group duplicate check was complete).
        self.lowest = ""
        self.highest = ""
        self.sorted = True
        self.sources = 0
        with connection.cursor() as cursor:
            for table in (self.diff, self.name):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TEMP TABLE {name} (src smallint NOT NULL, line_number integer NOT NULL, "
                "column1 varchar(5) NOT NULL, column2 varchar(5) NOT NULL, prior_1996 boolean NOT NULL, "
                "effective_date date NOT NULL, deletion_date date NULL, modifier_indicator varchar(1) NOT NULL, "
                "rationale text NOT NULL)"
            )
        self._dates: dict[dt.date | None, str] = {None: "\\N"}
        self._texts: dict[str, str] = {}

    def _date_text(self, value: dt.date | None) -> str:
        text = self._dates.get(value)
        if text is None:
            text = self._dates[value] = value.isoformat()  # type: ignore[union-attr]
        return text

    def _copy_text(self, value: str) -> str:
        text = self._texts.get(value)
        if text is None:
            text = value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")
            if len(self._texts) < 10_000:
                self._texts[value] = text
        return text

    def write(self, rows: list[PtpRow], source_index: int) -> None:
        if not rows:
            return
        first, last = rows[0].column1, rows[-1].column1
        lowest = min(first, last) if self.sorted else min(r.column1 for r in rows)
        highest = max(first, last) if self.sorted else max(r.column1 for r in rows)
        self.lowest = min(self.lowest, lowest) if self.lowest else lowest
        self.highest = max(self.highest, highest)
        if self.postgresql:
            # COPY text format built here: ~30% faster than write_row for 2.7 M rows.
            date_text, copy_text, src = self._date_text, self._copy_text, f"{source_index}\t"
            data = "".join(
                [
                    f"{src}{r.line_number}\t{r.column1}\t{r.column2}\t{'t' if r.prior_1996 else 'f'}\t"
                    f"{date_text(r.effective_date)}\t{date_text(r.deletion_date)}\t{r.modifier_indicator}\t"
                    f"{copy_text(r.rationale)}\n"
                    for r in rows
                ]
            )
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {self.name} ({self.COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(data)
            return
        iso = self._date_text
        values = [
            (
                source_index,
                r.line_number,
                r.column1,
                r.column2,
                r.prior_1996,
                iso(r.effective_date),
                None if r.deletion_date is None else iso(r.deletion_date),
                r.modifier_indicator,
                r.rationale,
            )
            for r in rows
        ]
        # One transaction per batch: in autocommit, SQLite would commit (and journal) every row.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.name} ({self.COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                values,
            )

    def merge(self, *, setting: str, quarter: str, sources: list[str], tally: ImportTally) -> tuple[int, int]:
        """Update the rows that changed and insert the new ones; return (added, changed).

        A row whose stored version came from a newer quarter keeps it (importing an older
        quarter fills gaps in the history, it does not undo later deletions).
        """
        table = PtpEdit._meta.db_table
        rationale_length = PtpEdit._meta.get_field("rationale").max_length
        source_length = PtpEdit._meta.get_field("source_file").max_length
        source_case = "CASE d.src " + " ".join("WHEN %s THEN %s" for _ in sources) + " END"
        source_params: list[Any] = [p for index, name in enumerate(sources) for p in (index, name[:source_length])]
        distinct = "IS DISTINCT FROM" if self.postgresql else "IS NOT"
        with connection.cursor() as cursor:
            if not self.postgresql:
                # SQLite's default page cache is 2 MB: the index inserts of a large load would
                # then mostly wait on the disk. 64 MB for this connection (the process's memory).
                cursor.execute("PRAGMA cache_size = -65536")
            if self.postgresql:
                # Two imports of one table must not interleave; readers are not blocked.
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute(f"ANALYZE {self.name}")
                # The join hashes up to a million rows: memory rather than temp files; and
                # no JIT compilation for statements that run once.
                cursor.execute("SET LOCAL work_mem = '128MB'")
                cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE setting = %s AND column1 BETWEEN %s AND %s)",  # noqa: S608
                [setting, self.lowest, self.highest],
            )
            stored = bool(cursor.fetchone()[0])
            if not stored and self.sorted and len(sources) == 1:
                # Nothing stored in this Column 1 range (a first import): every row is new,
                # and the reader already caught the duplicates of a sorted file.
                cursor.execute(
                    f"INSERT INTO {table} (setting, column1, column2, prior_1996, effective_date, deletion_date, "  # noqa: S608
                    "modifier_indicator, rationale, quarter, source_file) "
                    f"SELECT %s, d.column1, d.column2, d.prior_1996, d.effective_date, d.deletion_date, "
                    f"d.modifier_indicator, substr(d.rationale, 1, {rationale_length}), %s, {source_case} "
                    f"FROM {self.name} AS d",
                    [setting, quarter, *source_params],
                )
                return cursor.rowcount, 0
            cursor.execute(
                f"CREATE TEMP TABLE {self.diff} AS "  # noqa: S608
                f"SELECT s.*, p.id AS existing_id, p.quarter AS existing_quarter FROM {self.name} AS s "
                f"LEFT JOIN {table} AS p ON p.setting = %s AND p.column1 = s.column1 AND p.column2 = s.column2 "
                "AND p.effective_date = s.effective_date AND p.column1 BETWEEN %s AND %s "
                f"WHERE p.id IS NULL OR p.deletion_date {distinct} s.deletion_date "
                "OR p.modifier_indicator <> s.modifier_indicator "
                f"OR p.rationale <> substr(s.rationale, 1, {rationale_length}) OR p.prior_1996 <> s.prior_1996",
                [setting, self.lowest, self.highest],
            )
            if not self.sorted or len(sources) > 1:
                self._reject_duplicates(cursor, sources, tally)
            cursor.execute(
                f"UPDATE {table} SET deletion_date = d.deletion_date, modifier_indicator = d.modifier_indicator, "  # noqa: S608
                f"rationale = substr(d.rationale, 1, {rationale_length}), prior_1996 = d.prior_1996, quarter = %s, "
                f"source_file = {source_case} "
                f"FROM (SELECT * FROM {self.diff} WHERE existing_id IS NOT NULL AND existing_quarter <= %s) AS d "
                f"WHERE {table}.id = d.existing_id",
                [quarter, *source_params, quarter],
            )
            changed = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {table} (setting, column1, column2, prior_1996, effective_date, deletion_date, "  # noqa: S608
                "modifier_indicator, rationale, quarter, source_file) "
                f"SELECT %s, d.column1, d.column2, d.prior_1996, d.effective_date, d.deletion_date, "
                f"d.modifier_indicator, substr(d.rationale, 1, {rationale_length}), %s, {source_case} "
                f"FROM {self.diff} AS d WHERE d.existing_id IS NULL",
                [setting, quarter, *source_params],
            )
            added = cursor.rowcount
        return added, changed

    def _reject_duplicates(self, cursor: Any, sources: list[str], tally: ImportTally) -> None:
        """Rows repeating a natural key seen earlier in the file (where the reader's per-group
        check could not see them: an unsorted file, or several files in one zip)."""
        same_key = (
            "b.column1 = d.column1 AND b.column2 = d.column2 AND b.effective_date = d.effective_date "
            "AND (b.src < d.src OR (b.src = d.src AND b.line_number < d.line_number))"
        )
        if not self.postgresql:
            cursor.execute(f"CREATE INDEX {self.name}_key ON {self.name} (column1, column2, effective_date)")
        cursor.execute(
            f"SELECT d.src, d.line_number, d.column1, d.column2, d.effective_date, "  # noqa: S608
            f"(SELECT min(b.line_number) FROM {self.name} AS b WHERE {same_key}) "
            f"FROM {self.diff} AS d WHERE EXISTS (SELECT 1 FROM {self.name} AS b WHERE {same_key}) "
            "ORDER BY d.src, d.line_number"
        )
        duplicates = cursor.fetchall()
        for src, line_number, column1, column2, effective, earlier in duplicates:
            effective_text = effective if isinstance(effective, str) else effective.isoformat()
            tally.reject(
                RejectedRow(
                    line_number,
                    f"duplicate of line {earlier}: the same Column 1, Column 2 and effective date",
                    f"{column1}\t{column2}\t{effective_text}",
                ),
                sources[src],
            )
            tally.valid -= 1
        if duplicates:
            cursor.execute(
                f"DELETE FROM {self.diff} WHERE EXISTS (SELECT 1 FROM {self.name} AS b WHERE "  # noqa: S608
                + same_key.replace("d.", f"{self.diff}.")
                + ")"
            )

    def drop(self) -> None:
        try:
            with connection.cursor() as cursor:
                for table in (self.diff, self.name):
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                if not self.postgresql:
                    cursor.execute("PRAGMA cache_size = -2000")  # SQLite's default again
        except DatabaseError:  # the connection is gone: so are the TEMP tables
            logger.warning("could not drop staging table %s", self.name, exc_info=True)


def _read_mue_rows(
    rows: Iterator[Any],
    found: dict[str, tuple[MueRow, int]],
    source_index: int,
    source_name: str,
    tally: ImportTally,
) -> None:
    # An MUE table is ~15k rows: held in memory, keyed by code to catch duplicates.
    for row in rows:
        tally.rows_read += 1
        if type(row) is MueRow:
            earlier = found.get(row.code)
            if earlier is not None:
                tally.reject(
                    RejectedRow(
                        row.line_number, f"duplicate of line {earlier[0].line_number}: the same code", row.code
                    ),
                    source_name,
                )
                continue
            tally.valid += 1
            found[row.code] = (row, source_index)
        else:
            tally.reject(row, source_name)


def _mue_values(row: MueRow) -> tuple[int, str, str, str]:
    text_length = Mue._meta.get_field("adjudication_text").max_length
    rationale_length = Mue._meta.get_field("rationale").max_length
    return (
        row.mue_value,
        row.adjudication_indicator,
        row.adjudication_text[:text_length],
        row.rationale[:rationale_length],
    )


def _merge_mue(
    rows: dict[str, tuple[MueRow, int]], *, setting: str, quarter: str, sources: list[str]
) -> tuple[int, int]:
    """Store the quarter's MUE table; return (added, changed) against what was in force before.

    Each quarter's MUE file is the whole table from its first day, so its rows are stored
    under that quarter. Added: a code with no MUE before; changed: a value, indicator or
    rationale that differs from the previous quarter's (or from this quarter's row, on a
    re-import). Re-importing a quarter writes nothing.
    """
    start = quarter_start(quarter)
    source_length = Mue._meta.get_field("source_file").max_length
    same_quarter = {m.code: m for m in Mue.objects.filter(setting=setting, quarter=quarter)}
    previous: dict[str, tuple[int, str, str, str]] = {}
    earlier = Mue.objects.filter(setting=setting, effective_date__lt=start).order_by("code", "effective_date")
    for code, value, indicator, text, rationale in earlier.values_list(
        "code", "mue_value", "adjudication_indicator", "adjudication_text", "rationale"
    ):
        previous[code] = (value, indicator, text, rationale)
    added = changed = 0
    to_create: list[Mue] = []
    to_update: list[Mue] = []
    for code, (row, source_index) in rows.items():
        values = _mue_values(row)
        stored = same_quarter.get(code)
        if stored is not None:
            if (stored.mue_value, stored.adjudication_indicator, stored.adjudication_text, stored.rationale) != values:
                stored.mue_value, stored.adjudication_indicator, stored.adjudication_text, stored.rationale = values
                stored.source_file = sources[source_index][:source_length]
                to_update.append(stored)
                changed += 1
            continue
        before = previous.get(code)
        if before is None:
            added += 1
        elif before != values:
            changed += 1
        to_create.append(
            Mue(
                setting=setting,
                code=code,
                mue_value=values[0],
                adjudication_indicator=values[1],
                adjudication_text=values[2],
                rationale=values[3],
                quarter=quarter,
                effective_date=start,
                source_file=sources[source_index][:source_length],
            )
        )
    Mue.objects.bulk_create(to_create, batch_size=2000)
    Mue.objects.bulk_update(
        to_update,
        ["mue_value", "adjudication_indicator", "adjudication_text", "rationale", "source_file"],
        batch_size=2000,
    )
    return added, changed


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


# ---------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------

DEMO_NCCI_DIR = DATA_DIR / "demo"


def _demo_procedure_codes(path: Path) -> int:
    created = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            _, was_created = ProcedureCode.objects.get_or_create(
                code=row["code"].strip().upper(),
                defaults={
                    "short_description": row["short_description"].strip(),
                    "description": row.get("description", "").strip(),
                },
            )
            created += was_created
    return created


def ncci_demo_load(*, directory: Path = DEMO_NCCI_DIR) -> dict[str, Any]:
    """Load the demo PTP and MUE tables through the real importer, and plain-words
    descriptions of the demo codes. Safe to run again: a re-import changes nothing."""
    report: dict[str, Any] = {"procedure codes added": _demo_procedure_codes(directory / "procedure_codes.csv")}
    files = sorted(p for p in directory.iterdir() if p.is_file() and re.search(r"ccipra|ccioph|mcr_mue", p.name, re.I))
    for path in files:
        record = ncci_file_import(path=path)
        if record.status == NcciImport.Status.DONE:
            report[path.name] = f"added {record.added}, changed {record.changed}, unchanged {record.unchanged}"
        else:
            report[path.name] = f"{record.status}: {record.error}"
    return report
