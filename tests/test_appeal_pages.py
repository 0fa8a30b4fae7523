"""The appeal pages: the list (filters, sort, team scope), the worklist's appeal tabs and My
work news, the Appeal button on the denial page, the appeal page's forms (transitions, a stale
version, refusals in words, the next level), and the API answering the same rows as the page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appeals import services
from appeals import vocabulary as v
from appeals.models import Appeal, AppealFollowUp
from denials import vocabulary as denial_words
from denials.models import AccessEvent, Denial, Payer

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def level_rules(db):
    """The shipped appeal levels as rows, as ``migrate`` seeds them on an install (the pages read the rows)."""
    from appeals import levels
    from appeals.models import AppealLevelRule

    for row in levels.SHIPPED_LEVEL_RULES:
        AppealLevelRule.objects.get_or_create(
            payer_kind=row.payer_kind,
            level=row.rule.level,
            defaults={
                "rank": row.rank,
                "days": row.rule.days,
                "receipt_days": row.rule.receipt_days,
                "years": row.rule.years,
                "minimum_amount": row.rule.minimum_amount,
                "minimum_amount_year": row.rule.minimum_amount_year,
                "source": row.rule.source,
            },
        )


@pytest.fixture
def team_a(team_files):
    denials = list(Denial.objects.filter(claim__remittance__file=team_files["A"]).order_by("pk"))
    assert len(denials) == 2
    return denials


@pytest.fixture
def team_b(team_files):
    denials = list(Denial.objects.filter(claim__remittance__file=team_files["B"]).order_by("pk"))
    assert len(denials) == 2
    return denials


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _html(response) -> str:
    """The page's text with entities decoded ("payer&#x27;s" reads "payer's")."""
    return unescape(response.content.decode())


def _ids(html: str) -> list[int]:
    """The appeals listed in the rows, in order."""
    return [int(i) for i in re.findall(r'data-row="(\d+)"', html)]


def _list(client, query: str = "") -> list[int]:
    response = client.get(reverse("appeals:list") + query)
    assert response.status_code == 200
    return _ids(_html(response))


def _api_ids(user, query: str = "") -> list[int]:
    api = APIClient()
    api.force_authenticate(user)
    response = api.get("/api/appeals/" + query)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _ready(appeal: Appeal, actor) -> Appeal:
    return services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=actor, status="ready")


def _submitted(appeal: Appeal, actor) -> Appeal:
    return services.appeal_update(
        appeal=_ready(appeal, actor),
        expected_version=appeal.version + 1,
        actor=actor,
        status="submitted",
        method="fax",
        submitted_on=timezone.localdate(),
    )


@pytest.fixture
def three(team_a, team_b, coder, teammate, outsider, admin_user):
    """Three appeals on different claims: team A's two (one per claim, a second claim made from the
    mixed file), team B's one. Due dates: A1 in 3 days, A2 overdue by 2 days, B in 40 days."""
    today = timezone.localdate()
    a1 = services.appeal_create(denials=[team_a[0]], actor=coder)
    mixed = Denial.objects.filter(claim__patient_control_number="MIXEDPCN8103A").order_by("pk").first()
    assert mixed is not None
    a2 = services.appeal_create(denials=[mixed], actor=teammate)
    b = services.appeal_create(denials=[team_b[0]], actor=outsider)
    Appeal.objects.filter(pk=a1.pk).update(due_date=today + dt.timedelta(days=3))
    Appeal.objects.filter(pk=a2.pk).update(due_date=today - dt.timedelta(days=2))
    Appeal.objects.filter(pk=b.pk).update(due_date=today + dt.timedelta(days=40))
    Denial.objects.filter(pk=mixed.pk).update(amount=Decimal("250.00"), ncci_column1="17000", ncci_column2="11102")
    return {"a1": Appeal.objects.get(pk=a1.pk), "a2": Appeal.objects.get(pk=a2.pk), "b": Appeal.objects.get(pk=b.pk)}


