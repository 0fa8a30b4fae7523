"""The synthetic 835 generator: every file reads cleanly and balances, and carries the
denials, pairs and statuses the demo data and the benchmarks rely on."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from denials.demo.remittances import (
    DEMO_PAYERS,
    DEMO_PROVIDERS,
    NCCI_PAIRS,
    ROUTINE_ADJUSTMENTS,
    SyntheticPayer,
    generate_835,
    generate_demo_files,
    main,
    npi_is_valid,
)
from denials.x12.parsed import ClaimPayment, ServiceLine, Transaction
from denials.x12.reader import read_835

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MEDICARE = next(p for p in DEMO_PAYERS if p.filing_indicator == "MB")
COMMERCIAL = next(p for p in DEMO_PAYERS if p.filing_indicator == "12")
BYPASS = {"59", "XE", "XS", "XP", "XU", "LT", "RT", "25"}


@cache
def _big_file() -> bytes:
    """The 2,000-claim file most tests look into (seeded: the same file every run)."""
    return generate_835(claims=2000, seed=2026)


@cache
def _big() -> Transaction:
    parsed = read_835(_big_file())
    assert parsed.ok and len(parsed.transactions) == 1
    return parsed.transactions[0]


def _single(data: bytes) -> Transaction:
    parsed = read_835(data)
    assert parsed.errors == []
    assert parsed.warnings == []
    assert len(parsed.transactions) == 1
    return parsed.transactions[0]


def _triples(claim: ClaimPayment) -> list[tuple[str, str]]:
    found = [(a.group_code, a.reason_code) for a in claim.adjustments]
    for line in claim.service_lines:
        found += [(a.group_code, a.reason_code) for a in line.adjustments]
    return found


def _has_denial(claim: ClaimPayment) -> bool:
    return any(triple not in ROUTINE_ADJUSTMENTS for triple in _triples(claim))


def _lines(transaction: Transaction) -> list[tuple[ClaimPayment, ServiceLine]]:
    return [(claim, line) for claim in transaction.claims for line in claim.service_lines]


def _reasons(line: ServiceLine) -> set[str]:
    return {a.reason_code for a in line.adjustments}


def _bundled_in_full(line: ServiceLine) -> bool:
    """A line denied as bundled, all of it: not a partial reduction that a deductible ate."""
    patient_shares = {("PR", "1"), ("PR", "2"), ("PR", "3")}
    return (
        line.paid == 0
        and bool(_reasons(line) & {"97", "236"})
        and "M144" not in line.remark_codes
        and not any((a.group_code, a.reason_code) in patient_shares for a in line.adjustments)
    )


# -- reading back ---------------------------------------------------------------------------


@pytest.mark.parametrize("payer", DEMO_PAYERS, ids=lambda p: p.payer_id)
def test_each_demo_payers_file_reads_without_errors_or_balancing_warnings(payer: SyntheticPayer) -> None:
    transaction = _single(generate_835(claims=300, seed=7, payer=payer))

    assert len(transaction.claims) == 300
    assert transaction.payer.name == payer.name.upper()
    assert transaction.payer.additional_ids["2U"] == payer.payer_id
    assert all(claim.filing_indicator == payer.filing_indicator for claim in transaction.claims)


@pytest.mark.parametrize("seed", range(8))
def test_any_mix_of_settings_reads_cleanly_and_keeps_reversals_covered(seed: int) -> None:
    # Seeded variety: small and large files, every denial rate, narrow and wide line counts.
    claims = (1, 2, 9, 10, 60, 250, 400, 37)[seed]
    rate = (0.0, 0.1, 0.25, 0.6, 1.0)[seed % 5]
    bounds = ((1, 1), (1, 4), (3, 9), (1, 7))[seed % 4]
    transaction = _single(
        generate_835(
            claims=claims,
            seed=seed,
            payer=DEMO_PAYERS[seed % len(DEMO_PAYERS)],
            provider=DEMO_PROVIDERS[(seed + 2) % len(DEMO_PROVIDERS)],
            denial_rate=rate,
            lines_per_claim=bounds,
        )
    )

    assert len(transaction.claims) == claims
    assert transaction.payment_amount >= 0
    for index, claim in enumerate(transaction.claims):
        if claim.status_code == "22":
            assert transaction.claims[index + 1].paid >= -claim.paid


def test_big_file_reads_cleanly_with_the_requested_claim_count() -> None:
    parsed = read_835(_big_file())

    assert parsed.errors == []
    assert parsed.warnings == []
    assert parsed.claim_count == 2000
    assert parsed.version == "005010X221A1"


def test_every_line_and_claim_balances_and_patient_share_is_the_pr_total() -> None:
    for claim in _big().claims:
        assert claim.charge - claim.paid == claim.adjustment_total, claim.patient_control_number
        pr_total = sum((a.amount for a in claim.adjustments if a.group_code == "PR"), Decimal("0")) + sum(
            (a.amount for line in claim.service_lines for a in line.adjustments if a.group_code == "PR"),
            Decimal("0"),
        )
        assert claim.patient_responsibility == pr_total, claim.patient_control_number
        if claim.service_lines and not claim.adjustments:
            assert claim.charge == sum((line.charge for line in claim.service_lines), Decimal("0"))
        for line in claim.service_lines:
            assert line.charge - line.paid == line.adjustment_total


def test_payment_is_claims_paid_minus_provider_adjustments() -> None:
    for seed in range(12):
        transaction = _single(generate_835(claims=80, seed=seed))
        paid = sum((claim.paid for claim in transaction.claims), Decimal("0"))
        plb = sum((item.amount for item in transaction.provider_adjustments), Decimal("0"))
        assert transaction.payment_amount == paid - plb
        assert transaction.payment_amount >= 0


def test_some_files_carry_interest_and_overpayment_recovery_in_plb() -> None:
    reasons: Counter[str] = Counter()
    signs: set[tuple[str, bool]] = set()
    for seed in range(30):
        for item in _single(generate_835(claims=60, seed=seed)).provider_adjustments:
            reasons[item.reason_code] += 1
            signs.add((item.reason_code, item.amount > 0))

    assert reasons["L6"] > 0 and reasons["WO"] > 0
    assert ("L6", False) in signs  # interest paid to the provider
    assert ("L6", True) in signs  # interest taken back
    assert ("WO", True) in signs  # recovery withheld from the payment


def test_envelope_control_numbers_and_counts_are_consistent() -> None:
    data = generate_835(claims=25, seed=4, interchange_control_number=123456789)
    segments = [s for s in data.decode("ascii").split("~\n") if s]
    by_id = {s.split("*")[0]: s.split("*") for s in segments}
    st_index = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se_index = next(i for i, s in enumerate(segments) if s.startswith("SE*"))

    assert data.endswith(b"~\n") and data[3:4] == b"*"
    assert len(segments[0]) == 105  # the ISA is fixed width
    assert by_id["ISA"][13] == "123456789" == by_id["IEA"][2]
    assert by_id["GS"][6] == by_id["GE"][2]
    assert by_id["ST"][2] == by_id["SE"][2]
    assert int(by_id["SE"][1]) == se_index - st_index + 1
    assert by_id["GE"][1] == "1" and by_id["IEA"][1] == "1"
    assert by_id["GS"][8] == "005010X221A1"
    _single(data)


def test_a_file_without_claims_is_a_zero_notification() -> None:
    transaction = _single(generate_835(claims=0, seed=3))

    assert transaction.claims == []
    assert transaction.payment_amount == 0
    assert transaction.handling_code == "H"


# -- determinism and identifiers -------------------------------------------------------------


def test_same_seed_gives_the_same_bytes() -> None:
    assert generate_835(claims=150, seed=42) == generate_835(claims=150, seed=42)


def test_different_seeds_give_different_control_numbers_traces_and_patient_control_numbers() -> None:
    first = _single(generate_835(claims=150, seed=42))
    second = _single(generate_835(claims=150, seed=43))

    assert first.interchange_control_number != second.interchange_control_number
    assert first.group_control_number != second.group_control_number
    assert first.trace_number != second.trace_number
    assert not {c.patient_control_number for c in first.claims} & {c.patient_control_number for c in second.claims}
    assert not {c.payer_claim_number for c in first.claims} & {c.payer_claim_number for c in second.claims}


def test_claim_numbers_are_unique_within_a_file_except_a_reversal_and_its_correction() -> None:
    claims = _big().claims
    payer_numbers = [c.payer_claim_number for c in claims]
    reversed_numbers = {c.patient_control_number for c in claims if c.status_code == "22"}
    counts = Counter(c.patient_control_number for c in claims)

    assert len(set(payer_numbers)) == len(payer_numbers)
    assert reversed_numbers
    for number, count in counts.items():
        assert count == (2 if number in reversed_numbers else 1), number


def test_demo_parties_are_distinct_and_identifiers_are_well_formed() -> None:
    assert len(DEMO_PAYERS) >= 5
    assert len({p.name for p in DEMO_PAYERS}) == len({p.payer_id for p in DEMO_PAYERS}) == len(DEMO_PAYERS)
    assert {p.filing_indicator for p in DEMO_PAYERS} >= {"12", "MC", "MB"}
    assert len(DEMO_PROVIDERS) >= 5
    for provider in DEMO_PROVIDERS:
        assert npi_is_valid(provider.npi), provider.name
        assert len(provider.tin) == 9 and provider.tin.isdigit()
        assert all(npi_is_valid(doctor.npi) for doctor in provider.rendering)


def test_npi_check_digit_follows_the_luhn_rule_with_the_80840_prefix() -> None:
    assert npi_is_valid("1234567893")  # the example in the CMS NPI check-digit note
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")


def test_claims_name_patients_members_and_rendering_providers() -> None:
    transaction = _single(generate_835(claims=200, seed=8, payer=MEDICARE))
    provider_npis = {doctor.npi for provider in DEMO_PROVIDERS for doctor in provider.rendering}

    assert transaction.payee.npi in {provider.npi for provider in DEMO_PROVIDERS}
    assert transaction.payee.tin
    for claim in transaction.claims:
        assert claim.patient_last_name and claim.patient_first_name
        assert claim.rendering_provider_npi in provider_npis
        # Medicare ids are MBI-shaped but use a letter CMS never puts in an MBI.
        assert len(claim.patient_member_id) == 11 and claim.patient_member_id[1] in "SLOIBZ"
        assert claim.statement_from is not None and claim.statement_to is not None
        assert claim.received_date is not None


def test_dependents_are_reported_under_an_insured_subscriber() -> None:
    claims = _single(generate_835(claims=200, seed=8, payer=COMMERCIAL)).claims
    dependents = [c for c in claims if c.insured_member_id]

    assert dependents
    assert all(c.patient_member_id.startswith(c.insured_member_id) for c in dependents)
    assert any(not c.insured_member_id for c in claims)


# -- volume and shape ------------------------------------------------------------------------


def test_about_four_service_lines_per_claim() -> None:
    line_count = len(_lines(_big()))

    assert 3 * 2000 <= line_count <= 5 * 2000


@pytest.mark.parametrize("bounds", [(2, 3), (5, 6), (7, 10)])
def test_lines_per_claim_bounds_are_respected(bounds: tuple[int, int]) -> None:
    low, high = bounds
    transaction = _single(generate_835(claims=300, seed=5, lines_per_claim=bounds))

    for claim in transaction.claims:
        if claim.adjustments and not claim.service_lines:
            continue  # denied at claim level, sent without lines
        assert low <= len(claim.service_lines) <= high, claim.patient_control_number


def test_single_line_claims_still_read_and_balance() -> None:
    transaction = _single(generate_835(claims=200, seed=5, lines_per_claim=(1, 1)))

    assert all(len(claim.service_lines) <= 1 for claim in transaction.claims)


def test_service_lines_carry_dates_control_numbers_and_allowed_amounts() -> None:
    for claim, line in _lines(_big()):
        assert line.qualifier == "HC" and line.procedure_code
        assert line.service_date is not None
        assert claim.statement_from <= line.service_date <= claim.statement_to  # type: ignore[operator]
        assert line.line_control_number.startswith(claim.patient_control_number)
        assert line.units is not None and line.units >= 1
        if line.paid:
            assert line.allowed is not None


def test_allowed_is_what_the_payer_paid_plus_shares_and_withholds() -> None:
    withheld = {("CO", "253"), ("OA", "23")}
    for claim, line in _lines(_big()):
        if line.paid > 0 and claim.status_code != "22":
            shares = sum(
                (
                    a.amount
                    for a in line.adjustments
                    if a.group_code == "PR" or (a.group_code, a.reason_code) in withheld
                ),
                Decimal("0"),
            )
            assert line.allowed == line.paid + shares, claim.patient_control_number


def test_commercial_paid_lines_show_write_downs_deductible_coinsurance_and_copay() -> None:
    found = Counter(_triples_of(_single(generate_835(claims=600, seed=12, payer=COMMERCIAL))))

    for triple in [("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3")]:
        assert found[triple] > 0, triple
    assert found[("CO", "253")] == 0  # sequestration is Medicare's


def test_medicare_sequestration_is_two_percent_of_what_medicare_pays() -> None:
    transaction = _single(generate_835(claims=400, seed=12, payer=MEDICARE))
    checked = 0
    for _, line in _lines(transaction):
        for adjustment in line.adjustments:
            if (adjustment.group_code, adjustment.reason_code) == ("CO", "253") and line.paid > 0:
                expected = (line.paid + adjustment.amount) * Decimal("0.02")
                assert abs(adjustment.amount - expected) <= Decimal("0.01")
                checked += 1
    assert checked > 100


def _triples_of(transaction: Transaction) -> list[tuple[str, str]]:
    return [triple for claim in transaction.claims for triple in _triples(claim)]


# -- denials ---------------------------------------------------------------------------------

DENIAL_KINDS = [
    ("CO", "97"),
    ("PR", "97"),
    ("OA", "97"),
    ("CO", "236"),
    ("CO", "16"),
    ("CO", "50"),
    ("CO", "18"),
    ("CO", "29"),
    ("CO", "197"),
    ("CO", "15"),
    ("CO", "4"),
    ("CO", "11"),
    ("CO", "27"),
    ("CO", "31"),
    ("OA", "23"),
    ("CO", "22"),
    ("CO", "96"),
    ("CO", "204"),
    ("PR", "204"),
    ("CO", "95"),
]


@pytest.mark.parametrize("triple", DENIAL_KINDS, ids=lambda t: f"{t[0]}-{t[1]}")
def test_each_denial_kind_appears_in_a_2000_claim_file(triple: tuple[str, str]) -> None:
    assert triple in set(_triples_of(_big()))


@pytest.mark.parametrize(
    ("reason", "remark"),
    [("97", "M15"), ("97", "N381"), ("16", "N290"), ("16", "MA130"), ("4", "N657"), ("11", "N657"), ("15", "M62")],
)
def test_denials_carry_the_remark_codes_payers_send_with_them(reason: str, remark: str) -> None:
    pairs = {
        (a.reason_code, remark_code)
        for _, line in _lines(_big())
        for a in line.adjustments
        for remark_code in line.remark_codes
    }
    assert (reason, remark) in pairs


def test_bundled_column_2_lines_sit_beside_their_column_1_code_on_the_same_date() -> None:
    column1_for = {}
    for column1, column2 in NCCI_PAIRS:
        column1_for.setdefault(column2, set()).add(column1)
    seen_pairs: set[tuple[str, str]] = set()
    for claim, line in _lines(_big()):
        if not _bundled_in_full(line):
            continue
        partners = {
            other.procedure_code
            for other in claim.service_lines
            if other is not line and other.service_date == line.service_date and other.allowed
        }
        found = partners & column1_for.get(line.procedure_code, set())
        assert found, f"{claim.patient_control_number} {line.procedure_code} has no column 1 code on its date"
        seen_pairs.update((column1, line.procedure_code) for column1 in found)

    assert seen_pairs == set(NCCI_PAIRS)


def test_bundled_denials_come_with_and_without_a_bypass_modifier() -> None:
    with_bypass = without = 0
    for _, line in _lines(_big()):
        if _bundled_in_full(line) and "97" in _reasons(line):
            if set(line.modifiers) & BYPASS:
                with_bypass += 1
            else:
                without += 1

    assert with_bypass > 0 and without > with_bypass


def test_clean_claims_with_an_ncci_pair_carry_the_bypass_modifier() -> None:
    pairs = set(NCCI_PAIRS)
    checked = 0
    for claim in _big().claims:
        if _has_denial(claim) or claim.status_code == "22":
            continue
        by_date: dict[dt.date | None, list[ServiceLine]] = {}
        for line in claim.service_lines:
            by_date.setdefault(line.service_date, []).append(line)
        for lines in by_date.values():
            codes = {line.procedure_code for line in lines}
            for line in lines:
                if any((column1, line.procedure_code) in pairs for column1 in codes):
                    assert set(line.modifiers) & BYPASS, claim.patient_control_number
                    checked += 1
    assert checked > 0


def test_global_period_bundling_has_no_ncci_partner_on_the_claim() -> None:
    pairs = set(NCCI_PAIRS)
    global_lines = [(c, line) for c, line in _lines(_big()) if "M144" in line.remark_codes]

    assert global_lines
    for claim, line in global_lines:
        assert "97" in _reasons(line) and line.paid == 0
        others = {o.procedure_code for o in claim.service_lines if o is not line}
        assert not any((column1, line.procedure_code) in pairs for column1 in others)


def test_partial_denials_pay_part_of_the_line() -> None:
    partial = Counter()
    for _, line in _lines(_big()):
        if line.paid > 0:
            for adjustment in line.adjustments:
                if adjustment.reason_code in {"97", "50"}:
                    partial[adjustment.reason_code] += 1
                    if adjustment.quantity is not None:
                        assert adjustment.quantity < (line.units or 0)

    assert partial["97"] > 0 and partial["50"] > 0


def test_claim_statuses_include_primary_secondary_denied_and_reversal() -> None:
    statuses = Counter(claim.status_code for claim in _big().claims)

    assert statuses["1"] > statuses["2"] > 0
    assert statuses["4"] > 0 and statuses["22"] > 0
    assert statuses["1"] > len(_big().claims) / 2


def test_fully_denied_claims_pay_nothing_and_some_are_denied_at_claim_level() -> None:
    denied = [claim for claim in _big().claims if claim.status_code == "4"]

    assert all(claim.paid == 0 and _has_denial(claim) for claim in denied)
    assert any(claim.adjustments and not claim.service_lines for claim in denied)
    assert any(claim.service_lines for claim in denied)


def test_a_reversal_negates_an_earlier_payment_and_a_correction_follows_it() -> None:
    claims = _big().claims
    reversals = [(i, c) for i, c in enumerate(claims) if c.status_code == "22"]

    assert reversals
    for index, reversal in reversals:
        correction = claims[index + 1]
        assert reversal.charge < 0 and reversal.paid <= 0
        assert all(line.charge < 0 for line in reversal.service_lines)
        assert correction.patient_control_number == reversal.patient_control_number
        assert correction.payer_claim_number != reversal.payer_claim_number
        assert correction.charge == -reversal.charge
        assert correction.paid >= -reversal.paid


def test_medicare_claims_carry_moa_remarks() -> None:
    claims = _single(generate_835(claims=400, seed=9, payer=MEDICARE)).claims
    remarks = Counter(code for claim in claims for code in claim.remark_codes)

    assert remarks["MA01"] > 0 and remarks["MA18"] > 0
    assert all("MA18" in claim.remark_codes for claim in claims if claim.status_code == "19")


@pytest.mark.parametrize(("rate", "low", "high"), [(0.25, 0.20, 0.30), (0.5, 0.43, 0.57), (1.0, 0.97, 1.0)])
def test_denial_rate_sets_the_share_of_claims_with_a_denial(rate: float, low: float, high: float) -> None:
    claims = [c for c in _single(generate_835(claims=1000, seed=21, denial_rate=rate)).claims if c.status_code != "22"]
    share = sum(_has_denial(c) for c in claims) / len(claims)

    assert low <= share <= high


def test_no_denials_at_all_when_the_rate_is_zero() -> None:
    claims = _single(generate_835(claims=1000, seed=21, denial_rate=0.0)).claims

    assert not any(_has_denial(claim) for claim in claims)
    assert all(claim.status_code != "4" for claim in claims)


# -- dates -----------------------------------------------------------------------------------


def test_services_precede_receipt_and_receipt_precedes_payment() -> None:
    transaction = _big()
    payment = transaction.payment_date
    assert payment is not None and transaction.production_date is not None
    assert transaction.production_date <= payment
    # A reversal and its correction concern an older payment; timely filing denials are old.
    reprocessed = {c.patient_control_number for c in transaction.claims if c.status_code == "22"}
    for claim in transaction.claims:
        assert claim.received_date is not None and claim.statement_to is not None
        assert claim.statement_to <= claim.received_date < payment
        timely = ("CO", "29") in _triples(claim)
        if claim.patient_control_number not in reprocessed and not timely:
            assert dt.timedelta(days=14) <= payment - claim.statement_from <= dt.timedelta(days=56)  # type: ignore[operator]
        if timely:
            assert payment - claim.statement_from > dt.timedelta(days=90)  # type: ignore[operator]


def test_demo_files_cover_every_payer_and_are_paid_monthly_dec_2025_to_nov_2026() -> None:
    files = generate_demo_files()

    assert len(files) == 12
    assert len({name for name, _ in files}) == 12
    months = set()
    payers = set()
    for name, data in files:
        transaction = _single(data)
        payers.add(transaction.payer.name)
        assert name.endswith(".835")
        assert transaction.payment_date is not None
        assert dt.date(2025, 12, 1) <= transaction.payment_date <= dt.date(2026, 11, 30)
        assert transaction.payment_date.weekday() < 5
        months.add(transaction.payment_date.strftime("%Y-%m"))
        assert len(transaction.claims) == 40
        # Services fall before the payment (most 2 to 8 weeks, a late claim up to months before).
        assert all(
            transaction.payment_date - dt.timedelta(days=366) <= claim.statement_from <= transaction.payment_date  # type: ignore[operator]
            for claim in transaction.claims
        )
    assert payers == {p.name.upper() for p in DEMO_PAYERS}
    assert len(months) >= 11  # a year of history for the dashboard, about one file a month
    assert generate_demo_files() == files


def test_demo_files_do_not_share_claim_numbers() -> None:
    numbers = [c.payer_claim_number for _, data in generate_demo_files(count=8) for c in _single(data).claims]

    assert len(numbers) == len(set(numbers))


# -- arguments, CLI, speed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"claims": -1},
        {"claims": 5, "denial_rate": 1.5},
        {"claims": 5, "lines_per_claim": (0, 3)},
        {"claims": 5, "lines_per_claim": (4, 2)},
        {"claims": 5, "interchange_control_number": 10**9},
    ],
)
def test_impossible_arguments_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate_835(**kwargs)  # type: ignore[arg-type]


def test_payment_date_and_payer_can_be_chosen() -> None:
    transaction = _single(generate_835(claims=30, seed=1, payer=MEDICARE, payment_date=dt.date(2026, 10, 16)))

    assert transaction.payment_date == dt.date(2026, 10, 16)
    assert transaction.payer.name == MEDICARE.name.upper()


def test_cli_writes_the_same_file_as_the_function(tmp_path: Path) -> None:
    target = tmp_path / "x.835"

    assert main(["--claims", "120", "--seed", "1", "-o", str(target)]) == 0
    assert target.read_bytes() == generate_835(claims=120, seed=1)


def test_cli_runs_as_a_module_and_writes_the_demo_set(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "denials.demo.remittances", "--demo-dir", str(tmp_path / "demo")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )

    written = sorted((tmp_path / "demo").iterdir())
    assert len(written) == 12 and completed.stdout
    assert all(read_835(path.read_bytes()).ok for path in written)


def test_five_thousand_claims_generate_in_a_few_seconds() -> None:
    started = time.process_time()
    data = generate_835(claims=5000, seed=1)
    elapsed = time.process_time() - started

    assert data.count(b"\nCLP*") == 5000
    # Generous for a loaded CI machine; it catches accidental quadratic work.
    assert elapsed < 8.0


def test_files_are_plain_ascii_with_one_segment_per_line() -> None:
    # The reader decodes latin-1 and people open these files in editors: plain ASCII, and
    # one segment per line, keeps both exact.
    text = _big_file().decode("ascii")
    lines = text.splitlines()

    assert all(line.endswith("~") and line.count("~") == 1 for line in lines)
    assert read_835(_big_file()).segment_count == len(lines)
