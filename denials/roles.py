"""Roles are Django groups: coder, manager, admin. Superusers count as admins.

An account in none of these groups has no role: it may sign out and change its password, nothing else.
"""

from __future__ import annotations

from typing import Any

CODER = "coder"
MANAGER = "manager"
ADMIN = "admin"
ROLES = (CODER, MANAGER, ADMIN)


def _groups(user: Any) -> set[str]:
    cached = getattr(user, "_overturn_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._overturn_groups = cached
    return cached


def is_admin(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or ADMIN in _groups(user)))


def is_manager(user: Any) -> bool:
    return is_admin(user) or MANAGER in _groups(user)


def role_of(user: Any) -> str:
    if is_admin(user):
        return ADMIN
    if is_manager(user):
        return MANAGER
    return CODER if CODER in _groups(user) else ""


def has_role(user: Any) -> bool:
    """Signed in and a coder, manager or admin (or a superuser).

    Without a role an account sees nothing but itself (sign out, password change): being
    signed in is not a reason to see patients. ``denials.access`` enforces this.
    """
    return role_of(user) != ""
