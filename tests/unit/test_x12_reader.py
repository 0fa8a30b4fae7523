"""The pure 835 reader: public sample files, then synthetic files built inline."""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from denials.x12.parsed import Adjustment, ClaimPayment, Finding, ParsedFile, ProviderAdjustment
from denials.x12.reader import read_835

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "835"

FILES_5010 = [
    "edi835parser__emedny_sample.txt",
    "edi835parser__united_healthcare_legacy_sample.txt",
    "lfh__cob-contractural-adjustment.835",
    "lfh__managed-care.835",
    "lfh__medicare-part-a.835",
    "lfh__secondary-payment.835",
    "lfh__tertiary-payment.835",
    "oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt",
    "pyx12__835_mult_loops.txt",
    "tigershark__5010-835-example-1_dental_pipe-component.txt",
    "tigershark__5010-835-example-3_denial.txt",
]
FILES_4010 = [
    "oopfactory__4010_DeIdent_01_large.dat",
    "oopfactory__4010_Example1_reversals_plb.txt",
    "tigershark__4010_835-example-2_pipe-elements_UHC.txt",
]
NO_ENVELOPE = "edi835parser__blue_cross_nc_sample_NO_ENVELOPE.txt"


def _fixture(name: str) -> ParsedFile:
    return read_835((FIXTURES / name).read_bytes())


def _adjustments(claim: ClaimPayment) -> list[tuple[str, str, Decimal]]:
    """Every CAS triple on a claim, claim level first, as (group, reason, amount)."""
    found = [(a.group_code, a.reason_code, a.amount) for a in claim.adjustments]
    for line in claim.service_lines:
        found += [(a.group_code, a.reason_code, a.amount) for a in line.adjustments]
    return found


def _messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings]


# -- synthetic files -------------------------------------------------------------------

HEADER = [
    "BPR*I*80*C*ACH*CCP*01*111000025*DA*123456*1512345678**01*222000025*DA*98765*20240110",
    "TRN*1*EFT123*1512345678",
    "DTM*405*20240108",
    "N1*PR*ACME HEALTH PLAN",
    "REF*2U*98765",
    "N1*PE*VALLEY CLINIC*XX*1234567893",
    "REF*TJ*123456789",
    "LX*1",
]
CLAIM = [
    "CLP*PCN1*1*100*80*20*12*PAYERCLAIM1*11*1",
    "NM1*QC*1*DOE*JANE****MI*M123",
    "DTM*232*20240105",
    "SVC*HC:99213:25*100*80**1",
    "DTM*472*20240105",
    "CAS*PR*2*20",
    "REF*6R*LINE1",
    "AMT*B6*100",
]


def _isa(control: str = "000000001", *, element: str = "*", component: str = ":", repetition: str = "^") -> str:
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
        "240110", "1200", repetition, "00501", control, "0", "P", component,
    ]  # fmt: skip
    return element.join(fields)


def _x12(
    body: list[str] | None = None,
    *,
    st_control: str = "0001",
    se_count: int | None = None,
    se_control: str | None = None,
    version: str = "005010X221A1",
    set_id: str = "835",
    gs_control: str = "1",
    ge_count: str = "1",
    ge_control: str | None = None,
    isa_control: str = "000000001",
    iea_count: str = "1",
    iea_control: str | None = None,
    element: str = "*",
    component: str = ":",
    repetition: str = "^",
    terminator: str = "~\n",
) -> bytes:
    """A whole 835 interchange; body segments are written with '*' and ':' then translated."""
    transaction = [f"ST*{set_id}*{st_control}", *(HEADER + CLAIM if body is None else body)]
    count = len(transaction) + 1 if se_count is None else se_count
    transaction.append(f"SE*{count}*{st_control if se_control is None else se_control}")
    segments = [
        f"GS*HP*SENDER*RECEIVER*20240110*1200*{gs_control}*X*{version}",
        *transaction,
        f"GE*{ge_count}*{gs_control if ge_control is None else ge_control}",
        f"IEA*{iea_count}*{isa_control if iea_control is None else iea_control}",
    ]
    translated = [s.replace("*", element).replace(":", component) for s in segments]
    isa = _isa(isa_control, element=element, component=component, repetition=repetition)
    return terminator.join([isa, *translated]).encode("latin-1") + terminator.encode("latin-1")


# -- every public sample file --------------------------------------------------------------


def test_every_fixture_file_is_covered_by_a_test() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.name != "SOURCES.txt"}
    assert on_disk == set(FILES_5010) | set(FILES_4010) | {NO_ENVELOPE}


@pytest.mark.parametrize("name", FILES_5010)
def test_every_5010_sample_reads_without_errors(name: str) -> None:
    parsed = _fixture(name)
    assert parsed.errors == []
    assert parsed.version == "005010X221A1"
    assert parsed.transactions and all(t.claims for t in parsed.transactions)


@pytest.mark.parametrize("name", FILES_4010)
def test_4010_samples_are_refused_with_an_error_naming_4010(name: str) -> None:
    parsed = _fixture(name)
    assert not parsed.ok
    assert any("4010" in e.message and "005010X221A1" in e.message for e in parsed.errors)
    assert parsed.transactions == []


