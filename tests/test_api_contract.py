"""The API contract: Schemathesis reads ``/api/schema/`` as each role sees it (token
authentication) and sends generated requests to every operation, in-process through the WSGI app,
against a world of two teams' data (``tests.matrix.world``). No answer may be a server error, and
every answer must match the schema (its documented body and content type).

Generated inputs include nonsense ids, dates, filters and bodies; what they must get is a 4xx with
a reason, never a 500. The number of examples per operation is kept small for ``make test`` (the
whole run takes a minute or two per database); ``API_CONTRACT_EXAMPLES`` raises it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.matrix.world import build_world

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_CONTRACT_EXAMPLES", "12"))
ROLES = ("coder_a", "manager_a", "admin")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _operations(schema: Any) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())
    return operations


def _runner(operation: Any, auth: dict[str, str], calls: list[int], failures: list[str]) -> Any:
    """Hypothesis over one operation: each generated request is sent, its status kept, and a
    check that fails is recorded (so every operation is tried before the test reports)."""
    label = operation.label

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=auth)
        calls.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except (Exception, BaseExceptionGroup) as exc:  # a failed check (Schemathesis raises a group)
            failures.append(f"{label} {case.path_parameters} {case.query}: {exc!r}"[:600])

    return run


@pytest.fixture
def connection_kept_open():
    """Schemathesis calls the WSGI app itself, not through Django's test client, so the start and end of each
    request would close the database connection (and with it the test's transaction on
    PostgreSQL). Django's test client disconnects the same handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_within_the_schema_and_never_500(role, connection_kept_open):
    world = build_world()
    user = world.users[role]
    token, _ = Token.objects.get_or_create(user=user)
    auth = {"Authorization": f"Token {token.key}"}
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app, headers=auth)
    operations = _operations(schema)
    assert len(operations) >= 10, [op.label for op in operations]
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:
        _runner(operation, auth, calls, failures)()
    assert not failures, "\n\n".join(sorted({f.split(" {")[0] + " " + f.split(": ", 1)[-1][:200] for f in failures}))
    # Every operation was called, most several times (Hypothesis stops early for an operation
    # with few distinct inputs).
    assert len(calls) >= 2 * len(operations), (len(calls), len(operations))
    print(f"\n{role}: {len(operations)} operations, {len(calls)} requests, statuses {sorted(set(calls))}")


# Found by this run: an id filter holding a number too large for the database (or a float such as
# -6.1e131) reached the query and answered 500 (SQLite overflows, PostgreSQL refuses the value).
ID_FILTERS = [
    ("/api/claims/", "file"),
    ("/api/claims/", "payer"),
    ("/api/denials/", "queue"),
    ("/api/denials/", "payer"),
    ("/api/denials/", "assignee"),
    ("/api/appeals/", "payer"),
    ("/api/appeals/", "team"),
    ("/api/appeals/", "coder"),
    ("/api/appeals/", "created_by"),
]


@pytest.mark.parametrize("value", ["99999999999999999999", "-6.146500477561638e+131", "0", "12.5"])
@pytest.mark.parametrize(("url", "param"), ID_FILTERS)
def test_an_id_filter_out_of_range_is_a_400_naming_the_parameter(url, param, value, client, admin_user):
    client.force_login(admin_user)
    response = client.get(url, {param: value})
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert param in response.json(), response.json()


def test_an_id_filter_in_range_still_filters(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/claims/", {"payer": "9223372036854775807"})
    assert response.status_code == 200
    assert response.json()["results"] == []


# Found by this run on SQLite: a denial id too large for the database in POST /api/appeals/
# answered 500 (SQLite overflows); ids and versions now stop at the largest 64-bit integer.
@pytest.mark.parametrize("body", [{"denials": [2**63]}, {"denials": [99999999999999999999]}])
def test_an_appeal_for_a_denial_id_out_of_range_is_a_400(body, client, admin_user):
    client.force_login(admin_user)
    response = client.post("/api/appeals/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "denials" in response.json()
