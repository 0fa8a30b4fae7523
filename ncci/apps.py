from __future__ import annotations

from django.apps import AppConfig


class NcciConfig(AppConfig):
    name = "ncci"
    verbose_name = "NCCI edits and code definitions"

    def ready(self) -> None:
        from ncci import tasks  # noqa: F401  (registers the import task services queue by name)
