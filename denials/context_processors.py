from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from denials.roles import role_of


def user_role(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = role_of(user)
    return {"user_role": role.title() if role else ""}
