"""One answer to "which PTP edit is in force on this date?", wherever it is asked.

Triage (the real ingest pipeline), the scrubber (``ncci.selectors``), the PTP API
(``/api/ncci/ptp/?date=``), the search page (``/ncci/search/``, row by row and with "in force
only"), ``ptp_edit_for_pair`` and ``PtpEdit.in_force_on`` must all give the pure rule's answer
(``ncci.ptp``) on the cases where the copies used to disagree: overlapping rows of one pair,
and indicator 9 without a deletion date. Then a property test checks the SQL filter against
the pure function on random rows.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from denials.models import Denial
from ncci import ptp, selectors
from ncci.models import PtpEdit
from ncci.scrubber import ClaimLine
from tests.test_triage_pipeline import remit

pytestmark = pytest.mark.django_db

# Each pair's rows: (name, Column 1, Column 2, indicator, effective, deletion).
ROWS = [
    # Overlap: indicator 0 from 2020 and indicator 1 from 2022, both open. The newer wins.
    ("overlap-0", "17000", "11102", "0", "2020-01-01", None),
    ("overlap-1", "17000", "11102", "1", "2022-01-01", None),
    # Indicator 9 without a deletion date: never in force.
    ("ind9", "11042", "11045", "9", "2020-01-01", None),
    # An open edit and a newer indicator-9 row: the row that never applied supersedes nothing.
    ("open-under-ind9", "29881", "29877", "1", "2020-01-01", None),
    ("ind9-over-open", "29881", "29877", "9", "2022-01-01", None),
    # An open edit and a newer row deleted since: the newer row ended the older one.
    ("open-under-deleted", "64483", "77003", "0", "2019-01-01", None),
    ("deleted-over-open", "64483", "77003", "1", "2021-01-01", "2021-12-31"),
]

# (case id, Column 1, Column 2, date of service, the row in force or None)
QUESTIONS = [
    ("overlap-before-both", "17000", "11102", "2019-06-03", None),
    ("overlap-older-alone", "17000", "11102", "2021-06-01", "overlap-0"),
    ("overlap-newer-wins", "17000", "11102", "2026-09-14", "overlap-1"),
    ("overlap-newer-from-its-first-day", "17000", "11102", "2022-01-01", "overlap-1"),
    ("indicator-9-without-deletion", "11042", "11045", "2026-09-14", None),
    ("indicator-9-supersedes-nothing", "29881", "29877", "2026-09-14", "open-under-ind9"),
    ("newer-row-in-force", "64483", "77003", "2021-12-31", "deleted-over-open"),
    ("newer-row-deleted-ends-the-older", "64483", "77003", "2026-09-14", None),
    ("older-row-before-the-newer", "64483", "77003", "2020-12-31", "open-under-deleted"),
]


@pytest.fixture
def rows(db) -> dict[str, PtpEdit]:
    return {
        name: PtpEdit.objects.create(
            setting="practitioner",
            column1=c1,
            column2=c2,
            modifier_indicator=indicator,
            effective_date=dt.date.fromisoformat(effective),
            deletion_date=dt.date.fromisoformat(deletion) if deletion else None,
            rationale="Standards of medical/surgical practice",
            quarter="2026Q3",
        )
        for name, c1, c2, indicator, effective, deletion in ROWS
    }


def _expected(rows: dict[str, PtpEdit], name: str | None) -> list[int]:
    return [rows[name].pk] if name else []


def test_the_questions_cover_every_kind_of_answer() -> None:
    # A table whose answers were all None (or all one row) could not catch a disagreement.
    answers = [expected for *_, expected in QUESTIONS]
    assert None in answers
    assert {"overlap-0", "overlap-1", "open-under-ind9", "deleted-over-open"} <= set(answers)


@pytest.mark.parametrize(("c1", "c2", "on", "expected"), [q[1:] for q in QUESTIONS], ids=[q[0] for q in QUESTIONS])
def test_the_pure_rule_gives_the_expected_answer(rows, c1, c2, on, expected):
    pair = [r for r in rows.values() if (r.column1, r.column2) == (c1, c2)]
    assert pair, "the question names a pair with rows"
    edit, in_force = ptp.edit_for_date(pair, dt.date.fromisoformat(on))
    assert ([edit.pk] if in_force and edit else []) == _expected(rows, expected)


@pytest.mark.parametrize(("c1", "c2", "on", "expected"), [q[1:] for q in QUESTIONS], ids=[q[0] for q in QUESTIONS])
def test_the_scrubber_agrees(rows, c1, c2, on, expected):
    day = dt.date.fromisoformat(on)
    lines = [ClaimLine(c1), ClaimLine(c2)]

    flags = selectors.ptp_edits_for_lines(lines=lines, date_of_service=day)
    scrubbed = selectors.scrub_claim(lines=lines, date_of_service=day)

    assert [f.edit.edit_id for f in flags] == _expected(rows, expected)
    assert [f.edit.edit_id for f in scrubbed.ptp if f.in_force] == _expected(rows, expected)


@pytest.mark.parametrize(("c1", "c2", "on", "expected"), [q[1:] for q in QUESTIONS], ids=[q[0] for q in QUESTIONS])
def test_the_pair_selector_and_the_model_agree(rows, c1, c2, on, expected):
    day = dt.date.fromisoformat(on)

    found = selectors.ptp_edit_for_pair(column1=c1, column2=c2, date_of_service=day)
    fetched_alone = [e.pk for e in PtpEdit.objects.filter(column1=c1, column2=c2) if e.in_force_on(day)]

    assert ([found.pk] if found else []) == _expected(rows, expected)
    assert fetched_alone == _expected(rows, expected)


@pytest.mark.parametrize(("c1", "c2", "on", "expected"), [q[1:] for q in QUESTIONS], ids=[q[0] for q in QUESTIONS])
def test_the_ptp_api_agrees(rows, coder, c1, c2, on, expected):
    api = APIClient()
    api.force_authenticate(coder)

    response = api.get(reverse("ncci_api:ptp-list"), {"column1": c1, "column2": c2, "date": on})

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == _expected(rows, expected)


@pytest.mark.parametrize(("c1", "c2", "on", "expected"), [q[1:] for q in QUESTIONS], ids=[q[0] for q in QUESTIONS])
def test_the_search_page_agrees(rows, coder_client, c1, c2, on, expected):
    url = reverse("ncci:search")
    every_row = coder_client.get(url, {"code": c1, "date": on, "direction": "column1"})
    in_force_only = coder_client.get(url, {"code": c1, "date": on, "direction": "column1", "in_force_only": "on"})

    shown = [(r["edit"].pk, r["in_force"]) for r in every_row.context["rows"] if r["edit"].column2 == c2]
    assert len(shown) == sum(1 for r in rows.values() if (r.column1, r.column2) == (c1, c2))
    assert [pk for pk, in_force in shown if in_force] == _expected(rows, expected)
    assert [r["edit"].pk for r in in_force_only.context["rows"] if r["edit"].column2 == c2] == _expected(rows, expected)
    assert every_row.context["counts"]["as_column1_in_force"] == len(in_force_only.context["rows"])


IN_FORCE_CATEGORIES = {"bundling-not-appealable", "bundling-modifier-may-apply", "bundling-appealable"}


@pytest.mark.parametrize(("c1", "c2", "on", "expected"), [q[1:] for q in QUESTIONS], ids=[q[0] for q in QUESTIONS])
def test_triage_agrees(rows, ingest, code_lists, c1, c2, on, expected):
    """Through the real pipeline: an 835 with the pair billed together, Column 2 denied CO-97."""
    from denials.services import category_rules_load_defaults

    category_rules_load_defaults()
    content = remit(
        [(c1, "", "200", "150", "CO*45*50"), (c2, "", "100", "0", "CO*97*100", "M15")], dos=on.replace("-", "")
    )
    file = ingest(content)
    assert file.status == "ingested", file.error
    denial = Denial.objects.get(claim__remittance__file=file)

    assert (denial.category in IN_FORCE_CATEGORIES) == (expected is not None), denial.category
    if expected is not None:
        row = rows[expected]
        assert denial.ptp_edit_id == row.pk
        indicator_category = {"0": "bundling-not-appealable", "1": "bundling-modifier-may-apply"}
        assert denial.category == indicator_category[row.modifier_indicator]


# ---------------------------------------------------------------------------------------
# The SQL filter against the pure function, on random rows
# ---------------------------------------------------------------------------------------

_QUARTER_STARTS = [dt.date(year, month, 1) for year in range(2019, 2024) for month in (1, 4, 7, 10)]
_PAIRS = [("17000", "11102"), ("64483", "77003")]


def _quarter_end(start: dt.date) -> dt.date:
    year, month = (start.year + 1, 1) if start.month == 10 else (start.year, start.month + 3)
    return dt.date(year, month, 1) - dt.timedelta(days=1)


@st.composite
def _random_row(draw: st.DrawFn) -> tuple[str, str, str, dt.date, dt.date | None, str]:
    setting = draw(st.sampled_from(["practitioner", "hospital"]))
    column1, column2 = draw(st.sampled_from(_PAIRS))
    effective = draw(st.sampled_from(_QUARTER_STARTS))
    deletion_kind = draw(st.sampled_from(["open", "quarter-end", "same-day"]))
    if deletion_kind == "open":
        deletion = None
    elif deletion_kind == "same-day":
        deletion = effective
    else:
        deletion = _quarter_end(draw(st.sampled_from([q for q in _QUARTER_STARTS if q >= effective])))
    return setting, column1, column2, effective, deletion, draw(st.sampled_from(["0", "1", "9"]))


_random_rows = st.lists(_random_row(), min_size=1, max_size=8, unique_by=lambda r: (r[0], r[1], r[2], r[3]))
_random_days = st.lists(
    st.dates(min_value=dt.date(2018, 12, 30), max_value=dt.date(2024, 3, 2)), min_size=1, max_size=6
)


def test_quarter_ends_are_the_day_before_the_next_quarter() -> None:
    assert _quarter_end(dt.date(2020, 1, 1)) == dt.date(2020, 3, 31)
    assert _quarter_end(dt.date(2020, 10, 1)) == dt.date(2020, 12, 31)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(random_rows=_random_rows, days=_random_days)
def test_the_sql_filter_and_the_annotated_rows_agree_with_the_pure_rule(db, random_rows, days):
    PtpEdit.objects.all().delete()  # one example's rows at a time, in the test's transaction
    PtpEdit.objects.bulk_create(
        PtpEdit(
            setting=setting,
            column1=c1,
            column2=c2,
            effective_date=effective,
            deletion_date=deletion,
            modifier_indicator=indicator,
        )
        for setting, c1, c2, effective, deletion, indicator in random_rows
    )
    stored = {row.pk: row for row in PtpEdit.objects.all()}
    assert len(stored) == len(random_rows)
    for day in days:
        expected = {row.pk for row in ptp.in_force_rows(stored.values(), day)}
        in_sql = set(PtpEdit.objects.filter(selectors.ptp_in_force_q(day)).values_list("pk", flat=True))
        assert in_sql == expected, (day, random_rows)
        for column1 in {c1 for _, c1, *_ in random_rows}:
            listed = selectors.ptp_edits_for_code(code=column1, direction="column1")
            assert {e.pk for e in listed if e.in_force_on(day)} == {
                pk for pk in expected if stored[pk].column1 == column1
            }
