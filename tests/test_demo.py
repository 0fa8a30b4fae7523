"""`make run`'s demo data: what a newcomer sees must be there, and loading twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from denials.models import Denial, RemittanceFile, WorkQueue

pytestmark = pytest.mark.django_db


def test_load_demo_builds_a_working_data_set_and_is_idempotent(django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", "--synthetic-files", "2", "--claims-per-file", "20", stdout=out)
    text = out.getvalue()
    for login in ("coder-demo-2026", "manager-demo-2026", "admin-demo-2026"):
        assert login in text
    assert RemittanceFile.objects.filter(status="ingested").count() >= 8
    refused = RemittanceFile.objects.get(original_name__contains="4010")
    assert refused.status == "failed" and "4010" in refused.error
    denials = Denial.objects.exclude(category="")
    assert denials.exists() and not Denial.objects.filter(category="").exists()
    assert Denial.objects.exclude(ncci_column1="").exists()  # the demo NCCI table explains some
    coder_queues = WorkQueue.objects.filter(team__members__username="coder")
    assert Denial.objects.filter(queue__in=coder_queues).exists()

    counts = (RemittanceFile.objects.count(), Denial.objects.count())
    call_command("load_demo", "--synthetic-files", "2", "--claims-per-file", "20", stdout=StringIO())
    assert (RemittanceFile.objects.count(), Denial.objects.count()) == counts


def test_demo_coder_can_sign_in_and_open_the_worklist(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", "--synthetic-files", "1", "--claims-per-file", "20", stdout=StringIO())
    # Through the sign-in page, as a person does (the lockout backend needs the request).
    signed_in = client.post(reverse("login"), {"username": "coder", "password": "coder-demo-2026"})
    assert signed_in.status_code == 302, signed_in.content[:300]
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert b"Bundling and NCCI" in response.content
