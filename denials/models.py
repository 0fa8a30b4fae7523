"""Payers, remittances, claims, adjustments, denials, triage and work queues.

Natural keys are database constraints, so ingesting the same file twice can write nothing
new even when two workers race. Money is Decimal. State changes go through
``denials.services`` and are recorded as ``AuditEvent`` rows.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from denials import outcomes, vocabulary

# Dollars and cents: 12 digits before the point, 2 after; Decimal, never float.
MONEY_DIGITS = 14
MONEY_PLACES = 2


class Team(models.Model):
    """A billing team. Users belong to teams; work queues belong to teams."""

    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AppendOnlyError(Exception):
    """An audit row was about to be changed or deleted: the trail is append-only."""


class AppendOnlyQuerySet(models.QuerySet):
    """Audit rows are written once: the app can add them, never change or delete them."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class AuditEvent(AppendOnlyModel):
    """One state change: who, when, what, the old value and the new one."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="'system' or the task that acted")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=60)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=40)
    target_repr = models.CharField(max_length=200, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-at"], name="audit_target")]

    def __str__(self) -> str:
        who = self.actor or self.actor_label or "system"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.target_repr}"


class AccessEvent(AppendOnlyModel):
    """One look at patient data: who opened which claim, denial or file, or exported or
    printed it, and when. Written by the selectors' callers, never changed afterwards."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        EXPORT = "export", "Exported"
        PDF = "pdf", "Printed / PDF"
        DOWNLOAD = "download", "Downloaded"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="The username at the time")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=40)
    path = models.CharField(max_length=300, blank=True, help_text="The page or API path that showed it")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-at"], name="access_target")]

    def __str__(self) -> str:
        who = self.actor_label or "system"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.target_type_id}:{self.target_id}"


class ShippedDefaults(models.Model):
    """Which shipped default rows have been applied (by name and version), so re-running
    ``migrate`` adds only what is new and never brings back a row an admin deleted."""

    name = models.CharField(max_length=60)
    version = models.PositiveIntegerField()
    applied_at = models.DateTimeField(auto_now_add=True)
    rows_added = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="shipped_defaults_once")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Payer(models.Model):
    """A payer, identified by the id it sends (REF*2U, else N1*PR N104, else its name)."""

    payer_key = models.CharField(max_length=120, unique=True, help_text="How incoming files identify this payer")
    name = models.CharField(max_length=200)
    identifier = models.CharField(max_length=80, blank=True, help_text="Payer id from REF*2U or N1*PR N104")
    identifier_qualifier = models.CharField(max_length=4, blank=True)
    appeal_window_days = models.PositiveIntegerField(
        default=120, help_text="Days from the remittance date to file a first-level appeal"
    )

    class Kind(models.TextChoices):
        """Which appeal ladder the payer follows (``appeals.levels``): Medicare's five levels
        set by regulation, or the payer's own first, second and external review."""

        MEDICARE = "medicare", "Medicare (Part A/B)"
        MEDICARE_ADVANTAGE = "medicare-advantage", "Medicare Advantage"
        MEDICAID = "medicaid", "Medicaid"
        COMMERCIAL = "commercial", "Commercial"
        OTHER = "other", "Other"

    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        default=Kind.COMMERCIAL,
        help_text="Which appeal levels and deadlines apply",
    )
    # Where appeals go: the payer's appeals address is rarely the one on its remittances,
    # so an admin records it; an appeal package shows it as missing until then.
    appeal_address = models.TextField(blank=True, help_text="Postal address for appeals, as it goes on the letter")
    appeal_fax = models.CharField(max_length=30, blank=True, help_text="Fax number for appeals")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Provider(models.Model):
    """The payee of a remittance (N1*PE): a practice or a provider, by NPI and TIN."""

    name = models.CharField(max_length=200)
    npi = models.CharField(max_length=15, blank=True)
    tin = models.CharField(max_length=15, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["npi", "tin", "name"], name="provider_natural_key")]

    def __str__(self) -> str:
        return self.name


