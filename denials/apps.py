from __future__ import annotations

import sys
from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

#: The models the shipped defaults write; a migrate that stops before them (a rollback to
#: an older migration) leaves the defaults alone.
_DEFAULTS_NEED = (
    ("denials", "ShippedDefaults"),
    ("denials", "AdjustmentRule"),
    ("denials", "CategoryRule"),
    ("ncci", "SpecialtyRange"),
)

#: ``ncci.signals.reference_data_changed`` tables after which the CARC list may have grown.
_CODE_LIST_TABLES = frozenset({"carc", "codes"})


def _queue_retriage(**kwargs: Any) -> None:
    """NCCI tables changed: re-triage open denials once the change is committed."""
    from denials.services.queueing import RETRIAGE_OPEN, queue_after_commit

    queue_after_commit(RETRIAGE_OPEN)


def _fill_carc_categories(*, table: str = "", **kwargs: Any) -> None:
    """``load_codes`` after ``migrate`` adds CARC rows the category rules already cover:
    give them their suggested category (ncci cannot import denials, so it signals)."""
    if table not in _CODE_LIST_TABLES:
        return
    from denials.services.defaults import carc_default_categories_fill

    carc_default_categories_fill()


def _ensure_defaults_after_migrate(
    *, using: str = "default", apps: Any = None, verbosity: int = 1, **kwargs: Any
) -> None:
    """Seed the roles, routine-adjustment rules and category rules on every ``migrate``.

    A plain install must classify and triage denials as the demo does; each set is applied
    once (see ``denials.services.defaults``). Permissions are created by auth's own
    post_migrate handler one app at a time, and appeals comes after denials, so they are
    created here first for every app the roles use.
    """
    if using != DEFAULT_DB_ALIAS:  # the shipped defaults live in the one database the app uses
        return
    if apps is not None:
        try:
            for app_label, model_name in _DEFAULTS_NEED:
                apps.get_model(app_label, model_name)
        except LookupError:
            return  # migrated to a state without the defaults' tables
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    from denials.services.defaults import ADMIN_PERMISSION_APPS, defaults_ensure

    for label in ADMIN_PERMISSION_APPS:
        config = global_apps.get_app_config(label)
        create_contenttypes(config, verbosity=0, using=using)
        create_permissions(config, verbosity=0, using=using)
    report = defaults_ensure(actor_label="migrate")
    if report and verbosity >= 1:
        stdout = kwargs.get("stdout") or sys.stdout
        stdout.write(f"  Shipped defaults applied: {_summary(report)}\n")


def _summary(report: dict[str, int]) -> str:
    """One line for ``migrate``'s output: the named sets, and the per-model admin sets as one."""
    from denials.services.defaults import ADMIN_PERMS_PREFIX, CARC_CATEGORIES_REPORT

    admin = {name: n for name, n in report.items() if name.startswith(ADMIN_PERMS_PREFIX)}
    parts = [f"{name} ({n} rows)" for name, n in report.items() if name not in admin and name != CARC_CATEGORIES_REPORT]
    if admin:
        parts.append(f"admin permissions of {len(admin)} models ({sum(admin.values())} rows)")
    if report.get(CARC_CATEGORIES_REPORT):
        parts.append(f"suggested categories of {report[CARC_CATEGORIES_REPORT]} CARCs")
    return ", ".join(parts)


class DenialsConfig(AppConfig):
    name = "denials"
    verbose_name = "Remittances and denials"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from denials import tasks  # noqa: F401  (registers the tasks services queue by name)
        from ncci.signals import reference_data_changed

        reference_data_changed.connect(_queue_retriage, dispatch_uid="denials-retriage-on-ncci-change")
        reference_data_changed.connect(_fill_carc_categories, dispatch_uid="denials-carc-categories-on-code-lists")
        post_migrate.connect(_ensure_defaults_after_migrate, sender=self, dispatch_uid="denials-shipped-defaults")
