"""Issue 12, the coder's words (server side): plain words first, priority as words, the
corrected-claim modifier from the saved evidence, the claim page, history in words, our own
404 and 500 pages, and the admin saying how many open denials a change re-triaged."""

# The fixtures imported from test_worklist_views are redefined as test arguments, as pytest wants.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.urls import include, path, reverse

from denials import triage as t
from denials.models import AuditEvent, ClinicalDocument, Denial, Payer
from denials.modifiers import ANATOMIC, DISTINCT, GLOBAL_SURGERY, corrected_line_modifier, modifier_fit
from denials.plain_words import headline, priority_words
from denials.templatetags.overturn import audit_changes, units
from tests.test_worklist_views import NOTE, client_for, worked  # noqa: F401  (fixtures)

TODAY = dt.date(2026, 11, 29)
DOS = dt.date(2026, 9, 14)


# --- One short line first (pure) ------------------------------------------------------------
def _line(line_id: int, code: str, *mods: str) -> t.LineFacts:
    return t.LineFacts(line_id=line_id, procedure_code=code, modifiers=mods, service_date=DOS)


def _triage(*, group: str = "CO", carc: str = "97", rarcs=("M15",), denied=("11102",), other=("17000",), edits=()):
    facts = t.DenialFacts(
        group_code=group,
        carc=carc,
        rarcs=tuple(rarcs),
        amount=Decimal("400"),
        line=_line(1, *denied),
        other_lines=(_line(2, *other),),
    )
    return t.triage(facts=facts, rules=t.DEFAULT_CATEGORY_RULES, edits=edits), facts


def _ptp(indicator: str, *, deletion: dt.date | None = None, column1: str = "17000", column2: str = "11102"):
    return t.PtpEditFact(
        column1=column1,
        column2=column2,
        effective_date=dt.date(2020, 1, 1),
        deletion_date=deletion,
        modifier_indicator=indicator,
    )


def test_headline_of_a_bundled_line_with_indicator_1_says_which_modifier_and_when():
    result, facts = _triage(edits=[_ptp("1")])
    assert result.category == t.BUNDLING_MODIFIER_MAY_APPLY
    assert headline(result=result, facts=facts) == (
        "Bundled into 17000; modifier indicator 1: add XS, XE, XP or XU to 11102 "
        "if the note shows a distinct service, else write it off"
    )
    # Once a passage of kind "separate site" is saved, the line names its modifier.
    assert headline(result=result, facts=facts, suggested_modifier="XS") == (
        "Bundled into 17000; modifier indicator 1: add XS to 11102: the saved passage shows a separate site or structure"
    )


def test_headline_moves_a_modifier_billed_on_the_column_1_line():
    result, facts = _triage(edits=[_ptp("1")], other=("17000", "XS"))
    assert headline(result=result, facts=facts).endswith(
        "move XS from 17000 to 11102 if the note shows a separate site or structure"
    )


@pytest.mark.parametrize(
    ("group", "step"),
    [
        ("CO", "no modifier bypasses it, write it off"),
        ("PR", "no modifier bypasses it, bill the patient once verified"),
    ],
)
def test_headline_of_indicator_0_is_final(group, step):
    result, facts = _triage(group=group, edits=[_ptp("0")])
    assert headline(result=result, facts=facts) == f"Bundled into 17000; modifier indicator 0: {step}"


def test_headline_of_an_appealable_line_names_the_modifier_already_there():
    result, facts = _triage(denied=("11102", "XS"), edits=[_ptp("1")])
    assert headline(result=result, facts=facts) == (
        "Bundled into 17000 although 11102 carries XS; appeal with the passage that shows a distinct service"
    )


def test_headline_of_an_edit_deleted_before_the_date_of_service_cites_the_deletion():
    result, facts = _triage(edits=[_ptp("1", deletion=dt.date(2025, 12, 31))])
    assert result.category == t.BUNDLING_EDIT_NOT_IN_FORCE
    assert headline(result=result, facts=facts) == (
        "Bundled into 17000 on an edit not in force: NCCI edit 17000/11102 last applied on 2025-12-31, "
        "before the date of service; appeal, citing the deletion"
    )


def test_headline_without_a_ptp_pair_points_at_the_global_period():
    result, facts = _triage(edits=[])
    assert headline(result=result, facts=facts).startswith(
        "Bundled, with no NCCI pair on this claim: check the global period (24, 25, 57, 58, 78, 79)"
    )


