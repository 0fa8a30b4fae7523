"""Appeals: a request to a payer to pay one or more denied lines of one claim.

Writes go through ``appeals.services`` (versioned and audited); the words come from
``appeals.vocabulary``; the deadlines from ``appeals.levels``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

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
