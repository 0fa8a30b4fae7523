"""HTML views of appeals: the list, the appeal page and its forms, the Appeal button on the
denial page, and the worklist's appeal tabs and My work news (loaded lazily by htmx, so the
denials app links to these URLs without importing anything from here).

Thin: one permission helper per object (``_get_appeal_for_user``, ``_get_denial_for_user``,
both through the visibility selectors, so another team's object answers 404), one service
or selector call, render. Accounts with no role never get here (``denials.access``
middleware; ``role_required`` below as the second lock). Each render of an appeal page
writes one ``AccessEvent``; lists, tab counts and the denial page's appeal box write none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from appeals import selectors, services
from appeals import vocabulary as v
from appeals.filters import SORTS, AppealFilter
from appeals.forms import DecideForm, NotesForm, StartForm, StatusForm, SubmitForm, VersionedForm
from appeals.models import Appeal
from denials import selectors as denial_selectors
from denials import vocabulary as denial_words
from denials.access import role_required
from denials.models import AccessEvent, Denial
from denials.services import access_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails

PAGE_SIZE = 50
APPEAL_CHANGED = "appealChanged"  # htmx event: lists and tab counts on the page refresh


class HtmxHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def _htmx_aware(response: HttpResponse) -> HttpResponse:
    # The same URL answers a whole page or a partial: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _get_appeal_for_user(request: HtmxHttpRequest, appeal_id: int) -> Appeal:
    """The one permission check of every appeal page and form: not visible means 404."""
    try:
        return selectors.appeal_for_user(user=request.user, appeal_id=appeal_id)
    except Appeal.DoesNotExist:
        raise Http404("No such appeal") from None


def _get_denial_for_user(request: HtmxHttpRequest, denial_id: int, **read: Any) -> Denial:
    """The denial, if the user may see it (``read``: what of it to join, see ``denial_for_user``)."""
    try:
        return denial_selectors.denial_for_user(user=request.user, denial_id=denial_id, **read)
    except Denial.DoesNotExist:
        raise Http404("No such denial") from None


# --- The list ----------------------------------------------------------------------------------
#: Filters the list's form has no control for (a dashboard link sets them): kept as hidden inputs
#: and said in words above the rows, so the reader knows what narrows the list.
EXTRA_FILTERS = (
    "carc",
    "category",
    "modifier",
    "team",
    "setting",
    "specialty",
    "bundling",
    "first_level",
    "created_by",
    "started_from",
    "started_to",
    "decided_from",
    "decided_to",
    "outcome",
)


def _extra_filters(filterset: AppealFilter) -> list[tuple[str, str, str]]:
    """(name, value as sent, in words) for each extra filter in force."""
    if not filterset.is_bound:
        return []
    form = filterset.form
    data = form.cleaned_data if form.is_valid() else {}
    found = []
    for name in EXTRA_FILTERS:
        raw = str(filterset.data.get(name) or "").strip()
        if not raw or name in form.errors:
            continue
        value = data.get(name)
        field = form.fields[name]
        if hasattr(field, "choices") and value not in (None, ""):
            words = dict(field.choices).get(value, raw)
        elif name == "team" and value is not None:
            from denials.models import Team

            words = Team.objects.filter(pk=int(value)).values_list("name", flat=True).first() or raw
        elif name == "created_by" and value is not None:
            from django.contrib.auth import get_user_model

            people = get_user_model().objects.filter(pk=int(value))
            words = people.values_list("username", flat=True).first() or raw
        elif name in ("bundling", "first_level"):
            words = "yes" if raw.lower() in ("true", "1", "yes", "on") else "no"
        else:
            words = str(value if value not in (None, "") else raw)
        found.append((name, raw, f"{field.label}: {words}"))
    return found


@require_GET
@role_required
def appeal_list(request: HtmxHttpRequest) -> HttpResponse:
    """Appeals the user may see; filters and sort in the URL (no patient data in them)."""
    base = selectors.appeal_list(user=request.user)
    filterset = AppealFilter(request.GET or None, queryset=base, request=request)
    rows = filterset.qs
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    appeals = selectors.with_days_left(list(page.object_list))
    sort = request.GET.get("sort", "")
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "page": page,
        "appeals": appeals,
        "payers": selectors.appeal_payers_for(user=request.user),
        "people": selectors.appeal_people_for(user=request.user),
        "statuses": v.choices(v.STATUSES),
        "levels": v.choices(v.LEVELS),
        "sort": sort,
        "sorts": [(key, label) for key, (_field, label) in SORTS.items()],
        "extra_filters": _extra_filters(filterset),
        "extra_filter_names": EXTRA_FILTERS,
        "active_nav": "appeals",
    }
    template = (
        "appeals/list.html#rows" if request.htmx and request.htmx.target == "appeal-rows" else "appeals/list.html"
    )
    return _htmx_aware(render(request, template, context))


# --- The worklist's appeal tabs and My work news (lazy partials) -----------------------------------
@require_GET
@role_required
def appeal_tabs(request: HtmxHttpRequest) -> HttpResponse:
    """The worklist's "Appeals due this week" and "Overdue" tabs with their counts."""
    counts = selectors.appeal_tab_counts(user=request.user)
    return render(request, "appeals/list.html#tabs", {"counts": counts})


