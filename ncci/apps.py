from __future__ import annotations

from django.apps import AppConfig


class NcciConfig(AppConfig):
    name = "ncci"
    verbose_name = "NCCI edits and code definitions"
