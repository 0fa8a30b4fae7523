"""The code-list importer: the current CARC, RARC and procedure-code lists, as an admin obtains them.

X12 holds the copyright on the CARC and RARC text and the AMA on CPT text, so the project
ships codes only (with its own summaries) and this importer loads the official words from a
file the admin brings: CSV, TSV or XLSX with a header row. One ``CodeListImport`` row per
file, run by the command (``import_codes``), the admin page or the Celery task.

- Idempotent: the same file twice changes nothing the second time.
- History: every added or changed code gets its django-simple-history row.
- Nothing half-written: a file that cannot be read (wrong columns, empty, not a spreadsheet)
  is refused whole; a row that cannot be read (a bad date, a code too long...) is refused
  with its row number, column and why, and then nothing is written either, unless the admin
  asked to import the good rows anyway (``skip_refused``).
- The report: added, changed, unchanged, retired (newly stop-dated), refused rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from ncci.models import Carc, CodeDefinition, CodeListImport, ProcedureCode, Rarc
from ncci.signals import reference_data_changed

logger = logging.getLogger(__name__)

UPLOAD_DIR_NAME = "code_list_uploads"
REFUSALS_KEPT = 200
MAX_CODE_LENGTH = 5
SHORT_DESCRIPTION_MAX = ProcedureCode._meta.get_field("short_description").max_length or 100

MODELS: dict[str, type[CodeDefinition]] = {"carc": Carc, "rarc": Rarc, "procedure": ProcedureCode}
LIST_WORDS = {"carc": "CARC", "rarc": "RARC", "procedure": "procedure code"}

#: Accepted header names per column, after lower-casing and turning every run of other
#: characters into one space ("Start Date", "start_date" and "START-DATE" are all "start date").
HEADERS: dict[str, tuple[str, ...]] = {
    "code": (
        "code",
        "code value",
        "carc",
        "carc code",
        "rarc",
        "rarc code",
        "reason code",
        "remark code",
        "adjustment reason code",
        "procedure code",
        "cpt",
        "cpt code",
        "hcpcs",
        "hcpcs code",
        "hcpc",
        "hcpc code",
    ),
    "description": ("description", "code description", "desc", "text", "meaning", "definition"),
    "short_description": (
        "short description",
        "short desc",
        "short descriptor",
        "abbreviated description",
        "abbreviated descriptor",
    ),
    "long_description": ("long description", "long desc", "long descriptor", "full description"),
    "start_date": (
        "start date",
        "start",
        "effective date",
        "effective",
        "eff date",
        "begin date",
        "act eff dt",
        "add dt",
        "added date",
    ),
    "stop_date": (
        "stop date",
        "stop",
        "end date",
        "termination date",
        "term date",
        "term dt",
        "deactivation date",
        "expiration date",
    ),
    "last_modified": (
        "last modified",
        "last modified date",
        "modified",
        "modified date",
        "last updated",
        "updated",
        "last revised",
        "revised",
    ),
}
COLUMN_WORDS = {
    "code": "code",
    "description": "description",
    "short_description": "short description",
    "long_description": "long description",
    "start_date": "start date",
    "stop_date": "stop date",
    "last_modified": "last modified",
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y%m%d", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%B %d, %Y")


class CodeListRefused(Exception):
    """The file cannot be imported as it is; nothing was changed and the message says why."""


def accepted_headers_text(code_list: str = "") -> str:
    """The accepted header names, in words, for the page and the command's help."""
    columns = ["code", "start_date", "stop_date", "last_modified"]
    if code_list in ("", "procedure"):
        columns[1:1] = ["short_description", "long_description"]
    if code_list != "procedure":
        columns[1:1] = ["description"]
    return "; ".join(f"{COLUMN_WORDS[c]}: {', '.join(HEADERS[c])}" for c in columns)


def _header_key(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).strip()


@dataclass
class ParsedRow:
    row: int
    code: str
    values: dict[str, Any]


@dataclass
class Parsed:
    columns: dict[str, str]  # our column -> the file's header
    rows: list[ParsedRow] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0


# --- Reading the file -------------------------------------------------------------------


