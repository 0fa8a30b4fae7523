"""REST endpoints of the ncci app, mounted under /api/ by config/urls.py (namespace "ncci_api").

Plain paths (no include()): config/urls.py marks each top-level pattern's view as exempt
from the sign-in redirect, and DRF authenticates these itself (401 when anonymous).
"""

from __future__ import annotations

from django.urls import URLPattern, path

from ncci import api

urlpatterns: list[URLPattern] = [
    path("ncci/ptp/", api.PtpEditList.as_view(), name="ptp-list"),
    path("ncci/mue/", api.MueList.as_view(), name="mue-list"),
    path("scrub/", api.ScrubView.as_view(), name="scrub"),
]
