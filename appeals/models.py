"""Appeals: a request to a payer to pay one or more denied lines of one claim.

Writes go through ``appeals.services`` (versioned and audited); the words come from
``appeals.vocabulary``; the deadlines from ``appeals.levels``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from appeals import vocabulary as v
from denials.models import MONEY_DIGITS, MONEY_PLACES


class Appeal(models.Model):
    """One appeal at one level, covering denied lines of one claim."""

    claim = models.ForeignKey("denials.ClaimPayment", on_delete=models.PROTECT, related_name="appeals")
    denials = models.ManyToManyField("denials.Denial", related_name="appeals")
    level = models.CharField(max_length=20, choices=v.choices(v.LEVELS), db_index=True)
    status = models.CharField(max_length=12, choices=v.choices(v.STATUSES), default=v.STATUS_DRAFT, db_index=True)
    due_date = models.DateField(null=True, blank=True, db_index=True, help_text="Last day to file at this level")
    submitted_on = models.DateField(null=True, blank=True)
    method = models.CharField(max_length=14, choices=v.choices(v.METHODS), blank=True)
    payer_reference = models.CharField(max_length=80, blank=True, help_text="The payer's number for this appeal")
    outcome = models.CharField(max_length=16, choices=v.choices(v.OUTCOMES), blank=True)
    amount_recovered = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    decided_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    overdue_since = models.DateField(
        null=True, blank=True, help_text="Set by the daily check when the due date passed before submission"
    )
    # Bumped on every change: a save carrying an older version is refused, never merged.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_levels",
        help_text="The appeal one level below, whose decision this one appeals",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_recovered__gte=0), name="appeal_amount_not_negative"),
            # A payer's answer exists only once the payer has answered.
            models.CheckConstraint(
                condition=Q(outcome="") | Q(status=v.STATUS_DECIDED), name="appeal_outcome_only_when_decided"
            ),
            models.CheckConstraint(
                condition=~Q(status=v.STATUS_DECIDED) | ~Q(outcome=""), name="appeal_decided_has_outcome"
            ),
            # "Appeal" on a second line of a claim adds to the claim's draft, even when two
            # coders press it at once.
            models.UniqueConstraint(
                fields=["claim"], condition=Q(status=v.STATUS_DRAFT), name="appeal_one_draft_per_claim"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="appeal_status_due"),
        ]

    def __str__(self) -> str:
        return f"Appeal {self.pk} ({v.label(v.LEVELS, self.level)}, {v.label(v.STATUSES, self.status)})"

    @property
    def is_overdue(self) -> bool:
        """Past its due date and still not sent (the daily task also stamps ``overdue_since``)."""
        from django.utils import timezone

        return self.status in v.UNSENT_STATUSES and self.due_date is not None and self.due_date < timezone.localdate()


class AppealLevelRule(models.Model):
    """One level of appeal for one payer kind: how long there is to file it and what it needs.

    Admin-editable data, seeded from ``appeals.levels.SHIPPED_LEVEL_RULES`` by the shipped
    defaults; ``appeals.levels`` computes deadlines from these rows.
    """

    payer_kind = models.CharField(max_length=20, choices=v.choices(v.PAYER_KINDS))
    level = models.CharField(max_length=20, choices=v.choices(v.LEVELS))
    rank = models.PositiveSmallIntegerField(
        help_text="Position on the payer kind's ladder, lowest first; 0 for a route beside the ladder "
        "(a Medicare clerical-error reopening)"
    )
    days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days to file; empty for the payer's own appeal window"
    )
    receipt_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days after the notice's date it is presumed received (Medicare: 5)"
    )
    years = models.PositiveSmallIntegerField(default=0, help_text="Counted in whole years instead of days")
    minimum_amount = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
        help_text="Least amount in controversy the level hears",
    )
    minimum_amount_year = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="Where the rule comes from")
    history = HistoricalRecords()

    class Meta:
        # The admin lists it as Appeals > Level rules (``levels.ADMIN_PLACE`` names that place).
        verbose_name = "level rule"
        ordering = ["payer_kind", "rank", "level"]
        constraints = [
            models.UniqueConstraint(fields=["payer_kind", "level"], name="appeal_level_rule_once"),
        ]

    def __str__(self) -> str:
        return f"{v.label(v.PAYER_KINDS, self.payer_kind)}: {v.label(v.LEVELS, self.level)}"


class LetterTemplate(models.Model):
    """A cover letter admins write, for a denial category and optionally one payer.

    The most specific active template wins: category and payer, then category, then payer,
    then the default (both blank). The body is a Django template that sees only the fixed
    context documented in ``appeals.letters``.
    """

    name = models.CharField(max_length=120)
    category = models.CharField(
        max_length=40, blank=True, help_text="Denial category this letter is for; blank for any category"
    )
    payer = models.ForeignKey(
        "denials.Payer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only for this payer; blank for every payer",
    )
    subject = models.CharField(max_length=200, help_text="The letter's Re: line (a template, like the body)")
    body = models.TextField(help_text="The letter (Django template syntax; see the documented context)")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "payer__name", "name"]

    def __str__(self) -> str:
        return self.name


class AppealFollowUp(models.Model):
    """What a later 835 said about a line under a submitted appeal: paid, partly paid, denied
    again or reversed. Written by ``appeals.followups`` during ingest; the appeal's automatic
    decision reads these rows, so every decision traces to the remittance behind it."""

    class Kind(models.TextChoices):
        PAID = "paid", "Paid at the allowed amount"
        PARTIALLY_PAID = "partially-paid", "Paid less than allowed"
        REDENIED = "re-denied", "Denied again"
        REVERSED = "reversed", "Earlier payment reversed"

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="follow_ups")
    claim = models.ForeignKey("denials.ClaimPayment", on_delete=models.CASCADE, related_name="+")
    line = models.ForeignKey("denials.ServiceLine", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    denial = models.ForeignKey(
        "denials.Denial",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The appealed denial this line answers",
    )
    redenial = models.ForeignKey(
        "denials.Denial",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The new denial of a line denied again, attached here instead of queued",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, help_text="Net new payment on the line"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appeal", "claim", "line"], name="appeal_follow_up_once"),
        ]

    def __str__(self) -> str:
        return f"Appeal {self.appeal_id}: {self.get_kind_display()}"


class SentModifier(models.Model):
    """The modifier an appeal asked the payer to read on one covered line's corrected line, as
    the package had it when the appeal was sent (``appeals.package.corrected_line_modifier``);
    blank when the package had no corrected line or no modifier for it.

    Written once, by ``appeals.services.appeal_update`` when the appeal moves to submitted; the
    dashboard's "modifier used" groups by it. Kept on the appeal's side, not on the denial's
    ``chosen_modifier``, because a denial reopened or corrected later changes that field, and
    what was sent with an appeal must not change afterwards.
    """

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="sent_modifiers")
    denial = models.ForeignKey("denials.Denial", on_delete=models.CASCADE, related_name="+")
    modifier = models.CharField(max_length=2, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appeal", "denial"], name="sent_modifier_once"),
        ]

    def __str__(self) -> str:
        return f"Appeal {self.appeal_id}, denial {self.denial_id}: {self.modifier or 'no modifier'}"


class ReferenceLine(models.Model):
    """A published figure the dashboard shows beside the team's own, with its source.

    Seeded from ``appeals.reference_lines.SHIPPED_REFERENCE_LINES`` by the shipped defaults
    (``appeals.defaults``, set ``reference-lines``); admins edit the wording, the figure and the
    source, or untick "shown" to hide a line. Fractions: 0.5 is 50%.
    """

    class Measures(models.TextChoices):
        BUNDLING_FIRST_LEVEL_SUCCESS = "bundling_first_level_success", "Success of first-level bundling appeals"
        DENIAL_RATE_DOLLARS = "denial_rate_dollars", "Denial rate by dollars"
        DENIAL_RATE_CLAIMS = "denial_rate_claims", "Denial rate by claims"

    key = models.SlugField(max_length=60, unique=True, help_text="Fixed name the shipped defaults match on")
    measures = models.CharField(
        max_length=40, choices=Measures.choices, help_text="The dashboard figure it stands beside"
    )
    label = models.CharField(max_length=200)
    low = models.DecimalField(
        max_digits=5, decimal_places=4, help_text="The figure, or the low end of a range, as a fraction (0.5 for 50%)"
    )
    high = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The high end of a range, as a fraction; empty for a single figure",
    )
    source = models.CharField(max_length=300, help_text="Who published it, and when")
    shown = models.BooleanField(default=True, help_text="Untick to hide it from the dashboard")
    position = models.PositiveSmallIntegerField(default=100, help_text="Lower first")
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(low__gte=0, low__lte=1)
                & (Q(high__isnull=True) | Q(high__gte=models.F("low"), high__lte=1)),
                name="reference_line_range",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, str] = {}
        if self.low is not None and not (0 <= self.low <= 1):
            errors["low"] = f"{self.low} is not a fraction between 0 and 1 (write 0.5 for 50%)."
        if self.high is not None and not (0 <= self.high <= 1):
            errors["high"] = f"{self.high} is not a fraction between 0 and 1 (write 0.7 for 70%)."
        elif self.high is not None and self.low is not None and self.high < self.low:
            errors["high"] = f"The high end ({self.high}) is below the low end ({self.low})."
        if errors:
            raise ValidationError(errors)


# The managers' figures' tables (copies of the rows above, kept by ``appeals.analytics_rollup``) live in
# their own module; importing it here registers them with the app like every other model.
from appeals.analytics_models import *  # noqa: E402, F403
