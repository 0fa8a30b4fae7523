"""The product's shipped defaults: roles, routine-adjustment rules, category rules, specialty ranges.

A plain install (``migrate`` with no demo) must find and triage denials exactly as the demo
does, so these rows are not demo data: ``defaults_ensure`` applies them from a
``post_migrate`` handler (``denials/apps.py``) and from ``manage.py ensure_defaults``.

Each default set is applied once per version and recorded as a ``ShippedDefaults`` row
(name, version). Re-running changes nothing, an admin's later edits are never overwritten
(rows are only ever added, never updated) and a default row an admin deleted is not
brought back (its version is recorded as applied). To ship a new row later: add it to the
data, list its natural key in the set's ``*_ADDED_IN`` mapping with the next version and
bump the set's version; installs that applied the older version receive only that row.
An install seeded before ``ShippedDefaults`` existed (by ``load_demo``) gets the rows it
lacks by natural key, nothing else.

Admins also get every model permission of the reference apps; a model added later gets
its own set (``admin-perms:<app>.<model>``), so its permissions reach the admin group once.

**Sets other apps ship** (``appeals``: its level rules and letter templates). ``denials``
never imports them, so an app registers its sets here from its ``AppConfig.ready()``
(``default_sets_register``) and applies them from its own ``post_migrate`` handler with
``default_set_apply`` (its handler knows when its tables exist). ``manage.py
ensure_defaults`` applies the registered sets too (``defaults_ensure(include_registered=True)``).
The same rules hold for them: once per version, never overwriting, never restoring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction

from denials.models import (
    AdjustmentRule,
    CategoryRule,
    ShippedDefaults,
)
from denials.services.audit import audit_record

logger = logging.getLogger(__name__)

#: Apps whose every model permission the admin role holds (they edit reference data in the admin).
ADMIN_PERMISSION_APPS = ("ncci", "denials", "appeals", "auth")

#: What coders and managers may see in the Django admin and through model permissions. The
#: app's own checks use the group names (denials.roles); these are for the admin site and
#: for anything that asks ``user.has_perm``.
_CODER_VIEWS = (
    "denials.view_payer",
    "denials.view_remittancefile",
    "denials.view_remittance",
    "denials.view_claimpayment",
    "denials.view_serviceline",
    "denials.view_adjustment",
    "denials.view_remarkcode",
    "denials.view_provideradjustment",
    "denials.view_denial",
    "denials.view_denialnote",
    "denials.view_clinicaldocument",
    "denials.view_evidence",
    "denials.view_workqueue",
    "denials.view_team",
    "ncci.view_carc",
    "ncci.view_rarc",
    "ncci.view_groupcode",
    "ncci.view_procedurecode",
    "ncci.view_modifier",
    "ncci.view_ptpedit",
    "ncci.view_mue",
)
_MANAGER_VIEWS = (
    *_CODER_VIEWS,
    "denials.view_queuerule",
    "denials.view_categoryrule",
    "denials.view_adjustmentrule",
    "denials.view_auditevent",
    "ncci.view_ncciimport",
)

ROLES_SET = "roles"
ROLES_VERSION = 1
#: (group name, "app_label.codename") -> the version that first shipped it; unlisted: 1.
ROLE_PERMISSIONS_ADDED_IN: dict[tuple[str, str], int] = {}

ADJUSTMENT_RULES_SET = "adjustment-rules"
ADJUSTMENT_RULES_VERSION = 1
#: (group code, CARC) -> the version that first shipped it; unlisted: 1.
ADJUSTMENT_RULES_ADDED_IN: dict[tuple[str, str], int] = {}

CATEGORY_RULES_SET = "category-rules"
CATEGORY_RULES_VERSION = 1
#: (group code, CARC, RARC, procedure code) -> the version that first shipped it; unlisted: 1.
CATEGORY_RULES_ADDED_IN: dict[tuple[str, str, str, str], int] = {}

ADMIN_PERMS_PREFIX = "admin-perms:"
#: The key of ``defaults_ensure``'s report for the CARCs given a suggested category (not a set).
CARC_CATEGORIES_REPORT = "carc-default-categories"


def role_permissions() -> dict[str, tuple[str, ...]]:
    """The coder and manager roles' shipped permissions, as "app_label.codename"."""
    from denials.roles import CODER, MANAGER

    return {CODER: _CODER_VIEWS, MANAGER: _MANAGER_VIEWS}