# --- The list --------------------------------------------------------------------------------------
def test_the_list_shows_only_the_teams_appeals_soonest_due_first(three, coder, outsider, admin_user, client_for):
    assert _list(client_for(coder)) == [three["a2"].pk, three["a1"].pk]
    html = _html(client_for(outsider).get(reverse("appeals:list")))
    assert _ids(html) == [three["b"].pk] and "ALPHA" not in html
    assert set(_list(client_for(admin_user))) == {three["a1"].pk, three["a2"].pk, three["b"].pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=draft", ["a2", "a1"]),
        ("?status=submitted", []),
        ("?level=first-level", ["a2", "a1"]),
        ("?level=redetermination", []),
        ("?due_soon=true", ["a1"]),
        ("?overdue=true", ["a2"]),
        ("?overdue=false", ["a1"]),
        ("?column1=17000", ["a2"]),
        ("?column2=11102", ["a2"]),
        ("?column1=99999", []),
    ],
)
def test_each_filter_narrows_the_list_and_the_api_answers_the_same(three, coder, client_for, query, expected):
    want = [three[k].pk for k in expected]
    assert _list(client_for(coder), query) == want
    assert _api_ids(coder, query) == want


def test_payer_and_coder_filters(three, coder, teammate, client_for):
    client = client_for(coder)
    payer = three["a1"].claim.payer_id
    assert set(_list(client, f"?payer={payer}")) == {three["a1"].pk, three["a2"].pk}
    assert _list(client, f"?payer={payer + 999}") == []
    # The coder who created it, or the assignee of one of its denials.
    assert _list(client, f"?coder={coder.pk}") == [three["a1"].pk]
    assert _list(client, f"?coder={teammate.pk}") == [three["a2"].pk]
    Denial.objects.filter(pk__in=three["a2"].denials.values("pk")).update(assignee=coder)
    assert _list(client, f"?coder={coder.pk}") == [three["a2"].pk, three["a1"].pk]
    assert _api_ids(coder, f"?coder={coder.pk}") == [three["a2"].pk, three["a1"].pk]


def test_sorting_by_amount_due_and_created(three, coder, client_for):
    client = client_for(coder)
    a1, a2 = three["a1"].pk, three["a2"].pk  # a2 has $250 at stake, a1 $100
    assert _list(client, "?sort=-amount") == [a2, a1]
    assert _list(client, "?sort=amount") == [a1, a2]
    assert _list(client, "?sort=-due") == [a1, a2]
    assert _list(client, "?sort=-created") == [a2, a1]
    assert _api_ids(coder, "?sort=-amount") == [a2, a1]
    html = _html(client.get(reverse("appeals:list") + "?sort=-amount"))
    assert "$250.00" in html and 'aria-sort="descending"' in html


def test_the_list_answers_htmx_with_its_rows_only(three, coder, client_for):
    response = client_for(coder).get(reverse("appeals:list") + "?overdue=true", HTTP_HX_TARGET="appeal-rows", **HX)
    html = _html(response)
    assert _ids(html) == [three["a2"].pk]
    assert '<nav class="nav"' not in html and 'id="appeal-rows"' in html
    assert re.search(r'<span class="overdue"[^>]*>2 d late</span>', html)  # in words (and the CSS adds "overdue")


def test_the_list_reads_in_a_fixed_number_of_queries(three, admin_user, client_for, django_assert_max_num_queries):
    client = client_for(admin_user)
    client.get(reverse("appeals:list"))  # warm the session and content types
    with django_assert_max_num_queries(16):
        assert len(_ids(_html(client.get(reverse("appeals:list"))))) == 3


def test_a_list_view_records_no_access_but_the_appeal_page_does(three, coder, client_for):
    client = client_for(coder)
    client.get(reverse("appeals:list"))
    assert not AccessEvent.objects.exists()
    client.get(reverse("appeals:detail", args=[three["a1"].pk]))
    event = AccessEvent.objects.get()
    assert event.actor == coder and event.target_type == ContentType.objects.get_for_model(Appeal)
    assert event.target_id == str(three["a1"].pk)


