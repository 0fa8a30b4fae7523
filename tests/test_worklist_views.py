"""The coder's worklist and denial page through the views: pages, partials, access, saves."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from denials.models import AuditEvent, ClinicalDocument, Denial, Evidence, QueueRule, WorkQueue
from tests.pdfs import minimal_pdf
from tests.test_triage_pipeline import edit, remit

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
NOTE = (
    "OPERATIVE NOTE\n"
    "Procedure: destruction of a premalignant lesion, left forearm (17000).\n"
    "A separate lesion on the right scalp was biopsied through a separate incision (11102).\n"
)


@pytest.fixture
def worked(db, adjustment_rules, code_lists, team, ingest):
    """Three triaged denials in the team's queue: indicator 0 (CO), indicator 1 (CO), and a PR one."""
    from denials.services import category_rules_load_defaults

    category_rules_load_defaults()
    queue = WorkQueue.objects.create(name="Team queue", team=team)
    QueueRule.objects.create(queue=queue, category="")
    edit("64483", "77003", "0")
    edit("17000", "11102", "1")
    ingest(remit([("64483", "", "900", "700", "CO*45*200"), ("77003", "", "150", "0", "CO*97*150")]))
    ingest(remit([("17000", "", "200", "150", "CO*45*50"), ("11102", "", "400", "0", "CO*97*400", "M15")]))
    ingest(remit([("99214", "", "100", "0", "PR*204*100")]))
    return {d.line.procedure_code: d for d in Denial.objects.select_related("line", "queue__team")}


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _html(response) -> str:
    return response.content.decode()


def _bundled(worked) -> Denial:
    return worked["11102"]


# --- URLs every test below goes through --------------------------------------------------
def _denial_urls(denial: Denial, document_id: int = 0, evidence_id: int = 0) -> list[tuple[str, str]]:
    pk = denial.pk
    return [
        ("get", reverse("denials:denial_detail", args=[pk])),
        ("post", reverse("denials:denial_assign", args=[pk])),
        ("post", reverse("denials:denial_outcome", args=[pk])),
        ("post", reverse("denials:denial_note", args=[pk])),
        ("post", reverse("denials:denial_document_upload", args=[pk])),
        ("get", reverse("denials:denial_document_file", args=[pk, document_id or 1])),
        ("post", reverse("denials:denial_evidence_save", args=[pk])),
        ("post", reverse("denials:denial_evidence_delete", args=[pk, evidence_id or 1])),
    ]


# --- Access ------------------------------------------------------------------------------
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_another_teams_denial_answers_404_on_every_url(worked, coder, outsider, client_for, htmx):
    denial = _bundled(worked)
    document = ClinicalDocument.objects.create(
        claim=denial.claim,
        title="n",
        original_name="n.txt",
        kind="text",
        content=NOTE.encode(),
        sha256="x",
        text=NOTE,
        uploaded_by=coder,
    )
    evidence = Evidence.objects.create(
        denial=denial, document=document, start=0, end=9, quote=NOTE[:9], kind="other", created_by=coder
    )
    client = client_for(outsider)
    extra = HX if htmx else {}
    for method, url in _denial_urls(denial, document.pk, evidence.pk):
        data = {
            "version": denial.version,
            "assignee": "me",
            "action": "write-off",
            "reason": "x",
            "body": "x",
            "document": document.pk,
            "start": 0,
            "end": 9,
            "kind": "other",
        }
        response = getattr(client, method)(url, data if method == "post" else None, **extra)
        assert response.status_code == 404, (method, url)
    denial.refresh_from_db()
    assert denial.status == "open" and denial.assignee is None
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert not AuditEvent.objects.filter(actor=outsider).exists()


def test_outsider_sees_none_of_the_team_in_the_worklist(worked, outsider, client_for):
    client = client_for(outsider)
    html = _html(client.get(reverse("denials:worklist") + "?queue=all"))
    assert "DOE, JANE" not in html and "Team queue" not in html
    assert "No denial" in html or "Nothing" in html


def test_a_queue_id_of_another_team_shows_nothing_of_it(worked, outsider, client_for):
    queue = WorkQueue.objects.get(name="Team queue")
    html = _html(client_for(outsider).get(reverse("denials:worklist") + f"?queue={queue.pk}"))
    assert "DOE, JANE" not in html
    assert "That queue is not one of yours" in html


def test_manager_sees_the_team_and_admin_sees_everything(worked, manager, admin_user, client_for):
    for user in (manager, admin_user):
        html = _html(client_for(user).get(reverse("denials:worklist") + "?queue=all"))
        assert html.count('data-row="') == 3, user
        assert client_for(user).get(reverse("denials:denial_detail", args=[_bundled(worked).pk])).status_code == 200


