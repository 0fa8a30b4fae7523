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
    # The coder's worklist and the denial page (ids only in URLs: never patient data).
    path("worklist/", views.worklist, name="worklist"),
    path("denials/next/", views.denial_next, name="denial_next"),
    path("denials/bulk/", views.denials_bulk, name="denials_bulk"),
    path("denials/<int:denial_id>/", views.denial_detail, name="denial_detail"),
    path("denials/<int:denial_id>/assign/", views.denial_assign, name="denial_assign"),
    path("denials/<int:denial_id>/outcome/", views.denial_outcome, name="denial_outcome"),
    path("denials/<int:denial_id>/notes/", views.denial_note, name="denial_note"),
    path("denials/<int:denial_id>/documents/", views.denial_document_upload, name="denial_document_upload"),
    path(
        "denials/<int:denial_id>/documents/<int:document_id>/file/",
        views.denial_document_file,
        name="denial_document_file",
    ),
    path("denials/<int:denial_id>/evidence/", views.denial_evidence_save, name="denial_evidence_save"),
    path(
        "denials/<int:denial_id>/evidence/<int:evidence_id>/delete/",
        views.denial_evidence_delete,
        name="denial_evidence_delete",
    ),
]
