"""The appeal package: a print-friendly page, the PDF download and ``GET /api/appeals/{id}/package.pdf``.

Thin views: one permission helper (``_get_appeal_for_user``: an appeal the user may not see
answers 404), the package selector, render. Every response that shows the package writes
one ``AccessEvent`` (view for the page, PDF for the file). File names carry the appeal id
only, never patient data.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from appeals.letters import package_with_letter
from appeals.models import Appeal
from appeals.package import appeal_package
from appeals.pdf import appeal_package_pdf
from appeals.selectors import appeals_visible_to
from denials.access import role_required
from denials.api import PERMISSIONS
from denials.models import AccessEvent
from denials.services.access import access_record


def _get_appeal_for_user(user: Any, appeal_id: int) -> Appeal:
    """The one permission check of the package views: not visible means 404."""
    try:
        return appeals_visible_to(user=user).get(pk=appeal_id)
    except Appeal.DoesNotExist:
        raise Http404("No such appeal") from None


def _pdf_response(appeal: Appeal) -> HttpResponse:
    content = appeal_package_pdf(package=appeal_package(appeal=appeal))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="appeal-{appeal.pk}-package.pdf"'
    # Patient data: never kept by a shared cache or the browser's back-forward cache.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@role_required
def package_page(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _get_appeal_for_user(request.user, appeal_id)
    package, letter, letter_error = package_with_letter(package=appeal_package(appeal=appeal), html=True)
    access_record(actor=request.user, action=AccessEvent.Action.VIEW, target=appeal, path=request.path)
    return render(
        request,
        "appeals/package.html",
        {"appeal": appeal, "package": package, "letter": letter, "letter_error": letter_error},
    )


@require_GET
@role_required
def package_pdf(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _get_appeal_for_user(request.user, appeal_id)
    response = _pdf_response(appeal)
    access_record(actor=request.user, action=AccessEvent.Action.PDF, target=appeal, path=request.path)
    return response


class PdfRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; errors still answer in JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data)


class PackagePdfApi(APIView):
    """``GET /api/appeals/{id}/package.pdf``: the appeal package as one PDF (404 for an appeal of another team)."""

    permission_classes = PERMISSIONS
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        appeal = _get_appeal_for_user(request.user, pk)
        response = _pdf_response(appeal)
        access_record(actor=request.user, action=AccessEvent.Action.PDF, target=appeal, path=request.path)
        return response