def test_4010_sample_error_names_the_declared_version() -> None:
    parsed = _fixture("oopfactory__4010_Example1_reversals_plb.txt")
    assert _messages(parsed.errors) == [
        "X12 version 004010X091A1 (4010) is not supported: send the 005010X221A1 (5010) remittance"
    ]
    assert (parsed.errors[0].segment_number, parsed.errors[0].segment_id) == (2, "GS")


def test_masked_4010_version_is_recognised_from_the_isa() -> None:
    parsed = _fixture("oopfactory__4010_DeIdent_01_large.dat")
    assert len(parsed.errors) == 1
    assert "'999999X999X9' is not recognised" in parsed.errors[0].message
    assert "4010-style (ISA11 'U'" in parsed.errors[0].message
    assert parsed.segment_count == 2361


def test_pyx12_denied_claim_with_line_remarks() -> None:
    parsed = _fixture("pyx12__835_mult_loops.txt")
    assert parsed.warnings == []
    assert parsed.segment_count == 35
    (transaction,) = parsed.transactions
    assert (transaction.control_number, transaction.interchange_control_number) == ("0001", "000238388")
    assert transaction.group_control_number == "383880001"
    assert (transaction.handling_code, transaction.payment_method) == ("H", "NON")
    assert transaction.payment_amount == Decimal("0")
    assert transaction.payment_date == dt.date(2004, 10, 28)
    assert transaction.production_date == dt.date(2013, 9, 1)
    assert transaction.payee.tin == "444313000"
    (claim,) = transaction.claims
    assert (claim.patient_control_number, claim.status_code) == ("2005555A", "4")
    assert (claim.charge, claim.paid) == (Decimal("915.39"), Decimal("0"))
    assert (claim.patient_last_name, claim.patient_first_name, claim.patient_member_id) == (
        "BACH",
        "JOHANN",
        "00001612",
    )
    assert [line.procedure_code for line in claim.service_lines] == ["T1005"] * 3
    assert [line.units for line in claim.service_lines] == [Decimal("68"), Decimal("16"), Decimal("36")]
    assert _adjustments(claim) == [
        ("CO", "16", Decimal("500.04")),
        ("OA", "A7", Decimal("127.8")),
        ("OA", "A7", Decimal("287.55")),
    ]
    assert all(line.remark_codes == ["N14"] for line in claim.service_lines)
    first = claim.service_lines[0]
    assert (first.service_date, first.service_date_end) == (dt.date(2003, 11, 29), dt.date(2003, 11, 29))


def test_medicare_part_a_reads_mia_moa_and_plb_and_balances_with_the_plb() -> None:
    parsed = _fixture("lfh__medicare-part-a.835")
    assert parsed.warnings == []
    (transaction,) = parsed.transactions
    assert transaction.payment_amount == Decimal("150000.00")
    assert (transaction.trace_number, transaction.trace_originator) == ("12345", "1512345678")
    assert transaction.payer.name == "INSURANCE COMPANY OF TIMBUCKTU"
    assert transaction.payer.additional_ids == {"2U": "999"}
    assert transaction.payee.npi == "6543210903"
    assert [c.patient_control_number for c in transaction.claims] == ["666123", "777777"]
    assert [c.service_lines for c in transaction.claims] == [[], []]
    first, second = transaction.claims
    assert first.paid == Decimal("138018.40")
    assert (first.facility_type, first.frequency_code, first.filing_indicator) == ("11", "1", "MA")
    assert first.adjustments == [Adjustment("CO", "45", Decimal("73348.57"))]
    assert (first.statement_from, first.statement_to) == (dt.date(2002, 8, 16), dt.date(2002, 8, 24))
    assert second.remark_codes == ["MA02"]
    assert (second.patient_last_name, second.patient_member_id) == ("BORDER", "996669999B")
    assert transaction.provider_adjustments == [
        ProviderAdjustment("6543210903", dt.date(2002, 12, 31), "CV", "CP", Decimal("-1.27"))
    ]


def test_managed_care_reads_service_periods_and_warns_on_the_impossible_payment_date() -> None:
    parsed = _fixture("lfh__managed-care.835")
    # The TR3 example's BPR16 is 20002316: a date is lost, no money is, so it only warns.
    assert _messages(parsed.warnings) == ["BPR16 '20002316' is not a date (CCYYMMDD); left empty"]
    (transaction,) = parsed.transactions
    assert transaction.payment_date is None
    assert transaction.payee.npi == "5544667733"
    assert transaction.payee.tin == "777667755"
    assert len(transaction.claims) == 2
    first = transaction.claims[0]
    assert first.adjustments == [Adjustment("CO", "A2", Decimal("50.00"))]
    (line,) = first.service_lines
    assert (line.qualifier, line.procedure_code, line.modifiers) == ("HC", "99211", [])
    assert (line.service_date, line.service_date_end) == (dt.date(2002, 3, 1), dt.date(2002, 3, 4))
    assert line.adjustments == [Adjustment("PR", "1", Decimal("300.00"))]
    assert _adjustments(transaction.claims[1]) == [
        ("CO", "A2", Decimal("55.00")),
        ("PR", "1", Decimal("600.00")),
        ("CO", "45", Decimal("50.00")),
    ]


