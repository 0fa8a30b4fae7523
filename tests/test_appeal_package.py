"""The appeal package: its facts against the stored rows, the PDF's text (pypdf), the cover
letter's template choice, errors and sealed context, and the package pages and API
(200 for the team, 404 for another team, one AccessEvent per look)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import include, path
from pypdf import PdfReader
from rest_framework.test import APIClient

from appeals import letters, package_views, services
from appeals import urls as appeals_urls
from appeals.letters import SHIPPED_LETTERS, LetterTemplateError, letter_context, letter_render, letter_template_for
from appeals.models import Appeal, LetterTemplate
from appeals.package import appeal_package, corrected_line_modifier, needs_passage
from appeals.pdf import appeal_package_pdf
from config.urls import urlpatterns as project_urlpatterns
from denials import vocabulary as words
from denials.models import AccessEvent, ClinicalDocument, Denial, Payer, Provider
from denials.services.documents import document_upload, evidence_save
from ncci.models import ProcedureCode
from tests.factories import PayerFactory
from tests.pdfs import minimal_pdf

# The package routes beside the appeal pages (``appeals:package``, ``appeals:package_pdf``),
# whether or not appeals/urls.py names them yet.
_package_routes = [
    path("<int:appeal_id>/package/", package_views.package_page, name="package"),
    path("<int:appeal_id>/package.pdf", package_views.package_pdf, name="package_pdf"),
]
urlpatterns = [
    *(p for p in project_urlpatterns if getattr(p, "namespace", None) != "appeals"),
    path("appeals/", include(([*_package_routes, *appeals_urls.urlpatterns], "appeals"))),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

NOTE = (
    "Operative note. Lesion 1 on the upper back was destroyed with cryotherapy. "
    "A separate lesion on the left forearm, a different anatomic site, was biopsied through its own incision. "
    "Patient tolerated both procedures — no complications ≥ grade 1."
)
PASSAGE = "A separate lesion on the left forearm, a different anatomic site, was biopsied through its own incision."


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def bundled(team_files, code_lists, coder) -> Denial:
    """Team A's CO-97 denial of 11102, triaged as an NCCI bundling denial a modifier may fix."""
    denial = Denial.objects.get(claim__remittance__file=team_files["A"], carc="97")
    Denial.objects.filter(pk=denial.pk).update(
        category=words.BUNDLING_MODIFIER_MAY_APPLY,
        ncci_column1="17000",
        ncci_column2="11102",
        ncci_modifier_indicator="1",
        ncci_effective_date=dt.date(2021, 1, 1),
        ncci_quarter="2026Q4",
        ncci_setting="practitioner",
        ncci_rationale="Misuse of column two code with column one code",
    )
    ProcedureCode.objects.create(code="11102", short_description="Tangential biopsy of skin, single lesion")
    denial.refresh_from_db()
    return denial


@pytest.fixture
def complete(bundled, coder) -> Appeal:
    """Every fact on file: payer address and fax, provider TIN, a passage, a text note and a PDF."""
    claim = bundled.claim
    Payer.objects.filter(pk=claim.payer_id).update(
        appeal_address="Lakeshore Health Plan Appeals\nPO Box 1200\nChicago, IL 60601", appeal_fax="312-555-0100"
    )
    Provider.objects.filter(pk=claim.remittance.payee_id).update(tin="361234567")
    note = document_upload(claim=claim, name="op-note.txt", content=NOTE.encode(), actor=coder, title="Operative note")
    start = NOTE.index(PASSAGE)
    evidence_save(
        denial=bundled, document=note, start=start, end=start + len(PASSAGE), kind="separate-site", actor=coder
    )
    document_upload(
        claim=claim,
        name="path.pdf",
        content=minimal_pdf("PATHOLOGY REPORT LEFT FOREARM"),
        actor=coder,
        title="Pathology",
    )
    return services.appeal_create(denials=[bundled], actor=coder)


