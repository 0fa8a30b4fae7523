"""Who may reach a page or API endpoint at all, before any object is looked up.

One rule (``refusal``): an account with no role (no coder, manager or admin group, not a
superuser) reaches only its own account, sign-out and password change, and the public
pages (the Django admin keeps its own staff gate). Anything else answers 403, or 404 for a
URL naming an object (the same answer an outsider gets for another team's object, so an
id's existence is not revealed).

Two doors apply it: ``denials.middleware.RoleRequiredMiddleware`` for every HTML page,
whatever app it belongs to (``ncci`` cannot import ``denials``), and ``HasRole`` for the
REST API, where DRF authenticates tokens only inside the view. Which objects a user with
a role sees is the selectors' business (``denials.selectors.*_visible_to``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from denials.roles import has_role

#: Views an account with no role may still use (URL names): its own account.
ACCOUNT_VIEWS = frozenset(
    {
        "logout",
        "password_change",
        "password_change_done",
        "admin:logout",
        "admin:password_change",
        "admin:password_change_done",
    }
)
NO_ROLE_MESSAGE = "Your account has no role yet: ask an admin to add you to the coder, manager or admin group."


def is_api_view(view_func: Any) -> bool:
    """A DRF view: it authenticates (token or session) and checks ``HasRole`` itself."""
    # Imported here: DRF's settings import this module (DEFAULT_PERMISSION_CLASSES), and
    # rest_framework.views reads those settings when it is first imported.
    from rest_framework.views import APIView

    cls = getattr(view_func, "cls", None)
    return isinstance(cls, type) and issubclass(cls, APIView)


def names_an_object(view_kwargs: dict[str, Any]) -> bool:
    """A URL with an id in it (DRF's ``format`` suffix is no object)."""
    return any(name != "format" for name in view_kwargs)


def refusal(request: HttpRequest, view_func: Any, view_kwargs: dict[str, Any]) -> Exception | None:
    """The exception a page request must end with, or None when it may go on."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or has_role(user):
        return None  # anonymous: the sign-in redirect (LoginRequiredMiddleware) or DRF's 401
    if is_api_view(view_func) or getattr(view_func, "login_required", True) is False:
        return None  # the API checks HasRole; public pages (sign-in, password reset) stay public
    match = getattr(request, "resolver_match", None)
    if match is not None and (match.view_name in ACCOUNT_VIEWS or "admin" in match.namespaces):
        return None  # its own account; the Django admin keeps its own gate (staff and model permissions)
    if names_an_object(view_kwargs):
        return Http404("No such page")
    return PermissionDenied(NO_ROLE_MESSAGE)


def role_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The same rule on one view, for the views that write without an object the visibility
    selectors would refuse (uploading a file): a second lock on that door, should the
    middleware ever be left out of the settings."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        exception = refusal(request, view, kwargs)
        if exception is not None:
            raise exception
        return view(request, *args, **kwargs)

    return guarded


class HasRole(BasePermission):
    """DRF: the caller is a coder, manager or admin. No role: 403, or 404 on an object URL."""

    message = NO_ROLE_MESSAGE

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401/403 "not authenticated"
        if has_role(user):
            return True
        if names_an_object(getattr(view, "kwargs", None) or {}):
            raise NotFound()
        return False