def test_secondary_payment_reads_svc01_written_with_a_different_component_separator() -> None:
    parsed = _fixture("lfh__secondary-payment.835")
    assert _messages(parsed.warnings) == [
        "SVC01 'HC>12345>26' separates its parts with '>' but the file's component separator is ':'; read it with '>'"
    ]
    (transaction,) = parsed.transactions
    first, second = transaction.claims
    assert first.status_code == "2"
    assert first.adjustments == [Adjustment("OA", "23", Decimal("9411.64"))]
    assert first.rendering_provider_name == "ACME MEDICAL CENTER"
    assert [(s.procedure_code, s.modifiers) for s in second.service_lines] == [
        ("12345", ["26"]),
        ("66543", ["26"]),
    ]
    assert second.service_lines[1].revenue_code == "220"
    assert second.service_lines[1].allowed == Decimal("500.00")
    assert _adjustments(second)[1:] == [
        ("PR", "1", Decimal("150.00")),
        ("PR", "2", Decimal("70.00")),
        ("CO", "42", Decimal("85.00")),
    ]
    assert transaction.payee.tin == "599944521"


def test_tertiary_payment_with_a_codeless_svc_warns_but_reads() -> None:
    parsed = _fixture("lfh__tertiary-payment.835")
    (claim,) = parsed.transactions[0].claims
    assert claim.status_code == "3"
    assert (claim.charge, claim.paid) == (Decimal("1766.50"), Decimal("187.50"))
    (line,) = claim.service_lines
    # The TR3 example drops the procedure code, so its amounts shift one element left.
    assert (line.qualifier, line.procedure_code) == ("HC", "")
    assert _messages(parsed.warnings)[0] == "SVC01 'HC' has no procedure code"
    assert len(claim.warnings) == 1 and "line 1 (HC) does not balance" in claim.warnings[0].message


def test_cob_contractual_adjustment_keeps_negative_cas_amounts() -> None:
    parsed = _fixture("lfh__cob-contractural-adjustment.835")
    (claim,) = parsed.transactions[0].claims
    assert _adjustments(claim) == [("OA", "23", Decimal("516.00")), ("OA", "94", Decimal("-9.00"))]
    assert claim.warnings == []
    assert claim.service_lines[0].procedure_code == "55669"
    assert len(parsed.warnings) == 1  # the '>' inside SVC01, once


def test_emedny_sample_reads_three_claims_and_ten_lines() -> None:
    parsed = _fixture("edi835parser__emedny_sample.txt")
    assert parsed.warnings == []
    assert parsed.segment_count == 69
    (transaction,) = parsed.transactions
    assert transaction.payer.name == "NYSDOH"
    assert (transaction.payment_amount, transaction.payment_method) == (Decimal("45.75"), "ACH")
    assert transaction.payment_date == dt.date(2010, 1, 1)
    assert [len(c.service_lines) for c in transaction.claims] == [4, 2, 4]
    assert [c.status_code for c in transaction.claims] == ["1", "2", "2"]
    assert transaction.claims[0].service_lines[0].modifiers == ["RB"]
    assert transaction.claims[0].patient_member_id == "LL99999L"
    assert _adjustments(transaction.claims[1]) == [("CO", "29", Decimal("12")), ("CO", "29", Decimal("22"))]
    denied = transaction.claims[2].service_lines[2:]
    assert [line.remark_codes for line in denied] == [["N206"], ["N206"]]
    assert [line.adjustments[0].reason_code for line in denied] == ["251", "251"]


def test_united_healthcare_sample_uses_its_declared_component_separator() -> None:
    parsed = _fixture("edi835parser__united_healthcare_legacy_sample.txt")
    assert parsed.warnings == []
    (transaction,) = parsed.transactions
    assert transaction.payer.id_qualifier == "XV"
    assert transaction.payer.identifier == "87726"
    assert transaction.payer.additional_ids == {"2U": "87726"}
    first, second = transaction.claims
    assert [line.procedure_code for line in first.service_lines] == ["B4152", "B4152"]
    assert [line.procedure_code for line in second.service_lines] == ["B4154", "B4034", "B4154"]
    assert first.patient_responsibility == Decimal("105.26")
    assert first.received_date == dt.date(2021, 1, 14)
    assert first.service_lines[0].units == Decimal("234")
    assert first.service_lines[0].line_control_number == "800941258001"
    # One CAS segment with two triples: PR-2 and PR-1.
    assert _adjustments(second)[1:3] == [("PR", "2", Decimal("5.13")), ("PR", "1", Decimal("110"))]
    assert sum(len(_adjustments(c)) for c in transaction.claims) == 7


def test_dental_sample_splits_svc01_on_a_pipe_component_separator() -> None:
    parsed = _fixture("tigershark__5010-835-example-1_dental_pipe-component.txt")
    assert parsed.warnings == []
    (transaction,) = parsed.transactions
    assert [c.status_code for c in transaction.claims] == ["25", "1", "1"]
    assert [len(c.service_lines) for c in transaction.claims] == [7, 1, 1]
    predetermination = transaction.claims[0]
    assert [(s.qualifier, s.procedure_code) for s in predetermination.service_lines[:2]] == [
        ("AD", "D1110"),
        ("AD", "D2150"),
    ]
    assert predetermination.adjustments == [Adjustment("OA", "101", Decimal("122"))]
    assert predetermination.service_lines[0].adjustments == [Adjustment("CO", "42", Decimal("10"), Decimal("1"))]
    assert predetermination.service_lines[2].remark_codes == ["N30"]
    assert sum(len(_adjustments(c)) for c in transaction.claims) == 10


