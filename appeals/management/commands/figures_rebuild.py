"""``manage.py figures_rebuild``: rebuild the managers' figures from scratch (``appeals.analytics_rollup``).

The beat task keeps them up to date from what the services write; rebuild after a write that went
round the services (a bare SQL update, a restored backup) or to time a rebuild. ``--incremental``
runs the same refresh beat runs, once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Rebuild the managers' figures (dashboard and analytics API) from the denials and appeals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incremental", action="store_true", help="Only what changed since the last refresh")

    def handle(self, *args: Any, **options: Any) -> None:
        from appeals.analytics_rollup import figures_refresh

        changed = figures_refresh(full=not options["incremental"])
        if changed is None:
            self.stderr.write("Another refresh is running; try again when it has finished.")
            return
        self.stdout.write(f"Figures refreshed in {changed['seconds']:.1f} s: {changed}")
