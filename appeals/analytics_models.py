"""The appeal figures' own table: one narrow row per line of an appeal (``Appeal.denials`` through
row) with its appeal's dates, result, level, coder and payer, its denial's keys and money, and the
line's share of what the appeal recovered, all worked out by ``appeals.analytics_rollup`` with
the rules of ``appeals.analytics`` and ``appeals.recovery``. A copy, never edited by hand.

Registered through ``appeals.models``, which imports this module at its end.
"""

from __future__ import annotations

from django.db import models

from appeals.models import Appeal
from denials.models import MONEY_DIGITS, MONEY_PLACES

#: ``AppealLineFact.result``: what became of the appeal (``appeals.analytics`` "Outcomes").
WON, PARTIAL, LOST, PENDING, WITHDRAWN = "won", "partial", "lost", "pending", "withdrawn"
DECIDED_RESULTS: tuple[str, ...] = (WON, PARTIAL, LOST)


__all__ = ["AppealCell", "AppealLineFact"]


class AppealLineFact(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="+")
    denial = models.ForeignKey("denials.Denial", on_delete=models.CASCADE, related_name="+")
    #: The local day the appeal was started, and its month's first day.
    started_on = models.DateField()
    started_month = models.DateField()
    decided_on = models.DateField(null=True)
    decided_month = models.DateField(null=True)
    result = models.CharField(max_length=10)
    level = models.CharField(max_length=20)
    coder_id = models.BigIntegerField(null=True)
    #: The payer of the appeal's claim (grouping), and of the denial (the payer filter).
    payer_id = models.BigIntegerField()
    denial_payer_id = models.BigIntegerField()
    queue_id = models.BigIntegerField(null=True)
    setting = models.CharField(max_length=12)
    specialty = models.CharField(max_length=60)
    category = models.CharField(max_length=40)
    group_code = models.CharField(max_length=2)
    carc = models.CharField(max_length=5)
    column1 = models.CharField(max_length=5)
    column2 = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    #: The line's share of the appeal's recovered amount (``appeals.recovery``).
    recovered = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    #: Counting appeals in one pass (``appeals.analytics._figures``): ``first_<grouping>`` marks the
    #: first line (lowest denial id) of its appeal in its group of that grouping (``first_appeal``:
    #: of the whole appeal), so summing the marks counts each appeal once per group. That holds
    #: while a filter keeps all of an appeal's lines or none: true unless ``mixed``, an appeal whose
    #: lines differ in what the filters read (queue, setting, specialty, the denial's payer), which
    #: the figures count apart, appeal by appeal.
    first_appeal = models.BooleanField(db_default=False)
    first_edit = models.BooleanField(db_default=False)
    first_carc = models.BooleanField(db_default=False)
    first_category = models.BooleanField(db_default=False)
    first_modifier = models.BooleanField(db_default=False)
    first_specialty = models.BooleanField(db_default=False)
    mixed = models.BooleanField(db_default=False)
    #: The first of its appeal's bundling lines (``denials.vocabulary.BUNDLING_CATEGORIES``): counts
    #: an appeal once among its bundling lines (``bundling_first_level_success``).
    first_bundling = models.BooleanField(db_default=False)
    #: The appeal's lines sit in more than one work queue (a narrower ``mixed``: queue only). The
    #: others are added up in ``AppealCell``; these are counted appeal by appeal.
    split_queue = models.BooleanField(db_default=False)
    source_version = models.PositiveIntegerField()
    source_updated_at = models.DateTimeField()
    #: ``created_at`` too: the demo's history dates its appeals after the services wrote them.
    source_created_at = models.DateTimeField()
    copied_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["appeal", "denial"], name="appeallinefact_once")]
        indexes = [
            models.Index(fields=["started_on"], name="appeallinefact_started"),
            models.Index(fields=["decided_on"], name="appeallinefact_decided"),
            models.Index(fields=["queue_id"], name="appeallinefact_queue"),
            models.Index(fields=["denial_payer_id"], name="appeallinefact_payer"),
            models.Index(fields=["specialty"], name="appeallinefact_specialty"),
            models.Index(fields=["denial"], name="appeallinefact_denial"),
            # The few lines counted appeal by appeal: read through these, not by the whole table.
            models.Index(fields=["started_on"], condition=models.Q(mixed=True), name="appeallinefact_mixed"),
            models.Index(fields=["started_on"], condition=models.Q(split_queue=True), name="appeallinefact_split"),
        ]

    def __str__(self) -> str:
        return f"Figures of appeal {self.appeal_id}, denial {self.denial_id}"


class AppealCell(models.Model):
    """The appeal lines' copies (``AppealLineFact``) added up per month an appeal was started, work
    queue and the keys of one grouping (``grouping``: ``edit``, ``carc``... as
    ``appeals.analytics_rollup.CELL_GROUPINGS`` lists them; the columns of the other groupings stay
    blank), so an appeal figure of whole months reads a few thousand cells, not every line.
    ``decided`` is the exception: its cells are dated by the month the payer decided
    (``decided_month``), for "recovered by month".

    Only the lines of appeals whose lines all sit in one queue (not ``split_queue``): summing the
    counting marks (``first_<grouping>``) over cells is then exact for any choice of queues (a
    user's scope, a team) and months. The figures read the cells when no filter names a payer, a
    setting or a specialty (which the cells do not keep), and add the days a date range cuts from a
    month and the split appeals from the copies themselves (``appeals.analytics``).

    Written by ``appeals.analytics_rollup`` from the copies in the same transaction as them: a
    refresh that changed any appeal line adds every cell up again (a few seconds)."""

    grouping = models.CharField(max_length=12)
    started_month = models.DateField(null=True)
    decided_month = models.DateField(null=True)
    queue_id = models.BigIntegerField(null=True)
    column1 = models.CharField(max_length=5, db_default="")
    column2 = models.CharField(max_length=5, db_default="")
    group_code = models.CharField(max_length=2, db_default="")
    carc = models.CharField(max_length=5, db_default="")
    category = models.CharField(max_length=40, db_default="")
    modifier = models.CharField(max_length=2, db_default="")
    specialty = models.CharField(max_length=60, db_default="")
    level = models.CharField(max_length=20, db_default="")
    payer_id = models.BigIntegerField(null=True)
    coder_id = models.BigIntegerField(null=True)
    #: The lines added up (a deleted appeal takes its lines with it: the refresh compares counts).
    lines = models.PositiveIntegerField()
    #: Appeals counted once per group (the marks summed), and of those each result.
    n = models.PositiveIntegerField()
    won = models.PositiveIntegerField()
    partial = models.PositiveIntegerField()
    lost = models.PositiveIntegerField()
    pending = models.PositiveIntegerField()
    withdrawn = models.PositiveIntegerField()
    at_stake = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)
    decided_at_stake = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)
    recovered = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)

    class Meta:
        indexes = [
            models.Index(fields=["grouping", "started_month"], name="appealcell_started"),
            models.Index(fields=["grouping", "decided_month"], name="appealcell_decided"),
        ]

    def __str__(self) -> str:
        return f"{self.n} appeals by {self.grouping}, {self.started_month or self.decided_month}, queue {self.queue_id}"
