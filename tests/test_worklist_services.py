"""The services coders' pages call: versioned saves, refusals, next denial, evidence."""

from __future__ import annotations

import pytest

from denials.models import AuditEvent, Denial, QueueRule, WorkQueue
from denials.selectors import denials_visible_to
from denials.services import (
    DenialActionRefused,
    DenialConflict,
    denial_add_note,
    denial_assign,
    denial_record_outcome,
    denial_take_next,
    denials_bulk_write_off,
    document_upload,
    evidence_save,
)
from tests.test_triage_pipeline import edit, remit

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked(db, adjustment_rules, team, ingest):
    """Three triaged denials in the team's queue: indicator 0 (CO), indicator 1 (CO), and a PR one."""
    from denials.services import category_rules_load_defaults

    category_rules_load_defaults()
    queue = WorkQueue.objects.create(name="Team queue", team=team)
    QueueRule.objects.create(queue=queue, category="")
    edit("64483", "77003", "0")
    edit("17000", "11102", "1")
    ingest(remit([("64483", "", "900", "700", "CO*45*200"), ("77003", "", "150", "0", "CO*97*150")]))
    ingest(remit([("17000", "", "200", "150", "CO*45*50"), ("11102", "", "400", "0", "CO*97*400")]))
    ingest(remit([("99214", "", "100", "0", "PR*204*100")]))
    return {d.line.procedure_code: d for d in Denial.objects.select_related("line", "queue__team")}


def test_second_save_with_a_stale_version_is_refused_with_the_current_state(worked, coder, teammate):
    denial = worked["11102"]
    seen_by_both = denial.version
    denial_assign(denial=denial, assignee=coder, actor=coder, expected_version=seen_by_both)
    with pytest.raises(DenialConflict) as conflict:
        denial_record_outcome(
            denial=denial, action="write-off", actor=teammate, expected_version=seen_by_both, reason="not documented"
        )
    assert conflict.value.current.assignee == coder
    assert "changed by someone else" in str(conflict.value)
    denial.refresh_from_db()
    assert denial.status == "in-progress"  # the teammate's write-off did not land
    assert not AuditEvent.objects.filter(action="denial.write_off").exists()


def test_corrected_claim_with_a_bypass_modifier_is_refused_on_an_indicator_0_edit(worked, coder):
    denial = worked["77003"]
    with pytest.raises(DenialActionRefused, match="indicator 0"):
        denial_record_outcome(
            denial=denial, action="corrected-claim", actor=coder, expected_version=denial.version, modifier="59"
        )
    ok = denial_record_outcome(
        denial=worked["11102"],
        action="corrected-claim",
        actor=coder,
        expected_version=worked["11102"].version,
        modifier="xs",
    )
    assert (ok.status, ok.chosen_modifier) == ("corrected", "XS")


def test_bill_patient_only_for_pr_and_write_off_needs_a_reason(worked, coder):
    with pytest.raises(DenialActionRefused, match="PR"):
        denial_record_outcome(
            denial=worked["11102"], action="bill-patient", actor=coder, expected_version=worked["11102"].version
        )
    with pytest.raises(DenialActionRefused, match="reason"):
        denial_record_outcome(
            denial=worked["11102"],
            action="write-off",
            actor=coder,
            expected_version=worked["11102"].version,
            reason="  ",
        )
    billed = denial_record_outcome(
        denial=worked["99214"], action="bill-patient", actor=coder, expected_version=worked["99214"].version
    )
    assert billed.status == "billed-patient"


def test_every_change_is_audited_with_old_and_new(worked, coder):
    denial = worked["11102"]
    denial = denial_assign(denial=denial, assignee=coder, actor=coder, expected_version=denial.version)
    denial_record_outcome(
        denial=denial, action="escalate", actor=coder, expected_version=denial.version, reason="payer contract unclear"
    )
    event = AuditEvent.objects.filter(action="denial.escalate").get()
    assert event.actor == coder
    assert event.old["status"] == "in-progress" and event.new["status"] == "escalated"
    assert event.note == "payer contract unclear"


def test_coder_cannot_assign_to_a_colleague_but_a_manager_can(worked, coder, teammate, manager):
    denial = worked["11102"]
    with pytest.raises(DenialActionRefused, match="manager"):
        denial_assign(denial=denial, assignee=teammate, actor=coder, expected_version=denial.version)
    done = denial_assign(denial=denial, assignee=teammate, actor=manager, expected_version=denial.version)
    assert done.assignee == teammate