class RemittanceFile(models.Model):
    """A received 835 file, kept byte for byte, and what became of it."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload page"
        API = "api", "REST API"
        INBOX = "inbox", "Inbox folder"
        COMMAND = "command", "Management command"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        INGESTED = "ingested", "Ingested"
        FAILED = "failed", "Failed"
        DUPLICATE = "duplicate", "Duplicate"

    class Validation(models.TextChoices):
        PENDING = "pending", "Not checked yet"
        PASSED = "passed", "Passed"
        FINDINGS = "findings", "Findings"
        SKIPPED = "skipped", "Skipped"

    original_name = models.CharField(max_length=255)
    content = models.BinaryField(help_text="The file exactly as received")
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.SET_NULL, related_name="files")
    x12_version = models.CharField(max_length=20, blank=True)
    transactions_total = models.PositiveIntegerField(default=0)
    transactions_done = models.PositiveIntegerField(default=0)
    transactions_skipped = models.PositiveIntegerField(
        default=0, help_text="Remittances already stored from another file"
    )
    claim_count = models.PositiveIntegerField(default=0)
    service_line_count = models.PositiveIntegerField(default=0)
    adjustment_count = models.PositiveIntegerField(default=0)
    denial_count = models.PositiveIntegerField(default=0)
    total_paid = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    total_charge = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The attempt holding the file ("<task id>/<token>", new for every attempt): only a file
    # whose lease ran out (its worker died or hung) can be taken by another attempt, even a
    # redelivery of the same task; the sweeper re-queues such files.
    worker_task_id = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    validation_status = models.CharField(max_length=10, choices=Validation.choices, default=Validation.PENDING)
    validation_findings = models.JSONField(default=list, blank=True)
    acknowledgement_999 = models.TextField(blank=True)
    inbox_path = models.CharField(max_length=500, blank=True, help_text="Where the inbox copy waits to be filed")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # The same bytes are stored once; later arrivals are recorded as duplicates of it.
            models.UniqueConstraint(
                fields=["sha256"], condition=~Q(status="duplicate"), name="remittance_file_unique_bytes"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.INGESTED, self.Status.FAILED, self.Status.DUPLICATE}

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.transactions_total:
            return 0
        return int(100 * self.transactions_done / self.transactions_total)


class Remittance(models.Model):
    """One ST/SE transaction: one payment (or notice) from a payer to a payee."""

    file = models.ForeignKey(RemittanceFile, on_delete=models.CASCADE, related_name="remittances")
    dedupe_key = models.CharField(max_length=64, unique=True, help_text="Identifies the same remittance in any file")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="remittances")
    payee = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="remittances")
    interchange_control_number = models.CharField(max_length=20, blank=True)
    group_control_number = models.CharField(max_length=20, blank=True)
    transaction_control_number = models.CharField(max_length=20, blank=True)
    sender_id = models.CharField(max_length=30, blank=True)
    handling_code = models.CharField(max_length=2, blank=True)
    payment_amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    credit_debit = models.CharField(max_length=1, blank=True)
    payment_method = models.CharField(max_length=3, blank=True)
    payment_date = models.DateField(null=True, blank=True, db_index=True)
    production_date = models.DateField(null=True, blank=True)
    trace_number = models.CharField(max_length=50, blank=True, db_index=True)
    claim_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-payment_date", "-id"]

    def __str__(self) -> str:
        return f"{self.payer} {self.trace_number or self.transaction_control_number}"

    @property
    def remittance_date(self):  # type: ignore[no-untyped-def]
        """The date appeal windows count from: the payment date, else the production date."""
        return self.payment_date or self.production_date


class ClaimPayment(models.Model):
    """One CLP loop: the payer's answer for one claim in one remittance."""

    # No index of its own: claim_payment_natural_key (remittance, sequence) serves it.
    remittance = models.ForeignKey(Remittance, on_delete=models.CASCADE, related_name="claims", db_index=False)
    sequence = models.PositiveIntegerField()
    # No index of its own: claim_payer_status (payer, status_code) serves it.
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="+", db_index=False)
    # Looked up through claim_history_lookup (patient_control_number, payer_claim_number).
    patient_control_number = models.CharField(max_length=38)
    status_code = models.CharField(max_length=2)
    charge = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    paid = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    patient_responsibility = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    filing_indicator = models.CharField(max_length=2, blank=True)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    facility_type = models.CharField(max_length=3, blank=True)
    frequency_code = models.CharField(max_length=1, blank=True)
    drg_code = models.CharField(max_length=10, blank=True)
    patient_last_name = models.CharField(max_length=60, blank=True)
    patient_first_name = models.CharField(max_length=35, blank=True)
    patient_member_id = models.CharField(max_length=80, blank=True)
    insured_member_id = models.CharField(max_length=80, blank=True)
    rendering_provider_name = models.CharField(max_length=120, blank=True)
    rendering_provider_npi = models.CharField(max_length=15, blank=True)
    statement_from = models.DateField(null=True, blank=True)
    statement_to = models.DateField(null=True, blank=True)
    received_date = models.DateField(null=True, blank=True)
    balanced = models.BooleanField(default=True)
    warnings = models.JSONField(default=list, blank=True)
    previous_payment = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="later_payments",
        help_text="The earlier payment of the same claim (same patient control and payer claim number)",
    )
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reversals",
        help_text="For a reversal (status 22): the payment it takes back",
    )

    class Meta:
        ordering = ["remittance_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["remittance", "sequence"], name="claim_payment_natural_key"),
        ]
        # Indexes named here rather than db_index=True: on PostgreSQL db_index=True on a text
        # column also builds a varchar_pattern_ops twin for LIKE 'prefix%', which no query of
        # the app makes, and every index is one more insert per row stored (issue 13).
        indexes = [
            models.Index(fields=["payer", "status_code"], name="claim_payer_status"),
            models.Index(fields=["patient_control_number", "payer_claim_number"], name="claim_history_lookup"),
            models.Index(fields=["payer_claim_number"], name="claim_payer_claim_number"),
            models.Index(fields=["patient_last_name"], name="claim_patient_last_name"),
            models.Index(fields=["patient_member_id"], name="claim_patient_member_id"),
        ]

    STATUS_LABELS = {
        "1": "Processed as primary",
        "2": "Processed as secondary",
        "3": "Processed as tertiary",
        "4": "Denied",
        "19": "Processed as primary, forwarded",
        "20": "Processed as secondary, forwarded",
        "21": "Processed as tertiary, forwarded",
        "22": "Reversal of previous payment",
        "23": "Not our claim, forwarded",
        "25": "Predetermination pricing only",
    }

    def __str__(self) -> str:
        return f"Claim {self.patient_control_number}"

    @property
    def status_label(self) -> str:
        return self.STATUS_LABELS.get(self.status_code, f"Status {self.status_code}")

    @property
    def patient_name(self) -> str:
        return ", ".join(p for p in (self.patient_last_name, self.patient_first_name) if p)


