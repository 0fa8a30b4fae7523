"""Issue 12, "Nothing internal reaches a page" and "Admin": favicon, no Retry for a file
that can never succeed, strict-check crashes in words, admin branding and CARC order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from denials.models import RemittanceFile
from denials.services import remittance_file_receive, remittance_file_retry
from denials.services.receiving import RetryRefused
from denials.x12 import strict
from denials.x12.strict import validate_strict
from ncci.models import Carc

SAMPLES = Path(__file__).parent / "fixtures" / "835"
FILE_4010 = "oopfactory__4010_Example1_reversals_plb.txt"


# --- favicon ---------------------------------------------------------------------------
def test_every_page_links_an_svg_favicon_the_csp_allows(admin_client_):
    html = admin_client_.get(reverse("denials:file_list")).content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link and link.group(1).endswith("img/favicon.svg")
    svg = (Path(settings.BASE_DIR) / "static" / "img" / "favicon.svg").read_text()
    assert svg.startswith("<svg") and "<script" not in svg
    # Served from our own origin, which img-src allows.
    assert link.group(1).startswith("/" + settings.STATIC_URL.lstrip("/"))
    csp = admin_client_.get(reverse("denials:file_list")).headers.get("Content-Security-Policy", "")
    if csp:
        img_src = re.search(r"img-src ([^;]+)", csp)
        assert img_src and "'self'" in img_src.group(1)


# --- a file that can never succeed offers no Retry --------------------------------------
@pytest.fixture
def failed_4010(ingest, sample_bytes) -> RemittanceFile:
    file = ingest(sample_bytes(FILE_4010), name=FILE_4010)
    assert file.status == RemittanceFile.Status.FAILED and file.x12_version.startswith("004010")
    return file


@pytest.fixture
def failed_retryable(ingest) -> RemittanceFile:
    file = ingest(b"this is not an 835", name="garbled.835")
    assert file.status == RemittanceFile.Status.FAILED and file.x12_version == ""
    return file


def test_a_4010_file_page_offers_no_retry_and_says_why(admin_client_, failed_4010):
    html = admin_client_.get(reverse("denials:file_detail", args=[failed_4010.pk])).content.decode()
    assert "Retry ingestion" not in html
    assert reverse("denials:file_retry", args=[failed_4010.pk]) not in html
    assert "Retrying cannot help" in html


def test_a_file_that_may_pass_again_still_offers_retry(admin_client_, failed_retryable):
    html = admin_client_.get(reverse("denials:file_detail", args=[failed_retryable.pk])).content.decode()
    assert "Retry ingestion" in html
    assert "Retrying cannot help" not in html


def test_the_service_refuses_to_retry_a_4010_file_with_a_clear_message(failed_4010, admin_user):
    with pytest.raises(RetryRefused) as refused:
        remittance_file_retry(file=failed_4010, actor=admin_user, queue=False)
    message = str(refused.value)
    assert "cannot be retried" in message and "004010X091A1" in message and "5010" in message
    failed_4010.refresh_from_db()
    assert failed_4010.status == RemittanceFile.Status.FAILED and failed_4010.attempts == 1


def test_the_service_still_retries_a_file_that_may_pass(failed_retryable, admin_user):
    assert remittance_file_retry(file=failed_retryable, actor=admin_user, queue=False) is True
    failed_retryable.refresh_from_db()
    assert failed_retryable.status == RemittanceFile.Status.RECEIVED


def test_the_same_4010_bytes_received_again_do_not_raise_and_keep_the_first_copy(failed_4010, sample_bytes):
    again = remittance_file_receive(name="again.835", content=sample_bytes(FILE_4010), source="upload", queue=False)
    assert again.status == RemittanceFile.Status.DUPLICATE and again.duplicate_of_id == failed_4010.pk
    failed_4010.refresh_from_db()
    assert failed_4010.status == RemittanceFile.Status.FAILED


# --- the strict check says what failed in words ------------------------------------------
INTERNAL = re.compile(r"\b(KeyError|IndexError|AttributeError|TypeError|Traceback)\b|list index out of range")


def test_a_crash_inside_pyx12_reads_as_a_sentence_naming_the_segment():
    # A real crash: with its GS line gone, pyx12 4.0.0 raises IndexError on the SE.
    lines = (SAMPLES / "pyx12__835_mult_loops.txt").read_bytes().split(b"~")
    assert lines[1].lstrip().startswith(b"GS*")
    result = validate_strict(b"~".join(lines[:1] + lines[2:]))
    assert result.ok is False
    assert re.fullmatch(r"The strict check could not read segment \d+ \(SE\): .+", result.error)
    assert not INTERNAL.search(result.error), result.error


def test_an_internal_error_on_segment_three_is_not_shown_as_keyerror_3(monkeypatch):
    real = strict.walk_tree.walk_errors
    calls = {"n": 0}

    def walk_errors(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the walker first sees the third segment (ISA and GS are placed directly)
            raise KeyError(3)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(strict.walk_tree, "walk_errors", walk_errors)
    result = validate_strict((SAMPLES / "pyx12__835_mult_loops.txt").read_bytes())
    assert result.error.startswith("The strict check could not read segment 4 (")
    assert "KeyError" not in result.error and ": 3" not in result.error


def test_an_unknown_version_names_the_version_in_words():
    data = (SAMPLES / "pyx12__835_mult_loops.txt").read_bytes().replace(b"005010X221A1", b"005010X999A1")
    result = validate_strict(data)
    assert result.error == (
        "The strict check could not read segment 2 (GS): the validator has no implementation guide for "
        "version 005010X999A1 with functional code HP (GS08 and GS01)."
    )


def test_the_file_page_shows_the_strict_sentence_not_the_exception(admin_client_, ingest, sample_bytes):
    from denials.services import remittance_file_record_validation

    file = ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    lines = sample_bytes("pyx12__835_mult_loops.txt").split(b"~")
    result = validate_strict(b"~".join(lines[:1] + lines[2:]))
    remittance_file_record_validation(file_id=file.pk, ok=result.ok, findings=[], ack_999="", error=result.error)
    html = admin_client_.get(reverse("denials:file_detail", args=[file.pk])).content.decode()
    assert "The strict check could not read segment" in html
    assert not INTERNAL.search(html)


# --- admin ---------------------------------------------------------------------------------
def test_the_admin_is_branded(admin_client_):
    html = admin_client_.get(reverse("admin:index")).content.decode()
    assert "Overturn administration" in html
    assert "Django administration" not in html and "Django site admin" not in html


def test_carcs_sort_as_numbers_then_letter_codes(admin_client_):
    Carc.objects.all().delete()
    for code in ["A1", "100", "16", "2", "P12", "97", "B7", "1"]:
        Carc.objects.create(code=code, summary=f"code {code}", description=f"code {code}")
    html = admin_client_.get(reverse("admin:ncci_carc_changelist")).content.decode()
    shown = re.findall(r'<th class="field-code"><a href="[^"]+">([^<]+)</a></th>', html)
    assert shown == ["1", "2", "16", "97", "100", "A1", "B7", "P12"]
