"""The coder's worklist in a real browser: filter, open, upload, highlight, decide, conflict.

Screenshots go to test-artifacts/ (gitignored) so a person can look at the pages.
"""

from __future__ import annotations

import re

import pytest

from denials.models import Denial

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
NOTE = """OPERATIVE NOTE — DERMATOLOGY
Date of service: 09/14/2026

Procedure 1 (CPT 17000): Destruction of a premalignant lesion (actinic keratosis),
left dorsal forearm, by cryosurgery. One lesion treated.

Procedure 2 (CPT 11102): Tangential biopsy of a separate 6 mm pigmented lesion on the
right posterior scalp. The scalp lesion is anatomically separate from the forearm
treatment site and was sampled through a separate incision with its own preparation.

Specimen to pathology. Hemostasis with aluminum chloride. Tolerated well.
"""
PASSAGE = "The scalp lesion is anatomically separate from the forearm\ntreatment site"


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/worklist/$"))


def _console(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "favicon" not in msg.text and "404" not in msg.text
            else None
        ),
    )
    return problems


def _select_text(page, text: str) -> None:
    """Select a passage of the document the way a mouse drag would: a Range over the text nodes."""
    page.evaluate(
        """(text) => {
            const pre = document.querySelector("pre.doc-text");
            const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
            const nodes = []; let node; let full = "";
            while ((node = walker.nextNode())) { nodes.push([node, full.length]); full += node.data; }
            const start = full.indexOf(text), end = start + text.length;
            const at = (offset) => {
                for (const [n, base] of nodes) { if (offset <= base + n.data.length) return [n, offset - base]; }
            };
            const range = document.createRange();
            range.setStart(...at(start)); range.setEnd(...at(end));
            const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
        }""",
        text,
    )


