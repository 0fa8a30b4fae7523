"""REST API for remittance files, claims and denials (DRF; session or token authentication).

Every endpoint needs a role (``denials.access.HasRole``) and reads through the user's
visibility selector, so another team's object answers 404 here as on the pages. Each
detail response writes one ``AccessEvent``; lists write none.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from config.parsers import UPLOAD_PARSERS
from denials import selectors, services, vocabulary
from denials.access import HasRole
from denials.filter_fields import MAX_ID, IdFilter
from denials.models import AccessEvent, Adjustment, ClaimPayment, Denial, RemarkCode, RemittanceFile, ServiceLine

PERMISSIONS = [IsAuthenticated, HasRole]


class RecordedRetrieveMixin:
    """``retrieve`` that writes one AccessEvent for the object it shows."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        services.access_record(actor=request.user, action=AccessEvent.Action.VIEW, target=instance, path=request.path)
        return Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]


class RemittanceFileSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:remittance-file-detail")
    payer: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = RemittanceFile
        fields = [
            "id",
            "url",
            "original_name",
            "sha256",
            "size",
            "source",
            "status",
            "error",
            "warnings",
            "duplicate_of",
            "payer",
            "x12_version",
            "transactions_total",
            "transactions_done",
            "transactions_skipped",
            "claim_count",
            "service_line_count",
            "adjustment_count",
            "denial_count",
            "total_charge",
            "total_paid",
            "received_at",
            "started_at",
            "finished_at",
            "attempts",
            "validation_status",
            "validation_findings",
        ]

    #: A file's own reports name claims of every team (see selectors.remittance_file_reports_visible_to).
    REPORT_FIELDS = ("error", "warnings", "validation_findings")

    def to_representation(self, instance: RemittanceFile) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and not selectors.remittance_file_reports_visible_to(user=user, file=instance):
            data["reports_hidden"] = True
            for name in self.REPORT_FIELDS:
                data[name] = "" if name == "error" else []
        return data


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()

    def validate_file(self, value: Any) -> Any:
        if value.size > settings.MAX_REMITTANCE_FILE_BYTES:
            raise serializers.ValidationError(
                f"{value.name} is {value.size:,} bytes; the limit is {settings.MAX_REMITTANCE_FILE_BYTES:,}."
            )
        return value


def _signed_in(request: Request) -> User | None:
    """The API's caller as a ``User`` (DRF has already refused anonymous callers)."""
    return request.user if isinstance(request.user, User) else None


