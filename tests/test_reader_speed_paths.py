"""The 835 reader's fast paths read exactly what its plain paths read, and warn just as often.

The reader keeps what it has read per distinct text (amounts, dates, SVC01 composites, CAS01
group codes, and whole CAS, DTM, AMT and SVC segments read without a finding), reads the usual
one-reason CAS without its loop, checks an unsigned amount without the regex, and builds its
lines, adjustments and claims with positional arguments or by setting every field. Each test here
puts a value through the fast path and the plain one (or twice through the cache) and expects
the same value, and the same finding at each segment it belongs to. No timing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from denials.x12.parsed import Adjustment, ClaimPayment, Finding, ParsedFile, ServiceLine
from denials.x12.reader import _IS_AMOUNT, read_835
from tests.bad_835 import interchange, transaction

CLP = "CLP*A1*1*100*80*20*12*ICN1*11*1"
# bad_835's interchange puts ISA, GS, ST, BPR, TRN, N1, REF, N1, LX first: the CLP is segment 10.
FIRST = 10


def _read(*claim: str, clp: str = CLP) -> ParsedFile:
    return read_835(interchange(transaction("0001", "T1", [clp, *claim])))


def _claim(parsed: ParsedFile) -> ClaimPayment:
    (transaction_,) = parsed.transactions
    return transaction_.claims[0]


def _findings(findings: list[Finding], words: str) -> list[tuple[int, str]]:
    return [(f.segment_number, f.segment_id) for f in findings if words in f.message]


# -- amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["0", "12", "12.5", "12.", ".5", "+1", "-1.25", "007", ".", "", "1.2.3", "1e3", "1E3", " 1", "1 ", "1,000",
     "--1", "+-1", "1-", "\u0663.\u0665", "\u0661\u0662", "\u00b2", "\u00bd", "NaN", "Infinity", "0x10", "1_000", "\u0663.\u0665.\u0663"],
)  # fmt: skip
def test_quick_amount_check_never_accepts_what_the_regex_refuses(text: str) -> None:
    quick = text.replace(".", "", 1).isdecimal()
    if quick:
        assert _IS_AMOUNT(text)


def test_a_repeated_amount_reads_as_the_same_decimal_on_every_segment() -> None:
    parsed = _read("SVC*HC:99213*50*40**1", "CAS*CO*45*10", "SVC*HC:99214*50*40**1", "CAS*CO*45*10")
    claim = _claim(parsed)
    assert [(line.charge, line.paid) for line in claim.service_lines] == [(Decimal("50"), Decimal("40"))] * 2
    assert [a.amount for line in claim.service_lines for a in line.adjustments] == [Decimal("10")] * 2
    assert parsed.ok and not parsed.warnings


def test_an_unreadable_amount_is_an_error_at_every_segment_that_has_it() -> None:
    parsed = _read("SVC*HC:99213*1O0*80**1", "SVC*HC:99214*1O0*80**1", "CAS*CO*45*1O0", "CAS*CO*45*1O0")
    assert _findings(parsed.errors, "'1O0' is not an amount") == [
        (FIRST + 1, "SVC"),
        (FIRST + 2, "SVC"),
        (FIRST + 3, "CAS"),
        (FIRST + 4, "CAS"),
    ]
    assert [e.message for e in parsed.errors[:3]] == [
        "SVC02 '1O0' is not an amount",
        "SVC02 '1O0' is not an amount",
        "CAS03 '1O0' is not an amount",
    ]


def test_a_missing_required_amount_warns_at_every_segment() -> None:
    parsed = _read("SVC*HC:99213**80**1", "SVC*HC:99214**80**1")
    assert _findings(parsed.warnings, "SVC02 (amount) is missing; read as 0") == [
        (FIRST + 1, "SVC"),
        (FIRST + 2, "SVC"),
    ]
    assert [line.charge for line in _claim(parsed).service_lines] == [Decimal("0"), Decimal("0")]


def test_signed_and_unicode_amounts_read_as_the_regex_path_reads_them() -> None:
    parsed = _read("SVC*HC:99213*-5*+5**1", "SVC*HC:99214*\u0663.\u0665*.5**1")
    lines = _claim(parsed).service_lines
    assert [(line.charge, line.paid) for line in lines] == [
        (Decimal("-5"), Decimal("5")),
        (Decimal("3.5"), Decimal("0.5")),
    ]


# -- dates --------------------------------------------------------------------------------


def test_a_repeated_bad_date_warns_at_every_segment_and_a_good_one_is_shared() -> None:
    parsed = _read(
        "SVC*HC:99213*100*80**1",
        "DTM*472*20241345",
        "CAS*CO*45*20",
        "SVC*HC:99213*0*0**1",
        "DTM*472*20241345",
        "SVC*HC:99213*0*0**1",
        "DTM*472*20240105",
        "SVC*HC:99213*0*0**1",
        "DTM*472*20240105",
    )
    assert _findings(parsed.warnings, "DTM02 '20241345' is not a date") == [(FIRST + 2, "DTM"), (FIRST + 5, "DTM")]
    dates = [line.service_date for line in _claim(parsed).service_lines]
    assert dates == [None, None, dt.date(2024, 1, 5), dt.date(2024, 1, 5)]


# -- SVC01 --------------------------------------------------------------------------------


def test_lines_billing_the_same_svc01_read_alike_with_their_own_modifier_lists() -> None:
    parsed = _read("SVC*HC:99213:25:59*60*50**1", "CAS*CO*45*10", "SVC*HC:99213:25:59*40*40**1")
    first, second = _claim(parsed).service_lines
    assert (first.qualifier, first.procedure_code, first.modifiers) == ("HC", "99213", ["25", "59"])
    assert (second.qualifier, second.procedure_code, second.modifiers) == ("HC", "99213", ["25", "59"])
    first.modifiers.append("XU")  # the storing service may edit one line's list: the other keeps its own
    assert second.modifiers == ["25", "59"]


def test_an_svc01_without_a_procedure_code_warns_on_every_line() -> None:
    parsed = _read("SVC*HC*100*80**1", "CAS*CO*45*20", "SVC*HC*0*0**1")
    assert _findings(parsed.warnings, "has no procedure code") == [(FIRST + 1, "SVC"), (FIRST + 3, "SVC")]


def test_more_than_four_modifiers_warn_on_every_line() -> None:
    svc = "SVC*HC:99213:25:59:XS:XE:XP*100*80**1"
    parsed = _read(svc, "CAS*CO*45*20", svc.replace("100*80", "0*0"))
    assert _findings(parsed.warnings, "more than 4 modifiers") == [(FIRST + 1, "SVC"), (FIRST + 3, "SVC")]
    assert [line.modifiers for line in _claim(parsed).service_lines] == [["25", "59", "XS", "XE"]] * 2


def test_a_stray_component_separator_warns_once_per_separator_and_reads_every_line() -> None:
    parsed = _read("SVC*HC>99213*100*80**1", "CAS*CO*45*20", "SVC*HC>99213*0*0**1", "SVC*HC>99214*0*0**1")
    assert _findings(parsed.warnings, "separates its parts with '>'") == [(FIRST + 1, "SVC")]
    assert [line.procedure_code for line in _claim(parsed).service_lines] == ["99213", "99213", "99214"]


def test_svc01_with_spaces_reads_as_without() -> None:
    spaced = _claim(_read("SVC* HC: 99213 :25 *100*80**1", "CAS*CO*45*20")).service_lines[0]
    plain = _claim(_read("SVC*HC:99213:25*100*80**1", "CAS*CO*45*20")).service_lines[0]
    assert spaced == plain


# -- CAS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usual", "through_the_loop"),
    [
        ("CAS*CO*45*20", "CAS*CO*45*20*"),
        ("CAS* CO *45*20", "CAS* CO *45*20*"),
        ("CAS*CO* 45 *20", "CAS*CO* 45 *20*"),
        ("CAS*CO*45*20.00", "CAS*CO*45*20.00*"),
    ],
)
def test_the_one_reason_cas_reads_as_the_loop_reads_it(usual: str, through_the_loop: str) -> None:
    fast = _read("SVC*HC:99213*100*80**1", usual)
    loop = _read("SVC*HC:99213*100*80**1", through_the_loop)
    assert _claim(fast).service_lines[0].adjustments == _claim(loop).service_lines[0].adjustments
    (adjustment,) = _claim(fast).service_lines[0].adjustments
    assert (adjustment.group_code, adjustment.reason_code, adjustment.amount) == ("CO", "45", Decimal("20"))
    assert (adjustment.quantity, adjustment.segment_number, adjustment.element) == (None, FIRST + 2, 2)
    assert (fast.errors, fast.warnings) == (loop.errors, loop.warnings)


def test_an_unknown_group_code_warns_at_every_cas_even_once_read() -> None:
    parsed = _read("SVC*HC:99213*100*80**1", "CAS*ZZ*45*10", "CAS*ZZ*45*10*", "CAS*CO*45*0", "CAS*ZZ*46*0")
    assert _findings(parsed.warnings, "CAS01 'ZZ' is not a group code") == [
        (FIRST + 2, "CAS"),
        (FIRST + 3, "CAS"),
        (FIRST + 5, "CAS"),
    ]
    groups = [a.group_code for a in _claim(parsed).service_lines[0].adjustments]
    assert groups == ["ZZ", "ZZ", "CO", "ZZ"]


def test_a_cas_with_an_empty_reason_adds_nothing_and_a_cas_outside_a_claim_is_an_error() -> None:
    parsed = _read("SVC*HC:99213*100*100**1", "CAS*CO**20", "CAS*CO* *20")
    assert _claim(parsed).service_lines[0].adjustments == []
    outside = read_835(interchange(transaction("0001", "T1", ["CAS*CO*45*20"])))
    assert _findings(outside.errors, "CAS is not inside a claim") == [(FIRST, "CAS")]


def test_two_reason_cas_and_quantities_still_read_through_the_loop() -> None:
    parsed = _read("SVC*HC:99213*100*70**1", "CAS*CO*45*20*2*97*10")
    assert _claim(parsed).service_lines[0].adjustments == [
        Adjustment("CO", "45", Decimal("20"), Decimal("2")),
        Adjustment("CO", "97", Decimal("10"), None),
    ]
    assert [a.element for a in _claim(parsed).service_lines[0].adjustments] == [2, 5]


# -- lines and claims built positionally ----------------------------------------------------


def test_a_line_holds_every_field_it_would_with_keywords() -> None:
    parsed = _read(
        "SVC*HC:99213:25*100*80*0450*2*HC:99212",
        "DTM*472*20240105",
        "CAS*CO*45*20",
        "REF*6R*LINE1",
        "AMT*B6*80",
        "LQ*HE*N657",
    )
    line = _claim(parsed).service_lines[0]
    expected = ServiceLine(
        sequence=1,
        qualifier="HC",
        procedure_code="99213",
        modifiers=["25"],
        charge=Decimal("100"),
        paid=Decimal("80"),
        revenue_code="0450",
        units=Decimal("2"),
        original_procedure_code="99212",
        service_date=dt.date(2024, 1, 5),
        line_control_number="LINE1",
        allowed=Decimal("80"),
        adjustments=[Adjustment("CO", "45", Decimal("20"), None, FIRST + 3, 2)],
        remark_codes=["N657"],
        segment_number=FIRST + 1,
        origins={"REF*6R": FIRST + 4, "AMT*B6": FIRST + 5},
        remark_origins={"N657": (FIRST + 6, "LQ02")},
    )
    # asdict covers the fields kept out of equality (segment numbers, origins) too.
    assert dataclasses.asdict(line) == dataclasses.asdict(expected)


def test_a_claim_holds_every_field_it_would_with_keywords() -> None:
    parsed = _read(
        "NM1*QC*1*DOE*JANE****MI*M123",
        "DTM*232*20240101",
        "SVC*HC:99213*100*80**1",
        "CAS*PR*2*20",
        clp="CLP*A1*1*100*80*20*12*ICN1*11*1**DRG7",
    )
    claim = _claim(parsed)
    expected = ClaimPayment(
        patient_control_number="A1",
        status_code="1",
        charge=Decimal("100"),
        paid=Decimal("80"),
        patient_responsibility=Decimal("20"),
        filing_indicator="12",
        payer_claim_number="ICN1",
        facility_type="11",
        frequency_code="1",
        drg_code="DRG7",
        patient_last_name="DOE",
        patient_first_name="JANE",
        patient_member_id="M123",
        statement_from=dt.date(2024, 1, 1),
        service_lines=claim.service_lines,
        segment_number=FIRST,
        origins={"NM1*QC": FIRST + 1},
    )
    assert dataclasses.asdict(claim) == dataclasses.asdict(expected)
    assert claim.adjustments == [] and claim.warnings == [] and claim.remark_codes == []


# -- segments read before -----------------------------------------------------------------
# A CAS, DTM, AMT or SVC whose text was read earlier in the file without a finding is applied
# from what was read then. Each case reads a file twice: as written, and with every body
# segment made unique by leading spaces (stripped by the reader, so the values are the same
# but no segment is a repeat and each goes through its handler). Everything read must match,
# down to segment numbers, origins, Decimal exponents and every finding.


def _full(parsed: ParsedFile) -> str:
    return repr(dataclasses.asdict(parsed))


def _unique(segments: list[str]) -> list[str]:
    return [" " * i + s for i, s in enumerate(segments, 1)]


LINE = ["SVC*HC:99213:25*100*80**1", "DTM*472*20240105", "CAS*CO*45*12", "CAS*PR*2*8", "REF*6R*L1", "AMT*B6*88"]
REPEATS = {
    "the same lines in two claims": [
        *LINE,
        *LINE,
        "CLP*A2*1*100*80*20*12*ICN2*11*1",
        "DTM*232*20240105",
        "CAS*CO*45*12",
        *LINE,
    ],
    "repeats outside a claim after LX": [
        *LINE,
        "LX*2",
        "CAS*CO*45*12",
        "SVC*HC:99213:25*100*80**1",
        "DTM*472*20240105",
        "AMT*B6*88",
        "CLP*A2*1*100*80*20*12*ICN2*11*1",
        *LINE,
    ],
    "repeats after a PLB": [*LINE, "PLB*123*20241231*WO:ABC*10", *LINE[1:], "PLB*123*20241231*WO:ABC*10"],
    "repeats in another place of the claim": [
        "DTM*472*20240105",
        "AMT*B6*88",
        "CAS*CO*45*12",
        "DTM*232*20240105",
        *LINE,
        "DTM*232*20240105",
        "DTM*151*20240105",
        "DTM*150*20240105",
    ],
    "repeats that earn findings": [
        "SVC*HC:99213*1O0*80**1",
        "SVC*HC:99213*1O0*80**1",
        "CAS*ZZ*45*10",
        "CAS*ZZ*45*10",
        "DTM*472*20241345",
        "DTM*472*20241345",
        "AMT*B6*8x",
        "AMT*B6*8x",
        "SVC*HC>99213*100*80**1",
        "SVC*HC>99213*100*80**1",
        "SVC*HC:99213*100*80*0450*2*HC:99212",
        "SVC*HC:99213*100*80*0450*2*HC:99212",
        "SVC*HC*100*80**1",
        "SVC*HC*100*80**1",
        "SVC*HC:99213:25:59:XS:XE:XP*100*80**1",
        "SVC*HC:99213:25:59:XS:XE:XP*100*80**1",
        "SVC*HC:99213**80**1",
        "SVC*HC:99213**80**1",
        "CAS*CO*45**",
        "CAS*CO*45**",
        "CAS*CO*45*1*x",
        "CAS*CO*45*1*x",
    ],
    "zero amounts written with decimals": [
        "SVC*HC:99213*0.00*0.00**1.0",
        "CAS*CO*45*0.00",
        "AMT*B6*0.00",
        "SVC*HC:99213*0.00*0.00**1.0",
        "CAS*CO*45*0.00",
        "AMT*B6*0.00",
    ],
    "repeats with more than one reason or no reason": [
        *LINE,
        "CAS*CO*45*10*1*97*2",
        "CAS*CO*45*10*1*97*2",
        "CAS*CO**10",
        "CAS*CO**10",
        "AMT*AU*88",
        "AMT*AU*88",
        "DTM*036*20240105",
        "DTM*036*20240105",
    ],
}


@pytest.mark.parametrize("name", REPEATS)
def test_a_repeated_segment_reads_as_if_it_were_read_afresh(name: str) -> None:
    repeated = _read(*REPEATS[name])
    afresh = _read(*_unique(REPEATS[name]))
    assert _full(repeated) == _full(afresh)


@pytest.mark.parametrize(("check_every", "most"), [(1, 1), (2, 3), (3, 100), (100, 2)])
@pytest.mark.parametrize("name", REPEATS)
def test_the_cache_of_segments_dropped_or_full_reads_the_same(
    name: str, check_every: int, most: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With tiny limits the cache is dropped (too few repeats) or stops growing mid-file."""
    from denials.x12 import reader

    expected = _full(_read(*_unique(REPEATS[name])))
    monkeypatch.setattr(reader, "_SEEN_CHECK", check_every)
    monkeypatch.setattr(reader, "_SEEN_MAX", most)
    assert _full(_read(*REPEATS[name])) == expected
    assert _full(_read(*_unique(REPEATS[name]))) == expected


