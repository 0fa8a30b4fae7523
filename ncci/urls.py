from __future__ import annotations

from django.urls import path

from ncci import views

app_name = "ncci"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("scrub/", views.scrub, name="scrub"),
]
