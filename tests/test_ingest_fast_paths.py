"""The fast ingest paths store exactly what the plain ones did (issue 13).

- a transaction set stored in chunks of claims equals the same set stored in one chunk,
  claim-history links across chunks included;
- denials triaged in memory as they are stored equal a re-triage read from the database;
- COPY text built a column at a time equals the value-by-value formatting;
- the reader splitting a file in blocks reads it exactly as splitting it whole;
- the garbage collector is back on after an ingest, whether it succeeded or failed.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from pathlib import Path

import pytest

from denials import bulk
from denials.models import ClaimPayment, Denial, QueueRule, RemittanceFile, WorkQueue
from denials.services import storing
from denials.x12 import reader
from denials.x12.reader import read_835
from ncci.models import PtpEdit
from tests.test_bad_values import _transaction, interchange

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "835"


@pytest.fixture
def triage_ready(db, adjustment_rules, code_lists, team):
    from denials.services import category_rules_load_defaults

    category_rules_load_defaults()
    QueueRule.objects.create(queue=WorkQueue.objects.create(name="Everything", team=team), category="")
    # A PTP edit between codes the generator bills together, so some denials carry an NCCI finding.
    from denials.demo.remittances import NCCI_PAIRS

    for column1, column2 in NCCI_PAIRS[:20]:
        PtpEdit.objects.create(
            setting="practitioner",
            column1=column1,
            column2=column2,
            modifier_indicator="1",
            effective_date=dt.date(2020, 1, 1),
            rationale="Standards of medical/surgical practice",
            quarter="2026Q3",
        )


def _claim(pcn: str, *, status: str = "1", charge: str = "100", paid: str = "80", icn: str = "ICN1") -> list[str]:
    if paid == "0":  # denied: the whole charge adjusted as not covered
        return [f"CLP*{pcn}*{status}*{charge}*0**12*{icn}*11*1", "SVC*HC:99213*100*0**1", "CAS*CO*50*100"]
    return [
        f"CLP*{pcn}*{status}*{charge}*{paid}*20*12*{icn}*11*1",
        "NM1*QC*1*DOE*JANE****MI*M123",
        f"SVC*HC:99213*{charge}*{paid}**1",
        "DTM*472*20240105",
        f"CAS*PR*2*{Decimal(charge) - Decimal(paid)}",
    ]


def _history_file() -> bytes:
    """One ST/SE in which claim A is paid, paid again (a correction) and reversed, among others."""
    claims = (
        _claim("A")
        + _claim("B", paid="0")
        + _claim("C")
        + _claim("D", paid="0")
        + _claim("A", paid="90")  # the same claim again: linked to the first payment
        + _claim("E")
        + _claim("F", paid="0")
        + ["CLP*A*22*-100*-90*-10*12*ICN1*11*1", "SVC*HC:99213*-100*-90**1", "CAS*PR*2*-10"]  # reversal
        + _claim("G")
    )
    return interchange(_transaction("0001", "TRACE-H", claims, paid="0"))


def _stored(file: RemittanceFile) -> dict[str, list[tuple[object, ...]]]:
    """Every row the file stored, by natural key (no ids): claims with their links, lines,
    adjustments, remarks, denials with their triage, and the denials' adjustments."""
    claims = ClaimPayment.objects.filter(remittance__file=file)
    key = {c.pk: (c.remittance.trace_number, c.sequence) for c in claims.select_related("remittance")}
    skip = {"id", "remittance", "claim", "line", "payer", "previous_payment", "reverses", "pair_line"}
    skip |= {"triaged_at", "created_at", "updated_at"}  # when, not what

    def fields(obj: object) -> tuple[object, ...]:
        return tuple((f.name, getattr(obj, f.attname)) for f in type(obj)._meta.concrete_fields if f.name not in skip)

    return {
        "claims": sorted(
            (key[c.pk], key.get(c.previous_payment_id), key.get(c.reverses_id), fields(c)) for c in claims
        ),
        "lines": sorted((key[ln.claim_id], fields(ln)) for c in claims for ln in c.service_lines.all()),
        "adjustments": sorted((key[a.claim_id], fields(a)) for c in claims for a in c.adjustments.all()),
        "remarks": sorted((key[r.claim_id], fields(r)) for c in claims for r in c.remarks.all()),
        "denials": sorted(
            (
                key[d.claim_id],
                d.line.sequence if d.line else None,
                fields(d),
                sorted(a.sequence for a in d.adjustments.all()),
            )
            for d in Denial.objects.filter(claim__in=claims).select_related("line")
        ),
    }


def _forget(file: RemittanceFile) -> None:
    """Delete what a file stored (and the file), so the same bytes can be ingested again."""
    file.delete()


def test_a_transaction_set_stored_in_chunks_equals_it_stored_whole(ingest, triage_ready, monkeypatch):
    from denials.demo.remittances import generate_835

    content = generate_835(claims=60, seed=31, denial_rate=0.7)
    monkeypatch.setattr(storing, "STORE_CHUNK", 7)
    chunked = ingest(content)
    assert chunked.status == "ingested", chunked.error
    in_chunks = _stored(chunked)
    _forget(chunked)

    monkeypatch.setattr(storing, "STORE_CHUNK", 100_000)
    whole = ingest(content)
    assert whole.status == "ingested", whole.error
    assert _stored(whole) == in_chunks
    assert len(in_chunks["claims"]) == 60 and len(in_chunks["denials"]) > 20


