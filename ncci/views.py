"""HTML pages of the ncci app: code search, claim scrubber, NCCI file imports (admins).

Thin views: one permission helper, one selector or service, render. With htmx, each view
renders only the page's swappable partial (``page.html#partial``).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from ncci import scrubber, selectors, services
from ncci.forms import CodeListUploadForm, NcciUploadForm, ScrubForm, ScrubLineForm, SearchForm, is_code
from ncci.models import CodeListImport, NcciImport, PtpEdit, Setting

PAGE_SIZE = 50
BLANK_SCRUB_LINES = 6
MAX_SCRUB_LINES = 50
ADMIN_GROUP = "admin"


def _htmx(request: HttpRequest) -> Any:
    """django-htmx's request.htmx (falsy when the request did not come from htmx)."""
    return getattr(request, "htmx", None)


def _is_ncci_admin(user: Any) -> bool:
    """Admins: superusers, and staff users in the "admin" group."""
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser or (user.is_staff and user.groups.filter(name=ADMIN_GROUP).exists()))


def _require_ncci_admin(request: HttpRequest) -> None:
    if not _is_ncci_admin(request.user):
        raise PermissionDenied("Only admins import NCCI files.")


# ---------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None, initial={"setting": Setting.PRACTITIONER})
    today = timezone.localdate()
    context: dict[str, Any] = {"form": form, "today": today, "active_nav": "ncci"}
    if not _htmx(request):
        context["can_import"] = _is_ncci_admin(request.user)
    if form.is_valid() and form.cleaned_data["code"]:
        data = form.cleaned_data
        text, on, setting = data["code"], data["date"] or today, data["setting"]
        context.update(text=text, on=on, setting=setting)
        if is_code(text):
            context.update(
                _code_results(
                    request,
                    code=text,
                    setting=setting,
                    on=on,
                    direction=data["direction"],
                    in_force_only=data["in_force_only"],
                )
            )
        else:
            context["suggestions"] = selectors.procedure_code_suggestions(text=text)
    template = "ncci/search.html#results" if _htmx(request) and not _htmx(request).boosted else "ncci/search.html"
    return render(request, template, context)


def _code_results(
    request: HttpRequest, *, code: str, setting: str, on: Any, direction: str, in_force_only: bool
) -> dict[str, Any]:
    edits = selectors.ptp_edits_for_code(
        code=code, setting=setting, direction=direction, in_force_on=on if in_force_only else None
    )
    page = Paginator(edits, PAGE_SIZE).get_page(request.GET.get("page"))
    rows: list[PtpEdit] = list(page.object_list)
    codes = {code} | {e.column1 for e in rows} | {e.column2 for e in rows}
    descriptions = selectors.procedure_descriptions(codes=codes)
    return {
        "code": code,
        "page": page,
        "rows": [
            {
                "edit": e,
                "in_force": e.in_force_on(on),
                "words": scrubber.indicator_words(e.modifier_indicator),
                "column1_text": descriptions.get(e.column1, ""),
                "column2_text": descriptions.get(e.column2, ""),
            }
            for e in rows
        ],
        "description": descriptions.get(code, ""),
        "counts": selectors.ptp_edit_counts_for_code(code=code, setting=setting, on=on),
        "mues": selectors.mues_for_code_by_setting(code=code, date_of_service=on, setting=setting),
    }


# ---------------------------------------------------------------------------------------
# Scrubber
# ---------------------------------------------------------------------------------------

_LINE_KEY = re.compile(r"^line-(\d+)-code$")


def _line_forms(data: QueryDict | None, count: int = BLANK_SCRUB_LINES) -> list[ScrubLineForm]:
    if data is None:
        return [ScrubLineForm(prefix=f"line-{i}") for i in range(count)]
    indexes = sorted({int(m.group(1)) for key in data if (m := _LINE_KEY.match(key))})[:MAX_SCRUB_LINES]
    return [ScrubLineForm(data, prefix=f"line-{i}") for i in indexes]


def _next_index(forms: list[ScrubLineForm]) -> int:
    return max((int(f.prefix.rsplit("-", 1)[1]) for f in forms if f.prefix), default=-1) + 1