class RemittanceFileViewSet(
    RecordedRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Upload an 835 (multipart field `file`): 202 with the file's URL and status.

    Lists and shows the files the user may see: those with a claim of their teams, and
    their own uploads (admins: all)."""

    serializer_class = RemittanceFileSerializer
    permission_classes = PERMISSIONS
    parser_classes = UPLOAD_PARSERS
    filterset_fields = ["status", "source"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.remittance_file_list(user=self.request.user).order_by("-received_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        incoming = upload.validated_data["file"]
        file = services.remittance_file_receive(
            name=incoming.name,
            content=incoming.read(),
            source=RemittanceFile.Source.API,
            uploaded_by=_signed_in(request),
        )
        file.refresh_from_db()
        url = reverse("api:remittance-file-detail", kwargs={"pk": file.pk}, request=request)
        body = RemittanceFileSerializer(file, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class AdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Adjustment
        fields = ["id", "group_code", "reason_code", "amount", "quantity", "line"]


class RemarkSerializer(serializers.ModelSerializer):
    class Meta:
        model = RemarkCode
        fields = ["code", "source", "line"]


class ServiceLineSerializer(serializers.ModelSerializer):
    modifiers = serializers.ListField(child=serializers.CharField(), read_only=True)
    adjustments = AdjustmentSerializer(many=True, read_only=True)
    remarks: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="code"
    )

    class Meta:
        model = ServiceLine
        fields = [
            "id",
            "sequence",
            "qualifier",
            "procedure_code",
            "modifiers",
            "revenue_code",
            "units",
            "charge",
            "paid",
            "allowed",
            "service_date",
            "service_date_end",
            "line_control_number",
            "adjustments",
            "remarks",
        ]


class ClaimSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:claim-detail")
    payer: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)
    payment_date = serializers.DateField(source="remittance.payment_date", read_only=True)
    file = serializers.IntegerField(source="remittance.file_id", read_only=True)

    class Meta:
        model = ClaimPayment
        fields = [
            "id",
            "url",
            "patient_control_number",
            "payer_claim_number",
            "payer",
            "status_code",
            "charge",
            "paid",
            "patient_responsibility",
            "patient_last_name",
            "patient_first_name",
            "patient_member_id",
            "statement_from",
            "statement_to",
            "payment_date",
            "file",
            "balanced",
            "warnings",
            "previous_payment",
            "reverses",
        ]


class ClaimDetailSerializer(ClaimSerializer):
    service_lines = ServiceLineSerializer(many=True, read_only=True)
    adjustments = serializers.SerializerMethodField()
    remarks = RemarkSerializer(many=True, read_only=True)

    class Meta(ClaimSerializer.Meta):
        fields = [
            *ClaimSerializer.Meta.fields,
            "filing_indicator",
            "frequency_code",
            "rendering_provider_name",
            "rendering_provider_npi",
            "service_lines",
            "adjustments",
            "remarks",
        ]

    def get_adjustments(self, claim: ClaimPayment) -> list[dict[str, Any]]:
        """Claim-level adjustments (line-level ones are listed under each line)."""
        # ``claim_adjustments`` is the Prefetch(to_attr=...) of selectors.claim_detail_queryset.
        adjustments = getattr(claim, "claim_adjustments", None)
        if adjustments is None:
            adjustments = list(claim.adjustments.filter(line__isnull=True))
        return list(AdjustmentSerializer(adjustments, many=True).data)


class ClaimPageSerializer(serializers.Serializer):
    """One page of claims as the paginator answers it (the search's response in the schema)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ClaimSerializer(many=True)


class ClaimSearchSerializer(serializers.Serializer):
    """The body of ``POST /api/claims/search/`` (the schema's view of ``ClaimFilter``): patient
    names and numbers travel in a body, never in a URL."""

    # Blank, as a form sends an empty box, filters on nothing (as the filter always read it).
    patient_control_number = serializers.CharField(required=False, allow_blank=True)
    payer_claim_number = serializers.CharField(required=False, allow_blank=True)
    payer = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.CharField(required=False, allow_blank=True)
    file = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class ClaimFilter(django_filters.FilterSet):
    patient_control_number = django_filters.CharFilter()
    payer_claim_number = django_filters.CharFilter()
    payer = IdFilter(field_name="payer_id")
    status = django_filters.CharFilter(field_name="status_code")
    file = IdFilter(field_name="remittance__file_id")

    class Meta:
        model = ClaimPayment
        fields = ["patient_control_number", "payer_claim_number", "payer", "status", "file"]


class ClaimViewSet(RecordedRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    """Claims with a denial in the user's teams' queues (admins: all).

    ``POST /api/claims/search/`` takes the same filters in a JSON or form body, so a
    patient control number need not go into a URL (and from there into access logs)."""

    filterset_class = ClaimFilter
    permission_classes = PERMISSIONS

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.action == "retrieve":
            return selectors.claim_detail_queryset(user=self.request.user)
        return selectors.claim_list(user=self.request.user)

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return ClaimDetailSerializer if self.action == "retrieve" else ClaimSerializer

    @extend_schema(request=ClaimSearchSerializer, responses=ClaimPageSerializer)
    @action(detail=False, methods=["post"])
    def search(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The body is checked as documented first: a list or a string instead of an object, or a
        # list or object where a string belongs, is a 400 naming it (the filter read a list as
        # nothing at all, and a body that was not an object raised: a 500).
        body = ClaimSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filters = ClaimFilter(data=body.validated_data, queryset=self.get_queryset(), request=request)
        if not filters.is_valid():
            return Response(filters.errors, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(filters.qs)
        return self.get_paginated_response(ClaimSerializer(page, many=True, context={"request": request}).data)


class DenialSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:denial-detail")
    patient_control_number = serializers.CharField(source="claim.patient_control_number", read_only=True)
    payer_claim_number = serializers.CharField(source="claim.payer_claim_number", read_only=True)
    claim: serializers.HyperlinkedRelatedField[Any] = serializers.HyperlinkedRelatedField(
        view_name="api:claim-detail", read_only=True
    )
    payer: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)
    procedure_code = serializers.SerializerMethodField()
    modifiers = serializers.SerializerMethodField()
    rarcs = serializers.ListField(source="rarc_list", child=serializers.CharField(), read_only=True)
    queue: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)
    assignee: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)
    ncci_edit = serializers.SerializerMethodField()
    category_label = serializers.SerializerMethodField()
    action_label = serializers.SerializerMethodField()

    class Meta:
        model = Denial
        fields = [
            "id",
            "url",
            "claim",
            "patient_control_number",
            "payer_claim_number",
            "payer",
            "kind",
            "service_date",
            "procedure_code",
            "modifiers",
            "group_code",
            "carc",
            "rarcs",
            "amount",
            "status",
            "category",
            "category_label",
            "queue",
            "action",
            "action_label",
            "action_modifier",
            "explanation",
            "ncci_edit",
            "priority",
            "success_probability",
            "expected_recovery",
            "due_date",
            "assignee",
            "outcome",
            "version",
            "triaged_at",
        ]

    def get_category_label(self, denial: Denial) -> str:
        return vocabulary.category_label(denial.category) if denial.category else ""

    def get_action_label(self, denial: Denial) -> str:
        return vocabulary.action_label(denial.action) if denial.action else ""

    def get_procedure_code(self, denial: Denial) -> str:
        return denial.line.procedure_code if denial.line is not None else ""

    def get_modifiers(self, denial: Denial) -> list[str]:
        return denial.line.modifiers if denial.line is not None else []

    def get_ncci_edit(self, denial: Denial) -> dict[str, Any] | None:
        if not denial.ncci_column1:
            return None
        return {
            "column1": denial.ncci_column1,
            "column2": denial.ncci_column2,
            "modifier_indicator": denial.ncci_modifier_indicator,
            "effective_date": denial.ncci_effective_date,
            "deletion_date": denial.ncci_deletion_date,
            "quarter": denial.ncci_quarter,
            "setting": denial.ncci_setting,
            "rationale": denial.ncci_rationale,
        }


class DenialFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=vocabulary.category_choices)
    queue = IdFilter(field_name="queue_id")
    status = django_filters.CharFilter()
    payer = IdFilter(field_name="payer_id")
    carc = django_filters.CharFilter()
    column1 = django_filters.CharFilter(field_name="ncci_column1")
    column2 = django_filters.CharFilter(field_name="ncci_column2")
    assignee = IdFilter(field_name="assignee_id")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Denial
        fields = ["category", "queue", "status", "payer", "carc", "column1", "column2", "assignee", "due_before"]


class DenialViewSet(RecordedRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    """Denials with their triage. Coders see their teams' queues; admins see all."""

    serializer_class = DenialSerializer
    permission_classes = PERMISSIONS
    filterset_class = DenialFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return (
            selectors.denials_visible_to(user=self.request.user)
            .select_related("claim", "line", "payer", "queue", "assignee")
            .order_by("-priority", "due_date", "id")
        )