def _text_rows(path: Path) -> Iterator[list[str]]:
    raw = path.read_bytes()
    if not raw.strip():
        raise CodeListRefused(f"{path.name} is empty: nothing was imported.")
    nul = raw.find(b"\x00")
    if nul >= 0:
        row = raw[:nul].count(b"\n") + 1
        raise CodeListRefused(
            f"{path.name} is not a text file (row {row} holds binary data): nothing was imported. "
            "Save it as CSV, TSV or XLSX."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    suffix = path.suffix.lower()
    delimiter = "\t" if suffix in (".tsv", ".tab") or ("\t" in first_line and "," not in first_line) else ","
    if suffix == ".txt" and "|" in first_line and "\t" not in first_line and "," not in first_line:
        delimiter = "|"
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise CodeListRefused(
            f"{path.name} is not an Excel workbook (.xlsx): nothing was imported. Save it again as XLSX, CSV or TSV."
        )
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def _rows(path: Path) -> Iterator[list[Any]]:
    if not path.is_file():
        raise CodeListRefused(f"{path.name}: no such file, nothing was imported.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix in (".csv", ".tsv", ".tab", ".txt"):
        return _text_rows(path)
    if suffix == ".xls":
        raise CodeListRefused(f"{path.name} is an old Excel (.xls) file: nothing was imported. Save it as XLSX or CSV.")
    raise CodeListRefused(f"{path.name}: expected a .csv, .tsv or .xlsx file; nothing was imported.")


def _columns(header: list[Any], code_list: str, filename: str) -> dict[str, int]:
    keys = [_header_key(h) for h in header]
    found: dict[str, int] = {}
    for column, names in HEADERS.items():
        for index, key in enumerate(keys):
            if key in names and column not in found:
                found[column] = index
                break
    if "code" not in found:
        shown = ", ".join(f'"{h}"' for h in header if str(h or "").strip()) or "nothing"
        raise CodeListRefused(
            f"{filename}: row 1 has no code column (it has {shown}). Name the column code "
            f"(or one of: {', '.join(HEADERS['code'])}): nothing was imported."
        )
    if code_list == "procedure":
        if "short_description" not in found and "long_description" not in found and "description" not in found:
            raise CodeListRefused(
                f"{filename}: row 1 has no short description column (accepted: "
                f"{', '.join(HEADERS['short_description'])}): nothing was imported."
            )
    elif "description" not in found and "long_description" not in found:
        raise CodeListRefused(
            f"{filename}: row 1 has no description column (accepted: {', '.join(HEADERS['description'])}): "
            "nothing was imported."
        )
    return found


def _cell(values: list[Any], index: int | None) -> Any:
    if index is None or index >= len(values):
        return None
    value = values[index]
    return value.strip() if isinstance(value, str) else value


def parse_date(value: Any) -> dt.date | None:
    """A date cell as CSV or Excel gives it; None for a blank cell; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):
        value = str(int(value))
    text = str(value).strip()
    text = re.sub(r"[T ]00:00(:00(\.0+)?)?$", "", text)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f'"{text}" is not a date (use YYYY-MM-DD or MM/DD/YYYY)')


def _refuse(parsed: Parsed, row: int, column: str, header: str, why: str) -> None:
    parsed.refusals.append({"row": row, "column": header or COLUMN_WORDS.get(column, column), "reason": why})


def parse_code_list(path: Path, *, code_list: str) -> Parsed:
    """Read and check every row of the file. Raises ``CodeListRefused`` for a file that
    cannot be read at all; a row that cannot be read is refused (``Parsed.refusals``)."""
    rows = _rows(path)
    header: list[Any] | None = None
    header_row = 0
    for number, values in enumerate(rows, start=1):
        if any(str(v or "").strip() for v in values):
            header, header_row = values, number
            break
    if header is None:
        raise CodeListRefused(f"{path.name} is empty: nothing was imported.")
    found = _columns(header, code_list, path.name)
    parsed = Parsed(columns={column: str(header[index]).strip() for column, index in found.items()})
    seen: dict[str, ParsedRow] = {}
    previous: ParsedRow | None = None
    for number, values in enumerate(rows, start=header_row + 1):
        if not any(str(v if v is not None else "").strip() for v in values):
            continue
        parsed.rows_read += 1
        code = str(_cell(values, found["code"]) or "").strip().upper()
        if isinstance(_cell(values, found["code"]), float) and code.endswith(".0"):
            code = code[:-2]  # a numeric cell in Excel: 97.0 is CARC 97
        head = parsed.columns.get
        if not code:
            _refuse(parsed, number, "code", head("code", ""), "the code is blank")
            continue
        if len(code) > MAX_CODE_LENGTH:
            _refuse(
                parsed,
                number,
                "code",
                head("code", ""),
                f'"{code[:40]}" is longer than a code ({MAX_CODE_LENGTH} letters or digits at most)',
            )
            continue
        if not code.isalnum() or not code.isascii():
            _refuse(parsed, number, "code", head("code", ""), f'"{code}" is not a code (letters and digits only)')
            continue
        values_out: dict[str, Any] = {}
        problem = False
        for column in ("start_date", "stop_date", "last_modified"):
            if column in found:
                try:
                    values_out[column] = parse_date(_cell(values, found[column]))
                except ValueError as exc:
                    _refuse(parsed, number, column, head(column, ""), str(exc))
                    problem = True
        if problem:
            continue
        start, stop = values_out.get("start_date"), values_out.get("stop_date")
        if start and stop and stop < start:
            _refuse(
                parsed,
                number,
                "stop_date",
                head("stop_date", ""),
                f"the stop date {stop} is before the start date {start}",
            )
            continue
        description = str(_cell(values, found.get("description")) or "")
        long_description = str(_cell(values, found.get("long_description")) or "")
        if code_list == "procedure":
            short = str(_cell(values, found.get("short_description")) or "")
            long_text = long_description or (description if "long_description" not in found else "")
            if "short_description" not in found:
                short = (long_description or description)[:SHORT_DESCRIPTION_MAX]
            # The HCPCS file continues a long description over more rows of the same code.
            if previous is not None and code == previous.code and not short and long_text:
                previous.values["description"] = f"{previous.values.get('description', '')} {long_text}".strip()
                continue
            if len(short) > SHORT_DESCRIPTION_MAX:
                _refuse(
                    parsed,
                    number,
                    "short_description",
                    head("short_description", ""),
                    f"the short description is longer than {SHORT_DESCRIPTION_MAX} characters",
                )
                continue
            values_out["short_description"] = short
            if "long_description" in found or "description" in found:
                values_out["description"] = long_text
        else:
            values_out["description"] = description or long_description
        if code in seen:
            _refuse(parsed, number, "code", head("code", ""), f"{code} is already on row {seen[code].row}")
            continue
        item = ParsedRow(row=number, code=code, values=values_out)
        seen[code] = item
        parsed.rows.append(item)
        previous = item
    if parsed.rows_read == 0:
        raise CodeListRefused(f"{path.name} holds no rows below its header (row {header_row}): nothing was imported.")
    return parsed


# --- Merging ------------------------------------------------------------------------------


@dataclass
class MergeCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    retired: int = 0


def _merge(code_list: str, parsed: Parsed) -> MergeCounts:
    """Add the new codes and update the changed ones, with history; one transaction (the caller's)."""
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    model = MODELS[code_list]
    counts = MergeCounts()
    existing = {obj.code: obj for obj in model.objects.filter(code__in=[r.code for r in parsed.rows])}  # type: ignore[attr-defined]
    new: list[CodeDefinition] = []
    changed: list[CodeDefinition] = []
    fields: set[str] = set()
    for item in parsed.rows:
        obj = existing.get(item.code)
        if obj is None:
            new.append(
                model(
                    code=item.code,
                    **{k: ("" if v is None and k.endswith("description") else v) for k, v in item.values.items()},
                )
            )
            continue
        diff = {k: v for k, v in item.values.items() if getattr(obj, k) != v}
        if not diff:
            counts.unchanged += 1
            continue
        if "stop_date" in diff and diff["stop_date"] is not None and obj.stop_date is None:
            counts.retired += 1
        else:
            counts.changed += 1
        for key, value in diff.items():
            setattr(obj, key, value)
        fields |= set(diff)
        changed.append(obj)
    if new:
        bulk_create_with_history(new, model, batch_size=500)
        counts.added = len(new)
    if changed:
        bulk_update_with_history(changed, model, sorted(fields), batch_size=500)
    return counts


# --- Import records: create, upload, run ------------------------------------------------


def code_list_import_create(
    *, code_list: str, filename: str, path: str | Path, skip_refused: bool = False, created_by: Any = None
) -> CodeListImport:
    code_list = (code_list or "").strip().lower()
    if code_list not in MODELS:
        raise ValueError(f"the list must be carc, rarc or procedure, not {code_list!r}")
    return CodeListImport.objects.create(
        code_list=code_list,
        filename=Path(filename).name[:255],
        path=str(path),
        skip_refused=skip_refused,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )


def _safe_upload_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._") or "upload"
    return base[-120:]


@transaction.atomic
def code_list_import_upload(
    *, upload: UploadedFile, code_list: str, skip_refused: bool = False, created_by: Any = None
) -> CodeListImport:
    """Keep an uploaded file under MEDIA_ROOT/code_list_uploads/ and queue its import (after commit)."""
    directory = Path(settings.MEDIA_ROOT) / UPLOAD_DIR_NAME
    directory.mkdir(parents=True, exist_ok=True)
    original = upload.name or "upload"
    target = directory / f"{uuid.uuid4().hex[:12]}-{_safe_upload_name(original)}"
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    record = code_list_import_create(
        code_list=code_list, filename=original, path=target, skip_refused=skip_refused, created_by=created_by
    )
    # By name: ncci.tasks imports this module, never the reverse (registered in NcciConfig.ready).
    current_app.tasks["ncci.tasks.import_code_list_file"].delay_on_commit(record.pk)
    return record


def _claim(import_id: int) -> bool:
    """A conditional update, so two deliveries of the same task cannot both run it."""
    return (
        CodeListImport.objects.filter(pk=import_id, status=CodeListImport.Status.QUEUED).update(
            status=CodeListImport.Status.RUNNING, started_at=timezone.now(), error=""
        )
        == 1
    )


def _unreadable(exc: Exception) -> bool:
    if isinstance(exc, (zipfile.BadZipFile, csv.Error, EOFError, KeyError)) or (
        isinstance(exc, OSError) and not isinstance(exc, ConnectionError)
    ):
        return True
    return type(exc).__module__.startswith("openpyxl")


def _finish(record: CodeListImport, **values: Any) -> None:
    CodeListImport.objects.filter(pk=record.pk).update(finished_at=timezone.now(), **values)


def _refusal_summary(parsed: Parsed) -> str:
    first = parsed.refusals[0]
    more = len(parsed.refusals) - 1
    return (
        f"Row {first['row']}, column {first['column']}: {first['reason']}"
        + (f" (and {more} more refused row{'s' if more != 1 else ''}, listed below)" if more else "")
        + ". Nothing was imported: fix the file, or import the good rows anyway."
    )


def code_list_import_run(*, import_id: int) -> CodeListImport:
    """Claim and run one import; record its report (or why it was refused) on the row.

    Safe to call twice: the second call finds the row claimed or finished and does nothing.
    """
    if not _claim(import_id):
        return CodeListImport.objects.get(pk=import_id)
    record = CodeListImport.objects.get(pk=import_id)
    try:
        parsed = parse_code_list(Path(record.path), code_list=record.code_list)
    except CodeListRefused as exc:
        _finish(record, status=CodeListImport.Status.FAILED, error=str(exc))
        return CodeListImport.objects.get(pk=import_id)
    except Exception as exc:
        if not _unreadable(exc):
            logger.exception("Code list import %s failed", import_id)
            _finish(
                record,
                status=CodeListImport.Status.FAILED,
                error=f"The import stopped on an unexpected error; nothing was changed. {exc}"[:2000],
            )
            raise
        _finish(
            record,
            status=CodeListImport.Status.FAILED,
            error=f"{record.filename} could not be read as a spreadsheet ({exc}): nothing was imported.",
        )
        return CodeListImport.objects.get(pk=import_id)
    report: dict[str, Any] = {
        "rows_read": parsed.rows_read,
        "refused": len(parsed.refusals),
        "refusals": parsed.refusals[:REFUSALS_KEPT],
        "columns": parsed.columns,
    }
    if parsed.refusals and (not record.skip_refused or not parsed.rows):
        _finish(record, status=CodeListImport.Status.FAILED, error=_refusal_summary(parsed), **report)
        return CodeListImport.objects.get(pk=import_id)
    with transaction.atomic():
        counts = _merge(record.code_list, parsed)
        _finish(
            record,
            status=CodeListImport.Status.DONE,
            added=counts.added,
            changed=counts.changed,
            unchanged=counts.unchanged,
            retired=counts.retired,
            **report,
        )
        if record.code_list == "carc" and counts.added:
            transaction.on_commit(lambda: reference_data_changed.send(sender=Carc, table="codes"))
    _discard_upload(record)
    return CodeListImport.objects.get(pk=import_id)


def _discard_upload(record: CodeListImport) -> None:
    """An uploaded file is kept only until it is imported (a refused one stays for a look)."""
    if not record.path:
        return
    uploads = (Path(settings.MEDIA_ROOT) / UPLOAD_DIR_NAME).resolve()
    path = Path(record.path).resolve()
    if uploads in path.parents:
        path.unlink(missing_ok=True)
        CodeListImport.objects.filter(pk=record.pk).update(path="")


def code_list_file_import(
    *, code_list: str, path: str | Path, skip_refused: bool = False, created_by: Any = None
) -> CodeListImport:
    """Import one file now, in this process: create its record and run it."""
    path = Path(path)
    record = code_list_import_create(
        code_list=code_list, filename=path.name, path=path.resolve(), skip_refused=skip_refused, created_by=created_by
    )
    return code_list_import_run(import_id=record.pk)


def code_list_import_report_lines(record: CodeListImport) -> list[str]:
    """The report of one import, as the command prints it."""
    what = LIST_WORDS.get(record.code_list, record.code_list)
    lines = [f"{record.filename}: {what} list: {record.get_status_display().lower()}"]
    if record.status == CodeListImport.Status.DONE:
        lines.append(
            f"  rows read {record.rows_read:,}; added {record.added:,}; changed {record.changed:,}; "
            f"unchanged {record.unchanged:,}; retired (stop-dated) {record.retired:,}; refused {record.refused:,}"
        )
    elif record.error:
        lines.append(f"  {record.error}")
    for refusal in record.refusals:
        lines.append(f"  refused row {refusal['row']}, column {refusal['column']}: {refusal['reason']}")
    if record.refused > len(record.refusals):
        lines.append(f"  ... and {record.refused - len(record.refusals):,} more refused rows")
    return lines
