from __future__ import annotations

from django.urls import path

from denials import views

app_name = "denials"

urlpatterns = [
    path("files/", views.file_list, name="file_list"),
    path("files/upload/", views.upload, name="upload"),
    path("files/<int:file_id>/", views.file_detail, name="file_detail"),
    path("files/<int:file_id>/row/", views.file_row, name="file_row"),
    path("files/<int:file_id>/retry/", views.file_retry, name="file_retry"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/<int:claim_id>/", views.claim_detail, name="claim_detail"),
]
