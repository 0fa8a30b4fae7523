"""Streaming readers for the CMS Medicare NCCI quarterly files (PTP and MUE).

Pure code: plain lines, cells and files in, dataclasses out; nothing here imports Django.
The services module turns the rows into database writes.

Layouts are described in ``tests/fixtures/ncci/LAYOUT.md`` and pinned by the real CMS
excerpts beside it. In short:

* PTP: ``ccipra-vNNNrR-fK.TXT`` (practitioner) / ``ccioph-...`` (hospital), latin-1,
  tab-delimited, CRLF, a 6-line preamble whose header is wrapped over 4 physical lines.
  The .xlsx twin puts the header on one row.
* MUE: ``MCR_MUE_<Setting>Services_Eff_MM-DD-YYYY.csv``, latin-1, real CSV quoting: record 1
  is a multi-line AMA notice, record 2 the header (with a newline inside its first cell).

Every reader streams: the practitioner PTP quarter is 2.6 M rows in four ~40 MB files, so
nothing here holds a whole file, and the TXT path is kept lean enough to read well over
300k rows/s.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Literal, cast

Table = Literal["ptp", "mue"]
SettingName = Literal["practitioner", "hospital", "dme"]

ENCODING = "latin-1"
# The real preamble is 6 lines; 20 leaves room for a longer notice without letting an
# unrelated file be scanned to the end before it is refused.
HEADER_SEARCH_LINES = 20
MUE_HEADER_SEARCH_RECORDS = 10


class NcciFileError(ValueError):
    """The file is not a CMS NCCI file this module can read (as opposed to one bad row)."""


# Not frozen: a frozen dataclass costs ~1.3 µs more per instance (object.__setattr__ per
# field), which is seconds on a 2.6 M-row quarter. Treat the rows as read-only anyway.
@dataclass(slots=True)
class PtpRow:
    line_number: int
    column1: str
    column2: str
    prior_1996: bool
    effective_date: date
    deletion_date: date | None
    modifier_indicator: str
    rationale: str


@dataclass(slots=True)
class MueRow:
    line_number: int
    code: str
    mue_value: int
    adjudication_indicator: str
    adjudication_text: str
    rationale: str


@dataclass(slots=True)
class RejectedRow:
    line_number: int
    reason: str
    raw: str


@dataclass(frozen=True, slots=True)
class SourceInfo:
    table: Table
    setting: SettingName
    quarter: str  # "2026Q3", or "" when neither name nor version says
    version: str  # "v322r0" for PTP files, "" for MUE
    part: int | None  # the fK of a PTP file
    filename: str


RowIterator = Iterator[PtpRow | MueRow | RejectedRow]

# ---------------------------------------------------------------------------------------
# Quarters and versions
# ---------------------------------------------------------------------------------------

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


def parse_quarter(quarter: str) -> tuple[int, int]:
    match = _QUARTER_RE.match(quarter.strip().upper())
    if match is None:
        raise ValueError(f"quarter must look like 2026Q3, not {quarter!r}")
    return int(match.group(1)), int(match.group(2))


def quarter_start(quarter: str) -> date:
    year, q = parse_quarter(quarter)
    return date(year, 3 * (q - 1) + 1, 1)


def previous_quarter(quarter: str) -> str:
    year, q = parse_quarter(quarter)
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def quarter_for_version(number: int) -> str:
    """``322`` -> ``"2026Q3"``.

    CMS numbers NCCI versions as year-1994 "." quarter-1: 32.0 is 2026 Q1 and 32.3 is
    2026 Q4, then 33.0 is 2027 Q1 (v313r0 pairs with the MUE file effective 10-01-2025).
    The last digit is therefore the quarter, not a running count; a digit above 3 does
    not name a quarter and gives "".
    """
    major, minor = divmod(number, 10)
    if minor > 3:
        return ""
    return f"{1994 + major}Q{minor + 1}"


def version_for_quarter(quarter: str, revision: int = 0) -> str:
    year, q = parse_quarter(quarter)
    return f"v{(year - 1994) * 10 + q - 1}r{revision}"


# When an edit applies (the deletion date is the last day; indicator 9 never applies; of
# overlapping rows the latest effective date wins) is ``ncci.ptp``'s rule, with its sources:
# this module reads the files, it does not judge them.


# ---------------------------------------------------------------------------------------
# Cell-level parsing shared by TXT, CSV and XLSX
# ---------------------------------------------------------------------------------------

# Few distinct dates exist in a quarter (CMS moves on quarter boundaries), so caching the
# parsed value turns ~2.6 M date constructions into dict lookups.
_date_cache: dict[str, date] = {}
_DATE_CACHE_LIMIT = 100_000
_ALTERNATE_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S")
# Rationale labels repeat on every row; sharing one string each keeps batches small.
_interned: dict[str, str] = {}


def _parse_date(text: str) -> date | None:
    cached = _date_cache.get(text)
    if cached is not None:
        return cached
    parsed: date | None = None
    if len(text) == 8 and text.isdigit():
        try:
            parsed = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    else:
        for fmt in _ALTERNATE_DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
    if parsed is not None and len(_date_cache) < _DATE_CACHE_LIMIT:
        _date_cache[text] = parsed
    return parsed


def _intern(text: str) -> str:
    """The shared copy of ``text`` stripped; ``text`` may still carry its line end."""
    shared = _interned.get(text)
    if shared is None:
        shared = text.strip()
        shared = _interned.setdefault(shared, shared)
        if len(_interned) < 1000:
            _interned[text] = shared
    return shared


def _is_code(code: str) -> bool:
    return len(code) == 5 and code.isalnum() and code.isascii()


# ~13k distinct codes fill millions of rows; remembering each raw spelling's verdict turns
# strip/upper/validate into one dict lookup on the hot path.
_code_cache: dict[str, str] = {}
_CODE_CACHE_LIMIT = 200_000
_INDICATORS = {"0": "0", "1": "1", "9": "9"}
# Real quarters have a few thousand distinct row tails; the cap bounds memory (~10 MB)
# should a file have many more.
_ptp_tail_cache: dict[str, tuple[bool, date, date | None, str, str]] = {}
_TAIL_CACHE_LIMIT = 50_000


def _normal_code(raw: str) -> str | None:
    code = _code_cache.get(raw)
    if code is not None:
        return code
    code = raw.strip().upper()
    if not _is_code(code):
        return None
    if len(_code_cache) < _CODE_CACHE_LIMIT:
        _code_cache[raw] = code
    return code


def _rejected(line_number: int, reason: str, raw: str) -> RejectedRow:
    return RejectedRow(line_number, reason, raw.rstrip("\r\n"))


def _parse_ptp_fields(fields: Sequence[str], line_number: int, raw: str) -> PtpRow | RejectedRow:
    # Each check tries the exact CMS spelling first and only strips on a miss: this runs
    # 2.6 M times per quarter.
    if len(fields) < 6:
        return _rejected(line_number, f"expected 7 tab-separated columns, found {len(fields)}", raw)
    column1 = _code_cache.get(fields[0]) or _normal_code(fields[0])
    if column1 is None:
        return _rejected(line_number, f"column 1 code {fields[0].strip()!r} is not 5 letters or digits", raw)
    column2 = _code_cache.get(fields[1]) or _normal_code(fields[1])
    if column2 is None:
        return _rejected(line_number, f"column 2 code {fields[1].strip()!r} is not 5 letters or digits", raw)
    flag = fields[2]
    if flag == "":
        prior_1996 = False
    elif flag == "*":
        prior_1996 = True
    else:
        flag = flag.strip()
        if flag not in ("", "*"):
            return _rejected(line_number, f"prior-1996 flag {flag!r} is neither '*' nor blank", raw)
        prior_1996 = flag == "*"
    effective = _date_cache.get(fields[3]) or _parse_date(fields[3].strip())
    if effective is None:
        return _rejected(line_number, f"effective date {fields[3].strip()!r} is not a YYYYMMDD date", raw)
    deletion_text = fields[4]
    deletion: date | None
    if deletion_text == "*":
        deletion = None
    else:
        deletion = _date_cache.get(deletion_text)
        if deletion is None:
            deletion_text = deletion_text.strip()
            if deletion_text == "*" or deletion_text == "":
                pass
            else:
                deletion = _parse_date(deletion_text)
                if deletion is None:
                    return _rejected(
                        line_number, f"deletion date {deletion_text!r} is neither '*' nor a YYYYMMDD date", raw
                    )
        if deletion is not None and deletion < effective:
            return _rejected(
                line_number,
                f"deletion date {deletion:%Y%m%d} is before effective date {effective:%Y%m%d}",
                raw,
            )
    indicator = _INDICATORS.get(fields[5]) or _INDICATORS.get(fields[5].strip())
    if indicator is None:
        return _rejected(line_number, f"modifier indicator {fields[5].strip()!r} is not 0, 1 or 9", raw)
    rationale = (_interned.get(fields[6]) or _intern(fields[6])) if len(fields) > 6 else ""
    return PtpRow(line_number, column1, column2, prior_1996, effective, deletion, indicator, rationale)


def _parse_mue_fields(fields: Sequence[str], line_number: int, raw: str) -> MueRow | RejectedRow:
    if len(fields) < 3:
        return RejectedRow(line_number, f"expected 4 comma-separated columns, found {len(fields)}", raw)
    code = fields[0].strip().upper()
    if not _is_code(code):
        return RejectedRow(line_number, f"HCPCS/CPT code {code!r} is not 5 letters or digits", raw)
    value_text = fields[1].strip()
    if not value_text.isdigit():
        return RejectedRow(line_number, f"MUE value {value_text!r} is not a whole number of units", raw)
    # The indicator and its label share a cell: "2 Date of Service Edit: Policy".
    indicator_cell = fields[2].strip()
    indicator = indicator_cell[:1]
    if indicator not in ("1", "2", "3") or (len(indicator_cell) > 1 and not indicator_cell[1].isspace()):
        return RejectedRow(
            line_number, f"MUE adjudication indicator {indicator_cell!r} does not start with 1, 2 or 3", raw
        )
    text = _intern(indicator_cell[1:].strip())
    rationale = _intern(fields[3].strip()) if len(fields) > 3 else ""
    return MueRow(line_number, code, int(value_text), indicator, text, rationale)


def _cell_text(value: object) -> str:
    """One spreadsheet cell as the text the TXT/CSV twin would carry."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y%m%d")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------
