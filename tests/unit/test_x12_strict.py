"""Strict (pyx12) validation of 835 files: verdicts, findings, 999s, and never raising.

Expected verdicts come from tests/fixtures/835/SOURCES.txt, which records what pyx12
4.0.0's own x12valid said about each sample.
"""

from __future__ import annotations

import io
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from denials.x12 import strict
from denials.x12.strict import NO_ENVELOPE_ERROR, StrictFinding, StrictResult, validate_strict

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "835"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def errors(result: StrictResult) -> list[StrictFinding]:
    return [f for f in result.findings if f.severity == "error"]


def segments(ack: str) -> list[str]:
    return [s.strip() for s in ack.split("~") if s.strip()]


# --- files pyx12 accepts -------------------------------------------------------------

VALID_5010 = [
    "pyx12__835_mult_loops.txt",
    "edi835parser__emedny_sample.txt",
    "tigershark__5010-835-example-1_dental_pipe-component.txt",
    "tigershark__5010-835-example-3_denial.txt",
]


@pytest.mark.parametrize("name", VALID_5010)
def test_valid_5010_sample_passes_with_no_findings(name: str) -> None:
    result = validate_strict(sample(name))
    assert result.ok is True
    assert result.error == ""
    assert result.findings == []


@pytest.mark.parametrize("name", VALID_5010)
def test_valid_5010_sample_gets_a_complete_accepting_999(name: str) -> None:
    # Stock pyx12 4.0.0 stops this 999 after AK1 because 835s carry no ST03; the
    # AK2/IK5/AK9 and trailers prove our writer gets past that.
    segs = segments(validate_strict(sample(name)).ack_999)
    assert segs[0].startswith("ISA*")
    assert segs[2].startswith("ST*999*")
    assert any(s.startswith("AK2*835*") for s in segs)
    assert "IK5*A" in segs
    assert any(s.startswith("AK9*A*") for s in segs)
    assert segs[-1].startswith("IEA*")


def test_emedny_999_acknowledges_the_right_group_and_transaction() -> None:
    segs = segments(validate_strict(sample("edi835parser__emedny_sample.txt")).ack_999)
    assert "AK1*HP*6000600*005010X221A1" in segs
    assert "AK2*835*1740" in segs
    # The 999's envelope swaps sender and receiver of the 835.
    assert segs[0].split("*")[6].strip() == "ETIN"


# --- files pyx12 rejects -------------------------------------------------------------


def test_uhc_sample_has_exactly_the_invalid_payee_state_finding() -> None:
    result = validate_strict(sample("edi835parser__united_healthcare_legacy_sample.txt"))
    assert result.ok is False
    assert result.error == ""
    assert result.findings == [
        StrictFinding(
            segment_number=16,
            segment_id="N4",
            code="7",
            message="(NP) is not a valid code for Payee State Code (N402)",
            severity="error",
        )
    ]


def test_uhc_sample_999_rejects_the_transaction_at_n402() -> None:
    segs = segments(validate_strict(sample("edi835parser__united_healthcare_legacy_sample.txt")).ack_999)
    assert segs[0].startswith("ISA*")
    # IK3 counts segments within the transaction (N4 is the 14th from ST).
    assert "IK3*N4*14**8" in segs
    assert "IK4*2*156*7*NP" in segs
    assert "IK5*R*5" in segs
    assert any(s.startswith("AK9*R*") for s in segs)


@pytest.mark.parametrize(
    ("name", "bpr16_code"),
    [
        ("lfh__cob-contractural-adjustment.835", "1"),
        ("lfh__managed-care.835", "8"),  # BPR16 present but 20002316 is not a date
        ("lfh__medicare-part-a.835", None),
        ("lfh__secondary-payment.835", "1"),
        ("lfh__tertiary-payment.835", "1"),
    ],
)
def test_lfh_guide_fragments_fail_on_missing_per_bl_and_bad_bpr16(name: str, bpr16_code: str | None) -> None:
    result = validate_strict(sample(name))
    assert result.ok is False
    assert result.error == ""
    per = [f for f in errors(result) if f.segment_id == "PER"]
    assert [f.code for f in per] == ["3"]
    assert "Payer Technical Contact Information" in per[0].message
    bpr16 = [f for f in errors(result) if f.segment_id == "BPR" and "BPR16" in f.message]
    assert [f.code for f in bpr16] == ([bpr16_code] if bpr16_code else [])
    assert "IK5*R*5" in segments(result.ack_999)


def test_svc_using_another_component_separator_is_reported_not_found() -> None:
    # secondary-payment writes SVC01 with '>' while ISA16 is ':'; pyx12 cannot place
    # those SVC lines, which is exactly what a strict receiver would complain about.
    result = validate_strict(sample("lfh__secondary-payment.835"))
    svc = [f for f in result.findings if f.segment_id == "SVC"]
    assert svc and all(f.code == "1" and "not found" in f.message for f in svc)
    assert all(isinstance(f.segment_number, int) and f.segment_number > 3 for f in svc)


# --- input pyx12 cannot take as-is ---------------------------------------------------