def test_denial_sample_reads_insured_and_rendering_provider() -> None:
    parsed = _fixture("tigershark__5010-835-example-3_denial.txt")
    assert parsed.warnings == []
    denied, paid = parsed.transactions[0].claims
    assert denied.filing_indicator == "HM"
    assert _adjustments(denied) == [("PR", "29", Decimal("1088"))]
    assert denied.insured_member_id == "BBB1A2A1A2A1A2A"
    assert denied.patient_member_id == "1A2A1A2A1A2A"
    assert (denied.rendering_provider_name, denied.rendering_provider_npi) == ("PROVIDER, MR", "1234567898")
    assert denied.service_lines[0].modifiers == ["P2"]
    assert _adjustments(paid) == [("PR", "3", Decimal("30")), ("CO", "45", Decimal("12.56"))]
    assert paid.service_lines[0].allowed == Decimal("87.44")


def test_several_interchanges_in_one_file_each_give_their_transaction() -> None:
    parsed = _fixture("oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt")
    transactions = parsed.transactions
    assert [t.control_number for t in transactions] == ["8001", "9001", "10001"]
    assert [t.interchange_control_number for t in transactions] == ["000000031", "000000032", "000000033"]
    assert [t.group_control_number for t in transactions] == ["8", "9", "10"]
    assert [t.payment_amount for t in transactions] == [Decimal("999.99"), Decimal("9999.99"), Decimal("482.13")]
    assert [len(t.claims) for t in transactions] == [19, 23, 14]
    assert [sum(len(c.service_lines) for c in t.claims) for t in transactions] == [38, 24, 29]
    claims = [c for t in transactions for c in t.claims]
    assert sum(c.status_code == "4" for c in claims) == 16
    reasons = Counter(a[1] for c in claims for a in _adjustments(c))
    assert sum(reasons.values()) == 97
    assert reasons["24"] == 31
    assert claims[0].service_lines[1].procedure_code == "90716"
    assert claims[0].service_lines[0].units == Decimal("9.999")
    assert parsed.segment_count == 789
    # The sample's amounts are masked (999.99), so it cannot balance: warnings only.
    assert parsed.warnings and all("does not balance" in w.message for w in parsed.warnings)


def test_file_without_envelope_reads_with_a_warning() -> None:
    parsed = _fixture(NO_ENVELOPE)
    assert parsed.errors == []
    assert parsed.warnings[0].message == "file has no ISA/GS envelope; control numbers could not be checked"
    (transaction,) = parsed.transactions
    assert (transaction.control_number, transaction.interchange_control_number) == ("1234", "")
    assert transaction.payment_amount == Decimal("1922.86")
    assert transaction.payee.npi == "0987654321"
    (claim,) = transaction.claims
    assert claim.patient_control_number == "200200964A52"
    assert (claim.patient_last_name, claim.patient_first_name) == ("Dough", "Mary")
    assert claim.patient_member_id == "YPB123456789001"
    assert [line.procedure_code for line in claim.service_lines] == ["59430", "59440", "59426"]
    assert claim.service_lines[0].original_procedure_code == "59410"
    assert claim.service_lines[0].allowed == Decimal("1175.4")
    assert _adjustments(claim) == [
        ("CO", "42", Decimal("34.6")),
        ("PR", "2", Decimal("117.54")),
        ("PR", "3", Decimal("25")),
    ]
    assert claim.warnings == []  # the claim balances once the empty SVC amounts read as 0


# -- delimiters and layout -----------------------------------------------------------------


def test_custom_delimiters_read_the_same_as_the_usual_ones() -> None:
    usual = read_835(_x12())
    custom = read_835(_x12(element="|", component="^", repetition="{", terminator="\n"))
    assert usual.ok and custom.ok
    assert custom.transactions == usual.transactions
    line = custom.transactions[0].claims[0].service_lines[0]
    assert (line.procedure_code, line.modifiers) == ("99213", ["25"])


def test_segments_without_newlines_read_the_same_as_with_crlf() -> None:
    packed = read_835(_x12(terminator="~"))
    crlf = read_835(_x12(terminator="~\r\n"))
    assert packed.ok and crlf.ok
    assert packed.transactions == crlf.transactions
    assert packed.segment_count == crlf.segment_count == 22


def test_concatenated_files_with_a_bom_each_are_both_read() -> None:
    second = _x12(isa_control="000000002", st_control="0002", gs_control="2")
    parsed = read_835(b"\xef\xbb\xbf" + _x12() + b"\xef\xbb\xbf" + second)
    assert parsed.ok
    assert len(parsed.transactions) == 2


def test_bom_and_indented_lines_are_tolerated() -> None:
    plain = _x12()
    indented = b"\xef\xbb\xbf  " + b"\n".join(b"    " + line for line in plain.split(b"\n"))
    parsed = read_835(indented)
    assert parsed.ok
    assert parsed.transactions == read_835(plain).transactions


