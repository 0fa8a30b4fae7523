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
