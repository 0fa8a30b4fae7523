"""The words of the appeals domain, each defined once: statuses, methods, outcomes, levels.

Pure: nothing from Django, so the level table (``appeals.levels``), the models (field
``choices``), the services and the API all read the same slugs and labels from here. A slug
is what is stored and what the API returns; a label is what a billing team reads.
"""

from __future__ import annotations

from collections.abc import Mapping

# --- Where an appeal is in its life -------------------------------------------------------
STATUS_DRAFT = "draft"
STATUS_READY = "ready"
STATUS_SUBMITTED = "submitted"
STATUS_DECIDED = "decided"
STATUS_WITHDRAWN = "withdrawn"

STATUSES: dict[str, str] = {
    STATUS_DRAFT: "Draft",
    STATUS_READY: "Ready to send",
    STATUS_SUBMITTED: "Submitted",
    STATUS_DECIDED: "Decided",
    STATUS_WITHDRAWN: "Withdrawn",
}

#: The statuses an appeal may move to from each status. Decided and withdrawn are final: a
#: payer's decision is a fact, and an appeal against it is a new appeal one level up.
TRANSITIONS: dict[str, frozenset[str]] = {
    STATUS_DRAFT: frozenset({STATUS_READY, STATUS_WITHDRAWN}),
    STATUS_READY: frozenset({STATUS_DRAFT, STATUS_SUBMITTED, STATUS_WITHDRAWN}),
    STATUS_SUBMITTED: frozenset({STATUS_DECIDED, STATUS_WITHDRAWN}),
    STATUS_DECIDED: frozenset(),
    STATUS_WITHDRAWN: frozenset(),
}

#: Still waiting on someone (the team or the payer): what "overdue" and "due soon" look at.
OPEN_STATUSES: tuple[str, ...] = (STATUS_DRAFT, STATUS_READY, STATUS_SUBMITTED)
#: Not yet sent: an appeal in one of these past its due date is overdue.
UNSENT_STATUSES: tuple[str, ...] = (STATUS_DRAFT, STATUS_READY)

# --- How it was sent -----------------------------------------------------------------------
METHOD_PORTAL = "portal"
METHOD_FAX = "fax"
METHOD_MAIL = "mail"
METHOD_CLEARINGHOUSE = "clearinghouse"

METHODS: dict[str, str] = {
    METHOD_PORTAL: "Payer portal",
    METHOD_FAX: "Fax",
    METHOD_MAIL: "Mail",
    METHOD_CLEARINGHOUSE: "Clearinghouse",
}

# --- What the payer decided (the same slugs as ``denials.models.Denial.Outcome``) ----------
OUTCOME_OVERTURNED = "overturned"
OUTCOME_PARTIALLY_PAID = "partially-paid"
OUTCOME_UPHELD = "upheld"
OUTCOME_WITHDRAWN = "withdrawn"

OUTCOMES: dict[str, str] = {
    OUTCOME_OVERTURNED: "Overturned (paid)",
    OUTCOME_PARTIALLY_PAID: "Partially paid",
    OUTCOME_UPHELD: "Upheld",
    OUTCOME_WITHDRAWN: "Withdrawn",
}

# --- Payer kinds (the same slugs as ``denials.models.Payer.Kind``) --------------------------
PAYER_MEDICARE = "medicare"
PAYER_MEDICARE_ADVANTAGE = "medicare-advantage"
PAYER_MEDICAID = "medicaid"
PAYER_COMMERCIAL = "commercial"
PAYER_OTHER = "other"

PAYER_KINDS: dict[str, str] = {
    PAYER_MEDICARE: "Medicare (Part A/B)",
    PAYER_MEDICARE_ADVANTAGE: "Medicare Advantage",
    PAYER_MEDICAID: "Medicaid",
    PAYER_COMMERCIAL: "Commercial",
    PAYER_OTHER: "Other",
}

# --- Levels ---------------------------------------------------------------------------------
# Medicare Part A/B (42 CFR 405 subpart I)
LEVEL_REDETERMINATION = "redetermination"
LEVEL_RECONSIDERATION = "reconsideration"
LEVEL_ALJ_HEARING = "alj-hearing"
LEVEL_APPEALS_COUNCIL = "appeals-council"
LEVEL_FEDERAL_COURT = "federal-court"
#: Not an appeal level but a separate route: a clerical error (a missing modifier) fixed by
#: the contractor on request, instead of a redetermination.
LEVEL_REOPENING = "reopening"
# Commercial and every other payer kind
LEVEL_FIRST = "first-level"
LEVEL_SECOND = "second-level"
LEVEL_EXTERNAL_REVIEW = "external-review"

LEVELS: dict[str, str] = {
    LEVEL_REDETERMINATION: "Redetermination (MAC)",
    LEVEL_RECONSIDERATION: "Reconsideration (QIC)",
    LEVEL_ALJ_HEARING: "ALJ hearing",
    LEVEL_APPEALS_COUNCIL: "Medicare Appeals Council review",
    LEVEL_FEDERAL_COURT: "Federal district court",
    LEVEL_REOPENING: "Clerical-error reopening",
    LEVEL_FIRST: "First-level appeal",
    LEVEL_SECOND: "Second-level appeal",
    LEVEL_EXTERNAL_REVIEW: "External review",
}


def choices(words: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(slug, label)`` pairs for a model field's or a form's ``choices``."""
    return list(words.items())


def label(words: Mapping[str, str], slug: str) -> str:
    """The label of a slug, or the slug itself for one no longer in the vocabulary."""
    return words.get(slug, slug)