class ServiceLine(models.Model):
    """One SVC loop: a procedure on a date with its charge and payment."""

    # No index of its own: service_line_natural_key (claim, sequence) serves it.
    claim = models.ForeignKey(
        ClaimPayment, on_delete=models.CASCADE, related_name="service_lines", db_index=False, db_constraint=False
    )
    sequence = models.PositiveIntegerField()
    qualifier = models.CharField(max_length=2, default="HC")
    procedure_code = models.CharField(max_length=48)
    modifier1 = models.CharField(max_length=2, blank=True)
    modifier2 = models.CharField(max_length=2, blank=True)
    modifier3 = models.CharField(max_length=2, blank=True)
    modifier4 = models.CharField(max_length=2, blank=True)
    revenue_code = models.CharField(max_length=48, blank=True)
    original_procedure_code = models.CharField(max_length=48, blank=True)
    units = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    charge = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    paid = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    allowed = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True)
    service_date = models.DateField(null=True, blank=True)
    service_date_end = models.DateField(null=True, blank=True)
    line_control_number = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["claim_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["claim", "sequence"], name="service_line_natural_key")]
        # Named here, not db_index=True: no LIKE 'prefix%' twin on PostgreSQL (see ClaimPayment).
        indexes = [models.Index(fields=["procedure_code"], name="service_line_procedure_code")]

    def __str__(self) -> str:
        mods = "-".join(self.modifiers)
        return f"{self.procedure_code}{'-' + mods if mods else ''}"

    @property
    def modifiers(self) -> list[str]:
        return [m for m in (self.modifier1, self.modifier2, self.modifier3, self.modifier4) if m]


class Adjustment(models.Model):
    """One CAS amount: group code + CARC, at claim level (line empty) or line level."""

    # No index of its own: adjustment_natural_key (claim, sequence) serves it.
    claim = models.ForeignKey(
        ClaimPayment, on_delete=models.CASCADE, related_name="adjustments", db_index=False, db_constraint=False
    )
    line = models.ForeignKey(
        ServiceLine, null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments", db_constraint=False
    )
    sequence = models.PositiveIntegerField(help_text="Position among the claim's adjustments")
    group_code = models.CharField(max_length=2)
    reason_code = models.CharField(max_length=5)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    quantity = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["claim_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["claim", "sequence"], name="adjustment_natural_key")]
        # Named here, not db_index=True: no LIKE 'prefix%' twin on PostgreSQL (see ClaimPayment).
        indexes = [models.Index(fields=["reason_code"], name="adjustment_reason_code")]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.reason_code} {self.amount}"

    @property
    def code(self) -> str:
        return f"{self.group_code}-{self.reason_code}"


class RemarkCode(models.Model):
    """A RARC on a claim (MOA/MIA) or on a line (LQ*HE)."""

    class Source(models.TextChoices):
        LINE = "LQ", "Line remark (LQ)"
        CLAIM = "MOA", "Claim remark (MOA/MIA)"

    # No index of its own: remark_natural_key (claim, sequence) serves it.
    claim = models.ForeignKey(
        ClaimPayment, on_delete=models.CASCADE, related_name="remarks", db_index=False, db_constraint=False
    )
    line = models.ForeignKey(
        ServiceLine, null=True, blank=True, on_delete=models.CASCADE, related_name="remarks", db_constraint=False
    )
    sequence = models.PositiveIntegerField()
    code = models.CharField(max_length=8)
    source = models.CharField(max_length=3, choices=Source.choices)

    class Meta:
        ordering = ["claim_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["claim", "sequence"], name="remark_natural_key")]
        # Named here, not db_index=True: no LIKE 'prefix%' twin on PostgreSQL (see ClaimPayment).
        indexes = [models.Index(fields=["code"], name="remark_code")]

    def __str__(self) -> str:
        return self.code


class ProviderAdjustment(models.Model):
    """A PLB amount: interest, recoupment, forward balance; not tied to a claim."""

    remittance = models.ForeignKey(Remittance, on_delete=models.CASCADE, related_name="provider_adjustments")
    sequence = models.PositiveIntegerField()
    provider_identifier = models.CharField(max_length=50, blank=True)
    fiscal_period_date = models.DateField(null=True, blank=True)
    reason_code = models.CharField(max_length=4)
    reference = models.CharField(max_length=60, blank=True)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)

    class Meta:
        ordering = ["remittance_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["remittance", "sequence"], name="provider_adjustment_natural_key")
        ]

    def __str__(self) -> str:
        return f"PLB {self.reason_code} {self.amount}"


class AdjustmentRule(models.Model):
    """Whether a group code + CARC is routine (expected) or a denial. Data, not code.

    A blank CARC matches every CARC of the group code; the exact pair wins over it.
    """

    class Kind(models.TextChoices):
        ROUTINE = "routine", "Routine (not a denial)"
        DENIAL = "denial", "Denial"

    group_code = models.CharField(max_length=2)
    carc = models.CharField(max_length=5, blank=True, help_text="Blank: every CARC of this group code")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["group_code", "carc"]
        constraints = [models.UniqueConstraint(fields=["group_code", "carc"], name="adjustment_rule_natural_key")]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.carc or '*'}: {self.kind}"