def test_terminator_written_before_each_segment_on_its_own_line() -> None:
    # "ISA...^\n~GS...\n~ST..." : the '~' after each line break is the real terminator.
    text = _x12(terminator="~").decode("latin-1").replace("~", "\n~").rstrip("\n~")
    parsed = read_835(text.encode("latin-1"))
    assert parsed.ok
    assert parsed.transactions[0].claims[0].patient_control_number == "PCN1"


def test_narrow_masked_isa_still_gives_its_delimiters() -> None:
    data = _x12().replace(b"SENDER         ", b"X").replace(b"*          *", b"**")
    parsed = read_835(data)
    assert parsed.ok
    assert parsed.transactions[0].claims[0].charge == Decimal("100")


def test_file_without_envelope_detects_its_delimiters_from_st() -> None:
    body = "\n".join(["ST|835|77", *(s.replace("*", "|").replace(":", ">") for s in HEADER + CLAIM), "SE|18|77"])
    parsed = read_835(body.encode())
    assert parsed.errors == []
    assert "file has no ISA/GS envelope; control numbers could not be checked" in _messages(parsed.warnings)
    line = parsed.transactions[0].claims[0].service_lines[0]
    assert (line.procedure_code, line.modifiers) == ("99213", ["25"])


# -- envelope checks -----------------------------------------------------------------------


def test_wrong_se_count_is_an_error_at_the_se_segment() -> None:
    parsed = read_835(_x12(se_count=99))
    assert not parsed.ok
    (error,) = parsed.errors
    assert (error.segment_number, error.segment_id) == (20, "SE")
    assert error.message == "SE01 says 99 segments but transaction 0001 has 18 (ST to SE inclusive)"


def test_se_control_number_must_match_st() -> None:
    parsed = read_835(_x12(se_control="0002"))
    assert _messages(parsed.errors) == ["SE02 '0002' does not match ST02 '0001'"]


def test_ge_count_and_control_number_must_match() -> None:
    parsed = read_835(_x12(ge_count="2", ge_control="7"))
    assert _messages(parsed.errors) == [
        "GE01 says 2 but group 1 holds 1 transaction set",
        "GE02 '7' does not match GS06 '1'",
    ]
    assert {e.segment_id for e in parsed.errors} == {"GE"}


def test_iea_count_and_control_number_must_match() -> None:
    parsed = read_835(_x12(iea_count="3", iea_control="000000002"))
    assert _messages(parsed.errors) == [
        "IEA01 says 3 but interchange 000000001 holds 1 functional group",
        "IEA02 '000000002' does not match ISA13 '000000001'",
    ]
    assert parsed.errors[0].segment_number == 22


def test_missing_se_ge_and_iea_are_each_reported() -> None:
    text = _x12(terminator="~").decode()
    truncated = text[: text.index("SE*")]
    parsed = read_835(truncated.encode())
    messages = _messages(parsed.errors)
    assert len(messages) == 3
    assert "transaction 0001 (ST at segment 3) has no SE" in messages[0]
    assert "functional group 1 (GS at segment 2) has no GE" in messages[1]
    assert "interchange 000000001 (ISA at segment 1) has no IEA" in messages[2]


def test_segment_outside_any_transaction_is_an_error() -> None:
    data = _x12().replace(b"GE*1*1", b"CLP*STRAY*1*1*1~\nGE*1*1")
    parsed = read_835(data)
    assert _messages(parsed.errors) == ["CLP is outside any transaction (ST … SE)"]
    assert parsed.errors[0].segment_number == 21


def test_envelope_without_any_transaction_is_an_error() -> None:
    data = "~".join([_isa(), "GS*HP*S*R*20240110*1200*1*X*005010X221A1", "GE*0*1", "IEA*1*000000001"]) + "~"
    parsed = read_835(data.encode())
    assert _messages(parsed.errors) == ["the file holds no transaction (no ST segment)"]


def test_two_interchanges_in_one_file_are_both_read() -> None:
    second = _x12(isa_control="000000002", st_control="0002", gs_control="2")
    parsed = read_835(_x12() + second)
    assert parsed.ok
    assert [t.interchange_control_number for t in parsed.transactions] == ["000000001", "000000002"]
    assert parsed.segment_count == 44


def test_transaction_set_other_than_835_is_refused_by_name() -> None:
    parsed = read_835(_x12(set_id="837"))
    assert "transaction set '837' is not an 835 remittance" in _messages(parsed.errors)
    assert parsed.transactions == []


def test_4010_version_in_gs08_is_refused() -> None:
    parsed = read_835(_x12(version="004010X091A1"))
    assert _messages(parsed.errors) == [
        "X12 version 004010X091A1 (4010) is not supported: send the 005010X221A1 (5010) remittance"
    ]


def test_other_5010_guide_is_refused() -> None:
    parsed = read_835(_x12(version="005010X222A1"))
    assert not parsed.ok
    assert "005010X222A1" in parsed.errors[0].message


def test_5010_without_a1_errata_is_read() -> None:
    parsed = read_835(_x12(version="005010X221"))
    assert parsed.ok
    assert parsed.version == parsed.transactions[0].version == "005010X221"