# PTP
# ---------------------------------------------------------------------------------------


def _not_ptp(source_name: str) -> NcciFileError:
    return NcciFileError(
        f"{source_name} is not a CMS PTP file: no 'Column 1' header in its first {HEADER_SEARCH_LINES} lines"
    )


def _is_ptp_header(first_cell: str) -> bool:
    # Exact match: the preamble's "Column1/Column2 Edits" line must not count.
    return first_cell.strip().lower() == "column 1"


def _iter_ptp_records(
    records: Iterator[tuple[int, list[str], str]], source_name: str
) -> Iterator[PtpRow | RejectedRow]:
    """Rows from (line number, cells, raw text) records, preamble included."""
    for seen, (_line_number, cells, _raw) in enumerate(records, 1):
        if cells and _is_ptp_header(cells[0]):
            break
        if seen >= HEADER_SEARCH_LINES:
            raise _not_ptp(source_name)
    else:
        raise _not_ptp(source_name)
    in_header = True
    for line_number, cells, raw in records:
        if in_header:
            # The TXT header wraps onto lines whose first cell is blank.
            if not cells or not cells[0].strip():
                continue
            in_header = False
        if not raw.strip():
            continue
        yield _parse_ptp_fields(cells, line_number, raw)


def iter_ptp_rows(
    lines: Iterable[str], *, start_line: int = 1, source_name: str = "input"
) -> Iterator[PtpRow | RejectedRow]:
    """Parse a CMS PTP tab-delimited TXT file given as lines (with or without line ends).

    Raises NcciFileError (on first iteration) when the 'Column 1' header is missing.
    This is the hot path (millions of rows), so it loops over lines directly instead of
    going through the record generator the .xlsx path shares.
    """
    numbered = zip(itertools.count(start_line), lines)
    for seen, (_line_number, line) in enumerate(numbered, 1):
        if _is_ptp_header(line.split("\t", 1)[0]):
            break
        if seen >= HEADER_SEARCH_LINES:
            raise _not_ptp(source_name)
    else:
        raise _not_ptp(source_name)
    in_header = True
    codes = _code_cache
    tails = _ptp_tail_cache
    for line_number, line in numbered:
        # Fast path: a row is two codes and a "tail" (flag, dates, indicator, rationale,
        # line end) drawn from a few thousand distinct spellings, so a tail seen before is
        # one dict lookup instead of five field checks. Anything new or odd takes the full
        # parser, which also feeds the caches.
        parts = line.split("\t", 2)
        if not in_header and len(parts) == 3:
            column1 = codes.get(parts[0])
            column2 = codes.get(parts[1])
            tail = tails.get(parts[2])
            if column1 is not None and column2 is not None and tail is not None:
                yield PtpRow(line_number, column1, column2, tail[0], tail[1], tail[2], tail[3], tail[4])
                continue
        fields = line.split("\t")
        if in_header or len(fields) < 6:
            if not line.strip():
                continue
            if in_header:
                # The TXT header wraps onto lines whose first cell is blank.
                if not fields[0].strip():
                    continue
                in_header = False
        row = _parse_ptp_fields(fields, line_number, line)
        if type(row) is PtpRow and len(parts) == 3 and len(tails) < _TAIL_CACHE_LIMIT:
            tails[parts[2]] = (
                row.prior_1996,
                row.effective_date,
                row.deletion_date,
                row.modifier_indicator,
                row.rationale,
            )
        yield row


