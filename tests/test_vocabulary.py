"""One vocabulary per concept (denials.vocabulary) and the rules that left the views,
forms, templates and admin: each now lives in one place, and these tests pin where."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from denials import outcomes, triage, vocabulary
from denials.models import CategoryRule, Denial, QueueRule

ROOT = Path(__file__).resolve().parent.parent


# --- The vocabulary itself (pure) --------------------------------------------------------
def test_vocabulary_imports_nothing_from_django():
    for module in ("denials/vocabulary.py", "denials/outcomes.py"):
        tree = ast.parse((ROOT / module).read_text())
        imported = [
            (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        ]
        assert imported, module
        assert not [name for name in imported if name.startswith("django")], module


def test_triage_reexports_the_vocabulary_not_a_copy():
    assert triage.CATEGORIES is vocabulary.CATEGORIES
    assert triage.RULE_CATEGORIES is vocabulary.RULE_CATEGORIES
    assert triage.ACTIONS is vocabulary.ACTIONS
    assert triage.BUNDLING_CATEGORIES is vocabulary.BUNDLING_CATEGORIES
    assert triage.ROUTINE_CATEGORIES is vocabulary.ROUTINE_CATEGORIES
    assert triage.CORRECTED_CLAIM == vocabulary.CORRECTED_CLAIM == "corrected-claim"


def test_every_outcome_leads_to_a_real_denial_status():
    statuses = set(Denial.Status.values)
    assert vocabulary.OUTCOME_STATUSES
    for action, status in vocabulary.OUTCOME_STATUSES.items():
        assert status in statuses, action
    assert set(vocabulary.ACTIVE_STATUSES) <= statuses
    assert set(vocabulary.ACTIVE_STATUSES) >= vocabulary.UNWORKED_STATUSES


def test_the_service_forms_and_template_tags_read_the_same_outcome_words():
    from denials.forms import OUTCOME_CHOICES, OutcomeForm
    from denials.services.worklist import OUTCOME_ACTIONS

    assert OUTCOME_ACTIONS is vocabulary.OUTCOME_STATUSES
    # The form offers every outcome but "Send to appeal", which the Appeal button replaces.
    assert [
        (a, label) for a, label in vocabulary.OUTCOME_LABELS.items() if a != vocabulary.OUTCOME_APPEAL
    ] == OUTCOME_CHOICES
    assert vocabulary.OUTCOME_APPEAL not in dict(OUTCOME_CHOICES)
    assert OutcomeForm.ACTIONS is vocabulary.OUTCOME_LABELS
    assert set(OutcomeForm.REFUSAL_FIELD) <= set(vocabulary.OUTCOMES)


def test_category_and_action_labels_come_from_the_vocabulary():
    from denials.templatetags.overturn import CATEGORY_COLOURS, CATEGORY_SHORT, action_label, category_tag

    assert set(CATEGORY_COLOURS) == set(vocabulary.CATEGORIES)
    assert set(CATEGORY_SHORT) <= set(vocabulary.CATEGORIES)
    tag = category_tag(vocabulary.BUNDLING_NO_PTP_PAIR, short=False)
    assert vocabulary.CATEGORIES[vocabulary.BUNDLING_NO_PTP_PAIR] in tag
    assert "Not triaged" in category_tag("")
    assert action_label(vocabulary.CHECK_COB) == "Check coordination of benefits"
    assert action_label("") == "—"


def test_choices_helper():
    assert vocabulary.choices({"a": "A"}) == [("a", "A")]
    assert vocabulary.choices({"a": "A"}, blank="Any") == [("", "Any"), ("a", "A")]
    assert ("bundling", vocabulary.RULE_CATEGORIES["bundling"]) in vocabulary.category_rule_choices()
    assert "bundling" not in dict(vocabulary.category_choices())


# --- Category fields refuse words outside the vocabulary ----------------------------------
def test_a_mistyped_category_rule_fails_validation():
    with pytest.raises(ValidationError) as refused:
        CategoryRule(category="Coding-typo", carc="16").full_clean()
    assert "category" in refused.value.message_dict
    CategoryRule(category=vocabulary.CODING, carc="16").full_clean()
    CategoryRule(category=vocabulary.BUNDLING, carc="97").full_clean()
    CategoryRule(category=vocabulary.BUNDLING_APPEALABLE, carc="97").full_clean()


@pytest.mark.django_db
def test_a_mistyped_queue_rule_category_fails_validation(team_queue):
    with pytest.raises(ValidationError) as refused:
        QueueRule(queue=team_queue, category="Coding-typo").full_clean()
    assert "category" in refused.value.message_dict
    QueueRule(queue=team_queue, category="").full_clean(validate_constraints=False)  # the fixture has that rule
    QueueRule(queue=team_queue, category=vocabulary.CODING).full_clean()
    # "bundling" routes all five bundling-* categories (``vocabulary.category_matches``).
    QueueRule(queue=team_queue, category=vocabulary.BUNDLING).full_clean()
    QueueRule(queue=team_queue, category=vocabulary.BUNDLING_APPEALABLE).full_clean()


@pytest.mark.parametrize(
    ("rule_category", "category", "matches"),
    [
        ("", "coding", True),
        ("coding", "coding", True),
        ("coding", "duplicate", False),
        ("bundling", "bundling-appealable", True),
        ("bundling", "bundling-no-ptp-pair", True),
        ("bundling", "coding", False),
        ("bundling-appealable", "bundling-not-appealable", False),
    ],
)
def test_category_matches(rule_category, category, matches):
    assert vocabulary.category_matches(rule_category, category) is matches


def test_every_standard_queue_category_is_a_valid_queue_rule_category():
    from denials.services.teams import STANDARD_QUEUES

    assert STANDARD_QUEUES
    for spec in STANDARD_QUEUES:
        assert spec.category == "" or spec.category in vocabulary.QUEUE_RULE_CATEGORIES, spec


# --- The outcome rules: one definition for the page and the service ------------------------
@pytest.mark.parametrize(
    ("status", "can_reopen"),
    [("open", False), ("in-progress", False), ("written-off", True), ("escalated", True), ("appealed", True)],
)
def test_only_a_recorded_outcome_can_be_reopened(status, can_reopen):
    assert Denial(status=status).can_reopen is can_reopen
    assert (outcomes.reopen_refusal(status=status) == "") is can_reopen


@pytest.mark.parametrize(("group", "allowed"), [("PR", True), ("pr", True), ("CO", False), ("OA", False), ("", False)])
def test_only_patient_responsibility_can_be_billed_to_the_patient(group, allowed):
    assert Denial(group_code=group, carc="1").can_bill_patient is allowed


def test_indicator_0_refuses_a_bypass_modifier_but_not_another():
    bypass = {"59", "XS"}
    assert Denial(ncci_modifier_indicator="0").modifier_cannot_bypass
    assert not Denial(ncci_modifier_indicator="1").modifier_cannot_bypass
    refusal = outcomes.corrected_claim_refusal(
        modifier_indicator="0", modifier="xs", bypass_modifiers=bypass, column1="17000", column2="11102"
    )
    assert "17000/11102" in refusal and "XS" in refusal
    assert outcomes.corrected_claim_refusal(modifier_indicator="0", modifier="25", bypass_modifiers=bypass) == ""
    assert outcomes.corrected_claim_refusal(modifier_indicator="1", modifier="XS", bypass_modifiers=bypass) == ""
    assert "Choose the modifier" in outcomes.corrected_claim_refusal(
        modifier_indicator="1", modifier=" ", bypass_modifiers=bypass
    )


# --- Re-triage belongs to the change, not to the admin screen -----------------------------
@pytest.fixture
def triaged(db, adjustment_rules, code_lists):
    from denials.services import category_rules_load_defaults

    category_rules_load_defaults()


def test_a_payer_changed_through_the_service_retriages_its_open_denials(
    triaged, ingest, django_capture_on_commit_callbacks
):
    from denials import services
    from tests.test_triage_pipeline import _denial, remit

    denial = _denial(ingest, remit([("99214", "", "100", "0", "CO*50*100")]))
    assert denial.due_date is not None
    payer = denial.payer
    payer.appeal_window_days += 30
    with django_capture_on_commit_callbacks(execute=True) as queued:
        services.payer_save(payer=payer)
    assert queued  # the re-triage task, queued on commit
    before = denial.due_date
    denial.refresh_from_db()
    assert (denial.due_date - before).days == 30


def test_a_category_rule_saved_through_the_service_retriages(triaged, ingest, django_capture_on_commit_callbacks):
    from denials import services
    from tests.test_triage_pipeline import _denial, remit

    denial = _denial(ingest, remit([("99214", "", "100", "0", "CO*50*100")]))
    assert denial.category == vocabulary.MEDICAL_NECESSITY
    with django_capture_on_commit_callbacks(execute=True):
        rule = services.category_rule_save(
            rule=CategoryRule(category=vocabulary.AUTHORIZATION, group_code="CO", carc="50", priority=10)
        )
    denial.refresh_from_db()
    assert denial.category == vocabulary.AUTHORIZATION
    with django_capture_on_commit_callbacks(execute=True):
        services.category_rule_delete(rule=rule)
    denial.refresh_from_db()
    assert denial.category == vocabulary.MEDICAL_NECESSITY


def test_the_service_refuses_a_mistyped_category_and_saves_nothing(db, django_capture_on_commit_callbacks):
    from denials import services

    with django_capture_on_commit_callbacks(execute=False) as queued, pytest.raises(ValidationError):
        services.category_rule_save(rule=CategoryRule(category="Coding-typo", carc="16"))
    assert not CategoryRule.objects.filter(carc="16", category="Coding-typo").exists()
    assert not queued


def test_an_unchanged_save_neither_audits_nor_retriages(db, django_capture_on_commit_callbacks):
    from denials import services
    from denials.models import AuditEvent

    rule = services.category_rule_save(rule=CategoryRule(category=vocabulary.CODING, carc="16"))
    events = AuditEvent.objects.filter(action="category_rule.saved").count()
    assert events == 1
    with django_capture_on_commit_callbacks(execute=False) as queued:
        services.category_rule_save(rule=rule)
    assert not queued
    assert AuditEvent.objects.filter(action="category_rule.saved").count() == events


# --- The selectors that left the forms and views ----------------------------------------
@pytest.mark.parametrize(
    ("quote", "found"),
    [("left  KNEE", "left knee"), ("knee\nlesion", "knee lesion"), ("", None), ("elbow", None)],
)
def test_passage_offsets_ignore_whitespace_and_case(quote, found):
    from denials.selectors import passage_offsets

    text = "Excision of the left knee lesion."
    offsets = passage_offsets(text=text, quote=quote)
    if found is None:
        assert offsets is None
    else:
        assert offsets is not None
        assert text[offsets[0] : offsets[1]].lower() == found


@pytest.mark.django_db
def test_person_by_id():
    from django.contrib.auth import get_user_model

    from denials.selectors import person_by_id

    person = get_user_model().objects.create_user("pat")
    assert person_by_id(person_id=str(person.pk)) == person
    assert person_by_id(person_id="x1") is None
    assert person_by_id(person_id=str(person.pk + 1000)) is None


def test_remittance_file_skip_validation_marks_the_file(ingest, sample_bytes):
    from denials.models import RemittanceFile
    from denials.services import remittance_file_skip_validation

    file = ingest(sample_bytes("pyx12__835_mult_loops.txt"))
    remittance_file_skip_validation(file_id=file.pk)
    file.refresh_from_db()
    assert file.validation_status == RemittanceFile.Validation.SKIPPED


@pytest.mark.parametrize(("status", "recorded"), [("open", False), ("in-progress", False), ("corrected", True)])
def test_outcome_recorded(status, recorded):
    assert Denial(status=status).outcome_recorded is recorded