def test_claim_history_links_across_chunks(ingest, adjustment_rules, monkeypatch):
    monkeypatch.setattr(storing, "STORE_CHUNK", 3)  # A's payments and its reversal in three chunks
    file = ingest(_history_file())
    assert file.status == "ingested", file.error
    first, again, reversal = ClaimPayment.objects.filter(patient_control_number="A").order_by("sequence")
    assert (first.sequence, again.sequence, reversal.sequence) == (1, 5, 8)
    assert first.previous_payment_id is None and first.reverses_id is None
    assert again.previous_payment_id == first.pk and again.reverses_id is None
    assert reversal.previous_payment_id == again.pk and reversal.reverses_id == again.pk
    assert not ClaimPayment.objects.exclude(patient_control_number="A").exclude(previous_payment=None).exists()


def test_a_later_file_links_to_the_earlier_files_payments(ingest, adjustment_rules):
    ingest(_history_file())
    later = ingest(interchange(_transaction("0002", "TRACE-L", _claim("A", paid="95"))))
    assert later.status == "ingested", later.error
    newest = ClaimPayment.objects.get(remittance__file=later)
    # The last payment of A before it was the reversal; a reversal is what it links to.
    assert newest.previous_payment == ClaimPayment.objects.get(patient_control_number="A", status_code="22")


def test_denials_triaged_while_stored_equal_a_retriage_from_the_database(ingest, triage_ready):
    from denials.demo.remittances import generate_835
    from denials.services import denials_triage

    file = ingest(generate_835(claims=120, seed=32, denial_rate=0.8))
    assert file.status == "ingested", file.error
    columns = ["id", "category", "action", "action_modifier", "explanation", "queue_id", "priority", "due_date"]
    columns += ["success_probability", "expected_recovery", "ptp_edit_id", "pair_line_id", "ncci_column1"]
    columns += ["ncci_modifier_indicator", "ncci_rationale"]
    stored = list(Denial.objects.order_by("id").values_list(*columns))
    assert len(stored) > 50
    assert all(row[1] and row[5] for row in stored)  # every denial has a category and a queue
    assert any(row[8] for row in stored) and any(row[12] for row in stored)  # NCCI findings among them
    assert not Denial.objects.filter(triaged_at=None).exists()

    assert denials_triage(file_id=file.pk, only_unworked=False) == 0  # nothing changes category/queue/action
    assert list(Denial.objects.order_by("id").values_list(*columns)) == stored


def test_the_store_sends_each_chunk_on_its_own(ingest, adjustment_rules, monkeypatch):
    from denials.demo.remittances import generate_835

    sizes: list[int] = []
    real = storing.insert_values

    def spy(model, names, rows, **kwargs):  # type: ignore[no-untyped-def]
        if model is ClaimPayment:
            sizes.append(len(rows))
        return real(model, names, rows, **kwargs)

    monkeypatch.setattr(storing, "insert_values", spy)
    monkeypatch.setattr(storing, "STORE_CHUNK", 8)
    file = ingest(generate_835(claims=30, seed=33))
    assert file.status == "ingested", file.error
    assert sizes == [8, 8, 8, 6]
    assert list(ClaimPayment.objects.filter(remittance__file=file).values_list("sequence", flat=True)) == list(
        range(1, 31)
    )


COPY_VALUES = [
    ("plain", "tab\there", "back\\slash", "new\nline", "cr\rhere", "", "MÜLLER"),
    (0, -5, 123456789012, None, None, 7, 1),
    (Decimal("0.00"), Decimal("-12.50"), Decimal("1E+2"), None, Decimal("99.995"), Decimal("3"), Decimal("0")),
    (dt.date(2024, 1, 5), None, dt.date(1999, 12, 31), dt.date(2026, 11, 30), None, None, dt.date(2000, 2, 29)),
    (True, False, None, True, True, False, None),
    ("a", 1, None, Decimal("2"), dt.date(2024, 1, 1), True, "x\ty"),  # a mixed column
    (None, None, None, None, None, None, None),
    (
        dt.datetime(2026, 11, 30, 1, 2, 3, tzinfo=dt.UTC),
        None,
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        None,
        None,
        None,
        None,
    ),
]


def test_copy_text_built_by_column_equals_value_by_value():
    rows = list(zip(*COPY_VALUES, strict=True))
    expected = "".join("\t".join(map(bulk._copy_text, row)) + "\n" for row in rows)
    assert bulk.copy_text_rows(rows) == expected
    assert bulk.copy_text_rows([]) == ""


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir() if p.name != "SOURCES.txt"))
def test_the_reader_reads_a_file_in_blocks_exactly_as_whole(name, monkeypatch):
    content = (SAMPLES / name).read_bytes()
    whole = read_835(content)
    monkeypatch.setattr(reader, "_BLOCK", 37)  # cut every few segments
    in_blocks = read_835(content)
    assert in_blocks == whole
    assert [str(f) for f in in_blocks.errors + in_blocks.warnings] == [str(f) for f in whole.errors + whole.warnings]


def test_blocks_split_like_the_whole_text(monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK", 5)
    for text, terminator in [("A~B~~CCCCCCCCCC~D~", "~"), ("ISA*1\nGS*2\n\nST*3", "\n"), ("", "~"), ("~~~~~~~", "~")]:
        pieces = [piece for block in reader._blocks(text, terminator) for piece in block.split(terminator)]
        assert pieces == text.split(terminator)


def test_the_collector_is_on_again_after_an_ingest(ingest, adjustment_rules):
    assert gc.isenabled()
    good = ingest(interchange(_transaction("0001", "TRACE-G", _claim("A"))))
    assert good.status == "ingested" and gc.isenabled()
    broken = ingest(b"ISA*garbage")
    assert broken.status == "failed" and gc.isenabled()