def test_another_teams_appeal_is_404_on_every_page_and_writes_nothing(three, outsider, client_for):
    client = client_for(outsider)
    a1 = three["a1"]
    assert client.get(reverse("appeals:detail", args=[a1.pk])).status_code == 404
    assert client.get(reverse("appeals:detail", args=[a1.pk]), **HX).status_code == 404
    for name, data in [
        ("appeals:status", {"status": "ready", "version": a1.version}),
        ("appeals:submit", {"submitted_on": "2026-11-01", "method": "fax", "version": a1.version}),
        ("appeals:decide", {"outcome": "upheld", "version": a1.version}),
        ("appeals:notes", {"notes": "x", "version": a1.version}),
        ("appeals:next_level", {"version": a1.version}),
    ]:
        assert client.post(reverse(name, args=[a1.pk]), data).status_code == 404, name
    denial = a1.denials.get()
    assert client.get(reverse("appeals:denial_box", args=[denial.pk]), **HX).status_code == 404
    assert client.post(reverse("appeals:denial_start", args=[denial.pk])).status_code == 404
    a1.refresh_from_db()
    assert a1.version == three["a1"].version and a1.status == "draft"
    assert not AccessEvent.objects.exists()


# --- Worklist tabs and My work news -------------------------------------------------------------------
def test_the_worklist_links_to_the_appeal_tabs_and_their_counts_load_lazily(three, coder, client_for):
    client = client_for(coder)
    worklist = _html(client.get(reverse("denials:worklist")))
    assert f'hx-get="{reverse("appeals:tabs")}"' in worklist
    assert f'href="{reverse("appeals:list")}?due_soon=true"' in worklist
    tabs = _html(client.get(reverse("appeals:tabs"), **HX))
    counts = re.findall(r'class="qt-count[^"]*">(\d+)<', tabs)
    assert counts == ["1", "1"]  # a1 due in 3 days; a2 overdue
    assert "Appeals due this week" in tabs and "Overdue" in tabs
    _submitted(three["a1"], coder)  # sent: no longer due
    tabs = _html(client.get(reverse("appeals:tabs"), **HX))
    assert re.findall(r'class="qt-count[^"]*">(\d+)<', tabs) == ["0", "1"]


@pytest.mark.parametrize("offset", [-30, -1, 0, 1, 7, 8, 40])
@pytest.mark.parametrize("status", [v.STATUS_DRAFT, v.STATUS_READY, v.STATUS_SUBMITTED])
def test_the_tab_counts_equal_the_tabs_filters_at_every_due_date_and_status(three, coder, offset, status):
    """The tab counts pick the unsent appeals due within the week first: at every boundary (today,
    the last day of the week, the day after) and status they equal counting each tab's own
    filter over every appeal the coder may see."""
    from appeals import selectors

    today = timezone.localdate()
    Appeal.objects.filter(pk=three["a1"].pk).update(due_date=today + dt.timedelta(days=offset), status=status)
    visible = selectors.appeals_visible_to(user=coder)
    expected = selectors.TabCounts(
        due_soon=visible.filter(selectors.due_soon_q()).count(), overdue=visible.filter(selectors.overdue_q()).count()
    )
    assert selectors.appeal_tab_counts(user=coder) == expected
    unsent = status in v.UNSENT_STATUSES
    # a2 is overdue throughout; a1 counts where its due date and status put it; b is another team's.
    assert expected.overdue == 1 + (unsent and offset < 0)
    assert expected.due_soon == int(unsent and 0 <= offset <= selectors.DUE_SOON_DAYS)


def test_my_work_shows_appeal_news_from_later_remittances(three, coder, outsider, client_for):
    client = client_for(coder)
    worklist = _html(client.get(reverse("denials:worklist")))
    assert f'hx-get="{reverse("appeals:news")}"' in worklist
    assert "Nothing new" in _html(client.get(reverse("appeals:news"), **HX))
    a1 = _submitted(three["a1"], coder)
    denial = a1.denials.get()
    AppealFollowUp.objects.create(
        appeal=a1, claim=denial.claim, line=denial.line, denial=denial, kind="paid", amount=Decimal("100.00")
    )
    news = _html(client.get(reverse("appeals:news"), **HX))
    assert f"Appeal {a1.pk}" in news and "$100.00" in news and "overturned" in news
    assert f"Appeal {a1.pk}" not in _html(client_for(outsider).get(reverse("appeals:news"), **HX))


