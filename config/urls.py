from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from denials import api as denials_api
from denials import views as denials_views
from ncci import api_urls as ncci_api_urls

router = DefaultRouter()
router.register("remittance-files", denials_api.RemittanceFileViewSet, basename="remittance-file")
router.register("claims", denials_api.ClaimViewSet, basename="claim")
router.register("denials", denials_api.DenialViewSet, basename="denial")


def _api_urls(patterns: list) -> list:  # type: ignore[type-arg]
    """DRF authenticates API calls itself (session or token) and answers 401/403, not a
    redirect to the sign-in page, so the login-required middleware steps aside here."""
    for pattern in patterns:
        if hasattr(pattern, "callback") and pattern.callback is not None:
            pattern.callback.login_required = False
    return patterns


urlpatterns = [
    path("", denials_views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((_api_urls(router.urls), "api"), namespace="api")),
    path("api/", include((_api_urls(ncci_api_urls.urlpatterns), "ncci_api"), namespace="ncci_api")),
    path("", include("denials.urls")),
    path("ncci/", include("ncci.urls")),
]
