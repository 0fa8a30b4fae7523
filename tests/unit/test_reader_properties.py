"""Property tests for the three readers of outside files: the 835 reader, the NCCI file reader and
the code-list importer. Whatever bytes arrive, each gives a result or a clean error naming a place
(a segment, a line, a row or the file), never an unexpected exception, and within a time bound.

The time bound is Hypothesis's per-example deadline, set far above what any example here takes
(milliseconds) so a loaded machine cannot make it flaky; an input that made a reader loop or go
quadratic would still exceed it.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from denials.x12.reader import read_835
from ncci.files import MueRow, NcciFileError, PtpRow, RejectedRow, open_ncci_sources
from ncci.services.code_lists import CodeListRefused, parse_code_list
from tests.bad_835 import good

BOUND = settings(
    max_examples=150,
    deadline=dt.timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
GOOD_835 = good()
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PTP_SAMPLE = (FIXTURES / "ncci" / "ptp_practitioner_ccipra-v322r0-f1_EXCERPT.txt").read_bytes()[:3000]
MUE_SAMPLE = (
    FIXTURES / "ncci" / "mue_practitioner_MCR_MUE_PractitionerServices_Eff_07-01-2026_EXCERPT.csv"
).read_bytes()[:3000]
X12_ALPHABET = "ISAGSTEBPRNLXCVDMQ0123456789*~:^|> \n\r\x00\xe9"


@st.composite
def mutated(draw: st.DrawFn, base: bytes, alphabet: str) -> bytes:
    """``base`` with a few bytes replaced, inserted or cut, and possibly truncated: inputs close
    enough to a real file to get past the first checks, where the deeper code paths are."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        char = draw(st.sampled_from(alphabet)).encode("latin-1")
        if action == "replace":
            data[at : at + 1] = char
        elif action == "insert":
            data[at:at] = char * draw(st.integers(1, 40))
        else:
            del data[at : at + draw(st.integers(1, 60))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def _named(finding) -> bool:
    """A finding names a place: a segment (its number, and its tag or why it has none) or the
    file as a whole (segment 0), in a message that reads as words (not " is outside...")."""
    if not finding.message or finding.message[0].isspace() or finding.segment_number < 0:
        return False
    if finding.segment_number > 0:
        return bool(finding.segment_id.strip()) or "no tag" in finding.message
    return True


def _check_835(data: bytes) -> None:
    parsed = read_835(data)
    for finding in [*parsed.errors, *parsed.warnings]:
        assert _named(finding), finding
        # The reader's last-resort branch ("could not be read (KeyError: 3)") is a bug here.
        assert "could not be read (" not in finding.message, finding
    if parsed.ok:
        assert parsed.transactions or parsed.warnings, "a file read as good must hold something or say why not"


@BOUND
@given(st.binary(max_size=3000))
def test_any_bytes_read_as_835_give_findings_naming_a_place(data):
    _check_835(data)


@BOUND
@given(mutated(GOOD_835, X12_ALPHABET))
@example(GOOD_835.replace(b"ISA*00*", b"ISA*0~*", 1))  # found here: a tagless segment read " is outside..."
def test_a_damaged_835_gives_a_result_or_findings_naming_a_place(data):
    _check_835(data)


def _read_ncci(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            for _source, rows in open_ncci_sources(path):
                for row in rows:
                    assert isinstance(row, PtpRow | MueRow | RejectedRow), row
                    assert row.line_number >= 1
                    if isinstance(row, RejectedRow):
                        assert row.reason
        except NcciFileError as exc:
            assert str(exc), "an NCCI file error must say what is wrong"
            assert name in str(exc) or Path(name).stem in str(exc) or "line" in str(exc), str(exc)


@BOUND
@given(mutated(PTP_SAMPLE, "0123456789\t\n*ABCXYZ/ \r\x00\xe9"))
def test_a_damaged_ptp_file_gives_rows_or_an_error_naming_the_file(data):
    _read_ncci("ccipra-v322r0-f1.txt", data)


@BOUND
@given(mutated(MUE_SAMPLE, '0123456789,"\n ABCXYZ-/\r\x00\xe9'))
def test_a_damaged_mue_file_gives_rows_or_an_error_naming_the_file(data):
    _read_ncci("MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", data)


@BOUND
@given(st.binary(max_size=2000), st.sampled_from(["ccipra-v322r0-f1.txt", "ccipra-v322r0-f1.zip", "mue.xlsx"]))
@example(b"", "mue.xlsx")  # found here: a workbook that is not a zip raised BadZipFile
def test_any_bytes_as_an_ncci_file_give_rows_or_an_error_naming_the_file(data, name):
    _read_ncci(name, data)


def _zip_holding(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, data)
    return buffer.getvalue()


@BOUND
@given(mutated(PTP_SAMPLE, "0123456789\t\nABC \x00"))
def test_a_damaged_ptp_file_inside_a_zip_gives_rows_or_an_error(data):
    _read_ncci("ccipra-v322r0.zip", _zip_holding("ccipra-v322r0-f1.txt", data))


CODE_LIST_SAMPLE = (
    b"code,description,start_date,stop_date,last_modified\n"
    b"97,Bundled into another service,1995-01-01,,2024-03-01\n"
    b"N657,Coding accuracy remark,2016-07-01,,2024-03-01\n"
    b"253,Sequestration reduction,2013-04-01,,2023-11-01\n"
)


def _import_code_list(name: str, data: bytes, code_list: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            parsed = parse_code_list(path, code_list=code_list)
        except CodeListRefused as exc:
            assert path.name in str(exc), str(exc)  # the refusal names the file
            return
        header = 1
        for refusal in parsed.refusals:
            assert refusal["row"] > header and refusal["column"] and refusal["reason"], refusal
        for row in parsed.rows:
            assert row.code and row.code.isalnum() and row.row > header


@BOUND
@given(
    mutated(CODE_LIST_SAMPLE, '0123456789,"\n ABCN-/\t\r\x00\xe9;'),
    st.sampled_from(["carc.csv", "rarc.tsv", "codes.csv"]),
    st.sampled_from(["carc", "rarc", "procedure"]),
)
def test_a_damaged_code_list_gives_rows_and_refusals_or_a_refusal_naming_the_file(data, name, code_list):
    _import_code_list(name, data, code_list)


@BOUND
@given(st.binary(max_size=2000), st.sampled_from(["carc.csv", "carc.xlsx", "carc.tsv"]))
def test_any_bytes_as_a_code_list_give_a_result_or_a_refusal_naming_the_file(data, name):
    _import_code_list(name, data, "carc")


def test_a_tagless_segment_outside_a_transaction_is_named_in_words():
    parsed = read_835(GOOD_835.replace(b"ISA*00*", b"ISA*0~*", 1))
    tagless = [f for f in parsed.errors if "no tag" in f.message]
    assert tagless and tagless[0].segment_number == 2, parsed.errors
    assert "segment terminator is probably misplaced" in tagless[0].message


def test_a_workbook_that_is_not_a_zip_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2026.xlsx"
    path.write_bytes(b"this is not a workbook")
    try:
        for _source, rows in open_ncci_sources(path):
            list(rows)
    except NcciFileError as exc:
        assert "MCR_MUE_PractitionerServices_Eff_07-01-2026.xlsx is not a readable .xlsx workbook" in str(exc)
    else:
        raise AssertionError("a damaged workbook was read without an error")