def test_coder_filters_opens_documents_highlights_and_decides(browser, live_server, team_work, coder, shot, tmp_path):
    denial = team_work["denial"]
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    problems = _console(page)
    _login(page, live_server.url, coder.username)
    assert page.locator("#wl-heading").inner_text() == "My work"
    shot(page, "worklist-1-my-work-empty")

    # A team queue, then a filter: the rows swap in place and the URL keeps the filter.
    page.click(".queue-tabs a:has-text('Bundling and NCCI')")
    page.wait_for_url(re.compile(rf".*queue={team_work['bundling'].pk}"))
    assert page.locator("#wl-heading").inner_text() == "Bundling and NCCI"
    before = page.locator("[data-rows] tr[data-row]").count()
    assert before >= 3
    shot(page, "worklist-2-bundling-queue")
    page.select_option("#id_category", "bundling-modifier-may-apply")
    page.wait_for_url(re.compile(r".*category=bundling-modifier-may-apply"))
    # Predicates are functions, not expressions: Playwright eval()s an expression inside the page,
    # which the Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    page.wait_for_function(f"() => document.querySelectorAll('[data-rows] tr[data-row]').length < {before}")
    categories = page.locator("[data-rows] tr[data-row] .wl-cat .tag").all_inner_texts()
    assert categories and all("modifier may apply" in c for c in categories)
    assert "&payer=" not in page.url  # empty filters stay out of the URL

    # Keyboard: j/k walk the rows, Enter opens the denial in the right pane and puts it in the
    # worklist's URL (so Back and reload come back to both panes: tests/browser/test_flow_browser.py).
    row = page.locator(f'tr[data-row="{denial.pk}"]')
    index = page.locator("[data-rows] tr[data-row]").evaluate_all(
        "(rows, id) => rows.findIndex(r => r.dataset.row === String(id))", denial.pk
    )
    page.locator("body").click(position={"x": 5, "y": 500})
    for _ in range(index + 1):
        page.keyboard.press("j")
    assert "is-current" in row.get_attribute("class")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/worklist/\?.*category=bundling-modifier-may-apply.*&denial={denial.pk}$"))
    page.wait_for_selector(f'#denial-pane article[data-denial-id="{denial.pk}"]')
    assert "is-open" in row.get_attribute("class")
    pane = page.locator("#denial-pane")
    assert "17000" in pane.locator("[data-headline]").inner_text()
    assert "payable with a modifier when documentation supports a distinct service" in pane.inner_text()
    shot(page, "worklist-3-denial-open")

    # "a": assign to me, answered in place.
    page.keyboard.press("a")
    page.wait_for_selector("#denial-pane .saved-note:has-text('Assigned to you')")
    assert page.locator("#denial-pane .badge-status-in-progress").count() == 1

    # Upload the operative note; it shows in the page as text.
    note = tmp_path / "op-note.txt"
    note.write_text(NOTE, encoding="utf-8")
    page.set_input_files("#denial-pane [data-doc-upload]", str(note))
    page.fill(f"#doc-title-{denial.pk}", "Operative note 2026-09-14")
    page.click("#denial-pane .upload-doc button[type=submit]")
    page.wait_for_selector("#denial-pane pre.doc-text")
    assert "anatomically separate" in page.locator("pre.doc-text").inner_text()

    # What the passage shows (beside the document), then highlight it and press e: saved in one step.
    page.select_option("[data-evidence-kind]", "separate-site")
    _select_text(page, PASSAGE)
    page.wait_for_function("() => document.querySelector('[data-evidence-quote]').value.length > 0")
    page.keyboard.press("e")
    page.wait_for_selector("#denial-pane pre.doc-text mark.evidence")
    marked = " ".join(page.locator("pre.doc-text mark.evidence").all_inner_texts())
    assert " ".join(marked.split()) == " ".join(PASSAGE.split())
    evidence = denial.evidence.get()
    assert evidence.quote == PASSAGE and NOTE[evidence.start : evidence.end] == PASSAGE
    page.locator("#sec-docs").scroll_into_view_if_needed()
    shot(page, "worklist-4-evidence-saved")

    # "o": the outcome. Corrected claim with the XS modifier the passage supports.
    page.keyboard.press("Escape")
    page.locator("#denial-h").focus()
    page.keyboard.press("o")
    assert page.evaluate("document.activeElement.name") == "action"
    page.check("#denial-pane input[name=action][value=corrected-claim]")
    page.check(f"#outcome-modifier-{denial.pk}-XS")
    page.click("#outcome-form button[type=submit]")
    page.wait_for_selector("#denial-pane .saved-note:has-text('Saved: corrected claim')")
    shot(page, "worklist-5-outcome-saved")

    # The queue updates by itself: the corrected denial leaves the active list.
    row.wait_for(state="detached")
    denial.refresh_from_db()
    assert (denial.status, denial.chosen_modifier, denial.assignee_id) == ("corrected", "XS", coder.pk)
    shot(page, "worklist-6-queue-updated")

    # Refused: a bypass modifier on the indicator-0 edit, shown next to the modifier field.
    blocked = Denial.objects.get(ncci_column2="77003")
    page.goto(f"{live_server.url}/denials/{blocked.pk}/")
    page.check("input[name=action][value=corrected-claim]")
    page.check(f"#outcome-modifier-{blocked.pk}-59")
    page.click("#outcome-form button[type=submit]")
    error = page.locator(".field-modifier .errorlist")
    error.wait_for()
    assert "modifier indicator 0" in error.inner_text()
    page.locator("#sec-outcome").scroll_into_view_if_needed()
    shot(page, "worklist-7-indicator-0-refused")

    # The search travels in a POST body: the patient's name never reaches the URL.
    page.goto(f"{live_server.url}/worklist/?queue=all")
    page.keyboard.press("/")
    page.keyboard.type("doe jane")
    page.keyboard.press("Enter")
    page.wait_for_selector("#worklist-rows.wl-rows[data-search-mode]")
    assert "doe" not in page.url.lower() and "jane" not in page.url.lower()
    assert page.locator("[data-rows] tr[data-row]").count() == 2
    shot(page, "worklist-8-search")
    # A save from a search result refreshes the list and keeps the search (still in the POST body).
    page.click(f'tr[data-row="{blocked.pk}"] a[data-open]')
    page.wait_for_selector(f'#denial-pane article[data-denial-id="{blocked.pk}"]')
    page.fill(f"#note-{blocked.pk}", "Called the payer: indicator 0 confirmed, ref 5521")
    with page.expect_response(lambda r: r.url.endswith("/worklist/") and r.request.method == "POST"):
        page.click("#denial-pane .note-form button[type=submit]")
    page.wait_for_selector("#worklist-rows[data-search-mode]")
    assert page.locator("[data-rows] tr[data-row]").count() == 2
    assert "Called the payer" in page.locator("#sec-notes").inner_text()

    # "?" lists the keys.
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("?")
    help_text = page.locator("dialog.kbd-help").inner_text()
    for words in ("Assign the open denial to me", "Mark the outcome", "Save the selected passage", "Next row"):
        assert words in help_text
    shot(page, "worklist-9-keys")
    assert not problems, problems
    context.close()


