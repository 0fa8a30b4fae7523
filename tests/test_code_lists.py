"""Codes a coder can read (issue 12): our own summaries shipped, the official lists imported.

The importer takes the current CARC, RARC and procedure-code lists as an admin obtains them
(CSV, TSV, XLSX), idempotently, with history and a report; a bad file changes nothing and the
error names the row and the column. Pages show our summary first, the official text after
it, and "no description loaded" (with the importer's link for admins) when there is neither.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from ncci.models import Carc, CodeListImport, ProcedureCode, Rarc
from ncci.selectors import CodeWords, code_words
from ncci.services import DATA_DIR, code_list_file_import, codes_load

pytestmark = pytest.mark.django_db

ISSUE_CARCS = ["4", "16", "18", "22", "29", "45", "50", "95", "96", "97", "197", "204", "236", "253", "B15"]
ISSUE_RARCS = ["M15", "M80", "MA130", "N115", "N381", "N657"]

# Official-looking text made up for the tests (not X12's words).
CARC_CSV = (
    "Code,Description,Start Date,Stop Date,Last Modified\n"
    "97,Test text: paid as part of another service.,1995-01-01,,2024-03-01\n"
    "253,Test text: sequestration reduction.,2013-04-01,,\n"
    "300,Test text: a brand new reason.,2026-01-01,,2026-01-01\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _xlsx(tmp_path: Path, name: str, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def _render(template: str, context: dict[str, object]) -> str:
    return Template("{% load overturn %}" + template).render(Context(context))


# --- Shipped data -------------------------------------------------------------------------


def test_summaries_file_covers_every_code_the_issue_names() -> None:
    with (DATA_DIR / "code_summaries.csv").open(newline="", encoding="utf-8") as handle:
        rows = {(r["list"], r["code"]): r["summary"] for r in csv.DictReader(handle)}
    missing = [c for c in ISSUE_CARCS if not rows.get(("carc", c))] + [
        r for r in ISSUE_RARCS if not rows.get(("rarc", r))
    ]
    assert missing == []


def test_shipped_code_files_carry_codes_only_no_official_text() -> None:
    shipped = sorted(p for p in DATA_DIR.glob("*.csv") if p.name != "code_summaries.csv")
    assert {p.name for p in shipped} >= {"carc_codes_tigershark_0.3.4.csv", "rarc_codes_tigershark_0.3.4.csv"}
    for path in shipped:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert "description" not in [h.lower() for h in header], path.name
    text = "".join(p.read_text(encoding="utf-8") for p in shipped)
    # Phrases of the 2012 official descriptions these files used to carry.
    for phrase in ("Deductible Amount", "inconsistent with the modifier", "Co-payment Amount"):
        assert phrase not in text
    sources = (DATA_DIR / "SOURCES.txt").read_text(encoding="utf-8")
    assert "TigerShark" in sources and "BSD-3-Clause" in sources


def test_a_plain_install_shows_our_words_for_every_code_the_issue_names() -> None:
    Carc.objects.all().delete()
    Rarc.objects.all().delete()
    call_command("load_codes", stdout=StringIO())
    words = code_words()
    for key in [f"CARC:{c}" for c in ISSUE_CARCS] + [f"RARC:{r}" for r in ISSUE_RARCS]:
        assert words[key].summary, key
        html = _render("{% describe kind code d %}", {"kind": key.split(":")[0], "code": key.split(":")[1], "d": words})
        assert "no description loaded" not in html and words[key].summary[:20] in html.replace("&#x27;", "'")
    # Nothing official is shipped: the descriptions stay blank until an admin imports a list.
    assert not Carc.objects.exclude(description="").exists()
    assert Carc.objects.count() >= 217 and Rarc.objects.filter(code="N657").exists()


def test_load_codes_is_idempotent_and_never_overwrites_an_admins_summary(tmp_path: Path) -> None:
    Carc.objects.all().delete()
    codes_load()
    carc = Carc.objects.get(code="97")
    carc.summary = "Our team's own words for 97."
    carc.save()
    history_before = Carc.history.count()
    assert codes_load()["carc"] == 0 and Carc.history.count() == history_before

    # A later release ships new words for 97 and 4: 4 takes them, the admin's 97 stays.
    data = tmp_path / "data"
    data.mkdir()
    for path in DATA_DIR.glob("*.csv"):
        shutil.copy(path, data / path.name)
    summaries = (data / "code_summaries.csv").read_text(encoding="utf-8").splitlines()
    summaries = [
        'carc,4,"New shipped words for 4."' if s.startswith("carc,4,") else s
        for s in summaries
        if not s.startswith("carc,97,")
    ] + ['carc,97,"New shipped words for 97."']
    (data / "code_summaries.csv").write_text("\n".join(summaries) + "\n", encoding="utf-8")
    shutil.copy(DATA_DIR / "carc_codes_tigershark_0.3.4.csv", data / "carc_codes_tigershark_0.3.4.csv")
    codes_load(data_dir=data)
    assert Carc.objects.get(code="4").summary == "New shipped words for 4."
    assert Carc.objects.get(code="97").summary == "Our team's own words for 97."


# --- The importer -------------------------------------------------------------------------


def test_csv_import_adds_then_a_second_run_changes_nothing(code_lists: None, tmp_path: Path) -> None:
    path = _write(tmp_path, "carc.csv", CARC_CSV)
    first = code_list_file_import(code_list="carc", path=path)
    assert first.status == "done", first.error
    assert (first.rows_read, first.added, first.changed, first.unchanged, first.refused) == (3, 1, 2, 0, 0)
    carc = Carc.objects.get(code="97")
    assert carc.description == "Test text: paid as part of another service."
    assert carc.start_date == dt.date(1995, 1, 1) and carc.last_modified == dt.date(2024, 3, 1)
    assert carc.summary.startswith("Paid as part of another service")  # our words stay
    history = Carc.history.count()

    second = code_list_file_import(code_list="carc", path=path)
    assert (second.added, second.changed, second.unchanged, second.retired) == (0, 0, 3, 0)
    assert Carc.history.count() == history


def test_changes_and_retirements_are_counted_and_kept_in_history(code_lists: None, tmp_path: Path) -> None:
    code_list_file_import(code_list="carc", path=_write(tmp_path, "v1.csv", CARC_CSV))
    v2 = CARC_CSV.replace("a brand new reason.", "a reworded reason.").replace(
        "253,Test text: sequestration reduction.,2013-04-01,,",
        "253,Test text: sequestration reduction.,2013-04-01,2026-06-30,",
    )
    record = code_list_file_import(code_list="carc", path=_write(tmp_path, "v2.csv", v2))
    assert (record.added, record.changed, record.unchanged, record.retired) == (0, 1, 1, 1)
    assert Carc.objects.get(code="253").stop_date == dt.date(2026, 6, 30)
    old = Carc.history.filter(code="300").order_by("history_date")
    assert [h.description for h in old] == ["Test text: a brand new reason.", "Test text: a reworded reason."]


def test_tsv_with_other_header_names(code_lists: None, tmp_path: Path) -> None:
    text = (
        "Remark Code\tCode Description\tEffective Date\tTermination Date\tLast Modified Date\n"
        "N657\tTest text: bill another code.\t01/01/2015\t\t20240301\n"
    )
    record = code_list_file_import(code_list="rarc", path=_write(tmp_path, "rarc.tsv", text))
    assert record.status == "done", record.error
    assert record.columns["code"] == "Remark Code" and record.columns["stop_date"] == "Termination Date"
    rarc = Rarc.objects.get(code="N657")
    assert (rarc.description, rarc.start_date, rarc.last_modified) == (
        "Test text: bill another code.",
        dt.date(2015, 1, 1),
        dt.date(2024, 3, 1),
    )


def test_xlsx_procedure_file_with_continued_long_descriptions(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        "hcpcs.xlsx",
        [
            ["HCPC", "LONG DESCRIPTION", "SHORT DESCRIPTION", "ACT EFF DT", "TERM DT"],
            ["G0283", "Test long text, first part", "Test short G0283", dt.datetime(2005, 1, 1), None],
            ["G0283", "and its second part", None, None, None],
            ["A0021", "Test long A0021", "Test short A0021", "20000101", "20251231"],
        ],
    )
    record = code_list_file_import(code_list="procedure", path=path)
    assert record.status == "done", record.error
    assert (record.rows_read, record.added, record.refused) == (3, 2, 0)
    g = ProcedureCode.objects.get(code="G0283")
    assert (g.short_description, g.description) == (
        "Test short G0283",
        "Test long text, first part and its second part",
    )
    assert g.start_date == dt.date(2005, 1, 1)
    assert ProcedureCode.objects.get(code="A0021").stop_date == dt.date(2025, 12, 31)
    assert code_list_file_import(code_list="procedure", path=path).unchanged == 2


BAD_FILES = {
    "wrong columns": ("carc.csv", "Reason,Words\n97,x\n", "row 1 has no code column"),
    "empty file": ("carc.csv", "", "is empty"),
    "header only": ("carc.csv", "code,description\n", "holds no rows below its header"),
    "binary junk": ("carc.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR\x00\x01", "not a text file"),
    "not a workbook": ("carc.xlsx", "code,description\n97,x\n", "not an Excel workbook"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_file_that_cannot_be_read_is_refused_whole(code_lists: None, tmp_path: Path, case: str) -> None:
    name, content, message = BAD_FILES[case]
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    history = Carc.history.count()
    record = code_list_file_import(code_list="carc", path=path)
    assert record.status == "failed" and message in record.error and "nothing was imported" in record.error
    assert Carc.history.count() == history and not Carc.objects.exclude(description="").exists()


BAD_ROWS = {
    # Row 1 is the header, row 2 a good row; the bad row is row 3 (4 for the repeat).
    "bad date": ("97,Test,2020-13-45,,\n", 3, "Start Date", '"2020-13-45" is not a date'),
    "bad last modified": ("97,Test,,,soon\n", 3, "Last Modified", '"soon" is not a date'),
    "code too long": ("ABCDEFG,Test,,,\n", 3, "Code", "longer than a code"),
    "blank code": (",Test,,,\n", 3, "Code", "the code is blank"),
    "stop before start": ("97,Test,2020-01-01,2019-01-01,\n", 3, "Stop Date", "before the start date"),
    "repeated code": ("97,Test,,,\n97,Again,,,\n", 4, "Code", "already on row 3"),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_written(
    code_lists: None, tmp_path: Path, case: str
) -> None:
    rows, row, column, why = BAD_ROWS[case]
    path = _write(tmp_path, "carc.csv", "Code,Description,Start Date,Stop Date,Last Modified\n300,New,,,\n" + rows)
    record = code_list_file_import(code_list="carc", path=path)
    assert record.status == "failed"
    refusal = record.refusals[0]
    assert (refusal["row"], refusal["column"]) == (row, column)
    assert why in refusal["reason"] and f"Row {refusal['row']}, column {column}" in record.error
    assert not Carc.objects.filter(code="300").exists()  # the good row was not written either


def test_skip_refused_imports_the_good_rows_and_reports_the_others(code_lists: None, tmp_path: Path) -> None:
    path = _write(tmp_path, "carc.csv", "code,description,start date\n300,Test new,\n301,Test,31/31/2020\n")
    record = code_list_file_import(code_list="carc", path=path, skip_refused=True)
    assert record.status == "done" and (record.added, record.refused) == (1, 1)
    assert record.refusals == [
        {"row": 3, "column": "start date", "reason": '"31/31/2020" is not a date (use YYYY-MM-DD or MM/DD/YYYY)'}
    ]
    assert Carc.objects.filter(code="300").exists() and not Carc.objects.filter(code="301").exists()


def test_the_command_prints_the_report_and_fails_on_a_bad_file(code_lists: None, tmp_path: Path) -> None:
    out = StringIO()
    call_command("import_codes", "--list", "carc", str(_write(tmp_path, "carc.csv", CARC_CSV)), stdout=out)
    assert "added 1; changed 2; unchanged 0; retired (stop-dated) 0; refused 0" in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "import_codes", "--list", "rarc", str(_write(tmp_path, "bad.csv", "x,y\n1,2\n")), stdout=StringIO()
        )


def test_the_admin_page_is_for_admins_and_shows_the_report(
    code_lists: None, client, coder, admin_user, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    settings.MEDIA_ROOT = tmp_path
    url = reverse("ncci:code_import")
    client.force_login(coder)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("carc.csv", CARC_CSV.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"code_list": "carc", "file": upload})
    assert response.status_code == 302
    record = CodeListImport.objects.get()
    assert (record.status, record.added, record.changed, record.created_by) == ("done", 1, 2, admin_user)
    page = client.get(url).content.decode()
    assert "carc.csv" in page and "Done" in page
    assert not list((tmp_path / "code_list_uploads").iterdir())  # kept only until imported


# --- Showing words --------------------------------------------------------------------------


def test_summary_first_then_the_official_text() -> None:
    words = {"CARC:97": CodeWords("Our words.", "Official words."), "RARC:N1": "Plain string."}
    html = _render('{% describe "CARC" "97" d %}|{% code_chip "CARC" "97" d "CO-97" %}', {"d": words})
    assert html.index("Our words.") < html.index("Official: Official words.")
    assert 'title="Our words. (Official text: Official words.)"' in html
    assert "Plain string." in _render('{% describe "RARC" "N1" d %}', {"d": words})


def test_an_unknown_code_says_no_description_loaded_with_the_link_for_admins_only(coder, admin_user) -> None:
    request = RequestFactory().get("/")
    template = '{% describe "RARC" "N999" d %}|{% code_chip "RARC" "N999" d %}|{% procedure_words "99999" p %}'
    request.user = coder
    as_coder = _render(template, {"request": request, "d": {}, "p": {}})
    assert as_coder.count("no description loaded") == 3 and "href" not in as_coder
    request.user = admin_user
    as_admin = _render(template, {"request": request, "d": {}, "p": {}})
    assert f'href="{reverse("ncci:code_import")}?list=rarc"' in as_admin
    assert f'href="{reverse("ncci:code_import")}?list=procedure"' in as_admin


def test_code_words_is_one_query(code_lists: None, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        words = code_words(carcs={"97", "253"}, rarcs={"N657"}, with_group_codes=True)
    assert {"CARC:97", "CARC:253", "RARC:N657", "GROUP:CO"} <= set(words)
    assert str(words["CARC:253"]) == words["CARC:253"].summary  # plain words first for every caller