def test_next_denial_takes_the_highest_priority_unassigned_one(worked, coder, teammate):
    first = denial_take_next(user=coder)
    second = denial_take_next(user=teammate)
    assert first is not None and second is not None and first.pk != second.pk
    assert first.priority >= second.priority
    assert first.assignee == coder and second.assignee == teammate


def test_outsider_sees_nothing_of_another_team(worked, outsider, coder, admin_user):
    assert not denials_visible_to(user=outsider).exists()
    assert denials_visible_to(user=coder).count() == 3
    assert denials_visible_to(user=admin_user).count() == 3
    assert denial_take_next(user=outsider) is None


def test_bulk_write_off_skips_what_changed_and_needs_a_reason(worked, coder):
    ids = [worked["77003"].pk, worked["11102"].pk]
    with pytest.raises(DenialActionRefused):
        denials_bulk_write_off(denial_ids=ids, reason="", actor=coder)
    assert denials_bulk_write_off(denial_ids=ids, reason="indicator 0 pairs", actor=coder) == 2
    assert set(Denial.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"written-off"}


def test_evidence_quotes_the_document_at_the_selected_offsets(worked, coder):
    denial = worked["11102"]
    text = "Procedure note.\nLesion 1 on the left forearm destroyed.\nSeparate lesion on the right scalp biopsied.\n"
    document = document_upload(claim=denial.claim, name="op-note.txt", content=text.encode(), actor=coder)
    start = text.index("Separate lesion")
    end = text.index("biopsied.") + len("biopsied.")
    evidence = evidence_save(
        denial=denial,
        document=document,
        start=start,
        end=end,
        kind="separate-site",
        actor=coder,
        quote="Separate lesion on the right scalp biopsied.",
    )
    assert evidence.quote == "Separate lesion on the right scalp biopsied."
    with pytest.raises(DenialActionRefused, match="did not match"):
        evidence_save(denial=denial, document=document, start=0, end=5, kind="other", actor=coder, quote="Lesion")
    with pytest.raises(DenialActionRefused):
        evidence_save(denial=denial, document=document, start=10, end=10_000, kind="other", actor=coder)


def test_pdf_documents_are_read_to_text_and_bad_files_refused(worked, coder):
    from tests.pdfs import minimal_pdf

    denial = worked["11102"]
    document = document_upload(
        claim=denial.claim, name="note.pdf", content=minimal_pdf("Separate lesion on the right scalp."), actor=coder
    )
    assert document.kind == "pdf"
    assert "Separate lesion on the right scalp." in document.text
    with pytest.raises(DenialActionRefused, match="PDF"):
        document_upload(claim=denial.claim, name="broken.pdf", content=b"%PDF-1.4 garbage", actor=coder)
    with pytest.raises(DenialActionRefused, match="empty"):
        document_upload(claim=denial.claim, name="empty.txt", content=b"", actor=coder)


def test_notes_need_a_body_and_are_audited(worked, coder):
    with pytest.raises(DenialActionRefused):
        denial_add_note(denial=worked["11102"], author=coder, body="   ")
    note = denial_add_note(denial=worked["11102"], author=coder, body="Called payer, ref 123")
    assert note.author == coder
    assert AuditEvent.objects.filter(action="denial.note_added").exists()


def test_released_denial_goes_back_in_line_for_next(worked, coder, teammate):
    taken = denial_take_next(user=coder)
    released = denial_assign(denial=taken, assignee=None, actor=coder, expected_version=taken.version)
    assert released.status == "open" and released.assignee is None
    again = denial_take_next(user=teammate)
    assert again.pk == taken.pk


def test_coder_cannot_take_over_a_colleagues_denial(worked, coder, teammate, manager):
    taken = denial_take_next(user=coder)
    with pytest.raises(DenialActionRefused, match="working this denial"):
        denial_assign(denial=taken, assignee=teammate, actor=teammate, expected_version=taken.version)
    moved = denial_assign(denial=taken, assignee=teammate, actor=manager, expected_version=taken.version)
    assert moved.assignee == teammate


def test_bulk_actions_ignore_denials_the_actor_cannot_see(worked, outsider):
    ids = [d.pk for d in worked.values()]
    assert denials_bulk_write_off(denial_ids=ids, reason="x", actor=outsider) == 0
    assert not Denial.objects.filter(status="written-off").exists()


def test_stale_page_hears_about_the_conflict_before_the_rules(worked, coder):
    denial = worked["77003"]
    with pytest.raises(DenialConflict):
        denial_record_outcome(
            denial=denial, action="write-off", actor=coder, expected_version=denial.version - 1, reason=""
        )