def test_lines_and_adjustments_applied_from_the_cache_hold_every_field() -> None:
    parsed = _read(*LINE, "LX*2", "CLP*A2*1*100*80*20*12*ICN2*11*1", *LINE)
    first, second = (t.service_lines[0] for t in parsed.transactions[0].claims)
    assert first.segment_number == FIRST + 1 and second.segment_number == FIRST + 9
    expected = ServiceLine(
        sequence=1,
        qualifier="HC",
        procedure_code="99213",
        modifiers=["25"],
        charge=Decimal("100"),
        paid=Decimal("80"),
        units=Decimal("1"),
        service_date=dt.date(2024, 1, 5),
        line_control_number="L1",
        allowed=Decimal("88"),
        adjustments=[
            Adjustment("CO", "45", Decimal("12"), None, FIRST + 11, 2),
            Adjustment("PR", "2", Decimal("8"), None, FIRST + 12, 2),
        ],
        segment_number=FIRST + 9,
        origins={"REF*6R": FIRST + 13, "AMT*B6": FIRST + 14},
    )
    # asdict reads every field (it would fail on one left unset) and those kept out of equality.
    assert dataclasses.asdict(second) == dataclasses.asdict(expected)
    assert first.modifiers == second.modifiers and first.modifiers is not second.modifiers


