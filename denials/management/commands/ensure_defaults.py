"""python manage.py ensure_defaults: apply the shipped roles, adjustment rules and category rules,
and the sets other apps register (``appeals``: appeal level rules and letter templates).

``migrate`` already does this (a post_migrate handler); the command is for checking an
install, or for a database restored from a dump taken before the defaults existed.
Idempotent: it adds only sets not yet applied and never changes or restores an admin's rows.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Apply the shipped default roles, rules, appeal levels and letter templates not yet applied."

    def handle(self, *args: Any, **options: Any) -> None:
        from denials.services.defaults import CARC_CATEGORIES_REPORT, defaults_ensure

        report = defaults_ensure(actor_label="ensure_defaults", include_registered=True)
        filled = report.pop(CARC_CATEGORIES_REPORT, 0)
        for name, added in report.items():
            self.stdout.write(f"  {name}: {added} row(s) added")
        if filled:
            self.stdout.write(f"  {filled} CARC(s) given their suggested category")
        if report:
            self.stdout.write(self.style.SUCCESS(f"Shipped defaults: {len(report)} set(s) applied."))
        else:
            self.stdout.write(self.style.SUCCESS("Shipped defaults: already applied, nothing to add."))