def test_headline_of_a_claim_level_bundling_denial_says_no_pair_could_be_checked():
    facts = t.DenialFacts(group_code="CO", carc="97", rarcs=(), amount=Decimal("50"))
    result = t.triage(facts=facts, rules=t.DEFAULT_CATEGORY_RULES)
    assert headline(result=result, facts=facts).startswith(
        "Bundled at claim level, so no NCCI pair could be checked: check the global period"
    )


def test_headline_of_other_categories_is_the_gist_and_the_step():
    result, facts = _triage(carc="16", rarcs=())
    assert headline(result=result, facts=facts) == (
        "The payer needs information or documentation it did not get: send documentation"
    )


# --- Priority as words (pure) -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("priority", "expected", "due", "words"),
    [
        ("152.00", "95.00", 12, "High — $95 expected, due in 12 days"),
        ("40.00", "30.50", 45, "Medium — $30.50 expected, due in 45 days"),
        ("10.00", "10.00", 45, "Low — $10 expected, due in 45 days"),
        ("10.00", "10.00", 3, "High — $10 expected, due in 3 days"),  # lost unless worked now
        ("0.00", "0.00", 3, "Low — nothing expected to recover, due in 3 days"),
        ("0.00", "1300.00", -169, "Overdue — $1,300 expected, deadline passed 169 days ago"),
        ("300.00", "300.00", None, "High — $300 expected, no deadline known"),
        ("150.00", "75.00", 1, "High — $75 expected, due tomorrow"),
    ],
)
def test_priority_words(priority, expected, due, words):
    due_date = TODAY + dt.timedelta(days=due) if due is not None else None
    result = priority_words(
        priority=Decimal(priority), expected_recovery=Decimal(expected), due_date=due_date, today=TODAY
    )
    assert str(result) == words


# --- The modifier rule, one home (pure) ----------------------------------------------------------
def test_the_appeal_package_reads_the_modifier_rule_from_denials():
    from appeals import package

    assert package.corrected_line_modifier is corrected_line_modifier
    assert corrected_line_modifier(chosen="", evidence_kinds=["separate-site"]) == (
        "XS",
        "from the kind of the saved documentation passage",
    )


@pytest.mark.parametrize(
    ("code", "mods", "pair", "pair_mods", "open_groups"),
    [
        ("11102", (), "17000", (), {DISTINCT}),
        ("99213", (), "17000", (), {DISTINCT, GLOBAL_SURGERY}),  # 25 on an E/M code
        ("29877", (), "29881", ("LT",), {DISTINCT, ANATOMIC}),  # the pair names a side
        ("11102", ("RT",), "17000", (), {DISTINCT, ANATOMIC}),
    ],
)
def test_modifier_groups_open_only_when_they_fit_the_code(code, mods, pair, pair_mods, open_groups):
    fit = modifier_fit(code=code, modifiers=mods, pair_code=pair, pair_modifiers=pair_mods)
    assert fit.open_groups == open_groups


def test_a_bundled_line_without_a_ptp_pair_opens_the_global_surgery_group():
    fit = modifier_fit(code="11102", no_ptp_pair=True)
    assert fit.open_groups == {DISTINCT, GLOBAL_SURGERY}


@pytest.mark.parametrize(
    ("value", "shown"), [(Decimal("1.000"), "1"), (Decimal("12.000"), "12"), (Decimal("0.500"), "0.5"), (None, "")]
)
def test_units_are_whole_numbers_unless_really_fractional(value, shown):
    assert units(value) == shown


# --- The denial page ---------------------------------------------------------------------------
def _bundled(worked) -> Denial:
    return worked["11102"]