def _code_cells_text(values: Sequence[object], code_columns: int) -> list[str]:
    # A spreadsheet that stored 00100 as a number shows 100; codes are always 5 wide.
    cells = [_cell_text(v) for v in values]
    for index in range(min(code_columns, len(values))):
        value = values[index]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99_999:
            cells[index] = f"{value:05d}"
    return cells


def iter_ptp_cells(rows: Iterable[Sequence[object]], *, source_name: str = "input") -> Iterator[PtpRow | RejectedRow]:
    """Parse PTP rows given as cell lists (an .xlsx sheet); line numbers are row numbers."""

    def records() -> Iterator[tuple[int, list[str], str]]:
        for row_number, values in enumerate(rows, 1):
            cells = _code_cells_text(values, 2)
            while cells and not cells[-1].strip():
                cells.pop()
            yield row_number, cells, "\t".join(cells)

    return _iter_ptp_records(records(), source_name)


# ---------------------------------------------------------------------------------------
# MUE
# ---------------------------------------------------------------------------------------


def _is_mue_header(cells: Sequence[str]) -> bool:
    if len(cells) < 3:
        return False
    first = " ".join(cells[0].split()).upper()
    return "HCPCS" in first and "CPT" in first and "MUE" in cells[1].upper()


def _iter_mue_records(
    records: Iterator[tuple[int, list[str], str]], source_name: str
) -> Iterator[MueRow | RejectedRow]:
    for index, (_line_number, cells, _raw) in enumerate(records):
        if _is_mue_header(cells):
            break
        if index + 1 >= MUE_HEADER_SEARCH_RECORDS:
            raise _not_mue(source_name)
    else:
        raise _not_mue(source_name)
    for line_number, cells, raw in records:
        if not any(cell.strip() for cell in cells):
            continue
        yield _parse_mue_fields(cells, line_number, raw)