@require_http_methods(["GET", "POST"])
def scrub(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"active_nav": "scrub", "max_lines": MAX_SCRUB_LINES}
    status = 200
    if request.method == "POST":
        form = ScrubForm(request.POST)
        line_forms = _line_forms(request.POST)
        if "add_line" in request.POST and len(line_forms) < MAX_SCRUB_LINES:
            # Without JavaScript, "Add a line" posts the form back with one more blank row.
            line_forms.append(ScrubLineForm(prefix=f"line-{_next_index(line_forms)}"))
        else:
            valid = form.is_valid() & all(f.is_valid() for f in line_forms)
            lines = [
                scrubber.ClaimLine(
                    code=f.cleaned_data["code"],
                    modifiers=tuple(f.cleaned_data["modifiers"]),
                    units=f.cleaned_data["units"] or 1,
                )
                for f in line_forms
                if f.is_valid() and f.cleaned_data.get("code")
            ]
            if valid and not lines:
                form.add_error(None, "Enter at least one line with a code.")
                valid = False
            if valid:
                result = selectors.scrub_claim(
                    lines=lines,
                    date_of_service=form.cleaned_data["date_of_service"],
                    setting=form.cleaned_data["setting"],
                )
                descriptions = selectors.procedure_descriptions(codes=[ln.code for ln in lines])
                context.update(
                    result=result,
                    lines=lines,
                    ptp_rows=[
                        {
                            "flag": f,
                            "column1_text": descriptions.get(f.column1, ""),
                            "column2_text": descriptions.get(f.column2, ""),
                        }
                        for f in result.ptp
                    ],
                )
            else:
                status = 400 if not _htmx(request) else 200  # htmx swaps only 2xx answers
    else:
        form = ScrubForm(initial={"setting": Setting.PRACTITIONER, "date_of_service": timezone.localdate()})
        line_forms = _line_forms(None)
    context.update(form=form, line_forms=line_forms, next_index=_next_index(line_forms))
    template = "ncci/scrub.html#workspace" if _htmx(request) else "ncci/scrub.html"
    return render(request, template, context, status=status)


@require_GET
def scrub_line(request: HttpRequest) -> HttpResponse:
    """One more blank line for the scrubber form (htmx appends it)."""
    try:
        index = min(int(request.GET.get("index", "0")), 10_000)
    except ValueError:
        index = 0
    line_form = ScrubLineForm(prefix=f"line-{index}")
    return render(
        request,
        "ncci/scrub.html#new_line",
        {"line_form": line_form, "next_index": index + 1, "can_add": index + 1 < MAX_SCRUB_LINES},
    )


# ---------------------------------------------------------------------------------------
# Imports (admins)
# ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    _require_ncci_admin(request)
    form = NcciUploadForm(request.POST, request.FILES) if request.method == "POST" else NcciUploadForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        queued = [
            services.ncci_import_upload(
                upload=f, table=data["table"], setting=data["setting"], quarter=data["quarter"], created_by=request.user
            )
            for f in data["files"]
        ]
        messages.success(request, f"Queued {len(queued)} file(s) for import; their progress shows below.")
        return redirect("ncci:import")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "ncci/import.html",
        {"form": form, "imports": selectors.ncci_import_list(), "active_nav": "ncci_import"},
        status=status,
    )


@require_GET
def import_row(request: HttpRequest, import_id: int) -> HttpResponse:
    """One import's row, polled by htmx while it is queued or running."""
    _require_ncci_admin(request)
    try:
        record = selectors.ncci_import_get(import_id=import_id)
    except NcciImport.DoesNotExist:
        raise Http404("No such import") from None
    return render(request, "ncci/import.html#row", {"record": record})


# ---------------------------------------------------------------------------------------
# Code-list imports (admins): the current CARC, RARC and procedure-code lists
# ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def code_import_page(request: HttpRequest) -> HttpResponse:
    _require_ncci_admin(request)
    if request.method == "POST":
        form = CodeListUploadForm(request.POST, request.FILES)
    else:
        wanted = request.GET.get("list", "")
        form = CodeListUploadForm(initial={"code_list": wanted} if wanted in ("carc", "rarc", "procedure") else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        record = services.code_list_import_upload(
            upload=data["file"],
            code_list=data["code_list"],
            skip_refused=data["skip_refused"],
            created_by=request.user,
        )
        messages.success(request, f"Queued {record.filename} for import; its report shows below.")
        return redirect("ncci:code_import")
    return render(
        request,
        "ncci/code_import.html",
        {
            "form": form,
            "imports": selectors.code_list_import_list(),
            "accepted": {
                "carc": services.accepted_headers_text("carc"),
                "procedure": services.accepted_headers_text("procedure"),
            },
            "active_nav": "ncci_import",
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def code_import_row(request: HttpRequest, import_id: int) -> HttpResponse:
    """One code-list import's row, polled by htmx while it is queued or running."""
    _require_ncci_admin(request)
    try:
        record = selectors.code_list_import_get(import_id=import_id)
    except CodeListImport.DoesNotExist:
        raise Http404("No such import") from None
    return render(request, "ncci/code_import.html#row", {"record": record})
