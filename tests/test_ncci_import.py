"""Importing CMS NCCI files: idempotence, next quarters, rejects, refusals, formats, the
command, the task's claim, and the demo tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ncci.models import Mue, NcciImport, ProcedureCode, PtpEdit
from ncci.services import ncci_demo_load, ncci_file_import, ncci_import_create
from ncci.signals import reference_data_changed
from ncci.tasks import import_ncci_file

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "ncci"
PTP_EXCERPT = FIXTURES / "ptp_practitioner_ccipra-v322r0-f1_EXCERPT.txt"
MUE_EXCERPT = FIXTURES / "mue_practitioner_MCR_MUE_PractitionerServices_Eff_07-01-2026_EXCERPT.csv"

PREAMBLE = (
    "CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t",
    "Column1/Column2 Edits\t\t\t\t\t\t",
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
    "\t\t\t\t*=no data\t1=allowed\t",
    "\t\t\t\t\t9=not applicable\t",
)
RATIONALE = "Misuse of Column Two code with Column One code"
# Rows as CMS writes them: column 1, column 2, prior-1996 flag, effective, deletion, indicator.
BASE = [
    ("11042", "97597", "", "20120101", "*", "1"),
    ("17000", "11102", "", "20190101", "*", "1"),
    ("29881", "29875", "", "20120101", "*", "1"),
    ("64483", "77003", "", "20110101", "*", "0"),
]


def write_ptp(path: Path, rows, *, preamble=PREAMBLE) -> Path:
    lines = list(preamble) + ["\t".join([*row, RATIONALE]) if len(row) == 6 else row for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return path


def write_mue(path: Path, rows, title: str = "Practitioner Services MUE Values") -> Path:
    with path.open("w", encoding="latin-1", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["Current Procedural Terminology (CPT) codes ... copyright 2025 AMA.\n\nAll rights reserved.", "", "", ""]
        )
        writer.writerow(["HCPCS/\nCPT Code", title, "MUE Adjudication Indicator", "MUE Rationale"])
        writer.writerows(rows)
    return path


def edits() -> dict[tuple[str, str], PtpEdit]:
    return {(e.column1, e.column2): e for e in PtpEdit.objects.all()}


# ---------------------------------------------------------------------------------------
# Idempotence and quarters
# ---------------------------------------------------------------------------------------


def test_first_import_of_the_real_excerpt_adds_every_row_and_records_the_report():
    record = ncci_file_import(path=PTP_EXCERPT)
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.table, record.setting, record.quarter) == ("ptp", "practitioner", "2026Q3")
    assert (record.rows_read, record.added, record.changed, record.unchanged, record.rejected) == (154, 154, 0, 0, 0)
    assert PtpEdit.objects.count() == 154
    first = PtpEdit.objects.get(column1="0001A", column2="0591T")
    assert first.effective_date == dt.date(2022, 1, 1)
    assert first.deletion_date == dt.date(2023, 12, 31)
    assert first.quarter == "2026Q3"
    assert first.source_file == PTP_EXCERPT.name
    assert record.finished_at is not None and record.sources == [PTP_EXCERPT.name]
    # The progress bar's estimate comes from the file size: near the real count.
    assert 100 < record.rows_expected < 250


def test_importing_the_same_quarter_twice_changes_nothing():
    ncci_file_import(path=PTP_EXCERPT)
    before = list(PtpEdit.objects.order_by("pk").values())
    again = ncci_file_import(path=PTP_EXCERPT)
    assert again.status == NcciImport.Status.DONE
    assert (again.added, again.changed, again.unchanged) == (0, 0, 154)
    assert list(PtpEdit.objects.order_by("pk").values()) == before
    assert NcciImport.objects.count() == 2


def test_the_next_quarter_records_deletion_dates_adds_new_edits_and_keeps_history(tmp_path):
    write_ptp(tmp_path / "ccipra-v320r0-f1.TXT", BASE)
    first = ncci_file_import(path=tmp_path / "ccipra-v320r0-f1.TXT")
    assert (first.quarter, first.added) == ("2026Q1", 4)
    next_quarter = [
        ("11042", "97597", "", "20120101", "*", "1"),
        ("17000", "11102", "", "20190101", "*", "1"),
        ("29881", "29875", "", "20120101", "20260331", "1"),  # deleted since
        ("29881", "29877", "", "20260401", "*", "1"),  # new
        ("64483", "77003", "", "20110101", "*", "0"),
    ]
    write_ptp(tmp_path / "ccipra-v321r0-f1.TXT", next_quarter)
    record = ncci_file_import(path=tmp_path / "ccipra-v321r0-f1.TXT")
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.quarter, record.added, record.changed, record.unchanged, record.rejected) == ("2026Q2", 1, 1, 3, 0)
    stored = edits()
    assert stored[("29881", "29875")].deletion_date == dt.date(2026, 3, 31)
    assert stored[("29881", "29875")].quarter == "2026Q2"
    assert stored[("29881", "29877")].effective_date == dt.date(2026, 4, 1)
    assert stored[("17000", "11102")].quarter == "2026Q1"  # unchanged rows are not rewritten
    assert PtpEdit.objects.count() == 5


def test_a_reinstated_pair_with_a_new_effective_date_is_a_new_row(tmp_path):
    write_ptp(tmp_path / "ccipra-v320r0-f1.TXT", [("17000", "11102", "", "20190101", "20231231", "1")])
    ncci_file_import(path=tmp_path / "ccipra-v320r0-f1.TXT")
    write_ptp(
        tmp_path / "ccipra-v321r0-f1.TXT",
        [("17000", "11102", "", "20190101", "20231231", "1"), ("17000", "11102", "", "20260401", "*", "1")],
    )
    record = ncci_file_import(path=tmp_path / "ccipra-v321r0-f1.TXT")
    assert (record.added, record.unchanged) == (1, 1)
    assert PtpEdit.objects.filter(column1="17000", column2="11102").count() == 2


def test_an_older_quarter_does_not_undo_a_newer_deletion(tmp_path):
    write_ptp(tmp_path / "ccipra-v321r0-f1.TXT", [("29881", "29875", "", "20120101", "20260331", "1")])
    ncci_file_import(path=tmp_path / "ccipra-v321r0-f1.TXT")
    write_ptp(tmp_path / "ccipra-v320r0-f1.TXT", [("29881", "29875", "", "20120101", "*", "1")])
    record = ncci_file_import(path=tmp_path / "ccipra-v320r0-f1.TXT")
    assert record.status == NcciImport.Status.DONE
    assert record.changed == 0
    assert PtpEdit.objects.get().deletion_date == dt.date(2026, 3, 31)


def test_bulk_imports_write_no_history_rows():
    ncci_file_import(path=PTP_EXCERPT)
    ncci_file_import(path=MUE_EXCERPT)
    assert PtpEdit.history.count() == 0
    assert Mue.history.count() == 0


def test_the_mue_next_quarter_reports_changed_and_added_codes_against_the_previous_one(tmp_path):
    rows = [
        ("17000", 1, "2 Date of Service Edit: Policy", "Code Descriptor / CPT Instruction"),
        ("17003", 13, "2 Date of Service Edit: Policy", "Code Descriptor / CPT Instruction"),
    ]
    first = ncci_file_import(path=write_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", rows))
    assert (first.table, first.setting, first.quarter, first.added) == ("mue", "practitioner", "2026Q1", 2)
    again = ncci_file_import(path=tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv")
    assert (again.added, again.changed, again.unchanged) == (0, 0, 2)
    next_rows = [
        ("17000", 1, "2 Date of Service Edit: Policy", "Code Descriptor / CPT Instruction"),
        ("17003", 14, "2 Date of Service Edit: Policy", "Code Descriptor / CPT Instruction"),
        ("11102", 1, "2 Date of Service Edit: Policy", "Code Descriptor / CPT Instruction"),
    ]
    record = ncci_file_import(path=write_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv", next_rows))
    assert (record.quarter, record.added, record.changed, record.unchanged) == ("2026Q2", 1, 1, 1)
    assert Mue.objects.filter(code="17003").count() == 2  # each quarter's table is kept
    assert Mue.objects.get(code="17003", quarter="2026Q2").effective_date == dt.date(2026, 4, 1)


# ---------------------------------------------------------------------------------------
# Rejects and refusals
# ---------------------------------------------------------------------------------------


def test_rejected_rows_are_reported_with_their_line_numbers_and_why(tmp_path):
    rows = [
        ("11042", "97597", "", "20120101", "*", "1"),  # line 7
        ("1704", "11102", "", "20190101", "*", "1"),  # line 8: bad code
        ("17000", "11102", "", "2019-13-45", "*", "1"),  # line 9: bad date
        ("29881", "29875", "", "20120101", "*", "5"),  # line 10: bad indicator
        ("64483", "77003", "", "20110101", "*", "0"),  # line 11
        ("64483", "77003", "", "20110101", "*", "0"),  # line 12: duplicate
        ("64484", "77003", "", "20110101", "*", "0"),
        ("93306", "93308", "", "20110101", "*", "0"),
        ("97597", "97598", "", "20110101", "*", "1"),
    ]
    record = ncci_file_import(path=write_ptp(tmp_path / "ccipra-v322r0-f1.TXT", rows))
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.rows_read, record.added, record.rejected) == (9, 5, 4)
    assert [(r["line"], r["reason"].split(" ")[0]) for r in record.rejects] == [
        (8, "column"),
        (9, "effective"),
        (10, "modifier"),
        (12, "duplicate"),
    ]
    assert "is not 5 letters or digits" in record.rejects[0]["reason"]
    assert record.rejects[3]["reason"].startswith("duplicate of line 11")


def test_a_file_that_is_not_a_ptp_file_is_refused_and_changes_nothing(tmp_path):
    ncci_file_import(path=PTP_EXCERPT)
    before = list(PtpEdit.objects.order_by("pk").values())
    fake = tmp_path / "ccipra-v322r0-f2.TXT"
    fake.write_text("Patient,Amount\nSmith,10\nJones,20\n", encoding="latin-1")
    record = ncci_file_import(path=fake)
    assert record.status == NcciImport.Status.FAILED
    assert "is not a CMS PTP file" in record.error
    assert list(PtpEdit.objects.order_by("pk").values()) == before


def test_an_mue_file_given_as_ptp_is_refused(tmp_path):
    record = ncci_file_import(path=MUE_EXCERPT, table="ptp")
    assert record.status == NcciImport.Status.FAILED
    assert "is a MUE (medically unlikely edit) file, not the PTP" in record.error
    assert not Mue.objects.exists() and not PtpEdit.objects.exists()


def test_a_file_with_mostly_rejected_rows_is_refused_whole(tmp_path):
    rows = [("11042", "97597", "", "20120101", "*", "1")] + [("XX", "YY", "", "x", "*", "7")] * 3
    record = ncci_file_import(path=write_ptp(tmp_path / "ccipra-v322r0-f1.TXT", rows))
    assert record.status == NcciImport.Status.FAILED
    assert "3 of 4 rows" in record.error
    assert not PtpEdit.objects.exists()


def test_a_setting_that_contradicts_the_file_name_is_refused():
    record = ncci_file_import(path=PTP_EXCERPT, setting="hospital")
    assert record.status == NcciImport.Status.FAILED
    assert "holds the practitioner table, not the hospital one" in record.error
    assert not PtpEdit.objects.exists()


def test_a_file_whose_quarter_cannot_be_told_is_refused_until_given(tmp_path):
    path = write_ptp(tmp_path / "practitioner-ptp-edits.txt", BASE)
    refused = ncci_file_import(path=path)
    assert refused.status == NcciImport.Status.FAILED
    assert "--quarter" in refused.error
    record = ncci_file_import(path=path, quarter="2026q1")
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.setting, record.quarter, record.added) == ("practitioner", "2026Q1", 4)


def test_a_renamed_file_imports_with_table_setting_and_quarter_given(tmp_path):
    path = write_ptp(tmp_path / "edits.txt", BASE)
    assert ncci_file_import(path=path).status == NcciImport.Status.FAILED
    record = ncci_file_import(path=path, table="ptp", setting="hospital", quarter="2026Q2")
    assert record.status == NcciImport.Status.DONE, record.error
    assert set(PtpEdit.objects.values_list("setting", flat=True)) == {"hospital"}


# ---------------------------------------------------------------------------------------
# Formats and detection
# ---------------------------------------------------------------------------------------


def test_a_zip_as_cms_publishes_it_is_read_without_extracting(tmp_path):
    archive = tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(PTP_EXCERPT, "ccipra-v322r0-f1.TXT")
        z.writestr("Read me.pdf", b"%PDF-1.4")
    record = ncci_file_import(path=archive)
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.filename, record.quarter, record.added) == (archive.name, "2026Q3", 154)
    assert record.sources == ["ccipra-v322r0-f1.TXT"]


def test_a_zip_holding_two_parts_is_one_import_with_both_files(tmp_path):
    write_ptp(tmp_path / "a.TXT", BASE[:2])
    write_ptp(tmp_path / "b.TXT", BASE[2:])
    archive = tmp_path / "parts.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(tmp_path / "a.TXT", "ccipra-v320r0-f1.TXT")
        z.write(tmp_path / "b.TXT", "ccipra-v320r0-f2.TXT")
    record = ncci_file_import(path=archive)
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.added, record.sources) == (4, ["ccipra-v320r0-f1.TXT", "ccipra-v320r0-f2.TXT"])
    assert set(PtpEdit.objects.values_list("source_file", flat=True)) == {
        "ccipra-v320r0-f1.TXT",
        "ccipra-v320r0-f2.TXT",
    }


def test_the_spreadsheet_version_imports_the_same_rows(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["CPT only copyright 2025 American Medical Association.  All rights reserved."])
    sheet.append(
        [
            "Column 1",
            "Column 2",
            "*=in existence prior to 1996",
            "Effective Date",
            "Deletion Date *=no data",
            "Modifier 0=not allowed 1=allowed 9=not applicable",
            "PTP Edit Rationale",
        ]
    )
    sheet.append(["17000", "11102", None, 20190101, "*", 1, RATIONALE])
    sheet.append([100, "01996", None, dt.datetime(2020, 1, 1), "20231231", "0", RATIONALE])  # a number-typed code
    path = tmp_path / "ccioph-v321r0-f1.xlsx"
    workbook.save(path)
    record = ncci_file_import(path=path)
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.setting, record.quarter, record.added) == ("hospital", "2026Q2", 2)
    padded = PtpEdit.objects.get(column1="00100")
    assert padded.deletion_date == dt.date(2023, 12, 31) and padded.modifier_indicator == "0"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ccioph-v323r0-f4.TXT", ("ptp", "hospital", "2026Q4")),
        ("ccipra-v330r1-f2.txt", ("ptp", "practitioner", "2027Q1")),
        ("MCR_MUE_OutpatientHospitalServices_Eff_10-01-2026.csv", ("mue", "hospital", "2026Q4")),
        ("MCR_MUE_DMESupplierServices_Eff_04-01-2026.csv", ("mue", "dme", "2026Q2")),
    ],
)
def test_table_setting_and_quarter_are_detected_from_cms_names(tmp_path, name, expected):
    if expected[0] == "ptp":
        path = write_ptp(tmp_path / name, BASE)
    else:
        title = {"hospital": "Outpatient Hospital Services MUE Values", "dme": "DME Supplier Services MUE Values"}
        path = write_mue(
            tmp_path / name, [("E0110", 1, "3 Date of Service Edit: Clinical", "CMS Policy")], title=title[expected[1]]
        )
    record = ncci_file_import(path=path)
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.table, record.setting, record.quarter) == expected


def test_an_mue_file_without_a_cms_name_is_recognised_by_its_header(tmp_path):
    path = write_mue(tmp_path / "mue_2026q3.csv", [("17000", 1, "2 Date of Service Edit: Policy", "CMS Policy")])
    record = ncci_file_import(path=path)
    assert record.status == NcciImport.Status.DONE, record.error
    assert (record.table, record.setting, record.quarter) == ("mue", "practitioner", "2026Q3")


# ---------------------------------------------------------------------------------------
# Command, task, signal, demo
# ---------------------------------------------------------------------------------------


def test_the_command_prints_each_files_report(tmp_path):
    bad = write_ptp(tmp_path / "ccipra-v322r0-f2.TXT", [*BASE, ("1704", "11102", "", "20190101", "*", "1")])
    out = io.StringIO()
    call_command("import_ncci", str(PTP_EXCERPT), str(bad), stdout=out)
    text = out.getvalue()
    assert f"{PTP_EXCERPT.name}: PTP practitioner 2026Q3: done" in text
    assert "rows read 154; added 154; changed 0; unchanged 0; rejected 0" in text
    assert "rows read 5; added 4; changed 0; unchanged 0; rejected 1" in text
    assert "rejected line 11: column 1 code '1704' is not 5 letters or digits" in text


def test_the_command_fails_when_a_file_is_refused(tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 file"):
        call_command("import_ncci", str(MUE_EXCERPT), "--table", "ptp", stdout=out)
    assert "nothing was imported" in out.getvalue()
    assert NcciImport.objects.get().status == NcciImport.Status.FAILED


def test_the_command_takes_quarter_and_setting(tmp_path):
    path = write_ptp(tmp_path / "edits.txt", BASE)
    call_command(
        "import_ncci",
        str(path),
        "--table",
        "ptp",
        "--setting",
        "practitioner",
        "--quarter",
        "2026Q1",
        stdout=io.StringIO(),
    )
    assert PtpEdit.objects.filter(quarter="2026Q1", setting="practitioner").count() == 4


def test_the_task_claims_the_import_so_a_second_run_does_nothing():
    record = ncci_import_create(filename=PTP_EXCERPT.name, path=PTP_EXCERPT)
    assert import_ncci_file(record.pk) == "done"
    record.refresh_from_db()
    finished = record.finished_at
    assert import_ncci_file(record.pk) == "done"
    record.refresh_from_db()
    assert record.finished_at == finished and record.added == 154
    assert PtpEdit.objects.count() == 154


def test_a_running_import_is_left_alone_until_its_heartbeat_is_stale():
    from django.utils import timezone

    record = ncci_import_create(filename=PTP_EXCERPT.name, path=PTP_EXCERPT)
    NcciImport.objects.filter(pk=record.pk).update(status="running", heartbeat_at=timezone.now())
    assert import_ncci_file(record.pk) == "running"
    assert not PtpEdit.objects.exists()
    NcciImport.objects.filter(pk=record.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert import_ncci_file(record.pk) == "done"
    assert PtpEdit.objects.count() == 154


def test_reference_data_changed_is_sent_on_commit_only_when_rows_changed(django_capture_on_commit_callbacks):
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs["table"])

    reference_data_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ncci_file_import(path=PTP_EXCERPT)
        assert received == ["ptp"]
        with django_capture_on_commit_callbacks(execute=True):
            ncci_file_import(path=PTP_EXCERPT)
            ncci_file_import(path=MUE_EXCERPT)
        assert received == ["ptp", "mue"]
    finally:
        reference_data_changed.disconnect(listener)


def test_the_demo_tables_load_through_the_importer_and_again_change_nothing():
    report = ncci_demo_load()
    assert report["ccipra-v320r0-demo.TXT"] == "added 12, changed 0, unchanged 0"
    assert PtpEdit.objects.get(column1="17000", column2="11102").modifier_indicator == "1"
    assert PtpEdit.objects.get(column1="64483", column2="77003").modifier_indicator == "0"
    assert PtpEdit.objects.get(column1="20610", column2="99214").modifier_indicator == "1"
    assert PtpEdit.objects.get(column1="29881", column2="29875").deletion_date == dt.date(2025, 12, 31)
    assert PtpEdit.objects.get(column1="11042", column2="11045").modifier_indicator == "9"
    assert Mue.objects.get(code="17000", quarter="2026Q1").mue_value == 1
    assert ProcedureCode.objects.get(code="20610").short_description
    again = ncci_demo_load()
    assert all("added 0, changed 0" in v for k, v in again.items() if k != "procedure codes added")


def test_the_demo_pairs_match_what_the_synthetic_835_files_deny():
    from denials.demo.remittances import NCCI_PAIRS

    ncci_demo_load()
    stored = set(PtpEdit.objects.values_list("column1", "column2"))
    assert set(NCCI_PAIRS) <= stored


def test_a_database_error_puts_the_import_back_in_the_queue(monkeypatch):
    from celery.exceptions import Retry
    from django.db import OperationalError

    from ncci.services import imports

    record = ncci_import_create(filename=PTP_EXCERPT.name, path=PTP_EXCERPT)

    def unavailable(record, progress):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(imports, "_import_file", unavailable)
    with pytest.raises((Retry, OperationalError)):
        import_ncci_file.apply(args=[record.pk], throw=True)
    record.refresh_from_db()
    assert record.status == NcciImport.Status.QUEUED
    assert "server closed the connection" in record.error
    monkeypatch.undo()
    assert import_ncci_file(record.pk) == "done"


def test_a_broken_spreadsheet_or_zip_is_refused_with_why(tmp_path):
    broken = tmp_path / "ccipra-v322r0-f1.xlsx"
    broken.write_bytes(b"this is not a spreadsheet")
    record = ncci_file_import(path=broken)
    assert record.status == NcciImport.Status.FAILED
    assert "ccipra-v322r0-f1.xlsx is not a readable .xlsx workbook" in record.error
    fake_zip = tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip"
    fake_zip.write_bytes(b"PK not really")
    record = ncci_file_import(path=fake_zip)
    assert record.status == NcciImport.Status.FAILED
    assert "zip" in record.error
    assert not PtpEdit.objects.exists()


def test_the_command_can_hand_the_files_to_the_worker():
    out = io.StringIO()
    call_command("import_ncci", str(PTP_EXCERPT), "--queue", stdout=out)
    record = NcciImport.objects.get()
    assert f"queued as import #{record.pk}" in out.getvalue()
    # Tests run tasks in-process (conftest), as a worker would.
    assert record.status == NcciImport.Status.DONE
