"""What made the queue pages fast at 200,000 denials keeps them right (issue 13).

- The queue tabs read counters the database keeps (``QueueCount``, triggers of migration
  0012): after every kind of write they must equal a count made from scratch.
- A page is read by id first, then its rows: the same rows, in the same order, as before.
- Rows and filter fields are built in Python (``worklist_row``, ``form_field``): the same
  markup, escaped, and no query per row.

No timing here: the figures are ``bench/pages.py``'s.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.test import RequestFactory
from django.urls import reverse

from denials import selectors, services
from denials.models import ACTIVE_STATUSES, ClaimPayment, Denial, QueueCount, QueueRule, WorkQueue
from denials.services.queue_counts import queue_counts_compact
from tests.test_triage_pipeline import edit, remit
from tests.test_worklist_views import _many_denials

pytestmark = pytest.mark.django_db


def _recounted() -> dict[tuple[int | None, str], tuple[int, Decimal]]:
    """Every queue and status, counted from the denials themselves."""
    rows = Denial.objects.values("queue_id", "status").annotate(n=Count("*"), total=Sum("amount")).order_by()
    return {(r["queue_id"], r["status"]): (r["n"], Decimal(r["total"])) for r in rows}


def _counters() -> dict[tuple[int | None, str], tuple[int, Decimal]]:
    """What the counters say, changes summed (zero totals left out, as a recount has none)."""
    rows = QueueCount.objects.values("queue_id", "status").annotate(n=Sum("n"), total=Sum("amount")).order_by()
    return {(r["queue_id"], r["status"]): (r["n"], Decimal(r["total"])) for r in rows if r["n"] or r["total"]}


def _assert_counters_right() -> None:
    assert _counters() == _recounted()


@pytest.fixture
def triaged(db, adjustment_rules, code_lists, team, ingest):
    """Denials ingested and triaged into the team's queue, through the real pipeline."""
    from denials.services import category_rules_load_defaults

    category_rules_load_defaults()
    queue = WorkQueue.objects.create(name="Team queue", team=team)
    QueueRule.objects.create(queue=queue, category="")
    edit("17000", "11102", "1")
    ingest(remit([("17000", "", "200", "150", "CO*45*50"), ("11102", "", "400", "0", "CO*97*400", "M15")]))
    ingest(remit([("99214", "", "100", "0", "CO*16*100"), ("99213", "", "80", "0", "CO*97*80")]))
    return queue


def test_counters_equal_a_recount_after_every_kind_of_write(triaged, coder, manager, team):
    """Ingest, triage, assignment, outcomes, bulk actions, re-triage into another queue, a
    raw bulk update, deletion and a fold: the tabs' counters match a count from scratch."""
    assert Denial.objects.filter(queue=triaged).count() >= 3
    _assert_counters_right()  # after ingest and triage

    denial = Denial.objects.filter(queue=triaged).order_by("pk").first()
    denial = services.denial_assign(denial=denial, assignee=coder, actor=coder, expected_version=denial.version)
    _assert_counters_right()
    services.denial_record_outcome(
        denial=denial, action="write-off", actor=coder, expected_version=denial.version, reason="small balance"
    )
    _assert_counters_right()

    taken = services.denial_take_next(user=coder, queue_id=triaged.pk)
    assert taken is not None
    _assert_counters_right()

    open_ids = list(Denial.objects.filter(status__in=ACTIVE_STATUSES).values_list("pk", flat=True))
    services.denials_bulk_assign(denial_ids=open_ids[:2], assignee=coder, actor=manager)
    _assert_counters_right()
    services.denials_bulk_write_off(denial_ids=open_ids[:1], reason="duplicate of another claim", actor=manager)
    _assert_counters_right()

    # Re-triage into a new queue (a queue rule change re-triages the open denials).
    other = WorkQueue.objects.create(name="Second queue", team=team)
    services.queue_rule_delete(rule=QueueRule.objects.get(queue=triaged))
    services.queue_rule_save(rule=QueueRule(queue=other, category=""))
    services.denials_triage(only_unworked=False)
    assert Denial.objects.filter(queue=other).exists()
    _assert_counters_right()

    # Writes no service makes: a raw bulk update and deletes (a claim's cascade, a queue's SET NULL).
    Denial.objects.filter(status__in=ACTIVE_STATUSES).update(amount=Decimal("12.34"))
    _assert_counters_right()
    ClaimPayment.objects.filter(pk=Denial.objects.order_by("-pk").first().claim_id).delete()
    _assert_counters_right()
    other.delete()
    _assert_counters_right()

    before = _counters()
    assert QueueCount.objects.count() > len(before)  # changes piled up
    queue_counts_compact()
    assert _counters() == before
    assert QueueCount.objects.count() == len(before)  # one row per queue and status


