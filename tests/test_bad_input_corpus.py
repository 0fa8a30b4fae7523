"""Bad 835 input, through every way a file arrives (the command, the REST API, the upload page):
each malformed file of ``tests.bad_835.CORPUS`` is quarantined (failed, its error naming the place)
or stored with a warning naming the place; a failed file stores 0 rows; and no page or API call
answers 500 afterwards. Runs on SQLite and on PostgreSQL (``make test`` runs both)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
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
from tests.bad_835 import BUILDERS

pytestmark = pytest.mark.django_db

FAILED, WARNED = "failed", "warned"

# What each fault must come to, and words its error (failed) or one of its warnings or strict-check
# findings (warned) must hold: the place (a segment number and id, or "file:" for the whole file).
EXPECTED: dict[str, tuple[str, str]] = {
    "empty": (FAILED, "file:"),
    "whitespace only": (FAILED, "file:"),
    "truncated in the ISA": (FAILED, "file: the ISA segment is incomplete"),
    "truncated mid claim": (FAILED, "has no SE"),
    "truncated before SE": (FAILED, "has no SE"),
    "ISA one character short": (WARNED, "segment 1 (ISA)"),
    "ISA one character long": (WARNED, "segment 1 (ISA)"),
    "element separator equals segment terminator": (FAILED, "file: the ISA declares clashing delimiters"),
    "component separator equals element separator": (FAILED, "file: the ISA declares clashing delimiters"),
    "repetition separator equals element separator": (FAILED, "file: the ISA declares clashing delimiters"),
    "missing SE": (FAILED, "segment 15 (GE): transaction 0001 (ST at segment 3) has no SE"),
    "missing GE": (FAILED, "segment 16 (IEA): functional group 1 (GS at segment 2) has no GE"),
    "missing IEA": (FAILED, "has no IEA"),
    "missing ST": (FAILED, "segment 3 (BPR): BPR is outside any transaction"),
    "missing GS": (FAILED, "segment 2 (ST): ST is outside any functional group"),
    "missing BPR": (FAILED, "segment 3 (ST): transaction 0001 has no BPR"),
    "missing payer N1": (WARNED, "1000A"),
    "SE segment count wrong": (FAILED, "segment 15 (SE): SE01 says 99 segments"),
    "SE control number differs from ST": (FAILED, "segment 15 (SE): SE02 '0002' does not match ST02"),
    "GE count wrong": (FAILED, "segment 16 (GE): GE01 says 5"),
    "GE control number differs from GS": (FAILED, "segment 16 (GE): GE02 '7' does not match GS06"),
    "IEA control number differs from ISA": (FAILED, "segment 17 (IEA): IEA02 '000000002' does not match"),
    "IEA count wrong": (FAILED, "segment 17 (IEA): IEA01 says 3"),
    "reused ST control numbers": (WARNED, "not unique"),
    "non-UTF-8 bytes in a name": (WARNED, "file: the file is not valid UTF-8 (byte 412 is 0xe9)"),
    "byte order mark": (WARNED, "byte-order mark"),
    "UTF-16 encoded": (FAILED, "file: not an X12 file"),
    "a zip renamed .835": (FAILED, "file: not an X12 file"),
    "a PNG image": (FAILED, "file: not an X12 file"),
    "random binary": (FAILED, "file: not an X12 file"),
    "plain text, not X12": (FAILED, "file: not an X12 file"),
    "a 4010 835": (FAILED, "segment 2 (GS): X12 version 004010X091A1 (4010) is not supported"),
    "a 999 acknowledgement": (FAILED, "segment 3 (ST): transaction set '999' is not an 835"),
    "an 837 claim file": (FAILED, "segment 3 (ST): transaction set '837' is not an 835"),
    "NUL bytes in the payer name": (FAILED, "segment 6 N102: payer name"),
    "amount too large for its column": (FAILED, "segment 11 SVC03"),
    "units too large for their column": (FAILED, "segment 11 SVC05"),
    "claim number too long for its column": (FAILED, "segment 10 CLP01"),
    "amount that is not a number": (FAILED, "segment 11 (SVC): SVC02 '1O0' is not an amount"),
    "date that is not a date": (WARNED, "segment 12 (DTM): DTM02 '20241345' is not a date"),
    "seven CAS triples": (WARNED, "segment 12 (CAS): CAS has 1 adjustment past CAS19"),
    "six modifiers": (WARNED, "segment 11 (SVC): SVC01 has more than 4 modifiers"),
    "CAS with an unknown group code": (WARNED, "segment 12 (CAS): CAS01 'ZZ' is not a group code"),
    "segment before ISA": (FAILED, "file: not an X12 file"),
    "ISA and nothing else": (FAILED, "segment 1 (ISA): interchange 000000001 (ISA at segment 1) has no IEA"),
    "transaction set with no claims": (WARNED, "segment 4 (BPR): transaction 0001 does not balance"),
    "CLP missing its amounts": (WARNED, "segment 10 (CLP): CLP03 (amount) is missing"),
    "SVC without a procedure code": (WARNED, "segment 11 (SVC): SVC01 '' has no procedure code"),
    "a 60 MB element": (FAILED, "segment 11 NM104"),
}
#: An empty upload is refused by the form and the API before anything is stored (the command
#: has no form: the empty file is stored and quarantined).
REFUSED_ON_THE_WEB = {"empty"}
ROUTES = ("command", "api", "upload")


def test_the_corpus_names_an_outcome_for_every_fault_and_holds_at_least_40():
    assert set(EXPECTED) == set(BUILDERS)
    assert len(BUILDERS) >= 40
    contents = [build() for build in BUILDERS.values()]
    assert len(set(contents)) == len(contents), "two faults build the same bytes"


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


def _receive(route: str, name: str, content: bytes, client, admin_user, capture) -> RemittanceFile | None:
    """Send the bytes in by ``route``; the file row it created (None if the route refused it)."""
    before = set(RemittanceFile.objects.values_list("pk", flat=True))
    if route == "command":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "remit.835"
            path.write_bytes(content)
            try:
                call_command("ingest_835", str(path), "--sync", stdout=io.StringIO())
            except CommandError as exc:
                assert "1 of 1 file(s) failed" in str(exc)
    else:
        client.force_login(admin_user)
        upload = SimpleUploadedFile("remit.835", content, content_type="application/octet-stream")
        with capture(execute=True):
            if route == "api":
                response = client.post("/api/remittance-files/", {"file": upload})
                refused = response.status_code == 400
                assert response.status_code in (202, 400), (name, response.status_code)
            else:
                response = client.post(reverse("denials:upload"), {"files": [upload]})
                refused = response.status_code == 400
                assert response.status_code in (302, 400), (name, response.status_code)
        if refused:
            assert name in REFUSED_ON_THE_WEB, (name, response.content[:500])
            assert b"empty" in response.content  # says why, in words
            return None
    created = RemittanceFile.objects.exclude(pk__in=before)
    assert created.count() == 1, (name, route)
    return created.get()


def _strict_check(file: RemittanceFile) -> None:
    """The strict 5010 check a worker runs after the file is stored, run here."""
    from denials.tasks import validate_remittance_file

    if file.status == RemittanceFile.Status.INGESTED:
        validate_remittance_file(file.pk)
        file.refresh_from_db()


def _pages_answer(client, admin_user, file: RemittanceFile | None) -> None:
    client.force_login(admin_user)
    urls = [
        reverse("denials:file_list"),
        reverse("denials:claim_list"),
        reverse("denials:worklist"),
        "/api/remittance-files/",
        "/api/claims/",
        "/api/denials/",
    ]
    if file is not None:
        urls += [reverse("denials:file_detail", args=[file.pk]), f"/api/remittance-files/{file.pk}/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_bad_file_is_quarantined_or_warned_naming_the_place(
    name, route, client, admin_user, adjustment_rules, django_capture_on_commit_callbacks
):
    outcome, place = EXPECTED[name]
    file = _receive(route, name, BUILDERS[name](), client, admin_user, django_capture_on_commit_callbacks)
    if file is None:  # refused at the door: nothing stored at all
        assert RemittanceFile.objects.count() == 0
        _pages_answer(client, admin_user, None)
        return
    file.refresh_from_db()
    if outcome == FAILED:
        assert file.status == RemittanceFile.Status.FAILED, (file.status, file.warnings)
        assert place in file.error, file.error
        assert set(_stored_rows(file).values()) == {0}, _stored_rows(file)
        assert (file.claim_count, file.denial_count) == (0, 0)
    else:
        assert file.status == RemittanceFile.Status.INGESTED, (file.status, file.error)
        _strict_check(file)
        said = [str(w) for w in file.warnings] + [
            f"segment {f.get('segment_number')} ({f.get('segment_id')}): {f.get('message')}"
            for f in file.validation_findings
        ]
        assert any(place in text for text in said), said
    _pages_answer(client, admin_user, file)