# --- The Appeal button on the denial page -----------------------------------------------------------
def test_the_appeal_button_creates_a_draft_and_then_adds_the_claims_other_line(team_a, coder, client_for):
    client = client_for(coder)
    first, second = team_a
    box = _html(client.get(reverse("appeals:denial_box", args=[first.pk]), **HX))
    assert reverse("appeals:denial_start", args=[first.pk]) in box and "disabled" not in box
    response = client.post(reverse("appeals:denial_start", args=[first.pk]), {"level": ""})
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    first.refresh_from_db()
    assert first.status == "appealed"  # out of the active queue
    assert first.status in dict(Denial.Status.choices) and first.get_status_display() == "Sent to appeal"
    box = _html(client.get(reverse("appeals:denial_box", args=[second.pk]), **HX))
    assert f"add this line to appeal {appeal.pk}" in box
    added = client.post(reverse("appeals:denial_start", args=[second.pk]), **HX)
    assert added.status_code == 204 and added["HX-Redirect"] == reverse("appeals:detail", args=[appeal.pk])
    assert sorted(appeal.denials.values_list("pk", flat=True)) == [first.pk, second.pk]
    assert Appeal.objects.count() == 1
    box = _html(client.get(reverse("appeals:denial_box", args=[first.pk]), **HX))
    assert f"Under appeal {appeal.pk}" in box and "(draft" in box


def test_an_indicator_0_write_off_cannot_be_appealed_and_the_button_says_why(team_a, coder, client_for):
    client = client_for(coder)
    denial = team_a[0]
    Denial.objects.filter(pk=denial.pk).update(category=denial_words.BUNDLING_NOT_APPEALABLE)
    box = _html(client.get(reverse("appeals:denial_box", args=[denial.pk]), **HX))
    assert re.search(r"<button[^>]*disabled[^>]*>Appeal</button>", box)
    assert "modifier indicator is 0" in box and "Write it off instead" in box
    refused = client.post(reverse("appeals:denial_start", args=[denial.pk]), **HX)
    assert refused.status_code == 200 and "modifier indicator is 0" in _html(refused)
    assert not Appeal.objects.exists()
    denial.refresh_from_db()
    assert denial.status == "open"


