from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from appeals import analytics_api
from appeals import api_urls as appeals_api_urls
from config.health import healthz
from config.home import home
from denials import api as denials_api
from ncci import api_urls as ncci_api_urls

admin.site.site_header = "Overturn administration"
admin.site.site_title = "Overturn admin"
admin.site.index_title = "Reference data, users and settings"

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


def api_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """An /api/ address no operation answers (``/api/appeals/1.5/``, a typo): the API's JSON 404,
    not the pages' HTML one, so a client reads the same shape of error everywhere under /api/."""
    return JsonResponse({"detail": "Not found: no API operation answers this address."}, status=404)


class SchemaDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script in a file of its own, on a page with no inline
    <style>: the Content-Security-Policy allows neither. A page for people, so an anonymous
    visitor is sent to sign in (login_required below) rather than answered 401."""

    template_name = "api/swagger_ui.html"


def account_urls() -> list[URLPattern | URLResolver]:
    """Sign in/out and password change always; password reset only when e-mail can be sent.

    Without EMAIL_HOST a reset form would accept an address and send nothing (or fail), so its
    URLs are not mounted at all (404) and the sign-in page offers no link: an admin sets a new
    password instead.
    """
    reset_enabled = bool(settings.EMAIL_HOST)
    patterns: list[URLPattern | URLResolver] = [
        path(
            "login/",
            auth_views.LoginView.as_view(extra_context={"password_reset_enabled": reset_enabled}),
            name="login",
        ),
        path("logout/", auth_views.LogoutView.as_view(), name="logout"),
        path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
        path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    ]
    if reset_enabled:
        patterns += [
            path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
            path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
            path(
                "reset/<uidb64>/<token>/",
                auth_views.PasswordResetConfirmView.as_view(),
                name="password_reset_confirm",
            ),
            path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
        ]
    return patterns


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include(account_urls())),
    path("admin/", admin.site.urls),
    # The schema answers 401 like the rest of the API; its browsable page sends you to sign in.
    *_api_urls([path("api/schema/", SpectacularAPIView.as_view(), name="schema")]),
    path("api/schema/docs/", login_required(SchemaDocsView.as_view(url_name="schema")), name="schema-docs"),
    path("api/", include((_api_urls(router.urls), "api"), namespace="api")),
    path("api/", include((_api_urls(ncci_api_urls.urlpatterns), "ncci_api"), namespace="ncci_api")),
    path("api/", include((_api_urls(appeals_api_urls.urlpatterns), "appeals_api"), namespace="appeals_api")),
    path(
        "api/analytics/",
        include((_api_urls(analytics_api.urlpatterns), "analytics_api"), namespace="analytics_api"),
    ),
    # Last of the API: whatever /api/ address nothing above answered.
    *_api_urls([re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api-not-found")]),
    path("", include("denials.urls")),
    path("ncci/", include("ncci.urls")),
    path("appeals/", include("appeals.urls")),
    path("analytics/", include("appeals.analytics_urls")),
]
