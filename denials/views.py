"""HTML views: remittance files, claims, and the coder's worklist and denial page.

Thin: decorators, one permission helper, one service or selector call, render. Every
denial, claim and file is fetched through the user's visibility selector
(``selectors.denials_visible_to``, ``claims_visible_to``, ``remittance_files_visible_to``),
so another team's object answers 404 on every page and partial alike. Accounts with no
role never get here (``denials.access``). Each look at one patient's data (a claim, a
denial pane, a file, a document download) writes one ``AccessEvent``; lists write none.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from denials import selectors, services, vocabulary
from denials.access import role_required
from denials.forms import (
    AssignForm,
    BulkForm,
    ClaimFilterForm,
    ClaimSearchForm,
    DocumentForm,
    EvidenceForm,
    NoteForm,
    OutcomeForm,
    SearchForm,
    UploadForm,
    WorklistFilterForm,
)
from denials.models import AccessEvent, ClaimPayment, ClinicalDocument, Denial, Evidence, RemittanceFile
from denials.roles import is_manager
from denials.services.receiving import RetryRefused
from ncci.selectors import procedure_descriptions

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from denials.models import Adjustment

PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    """What every view here gets: LoginRequiredMiddleware has signed the user in, and
    django-htmx's middleware added ``.htmx`` (the django-htmx docs' typing pattern)."""

    user: User
    htmx: HtmxDetails


class CappedPaginator(Paginator):
    """Counts at most ``CAP`` rows and then says "more than CAP".

    A coder's claims are those with a denial in their queues: counting all of them reads
    every denial of the team (about 250 ms at 200,000 denials), where the first page alone
    takes a few milliseconds. Counting through ``LIMIT CAP + 1`` stops early.
    """

    CAP = 10_000

    @cached_property
    def _seen(self) -> int:
        rows = cast("QuerySet[Any]", self.object_list)
        return rows[: self.CAP + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._seen, self.CAP)

    @property
    def capped(self) -> bool:
        return self._seen > self.CAP


def _page(request: HtmxHttpRequest, queryset, size: int = PAGE_SIZE):  # type: ignore[no-untyped-def]
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _get_file_for_user(request: HtmxHttpRequest, file_id: int) -> RemittanceFile:
    """The one permission check of every file page and partial: not visible means 404."""
    try:
        return selectors.remittance_file_get(user=request.user, file_id=file_id)
    except RemittanceFile.DoesNotExist:
        raise Http404("No such remittance file") from None


def _record_view(request: HtmxHttpRequest, target: Any, action: str = AccessEvent.Action.VIEW) -> None:
    services.access_record(actor=request.user, action=action, target=target, path=request.path)


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """People on a billing team start at their worklist; everyone else at the files."""
    if request.user.teams.exists():  # type: ignore[union-attr]
        return redirect("denials:worklist")
    return redirect("denials:file_list")


@require_GET
def file_list(request: HtmxHttpRequest) -> HttpResponse:
    page = _page(request, selectors.remittance_file_list(user=request.user))
    template = "denials/file_list.html#rows" if request.htmx else "denials/file_list.html"
    return render(request, template, {"page": page, "files": page.object_list})


@require_GET
def file_row(request: HtmxHttpRequest, file_id: int) -> HttpResponse:
    """One row of the file list; polled by htmx until the file is done (counts and status,
    no patient data: not recorded as a look at the file)."""
    file = _get_file_for_user(request, file_id)
    return render(request, "denials/file_list.html#row", {"file": file})


@require_http_methods(["GET", "POST"])
@role_required
def upload(request: HtmxHttpRequest) -> HttpResponse:
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
def file_detail(request: HtmxHttpRequest, file_id: int) -> HttpResponse:
    """A file: its remittances, and of its claims only those the user may see."""
    file = _get_file_for_user(request, file_id)
    claims = CappedPaginator(selectors.claim_list(user=request.user, file_id=file.pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    events = selectors.audit_events_for(
        target_type_id=ContentType.objects.get_for_model(RemittanceFile).pk, target_id=file.pk
    )[:20]
    _record_view(request, file)
    return render(
        request,
        "denials/file_detail.html",
        {
            "file": file,
            "show_reports": selectors.remittance_file_reports_visible_to(user=request.user, file=file),
            "remittances": selectors.remittance_list_for_file(user=request.user, file=file),
            "page": claims,
            "claims": claims.object_list,
            "events": events,
        },
    )


@require_POST
def file_retry(request: HtmxHttpRequest, file_id: int) -> HttpResponse:
    file = _get_file_for_user(request, file_id)
    try:
        retried = services.remittance_file_retry(file=file, actor=request.user)
    except RetryRefused as refused:
        messages.error(request, str(refused))
        return redirect("denials:file_detail", file_id=file.pk)
    if retried:
        messages.success(request, f"{file.original_name} is queued again.")
    else:
        messages.error(
            request,
            f"{file.original_name} is {file.get_status_display().lower()}, not failed: "
            "only a failed file can be retried.",
        )
    return redirect("denials:file_detail", file_id=file.pk)


@require_http_methods(["GET", "POST"])
def claim_list(request: HtmxHttpRequest) -> HttpResponse:
    """Claims the user may see. Payer and status filter in the URL (GET); a patient control
    number or payer claim number travels in a POST body only, never a URL (access logs,
    browser history and Referer headers keep URLs)."""
    searching = request.method == "POST"
    form = ClaimFilterForm((request.POST if searching else request.GET) or None)
    filters = form.cleaned_data if form.is_valid() else {}
    search_form = ClaimSearchForm(request.POST if searching else None)
    search = search_form.cleaned_data if search_form.is_valid() else {}
    if (
        searching
        and search_form.is_valid()
        and not search.get("pcn")
        and not search.get("payer_claim")
        and not request.htmx
    ):
        # An emptied search: back to the plain list, keeping the filters in the URL.
        return redirect(reverse("denials:claim_list") + (f"?{form.query_string()}" if form.query_string() else ""))
    claims = selectors.claim_list(
        user=request.user,
        patient_control_number=search.get("pcn", ""),
        payer_claim_number=search.get("payer_claim", ""),
        payer_id=filters["payer"].pk if filters.get("payer") else None,
        status=filters.get("status", ""),
    )
    page = CappedPaginator(claims, PAGE_SIZE).get_page(search.get("page") if searching else request.GET.get("page"))
    context = {
        "form": form,
        "search_form": search_form,
        "searching": searching,
        "page": page,
        "claims": page.object_list,
        "active_nav": "claims",
    }
    template = "denials/claim_list.html#rows" if request.htmx else "denials/claim_list.html"
    # A search that is not valid (a number longer than any claim's) says so beside its field.
    status = 400 if searching and not search_form.is_valid() and not request.htmx else 200
    return render(request, template, context, status=status)


@require_GET
def claim_detail(request: HtmxHttpRequest, claim_id: int) -> HttpResponse:
    try:
        claim = selectors.claim_get(user=request.user, claim_id=claim_id)
    except ClaimPayment.DoesNotExist:
        raise Http404("No such claim") from None
    lines = list(claim.service_lines.all())
    denials: list[Denial] = claim.visible_denials  # type: ignore[attr-defined]  # prefetched to_attr
    claim_adjustments: list[Adjustment] = claim.claim_adjustments  # type: ignore[attr-defined]  # prefetched to_attr
    carcs = {a.reason_code for a in claim_adjustments}
    carcs |= {a.reason_code for ln in lines for a in ln.adjustments.all()}
    carcs |= {d.carc for d in denials}
    rarcs = {r.code for r in claim.remarks.all()} | {r for d in denials for r in d.rarc_list}
    descriptions = selectors.code_descriptions(carcs=carcs, rarcs=rarcs, with_group_codes=True)
    procedures = procedure_descriptions(codes=[ln.procedure_code for ln in lines])
    modifier_words = selectors.modifier_descriptions(codes={m for ln in lines for m in ln.modifiers})
    history = selectors.claim_history(claim=claim)
    _record_view(request, claim)
    return render(
        request,
        "denials/claim_detail.html",
        {
            "claim": claim,
            "lines": lines,
            "history": history,
            "openable": selectors.claim_ids_visible_to(user=request.user, claim_ids=[h.pk for h in history]),
            "descriptions": descriptions,
            "procedure_descriptions": procedures,
            "modifier_words": modifier_words,
            "claim_remarks": [r for r in claim.remarks.all() if r.line_id is None],
            "denials": denials,
            # Who looked at this patient's claim: for the people who answer for the team.
            "accesses": selectors.access_events_for(target=claim) if is_manager(request.user) else None,
            "active_nav": "claims",
        },
    )


# --- The coder's worklist --------------------------------------------------------------
DENIAL_CHANGED = "denialChanged"  # htmx event: the worklist refreshes its rows and queue counts


def _get_denial_for_user(request: HtmxHttpRequest, denial_id: int) -> Denial:
    """The one permission check of every denial page and partial: not visible means 404."""
    try:
        return selectors.denial_for_user(user=request.user, denial_id=denial_id)
    except Denial.DoesNotExist:
        raise Http404("No such denial") from None


def _filter_form(request: HtmxHttpRequest, data: Any) -> WorklistFilterForm:
    return WorklistFilterForm(
        data,
        queues=selectors.worklist_queues(user=request.user),
        payers=selectors.worklist_payers(user=request.user),
        people=selectors.worklist_people(user=request.user),
        teams=selectors.worklist_teams(user=request.user),
        # Read once per request: the field's choices are asked for when shown and when checked.
        specialties=functools.cache(selectors.worklist_specialties),
    )


def _htmx_aware(response: HttpResponse) -> HttpResponse:
    # The same URL answers a whole page or a partial: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_http_methods(["GET", "POST"])
def worklist(request: HtmxHttpRequest) -> HttpResponse:
    """My work and the team queues. Filters live in the URL (GET); a search travels in the POST
    body only, because names and member ids in a query string end up in access logs."""
    search_form = SearchForm(request.POST if request.method == "POST" else None)
    search = search_form.cleaned_data["search"].strip() if search_form.is_valid() else ""
    if request.method == "POST" and not search and not request.htmx:
        return redirect("denials:worklist")  # an emptied search: back to the plain list
    form = _filter_form(request, request.GET)
    rows = selectors.denial_worklist(user=request.user, search=search, **form.selector_kwargs())
    page_number = search_form.cleaned_data.get("page") if search else request.GET.get("page")
    # Paged by id first: the page's ids come from the view's index alone (a deep page skips
    # index entries, not joined rows), then one query reads those rows with what they show.
    paginator = Paginator(rows.values_list("pk", flat=True), form.page_size)
    summary = form.current_queue_summary
    if not search and not form.has_filters and summary is not None and summary.count >= 0:
        # The tab already counted this view's rows (active work of one queue): reuse it
        # instead of counting the queue a second time. Below zero the counters missed rows
        # written with triggers off (a bulk load): count the rows instead.
        paginator.count = summary.count
    page = paginator.get_page(page_number)
    denials = list(rows.filter(pk__in=list(page.object_list))) if page.object_list else []
    context = {
        "form": form,
        "queues": form.queue_summaries,
        "current_queue": form.current_queue,
        "search": search,
        "page": page,
        "denials": denials,
        "descriptions": selectors.code_descriptions(
            carcs={d.carc for d in denials}, rarcs={r for d in denials for r in d.rarc_list}
        ),
        "list_url": request.get_full_path() if request.method == "GET" else reverse("denials:worklist"),
        "can_reassign": is_manager(request.user),
        "active_nav": "worklist",
    }
    template = "denials/worklist.html"
    if request.htmx:
        template += "#list" if request.htmx.target == "worklist-list" else "#rows"
    else:
        # ?denial=N: the denial the coder had open (worklist.js keeps it in the URL), so Back,
        # Forward, reload and a shared link land on the two panes with the same selection.
        context.update(_worklist_open_denial(request))
    return _htmx_aware(render(request, template, context))


def _worklist_open_denial(request: HtmxHttpRequest) -> dict[str, Any]:
    """The pane's context for ``?denial=N``, or a message when it is not a denial this person can see."""
    wanted = request.GET.get("denial", "")
    if not wanted:
        return {}
    try:
        if not (wanted.isdigit() and len(wanted) <= 9):
            raise Denial.DoesNotExist
        denial = selectors.denial_for_user(user=request.user, denial_id=int(wanted))
    except Denial.DoesNotExist:
        return {"message": f"Denial {wanted[:12]} is not one you can open: pick one from the queue."}
    _record_view(request, denial)
    return _denial_context(request, denial)


