"""The two import commands share one runner (``ncci.management.file_imports``): a missing
file is named and counted, a good file's report is printed, a refused one fails the command
with how many of how many, and ``--queue`` hands each file to the worker's task."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ncci.models import CodeListImport, NcciImport

pytestmark = pytest.mark.django_db

CARC_CSV = "code,description\n300,Our test summary\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_import_codes_names_a_missing_file_and_counts_it_with_the_refused_one(tmp_path: Path) -> None:
    good = _write(tmp_path, "carc.csv", CARC_CSV)
    bad = _write(tmp_path, "bad.csv", "x,y\n1,2\n")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"^2 of 3 file\(s\) were not imported$"):
        call_command(
            "import_codes", "--list", "carc", str(good), str(tmp_path / "gone.csv"), str(bad), stdout=out, stderr=err
        )
    assert f"{tmp_path / 'gone.csv'}: no such file" in err.getvalue()
    statuses = list(CodeListImport.objects.order_by("pk").values_list("filename", "status"))
    assert statuses == [("carc.csv", CodeListImport.Status.DONE), ("bad.csv", CodeListImport.Status.FAILED)]
    assert "added 1" in out.getvalue()


def test_import_codes_queue_hands_the_file_to_the_task(tmp_path: Path) -> None:
    out = StringIO()
    call_command("import_codes", "--list", "carc", str(_write(tmp_path, "carc.csv", CARC_CSV)), "--queue", stdout=out)
    record = CodeListImport.objects.get()
    assert out.getvalue().strip() == f"carc.csv: queued as code list import #{record.pk}"
    # Tests run tasks in-process (conftest), as a worker would.
    assert record.status == CodeListImport.Status.DONE


def test_import_ncci_prints_why_a_file_failed_and_counts_the_missing_one(tmp_path: Path) -> None:
    bad = _write(tmp_path, "edits.txt", "not an NCCI file\n")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"^2 of 2 file\(s\) were not imported$"):
        call_command(
            "import_ncci",
            str(bad),
            str(tmp_path / "missing.zip"),
            "--table",
            "ptp",
            "--quarter",
            "2026Q1",
            stdout=out,
            stderr=err,
        )
    record = NcciImport.objects.get()
    assert record.status == NcciImport.Status.FAILED and record.error
    assert record.error in out.getvalue()
    assert "missing.zip: no such file" in err.getvalue()