def test_worklist_and_denial_pages_require_sign_in(client, worked):
    for url in (reverse("denials:worklist"), reverse("denials:denial_detail", args=[_bundled(worked).pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_home_sends_coders_to_their_worklist_and_managers_and_admins_to_the_dashboard(coder, admin_user, client_for):
    """A coder on a team starts at the worklist; managers and admins at the dashboard (issue 11)."""
    assert client_for(coder).get("/")["Location"] == reverse("denials:worklist")
    assert client_for(admin_user).get("/")["Location"] == reverse("analytics:dashboard")


# --- The worklist ------------------------------------------------------------------------
def test_my_work_shows_only_what_is_assigned_to_me_with_queue_counts(worked, coder, client_for):
    from denials.services import denial_assign

    mine = _bundled(worked)
    denial_assign(denial=mine, assignee=coder, actor=coder, expected_version=mine.version)
    html = _html(client_for(coder).get(reverse("denials:worklist")))
    assert html.count('data-row="') == 1 and f'data-row="{mine.pk}"' in html
    # Tabs: My work, the team queue, all queues, each with its count and dollars.
    tabs = re.findall(
        r'<span class="qt-name">([^<]+)</span>\s*<span class="qt-stats"><span class="qt-count">(\d+)', html
    )
    assert tabs == [("My work", "1"), ("Team queue", "3"), ("All queues", "3")]
    assert "$650.00" in html  # 150 + 400 + 100 open in the team queue
    assert '<a href="/worklist/" aria-current="page"' in html or 'aria-current="page"' in html


def test_row_carries_codes_with_meaning_amounts_deadline_and_category(worked, coder, client_for):
    queue = _bundled(worked).queue
    html = _html(client_for(coder).get(reverse("denials:worklist") + f"?queue={queue.pk}"))
    row = re.search(rf'<tr data-row="{_bundled(worked).pk}".*?</tr>', html, re.S).group(0)
    assert "DOE, JANE" in row and "11102" in row and "$400.00" in row
    assert 'title="Claim/service denied' in row or 'class="code"' in row
    assert "CO-97" in row and "M15" in row
    assert "tag tag-teal" in row  # bundling: modifier may apply
    assert " d</span>" in row  # days to the deadline
    assert f'hx-get="/denials/{_bundled(worked).pk}/"' in row and f'href="/denials/{_bundled(worked).pk}/"' in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=bundling-not-appealable", {"77003"}),
        ("carc=97", {"77003", "11102"}),
        ("rarc=M15", {"11102"}),
        ("rarc=M1", set()),  # a whole RARC, never a prefix
        ("column1=17000", {"11102"}),
        ("column2=77003", {"77003"}),
        ("amount_min=120&amount_max=200", {"77003"}),
        ("assignee=none", {"77003", "11102", "99214"}),
        ("status=written-off", set()),
        ("due=overdue", {"77003", "11102", "99214"}),  # remittances dated Oct 2026, 120-day window
        ("age=91-", {"77003", "11102", "99214"}),
        ("age=0-30", set()),
    ],
)
def test_filters_narrow_the_rows(worked, coder, client_for, query, expected, settings):
    import datetime as dt
    from unittest import mock

    queue = _bundled(worked).queue
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2027, 3, 1)):
        html = _html(client_for(coder).get(reverse("denials:worklist") + f"?queue={queue.pk}&{query}"))
    shown = {code for code, d in worked.items() if f'data-row="{d.pk}"' in html}
    assert shown == expected


def test_payer_filter_and_sort_by_amount(worked, coder, client_for):
    denial = _bundled(worked)
    base = reverse("denials:worklist") + f"?queue={denial.queue_id}"
    html = _html(client_for(coder).get(base + f"&payer={denial.payer_id}&sort=amount"))
    order = re.findall(r'<tr data-row="(\d+)"', html)
    assert [int(pk) for pk in order] == [worked["11102"].pk, worked["77003"].pk, worked["99214"].pk]
    assert 'aria-sort="descending"' in html


def test_default_sort_is_priority(worked, coder, client_for):
    denial = _bundled(worked)
    html = _html(client_for(coder).get(reverse("denials:worklist") + f"?queue={denial.queue_id}"))
    order = [int(pk) for pk in re.findall(r'<tr data-row="(\d+)"', html)]
    assert len(order) == 3  # the team queue's three open denials: an empty list would prove nothing
    priorities = list(
        Denial.objects.filter(pk__in=order).order_by("-priority", "due_date", "id").values_list("pk", flat=True)
    )
    assert order == priorities


def test_bad_filter_values_are_reported_not_fatal(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).get(reverse("denials:worklist") + f"?queue={denial.queue_id}&amount_min=abc&sort=zzz")
    assert response.status_code == 200
    assert _html(response).count('data-row="') == 3


def test_htmx_filter_request_answers_the_rows_partial_and_a_tab_the_whole_list(worked, coder, client_for):
    client = client_for(coder)
    url = reverse("denials:worklist") + f"?queue={_bundled(worked).queue_id}&carc=97"
    rows = client.get(url, HTTP_HX_TARGET="worklist-rows", **HX)
    assert rows.status_code == 200
    html = _html(rows)
    assert html.lstrip().startswith('<div id="worklist-rows"') and "<html" not in html
    assert html.count('data-row="') == 2
    whole = _html(client.get(url, HTTP_HX_TARGET="worklist-list", **HX))
    assert whole.lstrip().startswith('<section id="worklist-list"') and 'class="queue-tabs"' in whole
    assert "HX-Request" in rows["Vary"]


def test_pagination_keeps_the_filters(worked, coder, client_for, ingest):
    for _ in range(3):
        ingest(remit([("99214", "", "100", "0", "CO*50*100")]))
    queue = _bundled(worked).queue_id
    html = _html(client_for(coder).get(reverse("denials:worklist") + f"?queue={queue}&per_page=25&carc=50"))
    assert html.count('data-row="') == 3
    # Only the rows-per-page sizes offered are accepted.
    html = _html(client_for(coder).get(reverse("denials:worklist") + f"?queue={queue}&per_page=2"))
    assert "Select a valid choice" in html