def _not_mue(source_name: str) -> NcciFileError:
    return NcciFileError(
        f"{source_name} is not a CMS MUE file: no 'HCPCS/CPT Code' header in its first "
        f"{MUE_HEADER_SEARCH_RECORDS} records"
    )


def iter_mue_rows(text_stream: Iterable[str], *, source_name: str = "input") -> Iterator[MueRow | RejectedRow]:
    """Parse a CMS MUE CSV. ``line_number`` is the physical line the record ends on.

    Open files with ``newline=""`` (as the csv module asks) so quoted newlines survive.
    """
    reader = csv.reader(text_stream)

    def records() -> Iterator[tuple[int, list[str], str]]:
        for cells in reader:
            yield reader.line_num, cells, ",".join(cells)

    return _iter_mue_records(records(), source_name)


def iter_mue_cells(rows: Iterable[Sequence[object]], *, source_name: str = "input") -> Iterator[MueRow | RejectedRow]:
    """Parse MUE rows given as cell lists (an .xlsx sheet); line numbers are row numbers."""

    def records() -> Iterator[tuple[int, list[str], str]]:
        for row_number, values in enumerate(rows, 1):
            cells = _code_cells_text(values, 1)
            yield row_number, cells, ",".join(cells)

    return _iter_mue_records(records(), source_name)


