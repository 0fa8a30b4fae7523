"""The managers' dashboard (``/analytics/``, namespace ``analytics``): the manager's and admin's home
page. Filters in the query string (a GET form; no patient data in them); charts drawn by
``static/js/analytics.js`` with the vendored Chart.js from data blocks on the page (the CSP allows
no inline script); each chart beside its table; every table as CSV (``?format=csv&table=<id>``,
recorded as an export). Coders get 404: the page does not exist for them.

Every figure comes from ``appeals.analytics_tables``, which the CSV reads too. The figures are
read from the tables ``appeals.analytics_rollup`` keeps up to date (every five minutes); the page says
when they were last brought up to date ("Figures as of").

The page is a shell: the filters, the freshness line and one placeholder per table, each of which
asks for its table in a request of its own (htmx, ``hx-trigger="load"``: ``?table=<id>`` with the
page's filters answers that table's section, the same partial the page would show), so no request
waits for twelve figures and their rendering. Without JavaScript the placeholder links to the page
with that table in it (``?table=<id>``, not an htmx request), and to its CSV.
"""

from __future__ import annotations

import csv
from typing import Any, cast

from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from appeals import analytics_tables as tables
from appeals.analytics import APPEAL_GROUPINGS, GROUPING_LABELS
from appeals.analytics_rollup import figures_as_of, figures_refresh_on_read
from appeals.reference_lines import reference_lines
from denials import analytics as denial_figures
from denials.access import role_required
from denials.models import AccessEvent, Payer
from denials.roles import is_manager
from denials.services import access_record
from denials.views import HtmxHttpRequest

#: "The same by CARC, category...": the groupings the selector offers beside the edit table.
OTHER_GROUPINGS = tuple(by for by in APPEAL_GROUPINGS if by != "edit")
DEFAULT_GROUPING = "carc"


def _require_manager(request: HttpRequest) -> None:
    """The one permission check of the dashboard: managers and admins; anyone else 404."""
    if not is_manager(request.user):
        raise Http404("No such page")


def _csv(request: HttpRequest, filters: denial_figures.Filters) -> HttpResponse:
    table_id = str(request.GET.get("table") or "")
    if table_id not in tables.table_ids():
        return HttpResponse(
            f"table: {table_id!r} is not a table of the dashboard; use one of {', '.join(tables.table_ids())}.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    table = tables.kept_table(
        table_id=table_id, user=request.user, filters=filters, references=reference_lines(), whole=True
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="overturn-{table_id}.csv"'
    writer = csv.writer(response)
    writer.writerow([c.heading for c in table.columns])
    for row in table.rows:
        writer.writerow([tables.csv_value(cell, column) for cell, column in zip(row, table.columns, strict=True)])
    # The export names no patient: the row records who exported which table with which filters (the path).
    access_record(
        actor=request.user,
        action=AccessEvent.Action.EXPORT,
        target=cast(Model, request.user),
        path=request.get_full_path(),
    )
    return response


@require_GET
@role_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    _require_manager(request)
    if not request.htmx:
        # The page (or its CSV) first; the sections it then asks for, a dozen at once, read what
        # it just refreshed instead of each refreshing again (development and tests only).
        figures_refresh_on_read()
    user = request.user
    try:
        filters = denial_figures.filters_parse(params=request.GET, user=user)
        error = None
    except denial_figures.FilterError as exc:
        filters, error = denial_figures.Filters(), exc
    group = str(request.GET.get("group") or DEFAULT_GROUPING)
    if error is None and group not in OTHER_GROUPINGS:
        error = denial_figures.FilterError(
            "group", f"{group!r} is not a grouping; use one of {', '.join(OTHER_GROUPINGS)}."
        )
    context: dict[str, Any] = {
        "active_nav": "analytics",
        "error": error,
        "values": {name: request.GET.get(name, "") for name in (*denial_figures.FILTER_PARAMS, "group")},
        "payers": Payer.objects.order_by("name"),
        "teams": denial_figures.teams_for(user=user),
        "settings": _settings(),
        "specialties": denial_figures.specialty_names(),
        "groupings": [(by, GROUPING_LABELS[by]) for by in OTHER_GROUPINGS],
        "group": group,
        "references": reference_lines(),
        "figures_as_of": figures_as_of(),
    }
    if error is not None:
        return render(request, "analytics/dashboard.html", context, status=400)
    if request.GET.get("format") == "csv":
        return _csv(request, filters)
    shown = dashboard_table_ids(group)
    wanted = str(request.GET.get("table") or "")
    if wanted and wanted not in shown:
        context["error"] = denial_figures.FilterError(
            "table", f"{wanted!r} is not a table of this page; use one of {', '.join(shown)}."
        )
        return render(request, "analytics/dashboard.html", context, status=400)
    built = {}
    if wanted:
        built[wanted] = tables.kept_table(table_id=wanted, user=user, filters=filters, references=context["references"])
        if request.htmx:  # the placeholder asking for its table: that section alone
            return TemplateResponse(request, "analytics/dashboard.html#section", {**context, "t": built[wanted]})
    params = filters.as_params()
    if group != DEFAULT_GROUPING:
        params["group"] = group
    context.update(
        tables=built,
        slots={table_id: tables.table_title(table_id) for table_id in shown},
        group_table=f"appeal-success-{group}",
        filter_params=params,
        filtered=bool(filters.as_params()),
    )
    return render(request, "analytics/dashboard.html", context)


def dashboard_table_ids(group: str) -> tuple[str, ...]:
    """The tables the page shows, with the appeal success table of the chosen grouping."""
    return (
        "appeal-success-edit",
        f"appeal-success-{group}",
        "bundling-first-level",
        "recovered",
        "denial-trend",
        "denials-category",
        "denials-payer",
        "denial-rate",
        "aging",
        "write-offs",
        "days-to-resolve",
        "prevention",
    )


def _settings() -> list[tuple[str, str]]:
    from ncci.models import Setting

    return list(Setting.choices)
