from __future__ import annotations

from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = "Appeals"

    def ready(self) -> None:
        from appeals import tasks  # noqa: F401  (registers the tasks beat and services queue by name)
        from appeals.followups import on_remittance_file_stored
        from denials.signals import remittance_file_stored

        # A later 835 answering a submitted appeal decides it (denials sends, appeals listens).
        remittance_file_stored.connect(on_remittance_file_stored, dispatch_uid="appeals-follow-up-835")
        from appeals.defaults import appeal_defaults_connect

        # Shipped level rules and letter templates: registered with denials' ensure_defaults,
        # and seeded on every migrate (post_migrate, sender=self).
        appeal_defaults_connect(self)