def test_counters_equal_a_recount_after_direct_inserts(team):
    """Rows written straight in (as the COPY of ``denials.bulk`` does) are counted too."""
    _many_denials(team, 12)
    _assert_counters_right()


@pytest.mark.parametrize("who", ["coder", "manager", "admin_user", "outsider", "norole"])
def test_tabs_show_what_a_count_of_the_visible_denials_shows(triaged, who, request):
    """Each tab's count and dollars equal counting the denials the person may see, for every
    kind of person (admins also see denials in no queue; no role sees none)."""
    user = request.getfixturevalue(who)
    Denial.objects.filter(pk=Denial.objects.order_by("pk").first().pk).update(queue=None)  # in no queue
    tabs = {q.key: q for q in selectors.worklist_queues(user=user)}
    visible = selectors.denials_visible_to(user=user).filter(status__in=ACTIVE_STATUSES)
    for queue in WorkQueue.objects.filter(pk__in=[int(k) for k in tabs if k.isdigit()]):
        mine = visible.filter(queue=queue).aggregate(n=Count("*"), total=Sum("amount"))
        assert (tabs[str(queue.pk)].count, tabs[str(queue.pk)].amount) == (mine["n"], mine["total"] or Decimal("0"))
    everything = visible.aggregate(n=Count("*"), total=Sum("amount"))
    all_tab = tabs[selectors.ALL_QUEUES]
    assert (all_tab.count, all_tab.amount) == (everything["n"], everything["total"] or Decimal("0"))


def test_the_tabs_fold_the_counters_once_they_pile_up(team, coder, monkeypatch):
    """Reading the tabs folds the change rows when there are many; the figures stay the same."""
    from denials.services import queue_counts

    _many_denials(team, 6)
    queue = WorkQueue.objects.get(name="Bulk queue")
    for denial in Denial.objects.all():
        Denial.objects.filter(pk=denial.pk).update(status="in-progress")
        Denial.objects.filter(pk=denial.pk).update(status="open")
    monkeypatch.setattr(queue_counts, "FOLD_AFTER_ROWS", 10)
    before = {q.key: (q.count, q.amount) for q in selectors.worklist_queues(user=coder)}
    assert QueueCount.objects.count() == 1  # folded: one row, queue and status "open"
    assert {q.key: (q.count, q.amount) for q in selectors.worklist_queues(user=coder)} == before
    assert before[str(queue.pk)] == (6, sum(Decimal("100") + i for i in range(6)))


# --- Pages ---------------------------------------------------------------------------------
def _row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-row="(\d+)"', html)]


@pytest.mark.parametrize("sort", ["priority", "due", "amount", "patient", "age"])
def test_every_page_shows_the_rows_of_the_whole_ordered_list(team, coder, client, sort):
    """Paging by id first keeps the view's order: pages 1 to 3 are the ordered list cut in 25s."""
    _many_denials(team, 60)
    client.force_login(coder)
    queue = WorkQueue.objects.get(name="Bulk queue")
    expected = list(selectors.denial_worklist(user=coder, queue=str(queue.pk), sort=sort).values_list("pk", flat=True))
    shown = []
    for page in (1, 2, 3):
        url = reverse("denials:worklist") + f"?queue={queue.pk}&sort={sort}&per_page=25&page={page}"
        html = client.get(url).content.decode()
        shown += _row_ids(html)
    assert len(expected) == 60 and shown == expected
    assert "51\u201360 of 60" in html  # the summary's en dash


