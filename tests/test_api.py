from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from denials.models import ClaimPayment, RemittanceFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(coder):
    client = APIClient()
    client.force_authenticate(coder)
    return client


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.mark.parametrize("url", ["/api/remittance-files/", "/api/claims/"])
def test_api_refuses_anonymous_callers(url):
    response = APIClient().get(url)
    assert response.status_code in (401, 403)


def test_token_authentication_works(coder, team_queue, ingest, sample_bytes):
    ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    token = Token.objects.create(user=coder)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/remittance-files/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_upload_answers_202_with_the_file_url_and_status(
    api, adjustment_rules, sample_bytes, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("emedny.835", sample_bytes("edi835parser__emedny_sample.txt"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/remittance-files/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    assert body["url"].endswith(f"/api/remittance-files/{body['id']}/")
    assert response["Location"] == body["url"]
    assert body["status"] in {"received", "processing", "ingested"}
    # With no broker the task ran in-process on commit: the file is now ingested.
    detail = api.get(body["url"]).json()
    assert detail["status"] == "ingested"
    assert detail["claim_count"] == 3 and detail["denial_count"] == 4


def test_upload_without_a_file_is_a_400_naming_the_field(api):
    response = api.post("/api/remittance-files/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_uploading_the_same_file_twice_answers_duplicate(api, ingest, sample_bytes):
    ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    upload = SimpleUploadedFile("again.835", sample_bytes("pyx12__835_mult_loops.txt"))
    response = api.post("/api/remittance-files/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    assert response.json()["status"] == "duplicate"
    assert ClaimPayment.objects.count() == 1


def test_file_list_is_paginated_with_a_count(api, team_queue, ingest, sample_bytes):
    ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    ingest(sample_bytes("tigershark__5010-835-example-3_denial.txt"))
    body = api.get("/api/remittance-files/").json()
    assert body["count"] == 2 and len(body["results"]) == 2
    assert {r["status"] for r in body["results"]} == {"ingested"}
    assert "content" not in body["results"][0]


def test_claims_filter_by_patient_control_number_payer_claim_number_payer_and_status(admin_api, ingest, sample_bytes):
    api = admin_api
    ingest(sample_bytes("oopfactory__5010_NE-Medicaid_MultipleInterchanges.txt"))
    ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    claim = ClaimPayment.objects.get(patient_control_number="2005555A")
    assert api.get("/api/claims/").json()["count"] == 57
    by_pcn = api.get("/api/claims/", {"patient_control_number": "2005555A"}).json()
    assert by_pcn["count"] == 1 and by_pcn["results"][0]["id"] == claim.pk
    by_icn = api.get("/api/claims/", {"payer_claim_number": claim.payer_claim_number}).json()
    assert [r["id"] for r in by_icn["results"]] == [claim.pk]
    by_payer = api.get("/api/claims/", {"payer": claim.payer_id}).json()
    assert by_payer["count"] == 1
    denied = api.get("/api/claims/", {"status": "4"}).json()
    assert all(r["status_code"] == "4" for r in denied["results"]) and denied["count"] >= 1


def test_claim_detail_has_lines_adjustments_and_remarks(api, team_queue, ingest, sample_bytes):
    ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    claim = ClaimPayment.objects.get()
    body = api.get(f"/api/claims/{claim.pk}/").json()
    assert body["patient_control_number"] == "2005555A"
    assert len(body["service_lines"]) == 3
    first = body["service_lines"][0]
    assert first["procedure_code"] == "T1005"
    assert first["adjustments"][0]["group_code"] == "CO" and first["adjustments"][0]["reason_code"] == "16"
    assert first["adjustments"][0]["amount"] == "500.04"
    assert first["remarks"] == ["N14"]
    assert {r["code"] for r in body["remarks"]} == {"N14"}


def test_api_upload_is_recorded_with_its_source(api, adjustment_rules, sample_bytes):
    upload = SimpleUploadedFile("x.835", sample_bytes("pyx12__835_mult_loops.txt"))
    api.post("/api/remittance-files/", {"file": upload}, format="multipart")
    assert RemittanceFile.objects.get().source == RemittanceFile.Source.API


@pytest.mark.parametrize(
    ("url", "anonymous_status"), [("/api/appeals/1.5/", 404), ("/api/no-such-thing/", 404), ("/api/denials/abc/", 401)]
)
def test_an_api_address_nothing_answers_is_a_json_404(api, url, anonymous_status):
    response = api.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Not found")  # DRF's own for /api/denials/abc/
    # Anonymous callers get JSON too, never the sign-in page: a 404 where nothing answers, else the
    # operation's own 401.
    anonymous = APIClient().get(url)
    assert anonymous.status_code == anonymous_status and anonymous["Content-Type"] == "application/json"
