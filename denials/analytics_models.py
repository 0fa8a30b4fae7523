"""The managers' figures' own tables: one narrow row per denial (``DenialFact``) with every key a
figure filters or groups on already worked out, and the billed claims per remittance
(``ClaimFigure``) for the denial rate's denominator, so the dashboard aggregates without joining
the million denials to their 2.4 million claims. ``FiguresState`` says how fresh they are.

They are copies, never edited by hand: ``denials.analytics_rollup`` writes them from the rows
they copy (incrementally, by a beat task), and reads nothing else. What each column means is the
rule in ``denials.analytics`` (the module docstring); the refresh applies those rules, the
figures only add up.

Registered through ``denials.models``, which imports this module at its end.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from denials import vocabulary
from denials.models import MONEY_DIGITS, MONEY_PLACES, Denial

__all__ = ["ClaimFigure", "DenialCell", "DenialFact", "FigureCache", "FiguresState", "PreventionCell"]

#: The categories prevention reports (``denials.analytics.prevention``): what a scrubber rule
#: (indicator 0) or a documentation prompt (indicator 1, the modifier was missing) would have saved.
PREVENTION_CATEGORIES: tuple[str, ...] = (vocabulary.BUNDLING_NOT_APPEALABLE, vocabulary.BUNDLING_MODIFIER_MAY_APPLY)
#: Every column prevention reads besides the queue and the date (its index covers them).
PREVENTION_COLUMNS: list[str] = [
    "payer_id",
    "specialty",
    "setting",
    "category",
    "column1",
    "column2",
    "provider_name",
    "provider_npi",
    "amount",
]


class DenialFact(models.Model):
    """One denial as the figures read it (``denials.analytics`` module docstring)."""

    denial = models.OneToOneField(Denial, primary_key=True, on_delete=models.CASCADE, related_name="figures")
    claim_id = models.BigIntegerField()
    payer_id = models.BigIntegerField()
    queue_id = models.BigIntegerField(null=True)
    #: The remittance date (payment date, else production date) and its month's first day.
    remit_date = models.DateField(null=True)
    remit_month = models.DateField(null=True)
    category = models.CharField(max_length=40)
    group_code = models.CharField(max_length=2)
    carc = models.CharField(max_length=5)
    setting = models.CharField(max_length=12)
    procedure_code = models.CharField(max_length=48)
    #: ``ncci.specialties.specialty_for`` of ``procedure_code`` over the admin's ranges.
    specialty = models.CharField(max_length=60)
    status = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    #: The claim is a reversal (status 22): never a claim billed.
    reversal = models.BooleanField()
    resolution_reason = models.CharField(max_length=300)
    #: The local day the outcome was recorded (``worked_at``).
    worked_on = models.DateField(null=True)
    column1 = models.CharField(max_length=5)
    column2 = models.CharField(max_length=5)
    provider_name = models.CharField(max_length=120)
    provider_npi = models.CharField(max_length=15)
    #: Counting claims (the denial rate) without COUNT(DISTINCT), for each slice of ``DenialCell``:
    #: ``claim_first`` marks the first denial (lowest id) of its claim, ``claim_first_setting`` /
    #: ``claim_first_specialty`` the first among the claim's denials of this one's setting /
    #: specialty. Summing the marks counts each claim once while a filter keeps all of those
    #: denials or none: true unless ``claim_split*``, where they sit in more than one queue (or
    #: payer); such claims are counted one by one.
    claim_first = models.BooleanField(db_default=False)
    claim_first_setting = models.BooleanField(db_default=False)
    claim_first_specialty = models.BooleanField(db_default=False)
    claim_split = models.BooleanField(db_default=False)
    claim_split_setting = models.BooleanField(db_default=False)
    claim_split_specialty = models.BooleanField(db_default=False)
    #: What the row was copied from: a denial whose stamps differ is copied again.
    source_version = models.PositiveIntegerField()
    source_updated_at = models.DateTimeField()
    source_triaged_at = models.DateTimeField(help_text="The epoch when never triaged")
    #: ``worked_at`` too: the demo's history sets it after the services wrote (the epoch when none).
    source_worked_at = models.DateTimeField()
    #: When this refresh wrote the row (the appeal lines of a denial copied again are recomputed).
    copied_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["remit_date"], name="denialfact_date"),
            models.Index(fields=["remit_month"], name="denialfact_month"),
            models.Index(fields=["queue_id", "remit_date"], name="denialfact_queue"),
            models.Index(fields=["payer_id", "remit_date"], name="denialfact_payer"),
            models.Index(fields=["specialty", "remit_date"], name="denialfact_specialty"),
            models.Index(fields=["copied_at"], name="denialfact_copied"),
            models.Index(fields=["claim_id"], name="denialfact_claim"),
            models.Index(
                fields=["remit_date"],
                condition=Q(claim_split=True) | Q(claim_split_setting=True) | Q(claim_split_specialty=True),
                name="denialfact_split",
            ),
            # Prevention (``denials.analytics.prevention``) reads its two categories from this
            # index alone (an index-only scan once VACUUM has marked the pages all-visible), queue
            # by queue for a manager or a team.
            models.Index(
                fields=["queue_id", "remit_date"],
                include=PREVENTION_COLUMNS,
                condition=Q(category__in=PREVENTION_CATEGORIES),
                name="denialfact_prevention",
            ),
        ]

    def __str__(self) -> str:
        return f"Figures of denial {self.denial_id}"


#: ``DenialCell.setting`` / ``specialty`` of a row added up over every setting / specialty.
EVERY = "*"


class DenialCell(models.Model):
    """The denials' copies (``DenialFact``) added up per month of remittance and every key a denial
    figure filters or groups on but the day: payer, queue, category, group code and CARC, status,
    reversal, the reason of a write-off. Three slices of the same denials, told apart by the
    setting and specialty columns: every setting and specialty added up (both ``EVERY``), each
    setting (specialty ``EVERY``), each specialty (setting ``EVERY``); a figure reads the one its
    filters name (both filters at once: the copies themselves). So the figures of a whole month
    read a few hundred rows instead of tens of thousands; the days of a month a date range cuts
    are read from the copies (``denials.analytics`` says how).

    Written by ``denials.analytics_rollup`` from ``DenialFact`` in the same transaction as the
    copies: every month a refresh touched is added up again."""

    remit_month = models.DateField(null=True)
    payer_id = models.BigIntegerField()
    queue_id = models.BigIntegerField(null=True)
    setting = models.CharField(max_length=12)
    specialty = models.CharField(max_length=60)
    category = models.CharField(max_length=40)
    group_code = models.CharField(max_length=2)
    carc = models.CharField(max_length=5)
    status = models.CharField(max_length=16)
    reversal = models.BooleanField()
    #: As typed, for a write-off; blank for any other status (only write-offs are grouped by it).
    resolution_reason = models.CharField(max_length=300)
    n = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)
    #: Of those, the claims counted once (``DenialFact.claim_first*`` of the slice, not split).
    claims = models.PositiveIntegerField()
    #: Of those, the ones with an outcome day and a remittance date, and the days between, added up.
    resolved = models.PositiveIntegerField()
    resolved_days = models.DurationField()

    class Meta:
        indexes = [models.Index(fields=["specialty", "setting", "remit_month"], name="denialcell_slice")]

    def __str__(self) -> str:
        return f"{self.n} denials of {self.remit_month}, payer {self.payer_id}, {self.category}"


class PreventionCell(models.Model):
    """The prevention categories' copies (``DenialFact``, ``PREVENTION_CATEGORIES``) added up per
    month of remittance, queue and every key prevention groups on (category, NCCI pair, setting,
    rendering provider): a few thousand groups, where the copies are 200,000 rows at a million
    denials. ``denials.analytics.prevention`` reads the whole months of a range here when no filter
    names a payer or a specialty (which the cells do not keep), and the days around them from the
    copies. Written with ``DenialCell``, month by month, from the copies."""

    remit_month = models.DateField(null=True)
    queue_id = models.BigIntegerField(null=True)
    category = models.CharField(max_length=40)
    column1 = models.CharField(max_length=5)
    column2 = models.CharField(max_length=5)
    setting = models.CharField(max_length=12)
    provider_name = models.CharField(max_length=120)
    provider_npi = models.CharField(max_length=15)
    n = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)

    class Meta:
        indexes = [models.Index(fields=["remit_month"], name="preventioncell_month")]

    def __str__(self) -> str:
        return f"{self.n} prevention denials of {self.remit_month}, {self.column1}/{self.column2}"


class ClaimFigure(models.Model):
    """Claims billed on one remittance, reversals excluded (the denial rate's denominator):
    ``specialty`` blank is every claim and its charge; a specialty is the claims with a line of
    that specialty and those lines' charges. A remittance with no claim billed has one blank row
    of zeros, so the refresh knows it has been counted."""

    remittance = models.ForeignKey("denials.Remittance", on_delete=models.CASCADE, related_name="+")
    payer_id = models.BigIntegerField()
    remit_date = models.DateField(null=True)
    specialty = models.CharField(max_length=60, blank=True)
    claims = models.PositiveIntegerField()
    charge = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)

    class Meta:
        indexes = [models.Index(fields=["specialty", "remit_date"], name="claimfigure_specialty_date")]

    def __str__(self) -> str:
        return f"Remittance {self.remittance_id}, {self.specialty or 'all'}: {self.claims} claims"


class FiguresState(models.Model):
    """One row: when the figures were last brought up to date, and with which specialty ranges."""

    refreshed_at = models.DateTimeField(null=True)
    #: Moves on when a refresh changed any figure: the cached figures of older versions are stale.
    version = models.PositiveBigIntegerField(default=0)
    #: The ranges the specialties were derived with; another fingerprint re-derives them all.
    specialty_fingerprint = models.CharField(max_length=64, blank=True)
    last_seconds = models.FloatField(default=0)
    last_changed = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Figures as of {self.refreshed_at}"


class FigureCache(models.Model):
    """One figure as a selector of ``denials.analytics`` / ``appeals.analytics`` answered it, for
    one scope of visible queues, filters and day, at one ``FiguresState.version``: exact until the
    next refresh that changes anything (which deletes the older versions' rows)."""

    key = models.CharField(max_length=64, primary_key=True)
    version = models.PositiveBigIntegerField(db_index=True)
    value = models.BinaryField()

    def __str__(self) -> str:
        return f"Cached figure {self.key[:12]} (version {self.version})"