@pytest.mark.parametrize(
    "url", ["?queue={q}", "?queue={q}&sort=due", "?queue={q}&category=bundling-appealable", "?queue=all"]
)
def test_queue_page_queries_do_not_grow_with_the_rows_shown(team, coder, client, url):
    """As many queries for a page of 25 rows as for one of 60, on the page and the htmx row swap."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _many_denials(team, 60)
    queue = WorkQueue.objects.get(name="Bulk queue")
    client.force_login(coder)

    def queries(per_page: int, hx: bool) -> int:
        headers = {"HTTP_HX_REQUEST": "true"} if hx else {}
        target = reverse("denials:worklist") + url.format(q=queue.pk) + f"&per_page={per_page}"
        with CaptureQueriesContext(connection) as captured:
            response = client.get(target, **headers)
        assert len(_row_ids(response.content.decode())) == min(per_page, 60)
        return len(captured.captured_queries)

    queries(25, False)  # the first request of a session reads a few things once
    for hx in (False, True):
        assert queries(25, hx) == queries(100, hx)
    assert queries(100, False) <= 14


def test_a_row_shows_the_denial_and_escapes_what_the_payer_sent(team, coder, client):
    _many_denials(team, 1)
    denial = Denial.objects.select_related("claim", "payer", "line").get()
    ClaimPayment.objects.filter(pk=denial.claim_id).update(
        patient_last_name="<b>O'Neil</b>", patient_control_number="A&B"
    )
    client.force_login(coder)
    html = client.get(reverse("denials:worklist") + f"?queue={denial.queue_id}").content.decode()
    row = html[html.index(f'<tr data-row="{denial.pk}"') :]
    row = row[: row.index("</tr>")]
    url = reverse("denials:denial_detail", args=[denial.pk])
    assert f'href="{url}" hx-get="{url}"' in row
    assert "&lt;b&gt;O&#x27;Neil&lt;/b&gt;, N0" in row and "<b>O'Neil" not in row
    assert "#A&amp;B" in row
    assert f'title="{denial.payer.name}">{denial.payer.name}</span>' in row
    assert '11102<span class="mod">-XS</span>' in row
    assert ">CO-97</abbr>" in row and ">M15</abbr>" in row and ">N381</abbr>" in row
    assert "$100.00" in row and "DOS 2026-09-01" in row
    assert "<em>unassigned</em>" in row


def test_filter_fields_render_as_djangos_widgets_do(triaged, coder):
    """``form_field`` writes out the same markup as ``{{ field }}``, selected values and
    errors included, for every field of the worklist's filter form."""
    from denials.templatetags.overturn import form_field
    from denials.views import _filter_form

    queries = [
        "",
        f"queue={triaged.pk}&category=bundling-modifier-may-apply&sort=due&amount_min=5&carc=97&per_page=100",
        "queue=nope&amount_min=-3&remitted_from=not-a-date&status=all&npi=<x>",
    ]
    for query in queries:
        request = RequestFactory().get("/worklist/?" + query)
        request.user = coder
        form = _filter_form(request, request.GET)
        form.is_valid()
        for field in form:
            assert str(form_field(field)) == str(field), field.name


def test_a_queue_page_answers_when_its_counter_went_below_zero(team, coder, client):
    """Counters that missed the denials (rows written with triggers off, e.g. a COPY under
    ``session_replication_role = replica``) went negative after saves, and the queue page answered
    500 ("Negative indexing is not supported"). A count below zero is not reused: the page counts."""
    _many_denials(team, 30)
    queue = WorkQueue.objects.get(name="Bulk queue")
    QueueCount.objects.create(queue=queue, status="open", n=-100, amount=Decimal("-5000"))
    client.force_login(coder)
    response = client.get(reverse("denials:worklist") + f"?queue={queue.pk}&per_page=25&page=2")
    assert response.status_code == 200
    assert len(_row_ids(response.content.decode())) == 5
