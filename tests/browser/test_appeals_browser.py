"""Appeals in a real browser: open a denial, press Appeal, land on the appeal, mark it ready and
then submitted, each answered in place (htmx) without reloading the page.

Screenshots at 1280 px go to test-artifacts/ (and /tmp/shots/ when it exists) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from appeals.models import Appeal
from denials.models import Denial

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
SHOTS = Path("/tmp/shots")


@pytest.fixture
def level_rules(db):
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


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/worklist/$"))


def _save(shot, page, name: str) -> None:
    path = shot(page, name, full_page=True)
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)


def test_appeal_from_the_denial_page_then_ready_and_submitted_in_place(
    browser, live_server, level_rules, team_files, coder, shot
):
    from appeals import services

    denial = Denial.objects.filter(claim__remittance__file=team_files["A"]).order_by("pk").first()
    assert denial is not None
    # Another appeal of the team, overdue, so the list has more than one state to show.
    other = Denial.objects.filter(claim__patient_control_number="MIXEDPCN8103A").order_by("pk").first()
    overdue = services.appeal_create(denials=[other], actor=coder)
    Appeal.objects.filter(pk=overdue.pk).update(due_date=timezone.localdate() - dt.timedelta(days=3))
    Denial.objects.filter(pk=other.pk).update(amount=Decimal("1250.00"))

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    _login(page, live_server.url, coder.username)

    # The worklist's appeal tabs load their counts lazily.
    page.wait_for_selector("#appeal-tabs .qt-count")
    assert page.locator("#appeal-tabs a:has-text('Overdue') .qt-count").inner_text() == "1"
    # Another queue's tab swaps the list but keeps the appeal tabs already counted (hx-preserve):
    # no second request for their counts.
    tab_requests: list[str] = []
    page.on("request", lambda request: tab_requests.append(request.url) if "/appeals/tabs/" in request.url else None)
    page.evaluate("() => { window.listMarker = 'before the swap'; }")
    other_queue = page.locator("nav[aria-label=Queues] a:not([aria-current])").first
    with page.expect_response(lambda response: "queue=" in response.url):
        other_queue.click()
    page.wait_for_selector("nav[aria-label=Queues] a[aria-current]")
    assert page.evaluate("() => window.listMarker") == "before the swap"  # swapped in place, not reloaded
    assert page.locator("#appeal-tabs a:has-text('Overdue') .qt-count").inner_text() == "1"
    assert tab_requests == []

    # The denial page: the Appeal button loads into place; pressing it lands on the appeal.
    page.goto(f"{live_server.url}/denials/{denial.pk}/")
    button = page.locator(f"#appeal-box-{denial.pk} [data-appeal-start]")
    button.first.wait_for()
    _save(shot, page, "denial-appeal-box")
    button.first.click()
    page.wait_for_url(re.compile(r".*/appeals/\d+/$"))
    appeal = Appeal.objects.exclude(pk=overdue.pk).get()
    assert page.url.endswith(f"/appeals/{appeal.pk}/")
    assert denial.pk in list(appeal.denials.values_list("pk", flat=True))
    assert "Draft" in page.locator(".denial-tags").inner_text()

    # From here on, each save answers in place: a marker set on the window survives.
    page.evaluate("() => { window.appealMarker = 'still here'; }")
    page.click("button[data-status=ready]")
    page.wait_for_selector(".saved-note:has-text('Now ready to send')")
    page.fill("#submitted-on", timezone.localdate().isoformat())
    page.select_option("#submit-method", "portal")
    page.fill("#payer-reference", "PORTAL-7781")
    page.click("button[data-submit]")
    page.wait_for_selector(".saved-note:has-text('Submitted on')")
    assert page.evaluate("() => window.appealMarker") == "still here"
    appeal.refresh_from_db()
    assert (appeal.status, appeal.method, appeal.payer_reference) == ("submitted", "portal", "PORTAL-7781")
    assert page.locator("#decide-form").count() == 1
    _save(shot, page, "appeal-page-submitted")

    # The list, filtered to overdue through the form: rows swap in place, the URL keeps the filter.
    page.goto(f"{live_server.url}/appeals/")
    assert page.locator("tr[data-row]").count() == 2
    _save(shot, page, "appeals-list")
    page.check("input[name=overdue]")
    page.wait_for_url(re.compile(r".*overdue=true"))
    page.wait_for_function("() => document.querySelectorAll('tr[data-row]').length === 1")
    assert "3 d late" in page.locator("tr[data-row]").inner_text()
    page.goto(f"{live_server.url}/appeals/{overdue.pk}/")
    _save(shot, page, "appeal-page-overdue")
    assert not problems, problems
    context.close()
