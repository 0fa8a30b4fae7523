from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_admin_changelist_and_add_page_opens_for_an_admin(client, admin_user, code_lists, ingest, sample_bytes):
    ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        if model_admin.has_add_permission(type("R", (), {"user": admin_user})()):
            add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
            assert client.get(add).status_code == 200, add
        checked += 1
    assert checked >= 15


def test_coders_cannot_open_the_admin(coder_client):
    response = coder_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


#: Tables with far too many rows for a dropdown: a form must never list them.
LARGE_MODELS = {
    "ncci.ptpedit",
    "ncci.mue",
    "denials.claimpayment",
    "denials.serviceline",
    "denials.adjustment",
    "denials.remittance",
    "denials.remittancefile",
    "denials.denial",
    "denials.remarkcode",
    "denials.clinicaldocument",
}


def test_no_admin_form_offers_a_large_table_in_a_dropdown(admin_user):
    """Every foreign key to a large table is a raw id, an autocomplete, read-only or left out."""
    request = type("R", (), {"user": admin_user})()
    checked = []
    for model, model_admin in admin.site._registry.items():
        exempt = {
            *model_admin.raw_id_fields,
            *model_admin.autocomplete_fields,
            *model_admin.get_readonly_fields(request),
            *(model_admin.exclude or ()),
        }
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and (field.many_to_one or field.many_to_many)):
                continue
            if field.related_model._meta.label_lower in LARGE_MODELS and field.editable:
                checked.append(f"{model._meta.label_lower}.{field.name}")
                assert field.name in exempt, f"{model._meta.label_lower}.{field.name} would list every row"
    assert "denials.denial.ptp_edit" in checked and "denials.denial.pair_line" in checked


def test_denial_admin_form_has_no_select_of_ncci_edits_or_lines(client, admin_user, team_files):
    from denials.models import Denial

    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    denial = Denial.objects.first()
    html = client.get(reverse("admin:denials_denial_change", args=[denial.pk])).content.decode()
    for name in ("ptp_edit", "line", "pair_line", "claim"):
        assert f'<select name="{name}"' not in html, name
        assert f'name="{name}"' in html, name  # still editable, as an id


def test_the_admin_offers_category_choices_and_refuses_a_mistyped_category(client, admin_user, team_queue):
    from denials import vocabulary
    from denials.models import CategoryRule, QueueRule

    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get(reverse("admin:denials_categoryrule_add")).content.decode()
    assert '<select name="category"' in page
    assert f'<option value="{vocabulary.BUNDLING}">' in page
    response = client.post(
        reverse("admin:denials_categoryrule_add"),
        {
            "category": "Coding-typo",
            "group_code": "CO",
            "carc": "16",
            "rarc": "",
            "procedure_code": "",
            "priority": "10",
            "note": "typo",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in response.content.decode()
    assert not CategoryRule.objects.filter(note="typo").exists()

    response = client.post(
        reverse("admin:denials_queuerule_add"),
        {"queue": team_queue.pk, "category": "Coding-typo", "payer": "", "priority": "10"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not QueueRule.objects.filter(category="Coding-typo").exists()


def test_an_admin_save_is_audited_through_the_service(client, admin_user, django_capture_on_commit_callbacks):
    from denials import vocabulary
    from denials.models import AuditEvent, CategoryRule

    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse("admin:denials_categoryrule_add"),
            {
                "category": vocabulary.CODING,
                "group_code": "CO",
                "carc": "16",
                "rarc": "",
                "procedure_code": "",
                "priority": "10",
                "note": "added here",
            },
        )
    assert response.status_code == 302, response.content[:500]
    rule = CategoryRule.objects.get(note="added here")
    event = AuditEvent.objects.get(action="category_rule.saved", target_id=str(rule.pk))
    assert event.actor == admin_user and event.old is None and event.new["category"] == vocabulary.CODING
    assert queued  # the re-triage
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("admin:denials_categoryrule_delete", args=[rule.pk]), {"post": "yes"})
    assert not CategoryRule.objects.filter(pk=rule.pk).exists()
    assert AuditEvent.objects.filter(action="category_rule.deleted", target_id=str(rule.pk)).exists()
    assert queued
