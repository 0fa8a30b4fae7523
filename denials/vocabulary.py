"""The words of the denials domain, each defined once: categories, actions and outcomes.

Pure: nothing from Django, so the pure triage core (``denials.triage``), the rules in
``denials.outcomes``, the models (field ``choices``), forms, template tags, admin and API
all read the same slugs and labels from here. Presentation extras (a category's colour or
its short form in a dense row) stay in ``denials.templatetags.overturn``; the words do not.

A slug is what is stored and what the API returns; a label is what a billing team reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# ---------------------------------------------------------------------------------------
# Categories: what triage says a denial is about
# ---------------------------------------------------------------------------------------

# The rule table's category for 97/236/M15/N381: never returned by triage, which resolves
# it into one of the five bundling-* categories from the NCCI finding.
BUNDLING = "bundling"

BUNDLING_MODIFIER_MAY_APPLY = "bundling-modifier-may-apply"
BUNDLING_APPEALABLE = "bundling-appealable"
BUNDLING_NOT_APPEALABLE = "bundling-not-appealable"
BUNDLING_EDIT_NOT_IN_FORCE = "bundling-edit-not-in-force"
BUNDLING_NO_PTP_PAIR = "bundling-no-ptp-pair"
CODING = "coding"
MEDICAL_NECESSITY = "medical-necessity"
MISSING_INFORMATION = "missing-information"
AUTHORIZATION = "authorization"
ELIGIBILITY = "eligibility"
DUPLICATE = "duplicate"
TIMELY_FILING = "timely-filing"
COORDINATION_OF_BENEFITS = "coordination-of-benefits"
NON_COVERED = "non-covered"
PLAN_PROCEDURES = "plan-procedures"
PATIENT_RESPONSIBILITY = "patient-responsibility"
# Fee-schedule write-downs, capitation, withholds, outlier and tax adjustments (CARC 45,
# 24, 104, 70, 235...) are neither denials nor the patient's share; filing them under
# "other" would flood the manual-review queue with routine postings.
CONTRACTUAL = "contractual"
OTHER = "other"

# Every category triage can return, with the label a billing team reads.
CATEGORIES: dict[str, str] = {
    BUNDLING_MODIFIER_MAY_APPLY: "Bundling: modifier may apply",
    BUNDLING_APPEALABLE: "Bundling: appealable",
    BUNDLING_NOT_APPEALABLE: "Bundling: not appealable",
    BUNDLING_EDIT_NOT_IN_FORCE: "Bundling: edit not in force",
    BUNDLING_NO_PTP_PAIR: "Bundling: global period, inherent component or payer policy",
    CODING: "Coding",
    MEDICAL_NECESSITY: "Medical necessity",
    MISSING_INFORMATION: "Missing information",
    AUTHORIZATION: "Authorization or referral",
    ELIGIBILITY: "Eligibility",
    DUPLICATE: "Duplicate",
    TIMELY_FILING: "Timely filing",
    COORDINATION_OF_BENEFITS: "Coordination of benefits",
    NON_COVERED: "Non-covered service",
    PLAN_PROCEDURES: "Plan procedures not followed",
    PATIENT_RESPONSIBILITY: "Patient responsibility",
    CONTRACTUAL: "Contractual adjustment",
    OTHER: "Other",
}

# The bundling group: the five categories the NCCI finding resolves "bundling" into.
BUNDLING_CATEGORIES: frozenset[str] = frozenset(
    {
        BUNDLING_MODIFIER_MAY_APPLY,
        BUNDLING_APPEALABLE,
        BUNDLING_NOT_APPEALABLE,
        BUNDLING_EDIT_NOT_IN_FORCE,
        BUNDLING_NO_PTP_PAIR,
    }
)

# What a shipped rule names: the generic bundling category stands in for the five resolved ones.
RULE_CATEGORIES: dict[str, str] = {
    BUNDLING: "Bundling (resolved by the NCCI finding)",
    **{slug: label for slug, label in CATEGORIES.items() if slug not in BUNDLING_CATEGORIES},
}

# What an admin may put in a category rule: a rule category, or one of the bundling-*
# slugs (triage re-resolves those from the NCCI finding too, see ``triage.triage``).
CATEGORY_RULE_CATEGORIES: dict[str, str] = {**RULE_CATEGORIES, **CATEGORIES}

# What a queue rule may route on: any category triage returns, or the generic bundling
# category, which routes all five bundling-* categories (see ``category_matches``).
QUEUE_RULE_CATEGORIES: dict[str, str] = {
    BUNDLING: "Bundling (every bundling category)",
    **CATEGORIES,
}


def category_matches(rule_category: str, category: str) -> bool:
    """Whether a rule naming ``rule_category`` covers a denial of ``category``: a blank rule
    category covers any, and the generic bundling category covers the five bundling-* ones."""
    if not rule_category or rule_category == category:
        return True
    return rule_category == BUNDLING and category in BUNDLING_CATEGORIES


# Adjustments that are the expected outcome of a paid claim (DOMAIN §1.4), not denials:
# the lead may keep them out of work queues.
ROUTINE_CATEGORIES: frozenset[str] = frozenset({PATIENT_RESPONSIBILITY, CONTRACTUAL})


def category_label(slug: str) -> str:
    """The label of a category (a rule category included); an unknown slug in plain words."""
    if not slug:
        return "Not triaged"
    return CATEGORY_RULE_CATEGORIES.get(slug) or slug.replace("-", " ").capitalize()


# ---------------------------------------------------------------------------------------
# Actions: the next step triage recommends
# ---------------------------------------------------------------------------------------

CORRECTED_CLAIM = "corrected-claim"
APPEAL = "appeal"
WRITE_OFF = "write-off"
BILL_PATIENT = "bill-patient"
SEND_DOCUMENTATION = "send-documentation"
VERIFY_ELIGIBILITY = "verify-eligibility"
VERIFY_AUTHORIZATION = "verify-authorization"
REVIEW_CODING = "review-coding"
CHECK_COB = "check-cob"
REVIEW = "review"
RESUBMIT = "resubmit"

ACTIONS: dict[str, str] = {
    CORRECTED_CLAIM: "Send a corrected claim",
    APPEAL: "Appeal",
    WRITE_OFF: "Write off",
    BILL_PATIENT: "Bill the patient",
    SEND_DOCUMENTATION: "Send documentation",
    VERIFY_ELIGIBILITY: "Verify eligibility",
    VERIFY_AUTHORIZATION: "Verify authorization",
    REVIEW_CODING: "Review coding",
    CHECK_COB: "Check coordination of benefits",
    REVIEW: "Review manually",
    RESUBMIT: "Resubmit as a replacement claim",
}


def action_label(slug: str) -> str:
    """The label of a recommended action; "—" when there is none."""
    if not slug:
        return "—"
    return ACTIONS.get(slug) or slug.replace("-", " ").capitalize()


# ---------------------------------------------------------------------------------------
# Outcomes: what a coder may record on a denial, and the status each leads to
# ---------------------------------------------------------------------------------------

# The four outcome actions that are also recommended actions keep the same slug.
OUTCOME_CORRECTED_CLAIM = CORRECTED_CLAIM
OUTCOME_APPEAL = APPEAL
OUTCOME_WRITE_OFF = WRITE_OFF
OUTCOME_BILL_PATIENT = BILL_PATIENT
OUTCOME_REQUEST_INFO = "request-info"
OUTCOME_ESCALATE = "escalate"
OUTCOME_REOPEN = "reopen"

# Denial statuses (``Denial.Status`` values; the model's TextChoices carry their labels).
STATUS_OPEN = "open"
STATUS_IN_PROGRESS = "in-progress"
STATUS_CORRECTED = "corrected"
STATUS_APPEALED = "appealed"
STATUS_WRITTEN_OFF = "written-off"
STATUS_BILLED_PATIENT = "billed-patient"
STATUS_INFO_REQUESTED = "info-requested"
STATUS_ESCALATED = "escalated"
STATUS_RESOLVED = "resolved"

# Work still to do: open, being worked, or waiting on someone.
ACTIVE_STATUSES: tuple[str, ...] = (STATUS_OPEN, STATUS_IN_PROGRESS, STATUS_INFO_REQUESTED, STATUS_ESCALATED)
# Nothing recorded yet: there is no outcome to reopen.
UNWORKED_STATUSES: frozenset[str] = frozenset({STATUS_OPEN, STATUS_IN_PROGRESS})

# Outcome action -> (label on the outcome form, the status it leads to). Order is the form's.
OUTCOMES: dict[str, tuple[str, str]] = {
    OUTCOME_CORRECTED_CLAIM: ("Corrected claim", STATUS_CORRECTED),
    OUTCOME_APPEAL: ("Send to appeal", STATUS_APPEALED),
    OUTCOME_WRITE_OFF: ("Write off", STATUS_WRITTEN_OFF),
    OUTCOME_BILL_PATIENT: ("Bill the patient", STATUS_BILLED_PATIENT),
    OUTCOME_REQUEST_INFO: ("Request information", STATUS_INFO_REQUESTED),
    OUTCOME_ESCALATE: ("Escalate to a manager", STATUS_ESCALATED),
    OUTCOME_REOPEN: ("Reopen", STATUS_OPEN),
}
OUTCOME_LABELS: dict[str, str] = {action: label for action, (label, _status) in OUTCOMES.items()}
OUTCOME_STATUSES: dict[str, str] = {action: status for action, (_label, status) in OUTCOMES.items()}


# ---------------------------------------------------------------------------------------
# Evidence kinds: the modifier a saved passage supports
# ---------------------------------------------------------------------------------------

#: The modifier each evidence kind supports (``denials.models.Evidence.Kind``), as CMS defines
#: the X{EPSU} modifiers: a separate encounter (XE), structure (XS), practitioner (XP), or an
#: unusual non-overlapping service (XU). "other" supports none of them (59 is the modifier for
#: a distinct service none of these describes). The appeal package's corrected line and the
#: denial page's short label both read this table.
EVIDENCE_KIND_MODIFIERS: dict[str, str] = {
    "separate-session": "XE",
    "separate-site": "XS",
    "separate-practitioner": "XP",
    "non-overlapping": "XU",
}


# ---------------------------------------------------------------------------------------
# Django choices
# ---------------------------------------------------------------------------------------


def choices(labels: Mapping[str, str], *, blank: str | None = None) -> list[tuple[str, str]]:
    """``labels`` as a Django ``choices`` list, with a leading ("", blank) when ``blank`` is given."""
    head: Iterable[tuple[str, str]] = [("", blank)] if blank is not None else []
    return [*head, *labels.items()]


# Callables, so a model field's ``choices`` follow this module without a migration per new word.
def category_rule_choices() -> list[tuple[str, str]]:
    """What a category rule may name: a rule category or one of the resolved bundling categories."""
    return choices(CATEGORY_RULE_CATEGORIES)


def category_choices() -> list[tuple[str, str]]:
    """The categories triage returns."""
    return choices(CATEGORIES)


def queue_rule_choices() -> list[tuple[str, str]]:
    """What a queue rule may route on: a category triage returns, or bundling as a whole."""
    return choices(QUEUE_RULE_CATEGORIES)


#: Not on the outcome form: the denial page's Appeal button (the appeals app) starts a real
#: appeal, with its level and deadline, and moves the denial to "Sent to appeal" itself. The
#: label stays above for the status and for audit rows written before appeals existed.
OUTCOMES_NOT_ON_THE_FORM: frozenset[str] = frozenset({OUTCOME_APPEAL})


def outcome_choices() -> list[tuple[str, str]]:
    """What a coder may record on a denial with the outcome form, in its order."""
    return [(a, label) for a, label in OUTCOME_LABELS.items() if a not in OUTCOMES_NOT_ON_THE_FORM]
