"""The managers' dashboard, mounted at /analytics/ (namespace "analytics"): one page; its CSV
exports are the same URL with ``?format=csv&table=<id>``."""

from __future__ import annotations

from django.urls import path

from appeals import analytics_views

app_name = "analytics"

urlpatterns = [
    path("", analytics_views.dashboard, name="dashboard"),
]