@require_POST
def denials_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Assign or write off the ticked denials (or every denial matching the view)."""
    form = BulkForm(request.POST, user=request.user)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("denials:worklist")
    if form.is_valid():
        data = form.cleaned_data
        ids = selectors.denial_ids_for_bulk(
            user=request.user,
            denial_ids=data["ids"],
            all_matching=data["all_matching"],
            search=request.POST.get("search", ""),
            filters=_filter_form(request, request.POST).selector_kwargs() if data["all_matching"] else None,
        )
        try:
            if data["action"] == vocabulary.OUTCOME_WRITE_OFF:
                done = services.denials_bulk_write_off(denial_ids=ids, reason=data["reason"], actor=request.user)
                verb = "Wrote off"
            else:
                done = services.denials_bulk_assign(denial_ids=ids, assignee=data["assignee"], actor=request.user)
                verb = f"Assigned to {data['assignee']}:"
        except services.DenialActionRefused as exc:
            messages.error(request, str(exc))
        else:
            skipped = len(ids) - done
            note = f" {skipped} skipped: changed by someone else meanwhile, or not allowed." if skipped else ""
            (messages.success if done else messages.warning)(
                request, f"{verb} {done} denial{'s' if done != 1 else ''}.{note}"
            )
    else:
        for error in form.errors.values():
            messages.error(request, " ".join(str(e) for e in error))
    if request.htmx:
        response = render(request, "partials/messages.html", {"oob": True})
        response["HX-Trigger"] = DENIAL_CHANGED
        return response
    return redirect(back)


@require_POST
def denial_next(request: HtmxHttpRequest) -> HttpResponse:
    """Take the highest-priority unassigned denial (of the current queue, if one is chosen)."""
    queue = request.POST.get("queue", "")
    denial = services.denial_take_next(user=request.user, queue_id=int(queue) if queue.isdigit() else None)
    if denial is None:
        message = "Nothing left to take: every open denial you can work is assigned."
        if request.htmx:
            return render(request, "denials/worklist.html#pane-empty", {"message": message})
        messages.info(request, message)
        return redirect("denials:worklist")
    url = reverse("denials:denial_detail", args=[denial.pk])
    if not request.htmx:
        return redirect(url)
    response = _render_denial(
        request,
        _get_denial_for_user(request, denial.pk),
        saved=("assign", "Assigned to you: the highest-priority denial that was free."),
    )
    response["HX-Push-Url"] = url
    response["HX-Trigger"] = DENIAL_CHANGED
    return response


def _render_denial(
    request: HtmxHttpRequest,
    denial: Denial,
    *,
    status: int = 200,
    saved: tuple[str, str] | None = None,
    conflict: services.DenialConflict | None = None,
    **forms: Any,
) -> HttpResponse:
    """The denial page, or only its pane for htmx. htmx swaps 2xx answers only, so a refusal
    or a conflict answers 200 to htmx (the message is in the pane) and 400/409 otherwise."""
    context = _denial_context(request, denial, saved=saved, conflict=conflict, **forms)
    # Every render shows the patient's claim, the full page and the htmx pane alike.
    _record_view(request, denial)
    if request.htmx:
        return _htmx_aware(render(request, "denials/denial_detail.html#pane", context))
    return _htmx_aware(render(request, "denials/denial_detail.html", context, status=status))


def _denial_context(
    request: HtmxHttpRequest,
    denial: Denial,
    *,
    saved: tuple[str, str] | None = None,
    conflict: services.DenialConflict | None = None,
    **forms: Any,
) -> dict[str, Any]:
    """What the denial pane shows: the denial page, its htmx pane, and the worklist with a
    denial open (``?denial=N``) render it from here."""
    version = {"version": denial.version}
    ws = selectors.denial_workspace(denial=denial, with_team=is_manager(request.user))
    outcome_initial = {
        **version,
        "action": denial.action if denial.action in OutcomeForm.ACTIONS else "",
        # The chosen modifier, else the one the saved evidence supports, else the one triage read.
        "modifier": ws.words.modifier,
    }
    return {
        "denial": denial,
        "ws": ws,
        "saved": saved,
        "conflict": conflict,
        "can_reassign": is_manager(request.user),
        "assign_form": AssignForm(initial=version, user=request.user),
        "outcome_form": OutcomeForm(initial=outcome_initial),
        "note_form": NoteForm(initial=version),
        "document_form": DocumentForm(initial=version),
        "evidence_form": None,
        "active_nav": "worklist",
        **forms,
    }


def _saved(
    request: HtmxHttpRequest, denial_id: int, section: str, message: str, *, changed: bool = True
) -> HttpResponse:
    """After a save: the pane again, with a confirmation in place (htmx), or redirect-after-POST."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(reverse("denials:denial_detail", args=[denial_id]) + f"#sec-{section}")
    response = _render_denial(request, _get_denial_for_user(request, denial_id), saved=(section, message))
    if changed:
        response["HX-Trigger"] = DENIAL_CHANGED
    return response


