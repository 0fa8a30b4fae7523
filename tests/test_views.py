from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from denials.models import ClaimPayment, RemittanceFile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/files/", "/files/upload/", "/claims/", "/ncci/search/", "/ncci/scrub/"])
def test_every_page_requires_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_is_public(client):
    assert client.get("/accounts/login/").status_code == 200


def test_file_list_shows_status_counts_and_errors(admin_client_, ingest, sample_bytes):
    ingest(sample_bytes("edi835parser__emedny_sample.txt"), name="emedny.835")
    ingest(sample_bytes("oopfactory__4010_Example1_reversals_plb.txt"), name="old-4010.txt")
    response = admin_client_.get(reverse("denials:file_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "emedny.835" in html and "old-4010.txt" in html
    assert "Ingested" in html and "Failed" in html
    assert "4010" in html  # the refusal, in plain words


def test_file_list_has_a_bounded_number_of_queries(
    coder_client, team_queue, ingest, sample_bytes, django_assert_max_num_queries
):
    names = [
        "edi835parser__emedny_sample.txt",
        "pyx12__835_mult_loops.txt",
        "lfh__managed-care.835",
        "lfh__medicare-part-a.835",
        "tigershark__5010-835-example-3_denial.txt",
    ]
    for name in names:
        ingest(sample_bytes(name), name=name)
    with django_assert_max_num_queries(8):
        html = coder_client.get(reverse("denials:file_list")).content.decode()
    assert "pyx12__835_mult_loops.txt" in html and "tigershark__5010-835-example-3_denial.txt" in html


def test_upload_page_receives_several_files_and_shows_them_in_place(
    coder_client, adjustment_rules, sample_bytes, django_capture_on_commit_callbacks
):
    files = [
        SimpleUploadedFile("a.835", sample_bytes("pyx12__835_mult_loops.txt")),
        SimpleUploadedFile("b.835", sample_bytes("tigershark__5010-835-example-3_denial.txt")),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = coder_client.post(reverse("denials:upload"), {"files": files}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "a.835" in html and "b.835" in html
    assert "<html" not in html  # a partial, swapped in place
    assert RemittanceFile.objects.filter(source="upload").count() == 2
    assert set(RemittanceFile.objects.values_list("status", flat=True)) == {"ingested"}


def test_upload_without_files_shows_the_error_next_to_the_field(coder_client):
    response = coder_client.post(reverse("denials:upload"), {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#upload-form"
    assert "This field is required" in response.content.decode()


def test_upload_without_javascript_redirects_to_the_file_list(coder_client, adjustment_rules, sample_bytes):
    response = coder_client.post(
        reverse("denials:upload"), {"files": [SimpleUploadedFile("a.835", sample_bytes("pyx12__835_mult_loops.txt"))]}
    )
    assert response.status_code == 302 and response["Location"] == reverse("denials:file_list")


def test_processing_file_row_polls_until_done(coder_client, coder, adjustment_rules, sample_bytes):
    from denials.services import remittance_file_receive

    file = remittance_file_receive(
        name="x.835", content=sample_bytes("pyx12__835_mult_loops.txt"), source="upload", queue=False, uploaded_by=coder
    )
    html = coder_client.get(reverse("denials:file_row", args=[file.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html
    RemittanceFile.objects.filter(pk=file.pk).update(status="ingested")
    html = coder_client.get(reverse("denials:file_row", args=[file.pk])).content.decode()
    assert "hx-trigger" not in html


def test_file_detail_shows_remittances_claims_and_warnings(admin_client_, ingest, sample_bytes):
    file = ingest(sample_bytes("edi835parser__blue_cross_nc_sample_NO_ENVELOPE.txt"))
    html = admin_client_.get(reverse("denials:file_detail", args=[file.pk])).content.decode()
    assert "envelope" in html
    assert ClaimPayment.objects.get().patient_control_number in html


def test_failed_file_can_be_retried_from_its_page(
    admin_client_, ingest, sample_bytes, django_capture_on_commit_callbacks
):
    file = ingest(b"this is not an 835", name="garbled.835")  # a 4010 file is never retried
    assert file.status == "failed"
    with django_capture_on_commit_callbacks(execute=True):  # the retry queues the ingestion on commit
        response = admin_client_.post(reverse("denials:file_retry", args=[file.pk]))
    assert response.status_code == 302
    file.refresh_from_db()
    assert file.attempts >= 1


def test_retrying_a_4010_file_is_refused_with_a_message(admin_client_, ingest, sample_bytes):
    file = ingest(sample_bytes("oopfactory__4010_Example1_reversals_plb.txt"))
    response = admin_client_.post(reverse("denials:file_retry", args=[file.pk]), follow=True)
    assert "cannot be retried" in response.content.decode()
    file.refresh_from_db()
    assert file.status == "failed" and file.attempts == 1


def test_missing_file_is_a_404(coder_client):
    assert coder_client.get(reverse("denials:file_detail", args=[999999])).status_code == 404


def test_claim_page_explains_codes_in_plain_words(coder_client, team_queue, ingest, sample_bytes, code_lists):
    ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    claim = ClaimPayment.objects.get()
    html = coder_client.get(reverse("denials:claim_detail", args=[claim.pk])).content.decode()
    assert "T1005" in html and "CO-16" in html
    assert "the remark code says what" in html.lower()  # CARC 16: our own summary (no official text shipped)
    assert "N14" in html
    assert "History across remittances" in html


def test_claim_list_filters_and_htmx_partial(
    coder_client, team_queue, ingest, sample_bytes, django_assert_max_num_queries
):
    ingest(sample_bytes("oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt"))
    # Session and user (2), the user's groups (1), count and page (2), payers (1), the session's
    # save on every request (3: savepoint, update, release), and one to spare.
    with django_assert_max_num_queries(10):
        response = coder_client.get(reverse("denials:claim_list"))
    assert response.status_code == 200
    claim = ClaimPayment.objects.filter(denials__isnull=False).first()
    assert claim is not None and claim.patient_control_number in response.content.decode()
    by_status = coder_client.get(
        reverse("denials:claim_list"), {"status": claim.status_code}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert claim.patient_control_number in by_status and "<html" not in by_status
    # A claim number travels in a POST body, never in the URL.
    partial = coder_client.post(
        reverse("denials:claim_list"), {"pcn": claim.patient_control_number}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert claim.patient_control_number in partial and "<html" not in partial
