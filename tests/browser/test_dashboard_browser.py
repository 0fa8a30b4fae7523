"""The managers' dashboard in a real browser: the page comes as a shell, each table arrives in a
request of its own (htmx, on load) and replaces its placeholder, and every chart is drawn from
the data block beside its table, with no script error. The screenshot goes to test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

from tests.test_analytics import rows  # noqa: F401  (the known set of rows the figures tests use)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def test_every_section_loads_in_place_and_every_chart_is_drawn(browser, live_server, rows, shot):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    section_requests: list[str] = []
    page.on("request", lambda request: section_requests.append(request.url) if "table=" in request.url else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", rows.manager.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/analytics/$"))  # a manager's home is the dashboard

    page.wait_for_function("() => document.querySelectorAll('.an-pending').length === 0", timeout=30_000)
    # One request per section, none twice, and each section now on the page under its own id.
    assert len(section_requests) == len(set(section_requests)) >= 10
    for url in section_requests:
        assert page.locator(f"section#{url.rsplit('table=', 1)[1]}").count() == 1, url
    charts = page.locator("canvas[data-chart]")
    assert charts.count() > 0
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => !!window.Chart.getChart(c))"
    )
    assert all(drawn), drawn
    # The figures themselves, from the rows the figures tests work out by hand.
    assert "17000" in page.locator("#appeal-success-edit").inner_text()
    assert page.locator("text=Counting…").count() == 0
    shot(page, "dashboard-1280", full_page=True)
    assert not problems, problems
    context.close()
