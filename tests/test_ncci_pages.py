"""The NCCI pages: code search, the claim scrubber, and the admins' import page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ncci.models import Mue, NcciImport, ProcedureCode, PtpEdit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PTP_EXCERPT = Path(__file__).parent / "fixtures" / "ncci" / "ptp_practitioner_ccipra-v322r0-f1_EXCERPT.txt"


def ptp(column1, column2, indicator="1", effective=dt.date(2020, 1, 1), deletion=None, setting="practitioner"):
    return PtpEdit.objects.create(
        column1=column1,
        column2=column2,
        modifier_indicator=indicator,
        effective_date=effective,
        deletion_date=deletion,
        setting=setting,
        rationale="Standards of medical/surgical practice",
        quarter="2026Q1",
    )


@pytest.fixture
def edits(db):
    ptp("20610", "99213")
    ptp("20610", "99214")
    ptp("29881", "20610", deletion=dt.date(2025, 12, 31))
    ptp("20610", "11102", "0", setting="hospital")
    ProcedureCode.objects.create(code="20610", short_description="Injection or aspiration of a major joint")
    ProcedureCode.objects.create(code="99213", short_description="Office visit, established patient, low complexity")
    Mue.objects.create(
        code="20610",
        mue_value=2,
        adjudication_indicator="2",
        quarter="2026Q1",
        effective_date=dt.date(2026, 1, 1),
        adjudication_text="Date of Service Edit: Policy",
    )


# ---------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------


def test_search_needs_a_sign_in(client):
    response = client.get(reverse("ncci:search"), {"code": "20610"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_search_shows_a_codes_edits_in_both_directions_with_words_dates_and_mue(coder_client, edits):
    response = coder_client.get(reverse("ncci:search"), {"code": "20610", "date": "2026-03-02"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Injection or aspiration of a major joint" in html
    assert "payable with a modifier when documented" in html
    assert "never separately payable" in html  # the hospital edit: all settings by default
    assert html.count("Column 1</td>") == 3 and html.count("Column 2</td>") == 1
    assert "2025-12-31" in html and "Not in force" in html
    assert "<strong>2</strong> units" in html  # its MUE
    assert 'hx-get="/ncci/search/' in html and 'href="?code=' in html


def test_search_filters_by_setting_direction_and_in_force_date(coder_client, edits):
    url = reverse("ncci:search")
    practitioner = coder_client.get(url, {"code": "20610", "setting": "practitioner"}).content.decode()
    assert "never separately payable" not in practitioner
    as_column2 = coder_client.get(url, {"code": "20610", "direction": "column2"}).content.decode()
    assert "29881" in as_column2 and "99213" not in as_column2
    in_force = coder_client.get(url, {"code": "20610", "date": "2026-03-02", "in_force_only": "on"}).content.decode()
    assert "29881" not in in_force and "99214" in in_force


def test_search_as_you_type_returns_only_the_results_region(coder_client, edits):
    response = coder_client.get(reverse("ncci:search"), {"code": "20610"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="ncci-results"')
    assert 'aria-label="Main"' not in html


def test_a_partial_code_or_words_suggest_codes(coder_client, edits):
    html = coder_client.get(reverse("ncci:search"), {"code": "joint"}, HTTP_HX_REQUEST="true").content.decode()
    assert "20610" in html and "Codes matching" in html


def test_search_results_are_paginated(coder_client):
    PtpEdit.objects.bulk_create(
        PtpEdit(column1="99999", column2=f"{n:05d}", modifier_indicator="1", effective_date=dt.date(2020, 1, 1))
        for n in range(60)
    )
    html = coder_client.get(reverse("ncci:search"), {"code": "99999", "page": "2"}).content.decode()
    assert "51\u201360 of 60" in html


def test_the_search_page_query_count_does_not_grow_with_rows(coder_client):
    """Counted against the same page with one row, so sign-in and session queries (which
    other features add to every request) cancel out; the PTP queries are counted on their own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def page_queries(code: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = coder_client.get(reverse("ncci:search"), {"code": code})
        assert response.status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    PtpEdit.objects.create(column1="88888", column2="00001", modifier_indicator="1", effective_date=dt.date(2020, 1, 1))
    PtpEdit.objects.bulk_create(
        PtpEdit(column1="99999", column2=f"{n:05d}", modifier_indicator="1", effective_date=dt.date(2020, 1, 1))
        for n in range(50)
    )
    ProcedureCode.objects.bulk_create(ProcedureCode(code=f"{n:05d}", short_description=f"code {n}") for n in range(50))
    page_queries("88888")  # warm up per-process caches (content types, sessions)
    one_row = page_queries("88888")
    fifty_rows = page_queries("99999")
    html = coder_client.get(reverse("ncci:search"), {"code": "99999"}).content.decode()

    assert html.count("<tr data-row") == 50
    assert len(fifty_rows) == len(one_row)
    # Count, page of rows (with the in-force annotation), and the in-force counts: no query per row.
    assert sum("ncci_ptpedit" in sql for sql in fifty_rows) <= 3


# ---------------------------------------------------------------------------------------
# Scrubber
# ---------------------------------------------------------------------------------------


def test_the_scrub_page_works_without_javascript_with_six_blank_lines(coder_client):
    html = coder_client.get(reverse("ncci:scrub")).content.decode()
    assert html.count('name="line-') == 18  # code, modifiers, units x 6
    assert 'name="line-5-code"' in html and 'name="line-6-code"' not in html
    assert 'hx-get="/ncci/scrub/line/?index=6"' in html


def scrub_post(client, lines, **extra):
    data = {"setting": "practitioner", "date_of_service": "2026-03-02"}
    for index, (code, modifiers, units) in enumerate(lines):
        data.update({f"line-{index}-code": code, f"line-{index}-modifiers": modifiers, f"line-{index}-units": units})
    return client.post(reverse("ncci:scrub"), data, **extra)


def test_scrubbing_shows_each_flag_with_what_to_do(coder_client, edits):
    ptp("64483", "77003", "0")
    response = scrub_post(
        coder_client, [("20610", "RT", "1"), ("99213", "", ""), ("64483", "", "1"), ("77003", "xu", "1"), ("", "", "")]
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Remove the Column 2 code" in html
    assert "Remove 77003 from line 4" in html
    assert "Bypass modifier needed" in html
    assert '<span class="code">25</span>' in html
    assert "2 issues" in html


def test_scrubbing_with_htmx_answers_the_workspace_only(coder_client, edits):
    response = scrub_post(coder_client, [("20610", "RT", "1"), ("99213", "25", "1")], HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="scrub-workspace"')
    assert "Bypassed by a modifier" in html and "Clean." in html


def test_bad_scrub_input_is_shown_next_to_the_field(coder_client):
    response = scrub_post(coder_client, [("2061", "RTX", "0")])
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a 5-character CPT/HCPCS code." in html
    assert "is not a 2-character modifier" in html


def test_add_a_line_without_javascript_keeps_what_was_typed(coder_client):
    data = {"setting": "practitioner", "date_of_service": "2026-03-02", "line-0-code": "17000", "add_line": "1"}
    html = coder_client.post(reverse("ncci:scrub"), data).content.decode()
    assert 'value="17000"' in html and 'name="line-1-code"' in html


def test_the_add_line_endpoint_returns_the_next_row_and_moves_the_button(coder_client):
    html = coder_client.get(reverse("ncci:scrub_line"), {"index": "6"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="line-6-code"' in html
    assert 'hx-swap-oob="true"' in html and "index=7" in html


# ---------------------------------------------------------------------------------------
# Imports (admins only)
# ---------------------------------------------------------------------------------------


def test_the_import_page_is_forbidden_to_coders_and_to_staff_outside_the_admin_group(client, coder_client):
    assert coder_client.get(reverse("ncci:import")).status_code == 403
    staff = UserFactory(username="staff-only", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("ncci:import")).status_code == 403
    assert client.post(reverse("ncci:import"), {}).status_code == 403


def test_admins_and_superusers_see_the_import_page(client, admin_user, django_user_model):
    client.force_login(admin_user)
    assert client.get(reverse("ncci:import")).status_code == 200
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "x")
    client.force_login(root)
    assert client.get(reverse("ncci:import")).status_code == 200


def test_an_upload_is_kept_under_media_then_imported_by_the_task(
    client, admin_user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(admin_user)
    upload = SimpleUploadedFile(PTP_EXCERPT.name, PTP_EXCERPT.read_bytes(), content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("ncci:import"), {"files": [upload], "table": "", "setting": "", "quarter": ""})
    assert response.status_code == 302
    record = NcciImport.objects.get()
    assert record.status == NcciImport.Status.QUEUED and record.created_by == admin_user
    stored = Path(record.path)
    assert stored.parent == tmp_path / "ncci_uploads" and stored.read_bytes() == PTP_EXCERPT.read_bytes()
    for callback in callbacks:  # the task is queued on commit; here it runs in-process
        callback()
    record.refresh_from_db()
    assert record.status == NcciImport.Status.DONE, record.error
    assert record.added == 154
    assert not stored.exists() and record.path == ""
    page = client.get(reverse("ncci:import")).content.decode()
    assert PTP_EXCERPT.name in page and "Done" in page


def test_a_queued_import_row_polls_and_a_finished_one_shows_its_rejects(client, admin_user):
    client.force_login(admin_user)
    queued = NcciImport.objects.create(
        filename="ccipra-v322r0-f1.TXT", status="running", rows_read=50000, rows_expected=200000
    )
    html = client.get(reverse("ncci:import_row", args=[queued.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html and "50,000 rows read, about 25%" in html
    assert 'aria-valuenow="25"' in html
    done = NcciImport.objects.create(
        filename="x.TXT",
        status="done",
        rejected=1,
        rejects=[{"source": "x.TXT", "line": 9, "reason": "bad date", "raw": "..."}],
    )
    html = client.get(reverse("ncci:import_row", args=[done.pk])).content.decode()
    assert "every 2s" not in html and "bad date" in html


def test_the_admin_group_alone_without_staff_is_not_enough(client):
    user = UserFactory(username="admin-not-staff")
    user.groups.add(Group.objects.get_or_create(name="admin")[0])
    client.force_login(user)
    assert client.get(reverse("ncci:import")).status_code == 403


# ---------------------------------------------------------------------------------------
# The Django admin for reference data
# ---------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.invalid", "x"))
    return client


def test_admin_searches_ptp_edits_by_exact_code(superuser_client, edits):
    response = superuser_client.get(reverse("admin:ncci_ptpedit_changelist"), {"q": "99213"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(PtpEdit.objects.filter(column2="99213"))


def test_admin_adds_edits_and_retires_a_procedure_code_with_history(superuser_client):
    add = superuser_client.post(
        reverse("admin:ncci_procedurecode_add"),
        {"code": "17000", "short_description": "Destroy one premalignant lesion", "description": ""},
    )
    assert add.status_code == 302, add.content
    code = ProcedureCode.objects.get(code="17000")
    change = reverse("admin:ncci_procedurecode_change", args=[code.pk])
    retire = superuser_client.post(
        change,
        {
            "code": "17000",
            "short_description": "Destroy one premalignant lesion",
            "description": "",
            "stop_date": "2026-12-31",
        },
    )
    assert retire.status_code == 302, retire.content
    code.refresh_from_db()
    assert code.stop_date == dt.date(2026, 12, 31)
    assert not code.active_on(dt.date(2027, 1, 1))
    assert code.history.count() == 2  # the add and the edit, with who made them
    assert code.history.first().history_user.username == "root"
    found = superuser_client.get(reverse("admin:ncci_procedurecode_changelist"), {"q": "premalignant"})
    assert list(found.context["cl"].result_list) == [code]


def test_admin_edits_of_a_ptp_edit_are_kept_in_its_history(superuser_client, edits):
    edit = PtpEdit.objects.get(column1="20610", column2="99213")
    before = edit.history.count()
    response = superuser_client.post(
        reverse("admin:ncci_ptpedit_change", args=[edit.pk]),
        {
            "setting": "practitioner",
            "column1": "20610",
            "column2": "99213",
            "effective_date": "2020-01-01",
            "deletion_date": "2026-06-30",
            "modifier_indicator": "1",
            "rationale": edit.rationale,
            "quarter": "2026Q1",
            "source_file": "",
        },
    )
    assert response.status_code == 302, response.content
    assert edit.history.count() == before + 1
    assert edit.history.first().history_user.username == "root"
    assert edit.history.first().deletion_date == dt.date(2026, 6, 30)


def test_admin_exports_procedure_codes_as_csv(superuser_client, edits):
    response = superuser_client.post(
        reverse("admin:ncci_procedurecode_export"),
        {
            "format": "0",
            "resource": "0",
            "procedurecoderesource_code": "on",
            "procedurecoderesource_short_description": "on",
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert b"20610" in response.content