def test_file_without_isa_is_refused_with_a_clear_error() -> None:
    result = validate_strict(sample("edi835parser__blue_cross_nc_sample_NO_ENVELOPE.txt"))
    assert result == StrictResult(ok=False, findings=[], ack_999="", error=NO_ENVELOPE_ERROR)
    assert NO_ENVELOPE_ERROR == "strict validation needs an ISA envelope"


def test_bom_and_indentation_are_removed_and_reported_as_warnings() -> None:
    clean = sample("pyx12__835_mult_loops.txt")
    damaged = b"\xef\xbb\xbf" + re.sub(rb"~\n", b"~\r\n    ", clean)
    result = validate_strict(damaged)
    # The repairs are reported but say nothing about the remittance, so it still passes.
    assert result.ok is True
    assert [(f.code, f.severity) for f in result.findings] == [
        ("BOM", "warning"),
        ("INDENT", "warning"),
    ]
    assert "34 lines" in result.findings[1].message
    assert "IK5*A" in segments(result.ack_999)


def test_bom_indented_multi_interchange_medicaid_file_is_validated() -> None:
    result = validate_strict(sample("oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt"))
    assert result.error == ""
    assert {"BOM", "INDENT"} <= {f.code for f in result.findings if f.severity == "warning"}
    # Masking turned SVC01-01 into 'XX', which pyx12 cannot match to a service line.
    assert result.ok is False
    assert any(f.segment_id == "SVC" and "SVC*XX>99999" in f.message for f in errors(result))
    segs = segments(result.ack_999)
    assert segs[0].startswith("ISA*")
    # One 999 transaction per functional group in the 835 file (three groups).
    assert sum(s.startswith("ST*999*") for s in segs) == 3


def test_4010_bom_file_is_validated_against_4010_map_with_a_997() -> None:
    result = validate_strict(sample("oopfactory__4010_Example1_reversals_plb.txt"))
    assert result.error == ""
    assert result.ok is False
    assert [(f.segment_number, f.segment_id, f.code) for f in errors(result)] == [
        (10, "N1", "6"),  # trailing spaces in the payee name
        (95, "AMT", "1"),
    ]
    segs = segments(result.ack_999)
    assert segs[0].startswith("ISA*")
    assert any(s.startswith("ST*997*") for s in segs)
    assert "AK5*R*5" in segs


def test_masked_isa12_is_reported_as_an_error_not_raised() -> None:
    result = validate_strict(sample("oopfactory__4010_DeIdent_01_large.dat"))
    assert result.ok is False
    assert result.error.startswith("The strict check could not finish: the validator stopped: ")
    assert "Version Number is unknown: 99999" in result.error
    assert result.ack_999 == ""


def test_unknown_gs08_is_reported_as_an_engine_error() -> None:
    data = sample("pyx12__835_mult_loops.txt").replace(b"005010X221A1", b"005010X999A1")
    result = validate_strict(data)
    assert result.ok is False
    assert result.error.startswith(
        "The strict check could not read segment 2 (GS): the validator has no implementation guide"
    )
    assert "005010X999A1" in result.error


def test_pipe_separated_4010_file_with_leading_terminators_does_not_crash() -> None:
    result = validate_strict(sample("tigershark__4010_835-example-2_pipe-elements_UHC.txt"))
    assert result.ok is False
    assert result.error == ""
    assert ("IEA", "023") in {(f.segment_id, f.code) for f in result.findings}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \r\n\t",
        bytes(range(256)) * 4,
        b"\xff\xfe\x00I\x00S\x00A",  # UTF-16
        b"ISA*00*",
        b"ISA" + b"*" * 103 + b"~GS*junk~",
        b"ISA*00*" + b"\x00" * 300,
    ],
    ids=["empty", "whitespace", "binary", "utf16", "short-isa", "isa-of-stars", "isa-then-nul"],
)
def test_garbage_input_returns_not_ok_without_raising(data: bytes) -> None:
    result = validate_strict(data)
    assert result.ok is False
    assert result.error != "" or errors(result)


def test_wrong_argument_type_returns_error_instead_of_raising() -> None:
    result = validate_strict("ISA*00*")  # type: ignore[arg-type]
    assert result.ok is False
    assert result.error == "The strict check could not finish: the validator stopped unexpectedly (TypeError)."


def test_unexpected_exception_inside_pyx12_is_reported_with_its_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(text: str) -> None:
        raise RuntimeError("map exploded")

    monkeypatch.setattr(strict, "_run_pyx12", boom)
    result = validate_strict(sample("pyx12__835_mult_loops.txt"))
    assert result == StrictResult(
        ok=False,
        findings=[],
        ack_999="",
        error="The strict check could not finish: the validator stopped unexpectedly (RuntimeError).",
    )
    # The logger silencing was undone even though the run blew up.
    assert logging.getLogger("pyx12").propagate is True


# --- envelope findings (which pyx12's own JSON dump leaves out in part) --------------

