import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.test_worklist_views import *  # noqa

def test_q(worked, coder, client_for):
    denial = worked["11102"]
    from denials.services import denial_add_note, document_upload
    for i in range(5):
        denial_add_note(denial=denial, author=coder, body=f"note {i}")
        document_upload(claim=denial.claim, name=f"n{i}.txt", content=f"{NOTE} {i}".encode(), actor=coder)
    c = client_for(coder)
    with CaptureQueriesContext(connection) as ctx:
        c.get(reverse("denials:denial_detail", args=[denial.pk]))
    for q in ctx.captured_queries:
        print(q["sql"][:160])
