from __future__ import annotations

from django.urls import path

from ncci import views

app_name = "ncci"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("scrub/", views.scrub, name="scrub"),
    path("scrub/line/", views.scrub_line, name="scrub_line"),
    path("import/", views.import_page, name="import"),
    path("import/<int:import_id>/", views.import_row, name="import_row"),
    path("codes/import/", views.code_import_page, name="code_import"),
    path("codes/import/<int:import_id>/", views.code_import_row, name="code_import_row"),
]
