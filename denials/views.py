"""HTML views for remittance files and claims. Thin: permission, one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from denials import selectors, services
from denials.forms import ClaimFilterForm, UploadForm
from denials.models import ClaimPayment, RemittanceFile

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):  # type: ignore[no-untyped-def]
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _get_file(file_id: int) -> RemittanceFile:
    try:
        return selectors.remittance_file_get(file_id=file_id)
    except RemittanceFile.DoesNotExist:
        from django.http import Http404

        raise Http404("No such remittance file") from None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("denials:file_list")


@require_GET
def file_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.remittance_file_list())
    template = "denials/file_list.html#rows" if request.htmx else "denials/file_list.html"
    return render(request, template, {"page": page, "files": page.object_list})


@require_GET
def file_row(request: HttpRequest, file_id: int) -> HttpResponse:
    """One row of the file list; polled by htmx until the file is done."""
    file = _get_file(file_id)
    return render(request, "denials/file_list.html#row", {"file": file})


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        received = [
            services.remittance_file_receive(
                name=f.name, content=f.read(), source=RemittanceFile.Source.UPLOAD, uploaded_by=request.user
            )
            for f in form.cleaned_data["files"]
        ]
        if request.htmx:
            return render(request, "denials/upload.html#received", {"files": received})
        messages.success(request, f"Received {len(received)} file(s); see their status below.")
        return redirect("denials:file_list")
    if request.htmx and request.method == "POST":
        # htmx swaps only 2xx answers: send the form back with its errors in place of itself.
        response = render(request, "denials/upload.html#form", {"form": form})
        response["HX-Retarget"] = "#upload-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    status = 400 if request.method == "POST" else 200
    return render(request, "denials/upload.html", {"form": form}, status=status)


@require_GET
def file_detail(request: HttpRequest, file_id: int) -> HttpResponse:
    file = _get_file(file_id)
    claims = _page(request, selectors.claim_list(file_id=file.pk))
    events = selectors.audit_events_for(
        target_type_id=ContentType.objects.get_for_model(RemittanceFile).pk, target_id=file.pk
    )[:20]
    return render(
        request,
        "denials/file_detail.html",
        {
            "file": file,
            "remittances": selectors.remittance_list_for_file(file=file),
            "page": claims,
            "claims": claims.object_list,
            "events": events,
        },
    )


@require_POST
def file_retry(request: HttpRequest, file_id: int) -> HttpResponse:
    file = _get_file(file_id)
    if services.remittance_file_retry(file=file, actor=request.user):
        messages.success(request, f"{file.original_name} is queued again.")
    else:
        messages.error(request, f"{file.original_name} is {file.get_status_display().lower()}, not failed: "
                                "only a failed file can be retried.")
    return redirect("denials:file_detail", file_id=file.pk)


@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    form = ClaimFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    claims = selectors.claim_list(
        patient_control_number=filters.get("pcn", ""),
        payer_claim_number=filters.get("payer_claim", ""),
        payer_id=filters["payer"].pk if filters.get("payer") else None,
        status=filters.get("status", ""),
    )
    page = _page(request, claims)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "claims": page.object_list, "query": query.urlencode()}
    template = "denials/claim_list.html#rows" if request.htmx else "denials/claim_list.html"
    return render(request, template, context)


@require_GET
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = get_object_or_404(selectors.claim_detail_queryset(), pk=claim_id)
    lines = list(claim.service_lines.all())
    carcs = {a.reason_code for a in claim.claim_adjustments} | {a.reason_code for ln in lines for a in ln.adjustments.all()}
    rarcs = {r.code for r in claim.remarks.all()}
    descriptions = selectors.code_descriptions(carcs=carcs, rarcs=rarcs)
    return render(
        request,
        "denials/claim_detail.html",
        {
            "claim": claim,
            "lines": lines,
            "history": selectors.claim_history(claim=claim),
            "descriptions": descriptions,
            "claim_remarks": [r for r in claim.remarks.all() if r.line_id is None],
            "denials": list(claim.denials.all()),
        },
    )