def test_search_travels_in_the_post_body_and_never_in_a_url(worked, coder, client_for):
    client = client_for(coder)
    page = _html(client.get(reverse("denials:worklist")))
    form = re.search(r'<form id="wl-search"[^>]*>', page).group(0)
    assert 'method="post"' in form and "hx-post" in form and "hx-get" not in form
    filters = re.search(r'<form id="wl-filters".*?</form>', page, re.S).group(0)
    assert 'name="search"' not in filters  # the GET form never carries the search

    response = client.post(reverse("denials:worklist"), {"search": "doe jane"})
    html = _html(response)
    assert response.status_code == 200
    assert html.count('data-row="') == 3  # every queue, any status
    # Nothing the person typed ends up in a link, a form action or a pushed URL.
    urls = re.findall(r'(?:href|hx-get|action|hx-post|data-list-url)="([^"]*)"', html)
    assert any("/worklist/" in url for url in urls), "the page's links were not found: the check below proves nothing"
    for url in urls:
        assert "doe" not in url.lower() and "jane" not in url.lower(), url
    assert "HX-Push-Url" not in response

    by_member = client.post(reverse("denials:worklist"), {"search": "M123"}, HTTP_HX_TARGET="worklist-rows", **HX)
    assert _html(by_member).count('data-row="') == 3
    by_claim = client.post(reverse("denials:worklist"), {"search": _bundled(worked).claim.patient_control_number})
    assert _html(by_claim).count('data-row="') == 1
    nobody = client.post(reverse("denials:worklist"), {"search": "smith"})
    assert "No denial matches that search" in _html(nobody)


def test_an_emptied_search_without_javascript_goes_back_to_the_list(worked, coder, client_for):
    response = client_for(coder).post(reverse("denials:worklist"), {"search": "  "})
    assert response.status_code == 302 and response["Location"] == reverse("denials:worklist")


@pytest.mark.parametrize("rows", [10, 60])
def test_worklist_queries_are_bounded_whatever_the_page_size(
    db, coder, team, client_for, rows, django_assert_max_num_queries
):
    _many_denials(team, rows)
    client = client_for(coder)
    url = reverse("denials:worklist") + "?queue=all&per_page=100"
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert _html(response).count('data-row="') == rows
    with django_assert_max_num_queries(16):
        client.post(reverse("denials:worklist"), {"search": "Patient"})


def _many_denials(team, count: int) -> None:
    """Denials straight in the database: the query count does not depend on how they came."""
    import datetime as dt

    from denials.models import ClaimPayment, Payer, Provider, Remittance, RemittanceFile, ServiceLine

    queue = WorkQueue.objects.create(name="Bulk queue", team=team)
    payers = [Payer.objects.create(payer_key=f"P{i}", name=f"Payer {i}") for i in range(3)]
    payee = Provider.objects.create(name="Clinic", npi="1234567893")
    file = RemittanceFile.objects.create(original_name="x.835", content=b"", sha256="0" * 64, source="command")
    remittance = Remittance.objects.create(
        file=file,
        dedupe_key="k",
        payer=payers[0],
        payee=payee,
        payment_amount=Decimal("0"),
        payment_date=dt.date(2026, 10, 1),
    )
    for i in range(count):
        claim = ClaimPayment.objects.create(
            remittance=remittance,
            sequence=i,
            payer=payers[i % 3],
            patient_control_number=f"PCN{i}",
            status_code="1",
            charge=Decimal("100"),
            paid=Decimal("0"),
            patient_last_name="Patient",
            patient_first_name=f"N{i}",
            patient_member_id=f"M{i}",
        )
        line = ServiceLine.objects.create(
            claim=claim,
            sequence=1,
            procedure_code="11102",
            modifier1="XS",
            charge=Decimal("100"),
            paid=Decimal("0"),
            service_date=dt.date(2026, 9, 1),
        )
        Denial.objects.create(
            claim=claim,
            line=line,
            payer=payers[i % 3],
            kind="line-denied",
            group_code="CO",
            carc="97",
            rarcs="M15 N381",
            amount=Decimal("100") + i,
            queue=queue,
            category="bundling-appealable",
            action="appeal",
            due_date=dt.date(2027, 1, 29),
            priority=Decimal(i),
            expected_recovery=Decimal("60"),
            service_date=dt.date(2026, 9, 1),
        )


# --- The denial page ---------------------------------------------------------------------
def test_denial_page_shows_claim_triage_ncci_panel_and_codes_in_plain_words(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).get(reverse("denials:denial_detail", args=[denial.pk]))
    html = _html(response)
    assert response.status_code == 200
    assert f"<title>Denial #{denial.pk} · Overturn</title>" in html  # no patient data in the title
    assert "DOE, JANE" in html
    # Codes with their meaning.
    assert "CO-97" in html and "M15" in html
    assert "Contractual obligation" in html
    # Triage.
    assert "Bundling: modifier may apply" in html and "Send a corrected claim" in html
    assert denial.explanation[:40] in html
    # NCCI panel: pair, indicator in words, dates, quarter, modifiers that bypass it.
    ncci = re.search(r'<section id="sec-ncci".*?</section>', html, re.S).group(0)
    assert "17000" in ncci and "11102" in ncci
    assert "payable with a modifier when documentation supports a distinct service" in ncci
    assert "2020-01-01" in ncci and "2026Q3" in ncci and "not deleted" in ncci
    assert ">XS<" in ncci and ">59<" in ncci and ">RT<" in ncci and ">26<" not in ncci
    # Service lines with the denied line and its pair marked; history; remittance.
    assert "denied line" in html and "NCCI pair" in html
    assert "History across remittances" in html and "(this remittance)" in html
    assert f'href="{reverse("denials:file_detail", args=[denial.claim.remittance.file_id])}"' in html
    assert f'name="version" value="{denial.version}"' in html