class WorkQueue(models.Model):
    """A list of denials a team works. Every triaged denial lands in exactly one queue."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="queues")
    description = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team__name", "name"]

    def __str__(self) -> str:
        return self.name


class QueueRule(models.Model):
    """Routes denials to a queue by category and/or payer; the most specific rule wins.

    A blank category or payer matches any; among equally specific rules, the lower
    ``priority`` number wins.
    """

    queue = models.ForeignKey(WorkQueue, on_delete=models.CASCADE, related_name="rules")
    category = models.CharField(
        max_length=40, blank=True, choices=vocabulary.queue_rule_choices, help_text="Triage category; blank: any"
    )
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveIntegerField(default=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "payer"], name="queue_rule_one_per_key", nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"{self.category or 'any category'} / {self.payer or 'any payer'} -> {self.queue}"


class CategoryRule(models.Model):
    """Maps group code + CARC + RARC (+ payer, procedure code) to a triage category.

    Blank fields match anything; the most specific rule wins, then the lower priority
    number. The category "bundling" is split by the NCCI lookup into the bundling-* slugs.
    """

    category = models.CharField(max_length=40, choices=vocabulary.category_rule_choices)
    group_code = models.CharField(max_length=2, blank=True)
    carc = models.CharField(max_length=5, blank=True)
    rarc = models.CharField(max_length=8, blank=True)
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    procedure_code = models.CharField(max_length=10, blank=True)
    priority = models.PositiveIntegerField(default=100)
    note = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority", "carc", "rarc"]
        indexes = [models.Index(fields=["carc"], name="category_rule_carc")]

    def __str__(self) -> str:
        parts = [self.group_code, self.carc, self.rarc, self.procedure_code]
        return f"{'/'.join(p or '*' for p in parts)} -> {self.category}"


#: Work still to do: what a queue page shows unless asked for another status.
ACTIVE_STATUSES = vocabulary.ACTIVE_STATUSES


class Denial(models.Model):
    """An amount a payer did not pay for a reason the team may work on."""

    class Kind(models.TextChoices):
        CLAIM_DENIED = "claim-denied", "Claim denied"
        LINE_DENIED = "line-denied", "Line denied"
        PARTIAL = "partial", "Partial denial"
        ZERO_PAY = "zero-pay", "Line paid $0 with no routine reason"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in-progress", "In progress"
        CORRECTED = "corrected", "Corrected claim"
        APPEALED = "appealed", "Sent to appeal"
        WRITTEN_OFF = "written-off", "Written off"
        BILLED_PATIENT = "billed-patient", "Billed to patient"
        INFO_REQUESTED = "info-requested", "Information requested"
        ESCALATED = "escalated", "Escalated"
        RESOLVED = "resolved", "Resolved"

    claim = models.ForeignKey(ClaimPayment, on_delete=models.CASCADE, related_name="denials")
    line = models.ForeignKey(ServiceLine, null=True, blank=True, on_delete=models.CASCADE, related_name="denials")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    group_code = models.CharField(max_length=2)
    carc = models.CharField(max_length=5, db_index=True, help_text="The CARC with the largest amount")
    rarcs = models.CharField(max_length=80, blank=True, help_text="Space-separated RARCs")
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, help_text="Amount at stake")
    adjustments = models.ManyToManyField(Adjustment, related_name="denials", blank=True)
    service_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped on every change: a save carrying an older version is refused, never merged.
    version = models.PositiveIntegerField(default=1)

    # --- Triage (denials.services.denials_triage) -----------------------------------
    category = models.CharField(max_length=40, blank=True, db_index=True)
    action = models.CharField(max_length=24, blank=True)
    action_modifier = models.CharField(max_length=2, blank=True)
    explanation = models.TextField(blank=True)
    queue = models.ForeignKey(WorkQueue, null=True, blank=True, on_delete=models.SET_NULL, related_name="denials")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_denials"
    )
    success_probability = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    expected_recovery = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal("0"))
    priority = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("0"), db_index=True)
    due_date = models.DateField(null=True, blank=True, db_index=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    # The NCCI PTP edit found for a bundling denial, copied so the page and the appeal
    # letter show exactly what triage saw, even after a later quarter changes the table.
    ptp_edit = models.ForeignKey("ncci.PtpEdit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pair_line = models.ForeignKey(
        ServiceLine,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The other line of the PTP pair",
    )
    ncci_column1 = models.CharField(max_length=5, blank=True, db_index=True)
    ncci_column2 = models.CharField(max_length=5, blank=True, db_index=True)
    ncci_modifier_indicator = models.CharField(max_length=1, blank=True)
    ncci_effective_date = models.DateField(null=True, blank=True)
    ncci_deletion_date = models.DateField(null=True, blank=True)
    ncci_quarter = models.CharField(max_length=6, blank=True)
    ncci_setting = models.CharField(max_length=12, blank=True)
    ncci_rationale = models.CharField(max_length=120, blank=True)

    # --- Outcome --------------------------------------------------------------------
    class Outcome(models.TextChoices):
        NONE = "", "Not decided"
        OVERTURNED = "overturned", "Overturned (paid)"
        PARTIALLY_PAID = "partially-paid", "Partially paid"
        UPHELD = "upheld", "Upheld"
        WITHDRAWN = "withdrawn", "Withdrawn"

    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    recovered_amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True)
    resolution_reason = models.CharField(max_length=300, blank=True, help_text="Why written off, escalated...")
    chosen_modifier = models.CharField(max_length=2, blank=True, help_text="Modifier on the corrected claim line")
    worked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-amount", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim"], condition=Q(line__isnull=True), name="denial_one_per_claim_level"
            ),
            models.UniqueConstraint(fields=["claim", "line"], name="denial_one_per_line"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="denial_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["payer", "status"], name="denial_payer_status"),
            models.Index(fields=["queue", "status", "-priority"], name="denial_queue_order"),
            models.Index(fields=["assignee", "status"], name="denial_assignee"),
            # A queue page reads the first rows of work still to do in priority order:
            # these let it stop after one page instead of sorting the whole queue.
            models.Index(
                fields=["queue", "-priority", "due_date", "id"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="denial_active_queue_order",
            ),
            models.Index(
                fields=["assignee", "-priority", "due_date", "id"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="denial_active_mine_order",
            ),
            models.Index(
                fields=["queue", "category", "-priority", "due_date", "id"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="denial_active_category_order",
            ),
            models.Index(
                fields=["queue"],
                include=["amount"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="denial_active_queue_amount",
            ),
            # A queue sorted by due date ("due" in ``selectors.WORKLIST_SORTS``), read a page at a time.
            models.Index(
                fields=["queue", "due_date", "-priority", "id"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="denial_active_queue_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.carc} {self.amount} on {self.claim}"

    @property
    def code(self) -> str:
        return f"{self.group_code}-{self.carc}"

    @property
    def rarc_list(self) -> list[str]:
        return self.rarcs.split()

    # --- What the denial page may offer: each asks the one rule in ``denials.outcomes``
    # that ``services.denial_record_outcome`` enforces, so page and service agree.
    @property
    def outcome_recorded(self) -> bool:
        """A coder has recorded what was done (the list and the page show it beside the status)."""
        return outcomes.outcome_recorded(status=self.status)

    @property
    def can_reopen(self) -> bool:
        """A recorded outcome can be undone; a denial still open or in progress has none."""
        return not outcomes.reopen_refusal(status=self.status)

    @property
    def can_bill_patient(self) -> bool:
        """Only a patient-responsibility (PR) amount may be billed to the patient."""
        return not outcomes.bill_patient_refusal(group_code=self.group_code, carc=self.carc)

    @property
    def modifier_cannot_bypass(self) -> bool:
        """NCCI indicator 0: a corrected claim with a bypass modifier would be refused."""
        return outcomes.modifier_cannot_bypass(modifier_indicator=self.ncci_modifier_indicator)


class ClinicalDocument(models.Model):
    """Clinical documentation attached to a claim: an operative or progress note."""

    class Kind(models.TextChoices):
        TEXT = "text", "Plain text"
        PDF = "pdf", "PDF"

    claim = models.ForeignKey(ClaimPayment, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=4, choices=Kind.choices)
    content = models.BinaryField(help_text="The file as uploaded")
    sha256 = models.CharField(max_length=64)
    text = models.TextField(help_text="The text coders read and quote (extracted from a PDF)")
    page_count = models.PositiveIntegerField(default=1)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["claim", "sha256"], name="document_once_per_claim")]

    def __str__(self) -> str:
        return self.title


class Evidence(models.Model):
    """A passage of a document saved as support for a denial: what the appeal letter quotes."""

    class Kind(models.TextChoices):
        SEPARATE_SITE = "separate-site", "Separate site or structure (XS)"
        SEPARATE_SESSION = "separate-session", "Separate session or encounter (XE)"
        SEPARATE_PRACTITIONER = "separate-practitioner", "Separate practitioner (XP)"
        NON_OVERLAPPING = "non-overlapping", "Non-overlapping service (XU)"
        OTHER = "other", "Other"

    denial = models.ForeignKey(Denial, on_delete=models.CASCADE, related_name="evidence")
    document = models.ForeignKey(ClinicalDocument, on_delete=models.CASCADE, related_name="evidence")
    start = models.PositiveIntegerField(help_text="Offset of the first character in the document text")
    end = models.PositiveIntegerField()
    quote = models.TextField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_id", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="evidence_not_empty")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.quote[:60]}"


class DenialNote(models.Model):
    denial = models.ForeignKey(Denial, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class QueueCount(models.Model):
    """What the worklist's queue tabs count: denials of one status in one queue, and their amount.

    Each row is a change (+n denials, +amount), written by triggers on the denial table
    (migration 0012) for every insert, update and delete, whatever made it: the ORM, the COPY
    and ``UPDATE ... FROM`` of ``denials.bulk``, the admin, a cascade. A queue's figure is the
    sum of its rows; ``services.queue_counts_compact`` folds them into one row per queue and
    status. Rows only ever get added by writers, so two saves never wait on each other here.
    Which statuses are "active work" is decided when reading (``selectors.worklist_queues``).
    """

    # No queue: denials triage has not put in one (admins' "All queues" counts them). A deleted
    # queue's rows stay: its denials' move to no queue (SET_NULL) adds the rows that zero them.
    queue = models.ForeignKey(WorkQueue, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    status = models.CharField(max_length=16)
    n = models.BigIntegerField()
    amount = models.DecimalField(max_digits=MONEY_DIGITS + 6, decimal_places=MONEY_PLACES)

    class Meta:
        indexes = [models.Index(fields=["queue", "status"], include=["n", "amount"], name="queuecount_queue_status")]

    def __str__(self) -> str:
        return f"queue {self.queue_id} {self.status}: {self.n:+} ({self.amount:+})"


# The managers' figures' tables (copies of the rows above, kept by ``denials.analytics_rollup``) live in
# their own module; importing it here registers them with the app like every other model.
from denials.analytics_models import *  # noqa: E402, F403