# -- fields and balancing ------------------------------------------------------------------


def test_synthetic_claim_reads_every_field() -> None:
    parsed = read_835(_x12())
    assert parsed.errors == [] and parsed.warnings == []
    (transaction,) = parsed.transactions
    assert transaction.payment_date == dt.date(2024, 1, 10)
    assert transaction.payer.additional_ids == {"2U": "98765"}
    assert (transaction.payee.npi, transaction.payee.tin) == ("1234567893", "123456789")
    assert (transaction.sender_id, transaction.receiver_id) == ("SENDER", "RECEIVER")
    (claim,) = transaction.claims
    assert (claim.payer_claim_number, claim.patient_responsibility) == ("PAYERCLAIM1", Decimal("20"))
    assert claim.statement_from == dt.date(2024, 1, 5)
    (line,) = claim.service_lines
    assert (line.line_control_number, line.allowed, line.units) == ("LINE1", Decimal("100"), Decimal("1"))
    assert line.service_date == dt.date(2024, 1, 5)


def test_bad_amount_is_an_error_naming_the_element() -> None:
    body = [*HEADER, "CLP*PCN1*1*abc*80*20*12*PAYERCLAIM1", *CLAIM[1:]]
    parsed = read_835(_x12(body))
    assert _messages(parsed.errors) == ["CLP03 'abc' is not an amount"]
    assert (parsed.errors[0].segment_number, parsed.errors[0].segment_id) == (12, "CLP")


@pytest.mark.parametrize("amount", ["1e3", "1,000", "NaN", "1 0", "--1"])
def test_amounts_that_are_not_plain_decimals_are_errors(amount: str) -> None:
    body = [*HEADER, *CLAIM[:3], f"SVC*HC:99213*{amount}*80**1"]
    parsed = read_835(_x12(body))
    assert f"SVC02 '{amount}' is not an amount" in _messages(parsed.errors)


def test_amounts_in_every_x12_decimal_form_are_read() -> None:
    body = [
        *HEADER,
        "CLP*PCN1*1*100*.5*-1.27*12*X",
        "CAS*CO*45*101.27",
        "CAS*PR*1*-1.27**2*.",
    ]
    parsed = read_835(_x12(body))
    claim = parsed.transactions[0].claims[0]
    assert (claim.paid, claim.patient_responsibility) == (Decimal(".5"), Decimal("-1.27"))
    assert "CAS06 '.' is not an amount" in _messages(parsed.errors)


def test_unreadable_date_is_a_warning_and_left_empty() -> None:
    body = [*HEADER, *CLAIM[:2], "DTM*232*2024013X", *CLAIM[3:]]
    parsed = read_835(_x12(body))
    assert parsed.ok
    assert _messages(parsed.warnings) == ["DTM02 '2024013X' is not a date (CCYYMMDD); left empty"]
    assert parsed.transactions[0].claims[0].statement_from is None


def test_claim_that_does_not_balance_is_a_warning_not_an_error() -> None:
    body = [*HEADER, *CLAIM[:5], "CAS*PR*2*15", *CLAIM[6:]]
    parsed = read_835(_x12(body))
    assert parsed.ok
    claim = parsed.transactions[0].claims[0]
    expected = "claim PCN1 does not balance: charge 100.00 \u2212 paid 80.00 = 20.00 but adjustments total 15.00"
    assert _messages(claim.warnings)[0] == expected
    assert expected in _messages(parsed.warnings)
    assert claim.warnings[0].segment_number == 12
    assert any("claim PCN1 line 1 (99213) does not balance" in m for m in _messages(claim.warnings))


def test_line_fully_paid_without_cas_balances() -> None:
    body = ["BPR*I*100*C*CHK", *HEADER[1:], "CLP*PCN2*1*100*100**12*X", "SVC*HC:99213*100*100**1"]
    parsed = read_835(_x12(body))
    assert parsed.ok
    assert parsed.warnings == []
    assert parsed.transactions[0].payment_amount == Decimal("100")


def test_transaction_whose_payment_does_not_match_its_claims_warns() -> None:
    body = ["BPR*I*81*C*ACH", *HEADER[1:], *CLAIM]
    parsed = read_835(_x12(body))
    assert parsed.ok
    transaction = parsed.transactions[0]
    assert _messages(transaction.warnings) == [
        "transaction 0001 does not balance: claims paid 80.00 \u2212 provider adjustments 0.00 = 80.00 "
        "but BPR02 pays 81.00"
    ]
    assert transaction.warnings[0] in parsed.warnings


def test_reversal_with_negative_amounts_reads_and_balances() -> None:
    body = [
        "BPR*I*0*C*NON",
        *HEADER[1:],
        "CLP*PCN1*22*-100*-80*-20*12*PAYERCLAIM1",
        "CAS*PR*2*-20",
        "NM1*QC*1*DOE*JANE****MI*M123",
        "CLP*PCN1*1*100*80*20*12*PAYERCLAIM2",
        "CAS*PR*2*20",
    ]
    parsed = read_835(_x12(body))
    assert parsed.ok and parsed.warnings == []
    reversal, corrected = parsed.transactions[0].claims
    assert (reversal.status_code, reversal.charge, reversal.paid) == ("22", Decimal("-100"), Decimal("-80"))
    assert reversal.adjustments == [Adjustment("PR", "2", Decimal("-20"))]
    assert corrected.payer_claim_number == "PAYERCLAIM2"


