"""REST endpoints of the ncci app, mounted under /api/ by config/urls.py."""

from __future__ import annotations

urlpatterns: list = []  # type: ignore[type-arg]