def _page(client, denial: Denial) -> str:
    response = client.get(reverse("denials:denial_detail", args=[denial.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_denial_page_starts_with_one_line_and_folds_the_payer_text(worked, coder, client_for):
    html = _page(client_for(coder), _bundled(worked))
    line = re.search(r'<p class="denial-headline"[^>]*>([^<]*)</p>', html)
    assert line is not None
    assert line.group(1) == (
        "Bundled into 17000; modifier indicator 1: add XS, XE, XP or XU to 11102 "
        "if the note shows a distinct service, else write it off"
    )
    folded = html.index('<details class="denial-meaning payer-text">')
    assert html.index('class="denial-headline"') < folded
    # The payer's codes with our words then the official text are inside the fold.
    assert html.index("M15</strong>:", folded) > folded


@pytest.mark.django_db
def test_explanation_follows_an_edited_code_summary_even_on_a_worked_denial(worked, coder, client_for):
    from denials import services
    from ncci.models import Carc

    denial = _bundled(worked)
    services.denial_assign(denial=denial, assignee=coder, actor=coder, expected_version=denial.version)
    Carc.objects.filter(code="97").update(summary="Bundled: our newly edited words for 97.")
    denial.refresh_from_db()
    assert "our newly edited words" not in denial.explanation  # the stored text is triage's moment
    html = _page(client_for(coder), denial)
    explanation = re.search(r'<p class="explanation">(.*?)</p>', html, re.S)
    assert explanation is not None
    assert "Payer reason 97: &quot;Bundled: our newly edited words for 97.&quot;" in explanation.group(1)
    assert "NCCI edit 17000/11102 (modifier indicator 1" in explanation.group(1)


@pytest.mark.django_db
def test_denial_page_shows_priority_as_words_not_a_score(worked, coder, client_for):
    denial = _bundled(worked)
    html = _page(client_for(coder), denial)
    words = priority_words(
        priority=denial.priority,
        expected_recovery=denial.expected_recovery,
        due_date=denial.due_date,
        today=dt.date.today(),
    )
    assert f"<strong>{words.level}</strong> — {words.detail}" in html
    assert "expected" in words.detail
    assert f">{denial.priority:.2f}<" not in html


def _radio(html: str, denial: Denial, code: str) -> str:
    match = re.search(rf'<input type="radio" id="outcome-modifier-{denial.pk}-{code}"[^>]*>', html)
    assert match is not None, code
    return match.group(0)


@pytest.mark.django_db
def test_corrected_claim_modifier_is_prefilled_from_the_saved_evidence_kind(worked, coder, client_for):
    from denials import services

    denial = _bundled(worked)
    client = client_for(coder)
    html = _page(client, denial)
    assert "checked" in _radio(html, denial, "none")  # nothing saved, nothing invented
    assert "checked" not in _radio(html, denial, "XS")
    document = ClinicalDocument.objects.create(
        claim=denial.claim, title="Op note", original_name="n.txt", kind="text", content=NOTE.encode(),
        sha256="n", text=NOTE, uploaded_by=coder,
    )  # fmt: skip
    start = NOTE.index("A separate lesion")
    services.evidence_save(
        denial=denial, document=document, start=start, end=start + 40, kind="separate-site", actor=coder
    )
    html = _page(client, denial)
    assert "checked" in _radio(html, denial, "XS") and "data-prefilled" in _radio(html, denial, "XS")
    assert "checked" not in _radio(html, denial, "none")
    assert "add XS to 11102: the saved passage shows a separate site or structure" in html
    # X modifiers first and open; anatomic and global surgery folded for 11102 with 17000.
    assert html.index(f"outcome-modifier-{denial.pk}-XS") < html.index(f"outcome-modifier-{denial.pk}-LT")
    folded = {summary.strip(): bool(is_open) for is_open, summary in re.findall(
        r'<details class="modifier-group"( open)?>\s*<summary>([A-Za-z ]+?) ?\(', html)}  # fmt: skip
    assert folded == {"Anatomic": False, "Global surgery": False}
    # A choice the coder made wins over the evidence.
    services.denial_record_outcome(
        denial=denial, action="corrected-claim", actor=coder, expected_version=denial.version, modifier="XU"
    )
    denial.refresh_from_db()
    assert "checked" in _radio(_page(client, denial), denial, "XU")


@pytest.mark.django_db
def test_outcome_form_posts_the_radio_modifier(worked, coder, client_for):
    denial = _bundled(worked)
    response = client_for(coder).post(
        reverse("denials:denial_outcome", args=[denial.pk]),
        {"version": denial.version, "action": "corrected-claim", "modifier": "XS", "reason": ""},
    )
    assert response.status_code == 302
    denial.refresh_from_db()
    assert (denial.status, denial.chosen_modifier) == ("corrected", "XS")


# --- History in words ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_activity_reads_as_words_never_as_dicts(worked, coder, client_for):
    from denials import services

    denial = _bundled(worked)
    services.denial_record_outcome(
        denial=denial, action="corrected-claim", actor=coder, expected_version=denial.version, modifier="XS"
    )
    html = _page(client_for(coder), denial)
    activity = html[html.index('id="sec-activity"') :]
    assert "Status: Open → Corrected claim" in activity
    assert "Modifier: — → XS" in activity
    assert "Category: — → Bundling: modifier may apply" in activity  # the triage row
    assert "Queue: — → Team queue" in activity
    assert "{&#x27;" not in activity and "{'" not in activity
    assert "assignee_id" not in activity and "chosen_modifier" not in activity


@pytest.mark.django_db
def test_audit_changes_of_a_file_event_names_labels_not_keys(worked):
    from denials.models import RemittanceFile

    event = AuditEvent.objects.filter(action="remittance_file.received").first()
    assert event is not None
    changes = audit_changes(event)
    labels = {label for label, _old, _new in changes}
    assert "Status" in labels and "sha256" not in labels and "Sha256" not in labels
    status = next(new for label, _old, new in changes if label == "Status")
    assert status in dict(RemittanceFile.Status.choices).values()


@pytest.mark.django_db
def test_admin_audit_trail_shows_changes_in_words(worked, admin_client_):
    html = admin_client_.get(reverse("admin:denials_auditevent_changelist") + "?action=denial.triaged").content
    text = html.decode()
    assert "Category: — → Bundling: modifier may apply" in text
    assert "{&#x27;category" not in text


@pytest.mark.django_db
def test_admin_history_shows_choice_labels(admin_client_):
    from ncci.models import Modifier

    modifier = Modifier.objects.create(code="ZZ", description="Test", bypass_group="none")
    data = {k: ("" if v is None else v) for k, v in model_to_dict(modifier).items()}
    data["bypass_group"] = "anatomic"
    response = admin_client_.post(reverse("admin:ncci_modifier_change", args=[modifier.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    html = admin_client_.get(reverse("admin:ncci_modifier_history", args=[modifier.pk])).content.decode()
    assert "Not an NCCI bypass modifier" in html and "Anatomic (LT, RT" in html
    assert "&nbsp;&rarr;&nbsp;&nbsp;anatomic" not in html


# --- The claim page -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_claim_page_links_each_denial_with_words_and_whole_units(worked, coder, client_for):
    denial = _bundled(worked)
    html = client_for(coder).get(reverse("denials:claim_detail", args=[denial.claim_id])).content.decode()
    link = reverse("denials:denial_detail", args=[denial.pk])
    assert html.count(f'href="{link}"') >= 2  # from its line and from the denials table
    assert f"Denial #{denial.pk}" in html
    assert ".000" not in html  # units 1, never 1.000
    assert re.search(r'<td class="num">1</td>', html)
    assert "Send a corrected claim" in html  # the next step, in words
    assert "expected" in html  # the priority, in words


@pytest.mark.django_db
def test_claim_page_names_modifiers_in_words(adjustment_rules, code_lists, team, team_queue, ingest, coder, client):
    from ncci.models import Modifier
    from tests.test_triage_pipeline import remit

    Modifier.objects.update_or_create(code="LT", defaults={"description": "Left side", "bypass_group": "anatomic"})
    ingest(remit([("20610", "LT", "300", "0", "CO*97*300")]))
    denial = Denial.objects.get()
    client.force_login(coder)
    html = client.get(reverse("denials:claim_detail", args=[denial.claim_id])).content.decode()
    assert 'title="LT: Left side"' in html


# --- 404 and 500 are ours ----------------------------------------------------------------------------
def _boom(request: HttpRequest):
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [path("boom/", _boom), path("", include("config.urls"))]


@pytest.mark.django_db
def test_unknown_url_answers_our_404_page(coder, client, settings):
    settings.DEBUG = False
    client.force_login(coder)
    response = client.get("/no-such-page/anywhere/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We can&#x27;t find that page" in html or "We can't find that page" in html
    assert "Overturn" in html and "Page not found at" not in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_server_error_answers_our_500_page_without_leaking(coder, client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(coder)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "hunter2" not in html and "RuntimeError" not in html and "Traceback" not in html


# --- The admin says how many open denials a change re-triaged -------------------------------------------
def _admin_post(client, url_name: str, obj, **changes):
    data = {k: ("" if v is None else v) for k, v in model_to_dict(obj).items()}
    data.update(changes)
    response = client.post(reverse(url_name, args=[obj.pk]), data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db
def test_category_rule_change_reports_the_open_denials_re_triaged(worked, admin_client_):
    from denials.models import CategoryRule

    rule = CategoryRule.objects.get(carc="97", group_code="", rarc="", payer=None)
    messages = _admin_post(admin_client_, "admin:denials_categoryrule_change", rule, category="medical-necessity")
    # Both CO-97 lines are open and not worked: both re-triaged, both changed category.
    assert any("2 open denials were re-triaged; 2 changed category, queue or next step." in m for m in messages)
    assert set(Denial.objects.filter(carc="97").values_list("category", flat=True)) == {"medical-necessity"}


@pytest.mark.django_db
def test_payer_change_reports_the_count_and_a_payer_without_denials_says_none(worked, admin_client_):
    payer = Payer.objects.get()
    messages = _admin_post(admin_client_, "admin:denials_payer_change", payer, appeal_window_days=30, kind="medicare")
    assert any("3 open denials were re-triaged" in m for m in messages)
    due = set(Denial.objects.values_list("due_date", flat=True))
    assert due == {dt.date(2026, 10, 31)}  # 2026-10-01 + 30 days
    lonely = Payer.objects.create(payer_key="NONE", name="No denials")
    messages = _admin_post(admin_client_, "admin:denials_payer_change", lonely, appeal_window_days=60)
    assert any("No open denial was affected." in m for m in messages)


@pytest.mark.django_db
def test_code_summary_change_re_triages_the_open_denials_quoting_it(worked, admin_client_):
    from ncci.models import Carc

    carc = Carc.objects.get(code="97")
    messages = _admin_post(admin_client_, "admin:ncci_carc_change", carc, summary="Our new words for 97.")
    assert any("2 open denials were re-triaged; none changed category, queue or next step." in m for m in messages)
    assert all("Our new words for 97." in d.explanation for d in Denial.objects.filter(carc="97"))


# --- The import pages share one upload card ---------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("name", ["ncci:import", "ncci:code_import"])
def test_import_pages_share_the_upload_card(admin_client_, name):
    response = admin_client_.get(reverse(name))
    assert response.status_code == 200
    assert "ncci/upload_card.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert f'action="{reverse(name)}"' in html and "Upload and import" in html


@pytest.mark.django_db
def test_deleting_a_queue_rule_reports_the_denials_it_routed(worked, admin_client_):
    from denials.models import QueueRule

    rule = QueueRule.objects.get(category="")
    response = admin_client_.post(
        reverse("admin:denials_queuerule_delete", args=[rule.pk]), {"post": "yes"}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("3 open denials were re-triaged; 3 changed category, queue or next step." in m for m in messages)
    assert not Denial.objects.filter(queue__isnull=False).exists()


def test_priority_words_short_form_for_a_dense_row():
    from types import SimpleNamespace

    from django.template import Context, Template

    denial = SimpleNamespace(
        priority=Decimal("152"), expected_recovery=Decimal("95"), due_date=dt.date.today() + dt.timedelta(days=12)
    )
    html = Template("{% load overturn %}{% priority_words d short=True %}").render(Context({"d": denial}))
    assert "<strong>High</strong> · $95</span>" in html
    assert 'title="High — $95 expected, due in 12 days (priority score 152.00)"' in html


@pytest.mark.parametrize("module", ["denials.plain_words", "denials.modifiers"])
def test_the_new_word_rules_are_pure_cores(module):
    import subprocess
    import sys

    from tests.unit.test_pure_cores import _IMPORT_WITH_DJANGO_BLOCKED, ROOT

    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_WITH_DJANGO_BLOCKED, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"


@pytest.mark.django_db
def test_a_change_wider_than_the_limit_is_left_to_the_background(
    worked,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from denials.services import retriage_report

    monkeypatch.setattr(retriage_report, "RETRIAGE_NOW_LIMIT", 2)
    before = list(Denial.objects.order_by("pk").values_list("triaged_at", flat=True))
    with django_capture_on_commit_callbacks() as queued:
        report = retriage_report.open_denials_retriage(scope=retriage_report.EVERYTHING)
    assert report.deferred and report.message == (
        "More than 2 open denials may be affected: they are being re-triaged in the background."
    )
    assert len(queued) == 1  # the background re-triage, after commit
    assert list(Denial.objects.order_by("pk").values_list("triaged_at", flat=True)) == before  # nothing now


def test_file_page_history_reads_as_words_not_dicts(ingest, sample_bytes, admin_user, client):
    file = ingest(sample_bytes("edi835parser__emedny_sample.txt"))
    client.force_login(admin_user)
    page = client.get(reverse("denials:file_detail", args=[file.pk])).content.decode()
    history = page[page.index("<table", page.rindex("History") if "History" in page else 0) :]
    assert "received the file" in history
    assert "Status:" in history
    assert "{'" not in history and "sha256" not in history