MULT_LOOPS = "pyx12__835_mult_loops.txt"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (rb"SE\*31\*", b"SE*99*", (33, "SE", "4")),
        (rb"GE\*1\*", b"GE*2*", (34, "GE", "5")),
        (rb"IEA\*1\*000238388", b"IEA*1*000000001", (35, "IEA", "001")),
        (rb"\*141028\*", b"*141399*", (1, "ISA", "8")),  # ISA09 not a date
        (rb"TRN\*1\*000000000\*1386000134~", b"TRN*1*000000000*1386000134*~", (5, "TRN", "SEG1")),
    ],
    ids=["se-count", "ge-count", "iea-control-number", "isa09-date", "trailing-separator"],
)
def test_envelope_and_segment_damage_is_located(old: bytes, new: bytes, expected: tuple[int, str, str]) -> None:
    data = re.sub(old, new, sample(MULT_LOOPS), count=1)
    result = validate_strict(data)
    assert result.ok is False
    assert [(f.segment_number, f.segment_id, f.code) for f in result.findings] == [expected]


def test_missing_iea_is_reported_without_a_segment_number() -> None:
    data = sample(MULT_LOOPS)
    result = validate_strict(data[: data.index(b"IEA")])
    assert [(f.segment_number, f.segment_id, f.code) for f in result.findings] == [(None, "IEA", "023")]


def test_findings_are_capped_with_a_note_of_how_many_were_dropped() -> None:
    data = sample("oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt")
    full = validate_strict(data)
    capped = validate_strict(data, max_findings=10)
    assert len(full.findings) > 11
    assert capped.findings[:10] == full.findings[:10]
    assert capped.findings[10] == StrictFinding(
        None, "", "TRUNCATED", f"{len(full.findings) - 10} more findings not listed", "warning"
    )
    assert capped.ok is False


# --- agreement with pyx12's own entry point ------------------------------------------


def _pyx12_reference(text: str) -> tuple[bool, set[tuple[int, str, str]]]:
    """x12n_document's verdict and the segment/element errors its JSON dump lists."""
    fd_json = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=pyx12.params.ParamsBase(),
        src_file=io.StringIO(text),
        fd_997=None,
        fd_html=None,
        fd_json=fd_json,
    )
    found: set[tuple[int, str, str]] = set()
    doc = json.loads(fd_json.getvalue())
    for isa in doc["interchanges"]:
        for gs in isa["groups"]:
            for st in gs["transactions"]:
                for seg in st["segments"]:
                    codes = [e["err_cde"] for e in seg["errors"]]
                    codes += [e["err_cde"] for el in seg["elements"] for e in el["errors"]]
                    found |= {(seg["cur_line"], seg["seg_id"], c) for c in codes}
    return ok, found


def _pyx12_readable_samples() -> list[str]:
    names = []
    for path in sorted(SAMPLES.iterdir()):
        if path.name == "SOURCES.txt":
            continue
        text, _notes = strict._normalise(path.read_bytes())
        try:
            pyx12.x12file.X12Reader(io.StringIO(text)).close()
        except Exception:
            continue
        names.append(path.name)
    return names


@pytest.mark.parametrize("name", _pyx12_readable_samples())
def test_verdict_and_segment_findings_match_pyx12_x12n_document(name: str) -> None:
    # Guards the copied segment loop in strict._run_pyx12 against drifting from pyx12.
    text, _notes = strict._normalise(sample(name))
    with strict._pyx12_logging_silenced():
        reference_ok, reference_found = _pyx12_reference(text)
    result = validate_strict(sample(name))
    ours = {(f.segment_number, f.segment_id, f.code) for f in errors(result)}
    assert result.ok == reference_ok
    assert reference_found <= ours


# --- behaviour as a background job ---------------------------------------------------


def test_leaves_pyx12_logger_as_it_found_it_and_prints_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = logging.getLogger("pyx12")
    before = (logger.level, logger.propagate, list(logger.handlers))
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old_root_level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    try:
        # The UHC file makes pyx12 log an error line; none of it should escape.
        result = validate_strict(sample("edi835parser__united_healthcare_legacy_sample.txt"))
    finally:
        root.removeHandler(keep)
        root.setLevel(old_root_level)
    assert len(result.findings) == 1
    assert [r for r in seen if r.name.startswith("pyx12")] == []
    assert (logger.level, logger.propagate, list(logger.handlers)) == before
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")


def test_concurrent_calls_give_the_same_results_as_sequential_ones() -> None:
    names = [
        "edi835parser__united_healthcare_legacy_sample.txt",
        "edi835parser__emedny_sample.txt",
        "lfh__managed-care.835",
        "tigershark__5010-835-example-3_denial.txt",
    ] * 2

    def summary(name: str) -> tuple[bool, list[StrictFinding], str]:
        r = validate_strict(sample(name))
        return r.ok, r.findings, r.error

    sequential = [summary(n) for n in names]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(summary, names))
    assert concurrent == sequential
    logger = logging.getLogger("pyx12")
    assert logger.propagate is True
    assert not any(isinstance(h, logging.NullHandler) for h in logger.handlers)