def _conflict(request: HtmxHttpRequest, denial_id: int, exc: services.DenialConflict) -> HttpResponse:
    """Someone else saved first: show the current state and what they changed; nothing was merged."""
    response = _render_denial(request, _get_denial_for_user(request, denial_id), status=409, conflict=exc)
    response["HX-Trigger"] = DENIAL_CHANGED  # the row in the list is stale too
    return response


@require_GET
def denial_detail(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    return _render_denial(request, _get_denial_for_user(request, denial_id))


@require_POST
def denial_assign(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    denial = _get_denial_for_user(request, denial_id)
    form = AssignForm(request.POST, user=request.user)
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            services.denial_assign(
                denial=denial, assignee=assignee, actor=request.user, expected_version=form.cleaned_data["version"]
            )
        except services.DenialConflict as exc:
            return _conflict(request, denial_id, exc)
        except services.DenialActionRefused as exc:
            form.add_error("assignee", str(exc))
        else:
            who = "you" if assignee == request.user else str(assignee) if assignee else "nobody"
            return _saved(request, denial_id, "assign", f"Assigned to {who}.")
    return _render_denial(request, denial, status=400, assign_form=form)


@require_POST
def denial_outcome(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    denial = _get_denial_for_user(request, denial_id)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        try:
            services.denial_record_outcome(
                denial=denial,
                action=action,
                actor=request.user,
                expected_version=form.cleaned_data["version"],
                modifier=form.cleaned_data["modifier"],
                reason=form.cleaned_data["reason"],
            )
        except services.DenialConflict as exc:
            return _conflict(request, denial_id, exc)
        except services.DenialActionRefused as exc:
            form.add_error(OutcomeForm.REFUSAL_FIELD.get(action, "action"), str(exc))
        else:
            return _saved(request, denial_id, "outcome", f"Saved: {OutcomeForm.ACTIONS[action].lower()}.")
    return _render_denial(request, denial, status=400, outcome_form=form)


@require_POST
def denial_note(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    denial = _get_denial_for_user(request, denial_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.denial_add_note(denial=denial, author=request.user, body=form.cleaned_data["body"])
        except services.DenialActionRefused as exc:
            form.add_error("body", str(exc))
        else:
            return _saved(request, denial_id, "notes", "Note added.")
    return _render_denial(request, denial, status=400, note_form=form)


@require_POST
def denial_document_upload(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    denial = _get_denial_for_user(request, denial_id)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            document = services.document_upload(
                claim=denial.claim,
                name=upload.name,
                content=upload.read(),
                actor=request.user,
                title=form.cleaned_data["title"],
            )
        except services.DenialActionRefused as exc:
            form.add_error("file", str(exc))
        else:
            return _saved(
                request, denial_id, "docs", f"Attached {document.title}: select a passage to save it as evidence."
            )
    return _render_denial(request, denial, status=400, document_form=form)


@require_GET
def denial_document_file(request: HtmxHttpRequest, denial_id: int, document_id: int) -> HttpResponse:
    """The document as uploaded, under a neutral file name (names often carry the patient's)."""
    denial = _get_denial_for_user(request, denial_id)
    try:
        document = selectors.document_for_denial(denial=denial, document_id=document_id)
    except ClinicalDocument.DoesNotExist:
        raise Http404("No such document") from None
    is_pdf = document.kind == ClinicalDocument.Kind.PDF
    _record_view(request, document, AccessEvent.Action.DOWNLOAD)
    response = HttpResponse(
        bytes(document.content), content_type="application/pdf" if is_pdf else "text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="document-{document.pk}.{"pdf" if is_pdf else "txt"}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def denial_evidence_save(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    denial = _get_denial_for_user(request, denial_id)
    form = EvidenceForm(request.POST)
    if form.is_valid():
        try:
            document = selectors.document_for_denial(denial=denial, document_id=form.cleaned_data["document"])
        except ClinicalDocument.DoesNotExist:
            raise Http404("No such document") from None
        offsets = form.offsets_in(document.text)
        if offsets is None:
            form.add_error("quote", "Those words are not in the document: select the passage in the text.")
        else:
            try:
                services.evidence_save(
                    denial=denial,
                    document=document,
                    start=offsets[0],
                    end=offsets[1],
                    kind=form.cleaned_data["kind"],
                    actor=request.user,
                    quote=form.selection_quote,
                )
            except services.DenialActionRefused as exc:
                form.add_error("quote", str(exc))
            else:
                kind = Evidence.Kind(form.cleaned_data["kind"]).label
                return _saved(request, denial_id, "evidence", f"Passage saved as evidence: {kind}.")
    return _render_denial(request, denial, status=400, evidence_form=form)


@require_POST
def denial_evidence_delete(request: HtmxHttpRequest, denial_id: int, evidence_id: int) -> HttpResponse:
    denial = _get_denial_for_user(request, denial_id)
    try:
        evidence = selectors.evidence_for_denial(denial=denial, evidence_id=evidence_id)
    except Evidence.DoesNotExist:
        raise Http404("No such evidence") from None
    services.evidence_delete(evidence=evidence, actor=request.user)
    return _saved(request, denial_id, "evidence", "Passage removed from the evidence.")