@require_GET
@role_required
def appeal_news(request: HtmxHttpRequest) -> HttpResponse:
    """What later 835s decided on the user's appeals, for My work."""
    news = selectors.appeal_news_for(user=request.user)
    return render(request, "appeals/list.html#news", {"news": news})


# --- The Appeal button on the denial page --------------------------------------------------------
def _denial_box(request: HtmxHttpRequest, denial: Denial, *, error: str = "", status: int = 200) -> HttpResponse:
    appeals = selectors.appeals_for_denial(denial=denial)
    refusal = services.denial_appeal_refusal(denial=denial)
    draft = next((a for a in appeals if a.status == v.STATUS_DRAFT), None)
    if draft is None:
        draft = selectors.claim_draft_appeal(claim_id=denial.claim_id)
    routes = selectors.starting_routes(denial=denial)
    context = {
        "denial": denial,
        "appeals": appeals,
        "refusal": refusal,
        "draft": draft,
        "routes": routes,
        "recommended": denial.action == denial_words.APPEAL,
        "error": error,
    }
    template = "appeals/detail.html#denial-box"
    return render(request, template, context, status=status if not request.htmx else 200)


@require_GET
@role_required
def denial_appeal_box(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    """The denial page's appeal box: "Under appeal N", or the Appeal button (disabled, with the
    reason, when the denial cannot be appealed), and Medicare's choice of route."""
    # The box reads the denial and its claim's payer (which levels it may start at), not the
    # whole page's joins: it is fetched with every denial opened.
    denial = _get_denial_for_user(request, denial_id, related=("claim__payer",))
    return _htmx_aware(_denial_box(request, denial))


@require_POST
@role_required
def denial_appeal_start(request: HtmxHttpRequest, denial_id: int) -> HttpResponse:
    """Appeal a denial: a new draft for its claim, or the claim's draft with this line added.
    Takes the coder to the appeal (htmx: HX-Redirect; otherwise a redirect)."""
    denial = _get_denial_for_user(request, denial_id)
    form = StartForm(request.POST)
    if not form.is_valid():
        return _denial_box(request, denial, error="Choose the route from the buttons.", status=400)
    level = form.cleaned_data["level"] or None
    try:
        appeal = services.appeal_create(denials=[denial], actor=request.user, level=level)
    except services.AppealRefused as exc:
        if request.htmx:
            return _denial_box(request, denial, error=str(exc))
        messages.error(request, str(exc))
        return redirect("denials:denial_detail", denial_id=denial.pk)
    url = reverse("appeals:detail", args=[appeal.pk])
    messages.success(
        request, f"Appeal {appeal.pk} ({v.label(v.LEVELS, appeal.level).lower()}, draft) now covers this line."
    )
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- The appeal page ---------------------------------------------------------------------------
def _checklist(appeal: Appeal) -> Any:
    """The package builder's checklist (``appeals.package``), or None until that module exists."""
    try:
        from appeals.package import appeal_package  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return appeal_package(appeal=appeal, with_content=False).checklist


def _render_appeal(
    request: HtmxHttpRequest,
    appeal: Appeal,
    *,
    status: int = 200,
    saved: str = "",
    conflict: services.AppealConflict | None = None,
    **forms: Any,
) -> HttpResponse:
    """The appeal page, or only its body for htmx. htmx swaps 2xx answers only, so a refusal
    or a conflict answers 200 to htmx (the words are in the body) and 400/409 otherwise."""
    version = {"version": appeal.version}
    page = selectors.appeal_page(appeal=appeal)
    context = {
        "appeal": appeal,
        "claim": appeal.claim,
        "payer": appeal.claim.payer,
        "pg": page,
        "days_left": selectors.days_left(appeal),
        "today": timezone.localdate(),
        "checklist": _checklist(appeal),
        "saved": saved,
        "conflict": conflict,
        "status_form": StatusForm(initial=version),
        "submit_form": SubmitForm(initial={**version, "submitted_on": appeal.submitted_on, "method": appeal.method}),
        "decide_form": DecideForm(initial={**version, "outcome": appeal.outcome}),
        "notes_form": NotesForm(initial={**version, "notes": appeal.notes}),
        "active_nav": "appeals",
        **forms,
    }
    # Every render shows the patient's claim: the full page and the htmx body alike.
    access_record(actor=request.user, action=AccessEvent.Action.VIEW, target=appeal, path=request.path)
    if request.htmx:
        response = render(request, "appeals/detail.html#body", context)
    else:
        response = render(request, "appeals/detail.html", context, status=status)
    return _htmx_aware(response)


def _saved(request: HtmxHttpRequest, appeal_id: int, message: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        return redirect("appeals:detail", appeal_id=appeal_id)
    response = _render_appeal(request, _get_appeal_for_user(request, appeal_id), saved=message)
    response["HX-Trigger"] = APPEAL_CHANGED
    return response


def _conflict(request: HtmxHttpRequest, appeal_id: int, exc: services.AppealConflict) -> HttpResponse:
    return _render_appeal(request, _get_appeal_for_user(request, appeal_id), status=409, conflict=exc)


def _update(
    request: HtmxHttpRequest, appeal: Appeal, form: Any, form_name: str, changes: dict[str, Any], message: str
) -> HttpResponse:
    """Save ``changes`` at the form's version: saved, a conflict, or the refusal beside its field."""
    try:
        services.appeal_update(
            appeal=appeal, expected_version=form.cleaned_data["version"], actor=request.user, **changes
        )
    except services.AppealConflict as exc:
        return _conflict(request, appeal.pk, exc)
    except services.AppealRefused as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, str(exc))
        return _render_appeal(request, appeal, status=400, **{form_name: form})
    return _saved(request, appeal.pk, message)


@require_GET
@role_required
def appeal_detail(request: HtmxHttpRequest, appeal_id: int) -> HttpResponse:
    return _render_appeal(request, _get_appeal_for_user(request, appeal_id))


@require_POST
@role_required
def appeal_status(request: HtmxHttpRequest, appeal_id: int) -> HttpResponse:
    """Move the appeal along ``vocabulary.TRANSITIONS`` (ready, back to draft, withdrawn)."""
    appeal = _get_appeal_for_user(request, appeal_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _render_appeal(request, appeal, status=400, status_form=form)
    status = form.cleaned_data["status"]
    return _update(
        request, appeal, form, "status_form", {"status": status}, f"Now {v.label(v.STATUSES, status).lower()}."
    )


@require_POST
@role_required
def appeal_submit(request: HtmxHttpRequest, appeal_id: int) -> HttpResponse:
    """Record that the appeal was sent: when, how, the payer's reference."""
    appeal = _get_appeal_for_user(request, appeal_id)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _render_appeal(request, appeal, status=400, submit_form=form)
    data = form.cleaned_data
    changes = {
        "status": v.STATUS_SUBMITTED,
        "submitted_on": data["submitted_on"],
        "method": data["method"],
        "payer_reference": data["payer_reference"].strip(),
    }
    return _update(request, appeal, form, "submit_form", changes, f"Submitted on {data['submitted_on']:%Y-%m-%d}.")


@require_POST
@role_required
def appeal_decide(request: HtmxHttpRequest, appeal_id: int) -> HttpResponse:
    """Record the payer's decision: outcome, amount recovered, decision date."""
    appeal = _get_appeal_for_user(request, appeal_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _render_appeal(request, appeal, status=400, decide_form=form)
    outcome = form.cleaned_data["outcome"]
    return _update(
        request, appeal, form, "decide_form", form.changes(), f"Decision recorded: {v.label(v.OUTCOMES, outcome)}."
    )


@require_POST
@role_required
def appeal_notes(request: HtmxHttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _get_appeal_for_user(request, appeal_id)
    form = NotesForm(request.POST)
    if not form.is_valid():
        return _render_appeal(request, appeal, status=400, notes_form=form)
    return _update(request, appeal, form, "notes_form", {"notes": form.cleaned_data["notes"]}, "Notes saved.")


@require_POST
@role_required
def appeal_next_level(request: HtmxHttpRequest, appeal_id: int) -> HttpResponse:
    """Appeal the decision one level up: a new draft, linked to this appeal; go to it."""
    appeal = _get_appeal_for_user(request, appeal_id)
    form = VersionedForm(request.POST)
    if not form.is_valid():
        return _render_appeal(request, appeal, status=400, status_form=form)
    if form.cleaned_data["version"] != appeal.version:
        return _conflict(request, appeal.pk, services.AppealConflict(appeal))
    try:
        upper = services.appeal_next_level(appeal=appeal, actor=request.user)
    except services.AppealRefused as exc:
        form.add_error(None, str(exc))
        return _render_appeal(request, appeal, status=400, next_form=form)
    url = reverse("appeals:detail", args=[upper.pk])
    messages.success(request, f"Appeal {upper.pk} started: {v.label(v.LEVELS, upper.level).lower()}, draft.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