def test_plb_pairs_are_read_and_count_in_the_payment_balance() -> None:
    body = ["BPR*I*55*C*ACH", *HEADER[1:], *CLAIM, "PLB*1234567893*20241231*WO:RECOUP1*30*L6*-5"]
    parsed = read_835(_x12(body))
    assert parsed.ok and parsed.warnings == []
    assert parsed.transactions[0].provider_adjustments == [
        ProviderAdjustment("1234567893", dt.date(2024, 12, 31), "WO", "RECOUP1", Decimal("30")),
        ProviderAdjustment("1234567893", dt.date(2024, 12, 31), "L6", "", Decimal("-5")),
    ]


def test_debit_payment_balances_against_negative_claims() -> None:
    body = ["BPR*I*80*D*ACH", *HEADER[1:], "CLP*PCN1*22*-100*-80*-20*12*X", "CAS*PR*2*-20"]
    parsed = read_835(_x12(body))
    assert parsed.ok
    assert parsed.warnings == []


def test_insured_member_id_stands_in_when_the_patient_has_none() -> None:
    body = [
        *HEADER,
        "CLP*PCN1*1*100*80*20*12*X",
        "CAS*PR*2*20",
        "NM1*QC*1*DOE*JOHN",
        "NM1*IL*1*DOE*JANE****MI*SUB999",
        "NM1*82*1*SMITH*ANNA****XX*1999999984",
    ]
    claim = read_835(_x12(body)).transactions[0].claims[0]
    assert (claim.patient_first_name, claim.patient_member_id) == ("JOHN", "SUB999")
    assert claim.insured_member_id == "SUB999"
    assert (claim.rendering_provider_name, claim.rendering_provider_npi) == ("SMITH, ANNA", "1999999984")


def test_moa_and_mia_remark_codes_are_collected_on_the_claim() -> None:
    body = [
        *HEADER,
        "CLP*PCN1*1*100*80*20*12*X",
        "CAS*PR*2*20",
        "MIA*0***12*MA01***************MA02*MA03",
        "MOA***N381*MA01*M15",
    ]
    claim = read_835(_x12(body)).transactions[0].claims[0]
    assert claim.remark_codes == ["MA01", "MA02", "MA03", "N381", "M15"]


def test_svc_reads_revenue_code_units_and_original_procedure() -> None:
    body = [
        *HEADER,
        "CLP*PCN1*1*100*80*20*12*X",
        "SVC*HC:99214:25:59:XS:LT*100*80*0510*2*HC:99215",
        "DTM*150*20240101",
        "DTM*151*20240103",
        "CAS*PR*1*15*1*2*5",
        "LQ*HE*M15",
        "LQ*RX*IGNORED",
    ]
    parsed = read_835(_x12(body))
    assert parsed.ok and parsed.warnings == []
    line = parsed.transactions[0].claims[0].service_lines[0]
    assert line.modifiers == ["25", "59", "XS", "LT"]
    assert (line.revenue_code, line.units, line.original_procedure_code) == ("0510", Decimal("2"), "99215")
    assert (line.service_date, line.service_date_end) == (dt.date(2024, 1, 1), dt.date(2024, 1, 3))
    assert line.adjustments == [
        Adjustment("PR", "1", Decimal("15"), Decimal("1")),
        Adjustment("PR", "2", Decimal("5")),
    ]
    assert line.remark_codes == ["M15"]


def test_unknown_segments_inside_a_transaction_are_skipped() -> None:
    body = [*HEADER, "ZZZ*ANYTHING*AT*ALL", "TS3*X*11*20241231*1*100", *CLAIM]
    parsed = read_835(_x12(body))
    assert parsed.ok and parsed.warnings == []
    assert parsed.transactions[0].claims[0].charge == Decimal("100")


# -- input that is not an 835 at all --------------------------------------------------------


def test_garbage_is_not_an_x12_file() -> None:
    parsed = read_835(b"Dear billing office,\nplease find attached...\n")
    assert _messages(parsed.errors) == ["not an X12 file: it does not start with ISA or ST"]
    assert parsed.transactions == []


def test_empty_input_is_an_error() -> None:
    assert _messages(read_835(b"").errors) == ["the file is empty"]
    assert _messages(read_835(b"\xef\xbb\xbf \r\n\t").errors) == ["the file is empty"]


@pytest.mark.parametrize(
    "data",
    [
        b"ISA",
        b"ISA*00*",
        b"ISA*00*  *00*  *ZZ*A*ZZ*B*1*1*^*00501*1*0*P",
        b"ST",
        b"ST*",
        b"STATEMENT OF ACCOUNT",
        b"\x00\xff\xfe\x80ISA",
        bytes(range(256)),
        b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240110*1200*^*00501*1*0*P*:~" * 3,
    ],
)
def test_broken_input_is_refused_with_a_reason_not_a_crash(data: bytes) -> None:
    parsed = read_835(data)
    assert not parsed.ok
    assert parsed.transactions == []
    # The reader's last-resort catch says "could not be read"; real findings never do.
    assert not any("could not be read (" in e.message for e in parsed.errors)


