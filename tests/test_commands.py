from __future__ import annotations

import json
import os
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from denials.models import ClaimPayment, RemittanceFile

pytestmark = pytest.mark.django_db


def test_ingest_835_json_prints_one_line_per_file(adjustment_rules, tmp_path, sample_bytes):
    good = tmp_path / "good.835"
    good.write_bytes(sample_bytes("edi835parser__emedny_sample.txt"))
    out = StringIO()
    call_command("ingest_835", str(good), "--sync", "--json", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 1
    row = lines[0]
    assert {"file", "status", "claims", "service_lines", "adjustments", "denials", "error"} <= set(row)
    assert (row["status"], row["claims"], row["service_lines"], row["adjustments"], row["denials"], row["error"]) == (
        "ingested",
        3,
        10,
        4,
        4,
        "",
    )


def test_ingest_835_reports_failures_and_duplicates_and_exits_non_zero(adjustment_rules, tmp_path, sample_bytes):
    good = tmp_path / "a.835"
    good.write_bytes(sample_bytes("pyx12__835_mult_loops.txt"))
    copy = tmp_path / "b.835"
    copy.write_bytes(sample_bytes("pyx12__835_mult_loops.txt"))
    bad = tmp_path / "c.835"
    bad.write_bytes(b"this is not an 835")
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 3"):
        call_command("ingest_835", str(tmp_path), "--sync", "--json", stdout=out)
    statuses = {json.loads(line)["file"].rsplit("/", 1)[1]: json.loads(line) for line in out.getvalue().splitlines()}
    assert statuses["a.835"]["status"] == "ingested"
    assert statuses["b.835"]["status"] == "duplicate"
    assert statuses["c.835"]["status"] == "failed" and "not an X12 file" in statuses["c.835"]["error"]
    assert ClaimPayment.objects.count() == 1


def test_ingest_835_names_a_missing_path(db):
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest_835", "/nonexistent/file.835")


def test_inbox_picks_up_complete_files_only_and_files_them_away(
    adjustment_rules, tmp_path, sample_bytes, monkeypatch, django_capture_on_commit_callbacks
):
    from denials import inbox

    monkeypatch.setattr(inbox, "SETTLE_SECONDS", 1.0)
    (tmp_path / "ready.835").write_bytes(sample_bytes("pyx12__835_mult_loops.txt"))
    (tmp_path / "broken.835").write_bytes(b"ISA*garbage")
    (tmp_path / "upload.835.part").write_bytes(b"still arriving")
    old = time.time() - 60
    for name in ("ready.835", "broken.835", "upload.835.part"):
        os.utime(tmp_path / name, (old, old))
    (tmp_path / "fresh.835").write_bytes(sample_bytes("lfh__managed-care.835"))  # still being written

    with django_capture_on_commit_callbacks(execute=True):
        received = inbox.inbox_scan(str(tmp_path))
    assert sorted(f.original_name for f in received) == ["broken.835", "ready.835"]
    inbox.inbox_file_finished(inbox_dir=str(tmp_path))
    assert (tmp_path / "processed" / "ready.835").exists()
    assert (tmp_path / "failed" / "broken.835").exists()
    assert (tmp_path / "failed" / "broken.835.error.txt").read_text().strip()
    assert (tmp_path / "upload.835.part").exists() and (tmp_path / "fresh.835").exists()
    assert RemittanceFile.objects.get(original_name="ready.835").source == "inbox"
