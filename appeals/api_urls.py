"""REST endpoints of the appeals app, mounted under /api/ by config/urls.py (namespace "appeals_api").

A SimpleRouter (no API root, no format suffixes): the two patterns are ``appeal-list``
(``appeals/``) and ``appeal-detail`` (``appeals/<pk>/``).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from appeals import api

router = SimpleRouter()
router.register("appeals", api.AppealViewSet, basename="appeal")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
