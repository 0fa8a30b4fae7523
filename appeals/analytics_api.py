"""``/api/analytics/`` (namespace ``analytics_api``): the managers' figures as JSON, read by the
same selectors as the dashboard (``appeals.analytics``, ``denials.analytics``).

- ``GET appeal-success/?by=edit|carc|category|payer|modifier|level|coder|specialty|month``
- ``GET denials/?by=category|payer|month|carc``

Both take ``from``, ``to`` (YYYY-MM-DD), ``payer`` (id), ``team`` (id), ``setting`` (NCCI setting),
``specialty`` (name). A bad parameter answers 400 ``{"errors": {"<parameter>": ["why"]}}``.
Managers (their teams' figures) and admins (all); coders 403, like every role-forbidden API call.
Money is a string with two decimals; ``success_rate`` a fraction 0-1, null when nothing is decided.
``figures_as_of``: when the figures were last brought up to date (``appeals.analytics_rollup``,
every five minutes), ISO 8601; null before the first refresh.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals import analytics as appeal_figures
from appeals.analytics_rollup import figures_as_of, figures_refresh_on_read
from denials import analytics as denial_figures
from denials.access import HasRole
from denials.analytics import FilterError, filters_parse
from denials.roles import is_manager

MANAGERS_ONLY = "The figures are for managers and admins."


class IsManager(BasePermission):
    """A manager or an admin (coders: 403 with the reason)."""

    message = MANAGERS_ONLY

    def has_permission(self, request: Any, view: Any) -> bool:
        if not is_manager(request.user):
            raise PermissionDenied(MANAGERS_ONLY)
        return True


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def success_row_json(row: appeal_figures.SuccessRow) -> dict[str, Any]:
    return {
        **row.keys,
        "label": row.label,
        "appeals": row.appeals,
        "won": row.won,
        "partial": row.partial,
        "lost": row.lost,
        "pending": row.pending,
        "withdrawn": row.withdrawn,
        "decided": row.decided,
        "success_rate": row.success_rate,
        "amount_at_stake": _money(row.amount_at_stake),
        "decided_at_stake": _money(row.decided_at_stake),
        "amount_recovered": _money(row.amount_recovered),
        "recovery_yield": row.recovery_yield,
    }


DENIAL_KEYS = {"category": "category", "payer": "payer_id", "month": "month", "carc": "carc"}


def denial_row_json(by: str, row: denial_figures.DenialRow) -> dict[str, Any]:
    key: Any = row.key
    if by == "payer":
        key = int(row.key) if row.key.isdigit() else None
    return {DENIAL_KEYS[by]: key, "label": row.label, "count": row.count, "amount": _money(row.amount)}


class _FiguresView(APIView):
    permission_classes = [HasRole, IsManager]
    groupings: tuple[str, ...] = ()

    def _parse(self, request: Request) -> tuple[str, denial_figures.Filters]:
        params = request.query_params
        by = str(params.get("by") or "").strip()
        if not by:
            raise FilterError("by", f"say how to group: one of {', '.join(self.groupings)}.")
        if by not in self.groupings:
            raise FilterError("by", f"{by!r} is not a grouping; use one of {', '.join(self.groupings)}.")
        unknown = sorted(set(params) - {"by", "format", *denial_figures.FILTER_PARAMS})
        if unknown:
            raise FilterError(
                unknown[0], f"unknown parameter; the filters are {', '.join(denial_figures.FILTER_PARAMS)}."
            )
        return by, filters_parse(params=params, user=request.user)

    def get(self, request: Request) -> Response:
        try:
            by, filters = self._parse(request)
        except FilterError as error:
            return Response({"errors": {error.param: [error.message]}}, status=400)
        figures_refresh_on_read()
        as_of = figures_as_of()
        return Response(
            {
                "by": by,
                "filters": filters.as_params(),
                "figures_as_of": as_of.isoformat() if as_of else None,
                "results": self.results(request, by, filters),
            }
        )

    def results(self, request: Request, by: str, filters: denial_figures.Filters) -> list[dict[str, Any]]:
        raise NotImplementedError


FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="Start date (inclusive)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="End date (inclusive)"),
    OpenApiParameter("payer", OpenApiTypes.INT, description="Payer id"),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id (one of yours; any for admins)"),
    OpenApiParameter("setting", OpenApiTypes.STR, description="NCCI setting: practitioner, hospital, dme"),
    OpenApiParameter("specialty", OpenApiTypes.STR, description="Specialty of the denied line's procedure code"),
]
MONEY = serializers.DecimalField(max_digits=16, decimal_places=2)
RATE = serializers.FloatField(allow_null=True, help_text="A fraction 0-1; null when nothing is decided")
SUCCESS_ROW = inline_serializer(
    "AppealSuccessRow",
    {
        "label": serializers.CharField(),
        "column1": serializers.CharField(required=False, help_text="by=edit"),
        "column2": serializers.CharField(required=False, help_text="by=edit"),
        "appeals": serializers.IntegerField(),
        "won": serializers.IntegerField(),
        "partial": serializers.IntegerField(),
        "lost": serializers.IntegerField(),
        "pending": serializers.IntegerField(),
        "withdrawn": serializers.IntegerField(),
        "decided": serializers.IntegerField(),
        "success_rate": RATE,
        "amount_at_stake": MONEY,
        "decided_at_stake": MONEY,
        "amount_recovered": MONEY,
        "recovery_yield": serializers.FloatField(allow_null=True),
    },
)
DENIAL_ROW = inline_serializer(
    "DenialFiguresRow",
    {"label": serializers.CharField(), "count": serializers.IntegerField(), "amount": MONEY},
)


def _answer(name: str, row: Any) -> Any:
    return inline_serializer(
        name,
        {
            "by": serializers.CharField(),
            "filters": serializers.DictField(),
            "figures_as_of": serializers.DateTimeField(allow_null=True),
            "results": row.__class__(many=True),
        },
    )


class AppealSuccessView(_FiguresView):
    """Appeal success per group: appeals, won, partial, lost, pending, success rate, dollars."""

    groupings = appeal_figures.APPEAL_GROUPINGS

    @extend_schema(
        parameters=[
            OpenApiParameter("by", OpenApiTypes.STR, required=True, enum=list(appeal_figures.APPEAL_GROUPINGS)),
            *FILTER_PARAMETERS,
        ],
        responses={200: _answer("AppealSuccess", SUCCESS_ROW)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def results(self, request: Request, by: str, filters: denial_figures.Filters) -> list[dict[str, Any]]:
        rows = appeal_figures.appeal_success(user=request.user, filters=filters, by=by)
        return [success_row_json(row) for row in rows]


class DenialFiguresView(_FiguresView):
    """Denials per group: count and dollars."""

    groupings = denial_figures.DENIAL_GROUPINGS

    @extend_schema(
        parameters=[
            OpenApiParameter("by", OpenApiTypes.STR, required=True, enum=list(denial_figures.DENIAL_GROUPINGS)),
            *FILTER_PARAMETERS,
        ],
        responses={200: _answer("DenialFigures", DENIAL_ROW)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def results(self, request: Request, by: str, filters: denial_figures.Filters) -> list[dict[str, Any]]:
        rows = denial_figures.denial_counts(user=request.user, filters=filters, by=by)
        return [denial_row_json(by, row) for row in rows]


urlpatterns = [
    path("appeal-success/", AppealSuccessView.as_view(), name="appeal-success"),
    path("denials/", DenialFiguresView.as_view(), name="denials"),
]
