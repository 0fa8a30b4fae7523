from __future__ import annotations

from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"
    verbose_name = "Remittances and denials"