def test_indicator_0_denial_says_no_modifier_bypasses_it(worked, coder, client_for):
    html = _html(client_for(coder).get(reverse("denials:denial_detail", args=[worked["77003"].pk])))
    assert "never separately payable" in html and "no modifier bypasses this edit" in html


def test_denial_partial_for_htmx_is_the_pane_only(worked, coder, client_for):
    response = client_for(coder).get(reverse("denials:denial_detail", args=[_bundled(worked).pk]), **HX)
    html = _html(response)
    assert html.lstrip().startswith("<article") and "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_denial_page_queries_are_bounded(worked, coder, client_for, django_assert_max_num_queries):
    denial = _bundled(worked)
    for i in range(5):
        from denials.services import denial_add_note, document_upload

        denial_add_note(denial=denial, author=coder, body=f"note {i}")
        document_upload(claim=denial.claim, name=f"n{i}.txt", content=f"{NOTE} {i}".encode(), actor=coder)
    client = client_for(coder)
    client.get(reverse("denials:worklist"))  # the session's expiry is refreshed (at most once a minute)
    # 15 for the page, 1 for the access trail's row
    with django_assert_max_num_queries(16):
        response = client.get(reverse("denials:denial_detail", args=[denial.pk]))
    assert _html(response).count('class="doc-text"') == 5