# ---------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------


def _iter_xlsx_values(path_or_file: str | Path | IO[bytes]) -> Iterator[tuple[object, ...]]:
    import openpyxl  # only the xlsx path needs it; keeps the TXT/CSV import light

    workbook = openpyxl.load_workbook(path_or_file, read_only=True, data_only=True)
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def iter_rows_from_xlsx(path_or_file: str | Path | IO[bytes]) -> Iterator[list[str]]:
    """Cells of the first worksheet, row by row, as text (dates as YYYYMMDD)."""
    for values in _iter_xlsx_values(path_or_file):
        yield [_cell_text(v) for v in values]


# ---------------------------------------------------------------------------------------
# Recognising a file
# ---------------------------------------------------------------------------------------

_PTP_NAME_RE = re.compile(r"cci(pra|oph)-v(\d{3})r(\d+)(?:-f(\d+))?")
_MUE_NAME_RE = re.compile(r"mcr_mue_(practitioner|outpatienthospital|dmesupplier)services_eff_(\d{2})-(\d{2})-(\d{4})")
_NAME_QUARTER_RE = re.compile(r"(?<!\d)(\d{4})-?q([1-4])(?![0-9])")
_PTP_SETTINGS: dict[str, SettingName] = {"pra": "practitioner", "oph": "hospital"}
_MUE_SETTINGS: dict[str, SettingName] = {
    "practitioner": "practitioner",
    "outpatienthospital": "hospital",
    "dmesupplier": "dme",
}


def _setting_from_words(text: str) -> SettingName | None:
    text = text.lower()
    if "practitioner" in text:
        return "practitioner"
    if "hospital" in text or "outpatient" in text:
        return "hospital"
    if "dme" in text or "supplier" in text:
        return "dme"
    return None