# --- Pure rules ---------------------------------------------------------------------------------------


def test_the_modifier_comes_from_the_team_choice_then_the_passage_kind_then_59():
    assert corrected_line_modifier(chosen="xu", evidence_kinds=["separate-site"])[0] == "XU"
    assert corrected_line_modifier(chosen="", evidence_kinds=["separate-site"])[0] == "XS"
    assert corrected_line_modifier(chosen="", evidence_kinds=["separate-session"])[0] == "XE"
    assert corrected_line_modifier(chosen="", evidence_kinds=["separate-practitioner"])[0] == "XP"
    assert corrected_line_modifier(chosen="", evidence_kinds=["non-overlapping"])[0] == "XU"
    # Two kinds: CMS's order (XE before XS).
    assert corrected_line_modifier(chosen="", evidence_kinds=["separate-site", "separate-session"])[0] == "XE"
    assert corrected_line_modifier(chosen="", evidence_kinds=["other"])[0] == "59"
    assert corrected_line_modifier(chosen="", evidence_kinds=[], triage_modifier="XS")[0] == "XS"
    # Nothing on file supports a modifier: none is invented.
    assert corrected_line_modifier(chosen="", evidence_kinds=[])[0] == ""


def test_a_passage_is_expected_where_the_case_rests_on_the_record():
    assert needs_passage(category=words.BUNDLING_MODIFIER_MAY_APPLY, modifier_indicator="1")
    assert needs_passage(category=words.BUNDLING_APPEALABLE, modifier_indicator="1")
    assert needs_passage(category=words.MEDICAL_NECESSITY, modifier_indicator="")
    assert not needs_passage(category=words.BUNDLING_EDIT_NOT_IN_FORCE, modifier_indicator="1")
    assert not needs_passage(category=words.BUNDLING_MODIFIER_MAY_APPLY, modifier_indicator="9")
    assert not needs_passage(category=words.TIMELY_FILING, modifier_indicator="")


# --- The facts ------------------------------------------------------------------------------------------


def test_package_facts_come_from_the_stored_rows(complete, bundled):
    package = appeal_package(appeal=complete)
    claim = bundled.claim
    assert package.payer.name == claim.payer.name == "LAKESHORE HEALTH PLAN"
    assert package.payer.address.startswith("Lakeshore Health Plan Appeals")
    assert package.provider.npi == "1234567893" and package.provider.tin == "361234567"
    assert package.patient.name == "ALPHAPATIENT, JANE" and package.patient.member_id == "ALPHAMEMBER8101"
    assert package.patient_control_number == "ALPHAPCN8101" and package.payer_claim_number == "ALPHAICN8101"
    assert package.service_from == dt.date(2026, 9, 14)
    (denial,) = package.denials
    assert denial.code == "CO-97" and denial.carc.words  # CARC 97's words from the code table
    assert [r.code for r in denial.rarcs] == ["M15"] and denial.rarcs[0].words
    assert denial.edit is not None and denial.edit.indicator_words == "payable with a modifier when documented"
    assert denial.edit.in_force is True and denial.edit.column2_words.startswith("Tangential biopsy")
    line = denial.corrected_line
    assert line is not None and line.procedure_code == "11102" and line.modifier == "XS"
    assert line.modifiers == ("XS",) and line.billed_modifiers == ()
    (passage,) = denial.passages
    assert passage.quote == PASSAGE and passage.document_title == "Operative note"
    assert package.eob.paid == claim.paid and [ln.procedure_code for ln in package.eob.lines] == [
        "17000",
        "11102",
        "99213",
    ]
    assert [(a.group_code, a.carc, a.amount) for a in package.eob.lines[1].adjustments] == [
        ("CO", "97", Decimal("100.00"))
    ]
    assert not package.missing, package.missing