# -- the reader pauses the cyclic garbage collector while it runs ----------------------------


def test_reader_restores_the_garbage_collector_state() -> None:
    assert gc.isenabled()
    read_835(_x12())
    assert gc.isenabled()
    gc.disable()
    try:
        read_835(_x12())
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("name", ["oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt", NO_ENVELOPE])
def test_reader_leaves_no_reference_cycles_behind(name: str) -> None:
    # Pausing the collector is only safe because reference counting frees everything.
    data = (FIXTURES / name).read_bytes()
    gc.collect()
    parsed = read_835(data)
    del parsed
    assert gc.collect() == 0


# -- text encoding, and what the reader does not keep is never silent ----------------------


def _claim_with(*segments: str) -> list[str]:
    return [*HEADER, "CLP*PCN1*1*100*80*20*12*PAYERCLAIM1*11*1", *segments]


def test_utf8_names_are_read_as_utf8_without_a_warning() -> None:
    data = _x12(_claim_with("NM1*QC*1*MULLER*JOSE****MI*M123")).replace(b"MULLER", "MÜLLER".encode())
    data = data.replace(b"JOSE", "JOSÉ".encode())
    parsed = read_835(data)
    claim = parsed.transactions[0].claims[0]
    assert (claim.patient_last_name, claim.patient_first_name) == ("MÜLLER", "JOSÉ")
    assert not any("UTF-8" in m for m in _messages(parsed.warnings))


def test_latin1_file_is_read_as_latin1_with_a_warning() -> None:
    data = _x12(_claim_with("NM1*QC*1*MULLER*JOSE****MI*M123")).replace(b"MULLER", "MÜLLER".encode("latin-1"))
    parsed = read_835(data)
    assert parsed.ok
    assert parsed.transactions[0].claims[0].patient_last_name == "MÜLLER"
    [warning] = [w for w in parsed.warnings if "UTF-8" in w.message]
    assert "Latin-1" in warning.message and "0xdc" in warning.message


def test_a_seventh_cas_triple_is_kept_and_named_in_a_warning() -> None:
    triples = "*".join(f"{reason}*1*" for reason in ("1", "2", "3", "45", "96", "97", "253"))
    parsed = read_835(_x12(_claim_with(f"CAS*CO*{triples}")))
    claim = parsed.transactions[0].claims[0]
    assert [a.reason_code for a in claim.adjustments] == ["1", "2", "3", "45", "96", "97", "253"]
    assert claim.adjustments[6].element == 20 and claim.adjustments[6].segment_number == 13
    [warning] = [w for w in parsed.warnings if w.segment_id == "CAS"]
    assert warning.segment_number == 13 and "past CAS19" in warning.message


def test_six_cas_triples_read_without_a_warning() -> None:
    triples = "*".join(f"{reason}*1*2" for reason in ("1", "2", "3", "45", "96", "97"))
    parsed = read_835(_x12(_claim_with(f"CAS*CO*{triples}")))
    assert len(parsed.transactions[0].claims[0].adjustments) == 6
    assert parsed.transactions[0].claims[0].adjustments[5].quantity == Decimal("2")
    assert not [w for w in parsed.warnings if w.segment_id == "CAS"]


def test_svc_modifiers_beyond_the_fourth_are_named_in_a_warning() -> None:
    parsed = read_835(_x12(_claim_with("SVC*HC:99213:25:59:XS:XU:GT:95*100*100**1")))
    line = parsed.transactions[0].claims[0].service_lines[0]
    assert line.modifiers == ["25", "59", "XS", "XU"]
    [warning] = [w for w in parsed.warnings if w.segment_id == "SVC"]
    assert warning.segment_number == 13 and "'GT', '95'" in warning.message and "not kept" in warning.message


def test_svc_description_after_the_modifiers_is_not_a_warning() -> None:
    parsed = read_835(_x12(_claim_with("SVC*HC:99213:25::::OFFICE VISIT*100*100**1")))
    assert parsed.transactions[0].claims[0].service_lines[0].modifiers == ["25"]
    assert not [w for w in parsed.warnings if w.segment_id == "SVC"]


def test_values_keep_the_segment_they_were_read_from() -> None:
    parsed = read_835(_x12())
    txn = parsed.transactions[0]
    # ISA 1, GS 2, ST 3, BPR 4, TRN 5, DTM 6, N1*PR 7, REF*2U 8, N1*PE 9, REF*TJ 10, LX 11, CLP 12 ...
    assert txn.origins == {"ISA": 1, "GS": 2, "BPR": 4, "TRN": 5}
    assert (txn.payer.segment_number, txn.payer.origins) == (7, {"REF*2U": 8})
    assert (txn.payee.segment_number, txn.payee.origins) == (9, {"REF*TJ": 10})
    claim = txn.claims[0]
    assert claim.segment_number == 12 and claim.origins == {"NM1*QC": 13}
    line = claim.service_lines[0]
    assert line.segment_number == 15 and line.origins == {"REF*6R": 18, "AMT*B6": 19}
    assert (line.adjustments[0].segment_number, line.adjustments[0].element) == (17, 2)