def detect_source(filename: str, header_text: str = "") -> SourceInfo:
    """Which table, setting and quarter a CMS NCCI file holds, from its name or header.

    The name wins (it carries the quarter); the header is the fallback for renamed files.
    """
    basename = re.split(r"[\\/]", filename)[-1]
    name = basename.lower()

    ptp = _PTP_NAME_RE.search(name)
    if ptp is not None:
        number = int(ptp.group(2))
        named_quarter = _NAME_QUARTER_RE.search(name)
        quarter = f"{named_quarter.group(1)}Q{named_quarter.group(2)}" if named_quarter else quarter_for_version(number)
        return SourceInfo(
            table="ptp",
            setting=_PTP_SETTINGS[ptp.group(1)],
            quarter=quarter,
            version=f"v{ptp.group(2)}r{ptp.group(3)}",
            part=int(ptp.group(4)) if ptp.group(4) else None,
            filename=basename,
        )

    mue = _MUE_NAME_RE.search(name)
    if mue is not None:
        month = int(mue.group(2))
        quarter = f"{mue.group(4)}Q{(month - 1) // 3 + 1}" if 1 <= month <= 12 else ""
        return SourceInfo("mue", _MUE_SETTINGS[mue.group(1)], quarter, "", None, basename)

    named_quarter = _NAME_QUARTER_RE.search(name)
    quarter = f"{named_quarter.group(1)}Q{named_quarter.group(2)}" if named_quarter else ""
    named_setting = _setting_from_words(name)
    if "mue" in name and named_setting is not None:
        return SourceInfo("mue", named_setting, quarter, "", None, basename)
    if "ptp" in name and named_setting in ("practitioner", "hospital"):
        return SourceInfo("ptp", named_setting, quarter, "", None, basename)

    header = " ".join(header_text.split())
    if "MUE Values" in header or "MUE Adjudication Indicator" in header:
        # The second header cell names the table: "Practitioner Services MUE Values".
        before_values = header.split("MUE Values", 1)[0][-60:]
        setting = _setting_from_words(before_values) or named_setting
        if setting is None:
            raise NcciFileError(f"{basename} looks like an MUE file but its header names no setting")
        return SourceInfo("mue", setting, quarter, "", None, basename)
    if "Column1/Column2 Edits" in header or ("Column 1" in header and "Column 2" in header):
        # The PTP header is the same for both settings, and mixing the two tables would
        # corrupt both, so guessing is not an option.
        if named_setting not in ("practitioner", "hospital"):
            raise NcciFileError(
                f"{basename} is a PTP file but neither its name nor its header says practitioner or "
                "hospital; keep the CMS name (ccipra-... or ccioph-...)"
            )
        return SourceInfo("ptp", named_setting, quarter, "", None, basename)

    raise NcciFileError(
        f"{basename} is not a recognised CMS NCCI file: its name is not a CMS PTP/MUE name and its "
        "header has neither 'Column1/Column2 Edits' nor 'MUE Values'"
    )


# ---------------------------------------------------------------------------------------
# Opening files and archives
# ---------------------------------------------------------------------------------------

_TEXT_SUFFIXES = (".txt", ".csv")


def _text_source(stream: IO[str], filename: str, fallback: SourceInfo | None) -> tuple[SourceInfo, RowIterator]:
    head = list(itertools.islice(stream, HEADER_SEARCH_LINES))
    info = _identify(filename, "".join(head), fallback)
    lines = itertools.chain(head, stream)
    rows: RowIterator
    if info.table == "ptp":
        rows = iter_ptp_rows(lines, source_name=info.filename)
    else:
        rows = iter_mue_rows(lines, source_name=info.filename)
    return info, rows


def _xlsx_source(
    path_or_file: str | Path | IO[bytes], filename: str, fallback: SourceInfo | None
) -> tuple[SourceInfo, RowIterator]:
    # Raw cell values, not text, so the parsers can tell a numeric code cell (to re-pad).
    cell_rows = _iter_xlsx_values(path_or_file)
    try:
        head = list(itertools.islice(cell_rows, HEADER_SEARCH_LINES))
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError) for a damaged workbook
        raise NcciFileError(
            f"{filename} is not a readable .xlsx workbook ({type(exc).__name__}: {exc}); save it again from Excel"
        ) from exc
    header_text = "\n".join("\t".join(_cell_text(v) for v in values) for values in head)
    info = _identify(filename, header_text, fallback)
    chained = itertools.chain(head, cell_rows)
    parse: Callable[..., Iterator[PtpRow | RejectedRow]] | Callable[..., Iterator[MueRow | RejectedRow]]
    parse = iter_ptp_cells if info.table == "ptp" else iter_mue_cells
    return info, cast(RowIterator, parse(chained, source_name=info.filename))