def test_the_team_chosen_modifier_wins_over_the_passage(complete, bundled):
    Denial.objects.filter(pk=bundled.pk).update(chosen_modifier="XU")
    line = appeal_package(appeal=complete).denials[0].corrected_line
    assert line is not None and line.modifier == "XU" and "chosen" in line.modifier_reason


def test_an_edit_not_in_force_says_when_it_was_deleted(bundled, coder):
    Denial.objects.filter(pk=bundled.pk).update(
        category=words.BUNDLING_EDIT_NOT_IN_FORCE, ncci_deletion_date=dt.date(2026, 1, 1)
    )
    appeal = services.appeal_create(denials=[bundled], actor=coder)
    edit = appeal_package(appeal=appeal).denials[0].edit
    assert edit is not None and edit.in_force is False and "2026-01-01" in edit.not_in_force_reason


def test_missing_facts_are_listed_as_missing_never_filled_in(bundled, coder):
    appeal = services.appeal_create(denials=[bundled], actor=coder)  # no address, TIN, passage or document
    package = appeal_package(appeal=appeal)
    missing = {item.label for item in package.missing}
    assert "Payer appeal address" in missing and "Provider TIN" in missing and "Clinical documents" in missing
    assert any(label.startswith("Documentation passage for denial") for label in missing)
    assert any(label.startswith("Modifier on the corrected line") for label in missing)
    assert package.denials[0].corrected_line is not None and package.denials[0].corrected_line.modifier == ""
    assert "Payer claim number" not in missing  # on file
    text = _flat(_text(appeal_package_pdf(package=package)))
    assert "[missing: the payer's appeal address]" in text
    assert "Missing Payer appeal address" in text
    assert "Supporting documentation passage: missing" in text


