"""The NCCI REST API: PTP and MUE lists with filters and pagination, and the scrubber."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ncci.models import Mue, PtpEdit

pytestmark = pytest.mark.django_db


def ptp(column1, column2, indicator="1", effective=dt.date(2020, 1, 1), deletion=None, setting="practitioner"):
    return PtpEdit.objects.create(
        column1=column1,
        column2=column2,
        modifier_indicator=indicator,
        effective_date=effective,
        deletion_date=deletion,
        setting=setting,
        rationale="Misuse of Column Two code with Column One code",
        quarter="2026Q1",
    )


@pytest.fixture
def api(coder):
    client = APIClient()
    client.force_authenticate(coder)
    return client


@pytest.fixture
def edits(db):
    ptp("17000", "11102")
    ptp("17000", "11103", deletion=dt.date(2025, 12, 31))
    ptp("64483", "77003", "0")
    ptp("11042", "11045", "9", deletion=dt.date(2020, 1, 1))
    ptp("17000", "11102", "0", setting="hospital")


@pytest.mark.parametrize("name", ["ncci_api:ptp-list", "ncci_api:mue-list"])
def test_anonymous_calls_get_401(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_scrub_gets_401(client):
    response = client.post(reverse("ncci_api:scrub"), {}, content_type="application/json")
    assert response.status_code == 401


def test_a_token_authenticates(coder, edits):
    token = Token.objects.create(user=coder)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(reverse("ncci_api:ptp-list")).status_code == 200


def test_ptp_list_rows_carry_indicator_dates_rationale_and_quarter(api, edits):
    body = api.get(reverse("ncci_api:ptp-list"), {"column1": "64483"}).json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["column1"] == "64483" and row["column2"] == "77003"
    assert row["modifier_indicator"] == "0"
    assert row["modifier_indicator_text"] == "never separately payable"
    assert row["effective_date"] == "2020-01-01" and row["deletion_date"] is None
    assert row["rationale"] == "Misuse of Column Two code with Column One code"
    assert row["quarter"] == "2026Q1"
    assert row["setting"] == "practitioner"


def test_ptp_list_filters_by_column_codes_and_setting(api, edits):
    url = reverse("ncci_api:ptp-list")
    assert api.get(url, {"column1": "17000"}).json()["count"] == 3
    assert api.get(url, {"column1": "17000", "setting": "practitioner"}).json()["count"] == 2
    assert api.get(url, {"column2": "11102"}).json()["count"] == 2
    assert (
        api.get(url, {"column1": "17000", "column2": "11102", "setting": "hospital"}).json()["results"][0][
            "modifier_indicator"
        ]
        == "0"
    )


def test_ptp_list_date_filter_keeps_edits_in_force_that_day(api, edits):
    url = reverse("ncci_api:ptp-list")
    on_deletion_day = api.get(url, {"column1": "17000", "setting": "practitioner", "date": "2025-12-31"}).json()
    assert {r["column2"] for r in on_deletion_day["results"]} == {"11102", "11103"}
    day_after = api.get(url, {"column1": "17000", "setting": "practitioner", "date": "2026-01-01"}).json()
    assert {r["column2"] for r in day_after["results"]} == {"11102"}
    assert api.get(url, {"column1": "11042", "date": "2024-01-01"}).json()["count"] == 0  # indicator 9
    assert api.get(url, {"column1": "17000", "date": "2019-12-31"}).json()["count"] == 0  # not yet effective


def test_ptp_list_is_paginated_with_a_count(api):
    PtpEdit.objects.bulk_create(
        PtpEdit(column1="99999", column2=f"{n:05d}", modifier_indicator="1", effective_date=dt.date(2020, 1, 1))
        for n in range(60)
    )
    first = api.get(reverse("ncci_api:ptp-list")).json()
    assert first["count"] == 60
    assert len(first["results"]) == 50
    assert first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 10


def test_ptp_list_rejects_a_bad_date(api, edits):
    response = api.get(reverse("ncci_api:ptp-list"), {"date": "yesterday"})
    assert response.status_code == 400
    assert "date" in response.json()


def test_mue_list_filters_by_code_and_date(api):
    Mue.objects.create(
        code="17003", mue_value=13, adjudication_indicator="2", quarter="2026Q1", effective_date=dt.date(2026, 1, 1)
    )
    Mue.objects.create(
        code="17003", mue_value=10, adjudication_indicator="2", quarter="2026Q2", effective_date=dt.date(2026, 4, 1)
    )
    url = reverse("ncci_api:mue-list")
    assert api.get(url, {"code": "17003"}).json()["count"] == 2
    [row] = api.get(url, {"code": "17003", "date": "2026-03-31"}).json()["results"]
    assert (row["mue_value"], row["quarter"]) == (13, "2026Q1")
    assert row["adjudication_indicator_text"].startswith("date of service edit set by policy")
    [row] = api.get(url, {"code": "17003", "date": "2026-04-01"}).json()["results"]
    assert row["mue_value"] == 10


def test_scrub_returns_each_ptp_pair_with_what_to_do_and_each_mue_exceeded(api, edits, code_lists):
    Mue.objects.create(
        code="11102",
        mue_value=1,
        adjudication_indicator="2",
        quarter="2026Q1",
        effective_date=dt.date(2026, 1, 1),
        adjudication_text="Date of Service Edit: Policy",
    )
    body = {
        "setting": "practitioner",
        "date_of_service": "2026-03-02",
        "lines": [
            {"code": "17000", "modifiers": [], "units": 1},
            {"code": "11102", "units": 2},
            {"code": "64483", "modifiers": ["rt"]},
            {"code": "77003", "modifiers": ["XU"]},
            {"code": "11103"},
        ],
    }
    response = api.post(reverse("ncci_api:scrub"), body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["clean"] is False
    by_pair = {(p["column1"], p["column2"]): p for p in data["ptp"]}
    remove = by_pair[("64483", "77003")]
    assert (remove["action"], remove["modifier_indicator"], remove["bypass_allowed"]) == ("remove_column2", "0", False)
    assert remove["column2_index"] == 3
    add = by_pair[("17000", "11102")]
    assert add["action"] == "add_modifier" and add["suggested_modifier"] == "XS"
    assert [s["modifier"] for s in add["suggested_modifiers"]][:4] == ["XS", "XE", "XU", "XP"]
    deleted = by_pair[("17000", "11103")]
    assert (deleted["action"], deleted["in_force"], deleted["severity"]) == ("not_in_force", False, "ok")
    [over] = data["mue"]
    assert (over["code"], over["units"], over["mue_value"], over["line_indexes"]) == ("11102", 2, 1, [1])
    assert data["problems"] == 3


def test_scrub_rejects_bad_input_with_field_errors_by_line(api):
    body = {
        "date_of_service": "2026-02-30",
        "lines": [{"code": "17000"}, {"code": "1700", "units": 0}, {"code": "11102", "modifiers": ["XSS"]}],
    }
    response = api.post(reverse("ncci_api:scrub"), body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "date_of_service" in errors
    # Keyed by the index of each line in error (the first line is fine).
    assert set(errors["lines"]) == {"1", "2"}
    assert set(errors["lines"]["1"]) == {"code", "units"}
    assert errors["lines"]["1"]["code"][0].startswith("Line 2: '1700' is not a 5-character CPT/HCPCS code")
    assert "modifiers" in errors["lines"]["2"]


def test_scrub_needs_at_least_one_line(api):
    response = api.post(reverse("ncci_api:scrub"), {"date_of_service": "2026-03-02", "lines": []}, format="json")
    assert response.status_code == 400
    assert "lines" in response.json()