# --- Claiming work ---------------------------------------------------------------------
def test_assign_to_me_answers_in_place_and_refreshes_the_list(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_assign", args=[denial.pk]), {"assignee": "me", "version": denial.version}, **HX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "denialChanged"
    assert "Assigned to you." in _html(response)
    denial.refresh_from_db()
    assert denial.assignee == coder and denial.status == "in-progress" and denial.version == 2


def test_assign_without_javascript_redirects_to_the_denial(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_assign", args=[denial.pk]), {"assignee": "me", "version": denial.version}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("denials:denial_detail", args=[denial.pk]))


def test_coder_cannot_reassign_but_a_manager_can(worked, coder, teammate, manager, client_for):
    denial = _bundled(worked)
    refused = client_for(coder).post(
        reverse("denials:denial_assign", args=[denial.pk]), {"assignee": teammate.pk, "version": denial.version}
    )
    assert refused.status_code == 400 and "Only a manager" in _html(refused)
    page = _html(client_for(manager).get(reverse("denials:denial_detail", args=[denial.pk])))
    assert "Reassign" in page and f'value="{teammate.pk}"' in page
    done = client_for(manager).post(
        reverse("denials:denial_assign", args=[denial.pk]), {"assignee": teammate.pk, "version": denial.version}, **HX
    )
    assert done.status_code == 200 and f"Assigned to {teammate.username}." in _html(done)
    denial.refresh_from_db()
    assert denial.assignee == teammate


def test_next_denial_takes_the_highest_priority_unassigned_one(worked, coder, teammate, client_for):
    client = client_for(coder)
    response = client.post(reverse("denials:denial_next"), {"queue": ""}, **HX)
    top = Denial.objects.order_by("-priority", "due_date", "id").first()
    assert response.status_code == 200
    assert response["HX-Push-Url"] == reverse("denials:denial_detail", args=[top.pk])
    assert response["HX-Trigger"] == "denialChanged"
    top.refresh_from_db()
    assert top.assignee == coder
    # Without JavaScript: a redirect to the denial it took.
    second = client_for(teammate).post(reverse("denials:denial_next"), {"queue": str(top.queue_id)})
    assert second.status_code == 302 and second["Location"].startswith("/denials/")
    assert Denial.objects.filter(assignee=teammate).count() == 1


def test_next_denial_when_nothing_is_left(worked, coder, outsider, client_for):
    response = client_for(outsider).post(reverse("denials:denial_next"), {}, **HX)
    assert response.status_code == 200 and "Nothing left to take" in _html(response)
    response = client_for(outsider).post(reverse("denials:denial_next"), {})
    assert response.status_code == 302 and response["Location"] == reverse("denials:worklist")


# --- Outcomes, refusals and conflicts -----------------------------------------------------
def test_write_off_needs_a_reason_shown_next_to_the_field(worked, coder, client_for):
    denial = _bundled(worked)
    url = reverse("denials:denial_outcome", args=[denial.pk])
    response = client_for(coder).post(url, {"action": "write-off", "reason": " ", "version": denial.version})
    assert response.status_code == 400
    reason_field = re.search(r'<div class="field field-reason.*?</div>', _html(response), re.S).group(0)
    assert "A write-off needs a reason." in reason_field
    htmx = client_for(coder).post(url, {"action": "write-off", "reason": "", "version": denial.version}, **HX)
    assert htmx.status_code == 200 and "A write-off needs a reason." in _html(htmx)
    denial.refresh_from_db()
    assert denial.status == "open"


def test_bypass_modifier_on_an_indicator_0_edit_is_refused_next_to_the_modifier(worked, coder, client_for):
    denial = worked["77003"]
    response = client_for(coder).post(
        reverse("denials:denial_outcome", args=[denial.pk]),
        {"action": "corrected-claim", "modifier": "59", "version": denial.version},
    )
    assert response.status_code == 400
    field = re.search(r'<fieldset [^>]*class="field field-modifier.*?</fieldset>', _html(response), re.S).group(0)
    assert "modifier indicator 0" in field and 'aria-invalid="true"' in field
    denial.refresh_from_db()
    assert denial.status == "open" and denial.chosen_modifier == ""


def test_corrected_claim_with_a_modifier_on_an_indicator_1_edit(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_outcome", args=[denial.pk]),
        {"action": "corrected-claim", "modifier": "XS", "version": denial.version},
        **HX,
    )
    assert response.status_code == 200 and "Saved: corrected claim." in _html(response)
    denial.refresh_from_db()
    assert (denial.status, denial.chosen_modifier) == ("corrected", "XS")


def test_bill_patient_is_refused_on_a_co_denial_and_done_on_pr(worked, coder, client_for):
    co = _bundled(worked)
    refused = client_for(coder).post(
        reverse("denials:denial_outcome", args=[co.pk]), {"action": "bill-patient", "version": co.version}
    )
    assert refused.status_code == 400
    choices = re.search(r'<fieldset class="outcome-choices.*?</fieldset>', _html(refused), re.S).group(0)
    assert "Only patient-responsibility (PR)" in choices
    pr = worked["99214"]
    done = client_for(coder).post(
        reverse("denials:denial_outcome", args=[pr.pk]), {"action": "bill-patient", "version": pr.version}
    )
    assert done.status_code == 302
    pr.refresh_from_db()
    assert pr.status == "billed-patient"


@pytest.mark.parametrize("action", ["request-info", "escalate"])
def test_other_outcomes_and_reopen(worked, coder, client_for, action):
    denial = _bundled(worked)
    client = client_for(coder)
    response = client.post(
        reverse("denials:denial_outcome", args=[denial.pk]),
        {"action": action, "reason": "payer contract section 4", "version": denial.version},
        **HX,
    )
    assert response.status_code == 200 and "Saved:" in _html(response)
    denial.refresh_from_db()
    assert denial.status != "open"
    assert "Reopen" in _html(response)
    reopened = client.post(
        reverse("denials:denial_outcome", args=[denial.pk]), {"action": "reopen", "version": denial.version}, **HX
    )
    assert "Saved: reopen." in _html(reopened)
    denial.refresh_from_db()
    assert denial.status == "open"


def test_second_save_on_a_stale_version_is_refused_with_the_current_state(worked, coder, teammate, client_for):
    denial = _bundled(worked)
    seen_by_both = denial.version
    first = client_for(coder).post(
        reverse("denials:denial_outcome", args=[denial.pk]),
        {"action": "write-off", "reason": "not documented", "version": seen_by_both},
    )
    assert first.status_code == 302
    second = client_for(teammate).post(
        reverse("denials:denial_outcome", args=[denial.pk]),
        {"action": "escalate", "reason": "needs a manager", "version": seen_by_both},
    )
    assert second.status_code == 409
    html = _html(second)
    assert "changed by someone else" in html
    assert "Written off" in html  # what the other person did, and the current state
    assert f'name="version" value="{seen_by_both + 1}"' in html  # the forms now carry the current version
    denial.refresh_from_db()
    assert denial.status == "written-off"
    assert not AuditEvent.objects.filter(action="denial.escalate").exists()


def test_conflict_over_htmx_answers_200_so_the_message_is_swapped_in(worked, coder, teammate, client_for):
    denial = _bundled(worked)
    seen = denial.version
    client_for(coder).post(reverse("denials:denial_assign", args=[denial.pk]), {"assignee": "me", "version": seen})
    response = client_for(teammate).post(
        reverse("denials:denial_assign", args=[denial.pk]), {"assignee": "me", "version": seen}, **HX
    )
    assert response.status_code == 200
    html = _html(response)
    assert "Not saved." in html and "changed by someone else" in html
    assert "Assignee: — → " in html  # what changed
    denial.refresh_from_db()
    assert denial.assignee == coder


def test_everything_is_in_the_activity_on_the_page(worked, coder, client_for):
    denial = _bundled(worked)
    client = client_for(coder)
    client.post(reverse("denials:denial_assign", args=[denial.pk]), {"assignee": "me", "version": 1})
    client.post(reverse("denials:denial_note", args=[denial.pk]), {"body": "Called the payer, ref 42"})
    client.post(
        reverse("denials:denial_outcome", args=[denial.pk]),
        {"action": "escalate", "reason": "contract unclear", "version": 2},
    )
    html = _html(client.get(reverse("denials:denial_detail", args=[denial.pk])))
    activity = re.search(r'<section id="sec-activity".*?</section>', html, re.S).group(0)
    assert "assigned" in activity and "added a note" in activity and "escalated" in activity
    assert "Status: In progress → Escalated" in activity
    notes = re.search(r'<section id="sec-notes".*?</section>', html, re.S).group(0)
    assert "Called the payer, ref 42" in notes and coder.username in notes


def test_empty_note_is_refused_in_place(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).post(reverse("denials:denial_note", args=[denial.pk]), {"body": " "}, **HX)
    assert response.status_code == 200 and "This field is required" in _html(response)


# --- Documentation and evidence ----------------------------------------------------------
def test_text_document_upload_shows_it_in_the_page(worked, coder, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_document_upload", args=[denial.pk]),
        {"file": SimpleUploadedFile("op-note.txt", NOTE.encode()), "title": "Operative note", "version": 1},
        **HX,
    )
    assert response.status_code == 200
    html = _html(response)
    assert "Attached Operative note" in html
    document = ClinicalDocument.objects.get()
    assert f'data-document-id="{document.pk}"' in html
    assert "separate incision" in html
    assert AuditEvent.objects.filter(action="document.uploaded").exists()
    assert "attached a document" in html


def test_pdf_upload_is_read_to_text(worked, coder, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    denial = _bundled(worked)
    pdf = minimal_pdf("Separate lesion on the right scalp biopsied.")
    response = client_for(coder).post(
        reverse("denials:denial_document_upload", args=[denial.pk]),
        {"file": SimpleUploadedFile("note.pdf", pdf, content_type="application/pdf")},
    )
    assert response.status_code == 302
    document = ClinicalDocument.objects.get()
    assert document.kind == "pdf" and "Separate lesion on the right scalp biopsied." in document.text
    html = _html(client_for(coder).get(reverse("denials:denial_detail", args=[denial.pk])))
    assert "Separate lesion on the right scalp biopsied." in html and "1 page" in html
    original = client_for(coder).get(reverse("denials:denial_document_file", args=[denial.pk, document.pk]))
    assert original["Content-Type"] == "application/pdf" and original.content == pdf
    assert "note.pdf" not in original["Content-Disposition"]


def test_unreadable_document_is_refused_next_to_the_field(worked, coder, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_document_upload", args=[denial.pk]),
        {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4 garbage")},
    )
    assert response.status_code == 400 and "could not be read as a PDF" in _html(response)
    assert not ClinicalDocument.objects.exists()


def _document(denial, coder):
    from denials.services import document_upload

    return document_upload(claim=denial.claim, name="op-note.txt", content=NOTE.encode(), actor=coder)


def test_selected_passage_is_saved_as_evidence_and_highlighted(worked, coder, client_for):
    denial = _bundled(worked)
    document = _document(denial, coder)
    passage = "A separate lesion on the right scalp was biopsied through a separate incision (11102)."
    start = NOTE.index(passage)
    response = client_for(coder).post(
        reverse("denials:denial_evidence_save", args=[denial.pk]),
        {
            "document": document.pk,
            "start": start,
            "end": start + len(passage),
            "quote": passage,
            "kind": "separate-site",
            "version": denial.version,
        },
        **HX,
    )
    assert response.status_code == 200
    html = _html(response)
    evidence = Evidence.objects.get()
    assert (evidence.start, evidence.end, evidence.quote, evidence.kind) == (
        start,
        start + len(passage),
        passage,
        "separate-site",
    )
    assert f'<mark class="evidence" data-evidence-id="{evidence.pk}"' in html
    assert "Passage saved as evidence: Separate site or structure (XS)." in html
    # The highlighted document text is still the document text, character for character.
    pre = re.search(r'<pre class="doc-text"[^>]*>\n(.*?)</pre>', html, re.S).group(1)
    from html import unescape

    assert unescape(re.sub(r"<[^>]+>", "", pre)) == NOTE


def test_typed_words_are_found_in_the_document_for_keyboard_users(worked, coder, client_for):
    denial = _bundled(worked)
    document = _document(denial, coder)
    client_for(coder).post(
        reverse("denials:denial_evidence_save", args=[denial.pk]),
        {
            "document": document.pk,
            "quote": "separate   lesion on the RIGHT scalp",
            "kind": "separate-site",
        },
    )
    evidence = Evidence.objects.get()
    assert evidence.quote == "separate lesion on the right scalp"
    missing = client_for(coder).post(
        reverse("denials:denial_evidence_save", args=[denial.pk]),
        {
            "document": document.pk,
            "quote": "left knee",
            "kind": "other",
        },
    )
    assert missing.status_code == 400 and "Those words are not in the document" in _html(missing)


def test_selection_that_does_not_match_the_offsets_is_refused(worked, coder, client_for):
    denial = _bundled(worked)
    document = _document(denial, coder)
    response = client_for(coder).post(
        reverse("denials:denial_evidence_save", args=[denial.pk]),
        {
            "document": document.pk,
            "start": 0,
            "end": 9,
            "quote": "something else",
            "kind": "other",
        },
    )
    assert response.status_code == 400 and "did not match" in _html(response)
    assert not Evidence.objects.exists()


def test_document_of_another_claim_is_404_for_evidence(worked, coder, client_for):
    other = _document(worked["77003"], coder)
    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_evidence_save", args=[denial.pk]),
        {
            "document": other.pk,
            "start": 0,
            "end": 9,
            "kind": "other",
        },
    )
    assert response.status_code == 404
    assert client_for(coder).get(reverse("denials:denial_document_file", args=[denial.pk, other.pk])).status_code == 404


def test_evidence_can_be_removed(worked, coder, client_for):
    from denials.services import evidence_save

    denial = _bundled(worked)
    document = _document(denial, coder)
    evidence = evidence_save(denial=denial, document=document, start=0, end=14, kind="other", actor=coder)
    response = client_for(coder).post(reverse("denials:denial_evidence_delete", args=[denial.pk, evidence.pk]), **HX)
    assert response.status_code == 200 and not Evidence.objects.exists()
    assert "removed evidence" in _html(response)


# --- Bulk actions --------------------------------------------------------------------------
def test_bulk_assign_to_me_and_write_off_ticked_rows(worked, coder, client_for):
    client = client_for(coder)
    ids = [worked["77003"].pk, worked["11102"].pk]
    response = client.post(reverse("denials:denials_bulk"), {"action": "assign-me", "ids": ids, "next": "/worklist/"})
    assert response.status_code == 302 and response["Location"] == "/worklist/"
    assert set(Denial.objects.filter(assignee=coder).values_list("pk", flat=True)) == set(ids)
    refused = client.post(reverse("denials:denials_bulk"), {"action": "write-off", "ids": ids, "reason": ""}, **HX)
    assert refused.status_code == 200 and "A write-off needs a reason." in _html(refused)
    assert 'hx-swap-oob="innerHTML"' in _html(refused)
    done = client.post(
        reverse("denials:denials_bulk"), {"action": "write-off", "ids": ids, "reason": "NCCI indicator 0"}, **HX
    )
    assert done["HX-Trigger"] == "denialChanged" and "Wrote off 2 denials." in _html(done)
    assert set(Denial.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"written-off"}


def test_bulk_write_off_of_every_row_matching_the_view(worked, coder, client_for):
    """All bundling-not-appealable lines of a payer, in one go."""
    denial = worked["77003"]
    response = client_for(coder).post(
        reverse("denials:denials_bulk"),
        {
            "action": "write-off",
            "all_matching": "1",
            "reason": "Indicator 0: not separately payable",
            "queue": denial.queue_id,
            "category": "bundling-not-appealable",
            "payer": denial.payer_id,
        },
    )
    assert response.status_code == 302
    assert list(Denial.objects.filter(status="written-off").values_list("pk", flat=True)) == [denial.pk]


def test_bulk_never_reaches_another_teams_denials(worked, outsider, client_for):
    ids = [d.pk for d in worked.values()]
    client = client_for(outsider)
    client.post(reverse("denials:denials_bulk"), {"action": "write-off", "ids": ids, "reason": "x"})
    client.post(
        reverse("denials:denials_bulk"), {"action": "write-off", "all_matching": "1", "queue": "all", "reason": "x"}
    )
    client.post(reverse("denials:denials_bulk"), {"action": "assign-me", "ids": ids})
    assert not Denial.objects.exclude(status="open").exists()
    assert not Denial.objects.filter(assignee__isnull=False).exists()


def test_manager_bulk_assigns_to_a_teammate(worked, manager, teammate, coder, client_for):
    ids = [worked["11102"].pk]
    client = client_for(manager)
    response = client.post(reverse("denials:denials_bulk"), {"action": "assign", "ids": ids, "assignee": teammate.pk})
    assert response.status_code == 302
    assert Denial.objects.get(pk=ids[0]).assignee == teammate
    client_for(coder).post(
        reverse("denials:denials_bulk"), {"action": "assign", "ids": [worked["77003"].pk], "assignee": teammate.pk}
    )
    assert Denial.objects.get(pk=worked["77003"].pk).assignee is None  # only managers hand work to others


def test_bulk_without_ticks_says_so(worked, coder, client_for):
    response = client_for(coder).post(reverse("denials:denials_bulk"), {"action": "assign-me"}, **HX)
    assert "Tick the denials to act on first." in _html(response)


def test_bulk_next_url_must_stay_on_the_site(worked, coder, client_for):
    response = client_for(coder).post(
        reverse("denials:denials_bulk"),
        {"action": "assign-me", "ids": [worked["11102"].pk], "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("denials:worklist")


# --- The page works without JavaScript -----------------------------------------------------
def test_every_hx_get_keeps_its_href(worked, coder, client_for):
    denial = _bundled(worked)
    client = client_for(coder)
    checked_links = 0
    for url in (
        reverse("denials:worklist") + f"?queue={denial.queue_id}",
        reverse("denials:denial_detail", args=[denial.pk]),
    ):
        html = _html(client.get(url))
        htmx_forms = re.findall(r"<form\b[^>]*hx-(?:post|get)=[^>]*>", html)
        assert htmx_forms, f"no htmx form found on {url}: the check below would prove nothing"
        for tag in re.findall(r"<a\b[^>]*hx-get=[^>]*>", html):
            hx_get = re.search(r'hx-get="([^"]*)"', tag).group(1)
            href = re.search(r'href="([^"]*)"', tag).group(1)
            assert hx_get == href, tag
            checked_links += 1
        for tag in htmx_forms:
            assert "action=" in tag, tag
    assert checked_links, "no hx-get link found: the worklist's rows and tabs use them"


def test_nav_has_the_worklist_first(coder, client_for):
    html = _html(client_for(coder).get(reverse("denials:worklist")))
    nav = re.search(r'<ul class="nav-links">(.*?)</ul>', html, re.S).group(1)
    assert nav.strip().startswith('<li><a href="/worklist/" aria-current="page">Worklist</a>')


def test_enter_in_the_bulk_reason_field_submits_nothing(worked, coder, client_for):
    """The bulk form's first (default) submit button is disabled, so implicit submission does nothing."""
    html = _html(client_for(coder).get(reverse("denials:worklist") + f"?queue={_bundled(worked).queue_id}"))
    bulk = re.search(r'<form id="bulk-form".*?</form>', html, re.S).group(0)
    first_button = re.search(r"<button\b[^>]*>", bulk).group(0)
    assert "disabled" in first_button


def test_a_form_without_the_version_is_refused_without_saving(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_outcome", args=[denial.pk]), {"action": "escalate", "reason": "needs a manager"}
    )
    assert response.status_code == 400 and "missing the denial's version" in _html(response)
    denial.refresh_from_db()
    assert denial.status == "open"


# --- The page asks the model what is allowed (denials.outcomes), it does not decide -------
def _outcome_choices(html: str) -> str:
    return re.search(r'<fieldset class="outcome-choices.*?</fieldset>', html, re.S).group(0)


def test_the_outcome_choices_follow_the_denials_rules(worked, coder, client_for):
    client = client_for(coder)
    co = _bundled(worked)  # CO, open: nothing to reopen, not the patient's to pay
    assert co.group_code == "CO" and not co.can_reopen and not co.can_bill_patient
    choices = _outcome_choices(_html(client.get(reverse("denials:denial_detail", args=[co.pk]))))
    assert 'value="reopen"' not in choices
    assert 'value="bill-patient"' in choices and "PR only" in choices
    pr = worked["99214"]
    assert pr.group_code == "PR" and pr.can_bill_patient
    choices = _outcome_choices(_html(client.get(reverse("denials:denial_detail", args=[pr.pk]))))
    assert 'value="bill-patient"' in choices and "PR only" not in choices


def test_reopening_a_denial_with_no_outcome_is_refused(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_outcome", args=[denial.pk]), {"action": "reopen", "version": denial.version}
    )
    assert response.status_code == 400
    assert "nothing to reopen" in _html(response)
    denial.refresh_from_db()
    assert denial.version == _bundled(worked).version and denial.status == "open"


def test_bulk_scope_ticked_rows_and_every_matching_row(worked, coder, outsider, client_for):
    from denials.selectors import denial_ids_for_bulk

    denial = _bundled(worked)
    mine = denial_ids_for_bulk(user=coder, denial_ids=[denial.pk, 10**9])
    assert mine == [denial.pk]
    assert denial_ids_for_bulk(user=outsider, denial_ids=[denial.pk]) == []
    every = denial_ids_for_bulk(
        user=coder, denial_ids=[], all_matching=True, filters={"queue": str(denial.queue_id), "sort": "priority"}
    )
    assert len(every) == 3 and denial.pk in every
    assert (
        len(
            denial_ids_for_bulk(
                user=coder, denial_ids=[], all_matching=True, filters={"queue": str(denial.queue_id)}, limit=2
            )
        )
        == 2
    )


def test_the_outcome_form_no_longer_offers_send_to_appeal_the_appeal_button_does(worked, coder, client_for):
    denial = _bundled(worked)
    client = client_for(coder)
    html = _html(client.get(reverse("denials:denial_detail", args=[denial.pk])))
    assert 'value="appeal"' not in _outcome_choices(html) and "Send to appeal" not in _outcome_choices(html)
    assert reverse("appeals:denial_box", args=[denial.pk]) in html  # the Appeal button loads in its place
    refused = client.post(
        reverse("denials:denial_outcome", args=[denial.pk]), {"action": "appeal", "version": denial.version}
    )
    assert refused.status_code == 400 and "use the Appeal button" in _html(refused)
    denial.refresh_from_db()
    assert denial.status == "open"


def test_the_dashboards_filters_narrow_the_worklist_and_a_bad_one_is_named(worked, coder, client_for):
    """Remittance dates, team, setting, specialty, rendering NPI: what a dashboard number links with."""
    client = client_for(coder)
    denial = worked["77003"]
    remitted = denial.claim.remittance.remittance_date

    def count(**params: str) -> int:
        response = client.get(reverse("denials:worklist"), {"queue": "all", "status": "all", **params})
        assert response.status_code == 200 and not response.context["form"].errors, response.context["form"].errors
        return response.context["page"].paginator.count

    everything = count()
    assert count(remitted_from=remitted.isoformat(), remitted_to=remitted.isoformat()) == everything
    assert count(remitted_from=(remitted + dt.timedelta(days=1)).isoformat()) == 0
    assert count(team=str(denial.queue.team_id)) == everything
    assert count(setting=denial.ncci_setting) == Denial.objects.filter(ncci_setting=denial.ncci_setting).count()
    npi = denial.claim.rendering_provider_npi or "none"
    assert (
        count(npi=npi)
        == Denial.objects.filter(claim__rendering_provider_npi=denial.claim.rendering_provider_npi).count()
    )
    assert count(status="finished") == 0  # nothing worked yet
    bad = client.get(
        reverse("denials:worklist"), {"queue": "all", "remitted_from": "2026-03-01", "remitted_to": "2026-02-01"}
    )
    assert "The end date is before the start date." in _html(bad)
