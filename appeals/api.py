"""REST API for appeals (DRF; session or token authentication), mounted by ``appeals.api_urls``.

``POST /api/appeals/`` with ``{"denials": [ids]}`` starts a draft (or adds to the claim's
draft); ``GET`` lists and shows the appeals whose denials the user may see (another team's
appeal answers 404); ``PATCH`` changes one, carrying the ``version`` it read (409 when stale;
400 naming the field and why when a rule refuses). Each detail response writes one
``AccessEvent``, as the denials API does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from appeals import selectors, services
from appeals import vocabulary as v
from appeals.filters import AppealFilter
from appeals.models import Appeal
from denials.api import PERMISSIONS, RecordedRetrieveMixin, _signed_in
from denials.filter_fields import MAX_ID


class AppealSerializer(serializers.ModelSerializer):
    claim = serializers.IntegerField(source="claim_id", read_only=True)
    patient_control_number = serializers.CharField(source="claim.patient_control_number", read_only=True)
    payer = serializers.IntegerField(source="claim.payer_id", read_only=True)
    payer_name = serializers.CharField(source="claim.payer.name", read_only=True)
    payer_kind = serializers.CharField(source="claim.payer.kind", read_only=True)
    denials = serializers.SerializerMethodField()
    amount_at_stake = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()
    level_label = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()
    previous = serializers.IntegerField(source="previous_id", read_only=True, allow_null=True)
    # Plain strings here (the slugs of ``appeals.vocabulary``): the PATCH body names them as
    # enums, and one enum per field name keeps the schema free of naming collisions.
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "claim",
            "patient_control_number",
            "payer",
            "payer_name",
            "payer_kind",
            "denials",
            "amount_at_stake",
            "level",
            "level_label",
            "status",
            "status_label",
            "due_date",
            "days_left",
            "submitted_on",
            "method",
            "payer_reference",
            "outcome",
            "amount_recovered",
            "decided_on",
            "notes",
            "version",
            "previous",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_denials(self, appeal: Appeal) -> list[int]:
        return sorted(d.pk for d in appeal.denials.all())

    def get_amount_at_stake(self, appeal: Appeal) -> Decimal:
        annotated = getattr(appeal, "amount_at_stake", None)  # ``selectors.appeal_list`` sums it in SQL
        if annotated is not None:
            return Decimal(annotated).quantize(Decimal("0.01"))
        return sum((d.amount for d in appeal.denials.all()), Decimal("0"))

    def get_days_left(self, appeal: Appeal) -> int | None:
        """Days until the due date (negative once it has passed); None without a due date."""
        if appeal.due_date is None:
            return None
        return (appeal.due_date - timezone.localdate()).days

    def get_level_label(self, appeal: Appeal) -> str:
        return v.label(v.LEVELS, appeal.level)

    def get_status_label(self, appeal: Appeal) -> str:
        return v.label(v.STATUSES, appeal.status)


class AppealCreateSerializer(serializers.Serializer):
    denials = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=200
    )
    level = serializers.ChoiceField(
        choices=v.choices(v.LEVELS),
        required=False,
        help_text="Default: the payer kind's first level; or a route beside it (a Medicare reopening)",
    )


class AppealUpdateSerializer(serializers.Serializer):
    """The fields a PATCH may carry; ``version`` is the one the caller read."""

    version = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=v.choices(v.STATUSES), required=False)
    outcome = serializers.ChoiceField(choices=v.choices(v.OUTCOMES), required=False, allow_blank=True)
    amount_recovered = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    submitted_on = serializers.DateField(required=False, allow_null=True)
    decided_on = serializers.DateField(required=False, allow_null=True)
    method = serializers.ChoiceField(choices=v.choices(v.METHODS), required=False, allow_blank=True)
    payer_reference = serializers.CharField(max_length=80, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)


def _refused(exc: services.AppealRefused) -> Response:
    code = status.HTTP_404_NOT_FOUND if isinstance(exc, services.DenialsNotFound) else status.HTTP_400_BAD_REQUEST
    return Response({exc.field: [str(exc)]}, status=code)


class AppealViewSet(
    RecordedRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Appeals on the user's teams' denials (admins: all). Filters and ``sort`` as on the
    appeals page (``appeals.filters.AppealFilter``): status, payer, level, due_soon, overdue,
    due_before, column1, column2, coder; sort=due|amount|created|status ("-" reverses)."""

    serializer_class = AppealSerializer
    permission_classes = PERMISSIONS
    filterset_class = AppealFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        # The list page's queryset and ``AppealFilter``: the API answers the rows the page shows.
        return selectors.appeal_list(user=self.request.user)

    @extend_schema(request=AppealCreateSerializer, responses={201: AppealSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = AppealCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = _signed_in(request)
        assert user is not None
        try:
            appeal = services.appeal_create(
                denials=body.validated_data["denials"], actor=user, level=body.validated_data.get("level")
            )
        except services.AppealRefused as exc:
            return _refused(exc)
        return Response(AppealSerializer(self.get_queryset().get(pk=appeal.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AppealUpdateSerializer, responses={200: AppealSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        appeal = self.get_object()
        body = AppealUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        version = changes.pop("version")
        try:
            services.appeal_update(appeal=appeal, expected_version=version, actor=_signed_in(request), **changes)
        except services.AppealConflict as exc:
            current = AppealSerializer(self.get_queryset().get(pk=appeal.pk)).data
            return Response({"detail": str(exc), "current": current}, status=status.HTTP_409_CONFLICT)
        except services.AppealRefused as exc:
            return _refused(exc)
        return Response(AppealSerializer(self.get_queryset().get(pk=appeal.pk)).data)
