"""Values the database cannot hold: the file fails naming the place, stores nothing, and
nothing sticks (the pages and APIs keep answering). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.urls import reverse

from denials.models import (
    Adjustment,
    ClaimPayment,
    Denial,
    ProviderAdjustment,
    RemarkCode,
    Remittance,
    RemittanceFile,
    ServiceLine,
)
from tests.bad_835 import GOOD_CLAIM, interchange, transaction

pytestmark = pytest.mark.django_db

# The builders are shared with the bad-input corpus (one minimal 5010 835 of our own).
_transaction = transaction


def good_then_bad(bad_claim: list[str], paid: str = "80") -> bytes:
    """A good first transaction set, then one holding the bad value: nothing of either may be stored."""
    return interchange(
        _transaction("0001", "TRACE1", GOOD_CLAIM),
        _transaction("0002", "TRACE2", bad_claim, paid=paid),
    )


# The bad claim, and what the error must name: the segment's number in the file (the good
# transaction set takes segments 3-15, ST 0002 is 16, its CLP is 23) and the element.
BAD_VALUES = {
    "claim paid with 14 digits": (
        ["CLP*BAD1*1*100*12345678901234*20*12*ICN2", "NM1*QC*1*ROE*RICHARD****MI*M9"],
        "segment 23 CLP04",
        "12 before the point",
    ),
    "adjustment amount with 13 digits": (
        ["CLP*BAD1*1*100*80*20*12*ICN2", "CAS*CO*45*1234567890123"],
        "segment 24 CAS03",
        "12 before the point",
    ),
    "units of ten million": (
        ["CLP*BAD1*1*100*80*20*12*ICN2", "SVC*HC:99213*100*80**10000000"],
        "segment 24 SVC05",
        "7 before the point",
    ),
    "NUL byte in the patient name": (
        ["CLP*BAD1*1*100*80*20*12*ICN2", "NM1*QC*1*RO\x00E*RICHARD****MI*M9"],
        "segment 24 NM103",
        "NUL",
    ),
    "patient last name longer than its column": (
        ["CLP*BAD1*1*100*80*20*12*ICN2", "NM1*QC*1*" + "L" * 61 + "*RICHARD****MI*M9"],
        "segment 24 NM103",
        "61 characters",
    ),
    "patient control number longer than its column": (
        ["CLP*" + "P" * 39 + "*1*100*80*20*12*ICN2"],
        "segment 23 CLP01",
        "39 characters",
    ),
    "payer claim number longer than its column": (
        ["CLP*BAD1*1*100*80*20*12*" + "9" * 51],
        "segment 23 CLP07",
        "51 characters",
    ),
    "modifier longer than its column": (
        ["CLP*BAD1*1*100*80*20*12*ICN2", "SVC*HC:99213:ABC*100*80**1"],
        "segment 24 SVC01-3",
        "3 characters",
    ),
}


def _stored_rows(file: RemittanceFile) -> dict[str, int]:
    return {
        "remittances": Remittance.objects.filter(file=file).count(),
        "claims": ClaimPayment.objects.filter(remittance__file=file).count(),
        "lines": ServiceLine.objects.filter(claim__remittance__file=file).count(),
        "adjustments": Adjustment.objects.filter(claim__remittance__file=file).count(),
        "remarks": RemarkCode.objects.filter(claim__remittance__file=file).count(),
        "provider adjustments": ProviderAdjustment.objects.filter(remittance__file=file).count(),
        "denials": Denial.objects.filter(claim__remittance__file=file).count(),
    }


def _pages_answer(client, admin_user) -> None:
    client.force_login(admin_user)
    for url in (
        reverse("denials:file_list"),
        reverse("denials:claim_list"),
        "/api/remittance-files/",
        "/api/claims/",
        "/api/denials/",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_value_the_column_cannot_hold_fails_the_file_naming_where_and_stores_nothing(case, ingest, client, admin_user):
    bad_claim, where, why = BAD_VALUES[case]
    file = ingest(good_then_bad(bad_claim))

    assert file.status == RemittanceFile.Status.FAILED, (file.status, file.error)
    assert where in file.error and why in file.error, file.error
    assert "\x00" not in file.error
    assert _stored_rows(file) == dict.fromkeys(_stored_rows(file), 0)
    assert file.lease_expires_at is None and file.finished_at is not None
    _pages_answer(client, admin_user)


def test_the_same_file_with_fitting_values_ingests_whole(ingest, client, admin_user):
    # The control case: the builder makes files that do ingest when every value fits.
    file = ingest(
        good_then_bad(
            [
                "CLP*BAD1*1*100*80*20*12*ICN2",
                "NM1*QC*1*ROE*RICHARD****MI*M9",
                "SVC*HC:99213:25*100*80**9999999",
                "CAS*PR*2*20",
            ]
        )
    )
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    assert _stored_rows(file)["claims"] == 2 and _stored_rows(file)["lines"] == 2
    _pages_answer(client, admin_user)


def test_file_total_beyond_the_column_fails_before_anything_is_stored(ingest):
    # Each claim fits, but the file's total paid (stored on the file) would not.
    big = "600000000000"
    claims = [f"CLP*BIG{i}*1*{big}*{big}**12*ICN{i}" for i in range(2)]
    file = ingest(interchange(_transaction("0001", "TRACE1", claims, paid="0")))
    assert file.status == RemittanceFile.Status.FAILED
    assert "total" in file.error and "12 before the point" in file.error, file.error
    assert not Remittance.objects.filter(file=file).exists()


def test_failed_bad_value_file_is_not_swept_and_can_be_retried(ingest):
    from denials.services import remittance_file_retry, remittance_files_sweep_stuck

    file = ingest(good_then_bad(BAD_VALUES["claim paid with 14 digits"][0]))
    assert file.status == RemittanceFile.Status.FAILED
    assert file.pk not in remittance_files_sweep_stuck()
    assert remittance_file_retry(file=file, actor=None, queue=False)
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.RECEIVED and file.error == "" and file.attempts == 0


def test_amounts_with_more_decimals_than_the_column_are_rounded_with_a_warning(ingest):
    from decimal import Decimal

    file = ingest(interchange(_transaction("0001", "TRACE1", [
        "CLP*PCN1*1*100*80*20*12*ICN1", "SVC*HC:99213*100*80**1.0005", "AMT*B6*99.995", "CAS*PR*2*20",
    ])))  # fmt: skip
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    line = ServiceLine.objects.get(claim__remittance__file=file)
    assert (line.allowed, line.units) == (Decimal("100.00"), Decimal("1.001"))
    assert any(w.startswith("segment 12 AMT02:") and "99.995" in w and "100.00" in w for w in file.warnings), (
        file.warnings
    )
    assert any(w.startswith("segment 11 SVC05:") and "1.0005" in w for w in file.warnings), file.warnings


def test_cas_beyond_six_triples_is_stored_whole_and_warned(ingest):
    triples = "*".join(f"{reason}*5*" for reason in ("1", "2", "3", "45", "96", "97", "253"))
    file = ingest(interchange(_transaction("0001", "TRACE1", [
        "CLP*PCN1*1*100*65**12*ICN1", f"CAS*CO*{triples}",
    ], paid="65")))  # fmt: skip
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    assert file.adjustment_count == 7
    assert any("segment 11 (CAS)" in w and "past CAS19" in w for w in file.warnings), file.warnings
    claim = ClaimPayment.objects.get(remittance__file=file)
    assert claim.balanced  # the seventh amount is what makes it balance


def test_utf8_names_are_stored_as_written(ingest):
    file = ingest(good_then_bad(["CLP*BAD1*1*100*80*20*12*ICN2", "NM1*QC*1*MÜLLER*JOSÉ****MI*M9"]))
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    claim = ClaimPayment.objects.get(remittance__file=file, patient_control_number="BAD1")
    assert (claim.patient_last_name, claim.patient_first_name) == ("MÜLLER", "JOSÉ")


def test_every_text_and_number_column_an_835_fills_is_checked():
    # A column written from the file but missing from the check would be cut or refused by
    # the database again: the lists the store writes and the check's list must agree.
    from django.db import models as m

    from denials.services.storing import CLAIM_COLUMNS, LINE_COLUMNS
    from denials.x12.fitting import COLUMN_KEYS

    written = {"ClaimPayment": (ClaimPayment, CLAIM_COLUMNS), "ServiceLine": (ServiceLine, LINE_COLUMNS)}
    checked = 0
    for name, (model, columns) in written.items():
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        for column in columns:
            field = by_attname[column]
            if isinstance(field, (m.CharField, m.DecimalField)):
                assert f"{name}.{column}" in COLUMN_KEYS, column
                checked += 1
    assert checked == 29
    for model in (Remittance, Adjustment, RemarkCode, ProviderAdjustment):
        for field in model._meta.concrete_fields:
            if isinstance(field, (m.CharField, m.DecimalField)) and field.name not in {"dedupe_key", "source"}:
                assert f"{model.__name__}.{field.name}" in COLUMN_KEYS, field.name


def test_nul_in_a_refused_version_fails_the_file_once_with_a_readable_error(ingest):
    content = good_then_bad(GOOD_CLAIM[:1]).replace(b"005010X221A1", b"00501\x000X221A1")
    file = ingest(content, name="nul\x00name.835")
    assert (file.status, file.attempts) == (RemittanceFile.Status.FAILED, 1)
    assert "segment 2 (GS)" in file.error and "\\x00" in file.error
    assert "\x00" not in file.error + file.x12_version + file.original_name


def test_denial_too_large_to_triage_fails_the_file_before_storing(ingest):
    # Each amount fits its column, but the denial's priority (up to twice its amount) would
    # not fit the priority column: refused up front rather than failing in triage after
    # the rows were stored.
    claim = ["CLP*BIG1*4*600000000000*0**12*ICN1", "CAS*CO*50*600000000000"]
    file = ingest(interchange(_transaction("0001", "TRACE1", claim, paid="0")))
    assert file.status == RemittanceFile.Status.FAILED, file.error
    assert "segment 10 CLP01" in file.error and "priority" in file.error, file.error
    assert not Remittance.objects.filter(file=file).exists()