def test_a_file_that_repeats_little_drops_its_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from denials.x12 import reader

    monkeypatch.setattr(reader, "_SEEN_CHECK", 2)
    calls: list[str] = []
    plain = reader._Reader._cas

    def counted(self, e, n):  # type: ignore[no-untyped-def]
        calls.append(e[3])
        return plain(self, e, n)

    monkeypatch.setattr(reader._Reader, "_cas", counted)
    # Every CAS differs: weighed every two new entries, the cache is dropped once it holds
    # more than one entry per four segments read, so the repeats at the end go to the handler.
    cas = [f"CAS*CO*45*{i}" for i in range(1, 9)]
    parsed = _read("SVC*HC:99213*100*0**1", *cas, "CAS*CO*45*1", "CAS*CO*45*2")
    assert calls == [str(i) for i in range(1, 9)] + ["1", "2"]
    assert sum(a.amount for a in _claim(parsed).service_lines[0].adjustments) == 39


def test_repeats_in_another_transaction_and_in_one_not_read() -> None:
    first = transaction("0001", "T1", [CLP, *LINE])
    refused = transaction("0002", "T2", [CLP, *LINE])
    refused[0] = "ST*999*0002"  # not an 835: its segments are only counted
    second = transaction("0003", "T3", [CLP, *LINE, "DTM*405*20240105"])
    for txn in (first, second):
        txn.insert(3, "DTM*405*20240105")  # the production date, in the header
        txn[-1] = f"SE*{len(txn)}*{txn[0][-4:]}"
    whole = [first, refused, second]
    plain = read_835(interchange(*whole))
    unique = read_835(interchange(*([t[0], *_unique(t[1:-1]), t[-1]] for t in whole)))
    assert _full(plain) == _full(unique)
    assert [t.production_date for t in plain.transactions] == [dt.date(2024, 1, 5)] * 2
    assert [len(t.claims[0].service_lines) for t in plain.transactions] == [1, 1]
    assert [f.message for f in plain.errors] == ["transaction set '999' is not an 835 remittance"]


def test_a_repeated_segment_goes_to_its_handler_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from denials.x12 import reader

    calls: list[str] = []
    for name in ("_cas", "_dtm", "_amt", "_svc"):
        plain = getattr(reader._Reader, name)

        def counted(self, e, n, plain=plain):  # type: ignore[no-untyped-def]
            calls.append(e[0])
            return plain(self, e, n)

        monkeypatch.setattr(reader._Reader, name, counted)
    parsed = _read(*LINE, *LINE, *LINE)
    assert sorted(calls) == ["AMT", "CAS", "CAS", "DTM", "SVC"]
    assert len(_claim(parsed).service_lines) == 3
