"""REST endpoints of the appeals app, mounted under /api/ by config/urls.py (namespace "appeals_api").

A SimpleRouter (no API root, no format suffixes): ``appeal-list`` (``appeals/``) and
``appeal-detail`` (``appeals/<pk>/``); beside it ``appeal-package-pdf``
(``appeals/<pk>/package.pdf``), the package as one PDF.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from appeals import api, package_views

router = SimpleRouter()
router.register("appeals", api.AppealViewSet, basename="appeal")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("appeals/<int:pk>/package.pdf", package_views.PackagePdfApi.as_view(), name="appeal-package-pdf"),
]
