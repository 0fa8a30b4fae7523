"""python manage.py load_demo_appeals: the demo's appeals, one in every state, after ``load_demo``.

``make demo`` and ``make run`` run it right after ``load_demo`` (denials never imports
appeals, so ``load_demo`` cannot call it). Idempotent: see ``appeals.demo``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the demo appeals (every state, one decided by a demo follow-up 835). Run after load_demo."

    def handle(self, *args: Any, **options: Any) -> None:
        from appeals.demo import demo_appeals_load

        try:
            report = demo_appeals_load()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        # The demo backdates its history with plain updates the incremental refresh cannot see
        # (no version moves), so the managers' figures are rebuilt whole once it is loaded.
        from appeals.analytics_rollup import figures_refresh

        figures_refresh(full=True)
        self.stdout.write("Managers' figures rebuilt from the demo data.")
