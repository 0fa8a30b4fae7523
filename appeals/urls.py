"""Appeal pages, mounted at /appeals/ (namespace "appeals"). Ids only in URLs; filters in the
query string carry no patient data. ``appeals:package`` and ``appeals:package_pdf`` (the
package's HTML and PDF) are served by ``appeals.package_views``."""

from __future__ import annotations

from django.urls import path

from appeals import package_views, views

app_name = "appeals"

urlpatterns = [
    path("", views.appeal_list, name="list"),
    path("tabs/", views.appeal_tabs, name="tabs"),
    path("news/", views.appeal_news, name="news"),
    path("denial/<int:denial_id>/", views.denial_appeal_box, name="denial_box"),
    path("denial/<int:denial_id>/start/", views.denial_appeal_start, name="denial_start"),
    path("<int:appeal_id>/", views.appeal_detail, name="detail"),
    path("<int:appeal_id>/status/", views.appeal_status, name="status"),
    path("<int:appeal_id>/submit/", views.appeal_submit, name="submit"),
    path("<int:appeal_id>/decide/", views.appeal_decide, name="decide"),
    path("<int:appeal_id>/notes/", views.appeal_notes, name="notes"),
    path("<int:appeal_id>/next-level/", views.appeal_next_level, name="next_level"),
    path("<int:appeal_id>/package/", package_views.package_page, name="package"),
    path("<int:appeal_id>/package.pdf", package_views.package_pdf, name="package_pdf"),
]