def test_package_queries_do_not_grow_with_documents_and_passages(
    complete, bundled, coder, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        appeal_package(appeal=complete)
    claim = bundled.claim
    for n in range(5):
        doc = document_upload(claim=claim, name=f"n{n}.txt", content=f"note {n} {NOTE}".encode(), actor=coder)
        evidence_save(denial=bundled, document=doc, start=0, end=6, kind="other", actor=coder)
    with django_assert_max_num_queries(14):
        appeal_package(appeal=complete)


# --- The PDF -----------------------------------------------------------------------------------------------


def test_pdf_shows_payer_claim_numbers_edit_modifier_passage_and_eob_amounts(complete):
    pdf = appeal_package_pdf(package=appeal_package(appeal=complete))
    text = _flat(_text(pdf))
    for expected in (
        "LAKESHORE HEALTH PLAN",
        "PO Box 1200",
        "312-555-0100",
        "ALPHAICN8101",
        "ALPHAPCN8101",
        "ALPHAMEMBER8101",
        "1234567893",
        "361234567",
        "17000/11102",
        "1: payable with a modifier when documented",
        "2026Q4",
        "Misuse of column two code with column one code",
        "11102-XS",
        "Operative note",
        "$100.00",
        "$300.00",  # the claim's charge
        "CO-97",
        "M15",
        "Everything is included.",
    ):
        assert expected in text, expected
    assert _flat(PASSAGE) in text  # quoted verbatim, Unicode and all
    assert "≥ grade 1" in text  # the text note typeset with its non-Latin-1 characters


def test_pdf_appends_an_attached_pdf_documents_pages_as_they_are(complete):
    reader = PdfReader(io.BytesIO(appeal_package_pdf(package=appeal_package(appeal=complete))))
    last = reader.pages[-1].extract_text()
    assert "PATHOLOGY REPORT LEFT FOREARM" in last
    assert len(reader.pages) >= 5


def test_a_broken_pdf_document_gets_a_page_and_a_checklist_row_not_a_failure(complete, bundled):
    ClinicalDocument.objects.create(
        claim=bundled.claim,
        title="Scanned consent",
        original_name="consent.pdf",
        kind=ClinicalDocument.Kind.PDF,
        content=b"%PDF-1.4\nthis is not really a pdf\n%%EOF",
        sha256="0" * 64,
        text="consent",
    )
    package = appeal_package(appeal=complete)
    problems = [item for item in package.missing if item.label == "Document: Scanned consent"]
    assert problems and "could not be appended" in problems[0].detail
    text = _flat(_text(appeal_package_pdf(package=package)))
    assert "This document could not be appended" in text
    assert "PATHOLOGY REPORT LEFT FOREARM" in text  # the good PDF is still there


def test_a_pdf_damaged_inside_is_reported_when_its_pages_are_copied(complete):
    package = appeal_package(appeal=complete)
    good = next(d for d in package.documents if d.kind == "pdf")
    # Opens (header, xref) but its page tree points nowhere: found only while copying.
    broken = minimal_pdf("X").replace(b"/Kids [3 0 R]", b"/Kids [9 0 R]")
    import dataclasses

    damaged = dataclasses.replace(
        package, documents=tuple(dataclasses.replace(d, content=broken) if d is good else d for d in package.documents)
    )
    text = _flat(_text(appeal_package_pdf(package=damaged)))
    assert "This document could not be appended" in text and "Missing Document: Pathology" in text


# --- The letter ------------------------------------------------------------------------------------------


def _template(name: str, *, category: str = "", payer: Any = None) -> LetterTemplate:
    return LetterTemplate.objects.create(name=name, category=category, payer=payer, subject=name, body=f"Body {name}")


def test_the_most_specific_active_template_wins(complete, bundled):
    payer = bundled.claim.payer
    category = words.BUNDLING_MODIFIER_MAY_APPLY
    LetterTemplate.objects.all().delete()
    both = _template("category and payer", category=category, payer=payer)
    only_category = _template("category", category=category)
    only_payer = _template("payer", payer=payer)
    default = _template("default")
    _template("other payer", category=category, payer=PayerFactory())
    _template("other category", category=words.TIMELY_FILING)
    expected = [both, only_category, only_payer, default]
    for template in expected:
        assert letter_template_for(category=category, payer_id=payer.pk) == template
        template.active = False
        template.save()
    assert letter_template_for(category=category, payer_id=payer.pk) is None


def test_an_exact_category_beats_generic_bundling_and_generic_covers_all_bundling(bundled):
    LetterTemplate.objects.all().delete()
    generic = _template("bundling", category=words.BUNDLING)
    category = words.BUNDLING_APPEALABLE
    assert letter_template_for(category=category, payer_id=bundled.payer_id) == generic
    exact = _template("appealable", category=category)
    assert letter_template_for(category=category, payer_id=bundled.payer_id) == exact


def test_without_any_template_row_the_first_shipped_letter_is_used(complete):
    LetterTemplate.objects.all().delete()
    letter = letter_render(package=appeal_package(appeal=complete))
    assert letter.source == "shipped" and letter.template_name == SHIPPED_LETTERS[0]["name"]
    assert "ALPHAICN8101" in letter.body


def test_the_shipped_bundling_letter_cites_the_edit_quotes_the_passage_and_asks_for_the_modifier(complete):
    bundling = next(t for t in SHIPPED_LETTERS if t["category"] == words.BUNDLING)
    template = LetterTemplate(name=bundling["name"], subject=bundling["subject"], body=bundling["body"])
    letter = letter_render(package=appeal_package(appeal=complete), template=template)
    body = _flat(letter.body)
    assert "17000/11102" in body and "1: payable with a modifier when documented" in body
    assert "2026Q4" in body and _flat(PASSAGE) in body and "Operative note" in body
    assert "with modifier XS" in body and "11102-XS" in body
    assert "[missing" not in body
    assert letter.subject.startswith("First-level appeal: NCCI bundling denial, claim ALPHAICN8101")


@pytest.mark.parametrize("shipped", SHIPPED_LETTERS, ids=lambda t: t["name"])
def test_every_shipped_letter_renders_with_facts_missing_and_says_so(shipped, bundled, coder):
    appeal = services.appeal_create(denials=[bundled], actor=coder)
    template = LetterTemplate(name=shipped["name"], subject=shipped["subject"], body=shipped["body"])
    letter = letter_render(package=appeal_package(appeal=appeal), template=template)
    assert "[missing: the payer's appeal address]" in letter.body
    assert letter.body.count("\n\n\n") == 0


def test_a_template_syntax_error_names_the_template_and_line(complete):
    bad = LetterTemplate(
        name="Broken one", subject="Appeal", body="Dear reviewer,\n\n{% for d in denials %}\n{{ d.code }}"
    )
    with pytest.raises(LetterTemplateError) as caught:
        letter_render(package=appeal_package(appeal=complete), template=bad)
    assert "Broken one" in str(caught.value) and caught.value.line == 3
    assert "endfor" in str(caught.value)


def test_an_unknown_variable_is_an_error_with_its_name_and_line(complete):
    bad = LetterTemplate(name="Typo", subject="Appeal", body="Hello\n{{ payer.nmae }}")
    with pytest.raises(LetterTemplateError) as caught:
        letter_render(package=appeal_package(appeal=complete), template=bad)
    assert "payer.nmae" in str(caught.value) and caught.value.line == 2 and "Typo" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        "{% load overturn %}{{ payer.name }}",
        '{% include "base.html" %}',
        "{% debug %}",
        "{{ denial.__class__ }}",
        "{{ payer.objects }}",
    ],
)
def test_a_template_cannot_reach_past_its_context(complete, body):
    with pytest.raises(LetterTemplateError):
        letter_render(
            package=appeal_package(appeal=complete), template=LetterTemplate(name="Nosy", subject="x", body=body)
        )


