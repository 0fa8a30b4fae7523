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
