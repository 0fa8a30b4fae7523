"""The appeals app's shipped defaults: the appeal level rules and the cover-letter templates.

A plain install must compute deadlines and write letters as the demo does, so these rows
are seeded by ``migrate`` through the mechanism in ``denials.services.defaults`` (applied
once per version, recorded as a ``ShippedDefaults`` row; an admin's edit is never
overwritten and a row an admin deleted is not brought back):

- ``appeal-level-rules``: one ``AppealLevelRule`` per row of ``levels.SHIPPED_LEVEL_RULES``,
  matched on (payer kind, level).
- ``letter-templates``: one ``LetterTemplate`` per entry of ``appeals.letters.SHIPPED_LETTERS``
  (for every payer), matched on (category, name).
- ``reference-lines``: one ``ReferenceLine`` per entry of
  ``appeals.reference_lines.SHIPPED_REFERENCE_LINES`` (the published figures the managers'
  dashboard shows beside the team's own), matched on ``key``.

How it is wired (``denials`` never imports ``appeals``): ``AppealsConfig.ready()`` calls
``appeal_defaults_connect(self)``, which registers ``appeal_default_sets`` with denials'
defaults (so ``manage.py ensure_defaults`` applies them) and connects
``appeal_defaults_after_migrate`` to ``post_migrate`` for this app.

To ship a new row later: add it to the data, list its key in ``*_ADDED_IN`` with the next
version and bump the set's version; installs that applied the older version get that row only.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate

from appeals import levels, reference_lines
from appeals.models import AppealLevelRule, LetterTemplate, ReferenceLine
from denials.services.defaults import DefaultSet, default_set_apply, default_sets_register

LEVEL_RULES_SET = "appeal-level-rules"
LEVEL_RULES_VERSION = 1
#: (payer kind, level) -> the version that first shipped it; unlisted: 1.
LEVEL_RULES_ADDED_IN: dict[tuple[str, str], int] = {}

LETTERS_SET = "letter-templates"
LETTERS_VERSION = 1
#: (category, name) -> the version that first shipped it; unlisted: 1.
LETTERS_ADDED_IN: dict[tuple[str, str], int] = {}

REFERENCE_LINES_SET = "reference-lines"
REFERENCE_LINES_VERSION = 1
#: key -> the version that first shipped it; unlisted: 1.
REFERENCE_LINES_ADDED_IN: dict[str, int] = {}

#: The tables the sets write; a migrate that stops before them leaves the defaults alone.
_DEFAULTS_NEED = (
    ("denials", "ShippedDefaults"),
    ("appeals", "AppealLevelRule"),
    ("appeals", "LetterTemplate"),
    ("appeals", "ReferenceLine"),
)


def _apply_level_rules(since: int) -> int:
    """Add the shipped level rules an install lacks (by payer kind and level): an admin's
    edit of a row's days or rank keeps the row the admin's."""
    from simple_history.utils import bulk_create_with_history

    existing = set(AppealLevelRule.objects.values_list("payer_kind", "level"))
    new = []
    for row in levels.SHIPPED_LEVEL_RULES:
        key = (row.payer_kind, row.rule.level)
        if LEVEL_RULES_ADDED_IN.get(key, 1) <= since or key in existing:
            continue
        rule = AppealLevelRule(
            payer_kind=row.payer_kind,
            level=row.rule.level,
            rank=row.rank,
            days=row.rule.days,
            receipt_days=row.rule.receipt_days,
            years=row.rule.years,
            minimum_amount=row.rule.minimum_amount,
            minimum_amount_year=row.rule.minimum_amount_year,
            source=row.rule.source,
        )
        rule.full_clean(validate_unique=False)
        new.append(rule)
    if new:
        bulk_create_with_history(new, AppealLevelRule)
    return len(new)


def shipped_letters() -> Sequence[Mapping[str, str]] | None:
    """``appeals.letters.SHIPPED_LETTERS`` (dicts of name, category, subject, body), or None
    while that module does not ship any (then the letters set is not offered at all, so no
    version is recorded as applied before there is something to apply)."""
    import importlib

    try:
        letters = importlib.import_module("appeals.letters")
    except ModuleNotFoundError as missing:
        if missing.name != "appeals.letters":
            raise  # the module exists and is broken: say so, do not skip it silently
        return None
    found = getattr(letters, "SHIPPED_LETTERS", None)
    return tuple(found) if found is not None else None


def _letter_key(letter: Mapping[str, Any]) -> tuple[str, str]:
    return (str(letter.get("category", "")), str(letter["name"]))


def _apply_letters(since: int) -> int:
    """Add the shipped letters an install lacks (templates for every payer, matched on
    category and name); an edited letter stays as the admin left it."""
    from simple_history.utils import bulk_create_with_history

    existing = set(LetterTemplate.objects.filter(payer__isnull=True).values_list("category", "name"))
    new = []
    for letter in shipped_letters() or ():
        key = _letter_key(letter)
        if LETTERS_ADDED_IN.get(key, 1) <= since or key in existing:
            continue
        existing.add(key)
        template = LetterTemplate(name=key[1], category=key[0], subject=letter["subject"], body=letter["body"])
        template.full_clean(validate_unique=False)
        new.append(template)
    if new:
        bulk_create_with_history(new, LetterTemplate)
    return len(new)


def _apply_reference_lines(since: int) -> int:
    """Add the shipped reference lines an install lacks (by key): a line an admin edited or hid
    stays as the admin left it, and one the admin deleted is not brought back."""
    from decimal import Decimal

    from simple_history.utils import bulk_create_with_history

    existing = set(ReferenceLine.objects.values_list("key", flat=True))
    new = []
    for line in reference_lines.SHIPPED_REFERENCE_LINES:
        if REFERENCE_LINES_ADDED_IN.get(line.key, 1) <= since or line.key in existing:
            continue
        row = ReferenceLine(
            key=line.key,
            measures=line.figure,
            label=line.label,
            low=Decimal(str(line.low)),
            high=Decimal(str(line.high)) if line.high != line.low else None,
            source=line.source,
            position=line.position,
        )
        row.full_clean(validate_unique=False)
        new.append(row)
    if new:
        bulk_create_with_history(new, ReferenceLine)
    return len(new)


def appeal_default_sets() -> list[DefaultSet]:
    """The appeals app's shipped sets (the letters only once ``appeals.letters`` ships some)."""
    sets = [
        DefaultSet(LEVEL_RULES_SET, LEVEL_RULES_VERSION, _apply_level_rules),
        DefaultSet(REFERENCE_LINES_SET, REFERENCE_LINES_VERSION, _apply_reference_lines),
    ]
    if shipped_letters() is not None:
        sets.append(DefaultSet(LETTERS_SET, LETTERS_VERSION, _apply_letters))
    return sets


