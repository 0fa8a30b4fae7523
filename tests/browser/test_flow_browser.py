"""The coder's flow in a real browser (issue 12): the back button, the one-step evidence save,
one request per Apply or Search, the layout at 1024 and 1280 px, the prefilled modifier.

Screenshots go to test-artifacts/ (or $BROWSER_SHOTS) so a person can look at the pages.
"""

from __future__ import annotations

import re

import pytest

from denials.models import Denial, Evidence, Payer
from tests.browser.test_worklist_browser import NOTE, PASSAGE, PASSWORD, _console, _login, _select_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CATEGORY = "bundling-modifier-may-apply"
SECOND_PASSAGE = "Destruction of a premalignant lesion (actinic keratosis)"


def _open_worklist(page, base: str, team_work) -> None:
    page.goto(f"{base}/worklist/?queue={team_work['bundling'].pk}")
    page.wait_for_selector("[data-rows] tr[data-row]")


def _pane_shows(page, denial_id: int) -> None:
    page.wait_for_selector(f'#denial-pane article[data-denial-id="{denial_id}"]')
    page.wait_for_load_state("load")


def _settle(page) -> None:
    """Wait until htmx has nothing in flight or still to load (the appeal box and tabs load after
    the page), so the test ends with the server idle and its database can be flushed."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, [hx-trigger=\"load\"]')")


def _upload_note(page, denial_id: int, tmp_path) -> None:
    note = tmp_path / "op-note.txt"
    note.write_text(NOTE, encoding="utf-8")
    page.set_input_files("#denial-pane [data-doc-upload]", str(note))
    page.fill(f"#doc-title-{denial_id}", "Operative note 2026-09-14")
    page.click("#denial-pane .upload-doc button[type=submit]")
    page.wait_for_selector("#denial-pane pre.doc-text")


def _requests_to(page, path: str) -> list[tuple[str, str]]:
    """Every request the page sends to ``path`` from now on, as (method, url)."""
    seen: list[tuple[str, str]] = []
    page.on("request", lambda r: seen.append((r.method, r.url)) if r.url.split("?")[0].endswith(path) else None)
    return seen


def test_back_forward_and_reload_land_on_the_two_pane_worklist(browser, live_server, team_work, coder, shot):
    denial = team_work["denial"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _console(page)
    _login(page, live_server.url, coder.username)
    _open_worklist(page, live_server.url, team_work)
    page.select_option("#id_category", CATEGORY)
    page.wait_for_url(re.compile(rf".*category={CATEGORY}"))
    filtered = page.url
    assert "denial=" not in filtered

    # Opening a row keeps the worklist URL (filters and all) and adds the denial to it.
    page.click(f'tr[data-row="{denial.pk}"] a[data-open]')
    _pane_shows(page, denial.pk)
    page.wait_for_url(re.compile(rf".*/worklist/\?.*denial={denial.pk}$"))
    opened = page.url
    assert f"category={CATEGORY}" in opened and f"queue={team_work['bundling'].pk}" in opened

    # "a" then "n": the next denial opens, and the URL is still the worklist's.
    page.keyboard.press("a")
    page.wait_for_selector("#denial-pane .saved-note:has-text('Assigned to you')")
    page.keyboard.press("n")
    page.wait_for_selector(f'#denial-pane article[data-denial-id]:not([data-denial-id="{denial.pk}"])')
    # The URL and the pane are read together in the page: the worklist's URL names the denial
    # the pane shows (on a busy machine the pane's swap and the URL's update are separate steps).
    try:
        page.wait_for_function(
            """(first) => {
                const article = document.querySelector("#denial-pane article[data-denial-id]");
                return !!article && article.dataset.denialId !== first
                    && location.pathname.endsWith("/worklist/")
                    && new URLSearchParams(location.search).get("denial") === article.dataset.denialId
                    && location.search.endsWith("denial=" + article.dataset.denialId);
            }""",
            arg=str(denial.pk),
        )
    except Exception as exc:
        shown = page.get_attribute("#denial-pane article[data-denial-id]", "data-denial-id")
        raise AssertionError(f"after n the pane shows denial {shown} but the URL is {page.url}") from exc
    taken = int(page.get_attribute("#denial-pane article[data-denial-id]", "data-denial-id"))
    assert f"category={CATEGORY}" in page.url
    assert Denial.objects.get(pk=taken).assignee_id == coder.pk

    # Back: both panes, the same filters, the first denial open and its row marked.
    page.go_back()
    _pane_shows(page, denial.pk)
    assert page.url == opened
    assert page.locator("#worklist-list [data-rows]").count() == 1
    assert page.input_value("#id_category") == CATEGORY
    assert "is-open" in page.get_attribute(f'tr[data-row="{denial.pk}"]', "class")
    assert "17000" in page.locator("#denial-pane [data-headline]").inner_text()
    shot(page, "flow-1-back-to-the-worklist")

    # Back again: the filtered list with no denial open; Forward: the denial again.
    page.go_back()
    page.wait_for_selector("#denial-pane .pane-empty")
    assert page.url == filtered
    assert page.locator("#worklist-list [data-rows] tr[data-row]").count() >= 1
    page.go_forward()
    _pane_shows(page, denial.pk)
    assert page.url == opened

    # Reload, and a changed filter: the denial stays open and stays in the URL.
    page.reload()
    _pane_shows(page, denial.pk)
    page.select_option("#id_status", "all")
    page.wait_for_url(re.compile(r".*status=all.*"))
    assert f"denial={denial.pk}" in page.url
    page.reload()
    _pane_shows(page, denial.pk)
    assert page.input_value("#id_status") == "all"

    # Keyboard: j and Enter open a row the same way; the stand-alone page never shows up.
    page.locator("body").click(position={"x": 5, "y": 790})
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/worklist/\?.*denial=\d+$"))
    assert "/denials/" not in page.url
    opened_by_key = page.url.rsplit("denial=", 1)[1]
    _pane_shows(page, int(opened_by_key))
    assert not problems, problems
    _settle(page)
    context.close()


def test_a_denial_that_cannot_be_opened_leaves_the_worklist_usable(browser, live_server, team_work, coder):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _login(page, live_server.url, coder.username)
    page.goto(f"{live_server.url}/worklist/?denial=999999")
    assert "not one you can open" in page.locator("#denial-pane .pane-empty").inner_text()
    assert page.locator("#worklist-list").count() == 1
    _settle(page)
    context.close()


def test_e_saves_the_selected_passage_in_one_step(browser, live_server, team_work, coder, shot, tmp_path):
    denial = team_work["denial"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _console(page)
    _login(page, live_server.url, coder.username)
    _open_worklist(page, live_server.url, team_work)
    page.click(f'tr[data-row="{denial.pk}"] a[data-open]')
    _pane_shows(page, denial.pk)
    _upload_note(page, denial.pk, tmp_path)
    kind = page.locator("#denial-pane [data-evidence-kind]")
    default_kind = kind.input_value()
    assert default_kind, "the kind beside the document has a default"
    saves = _requests_to(page, f"/denials/{denial.pk}/evidence/")

    # Select, e: saved, highlighted, confirmed. No second key, no dialog, one request.
    _select_text(page, PASSAGE)
    page.keyboard.press("e")
    page.wait_for_selector("#denial-pane pre.doc-text mark.evidence")
    page.wait_for_selector("#denial-pane #sec-evidence .saved-note")
    assert saves == [("POST", f"{live_server.url}/denials/{denial.pk}/evidence/")]
    evidence = denial.evidence.get()
    assert evidence.quote == PASSAGE and evidence.kind == default_kind
    assert page.locator("dialog[open]").count() == 0
    label = dict(Evidence.Kind.choices)[default_kind]
    assert label in page.locator("#sec-evidence").inner_text()
    page.locator("#sec-docs").scroll_into_view_if_needed()
    shot(page, "flow-2-evidence-saved-with-e")

    # A kind picked beside the document first is the one saved with the next passage.
    page.select_option("#denial-pane [data-evidence-kind]", "separate-session")
    page.locator("#denial-h").focus()
    _select_text(page, SECOND_PASSAGE)
    page.keyboard.press("e")
    page.wait_for_function("() => document.querySelectorAll('#denial-pane pre.doc-text mark.evidence').length === 2")
    assert len(saves) == 2
    second = denial.evidence.exclude(pk=evidence.pk).get()
    assert (second.quote, second.kind) == (SECOND_PASSAGE, "separate-session")

    # With nothing selected, e says what to do instead of saving anything.
    page.evaluate("() => window.getSelection().removeAllRanges()")
    page.locator("#denial-h").focus()
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.name") == "quote"
    assert len(saves) == 2
    assert not problems, problems
    _settle(page)
    context.close()


def test_one_request_per_apply_and_per_search(browser, live_server, team_work, coder, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _login(page, live_server.url, coder.username)
    _open_worklist(page, live_server.url, team_work)
    sent = _requests_to(page, "/worklist/")

    # A typed filter, then Apply: leaving the field for the button must not send a request of its own.
    page.click(".more-filters summary")
    page.fill("#id_carc", "97")
    page.click("#wl-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*carc=97"))  # swapped and pushed: every request it took was sent
    assert [m for m, _ in sent] == ["GET"], sent

    # Enter in a typed filter: one request.
    sent.clear()
    page.fill("#id_rarc", "M15")
    page.press("#id_rarc", "Enter")
    page.wait_for_url(re.compile(r".*rarc=M15"))
    assert len(sent) == 1, sent

    # A pick list applies at once: one request.
    sent.clear()
    page.select_option("#id_status", "all")
    page.wait_for_url(re.compile(r".*status=all"))
    assert len(sent) == 1, sent
    # ...and Apply right after it has nothing left to apply: no request of its own. (The next
    # pick's request is sent after anything Apply would have sent, so counting after it is exact.)
    page.click("#wl-filters button[type=submit]")
    page.select_option("#id_assignee", "none")
    page.wait_for_url(re.compile(r".*assignee=none"))
    assert len(sent) == 2 and "assignee=none" in sent[1][1], sent

    # Search with the button, then with Enter: one POST each.
    for submit, words in (("click", "doe"), ("enter", "doe jane")):
        sent.clear()
        page.fill("#wl-search-input", words)
        with page.expect_response(lambda r: r.url.endswith("/worklist/") and r.request.method == "POST"):
            if submit == "click":
                page.click("#wl-search button[type=submit]")
            else:
                page.press("#wl-search-input", "Enter")
        page.wait_for_selector(f'#wl-search-page input[name=search][value="{words}"]', state="attached")
        assert sent == [("POST", f"{live_server.url}/worklist/")], (submit, sent)
    shot(page, "flow-3-search-one-request")

    # After a search, Apply brings the filtered list back (a request: the list shows something else).
    sent.clear()
    page.click("#wl-filters button[type=submit]")
    page.wait_for_selector("#worklist-rows:not([data-search-mode])")
    assert [m for m, _ in sent] == ["GET"], sent
    _settle(page)
    context.close()


# Bounding boxes and overflow, measured in the page. A function, not an expression: the
# Content-Security-Policy refuses eval.
LAYOUT_PROBLEMS = """() => {
    const problems = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1) {
        problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
    }
    const clips = (el) => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            const s = getComputedStyle(p);
            if (["auto", "scroll", "hidden", "clip"].includes(s.overflowX)) return true;
        }
        return false;
    };
    for (const el of document.querySelectorAll("body *")) {
        const r = el.getBoundingClientRect();
        if (!r.width || getComputedStyle(el).position === "fixed") continue;
        if (r.right > width + 1 && !clips(el)) problems.push(`wider than the window: ${el.tagName}.${el.className} ends at ${Math.round(r.right)}`);
    }
    // The two panes themselves never scroll sideways (a tab strip, the section bar or one
    // table inside them may): the rows' columns and the denial's content fit their pane.
    for (const id of ["worklist-rows", "denial-pane"]) {
        const pane = document.getElementById(id);
        if (pane && pane.scrollWidth > pane.clientWidth + 1) problems.push(`#${id} scrolls sideways: ${pane.scrollWidth} > ${pane.clientWidth}`);
    }
    const bars = [...document.querySelectorAll(".queue-tabs, .pane-nav, .nav")];
    for (const bar of bars) {
        const b = bar.getBoundingClientRect();
        const s = getComputedStyle(bar.querySelector("ul") || bar);
        if (bar.scrollWidth > bar.clientWidth + 1 && !["auto", "scroll"].includes(s.overflowX) && !["auto", "scroll"].includes(getComputedStyle(bar).overflowX)) {
            problems.push(`${bar.className} is cut off: ${bar.scrollWidth} > ${bar.clientWidth}`);
        }
        for (const h of document.querySelectorAll("h1, h2, h3, h4")) {
            if (bar.contains(h) || !h.getClientRects().length) continue;
            const r = h.getBoundingClientRect();
            const overlap = Math.min(b.bottom, r.bottom) - Math.max(b.top, r.top) > 1
                && Math.min(b.right, r.right) - Math.max(b.left, r.left) > 1;
            const onTop = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
            if (overlap && onTop && bar.contains(onTop)) problems.push(`${bar.className} covers the heading "${h.textContent.trim().slice(0, 30)}"`);
        }
    }
    return problems;
}"""

# After a jump to each section: its heading is below the sticky bars, not under them.
COVERED_HEADINGS = """() => {
    const covered = [];
    for (const link of document.querySelectorAll(".pane-nav a[href^='#']")) {
        const section = document.querySelector(link.getAttribute("href"));
        if (!section) continue;
        section.scrollIntoView({ block: "start" });
        const heading = section.querySelector("h3, h4") || section;
        const r = heading.getBoundingClientRect();
        const onTop = document.elementFromPoint(r.left + 6, r.top + Math.min(6, r.height / 2));
        if (!onTop || !heading.contains(onTop)) {
            covered.push(`${link.textContent.trim()}: ${onTop ? onTop.tagName + "." + onTop.className : "nothing"} is on top of the heading`);
        }
    }
    return covered;
}"""


def test_layout_at_1024_and_1280_px_tabs_and_section_bar_fit_and_cover_no_heading(
    browser, live_server, team_work, manager, shot
):
    denial = team_work["denial"]
    long_name = "Blue Cross Blue Shield of the Great Lakes Federal Employee Program"
    Payer.objects.filter(pk=denial.payer_id).update(name=long_name)
    manager.is_staff = True  # the longest menu: Dashboard and Admin too
    manager.save()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _console(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 768 if width == 1024 else 800})
        page.goto(f"{live_server.url}/worklist/?queue={team_work['bundling'].pk}&denial={denial.pk}")
        _pane_shows(page, denial.pk)
        page.wait_for_selector("#appeal-tabs:not([hx-trigger])", state="attached")
        layout = page.evaluate(LAYOUT_PROBLEMS)
        assert layout == [], (width, layout)
        shot(page, f"flow-4-worklist-{width}")
        covered = page.evaluate(COVERED_HEADINGS)
        assert covered == [], (width, covered)
        shot(page, f"flow-5-worklist-{width}-section-jump")

        # The payer's name (its own column at 1280, under the patient at 1024): cut short, in
        # full in its title (hover) and when it has focus.
        payer = page.locator(f'tr[data-row="{denial.pk}"] .payer-name:visible')
        assert payer.count() == 1, width
        assert payer.get_attribute("title") == long_name
        cut = payer.evaluate("(el) => el.scrollWidth > el.clientWidth")
        assert cut, "the long name is cut short in the list"
        payer.focus()
        assert page.evaluate("() => document.activeElement.classList.contains('payer-name')")
        full = payer.evaluate(
            "(el) => ({ scroll: el.scrollWidth, client: el.clientWidth, ws: getComputedStyle(el).whiteSpace })"
        )
        assert full["scroll"] <= full["client"] + 1 and full["ws"] != "nowrap", full
        shot(page, f"flow-6-payer-focused-{width}")

        # The stand-alone denial page: the site's sticky bar and the section bar, no heading under them.
        page.goto(f"{live_server.url}/denials/{denial.pk}/")
        page.wait_for_selector(".pane-nav")
        layout = page.evaluate(LAYOUT_PROBLEMS)
        assert layout == [], (width, layout)
        covered = page.evaluate(COVERED_HEADINGS)
        assert covered == [], (width, covered)
        shot(page, f"flow-7-denial-page-{width}-section-jump")
    assert not problems, problems
    _settle(page)
    context.close()


def test_the_corrected_claim_modifier_is_prefilled_from_the_saved_evidence(
    browser, live_server, team_work, coder, shot, tmp_path
):
    """The `words` helper builds the prefill on the denial page (issue 12): the modifier the
    saved evidence supports (separate site: XS) is chosen already, X-modifiers listed first."""
    denial = team_work["denial"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _login(page, live_server.url, coder.username)
    _open_worklist(page, live_server.url, team_work)
    page.click(f'tr[data-row="{denial.pk}"] a[data-open]')
    _pane_shows(page, denial.pk)
    _upload_note(page, denial.pk, tmp_path)
    page.select_option("#denial-pane [data-evidence-kind]", "separate-site")
    page.locator("#denial-h").focus()
    _select_text(page, PASSAGE)
    page.keyboard.press("e")
    page.wait_for_selector("#denial-pane pre.doc-text mark.evidence")

    # The pane came back with XS ticked (the kind's modifier), said in words, X-modifiers first.
    xs = page.locator(f"#outcome-modifier-{denial.pk}-XS")
    assert xs.is_checked() and xs.get_attribute("data-prefilled") is not None
    choices = page.locator(f"#outcome-modifier-{denial.pk} input[name=modifier]").evaluate_all(
        "(inputs) => inputs.map((i) => i.value).filter(Boolean)"
    )
    assert choices[:4] and set(choices[:4]) <= {"XS", "XE", "XP", "XU"}, choices
    assert "XS" in page.locator(f"#outcome-modifier-{denial.pk} .prefill-note").inner_text()
    assert "separate site" in page.locator("#denial-pane [data-headline]").inner_text()
    page.locator("#sec-outcome").scroll_into_view_if_needed()
    shot(page, "flow-8-modifier-prefilled")

    # Choosing corrected claim needs no modifier pick: saved with XS.
    page.check("#denial-pane input[name=action][value=corrected-claim]")
    page.click("#outcome-form button[type=submit]")
    page.wait_for_selector("#denial-pane .saved-note:has-text('Saved: corrected claim')")
    denial.refresh_from_db()
    assert denial.chosen_modifier == "XS"
    _settle(page)
    context.close()


def test_next_denial_refreshes_the_list_even_when_the_list_was_replaced_while_it_was_taken(
    browser, live_server, team_work, coder
):
    """Reproduces a CI failure: "n" was pressed while the list's refresh after a save was in
    flight. The refresh replaced the list, and with it the "Next denial" form, before the take
    answered; the answer's "denialChanged" then fired on a form no longer in the page, so the
    list was never refreshed after the take. Here the take is held until the list has been
    replaced, every time."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _console(page)
    _login(page, live_server.url, coder.username)
    _open_worklist(page, live_server.url, team_work)

    held = []
    page.route("**/denials/next/", lambda route: held.append(route))
    page.keyboard.press("n")
    for _ in range(100):  # Playwright hands over the held request while the page is waited on
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "pressing n sent no request to take the next denial"

    # While the take is held, the list is refreshed (as after a save) and replaced.
    page.evaluate("document.getElementById('worklist-list').dataset.before = 'refresh'")
    page.evaluate("htmx.trigger(document.body, 'denialChanged')")
    page.wait_for_function("() => !document.querySelector('#worklist-list[data-before]')")
    page.evaluate("document.getElementById('worklist-list').dataset.before = 'take'")

    held[0].continue_()
    page.wait_for_selector("#denial-pane article[data-denial-id]")
    taken = int(page.get_attribute("#denial-pane article[data-denial-id]", "data-denial-id"))
    assert Denial.objects.get(pk=taken).assignee_id == coder.pk
    # The take's answer refreshed the list: the list marked before it was answered is gone,
    # and the taken denial's row is the open one.
    try:
        page.wait_for_function("() => !document.querySelector('#worklist-list[data-before]')", timeout=10_000)
    except Exception as exc:
        raise AssertionError("after the take the list was not refreshed (denialChanged reached no one)") from exc
    page.wait_for_selector(f'tr[data-row="{taken}"].is-open')
    assert page.url.endswith(f"denial={taken}")
    assert not problems, problems
    context.close()
