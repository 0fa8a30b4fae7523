"""The Content-Security-Policy in a real browser: the pages still work and nothing is refused.

Chromium reports every refused script, style or connection as a `securitypolicyviolation`
event (and a console error); the listener is installed through Playwright, outside the page,
so the policy does not stop it.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from denials.models import RemittanceFile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def _violations(page) -> list[str]:
    return page.evaluate("() => window.__cspViolations")


def _sign_in(page, base: str, username: str, password: str = PASSWORD):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_pages_work_under_the_policy_with_no_violation(browser, live_server, coder, shot):
    from denials.services import remittance_file_receive

    # A file still being processed: its row polls with htmx and shows a progress bar (style="--pct").
    processing = remittance_file_receive(
        name="big.835", content=b"ISA*00*still arriving", source="upload", uploaded_by=coder, queue=False
    )
    RemittanceFile.objects.filter(pk=processing.pk).update(
        status="processing", transactions_total=5, transactions_done=2
    )

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    response = page.goto(f"{live_server.url}{reverse('login')}")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    _sign_in(page, live_server.url, coder.username)

    for path in (
        reverse("denials:worklist"),
        reverse("denials:claim_list"),
        reverse("denials:file_list"),
        reverse("ncci:search"),
        reverse("ncci:scrub"),
        reverse("password_change"),
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        assert _violations(page) == [], path

    # The progress bar took its width from the style attribute (allowed by style-src-attr only).
    page.goto(f"{live_server.url}{reverse('denials:file_list')}")
    bar = page.locator(".progress").first
    bar.wait_for()
    assert bar.evaluate("(el) => getComputedStyle(el).getPropertyValue('--pct').trim()") == "40%"
    # htmx runs (the row polls): its script loaded and its indicator style was not injected inline.
    page.wait_for_function("() => window.htmx !== undefined")
    assert _violations(page) == []
    shot(page, "security-1-file-list-under-csp")
    assert problems == [], problems
    context.close()


def test_the_api_docs_page_renders_from_vendored_files_under_the_policy(browser, live_server, coder, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = _watch(page)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith(live_server.url) and not r.url.startswith("data:") else None
        ),
    )
    _sign_in(page, live_server.url, coder.username)
    page.goto(f"{live_server.url}/api/schema/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Overturn API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock-tag-section")
    assert page.locator("text=/api/claims/").count() >= 1
    shot(page, "security-2-api-docs")
    assert outside == []  # no CDN
    assert _violations(page) == []
    assert problems == [], problems
    context.close()


def test_too_many_wrong_passwords_show_the_locked_out_page(browser, live_server, coder, settings, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(page, live_server.url, coder.username, f"wrong-{attempt}")
    _sign_in(page, live_server.url, coder.username)  # the right one, too late
    assert page.locator("h1").inner_text() == "Sign-in locked"
    assert re.search(r"Try again in", page.locator("main").inner_text())
    shot(page, "security-3-locked-out")
    context.close()