def appeal_defaults_apply(*, actor_label: str = "ensure_defaults") -> dict[str, int]:
    """Apply the appeals sets not yet applied here: rows added per set applied now."""
    report: dict[str, int] = {}
    for default_set in appeal_default_sets():
        added = default_set_apply(default_set, actor_label=actor_label)
        if added is not None:
            report[default_set.name] = added
    return report


def appeal_defaults_after_migrate(
    *, using: str = DEFAULT_DB_ALIAS, apps: Any = None, verbosity: int = 1, **kwargs: Any
) -> None:
    """``post_migrate`` for the appeals app: seed its level rules, letters and reference lines."""
    if using != DEFAULT_DB_ALIAS:  # the shipped defaults live in the one database the app uses
        return
    if apps is not None:
        try:
            for app_label, model_name in _DEFAULTS_NEED:
                apps.get_model(app_label, model_name)
        except LookupError:
            return  # migrated to a state without the defaults' tables
    report = appeal_defaults_apply(actor_label="migrate")
    if report and verbosity >= 1:
        stdout = kwargs.get("stdout") or sys.stdout
        said = ", ".join(f"{name} ({n} rows)" for name, n in report.items())
        stdout.write(f"  Shipped appeal defaults applied: {said}\n")


def appeal_defaults_connect(config: AppConfig) -> None:
    """Wire the shipped defaults (from ``AppealsConfig.ready()``; repeated calls are harmless)."""
    default_sets_register(app_label=config.label, sets=appeal_default_sets)
    post_migrate.connect(appeal_defaults_after_migrate, sender=config, dispatch_uid="appeals-shipped-defaults")
