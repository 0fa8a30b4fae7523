"""Reference data: NCCI PTP and MUE edits, and the code definitions admins keep current.

This app is reference data only: it imports neither ``denials`` nor ``appeals``.
Code definitions keep their full change history (django-simple-history), so every admin
edit is recorded with who and when.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ncci import ptp


class Setting(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    HOSPITAL = "hospital", "Hospital outpatient"
    DME = "dme", "DME supplier"


class ModifierIndicator(models.TextChoices):
    """The CMS modifier indicators; their words live in ``ncci.ptp``."""

    NOT_ALLOWED = ptp.NOT_ALLOWED, ptp.indicator_label(ptp.NOT_ALLOWED)
    ALLOWED = ptp.ALLOWED, ptp.indicator_label(ptp.ALLOWED)
    NOT_APPLICABLE = ptp.NOT_APPLICABLE, ptp.indicator_label(ptp.NOT_APPLICABLE)


class CodeDefinition(models.Model):
    """Shared shape of the code lists: a code, what it means, and when it is valid."""

    code = models.CharField(max_length=10, unique=True)
    summary = models.TextField(
        blank=True,
        help_text="Overturn's own plain-words summary, shown first. Editable; a reload never overwrites an edit.",
    )
    description = models.TextField(
        blank=True, help_text="The official description, as imported from the current list (shown after the summary)."
    )
    start_date = models.DateField(null=True, blank=True)
    stop_date = models.DateField(null=True, blank=True)
    last_modified = models.DateField(null=True, blank=True, help_text="As the official list says, when imported")
    # The summary as last shipped in ncci/data/code_summaries.csv: a summary that differs from it
    # was edited by an admin, and ``codes_load`` leaves it alone.
    summary_shipped = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        words = self.summary or self.description
        return f"{self.code}: {words[:60]}" if words else self.code

    def active_on(self, on: dt.date) -> bool:
        return (self.start_date is None or self.start_date <= on) and (self.stop_date is None or on <= self.stop_date)


class Carc(CodeDefinition):
    """Claim Adjustment Reason Code (X12 code list 139): why an amount was not paid."""

    default_category = models.CharField(
        max_length=40,
        blank=True,
        help_text="Triage category this CARC suggests when no more specific rule applies.",
    )
    history = HistoricalRecords()

    class Meta(CodeDefinition.Meta):
        verbose_name = "CARC"
        verbose_name_plural = "CARCs"


class Rarc(CodeDefinition):
    """Remittance Advice Remark Code (X12 code list 411, maintained by CMS)."""

    history = HistoricalRecords()

    class Meta(CodeDefinition.Meta):
        verbose_name = "RARC"
        verbose_name_plural = "RARCs"


class GroupCode(CodeDefinition):
    """CAS01: who bears the adjusted amount (CO, PR, OA, PI, CR)."""

    history = HistoricalRecords()

    class Meta(CodeDefinition.Meta):
        verbose_name = "group code"


class ProcedureCode(CodeDefinition):
    """CPT/HCPCS procedure code."""

    short_description = models.CharField(max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta(CodeDefinition.Meta):
        verbose_name = "procedure code (CPT/HCPCS)"
        verbose_name_plural = "procedure codes (CPT/HCPCS)"


class Modifier(CodeDefinition):
    class BypassGroup(models.TextChoices):
        # The values are ``ncci.ptp``'s group names: the rules read this table through them.
        ANATOMIC = ptp.ANATOMIC, "Anatomic (LT, RT, FA, F1-F9, TA, T1-T9, E1-E4, LC, LD, LM, RC, RI)"
        GLOBAL_SURGERY = ptp.GLOBAL_SURGERY, "Global surgery (24, 25, 57, 58, 78, 79)"
        OTHER = ptp.OTHER, "Other NCCI-associated (59, XE, XS, XP, XU, 27, 91)"
        NONE = ptp.NONE, "Not an NCCI bypass modifier"

    bypass_group = models.CharField(max_length=20, choices=BypassGroup.choices, default=BypassGroup.NONE)
    history = HistoricalRecords()

    @property
    def bypasses_ncci(self) -> bool:
        return self.bypass_group != self.BypassGroup.NONE


class PtpEdit(models.Model):
    """One row of a CMS NCCI procedure-to-procedure table.

    CMS publishes an edit once with its effective date; later quarters may add a deletion
    date to the same row. A re-instated pair comes back with a new effective date, so
    (setting, column1, column2, effective_date) identifies a row across quarters.
    """

    setting = models.CharField(max_length=12, choices=Setting.choices, default=Setting.PRACTITIONER)
    column1 = models.CharField(max_length=5)
    column2 = models.CharField(max_length=5)
    prior_1996 = models.BooleanField(default=False, help_text="In existence prior to 1996")
    effective_date = models.DateField()
    deletion_date = models.DateField(null=True, blank=True, help_text="Blank when the file says '*'")
    modifier_indicator = models.CharField(max_length=1, choices=ModifierIndicator.choices)
    rationale = models.CharField(max_length=120, blank=True)
    quarter = models.CharField(max_length=6, blank=True, help_text="Quarter the row was last imported from")
    source_file = models.CharField(max_length=120, blank=True)
    history = HistoricalRecords(excluded_fields=["quarter", "source_file"])

    class Meta:
        verbose_name = "PTP edit"
        constraints = [
            models.UniqueConstraint(
                fields=["setting", "column1", "column2", "effective_date"], name="ptp_edit_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(modifier_indicator__in=["0", "1", "9"]), name="ptp_edit_indicator_valid"
            ),
            models.CheckConstraint(
                condition=Q(deletion_date__isnull=True) | Q(deletion_date__gte=models.F("effective_date")),
                name="ptp_edit_deleted_after_effective",
            ),
        ]
        indexes = [
            models.Index(fields=["column2", "column1"], name="ptp_edit_col2_col1"),
        ]

    def __str__(self) -> str:
        return f"{self.column1}/{self.column2} ({self.get_setting_display()}, indicator {self.modifier_indicator})"

    def in_force_on(self, on: dt.date) -> bool:
        """Whether this row is its pair's edit in force on ``on`` (``ncci.ptp.row_in_force``).

        A newer row of the same pair supersedes this one, so the answer needs the pair's next
        effective date: the list selectors annotate it (``next_effective_date``, no query per
        row); a row fetched on its own asks for it here, in one query.
        """
        if "next_effective_date" in self.__dict__:
            next_effective = self.__dict__["next_effective_date"]
        else:
            siblings = PtpEdit.objects.filter(
                setting=self.setting,
                column1=self.column1,
                column2=self.column2,
                effective_date__gt=self.effective_date,
            ).only("setting", "column1", "column2", "effective_date", "deletion_date", "modifier_indicator")
            next_effective = ptp.next_effective_date(self, siblings)
        return ptp.row_in_force(self, on, next_effective=next_effective)


class Mue(models.Model):
    """One row of a quarterly MUE table: the most units of a code payable per line or day."""

    class AdjudicationIndicator(models.TextChoices):
        LINE = "1", "1: line edit"
        DOS_POLICY = "2", "2: date of service edit, policy"
        DOS_CLINICAL = "3", "3: date of service edit, clinical"

    setting = models.CharField(max_length=12, choices=Setting.choices, default=Setting.PRACTITIONER)
    code = models.CharField(max_length=5)
    mue_value = models.PositiveIntegerField()
    adjudication_indicator = models.CharField(max_length=1, choices=AdjudicationIndicator.choices)
    adjudication_text = models.CharField(max_length=60, blank=True)
    rationale = models.CharField(max_length=80, blank=True)
    quarter = models.CharField(max_length=6)
    effective_date = models.DateField(help_text="First day of the quarter the table is for")
    source_file = models.CharField(max_length=120, blank=True)
    history = HistoricalRecords(excluded_fields=["source_file"])

    class Meta:
        verbose_name = "MUE"
        verbose_name_plural = "MUEs"
        constraints = [
            models.UniqueConstraint(fields=["setting", "code", "quarter"], name="mue_natural_key"),
            models.CheckConstraint(condition=Q(adjudication_indicator__in=["1", "2", "3"]), name="mue_indicator_valid"),
        ]
        indexes = [models.Index(fields=["code", "setting", "effective_date"], name="mue_code_lookup")]

    def __str__(self) -> str:
        return f"MUE {self.code} = {self.mue_value} ({self.quarter})"


class NcciImport(models.Model):
    """One run of the importer over one file, with its report."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    table = models.CharField(max_length=3, blank=True)  # ptp or mue
    setting = models.CharField(max_length=12, choices=Setting.choices, blank=True)
    quarter = models.CharField(max_length=6, blank=True)
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=500, blank=True, help_text="Where the uploaded file is kept until imported")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    rows_expected = models.PositiveIntegerField(
        default=0, help_text="Estimated from the file size, for the progress bar (0: unknown)"
    )
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejects = models.JSONField(default=list, blank=True, help_text="The first rejected rows: line and why")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved on while rows stream in; a running import whose heartbeat is older than the lease
    # lost its worker and may be claimed again (the import is one transaction: nothing half-done).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sources = models.JSONField(default=list, blank=True, help_text="The files read (a zip's members)")

    class Meta:
        verbose_name = "NCCI import"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def progress_percent(self) -> int:
        """Rows read against the estimate, capped below 100 until the import is done."""
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_expected:
            return 0
        return min(99, round(100 * self.rows_read / self.rows_expected))

    @property
    def duration(self) -> float | None:
        """Seconds from claim to finish, once finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CodeListImport(models.Model):
    """One run of the code-list importer (CARC, RARC or procedure codes) over one file."""

    class CodeList(models.TextChoices):
        CARC = "carc", "CARC (claim adjustment reason codes)"
        RARC = "rarc", "RARC (remittance advice remark codes)"
        PROCEDURE = "procedure", "Procedure codes (CPT/HCPCS)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    code_list = models.CharField(max_length=10, choices=CodeList.choices)
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=500, blank=True, help_text="Where the uploaded file is kept until imported")
    skip_refused = models.BooleanField(
        default=False, help_text="Import the good rows even when some rows are refused (default: refuse the file)"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0, help_text="Codes the file newly gave a stop date")
    refused = models.PositiveIntegerField(default=0)
    refusals = models.JSONField(default=list, blank=True, help_text="The first refused rows: row, column and why")
    columns = models.JSONField(default=dict, blank=True, help_text="Which of the file's columns were read as what")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "code list import"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_code_list_display()}, {self.status})"


class SpecialtyRange(models.Model):
    """Procedure codes from ``first`` to ``last`` belong to ``specialty`` (the 835 names no
    specialty). The rule that reads these rows is ``ncci.specialties.specialty_for``: the
    narrowest range holding a code wins."""

    specialty = models.CharField(max_length=60)
    first = models.CharField(max_length=5, help_text="First procedure code of the range, e.g. 11000")
    last = models.CharField(max_length=5, help_text="Last procedure code of the range, e.g. 11983")
    position = models.PositiveIntegerField(default=100, help_text="Breaks ties between ranges of equal width")
    history = HistoricalRecords()

    class Meta:
        ordering = ["first", "last", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["first", "last"], name="specialty_range_once")]

    def __str__(self) -> str:
        return f"{self.first}-{self.last}: {self.specialty}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from ncci.specialties import range_problem

        self.first, self.last = self.first.strip().upper(), self.last.strip().upper()
        problem = range_problem(first=self.first, last=self.last)
        if problem:
            raise ValidationError({"last": problem})