def _identify(filename: str, header_text: str, fallback: SourceInfo | None) -> SourceInfo:
    try:
        return _merge(detect_source(filename, header_text), fallback)
    except NcciFileError:
        if fallback is None:
            raise
        # A member with a non-CMS name inside a CMS-named zip: the zip name speaks for it.
        # Should its content be the other table, the row reader refuses it.
        return replace(fallback, filename=re.split(r"[\\/]", filename)[-1])


def _merge(info: SourceInfo, fallback: SourceInfo | None) -> SourceInfo:
    """Fill what a zip member's own name leaves out (usually the quarter) from the zip name."""
    if fallback is None or fallback.table != info.table:
        return info
    return SourceInfo(
        table=info.table,
        setting=info.setting,
        quarter=info.quarter or fallback.quarter,
        version=info.version or fallback.version,
        part=info.part if info.part is not None else fallback.part,
        filename=info.filename,
    )


def _try_detect(filename: str) -> SourceInfo | None:
    try:
        return detect_source(filename)
    except NcciFileError:
        return None


def open_ncci_sources(path: str | Path) -> Iterator[tuple[SourceInfo, RowIterator]]:
    """Yield (source, rows) for a CMS .zip, .txt/.TXT, .csv or .xlsx file.

    Rows stream straight from the file (from inside the zip, without extracting it).
    Consume each source's rows before asking for the next source: the file behind a
    source is closed when this generator moves on.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        yield from _zip_sources(path)
    elif suffix in _TEXT_SUFFIXES:
        with open(path, encoding=ENCODING, newline="") as stream:
            yield _text_source(stream, path.name, None)
    elif suffix == ".xlsx":
        yield _xlsx_source(path, path.name, None)
    else:
        raise NcciFileError(f"{path.name}: expected a CMS .zip, .txt, .csv or .xlsx file")


def _zip_sources(path: Path) -> Iterator[tuple[SourceInfo, RowIterator]]:
    from_zip_name = _try_detect(path.name)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise NcciFileError(f"{path.name} is not a readable zip archive: {exc}") from exc
    with archive:
        members = [
            info for info in archive.infolist() if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
        text_members = [m for m in members if m.filename.lower().endswith(_TEXT_SUFFIXES)]
        # CMS ships the same rows as TXT/CSV and XLSX; the text twin is faster and exact.
        chosen = text_members or [m for m in members if m.filename.lower().endswith(".xlsx")]
        if not chosen:
            raise NcciFileError(f"{path.name} holds no .txt, .csv or .xlsx member")
        for member in chosen:
            if member.filename.lower().endswith(_TEXT_SUFFIXES):
                with archive.open(member) as raw, io.TextIOWrapper(raw, encoding=ENCODING, newline="") as stream:
                    yield _text_source(stream, member.filename, from_zip_name)
            else:
                # openpyxl seeks around inside the xlsx (itself a zip); seeking in a
                # compressed zip member re-inflates from the start, so spool it to disk.
                with archive.open(member) as raw, tempfile.TemporaryFile() as spooled:
                    shutil.copyfileobj(raw, spooled, 1 << 20)
                    spooled.seek(0)
                    yield _xlsx_source(spooled, member.filename, from_zip_name)


def deletion_date_for(quarter: str) -> date:
    """The deletion date CMS gives an edit dropped in ``quarter``: the day before it starts."""
    return quarter_start(quarter) - timedelta(days=1)
