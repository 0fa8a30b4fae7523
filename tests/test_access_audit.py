"""Each look at one patient's data writes one AccessEvent; lists write none; the trails are read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from denials.models import AccessEvent, AppendOnlyError, AuditEvent, ClaimPayment, ClinicalDocument, Denial

pytestmark = pytest.mark.django_db


def _claim(tag: str = "ALPHA") -> ClaimPayment:
    return ClaimPayment.objects.get(patient_last_name=f"{tag}PATIENT")


def _events() -> list[tuple[str, str, str, str, str]]:
    return [
        (e.actor_label, e.action, e.target_type.model, e.target_id, e.path)
        for e in AccessEvent.objects.select_related("target_type").order_by("id")
    ]


@pytest.fixture
def signed_in(client, coder):
    client.force_login(coder)
    return client


@pytest.fixture
def api(coder):
    client = APIClient()
    client.force_authenticate(coder)
    return client


def test_claim_page_records_one_view(team_files, coder, signed_in):
    claim = _claim()
    url = reverse("denials:claim_detail", args=[claim.pk])
    assert signed_in.get(url).status_code == 200
    assert _events() == [(coder.username, "view", "claimpayment", str(claim.pk), url)]
    event = AccessEvent.objects.get()
    assert event.actor == coder


def test_denial_page_and_its_htmx_pane_each_record_one_view(team_files, coder, signed_in):
    denial = Denial.objects.filter(claim=_claim()).first()
    url = reverse("denials:denial_detail", args=[denial.pk])
    assert signed_in.get(url).status_code == 200
    assert signed_in.get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert _events() == [(coder.username, "view", "denial", str(denial.pk), url)] * 2


def test_file_page_records_a_view_but_its_polled_row_does_not(team_files, coder, signed_in):
    file = team_files["A"]
    assert signed_in.get(reverse("denials:file_row", args=[file.pk])).status_code == 200
    assert AccessEvent.objects.count() == 0
    url = reverse("denials:file_detail", args=[file.pk])
    assert signed_in.get(url).status_code == 200
    assert _events() == [(coder.username, "view", "remittancefile", str(file.pk), url)]


def test_lists_record_nothing(team_files, signed_in, api):
    for url in ("/claims/", "/files/", "/worklist/?queue=all"):
        assert signed_in.get(url).status_code == 200, url
    assert signed_in.post("/claims/", {"pcn": "ALPHAPCN8101"}).status_code == 200
    for url in ("/api/claims/", "/api/remittance-files/", "/api/denials/"):
        assert api.get(url).json()["count"] >= 1, url
    assert AccessEvent.objects.count() == 0


def test_api_detail_records_one_view_each(team_files, coder, api):
    claim = _claim()
    denial = Denial.objects.filter(claim=claim).first()
    file = team_files["A"]
    urls = [f"/api/claims/{claim.pk}/", f"/api/denials/{denial.pk}/", f"/api/remittance-files/{file.pk}/"]
    for url in urls:
        assert api.get(url).status_code == 200, url
    assert _events() == [
        (coder.username, "view", "claimpayment", str(claim.pk), urls[0]),
        (coder.username, "view", "denial", str(denial.pk), urls[1]),
        (coder.username, "view", "remittancefile", str(file.pk), urls[2]),
    ]


def test_document_download_records_one_download(team_files, coder, signed_in):
    denial = Denial.objects.filter(claim=_claim()).first()
    document = ClinicalDocument.objects.create(
        claim=denial.claim,
        title="n",
        original_name="n.txt",
        kind="text",
        content=b"ALPHA note",
        sha256="x",
        text="ALPHA note",
    )
    url = reverse("denials:denial_document_file", args=[denial.pk, document.pk])
    response = signed_in.get(url)
    assert response.status_code == 200 and response.content == b"ALPHA note"
    assert _events() == [(coder.username, "download", "clinicaldocument", str(document.pk), url)]


def test_a_refused_look_records_nothing(team_files, outsider, client):
    client.force_login(outsider)
    claim = _claim()
    assert client.get(reverse("denials:claim_detail", args=[claim.pk])).status_code == 404
    assert client.get(reverse("denials:file_detail", args=[team_files["A"].pk])).status_code == 404
    assert AccessEvent.objects.count() == 0


def test_access_record_refuses_an_unknown_action_and_cuts_long_paths(team_files, coder):
    from denials.services import access_record

    claim = _claim()
    with pytest.raises(ValueError, match="'peek' is not one of"):
        access_record(actor=coder, action="peek", target=claim, path="/x/")
    event = access_record(actor=coder, action=AccessEvent.Action.EXPORT, target=claim, path="/" + "x" * 500)
    assert len(event.path) == 300 and event.actor_label == coder.username
    assert event.target_type == ContentType.objects.get_for_model(ClaimPayment)


def test_access_rows_cannot_be_changed_or_deleted(team_files, coder):
    from denials.services import access_record

    event = access_record(actor=coder, action="view", target=_claim(), path="/claims/1/")
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()


def test_claim_page_shows_who_looked_to_managers_only(team_files, coder, manager, client):
    claim = _claim()
    url = reverse("denials:claim_detail", args=[claim.pk])
    client.force_login(coder)
    assert "Who looked at this claim" not in client.get(url).content.decode()
    client.force_login(manager)
    html = client.get(url).content.decode()
    assert "Who looked at this claim" in html
    assert coder.username in html and manager.username in html  # the coder's look, and this one


def test_claim_page_trail_is_capped_and_read_in_a_fixed_number_of_queries(
    team_files, manager, client, django_assert_max_num_queries
):
    """The trail shows the 20 newest looks, read in one query however long it is."""
    from denials.services import access_record

    claim = _claim()
    for _ in range(30):
        access_record(actor=manager, action="view", target=claim, path="/x/")
    client.force_login(manager)
    with django_assert_max_num_queries(21):
        html = client.get(reverse("denials:claim_detail", args=[claim.pk])).content.decode()
    # The 20 newest: this very look, then 19 of the earlier ones.
    assert html.count('<code class="small">/x/</code>') == 19
    assert html.count(f'<code class="small">{reverse("denials:claim_detail", args=[claim.pk])}</code>') == 1


# --- The admin: read-only trails -----------------------------------------------------------------
@pytest.fixture
def superuser_client(client, admin_user):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", [AccessEvent, AuditEvent])
def test_trails_are_read_only_in_the_admin_even_for_superusers(team_files, admin_user, superuser_client, model):
    from denials.services import access_record, audit_record

    claim = _claim()
    access_record(actor=admin_user, action="view", target=claim, path="/claims/1/")
    audit_record(actor=admin_user, action="test.change", target=claim)
    model_admin = admin.site._registry[model]
    request = type("R", (), {"user": admin_user})()
    row = model.objects.order_by("id").first()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
    meta = model._meta
    changelist = superuser_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert changelist.status_code == 200 and "action-select" not in changelist.content.decode()  # no bulk delete
    change_url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
    page = superuser_client.get(change_url)
    assert page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    assert superuser_client.post(change_url, {"action": "x"}).status_code == 403
    assert superuser_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add")).status_code == 403
    delete_url = reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[row.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_trails_are_listed_with_filters(superuser_client):
    for model in (AccessEvent, AuditEvent):
        model_admin = admin.site._registry[model]
        assert "action" in model_admin.list_filter and "target_type" in model_admin.list_filter
        assert model_admin.search_fields


def test_opening_a_claim_in_the_admin_records_a_view(team_files, admin_user, superuser_client):
    claim = _claim()
    url = reverse("admin:denials_claimpayment_change", args=[claim.pk])
    assert superuser_client.get(url).status_code == 200
    assert _events() == [(admin_user.username, "view", "claimpayment", str(claim.pk), url)]