def test_two_coders_on_one_denial_the_second_save_is_refused(browser, live_server, team_work, coder, teammate, shot):
    denial = team_work["denial"]
    first = browser.new_context(viewport={"width": 1366, "height": 860})
    second = browser.new_context(viewport={"width": 1366, "height": 860})
    page_a, page_b = first.new_page(), second.new_page()
    _login(page_a, live_server.url, coder.username)
    _login(page_b, live_server.url, teammate.username)
    for page in (page_a, page_b):
        page.goto(f"{live_server.url}/worklist/?queue={team_work['bundling'].pk}")
        page.click(f'tr[data-row="{denial.pk}"] a[data-open]')
        page.wait_for_selector(f'#denial-pane article[data-denial-id="{denial.pk}"]')

    page_a.check("#denial-pane input[name=action][value=write-off]")
    page_a.fill(f"#outcome-reason-{denial.pk}", "Documentation does not support a distinct service")
    page_a.click("#outcome-form button[type=submit]")
    page_a.wait_for_selector("#denial-pane .saved-note:has-text('Saved: write off')")

    # The second coder escalates the same denial from the page read before the write-off.
    page_b.check("#denial-pane input[name=action][value=escalate]")
    page_b.fill(f"#outcome-reason-{denial.pk}", "Needs the surgeon's view on the second site")
    page_b.click("#outcome-form button[type=submit]")
    conflict = page_b.locator("#denial-pane .conflict")
    conflict.wait_for()
    text = conflict.inner_text()
    assert "changed by someone else" in text and coder.username in text
    assert "Written off" in text  # what the other coder did
    assert page_b.locator("#denial-pane .denial-tags .badge-status-written-off").count() == 1
    shot(page_b, "worklist-10-conflict")
    denial.refresh_from_db()
    assert denial.status == "written-off"
    first.close()
    second.close()


def test_the_worklist_works_without_javascript(browser, live_server, team_work, coder, shot):
    denial = team_work["denial"]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    _login(page, live_server.url, coder.username)
    page.goto(f"{live_server.url}/worklist/?queue={team_work['bundling'].pk}")
    page.select_option("#id_category", "bundling-modifier-may-apply")
    page.click("#wl-filters button[type=submit]")
    assert "category=bundling-modifier-may-apply" in page.url
    page.click(f'tr[data-row="{denial.pk}"] a[data-open]')
    assert page.url == f"{live_server.url}/denials/{denial.pk}/"
    page.click("#denial-pane [data-key-assign]")
    assert page.url.startswith(f"{live_server.url}/denials/{denial.pk}/")
    assert "Assigned to you." in page.locator("#messages").inner_text()
    page.check("input[name=action][value=write-off]")
    page.click("#outcome-form button[type=submit]")
    assert "A write-off needs a reason." in page.locator(".field-reason").inner_text()
    shot(page, "worklist-11-no-javascript", full_page=True)
    context.close()
