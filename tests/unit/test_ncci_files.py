"""Readers for the CMS NCCI quarterly files, checked against real CMS excerpts."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from ncci.demo.cms_files import write_synthetic_mue, write_synthetic_ptp_quarter
from ncci.files import (
    MueRow,
    NcciFileError,
    PtpRow,
    RejectedRow,
    SourceInfo,
    detect_source,
    iter_mue_rows,
    iter_ptp_rows,
    iter_rows_from_xlsx,
    open_ncci_sources,
    quarter_for_version,
    version_for_quarter,
)
from ncci.ptp import edit_in_force

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ncci"
PTP_EXCERPT = FIXTURES / "ptp_practitioner_ccipra-v322r0-f1_EXCERPT.txt"
MUE_EXCERPT = FIXTURES / "mue_practitioner_MCR_MUE_PractitionerServices_Eff_07-01-2026_EXCERPT.csv"

PREAMBLE = (
    "CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t\r\n"
    "Column1/Column2 Edits\t\t\t\t\t\t\r\n"
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\r\n"
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t\r\n"
    "\t\t\t\t*=no data\t1=allowed\t\r\n"
    "\t\t\t\t\t9=not applicable\t\r\n"
)
XLSX_PTP_HEADER = [
    "Column 1",
    "Column 2",
    "*=in existence prior to 1996",
    "Effective Date",
    "Deletion Date *=no data",
    "Modifier 0=not allowed 1=allowed 9=not applicable",
    "PTP Edit Rationale",
]


def _ptp_excerpt_rows() -> list[PtpRow | RejectedRow]:
    with open(PTP_EXCERPT, encoding="latin-1", newline="") as stream:
        return list(iter_ptp_rows(stream))


def _mue_excerpt_rows() -> list[MueRow | RejectedRow]:
    with open(MUE_EXCERPT, encoding="latin-1", newline="") as stream:
        return list(iter_mue_rows(stream))


def _edit(rows: list[PtpRow | RejectedRow], column1: str, column2: str) -> PtpRow:
    matches = [r for r in rows if isinstance(r, PtpRow) and (r.column1, r.column2) == (column1, column2)]
    assert len(matches) == 1
    return matches[0]


def _content(row: PtpRow) -> tuple[object, ...]:
    return (
        row.column1,
        row.column2,
        row.prior_1996,
        row.effective_date,
        row.deletion_date,
        row.modifier_indicator,
        row.rationale,
    )


# --- PTP excerpt ---------------------------------------------------------------------


def test_ptp_excerpt_yields_all_154_edits_and_nothing_rejected() -> None:
    rows = _ptp_excerpt_rows()

    assert len(rows) == 154
    assert all(isinstance(r, PtpRow) for r in rows)


def test_ptp_excerpt_first_and_last_rows_carry_their_physical_line_numbers() -> None:
    rows = _ptp_excerpt_rows()

    assert rows[0] == PtpRow(
        line_number=7,
        column1="0001A",
        column2="0591T",
        prior_1996=False,
        effective_date=date(2022, 1, 1),
        deletion_date=date(2023, 12, 31),
        modifier_indicator="1",
        rationale="CPT Manual or CMS manual coding instruction",
    )
    assert rows[-1] == PtpRow(
        line_number=160,
        column1="0001U",
        column2="81166",
        prior_1996=False,
        effective_date=date(2019, 1, 1),
        deletion_date=None,
        modifier_indicator="1",
        rationale="Misuse of Column Two code with Column One code",
    )


def test_star_deletion_date_reads_as_not_deleted() -> None:
    edit = _edit(_ptp_excerpt_rows(), "0001U", "81162")

    assert edit.deletion_date is None
    assert edit.effective_date == date(2018, 1, 1)


def test_indicator_9_edit_is_deleted_on_its_effective_date() -> None:
    edit = _edit(_ptp_excerpt_rows(), "0001A", "90473")

    assert edit.modifier_indicator == "9"
    assert edit.effective_date == edit.deletion_date == date(2022, 1, 1)


def test_excerpt_indicator_counts_match_the_file() -> None:
    rows = [r for r in _ptp_excerpt_rows() if isinstance(r, PtpRow)]

    counts = {i: sum(1 for r in rows if r.modifier_indicator == i) for i in "019"}

    assert counts == {"0": 9, "1": 139, "9": 6}


def test_prior_1996_star_sets_the_flag() -> None:
    lines = [PREAMBLE, "11000\t11001\t*\t19960101\t*\t1\tStandards of medical/surgical practice\r\n"]

    (row,) = list(iter_ptp_rows("".join(lines).splitlines(keepends=True)))

    assert isinstance(row, PtpRow)
    assert row.prior_1996 is True
    assert row.effective_date == date(1996, 1, 1)


def test_lines_without_line_ends_parse_too() -> None:
    lines = [*PREAMBLE.splitlines(), "17000\t11102\t\t20190101\t*\t1\tMutually exclusive procedures"]

    (row,) = list(iter_ptp_rows(lines))

    assert isinstance(row, PtpRow)
    assert (row.column1, row.column2, row.rationale) == ("17000", "11102", "Mutually exclusive procedures")


# --- bad rows and wrong files --------------------------------------------------------


def test_bad_rows_become_rejected_rows_with_line_numbers_and_reasons() -> None:
    body = [
        "0001A\t0591T\t\t20220101\t20231231\t1\tCPT Manual or CMS manual coding instruction",  # line 7
        "001A\t0591T\t\t20220101\t*\t1\tMutually exclusive procedures",  # 8: 4-char code
        "0001A\t0592T\t\t20221301\t*\t1\tMutually exclusive procedures",  # 9: month 13
        "",  # 10: blank, skipped
        "0001A\t0593T\t\t20220101\t*\t2\tMutually exclusive procedures",  # 11: indicator 2
        "0001A\t36591\t20220101",  # 12: too few columns
        "0001A\t36592\t\t20220101\t20211231\t1\tMutually exclusive procedures",  # 13: deleted before effective
        "0001A\t36593\t\t20220101\t2023-13-01\t1\tMutually exclusive procedures",  # 14: bad deletion date
        "0001A\t9047!\t\t20220101\t*\t1\tMutually exclusive procedures",  # 15: punctuation in code
        "0001A\t96160\t\t20220101\t*\t0\tMutually exclusive procedures",  # 16: fine
    ]
    text = PREAMBLE + "".join(line + "\r\n" for line in body)

    rows = list(iter_ptp_rows(io.StringIO(text, newline="")))

    rejected = {r.line_number: r for r in rows if isinstance(r, RejectedRow)}
    assert sorted(rejected) == [8, 9, 11, 12, 13, 14, 15]
    assert "column 1 code '001A'" in rejected[8].reason
    assert "effective date '20221301'" in rejected[9].reason
    assert "modifier indicator '2'" in rejected[11].reason
    assert "found 3" in rejected[12].reason
    assert "before effective date" in rejected[13].reason
    assert "deletion date '2023-13-01'" in rejected[14].reason
    assert "column 2 code '9047!'" in rejected[15].reason
    assert rejected[8].raw == body[1]
    assert [r.line_number for r in rows if isinstance(r, PtpRow)] == [7, 16]


def test_mue_csv_fed_to_the_ptp_reader_is_refused_as_not_ptp() -> None:
    with (
        open(MUE_EXCERPT, encoding="latin-1", newline="") as stream,
        pytest.raises(NcciFileError, match="is not a CMS PTP file: no 'Column 1' header"),
    ):
        list(iter_ptp_rows(stream, source_name=MUE_EXCERPT.name))


def test_random_text_is_refused_with_the_source_name() -> None:
    lines = [f"line {n}: nothing to see here\n" for n in range(100)]

    with pytest.raises(NcciFileError, match=r"^notes\.txt is not a CMS PTP file"):
        list(iter_ptp_rows(lines, source_name="notes.txt"))


def test_header_later_than_twenty_lines_is_refused() -> None:
    lines = ["notice\n"] * 20 + PREAMBLE.splitlines(keepends=True)

    with pytest.raises(NcciFileError):
        list(iter_ptp_rows(lines))


def test_ptp_file_fed_to_the_mue_reader_is_refused_as_not_mue() -> None:
    with (
        open(PTP_EXCERPT, encoding="latin-1", newline="") as stream,
        pytest.raises(NcciFileError, match="is not a CMS MUE file"),
    ):
        list(iter_mue_rows(stream))


def test_empty_mue_file_is_refused() -> None:
    with pytest.raises(NcciFileError):
        list(iter_mue_rows(io.StringIO("")))


# --- MUE excerpt ---------------------------------------------------------------------


def test_mue_excerpt_yields_44_rows_numbered_by_physical_line() -> None:
    rows = _mue_excerpt_rows()

    assert len(rows) == 44
    assert all(isinstance(r, MueRow) for r in rows)
    # 7 lines of AMA notice and a 2-line header come first.
    assert rows[0] == MueRow(
        line_number=10,
        code="0001U",
        mue_value=1,
        adjudication_indicator="2",
        adjudication_text="Date of Service Edit: Policy",
        rationale="Code Descriptor / CPT Instruction",
    )
    assert rows[-1].line_number == 53
    assert isinstance(rows[-1], MueRow) and rows[-1].code == "0041U"


def test_mue_adjudication_indicator_is_split_from_its_label() -> None:
    rows = {r.code: r for r in _mue_excerpt_rows() if isinstance(r, MueRow)}

    assert (rows["0009U"].mue_value, rows["0009U"].adjudication_indicator) == (2, "3")
    assert rows["0009U"].adjudication_text == "Date of Service Edit: Clinical"
    assert rows["0009U"].rationale == "Nature of Analyte"
    assert {r.adjudication_indicator for r in rows.values()} == {"2", "3"}


def test_bad_mue_rows_are_rejected_with_line_numbers() -> None:
    text = (
        '"notice\nsecond line",,,\n'
        '"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n'
        "J1100,10,1 Line Edit,Prescribing Information\n"  # line 5
        "J1101,ten,1 Line Edit,Prescribing Information\n"  # 6
        "J1102,1,4 Something,CMS Policy\n"  # 7
        ",,,\n"  # 8: empty record, skipped
        "J11,1,2 Date of Service Edit: Policy,CMS Policy\n"  # 9
    )

    rows = list(iter_mue_rows(io.StringIO(text, newline="")))

    assert [(type(r).__name__, r.line_number) for r in rows] == [
        ("MueRow", 5),
        ("RejectedRow", 6),
        ("RejectedRow", 7),
        ("RejectedRow", 9),
    ]
    first = rows[0]
    assert isinstance(first, MueRow)
    assert (first.adjudication_indicator, first.adjudication_text) == ("1", "Line Edit")


# --- zip and xlsx --------------------------------------------------------------------


def test_zip_streams_the_txt_member_and_ignores_the_pdf(tmp_path: Path) -> None:
    archive = tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(PTP_EXCERPT, "ccipra-v322r0-f1.TXT")
        zf.writestr("NCCI_PTP_readme.pdf", b"%PDF-1.4 not an edit file")

    sources = [(info, list(rows)) for info, rows in open_ncci_sources(archive)]

    assert len(sources) == 1
    info, rows = sources[0]
    assert info == SourceInfo("ptp", "practitioner", "2026Q3", "v322r0", 1, "ccipra-v322r0-f1.TXT")
    assert len(rows) == 154
    assert [_content(r) for r in rows if isinstance(r, PtpRow)] == [
        _content(r) for r in _ptp_excerpt_rows() if isinstance(r, PtpRow)
    ]


def test_zip_mue_member_takes_the_csv_over_the_xlsx(tmp_path: Path) -> None:
    archive = tmp_path / "medicare-ncci-2026-q3-practitioner-services-mue-table.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(MUE_EXCERPT, "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv")
        zf.writestr("MCR_MUE_PractitionerServices_Eff_07-01-2026.xlsx", b"not really a workbook")

    sources = [(info, list(rows)) for info, rows in open_ncci_sources(archive)]

    assert [(info.table, info.setting, info.quarter, len(rows)) for info, rows in sources] == [
        ("mue", "practitioner", "2026Q3", 44)
    ]


def _ptp_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["CPT only copyright 2025 American Medical Association.  All rights reserved."])
    sheet.append(XLSX_PTP_HEADER)
    for number, row in enumerate(r for r in _ptp_excerpt_rows() if isinstance(r, PtpRow)):
        effective: object
        # Exercise every shape a spreadsheet date takes: a real date, an int, a string.
        if number % 3 == 0:
            effective = datetime.combine(row.effective_date, datetime.min.time())
        elif number % 3 == 1:
            effective = int(row.effective_date.strftime("%Y%m%d"))
        else:
            effective = row.effective_date.strftime("%Y%m%d")
        deletion = "*" if row.deletion_date is None else int(row.deletion_date.strftime("%Y%m%d"))
        indicator = int(row.modifier_indicator)
        sheet.append(
            [row.column1, row.column2, "*" if row.prior_1996 else None, effective, deletion, indicator, row.rationale]
        )
    workbook.save(path)


def test_xlsx_parses_to_the_same_edits_as_the_txt(tmp_path: Path) -> None:
    path = tmp_path / "ccipra-v322r0-f1.xlsx"
    _ptp_workbook(path)

    sources = [(info, list(rows)) for info, rows in open_ncci_sources(path)]

    ((info, rows),) = sources
    assert (info.table, info.setting, info.quarter, info.part) == ("ptp", "practitioner", "2026Q3", 1)
    assert all(isinstance(r, PtpRow) for r in rows)
    assert [_content(r) for r in rows if isinstance(r, PtpRow)] == [
        _content(r) for r in _ptp_excerpt_rows() if isinstance(r, PtpRow)
    ]
    assert rows[0].line_number == 3  # sheet row numbers: notice, header, then data


def test_zip_with_only_an_xlsx_member_reads_the_xlsx(tmp_path: Path) -> None:
    workbook_path = tmp_path / "book.xlsx"
    _ptp_workbook(workbook_path)
    archive = tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(workbook_path, "ccipra-v322r0-f1.xlsx")
        zf.writestr("readme.pdf", b"%PDF-1.4")

    counts = [(info.filename, sum(1 for _ in rows)) for info, rows in open_ncci_sources(archive)]

    assert counts == [("ccipra-v322r0-f1.xlsx", 154)]


def test_iter_rows_from_xlsx_turns_cells_into_text(tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["0001A", datetime(2022, 1, 1), 20231231, 1.0, None])
    workbook.save(path)

    assert list(iter_rows_from_xlsx(path)) == [["0001A", "20220101", "20231231", "1", ""]]


def test_xlsx_code_stored_as_a_number_keeps_its_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "ccipra-v322r0-f1.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(XLSX_PTP_HEADER)
    sheet.append([100, 1999, None, 20220101, "*", 1, "Anesthesia service included in surgical procedure"])
    workbook.save(path)

    ((_info, rows),) = [(info, list(rows)) for info, rows in open_ncci_sources(path)]

    assert [(r.column1, r.column2) for r in rows if isinstance(r, PtpRow)] == [("00100", "01999")]


def test_member_with_a_plain_name_takes_its_identity_from_the_zip_name(tmp_path: Path) -> None:
    archive = tmp_path / "medicare-ncci-2026q2-hospital-ptp-edits-ccioph-v321r0-f2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(PTP_EXCERPT, "edits.txt")

    ((info, rows),) = [(info, list(rows)) for info, rows in open_ncci_sources(archive)]

    assert info == SourceInfo("ptp", "hospital", "2026Q2", "v321r0", 2, "edits.txt")
    assert len(rows) == 154


def test_zip_without_an_edit_file_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.pdf", b"%PDF-1.4")

    with pytest.raises(NcciFileError, match=r"holds no \.txt, \.csv or \.xlsx member"):
        list(open_ncci_sources(archive))


def test_unknown_file_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ccipra-v322r0-f1.pdf"
    path.write_bytes(b"%PDF-1.4")

    with pytest.raises(NcciFileError, match=r"expected a CMS \.zip, \.txt, \.csv or \.xlsx file"):
        list(open_ncci_sources(path))


def test_renamed_txt_is_recognised_from_its_header_when_the_name_gives_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "practitioner-edits.txt"
    path.write_bytes(PTP_EXCERPT.read_bytes())

    ((info, rows),) = [(info, list(rows)) for info, rows in open_ncci_sources(path)]

    assert (info.table, info.setting, info.quarter) == ("ptp", "practitioner", "")
    assert len(rows) == 154


# --- recognising files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("ccipra-v322r0-f1.TXT", ("ptp", "practitioner", "2026Q3", "v322r0", 1)),
        ("ccioph-v321r1-f4.txt", ("ptp", "hospital", "2026Q2", "v321r1", 4)),
        ("ccipra-v313r0-f2.TXT", ("ptp", "practitioner", "2025Q4", "v313r0", 2)),
        (
            "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip",
            ("ptp", "practitioner", "2026Q3", "v322r0", 1),
        ),
        (
            "downloads/medicare-ncci-2026q2-hospital-ptp-edits-ccioph-v321r0-f3.zip",
            ("ptp", "hospital", "2026Q2", "v321r0", 3),
        ),
        ("MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", ("mue", "practitioner", "2026Q3", "", None)),
        ("MCR_MUE_OutpatientHospitalServices_Eff_10-01-2026.csv", ("mue", "hospital", "2026Q4", "", None)),
        ("MCR_MUE_DMESupplierServices_Eff_10-01-2025.csv", ("mue", "dme", "2025Q4", "", None)),
        ("medicare-ncci-2026-q3-practitioner-services-mue-table.zip", ("mue", "practitioner", "2026Q3", "", None)),
        (
            "medicare-ncci-2026-q4-outpatient-hospital-services-mue-table.zip",
            ("mue", "hospital", "2026Q4", "", None),
        ),
        ("medicare-ncci-2026-q1-dme-supplier-services-mue-table.zip", ("mue", "dme", "2026Q1", "", None)),
    ],
)
def test_detect_source_reads_cms_file_names(filename: str, expected: tuple[object, ...]) -> None:
    info = detect_source(filename)

    assert (info.table, info.setting, info.quarter, info.version, info.part) == expected
    assert info.filename == filename.split("/")[-1]


def test_detect_source_falls_back_on_the_mue_header_for_the_setting() -> None:
    header = '"HCPCS/\nCPT Code",Outpatient Hospital Services MUE Values,MUE Adjudication Indicator,MUE Rationale'

    info = detect_source("upload.csv", header)

    assert (info.table, info.setting, info.quarter) == ("mue", "hospital", "")


def test_detect_source_refuses_a_ptp_header_without_a_setting() -> None:
    with pytest.raises(NcciFileError, match="neither its name nor its header says practitioner or hospital"):
        detect_source("upload.txt", PREAMBLE)


def test_detect_source_refuses_an_unrelated_file() -> None:
    with pytest.raises(NcciFileError, match="is not a recognised CMS NCCI file"):
        detect_source("claims-2026-07.csv", "claim_id,amount\n1,2\n")


@pytest.mark.parametrize(
    ("number", "quarter"),
    [(320, "2026Q1"), (322, "2026Q3"), (323, "2026Q4"), (330, "2027Q1"), (313, "2025Q4"), (301, "2024Q2")],
)
def test_version_number_is_year_minus_1994_dot_quarter(number: int, quarter: str) -> None:
    assert quarter_for_version(number) == quarter
    assert version_for_quarter(quarter) == f"v{number}r0"


# --- deletion-date boundary ----------------------------------------------------------


def test_edit_applies_from_its_effective_date_through_its_deletion_date() -> None:
    effective, deletion = date(2022, 1, 1), date(2023, 12, 31)

    assert not edit_in_force(effective, deletion, date(2021, 12, 31))
    assert edit_in_force(effective, deletion, date(2022, 1, 1))
    assert edit_in_force(effective, deletion, date(2023, 12, 31))
    assert not edit_in_force(effective, deletion, date(2024, 1, 1))


def test_edit_without_deletion_date_stays_in_force() -> None:
    assert edit_in_force(date(2018, 1, 1), None, date(2099, 12, 31))


def test_edit_deleted_on_its_effective_date_never_applies() -> None:
    day = date(2022, 1, 1)

    assert not edit_in_force(day, day, day)
    assert not edit_in_force(day, None, day, modifier_indicator="9")


# --- synthetic quarter ---------------------------------------------------------------


def _read_quarter(paths: list[Path]) -> dict[tuple[str, str, date], PtpRow]:
    edits: dict[tuple[str, str, date], PtpRow] = {}
    for path in paths:
        for _info, rows in open_ncci_sources(path):
            for row in rows:
                assert isinstance(row, PtpRow), row
                edits[(row.column1, row.column2, row.effective_date)] = row
    return edits


def test_synthetic_quarter_reads_back_with_the_requested_row_count(tmp_path: Path) -> None:
    paths = write_synthetic_ptp_quarter(tmp_path, rows=10_000, quarter="2026Q3", seed=3)

    assert [p.name for p in paths] == [f"ccipra-v322r0-f{k}.TXT" for k in range(1, 5)]
    infos = [info for path in paths for info, _rows in open_ncci_sources(path)]
    assert {(i.table, i.setting, i.quarter) for i in infos} == {("ptp", "practitioner", "2026Q3")}
    assert len(_read_quarter(paths)) == 10_000


def test_synthetic_quarter_matches_the_cms_layout(tmp_path: Path) -> None:
    paths = write_synthetic_ptp_quarter(tmp_path, rows=10_000, quarter="2026Q3", seed=3)
    raw = paths[0].read_bytes()
    excerpt = PTP_EXCERPT.read_bytes()

    assert raw[: len(PREAMBLE)] == excerpt[: len(PREAMBLE)] == PREAMBLE.encode("latin-1")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    pairs = [line.split(b"\t")[:2] for path in paths for line in path.read_bytes().splitlines()[6:]]
    assert pairs == sorted(pairs)
    assert len(set(map(tuple, pairs))) == len(pairs)
    # Parts split by column 1 range: no column 1 code spans two files.
    column1_by_part = [{line.split(b"\t")[0] for line in p.read_bytes().splitlines()[6:]} for p in paths]
    assert sum(len(s) for s in column1_by_part) == len(set().union(*column1_by_part))


def test_synthetic_quarter_has_the_cms_mix_of_deletions_and_indicators(tmp_path: Path) -> None:
    edits = list(_read_quarter(write_synthetic_ptp_quarter(tmp_path, rows=10_000, seed=1)).values())

    active = sum(1 for e in edits if e.deletion_date is None) / len(edits)
    indicators = {i: sum(1 for e in edits if e.modifier_indicator == i) for i in "019"}
    assert 0.65 < active < 0.75
    assert indicators["1"] > 0.9 * len(edits) and indicators["0"] > 0 and indicators["9"] > 0
    assert all(e.deletion_date == e.effective_date for e in edits if e.modifier_indicator == "9")
    assert all(e.deletion_date < date(2026, 7, 1) for e in edits if e.deletion_date is not None)


def test_synthetic_quarter_is_deterministic_by_seed(tmp_path: Path) -> None:
    def digest(directory: Path, seed: int) -> str:
        paths = write_synthetic_ptp_quarter(directory, rows=3_000, seed=seed)
        return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()

    assert digest(tmp_path / "a", 7) == digest(tmp_path / "b", 7)
    assert digest(tmp_path / "a", 7) != digest(tmp_path / "c", 8)


def test_next_synthetic_quarter_differs_from_its_base_by_the_changed_fraction(tmp_path: Path) -> None:
    base = _read_quarter(write_synthetic_ptp_quarter(tmp_path / "q3", rows=10_000, quarter="2026Q3", seed=0))
    following = _read_quarter(
        write_synthetic_ptp_quarter(
            tmp_path / "q4", rows=10_000, quarter="2026Q4", seed=9, changed_fraction=0.01, base_seed=0
        )
    )

    added = [key for key in following if key not in base]
    deleted_now = [key for key in base if key in following and base[key].deletion_date != following[key].deletion_date]

    def without_deletion(row: PtpRow) -> tuple[object, ...]:
        content = _content(row)
        return content[:4] + content[5:]

    other_changes = [key for key in base if without_deletion(base[key]) != without_deletion(following[key])]
    assert len(following) == 10_050
    assert all(key in following for key in base)
    assert (len(added), len(deleted_now), len(other_changes)) == (50, 50, 0)
    assert all(base[k].deletion_date is None and following[k].deletion_date == date(2026, 9, 30) for k in deleted_now)
    assert all(key[2] == date(2026, 10, 1) and following[key].deletion_date is None for key in added)
    assert not {(k[0], k[1]) for k in added} & {(k[0], k[1]) for k in base}


def test_synthetic_mue_reads_back_as_a_cms_mue_table(tmp_path: Path) -> None:
    path = write_synthetic_mue(tmp_path, rows=500, quarter="2026Q4", setting="dme")

    ((info, rows),) = [(info, list(rows)) for info, rows in open_ncci_sources(path)]

    assert path.name == "MCR_MUE_DMESupplierServices_Eff_10-01-2026.csv"
    assert (info.table, info.setting, info.quarter) == ("mue", "dme", "2026Q4")
    assert len(rows) == 500 and all(isinstance(r, MueRow) for r in rows)
    assert path.read_bytes().count("®".encode("latin-1")) == 1