def test_the_appeal_box_reads_its_denial_without_the_pages_joins(team_a, team_b, coder, client_for):
    """The box is fetched with every denial opened: it reads the denial and its claim's payer, not
    the denial page's twelve-table join (about 5 ms of PostgreSQL planning each time), and still
    only a denial the coder may see."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(coder)
    with CaptureQueriesContext(connection) as queries:
        box = client.get(reverse("appeals:denial_box", args=[team_a[0].pk]), **HX)
    assert box.status_code == 200 and "Appeal" in _html(box)
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith('SELECT "denials_denial"."id"')]
    assert reads, "the box read no denial"
    assert not any('"denials_remittancefile"' in sql or '"ncci_ptpedit"' in sql for sql in reads)
    assert client.get(reverse("appeals:denial_box", args=[team_b[0].pk]), **HX).status_code == 404


def test_medicare_offers_the_reopening_and_says_which_route_it_takes(team_a, coder, client_for):
    Payer.objects.filter(pk=team_a[0].claim.payer_id).update(kind="medicare")
    client = client_for(coder)
    Denial.objects.filter(pk=team_a[0].pk).update(category=denial_words.BUNDLING_MODIFIER_MAY_APPLY)
    box = _html(client.get(reverse("appeals:denial_box", args=[team_a[0].pk]), **HX))
    assert "redetermination" in box and "clerical-error reopening" in box
    reopening = re.search(r'<form[^>]*>(?:(?!</form>).)*value="reopening".*?</form>', box, re.S).group(0)
    assert "what this payer takes here" in reopening and "missing modifier" in reopening
    other = _html(client.get(reverse("appeals:denial_box", args=[team_a[1].pk]), **HX))
    redetermination = re.search(r'<form[^>]*>(?:(?!</form>).)*value="redetermination".*?</form>', other, re.S)
    assert "what this payer takes here" in redetermination.group(0)
    client.post(reverse("appeals:denial_start", args=[team_a[0].pk]), {"level": "reopening"})
    assert Appeal.objects.get().level == v.LEVEL_REOPENING


# --- The appeal page --------------------------------------------------------------------------------
def test_the_appeal_page_shows_claim_payer_ladder_lines_and_deadline(three, coder, client_for):
    html = _html(client_for(coder).get(reverse("appeals:detail", args=[three["a2"].pk])))
    assert "MIXEDPCN8103A" in html and "$250.00" in html
    assert "and not sent:" in html and "2 days late" in html  # in words, not colour alone
    assert "First-level appeal" in html and "this appeal" in html and "Second-level appeal" in html
    assert "No appeal address on file" in html  # missing, never invented
    assert "Appeal news" not in html


def test_ready_then_submitted_through_the_page_then_the_decision(team_a, coder, client_for):
    client = client_for(coder)
    appeal = services.appeal_create(denials=[team_a[0]], actor=coder)
    url = reverse("appeals:status", args=[appeal.pk])
    ready = client.post(url, {"status": "ready", "version": appeal.version}, **HX)
    assert ready.status_code == 200 and "Now ready to send." in _html(ready)
    assert '<nav class="nav"' not in _html(ready)  # the body only, swapped in place
    appeal.refresh_from_db()
    assert appeal.status == "ready"
    sent = client.post(
        reverse("appeals:submit", args=[appeal.pk]),
        {"submitted_on": "2026-11-20", "method": "portal", "payer_reference": "REF-1", "version": appeal.version},
    )
    assert sent.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.submitted_on, appeal.method, appeal.payer_reference) == (
        "submitted",
        dt.date(2026, 11, 20),
        "portal",
        "REF-1",
    )
    decided = client.post(
        reverse("appeals:decide", args=[appeal.pk]),
        {"outcome": "overturned", "amount_recovered": "100.00", "decided_on": "2026-11-25", "version": appeal.version},
        **HX,
    )
    assert "Decision recorded: Overturned (paid)." in _html(decided)
    appeal.refresh_from_db()
    team_a[0].refresh_from_db()
    assert appeal.outcome == "overturned" and team_a[0].status == "resolved"
    history = _html(client.get(reverse("appeals:detail", args=[appeal.pk])))
    assert "marked it ready to send" in history and "Status: Ready to send → Submitted" in history


def test_withdrawing_sends_the_denials_back_to_work(team_a, coder, client_for):
    client = client_for(coder)
    appeal = services.appeal_create(denials=team_a, actor=coder)
    assert set(Denial.objects.filter(pk__in=[d.pk for d in team_a]).values_list("status", flat=True)) == {"appealed"}
    client.post(reverse("appeals:status", args=[appeal.pk]), {"status": "withdrawn", "version": appeal.version})
    appeal.refresh_from_db()
    assert appeal.status == "withdrawn"
    assert set(Denial.objects.filter(pk__in=[d.pk for d in team_a]).values_list("status", flat=True)) == {"open"}


def test_an_illegal_transition_is_refused_in_words_and_saves_nothing(team_a, coder, client_for):
    appeal = services.appeal_create(denials=[team_a[0]], actor=coder)
    response = client_for(coder).post(
        reverse("appeals:status", args=[appeal.pk]), {"status": "decided", "version": appeal.version}
    )
    assert response.status_code == 400
    assert "A draft appeal cannot become decided" in _html(response)
    appeal.refresh_from_db()
    assert appeal.status == "draft" and appeal.version == 1


def test_a_stale_version_shows_the_conflict_and_saves_nothing(team_a, coder, teammate, client_for):
    appeal = services.appeal_create(denials=[team_a[0]], actor=coder)
    seen = appeal.version
    _ready(appeal, teammate)  # someone else got there first
    client = client_for(coder)
    response = client.post(reverse("appeals:status", args=[appeal.pk]), {"status": "withdrawn", "version": seen})
    assert response.status_code == 409
    html = _html(response)
    assert "Not saved." in html and "changed by someone else" in html
    assert "marked it ready to send" in html and "Draft" in html and "Ready to send" in html
    assert f'name="version" value="{seen + 1}"' in html  # the forms now carry the current version
    htmx = client.post(reverse("appeals:status", args=[appeal.pk]), {"status": "withdrawn", "version": seen}, **HX)
    assert htmx.status_code == 200 and "Not saved." in _html(htmx)
    appeal.refresh_from_db()
    assert appeal.status == "ready"


def test_a_form_without_the_version_is_refused_in_words(team_a, coder, client_for):
    appeal = services.appeal_create(denials=[team_a[0]], actor=coder)
    response = client_for(coder).post(reverse("appeals:status", args=[appeal.pk]), {"status": "ready"})
    assert response.status_code == 400 and "missing the appeal's version" in _html(response)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"outcome": ""}, "Choose the payer's decision."),
        ({"outcome": "overturned", "amount_recovered": "lots"}, "Enter an amount of money"),
        ({"outcome": "overturned", "amount_recovered": "-5"}, "it cannot be negative"),
        ({"outcome": "partially-paid", "amount_recovered": "150.00"}, "is more than the 100.00 at stake"),
        ({"outcome": "upheld", "amount_recovered": "10"}, "recovers nothing"),
        ({"outcome": "upheld", "decided_on": "2020-01-01"}, "is before the appeal was submitted"),
        ({"outcome": "upheld", "decided_on": "someday"}, "Enter the date as YYYY-MM-DD."),
    ],
)
def test_decision_errors_are_shown_beside_the_field_in_words(team_a, coder, client_for, data, words):
    appeal = _submitted(services.appeal_create(denials=[team_a[0]], actor=coder), coder)
    response = client_for(coder).post(reverse("appeals:decide", args=[appeal.pk]), {**data, "version": appeal.version})
    assert response.status_code == 400
    html = _html(response)
    assert words in html
    assert re.search(r'class="field field-error">\s*<label for="decide-', html)  # next to its field
    appeal.refresh_from_db()
    assert appeal.status == "submitted" and appeal.outcome == ""


def test_submit_needs_a_date_and_a_method_in_words(team_a, coder, client_for):
    appeal = _ready(services.appeal_create(denials=[team_a[0]], actor=coder), coder)
    response = client_for(coder).post(reverse("appeals:submit", args=[appeal.pk]), {"version": appeal.version})
    html = _html(response)
    assert response.status_code == 400
    assert "Say when the appeal was sent." in html and "Say how the appeal was sent" in html
    appeal.refresh_from_db()
    assert appeal.status == "ready"


def test_appeal_the_decision_at_the_next_level(team_a, coder, client_for):
    client = client_for(coder)
    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    appeal = services.appeal_update(
        appeal=appeal, expected_version=appeal.version, actor=coder, status="decided", outcome="upheld"
    )
    page = _html(client.get(reverse("appeals:detail", args=[appeal.pk])))
    assert "suggested next" in page and "Appeal the decision: Second-level appeal" in page
    response = client.post(reverse("appeals:next_level", args=[appeal.pk]), {"version": appeal.version})
    upper = Appeal.objects.get(previous=appeal)
    assert response.status_code == 302 and response["Location"] == reverse("appeals:detail", args=[upper.pk])
    assert upper.level == v.LEVEL_SECOND and upper.status == "draft"
    assert set(Denial.objects.filter(pk__in=[d.pk for d in team_a]).values_list("status", flat=True)) == {"appealed"}
    again = client.post(reverse("appeals:next_level", args=[appeal.pk]), {"version": appeal.version})
    assert again.status_code == 400 and "already appealed" in _html(again)
    assert Appeal.objects.filter(previous=appeal).count() == 1


def test_the_package_links_stay_hidden_until_their_urls_exist(team_a, coder, client_for):
    appeal = services.appeal_create(denials=[team_a[0]], actor=coder)
    html = _html(client_for(coder).get(reverse("appeals:detail", args=[appeal.pk])))
    from django.urls import NoReverseMatch

    try:
        package = reverse("appeals:package", args=[appeal.pk])
    except NoReverseMatch:
        assert "Package PDF" not in html
    else:
        assert package in html


def test_the_nav_links_to_appeals(coder, client_for):
    html = _html(client_for(coder).get(reverse("appeals:list")))
    assert f'<a href="{reverse("appeals:list")}" aria-current="page">Appeals</a>' in html


def test_a_decided_appeal_shows_the_next_levels_filing_deadline(team_a, coder, client_for):
    from appeals.selectors import appeal_page

    appeal = _submitted(services.appeal_create(denials=team_a, actor=coder), coder)
    decided = timezone.localdate()
    appeal = services.appeal_update(
        appeal=appeal,
        expected_version=appeal.version,
        actor=coder,
        status="decided",
        outcome="upheld",
        decided_on=decided,
    )
    due = appeal_page(appeal=appeal).next_level_due
    assert due is not None and due > decided
    page = _html(client_for(coder).get(reverse("appeals:detail", args=[appeal.pk])))
    assert f"File by {due:%Y-%m-%d}" in page
    assert "Second-level appeal: <strong>File by" in page