def _permissions(names: Iterable[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = [
        p
        for p in Permission.objects.filter(
            content_type__app_label__in={app for app, _ in wanted}, codename__in={c for _, c in wanted}
        ).select_related("content_type")
        if (p.content_type.app_label, p.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        # A renamed model: the rest of the role still applies; the test of the role list names it.
        logger.warning("Shipped role permissions not found: %s", sorted(".".join(m) for m in missing))
    return found


def _apply_roles(since: int) -> int:
    """Create the three groups and give coder and manager their permissions. A later
    version only adds permissions, to the groups still there (a deleted role stays deleted)."""
    from denials.roles import ROLES

    added = 0
    if since == 0:
        for name in ROLES:
            added += Group.objects.get_or_create(name=name)[1]
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    for role, names in role_permissions().items():
        if role not in groups:
            continue
        new = [n for n in names if ROLE_PERMISSIONS_ADDED_IN.get((role, n), 1) > since]
        have = set(groups[role].permissions.values_list("pk", flat=True))
        perms = [p for p in _permissions(new) if p.pk not in have]
        groups[role].permissions.add(*perms)
        added += len(perms)
    return added


def _apply_admin_model_permissions(app_label: str, model_name: str) -> int:
    """Give the admin group every permission of one model (once; see the module docstring)."""
    from denials.roles import ADMIN

    group = Group.objects.filter(name=ADMIN).first()
    if group is None:  # an admin removed the role: respect it
        return 0
    perms = list(
        Permission.objects.filter(content_type__app_label=app_label, content_type__model=model_name).exclude(
            pk__in=group.permissions.values("pk")
        )
    )
    group.permissions.add(*perms)
    return len(perms)


def _adjustment_rule_rows(since: int) -> list[tuple[str, str, str, str]]:
    from denials.detection import DEFAULT_ADJUSTMENT_RULES

    return [row for row in DEFAULT_ADJUSTMENT_RULES if ADJUSTMENT_RULES_ADDED_IN.get((row[0], row[1]), 1) > since]


def _apply_adjustment_rules(since: int) -> int:
    rows = _adjustment_rule_rows(since)
    existing = set(AdjustmentRule.objects.values_list("group_code", "carc"))
    new = [
        AdjustmentRule(group_code=group, carc=carc, kind=kind, note=note)
        for group, carc, kind, note in rows
        if (group, carc) not in existing
    ]
    for rule in new:
        rule.full_clean(validate_unique=False)
    AdjustmentRule.objects.bulk_create(new)
    return len(new)


def _category_key(rule: object) -> tuple[str, str, str, str]:
    return (
        getattr(rule, "group_code", ""),
        getattr(rule, "carc", ""),
        getattr(rule, "rarc", ""),
        getattr(rule, "procedure_code", ""),
    )


def _apply_category_rules(since: int) -> int:
    """Add the shipped category rules an install lacks (matched on what they match, not on
    their category or priority: an admin's edit of those keeps the row the admin's)."""
    from simple_history.utils import bulk_create_with_history

    from denials.triage import DEFAULT_CATEGORY_RULES

    existing = {_category_key(r) for r in CategoryRule.objects.filter(payer__isnull=True)}
    new = []
    for r in DEFAULT_CATEGORY_RULES:
        key = _category_key(r)
        if CATEGORY_RULES_ADDED_IN.get(key, 1) <= since or key in existing:
            continue
        existing.add(key)
        new.append(
            CategoryRule(
                category=r.category,
                group_code=r.group_code,
                carc=r.carc,
                rarc=r.rarc,
                procedure_code=r.procedure_code,
                priority=r.priority,
            )
        )
    if new:
        bulk_create_with_history(new, CategoryRule, batch_size=500)
    return len(new)


SPECIALTY_RANGES_SET = "specialty-ranges"
SPECIALTY_RANGES_VERSION = 1


def _apply_specialty_ranges(since: int) -> int:
    """Add the shipped procedure-code ranges per specialty (``ncci.specialties``) an install
    lacks, matched on their ends: an admin's renamed specialty keeps the row the admin's."""
    from simple_history.utils import bulk_create_with_history

    from ncci.models import SpecialtyRange
    from ncci.specialties import SHIPPED_SPECIALTY_RANGES

    if since >= 1:
        return 0
    existing = set(SpecialtyRange.objects.values_list("first", "last"))
    new = [
        SpecialtyRange(specialty=r.specialty, first=r.first, last=r.last, position=(index + 1) * 10)
        for index, r in enumerate(SHIPPED_SPECIALTY_RANGES)
        if (r.first, r.last) not in existing
    ]
    if new:
        bulk_create_with_history(new, SpecialtyRange, batch_size=500)
    return len(new)


@dataclass(frozen=True)
class DefaultSet:
    """One named set of shipped rows; ``apply(since)`` adds the rows newer than ``since``."""

    name: str
    version: int
    apply: Callable[[int], int]


def _admin_model_applier(app_label: str, model_name: str) -> Callable[[int], int]:
    def apply(since: int) -> int:
        return _apply_admin_model_permissions(app_label, model_name)

    return apply


def default_sets() -> list[DefaultSet]:
    """Every shipped set, roles first (the admin model permissions need the admin group)."""
    sets = [
        DefaultSet(ROLES_SET, ROLES_VERSION, _apply_roles),
        DefaultSet(ADJUSTMENT_RULES_SET, ADJUSTMENT_RULES_VERSION, _apply_adjustment_rules),
        DefaultSet(CATEGORY_RULES_SET, CATEGORY_RULES_VERSION, _apply_category_rules),
        DefaultSet(SPECIALTY_RANGES_SET, SPECIALTY_RANGES_VERSION, _apply_specialty_ranges),
    ]
    for app_label in ADMIN_PERMISSION_APPS:
        for model in global_apps.get_app_config(app_label).get_models():
            label, name = model._meta.app_label, str(model._meta.model_name)
            sets.append(DefaultSet(f"{ADMIN_PERMS_PREFIX}{label}.{name}", 1, _admin_model_applier(label, name)))
    return sets


def _apply_set(default_set: DefaultSet, *, actor_label: str) -> int | None:
    """Apply one set if its version is new here; None when it was already applied (or
    another process applied it at the same moment: the unique marker row decides)."""
    applied = (
        ShippedDefaults.objects.filter(name=default_set.name).order_by("-version").values_list("version", flat=True)
    )
    since = applied.first() or 0
    if since >= default_set.version:
        return None
    try:
        with transaction.atomic():
            # The marker first: a second process applying the same version waits on it and fails.
            marker = ShippedDefaults.objects.create(name=default_set.name, version=default_set.version)
            marker.rows_added = default_set.apply(since)
            marker.save(update_fields=["rows_added"])
            audit_record(
                actor=None,
                actor_label=actor_label,
                action="defaults.applied",
                target=marker,
                old={"version": since} if since else None,
                new={"name": marker.name, "version": marker.version, "rows_added": marker.rows_added},
            )
    except IntegrityError:
        if ShippedDefaults.objects.filter(name=default_set.name, version=default_set.version).exists():
            return None
        raise
    return marker.rows_added


def default_set_apply(default_set: DefaultSet, *, actor_label: str) -> int | None:
    """Apply one shipped set (of this app or another's) if its version is new here: rows
    added, or None when that version was already applied. Never changes existing rows."""
    return _apply_set(default_set, actor_label=actor_label)


#: Other apps' shipped sets, by app label: a function returning them (called when applied,
#: so a set can depend on what the app has loaded by then).
_REGISTERED_SETS: dict[str, Callable[[], Iterable[DefaultSet]]] = {}


def default_sets_register(*, app_label: str, sets: Callable[[], Iterable[DefaultSet]]) -> None:
    """Register an app's shipped sets (from its ``AppConfig.ready()``); registering the
    same app again replaces its entry, so a repeated ``ready()`` is harmless."""
    _REGISTERED_SETS[app_label] = sets


def registered_default_sets() -> list[DefaultSet]:
    """Every registered app's sets, in registration order. A set whose name is one of
    denials' own sets is refused, naming the app: two owners for one marker would make
    each skip the other's rows."""
    own = {ROLES_SET, ADJUSTMENT_RULES_SET, CATEGORY_RULES_SET}
    found: list[DefaultSet] = []
    for app_label, provider in _REGISTERED_SETS.items():
        for default_set in provider():
            if default_set.name in own or default_set.name.startswith(ADMIN_PERMS_PREFIX):
                raise ValueError(
                    f"The {app_label} app registers a shipped set named {default_set.name!r}, "
                    "which is one of denials' own; give it another name."
                )
            found.append(default_set)
    return found


def carc_default_categories_fill() -> int:
    """Fill each known CARC's suggested category (shown in the admin) from the CARC-only
    category rules, where it is still blank; a CARC an admin gave a category keeps it.

    Runs after the category rules are seeded and again whenever the code lists grow
    (``load_codes`` after ``migrate``), since the CARC rows may arrive in either order.
    """
    from ncci.models import Carc

    by_carc: dict[str, tuple[int, str]] = {}
    for code, category, priority in (
        CategoryRule.objects.filter(group_code="", rarc="", procedure_code="", payer__isnull=True)
        .exclude(carc="")
        .values_list("carc", "category", "priority")
    ):
        if code not in by_carc or priority < by_carc[code][0]:
            by_carc[code] = (priority, category)
    stale = list(Carc.objects.filter(default_category="", code__in=list(by_carc)))
    for row in stale:
        row.default_category = by_carc[row.code][1]
    Carc.objects.bulk_update(stale, ["default_category"], batch_size=500)
    return len(stale)


def defaults_ensure(*, actor_label: str = "ensure_defaults", include_registered: bool = False) -> dict[str, int]:
    """Apply every shipped default set not yet applied here; returns rows added per set
    applied now (empty when everything was already there). Safe to run any number of times.

    ``include_registered``: also other apps' registered sets (``manage.py ensure_defaults``).
    denials' own ``post_migrate`` leaves them out: each app applies its sets from its own
    handler, which runs only once its tables exist."""
    report: dict[str, int] = {}
    sets = default_sets() + (registered_default_sets() if include_registered else [])
    for default_set in sets:
        added = _apply_set(default_set, actor_label=actor_label)
        if added is not None:
            report[default_set.name] = added
    filled = carc_default_categories_fill()
    if filled:
        report[CARC_CATEGORIES_REPORT] = filled
    return report


def adjustment_rules_load_defaults() -> int:
    """Add every shipped routine/denial rule that is missing, whatever was applied before
    (tests and benchmarks on a bare table); existing rows are kept as they are."""
    return _apply_adjustment_rules(0)


def category_rules_load_defaults() -> int:
    """Add every shipped category rule that is missing (tests and benchmarks), and fill the
    CARCs' suggested categories. Existing rules are kept as they are."""
    created = _apply_category_rules(0)
    carc_default_categories_fill()
    return created
