from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _queue_retriage(**kwargs: Any) -> None:
    """NCCI tables changed: re-triage open denials once the change is committed."""
    from denials.tasks import retriage_open_denials

    retriage_open_denials.delay_on_commit()


class DenialsConfig(AppConfig):
    name = "denials"
    verbose_name = "Remittances and denials"

    def ready(self) -> None:
        from ncci.signals import reference_data_changed

        reference_data_changed.connect(_queue_retriage, dispatch_uid="denials-retriage-on-ncci-change")
