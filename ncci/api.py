"""REST API of the ncci app: PTP and MUE lists, and the claim scrubber."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ncci import scrubber, selectors
from ncci.models import Mue, PtpEdit, Setting

# Token first: an anonymous call gets 401 with "WWW-Authenticate: Token" (with session
# authentication first, DRF answers 403 and no challenge). Sessions work as before.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

CODE_HELP = "a 5-character CPT/HCPCS code"


def _valid_code(value: str) -> str:
    code = (value or "").strip().upper()
    if not scrubber.looks_like_procedure_code(code):
        raise serializers.ValidationError(f"{value!r} is not {CODE_HELP}.")
    return code


# ---------------------------------------------------------------------------------------
# PTP and MUE lists
# ---------------------------------------------------------------------------------------


class PtpEditSerializer(serializers.ModelSerializer):
    modifier_indicator_text = serializers.SerializerMethodField()

    class Meta:
        model = PtpEdit
        fields = [
            "id",
            "setting",
            "column1",
            "column2",
            "modifier_indicator",
            "modifier_indicator_text",
            "effective_date",
            "deletion_date",
            "prior_1996",
            "rationale",
            "quarter",
            "source_file",
        ]

    def get_modifier_indicator_text(self, edit: PtpEdit) -> str:
        return scrubber.indicator_words(edit.modifier_indicator)


class PtpEditFilter(django_filters.FilterSet):
    column1 = django_filters.CharFilter(method="_noop", help_text="Column 1 code")
    column2 = django_filters.CharFilter(method="_noop", help_text="Column 2 code")
    setting = django_filters.ChoiceFilter(choices=Setting.choices, method="_noop")
    date = django_filters.DateFilter(method="_noop", help_text="only edits in force on this date (YYYY-MM-DD)")
    modifier_indicator = django_filters.ChoiceFilter(choices=[("0", "0"), ("1", "1"), ("9", "9")], method="_noop")
    quarter = django_filters.CharFilter(method="_noop")

    def _noop(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset  # the selector applies every filter at once (see filter_queryset)

    def filter_queryset(self, queryset: Any) -> Any:
        data = self.form.cleaned_data
        return selectors.ptp_edit_list(
            column1=data.get("column1") or "",
            column2=data.get("column2") or "",
            setting=data.get("setting") or "",
            on=data.get("date"),
            modifier_indicator=data.get("modifier_indicator") or "",
            quarter=data.get("quarter") or "",
        )

    class Meta:
        model = PtpEdit
        fields: list[str] = []


class PtpEditList(generics.ListAPIView):
    """PTP edits, paginated (`count`, `next`, `previous`, `results`).

    Filters: `column1`, `column2`, `setting`, `date` (in force on that date; the deletion
    date is the last day an edit applies), `modifier_indicator`, `quarter`.
    """

    authentication_classes = AUTHENTICATION
    serializer_class = PtpEditSerializer
    filterset_class = PtpEditFilter
    queryset = PtpEdit.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.ptp_edit_list()


class MueSerializer(serializers.ModelSerializer):
    adjudication_indicator_text = serializers.SerializerMethodField()

    class Meta:
        model = Mue
        fields = [
            "id",
            "setting",
            "code",
            "mue_value",
            "adjudication_indicator",
            "adjudication_text",
            "adjudication_indicator_text",
            "rationale",
            "quarter",
            "effective_date",
            "source_file",
        ]

    def get_adjudication_indicator_text(self, mue: Mue) -> str:
        return scrubber.mue_indicator_words(mue.adjudication_indicator)


class MueFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(method="_noop")
    setting = django_filters.ChoiceFilter(choices=Setting.choices, method="_noop")
    date = django_filters.DateFilter(method="_noop", help_text="only the MUE in force on this date")
    quarter = django_filters.CharFilter(method="_noop")

    def _noop(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset

    def filter_queryset(self, queryset: Any) -> Any:
        data = self.form.cleaned_data
        return selectors.mue_list(
            code=data.get("code") or "",
            setting=data.get("setting") or "",
            on=data.get("date"),
            quarter=data.get("quarter") or "",
        )

    class Meta:
        model = Mue
        fields: list[str] = []


class MueList(generics.ListAPIView):
    """MUE rows, paginated. Filters: `code`, `setting`, `date` (the MUE in force on that
    date: the latest quarter on or before it), `quarter`."""

    authentication_classes = AUTHENTICATION
    serializer_class = MueSerializer
    filterset_class = MueFilter
    queryset = Mue.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.mue_list()


# ---------------------------------------------------------------------------------------
# Scrubber
# ---------------------------------------------------------------------------------------

MAX_LINES = 50


class ScrubLineSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10, help_text=CODE_HELP)
    modifiers = serializers.ListField(
        child=serializers.CharField(max_length=2, min_length=2), required=False, default=list, max_length=4
    )
    units = serializers.IntegerField(min_value=1, max_value=99_999, required=False, default=1)
    date_of_service = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_code(self, value: str) -> str:
        return _valid_code(value)

    def validate_modifiers(self, value: list[str]) -> list[str]:
        modifiers = [m.strip().upper() for m in value]
        for modifier in modifiers:
            if not modifier.isalnum():
                raise serializers.ValidationError(f"{modifier!r} is not a 2-character modifier.")
        return modifiers


class ScrubLineListSerializer(serializers.ListSerializer):
    def to_internal_value(self, data: Any) -> Any:
        # Say which line each error is on in the message as well as by position.
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            # DRF keys the errors by line index ({1: {"code": [...]}}); older versions list them.
            by_line = detail.items() if isinstance(detail, dict) else enumerate(detail)  # type: ignore[union-attr]
            for index, errors in by_line:
                if not isinstance(errors, dict) or not isinstance(index, int):
                    continue
                for field_errors in errors.values():
                    if isinstance(field_errors, list):
                        field_errors[:] = [
                            serializers.ErrorDetail(f"Line {index + 1}: {e}", code=getattr(e, "code", None))
                            for e in field_errors
                        ]
            raise


class ScrubRequestSerializer(serializers.Serializer):
    setting = serializers.ChoiceField(choices=Setting.choices, required=False, default=Setting.PRACTITIONER)
    date_of_service = serializers.DateField()
    lines = ScrubLineListSerializer(child=ScrubLineSerializer(), allow_empty=False, max_length=MAX_LINES)

    def to_lines(self) -> list[scrubber.ClaimLine]:
        return [
            scrubber.ClaimLine(
                code=line["code"],
                modifiers=tuple(line.get("modifiers") or ()),
                units=line.get("units") or 1,
                date_of_service=line.get("date_of_service"),
            )
            for line in self.validated_data["lines"]
        ]


def scrub_result_data(result: scrubber.ScrubResult, lines: list[scrubber.ClaimLine]) -> dict[str, Any]:
    """The scrubber's flags as JSON (the API answer; the page renders the same objects)."""
    return {
        "clean": result.clean,
        "problems": result.problems,
        "ptp": [
            {
                "column1": f.column1,
                "column2": f.column2,
                "column1_index": f.column1_index,
                "column2_index": f.column2_index,
                "date_of_service": f.date_of_service,
                "modifier_indicator": f.modifier_indicator,
                "modifier_indicator_text": f.indicator_words,
                "in_force": f.in_force,
                "effective_date": f.edit.effective_date,
                "deletion_date": f.edit.deletion_date,
                "rationale": f.edit.rationale,
                "quarter": f.edit.quarter,
                "bypass_allowed": f.bypass_allowed,
                "bypass_modifier": f.bypass_modifier or None,
                "misplaced_modifier": f.misplaced_modifier or None,
                "action": f.action,
                "action_text": f.action_label,
                "severity": f.severity,
                "suggested_modifier": f.suggested_modifier or None,
                "suggested_modifiers": [
                    {"modifier": s.modifier, "documentation": s.documentation} for s in f.suggestions
                ],
                "message": f.message,
            }
            for f in result.ptp
        ],
        "mue": [
            {
                "code": f.code,
                "line_indexes": list(f.line_indexes),
                "units": f.units,
                "mue_value": f.mue_value,
                "per": f.per,
                "adjudication_indicator": f.mue.adjudication_indicator,
                "adjudication_text": f.mue.adjudication_text,
                "adjudication_indicator_text": scrubber.mue_indicator_words(f.mue.adjudication_indicator),
                "quarter": f.mue.quarter,
                "message": f.message,
            }
            for f in result.mue
        ],
        "notes": list(result.notes),
    }


class ScrubView(APIView):
    """POST a claim's lines; get back the NCCI flags it would hit before it is sent.

    Body: {"setting": "practitioner", "date_of_service": "2026-03-02",
    "lines": [{"code": "17000", "modifiers": [], "units": 1}, ...]}. Bad input: 400 with
    the errors by field (and by line, in order).
    """

    authentication_classes = AUTHENTICATION

    @extend_schema(request=ScrubRequestSerializer, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        incoming = ScrubRequestSerializer(data=request.data)
        if not incoming.is_valid():
            return Response(incoming.errors, status=status.HTTP_400_BAD_REQUEST)
        lines = incoming.to_lines()
        data = incoming.validated_data
        result = selectors.scrub_claim(lines=lines, date_of_service=data["date_of_service"], setting=data["setting"])
        body = {"setting": data["setting"], "date_of_service": data["date_of_service"]}
        body.update(scrub_result_data(result, lines))
        return Response(body)