def test_the_letter_context_holds_plain_data_only(complete):
    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert type(value) is str, (type(value), value)

    context = letter_context(package=appeal_package(appeal=complete))
    assert context["denial"]["edit"]["column1"] == "17000"
    walk(context)


def test_the_html_letter_escapes_values(complete, bundled):
    Payer.objects.filter(pk=bundled.payer_id).update(appeal_fax="<script>x</script>")
    template = LetterTemplate(name="Fax", subject="s", body="Fax {{ payer.fax }}")
    html = letter_render(package=appeal_package(appeal=complete), template=template, html=True).body
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_bad_admin_template_makes_a_package_with_the_error_not_a_failure(complete, bundled):
    LetterTemplate.objects.all().delete()
    _template("Broken", category=words.BUNDLING).__class__.objects.filter(name="Broken").update(body="{% if %}")
    text = _flat(_text(appeal_package_pdf(package=appeal_package(appeal=complete))))
    assert "The cover letter could not be written" in text and "Broken" in text


# --- Pages and API ----------------------------------------------------------------------------------------


def _events(appeal: Appeal, action: str) -> int:
    return AccessEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(Appeal), target_id=str(appeal.pk), action=action
    ).count()


def test_the_package_page_shows_the_package_to_the_team_and_records_the_look(client, coder, complete):
    client.force_login(coder)
    response = client.get(f"/appeals/{complete.pk}/package/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "ALPHAICN8101" in page and "11102" in page and "XS" in page and "Everything on the" in page
    assert "ALPHAPATIENT" not in page.split("<title>")[1].split("</title>")[0]  # no patient data in the title
    assert _events(complete, AccessEvent.Action.VIEW) == 1


def test_the_package_pdf_downloads_without_patient_data_in_its_name(client, coder, complete):
    client.force_login(coder)
    response = client.get(f"/appeals/{complete.pk}/package.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="appeal-{complete.pk}-package.pdf"'
    assert response.content.startswith(b"%PDF")
    assert _events(complete, AccessEvent.Action.PDF) == 1


@pytest.mark.parametrize("url", ["/appeals/{}/package/", "/appeals/{}/package.pdf", "/api/appeals/{}/package.pdf"])
def test_another_team_gets_404_and_nothing_is_recorded(client, outsider, complete, url):
    client.force_login(outsider)
    assert client.get(url.format(complete.pk)).status_code == 404
    assert AccessEvent.objects.filter(target_id=str(complete.pk)).count() == 0


def test_the_api_returns_the_pdf_and_records_it(coder, complete):
    api = APIClient()
    api.force_authenticate(coder)
    response = api.get(f"/api/appeals/{complete.pk}/package.pdf", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "ALPHAICN8101" in _text(response.content)
    assert _events(complete, AccessEvent.Action.PDF) == 1
    assert APIClient().get(f"/api/appeals/{complete.pk}/package.pdf").status_code in (401, 403)


def test_the_page_view_answers_404_for_an_unknown_appeal(coder):
    request = RequestFactory().get("/appeals/999999/package/")
    request.user = coder
    from django.http import Http404

    with pytest.raises(Http404):
        package_views.package_page(request, 999999)


# --- Admin preview -------------------------------------------------------------------------------------------


def test_the_admin_preview_renders_a_real_appeal_and_shows_errors_plainly(client, admin_user, complete):
    template = _template("Preview me", category=words.BUNDLING)
    LetterTemplate.objects.filter(pk=template.pk).update(body="Claim {{ claim.payer_claim_number }}")
    client.force_login(admin_user)
    url = f"/admin/appeals/lettertemplate/{template.pk}/preview/"
    page = client.get(url, {"appeal": complete.pk})
    assert page.status_code == 200 and "Claim ALPHAICN8101" in page.content.decode()
    denial_id = complete.denials.get().pk
    assert "Claim ALPHAICN8101" in client.get(url, {"denial": denial_id}).content.decode()
    LetterTemplate.objects.filter(pk=template.pk).update(body="{{ claim.nope }}")
    broken = client.get(url, {"appeal": complete.pk})
    assert broken.status_code == 200 and "claim.nope" in broken.content.decode()
    assert "No appeal 999999" in client.get(url, {"appeal": 999999}).content.decode()


def test_letters_module_documents_every_context_key(complete):
    context = letter_context(package=appeal_package(appeal=complete))
    doc = letters.__doc__ or ""
    for key in context:
        assert f"``{key}``" in doc, key
    for key in context["denials"][0]:
        assert key in doc, key


def test_the_appeal_admin_edits_only_notes_through_the_service_and_never_deletes(client, admin_user, complete):
    from denials.models import AuditEvent

    client.force_login(admin_user)
    url = f"/admin/appeals/appeal/{complete.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="notes"' in page.content.decode()
    assert 'name="status"' not in page.content.decode()  # the facts change on the appeal page
    response = client.post(url, {"notes": "Called the payer", "payer_reference": "REF-1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    complete.refresh_from_db()
    assert complete.notes == "Called the payer" and complete.version == 2
    assert AuditEvent.objects.filter(target_id=str(complete.pk), action__startswith="appeal").count() >= 2
    assert client.get(f"/admin/appeals/appeal/{complete.pk}/delete/").status_code == 403
    assert _events(complete, AccessEvent.Action.VIEW) >= 1  # the change page shows a patient's claim


def test_follow_ups_are_read_only_and_letter_templates_keep_history(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/appeals/appealfollowup/").status_code == 200
    assert client.get("/admin/appeals/appealfollowup/add/").status_code == 403
    template = LetterTemplate.objects.create(name="T", subject="s", body="b")
    response = client.post(
        f"/admin/appeals/lettertemplate/{template.pk}/change/",
        {"name": "T2", "category": "", "payer": "", "subject": "s", "body": "b2", "active": "on"},
    )
    assert response.status_code == 302
    assert template.history.count() == 2
    page = client.get(f"/admin/appeals/lettertemplate/{template.pk}/change/").content.decode()
    assert "Preview with a real appeal" in page and "amount_at_stake" in page  # the documented context
