"""Middleware of the denials app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from denials.access import refusal


class RoleRequiredMiddleware:
    """Every page answers 403 (404 for an object URL) to a signed-in account with no role.

    A middleware, not a decorator per view, so a page added later (in any app) is closed
    to such accounts by default. Goes after AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: tuple[Any, ...], view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        exception = refusal(request, view_func, view_kwargs)
        if exception is not None:
            raise exception
        return None
